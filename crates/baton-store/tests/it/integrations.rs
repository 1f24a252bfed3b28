//! Integrations' storage on SQLite and PostgreSQL under real concurrency: a
//! fan-out repeated eight times at once makes each delivery once; eight
//! workers recording the same attempt record it once; an endpoint turned
//! off by eight failing workers tells the admins once; a retried delivery
//! gets one new job; an inbound "deal won" replayed eight times at once
//! records one event.

use baton_core::types::{AgencyId, EndpointId, InboundId};
use baton_store::agencies::{self, NewAgency};
use baton_store::integrations::deliveries::{self, AttemptOutcome, NewDelivery, Next};
use baton_store::integrations::inbound::{self, ContractSigned, Received};
use baton_store::integrations::{self, Kind, NewEndpoint};
use baton_store::testing::TestDb;
use baton_store::{outbox, Actor, Cx, Db};

/// Monday 2026-11-23 09:00 UTC.
const T0: i64 = 1_795_424_400_000;

async fn agency(db: &Db) -> AgencyId {
    let (a, _) = agencies::create(
        db,
        &Actor::cli(),
        T0,
        NewAgency {
            name: "Northwind Social".into(),
            timezone: None,
            admin_email: "maya@x.example".into(),
            admin_name: "Maya".into(),
            admin_password_hash: "$argon2id$fake".into(),
        },
    )
    .await
    .expect("agency");
    AgencyId::parse(&a.id).expect("agency id")
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db.reader())
        .await
        .unwrap()
}

async fn webhook(db: &Db, agency: &AgencyId, events: &[&str]) -> String {
    let actor = Actor::cli();
    let id = EndpointId::new(T0);
    integrations::create(
        Cx::new(db, agency, &actor, T0),
        NewEndpoint {
            id,
            kind: Kind::Webhook,
            url: "https://hooks.example.com/baton".into(),
            url_sealed: None,
            description: Some("CRM".into()),
            events: events.iter().map(|e| e.to_string()).collect(),
            client_id: None,
            secret_sealed: Some("v1.sealed".into()),
        },
    )
    .await
    .expect("endpoint")
    .id
}

fn delivery(endpoint: &str, event: &str) -> NewDelivery {
    NewDelivery {
        endpoint_id: endpoint.into(),
        event_id: event.into(),
        event_type: "client.created".into(),
        body: r#"{"type":"client.created"}"#.into(),
    }
}

#[tokio::test]
async fn filters_match_topics_types_and_clients() {
    let t = TestDb::new().await;
    let a = agency(&t.db).await;
    let id = webhook(&t.db, &a, &["client.*", "access.verified"]).await;
    let ep = integrations::get(&t.db, a.as_str(), &id).await.unwrap();
    let cases = [
        ("client.created", "client.created", None, true),
        (
            "contract_signed",
            "client.contract_signed",
            Some("cli_1"),
            true,
        ),
        ("access.verified", "access.verified", Some("cli_1"), true),
        ("access.failed", "access.failed", None, false),
        ("incident.opened", "incident.opened", None, false),
    ];
    for (ty, topic, client, want) in cases {
        assert_eq!(ep.wants(ty, topic, client), want, "{ty}");
    }
    assert_eq!(ep.events, ["client.*", "access.verified"]);
    // Bad filters are refused at the field, nothing written.
    let actor = Actor::cli();
    let bad = integrations::create(
        Cx::new(&t.db, &a, &actor, T0),
        NewEndpoint {
            id: EndpointId::new(T0),
            kind: Kind::Webhook,
            url: "https://x.example".into(),
            url_sealed: None,
            description: None,
            events: vec!["Client!".into()],
            client_id: None,
            secret_sealed: None,
        },
    )
    .await
    .unwrap_err();
    assert!(bad.to_string().starts_with("events:"), "{bad}");
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM integration_endpoints").await,
        1
    );
    t.cleanup().await;
}

#[tokio::test]
async fn eight_fan_outs_make_one_delivery_and_one_job() {
    let t = TestDb::new().await;
    let a = agency(&t.db).await;
    let ep = webhook(&t.db, &a, &["*"]).await;
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let (db, agency, ep) = (t.db.clone(), a.clone(), ep.clone());
            tokio::spawn(async move {
                deliveries::fan_out(&db, agency.as_str(), &[delivery(&ep, "evt_1")], T0).await
            })
        })
        .collect();
    let mut made = 0;
    for r in runs {
        made += r.await.unwrap().expect("fan-out");
    }
    assert_eq!(made, 1);
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM integration_deliveries").await,
        1
    );
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM outbox WHERE kind = 'delivery'").await,
        1
    );
    t.cleanup().await;
}

#[tokio::test]
async fn an_attempt_is_recorded_once_and_completes_or_reschedules_its_job() {
    let t = TestDb::new().await;
    let a = agency(&t.db).await;
    let ep = webhook(&t.db, &a, &["*"]).await;
    deliveries::fan_out(&t.db, a.as_str(), &[delivery(&ep, "evt_1")], T0)
        .await
        .unwrap();
    let jobs = outbox::claim_lane(&t.db, T0, 60_000, 10, outbox::Lane::Deliveries)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    // The work lane never takes a delivery job.
    let work = outbox::claim_lane(&t.db, T0 + 120_000, 60_000, 100, outbox::Lane::Work)
        .await
        .unwrap();
    assert!(!work.is_empty() && work.iter().all(|j| j.kind != "delivery"));
    let job = jobs[0].id.clone();
    let d = deliveries::log(&t.db, a.as_str(), &ep, None, None, None)
        .await
        .unwrap();
    assert!(d.items.is_empty(), "no attempt yet");
    let pending: String = sqlx::query_scalar("SELECT id FROM integration_deliveries")
        .fetch_one(t.db.reader())
        .await
        .unwrap();
    let d = deliveries::by_id(&t.db, &pending).await.unwrap();
    let failed = AttemptOutcome {
        started_at: T0,
        status_code: Some(500),
        latency_ms: 12,
        succeeded: false,
        error: Some("HTTP 500".into()),
        response_excerpt: Some("oops".into()),
    };
    // Eight workers holding the same view of the delivery: one records.
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let (db, d, job, failed) = (t.db.clone(), d.clone(), job.clone(), failed.clone());
            tokio::spawn(async move {
                deliveries::record_attempt(&db, &d, &job, &failed, Next::RetryAt(T0 + 5_000), T0)
                    .await
            })
        })
        .collect();
    let mut recorded = 0;
    for r in runs {
        recorded += usize::from(r.await.unwrap().expect("record"));
    }
    assert_eq!(recorded, 1);
    let d = deliveries::by_id(&t.db, &pending).await.unwrap();
    assert_eq!((d.state.as_str(), d.attempts), ("pending", 1));
    assert_eq!(d.next_attempt_at, Some(T0 + 5_000));
    // The job waits for its next attempt.
    assert!(
        outbox::claim_lane(&t.db, T0 + 1_000, 60_000, 10, outbox::Lane::Deliveries)
            .await
            .unwrap()
            .is_empty()
    );
    let again = outbox::claim_lane(&t.db, T0 + 5_000, 60_000, 10, outbox::Lane::Deliveries)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    let ok = AttemptOutcome {
        status_code: Some(200),
        succeeded: true,
        error: None,
        response_excerpt: None,
        ..failed
    };
    assert!(
        deliveries::record_attempt(&t.db, &d, &again[0].id, &ok, Next::Succeeded, T0 + 5_100)
            .await
            .unwrap()
    );
    let log = deliveries::log(&t.db, a.as_str(), &ep, None, None, None)
        .await
        .unwrap();
    let rows: Vec<(i64, Option<i64>, bool)> = log
        .items
        .iter()
        .map(|r| (r.attempt, r.status_code, r.succeeded))
        .collect();
    assert_eq!(rows, [(2, Some(200), true), (1, Some(500), false)]);
    assert_eq!(log.items[0].state, "succeeded");
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'delivery' AND done_at IS NULL"
        )
        .await,
        0
    );
    // A settled delivery can be sent again: one new job, its own round.
    let actor = Actor::cli();
    let cx = Cx::new(&t.db, &a, &actor, T0 + 10_000);
    let d = deliveries::retry(cx, &ep, &pending).await.unwrap();
    assert_eq!((d.state.as_str(), d.round_attempts), ("pending", 0));
    let twice = deliveries::retry(cx, &ep, &pending).await.unwrap_err();
    assert!(
        twice.to_string().contains("still being delivered"),
        "{twice}"
    );
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'delivery' AND done_at IS NULL"
        )
        .await,
        1
    );
    // Pages of the log follow each other without repeats.
    let first = deliveries::log(&t.db, a.as_str(), &ep, None, None, Some(1))
        .await
        .unwrap();
    let second = deliveries::log(
        &t.db,
        a.as_str(),
        &ep,
        None,
        first.next_cursor.as_deref(),
        Some(1),
    )
    .await
    .unwrap();
    assert_eq!(first.items[0].attempt, 2);
    assert_eq!(second.items[0].attempt, 1);
    assert!(second.next_cursor.is_none());
    t.cleanup().await;
}

#[tokio::test]
async fn eight_failing_workers_turn_an_endpoint_off_once() {
    let t = TestDb::new().await;
    let a = agency(&t.db).await;
    let ep = webhook(&t.db, &a, &["*"]).await;
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let (db, agency, ep) = (t.db.clone(), a.clone(), ep.clone());
            tokio::spawn(async move {
                let actor = Actor::system("Webhook delivery");
                integrations::disable(
                    Cx::new(&db, &agency, &actor, T0),
                    &ep,
                    "the receiver answered 410 Gone",
                    true,
                )
                .await
            })
        })
        .collect();
    let mut turned_off = 0;
    for r in runs {
        turned_off += usize::from(r.await.unwrap().expect("disable"));
    }
    assert_eq!(turned_off, 1);
    let e = integrations::get(&t.db, a.as_str(), &ep).await.unwrap();
    assert!(!e.enabled);
    assert_eq!(
        e.disabled_reason.as_deref(),
        Some("the receiver answered 410 Gone")
    );
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM notices WHERE kind = 'integration.endpoint_disabled'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM outbox WHERE kind = 'email'").await,
        1
    );
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM events WHERE type = 'integration.endpoint_disabled'"
        )
        .await,
        1
    );
    t.cleanup().await;
}

#[tokio::test]
async fn eight_replays_of_a_deal_won_record_it_once() {
    let t = TestDb::new().await;
    let a = agency(&t.db).await;
    let actor = Actor::cli();
    let id = InboundId::new(T0);
    inbound::create(Cx::new(&t.db, &a, &actor, T0), &id, "HubSpot", "v1.sealed")
        .await
        .unwrap();
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let (db, agency, id) = (t.db.clone(), a.clone(), id.clone());
            tokio::spawn(async move {
                let actor = Actor::system("Inbound");
                inbound::contract_signed(
                    Cx::new(&db, &agency, &actor, T0 + 1_000),
                    &id,
                    "msg_1",
                    ContractSigned {
                        external_id: "hs-42".into(),
                        name: "Acme Bakery".into(),
                        website: None,
                        occurred_at: None,
                    },
                )
                .await
            })
        })
        .collect();
    let mut recorded = 0;
    for r in runs {
        if let Received::Recorded { created, .. } = r.await.unwrap().expect("inbound") {
            assert!(created);
            recorded += 1;
        }
    }
    assert_eq!(recorded, 1);
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM clients WHERE external_id = 'hs-42'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM events WHERE type = 'contract_signed'"
        )
        .await,
        1
    );
    // Another message about the same client matches it; it cannot sign twice.
    let again = inbound::contract_signed(
        Cx::new(&t.db, &a, &actor, T0 + 2_000),
        &id,
        "msg_2",
        ContractSigned {
            external_id: "hs-42".into(),
            name: "Acme Bakery".into(),
            website: None,
            occurred_at: None,
        },
    )
    .await
    .unwrap_err();
    assert!(again.to_string().contains("cannot take event"), "{again}");
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM inbound_messages").await,
        1,
        "a refused message is not taken: a fixed resend can still be recorded"
    );
    t.cleanup().await;
}
