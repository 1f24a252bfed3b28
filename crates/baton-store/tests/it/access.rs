//! Store suite for onboarding links and access requests, on SQLite and (with
//! BATON_TEST_POSTGRES_URL) on PostgreSQL: tokens are only hashed, states move
//! only as the domain allows, completion and its event happen once, archiving
//! waits for the revoke checklist, reminders are claimed once.

use baton_core::access::{AccessStatus, Mover};
use baton_core::lifecycle::ClientEventType;
use baton_core::secret;
use baton_core::types::{AccessRequestId, AccessTemplateId, AgencyId, ClientId};
use baton_store::access_requests::{self, Act, NewRequest};
use baton_store::agencies::{self, NewAgency};
use baton_store::clients::{self, NewClient};
use baton_store::events::{self, EventFilter};
use baton_store::testing::TestDb;
use baton_store::{
    access_kpis, access_templates, audit, onboarding_links, onboarding_settings, Actor, Cx, Db,
    StoreError,
};
use sqlx::Row;

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// The server's secret key, from which link tokens are derived.
const KEY: &str = "test-secret-key-0123456789abcdef0123456789";

fn actor() -> Actor {
    Actor::cli()
}

fn client_actor(link: &str) -> Actor {
    Actor {
        kind: "client_link".into(),
        id: link.into(),
        label: "Acme (onboarding link)".into(),
        ip: "203.0.113.9".into(),
        user_agent: "Mobile Safari".into(),
    }
}

async fn setup(db: &Db, email: &str) -> (AgencyId, ClientId) {
    let (a, _) = agencies::create(
        db,
        &actor(),
        T0,
        NewAgency {
            name: "Northwind Social".into(),
            timezone: Some("Europe/Berlin".into()),
            admin_email: email.into(),
            admin_name: "Maya".into(),
            admin_password_hash: "$argon2id$fake".into(),
        },
    )
    .await
    .expect("agency");
    let c = clients::create(
        Cx::new(db, &a.id, &actor(), T0),
        NewClient {
            name: "Acme".into(),
            ..Default::default()
        },
    )
    .await
    .expect("client");
    (a.id, c.id)
}

fn reqs(list: &[(&str, &str)]) -> Vec<NewRequest> {
    list.iter()
        .map(|(p, perm)| NewRequest {
            platform: (*p).into(),
            permission: (*perm).into(),
            asset: None,
            required: true,
        })
        .collect()
}

#[tokio::test]
async fn link_tokens_are_hashed_and_resolve_until_revoked_or_expired() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "a@x.example").await;
    let created = onboarding_links::create(
        Cx::new(&t.db, &agency, &actor(), T0),
        &client,
        reqs(&[("meta_page", "full_control"), ("ga4", "analyst")]),
        Some(7),
        None,
        KEY,
    )
    .await
    .expect("link");
    assert_eq!(created.token.len(), 43, "256-bit token, base64url");
    assert_eq!(created.requests.len(), 2);
    assert!(created
        .requests
        .iter()
        .all(|r| r.status == AccessStatus::Requested));
    let stored: String = sqlx::query("SELECT token_hash FROM onboarding_links WHERE id = $1")
        .bind(created.link.id.as_str())
        .fetch_one(t.db.reader())
        .await
        .unwrap()
        .try_get("token_hash")
        .unwrap();
    assert_eq!(stored, secret::hash_token(&created.token));
    assert_ne!(stored, created.token);

    let found = onboarding_links::resolve(&t.db, &created.token, T0 + DAY, None)
        .await
        .unwrap();
    assert_eq!(found.map(|r| r.agency_id), Some(agency.to_string()));
    // another agency's domain, a wrong token, expiry
    assert!(
        onboarding_links::resolve(&t.db, &created.token, T0, Some("agy_other"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        onboarding_links::resolve(&t.db, &secret::random_token(), T0, None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(onboarding_links::resolve(&t.db, "short", T0, None)
        .await
        .unwrap()
        .is_none());
    assert!(
        onboarding_links::resolve(&t.db, &created.token, T0 + 7 * DAY, None)
            .await
            .unwrap()
            .is_none()
    );

    // regenerate: the old token stops working, the new one works
    let (_, fresh) = onboarding_links::regenerate(
        Cx::new(&t.db, &agency, &actor(), T0 + HOUR),
        &created.link.id,
        None,
        KEY,
    )
    .await
    .unwrap();
    assert!(
        onboarding_links::resolve(&t.db, &created.token, T0 + 2 * HOUR, None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        onboarding_links::resolve(&t.db, &fresh, T0 + 2 * HOUR, None)
            .await
            .unwrap()
            .is_some()
    );

    // The server can make the current token again from its key, and only
    // from its key; nothing but the salt and the hash is stored.
    let derived = |key: &'static str| {
        let (db, agency, id) = (&t.db, agency.clone(), created.link.id.clone());
        async move {
            onboarding_links::derived_token(db, &agency, &id, key)
                .await
                .unwrap()
        }
    };
    assert_eq!(derived(KEY).await.as_deref(), Some(fresh.as_str()));
    assert_eq!(
        derived("another-secret-key-0123456789abcdef0123").await,
        None
    );
    let (salt, hash): (Option<String>, String) = {
        let r = sqlx::query("SELECT token_salt, token_hash FROM onboarding_links WHERE id = $1")
            .bind(created.link.id.as_str())
            .fetch_one(t.db.reader())
            .await
            .unwrap();
        (
            r.try_get("token_salt").unwrap(),
            r.try_get("token_hash").unwrap(),
        )
    };
    let salt = salt.expect("a salt is stored");
    assert_eq!(
        secret::link_token(KEY, &created.link.id, &salt),
        fresh,
        "the one derivation"
    );
    assert_eq!(hash, secret::hash_token(&fresh));
    // Another agency's id, or a link made before derivable tokens (no salt).
    assert!(matches!(
        onboarding_links::derived_token(&t.db, "agy_other", &created.link.id, KEY).await,
        Err(StoreError::NotFound)
    ));
    // (An older release's link, written through a separate connection.)
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url)
        .await
        .unwrap();
    sqlx::query("UPDATE onboarding_links SET token_salt = NULL WHERE id = $1")
        .bind(created.link.id.as_str())
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(derived(KEY).await, None, "no salt: not derivable");
    assert!(
        onboarding_links::resolve(&t.db, &fresh, T0 + 2 * HOUR, None)
            .await
            .unwrap()
            .is_some(),
        "it still opens by its hash"
    );

    let revoked = onboarding_links::revoke(
        Cx::new(&t.db, &agency, &actor(), T0 + 3 * HOUR),
        &created.link.id,
    )
    .await
    .unwrap();
    assert_eq!(revoked.state(T0 + 3 * HOUR), "revoked");
    assert!(
        onboarding_links::resolve(&t.db, &fresh, T0 + 4 * HOUR, None)
            .await
            .unwrap()
            .is_none()
    );

    // no token in events, audit or outbox
    for table in ["events", "audit_log", "outbox"] {
        let rows = sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(t.db.reader())
            .await
            .unwrap();
        assert!(!rows.is_empty());
    }
    let blob: Vec<String> = sqlx::query_scalar("SELECT data FROM events UNION ALL SELECT detail FROM audit_log UNION ALL SELECT payload FROM outbox")
        .fetch_all(t.db.reader())
        .await
        .unwrap();
    for text in blob {
        assert!(
            !text.contains(&created.token) && !text.contains(&fresh),
            "a token leaked into {text}"
        );
    }
    assert!(
        audit::verify_all(&t.db)
            .await
            .unwrap()
            .iter()
            .all(|r| r.problem.is_none()),
        "audit chain intact"
    );
}

#[tokio::test]
async fn requests_move_as_the_domain_allows_and_completion_is_recorded_once() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "b@x.example").await;
    clients::record_event(
        Cx::new(&t.db, &agency, &actor(), T0),
        &client,
        ClientEventType::ContractSigned,
        Some(T0 - DAY),
        None,
    )
    .await
    .unwrap();
    let mut list = reqs(&[
        ("meta_page", "full_control"),
        ("ga4", "analyst"),
        ("gtm", "read"),
    ]);
    list[2].required = false;
    let link = onboarding_links::create(
        Cx::new(&t.db, &agency, &actor(), T0),
        &client,
        list,
        None,
        None,
        KEY,
    )
    .await
    .unwrap();
    let [a, b, c] = [
        &link.requests[0].id,
        &link.requests[1].id,
        &link.requests[2].id,
    ];
    let link_actor = client_actor(&link.link.id);

    // the client cannot verify
    let err = access_requests::act(
        Cx::new(&t.db, &agency, &link_actor, T0),
        a,
        Act::Verify {
            mover: Mover::Client,
            note: "x".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Core(baton_core::CoreError::Conflict(_))),
        "{err:?}"
    );
    // empty verification note
    let err = access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0),
        a,
        Act::Verify {
            mover: Mover::Member,
            note: " ".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Core(baton_core::CoreError::Invalid { .. })),
        "{err:?}"
    );

    let r = access_requests::act(
        Cx::new(&t.db, &agency, &link_actor, T0 + HOUR),
        a,
        Act::Grant {
            mover: Mover::Client,
        },
    )
    .await
    .unwrap();
    assert_eq!(r.status, AccessStatus::GrantedByClient);
    assert_eq!(r.granted_by.as_deref(), Some("client"));
    let r = access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0 + 2 * HOUR),
        a,
        Act::Fail {
            mover: Mover::Member,
            reason: "added as a person".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status, r.failed_reason.as_deref()),
        (AccessStatus::Failed, Some("added as a person"))
    );
    access_requests::act(
        Cx::new(&t.db, &agency, &link_actor, T0 + 3 * HOUR),
        a,
        Act::Grant {
            mover: Mover::Client,
        },
    )
    .await
    .unwrap();
    access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0 + 4 * HOUR),
        a,
        Act::Verify {
            mover: Mover::Member,
            note: "partner listed".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        access_kpis::client(&t.db, &agency, &client)
            .await
            .unwrap()
            .time_to_verified_access_ms,
        None
    );

    let r = access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0 + 5 * HOUR),
        b,
        Act::Verify {
            mover: Mover::Connector,
            note: "API check".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        r.status,
        AccessStatus::Verified,
        "a request can be verified before the client reports it"
    );
    let kpi = access_kpis::client(&t.db, &agency, &client).await.unwrap();
    assert_eq!(
        kpi.time_to_verified_access_ms,
        Some(DAY + 5 * HOUR),
        "signed a day before T0, last required at T0+5h"
    );
    assert_eq!(
        (
            kpi.requests,
            kpi.required,
            kpi.verified,
            kpi.waiting_on_client
        ),
        (3, 2, 2, 1)
    );

    // the optional request, verified later, does not move the KPI or re-emit completion
    access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0 + 9 * HOUR),
        c,
        Act::Verify {
            mover: Mover::Member,
            note: "ok".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        access_kpis::client(&t.db, &agency, &client)
            .await
            .unwrap()
            .time_to_verified_access_ms,
        Some(DAY + 5 * HOUR)
    );
    let page = events::list(
        &t.db,
        &agency,
        &EventFilter {
            client_id: Some(client.to_string()),
            ..Default::default()
        },
        None,
        Some(200),
    )
    .await
    .unwrap();
    let types: Vec<&str> = page.items.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "onboarding.completed")
            .count(),
        1,
        "{types:?}"
    );
    for want in [
        "onboarding.link_created",
        "access.granted_by_client",
        "access.failed",
        "access.verified",
    ] {
        assert!(types.contains(&want), "{want} missing from {types:?}");
    }
    let done = page
        .items
        .iter()
        .find(|e| e.event_type == "onboarding.completed")
        .unwrap();
    assert_eq!(done.occurred_at, T0 + 5 * HOUR);

    // a new required request makes access incomplete again
    onboarding_links::create(
        Cx::new(&t.db, &agency, &actor(), T0 + 10 * HOUR),
        &client,
        reqs(&[("tiktok_ads", "analyst")]),
        None,
        None,
        KEY,
    )
    .await
    .unwrap();
    let kpi = access_kpis::client(&t.db, &agency, &client).await.unwrap();
    assert_eq!(
        (kpi.access_complete_at, kpi.time_to_verified_access_ms),
        (None, None)
    );
}

#[tokio::test]
async fn archive_waits_for_the_revoke_checklist() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "c@x.example").await;
    clients::record_event(
        Cx::new(&t.db, &agency, &actor(), T0),
        &client,
        ClientEventType::ContractSigned,
        None,
        None,
    )
    .await
    .unwrap();
    let link = onboarding_links::create(
        Cx::new(&t.db, &agency, &actor(), T0),
        &client,
        reqs(&[
            ("meta_page", "full_control"),
            ("ga4", "analyst"),
            ("gtm", "read"),
        ]),
        None,
        None,
        KEY,
    )
    .await
    .unwrap();
    let ids: Vec<AccessRequestId> = link.requests.iter().map(|r| r.id.clone()).collect();
    access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0),
        &ids[0],
        Act::Verify {
            mover: Mover::Member,
            note: "ok".into(),
        },
    )
    .await
    .unwrap();
    access_requests::act(
        Cx::new(&t.db, &agency, &client_actor(&link.link.id), T0),
        &ids[1],
        Act::Grant {
            mover: Mover::Client,
        },
    )
    .await
    .unwrap();
    // waiving is for offboarding only
    let err = access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0),
        &ids[0],
        Act::Waive { reason: "x".into() },
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Core(baton_core::CoreError::Conflict(_))
    ));

    clients::record_event(
        Cx::new(&t.db, &agency, &actor(), T0 + DAY),
        &client,
        ClientEventType::ContractEnded,
        None,
        None,
    )
    .await
    .unwrap();
    let held = access_requests::held(&t.db, &agency).await.unwrap();
    assert_eq!(
        held.len(),
        2,
        "verified and granted are held; requested is not"
    );
    let err = clients::record_event(
        Cx::new(&t.db, &agency, &actor(), T0 + DAY),
        &client,
        ClientEventType::Archived,
        None,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Core(baton_core::CoreError::Conflict(m)) if m.contains("2 platform accesses")),
        "{err:?}"
    );

    access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0 + DAY),
        &ids[0],
        Act::Revoke {
            mover: Mover::Member,
            note: Some("removed partner".into()),
        },
    )
    .await
    .unwrap();
    let w = access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0 + DAY),
        &ids[1],
        Act::Waive {
            reason: "client removed us themselves".into(),
        },
    )
    .await
    .unwrap();
    assert!(w.waived_at.is_some() && !w.needs_revoke());
    assert!(access_requests::held(&t.db, &agency)
        .await
        .unwrap()
        .is_empty());
    clients::record_event(
        Cx::new(&t.db, &agency, &actor(), T0 + DAY),
        &client,
        ClientEventType::Archived,
        None,
        None,
    )
    .await
    .unwrap();
    // archived: requests are closed, links no longer resolve
    let err = access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0 + DAY),
        &ids[2],
        Act::Revoke {
            mover: Mover::Member,
            note: None,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Core(baton_core::CoreError::Conflict(_))
    ));
    assert!(
        onboarding_links::resolve(&t.db, &link.token, T0 + DAY, None)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn reminders_follow_the_schedule_and_are_claimed_once() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "d@x.example").await;
    let mut s = onboarding_settings::get(&t.db, &agency).await.unwrap();
    s.reminder_every_days = 2;
    s.reminder_max = 2;
    onboarding_settings::put(Cx::new(&t.db, &agency, &actor(), T0), s)
        .await
        .unwrap();
    let link = onboarding_links::create(
        Cx::new(&t.db, &agency, &actor(), T0),
        &client,
        reqs(&[("meta_page", "full_control")]),
        Some(30),
        None,
        KEY,
    )
    .await
    .unwrap();
    assert_eq!(link.link.next_reminder_at, Some(T0 + 2 * DAY));
    assert!(onboarding_links::due_reminders(&t.db, T0 + DAY, 10)
        .await
        .unwrap()
        .is_empty());
    let due = onboarding_links::due_reminders(&t.db, T0 + 2 * DAY, 10)
        .await
        .unwrap();
    assert_eq!(due, vec![(agency.clone(), link.link.id.clone())]);
    let sys = Actor::system("reminder schedule");
    let r = onboarding_links::remind(
        Cx::new(&t.db, &agency, &sys, T0 + 2 * DAY),
        &link.link.id,
        true,
        false,
        None,
    )
    .await
    .unwrap()
    .expect("sent");
    assert!(
        r.text.contains("Facebook") || r.text.contains("Meta"),
        "{}",
        r.text
    );
    assert!(!r.text.contains(&link.token));
    // the same slot is not sent twice
    assert!(onboarding_links::remind(
        Cx::new(&t.db, &agency, &sys, T0 + 2 * DAY),
        &link.link.id,
        true,
        false,
        None
    )
    .await
    .unwrap()
    .is_none());
    let l = onboarding_links::get(&t.db, &agency, &link.link.id)
        .await
        .unwrap();
    assert_eq!(
        (l.reminder_count, l.next_reminder_at),
        (1, Some(T0 + 4 * DAY))
    );
    onboarding_links::remind(
        Cx::new(&t.db, &agency, &sys, T0 + 4 * DAY),
        &link.link.id,
        true,
        false,
        None,
    )
    .await
    .unwrap()
    .expect("second");
    let l = onboarding_links::get(&t.db, &agency, &link.link.id)
        .await
        .unwrap();
    assert_eq!(
        (l.reminder_count, l.next_reminder_at),
        (2, None),
        "max reached"
    );
    // a member's reminder works any time something waits on the client
    assert!(onboarding_links::remind(
        Cx::new(&t.db, &agency, &actor(), T0 + 5 * DAY),
        &link.link.id,
        false,
        false,
        None
    )
    .await
    .unwrap()
    .is_some());
    access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0 + 5 * DAY),
        &link.requests[0].id,
        Act::Verify {
            mover: Mover::Member,
            note: "ok".into(),
        },
    )
    .await
    .unwrap();
    let err = onboarding_links::remind(
        Cx::new(&t.db, &agency, &actor(), T0 + 5 * DAY),
        &link.link.id,
        false,
        false,
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Core(baton_core::CoreError::Conflict(_))
    ));
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE type = 'onboarding.reminder_sent'")
            .fetch_one(t.db.reader())
            .await
            .unwrap();
    assert_eq!(n, 3);
}

#[tokio::test]
async fn agency_kpis_and_tenant_isolation() {
    let t = TestDb::new().await;
    let (agency, _) = setup(&t.db, "e@x.example").await;
    let (other, other_client) = setup(&t.db, "f@x.example").await;
    for (i, hours) in [10i64, 20, 30, 40, 100].iter().enumerate() {
        let c = clients::create(
            Cx::new(&t.db, &agency, &actor(), T0),
            NewClient {
                name: format!("C{i}"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        clients::record_event(
            Cx::new(&t.db, &agency, &actor(), T0),
            &c.id,
            ClientEventType::ContractSigned,
            None,
            None,
        )
        .await
        .unwrap();
        let l = onboarding_links::create(
            Cx::new(&t.db, &agency, &actor(), T0),
            &c.id,
            reqs(&[("ga4", "analyst")]),
            None,
            None,
            KEY,
        )
        .await
        .unwrap();
        access_requests::act(
            Cx::new(&t.db, &agency, &actor(), T0 + hours * HOUR),
            &l.requests[0].id,
            Act::Verify {
                mover: Mover::Member,
                note: "ok".into(),
            },
        )
        .await
        .unwrap();
    }
    let k = access_kpis::agency(&t.db, &agency, T0, T0 + 30 * DAY)
        .await
        .unwrap();
    assert_eq!(k.clients, 5);
    assert_eq!(k.median_ms, Some(30 * HOUR));
    assert_eq!(k.p90_ms, Some(100 * HOUR));
    let k = access_kpis::agency(&t.db, &agency, T0 + 35 * HOUR, T0 + 30 * DAY)
        .await
        .unwrap();
    assert_eq!(k.clients, 2, "only completions inside the period");

    // agency B's ids are not found through agency A
    let l = onboarding_links::create(
        Cx::new(&t.db, &other, &actor(), T0),
        &other_client,
        reqs(&[("ga4", "analyst")]),
        None,
        None,
        KEY,
    )
    .await
    .unwrap();
    assert!(matches!(
        onboarding_links::get(&t.db, &agency, &l.link.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        access_requests::get(&t.db, &agency, &l.requests[0].id).await,
        Err(StoreError::NotFound)
    ));
    let err = access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0),
        &l.requests[0].id,
        Act::Verify {
            mover: Mover::Member,
            note: "x".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
    assert!(matches!(
        onboarding_links::create(
            Cx::new(&t.db, &agency, &actor(), T0),
            &other_client,
            reqs(&[("ga4", "analyst")]),
            None,
            None,
            KEY
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(access_requests::held(&t.db, &agency)
        .await
        .unwrap()
        .iter()
        .all(|l| *l.request.client_id != *other_client));
}

#[tokio::test]
async fn templates_validate_against_the_catalog() {
    let t = TestDb::new().await;
    let (agency, _) = setup(&t.db, "g@x.example").await;
    let (name, list) = access_templates::standard_social_retainer();
    assert!(!list.is_empty());
    let tpl = access_templates::save(Cx::new(&t.db, &agency, &actor(), T0), None, &name, list)
        .await
        .unwrap();
    let dup = access_templates::save(
        Cx::new(&t.db, &agency, &actor(), T0),
        None,
        &name,
        reqs(&[("ga4", "analyst")]),
    )
    .await;
    assert!(matches!(dup, Err(StoreError::Duplicate(_))), "{dup:?}");
    let bad = access_templates::save(
        Cx::new(&t.db, &agency, &actor(), T0),
        None,
        "Bad",
        reqs(&[("myspace", "admin")]),
    )
    .await;
    assert!(
        matches!(bad, Err(StoreError::Core(baton_core::CoreError::Invalid { field, .. })) if field == "requests[0].platform")
    );
    let bad = access_templates::save(
        Cx::new(&t.db, &agency, &actor(), T0),
        None,
        "Bad",
        reqs(&[("ga4", "owner")]),
    )
    .await;
    assert!(
        matches!(bad, Err(StoreError::Core(baton_core::CoreError::Invalid { field, .. })) if field == "requests[0].permission")
    );
    let twice = access_templates::save(
        Cx::new(&t.db, &agency, &actor(), T0),
        None,
        "Twice",
        reqs(&[("ga4", "analyst"), ("ga4", "viewer")]),
    )
    .await;
    assert!(twice.is_err(), "the same platform and asset twice");
    access_templates::delete(
        Cx::new(&t.db, &agency, &actor(), T0),
        &AccessTemplateId::parse(&tpl.id).unwrap(),
    )
    .await
    .unwrap();
    assert!(access_templates::list(&t.db, &agency)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_failed_request_restarts_stopped_reminders() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "h@x.example").await;
    let link = onboarding_links::create(
        Cx::new(&t.db, &agency, &actor(), T0),
        &client,
        reqs(&[("ga4", "analyst")]),
        Some(30),
        None,
        KEY,
    )
    .await
    .unwrap();
    let id = &link.requests[0].id;
    access_requests::act(
        Cx::new(&t.db, &agency, &client_actor(&link.link.id), T0),
        id,
        Act::Grant {
            mover: Mover::Client,
        },
    )
    .await
    .unwrap();
    // Nothing waits on the client: the schedule stops at once.
    assert_eq!(
        onboarding_links::get(&t.db, &agency, &link.link.id)
            .await
            .unwrap()
            .next_reminder_at,
        None
    );
    let sys = Actor::system("reminder schedule");
    let sent = onboarding_links::remind(
        Cx::new(&t.db, &agency, &sys, T0 + 3 * DAY),
        &link.link.id,
        true,
        false,
        None,
    )
    .await
    .unwrap();
    assert!(sent.is_none());
    assert_eq!(
        onboarding_links::get(&t.db, &agency, &link.link.id)
            .await
            .unwrap()
            .next_reminder_at,
        None
    );
    access_requests::act(
        Cx::new(&t.db, &agency, &actor(), T0 + 4 * DAY),
        id,
        Act::Fail {
            mover: Mover::Member,
            reason: "wrong property".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        onboarding_links::get(&t.db, &agency, &link.link.id)
            .await
            .unwrap()
            .next_reminder_at,
        Some(T0 + 7 * DAY),
        "back with the client: reminders start again"
    );
}

#[tokio::test]
async fn reminders_stop_when_every_required_request_is_done() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "o@x.example").await;
    let mut list = reqs(&[("meta_page", "content"), ("ga4", "analyst")]);
    list[1].required = false;
    let link = onboarding_links::create(
        Cx::new(&t.db, &agency, &actor(), T0),
        &client,
        list,
        Some(30),
        None,
        KEY,
    )
    .await
    .unwrap();
    let (meta, ga4) = (&link.requests[0].id, &link.requests[1].id);
    let next = || async {
        onboarding_links::get(&t.db, &agency, &link.link.id)
            .await
            .unwrap()
            .next_reminder_at
    };
    let act = |id: &AccessRequestId, at: i64, act: Act| {
        let (id, agency) = (id.clone(), agency.clone());
        let by = if matches!(act, Act::Grant { .. }) {
            client_actor(&link.link.id)
        } else {
            actor()
        };
        let db = &t.db;
        async move {
            access_requests::act(Cx::new(db, &agency, &by, at), &id, act)
                .await
                .unwrap();
        }
    };
    let grant = || Act::Grant {
        mover: Mover::Client,
    };
    let fail = || Act::Fail {
        mover: Mover::Member,
        reason: "not there".into(),
    };
    assert_eq!(next().await, Some(T0 + 3 * DAY));
    // The required one is granted; the optional one still waits: the
    // schedule stops at once, and a due pass sends nothing.
    act(meta, T0 + HOUR, grant()).await;
    assert_eq!(next().await, None);
    let sys = Actor::system("reminder schedule");
    let remind = |who: Actor, at: i64, scheduled: bool| {
        let (db, agency, id) = (&t.db, agency.clone(), link.link.id.clone());
        async move {
            onboarding_links::remind(
                Cx::new(db, &agency, &who, at),
                &id,
                scheduled,
                false,
                Some("https://ops.test/o/TOKEN"),
            )
            .await
        }
    };
    assert!(remind(sys.clone(), T0 + 3 * DAY, true)
        .await
        .unwrap()
        .is_none());
    // A member may still remind about the optional one, said as optional;
    // the schedule stays stopped.
    let r = remind(actor(), T0 + 3 * DAY, false)
        .await
        .unwrap()
        .expect("a member's reminder");
    assert_eq!((r.pending, r.required_pending), (1, 0));
    assert!(r.text.contains("we have everything we need"), "{}", r.text);
    assert!(r.text.contains("Google Analytics"), "{}", r.text);
    assert!(r.includes_link && r.text.contains("https://ops.test/o/TOKEN"));
    assert_eq!(next().await, None);
    // An optional request failing does not restart the schedule…
    act(ga4, T0 + 4 * DAY, grant()).await;
    act(ga4, T0 + 4 * DAY, fail()).await;
    assert_eq!(next().await, None);
    // …a required one does.
    act(meta, T0 + 4 * DAY, fail()).await;
    assert_eq!(next().await, Some(T0 + 7 * DAY));
    let r = remind(sys.clone(), T0 + 7 * DAY, true)
        .await
        .unwrap()
        .expect("scheduled again");
    assert_eq!((r.pending, r.required_pending), (2, 1));
    let (need, optional) = r.text.split_once("Optional, if you can").expect(&r.text);
    assert!(
        need.contains("Facebook Page") || need.contains("Meta"),
        "{need}"
    );
    assert!(!need.contains("Google Analytics") && optional.contains("Google Analytics"));
    // The recorded text never holds the link; it shows where it points.
    let data: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM events WHERE type = 'onboarding.reminder_sent' ORDER BY recorded_at",
    )
    .fetch_all(t.db.reader())
    .await
    .unwrap();
    assert_eq!(data.len(), 2);
    for d in &data {
        assert!(!d.contains("TOKEN"), "{d}");
        assert!(d.contains("https://ops.test/o/…"), "{d}");
    }
}
