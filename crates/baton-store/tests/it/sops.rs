//! The SOP store on SQLite and PostgreSQL: triggers start each SOP once per
//! event, the scheduler's queries touch only due runs and catch up after a
//! pause in scheduling, exactly one scheduler holds the lock, and library
//! versions stay per agency.

use baton_core::lifecycle::ClientEventType;
use baton_core::sop::RunStatus;
use baton_core::types::{AgencyId, ClientId, EventId, RunId};
use baton_store::agencies::{self, NewAgency};
use baton_store::clients::{self, NewClient};
use baton_store::sop_runs::{self, RunFilter, StartRun};
use baton_store::testing::TestDb;
use baton_store::{sops, Actor, Cx, Db};

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z (a Saturday)
const HOUR: i64 = 3_600_000;

async fn setup(db: &Db, email: &str) -> (AgencyId, ClientId) {
    let (a, _) = agencies::create(
        db,
        &Actor::cli(),
        T0,
        NewAgency {
            name: "Northwind Social".into(),
            timezone: None,
            admin_email: email.into(),
            admin_name: "Maya".into(),
            admin_password_hash: "$argon2id$fake".into(),
        },
    )
    .await
    .expect("agency");
    let c = clients::create(
        Cx::new(db, &a.id, &Actor::cli(), T0),
        NewClient {
            name: "Harbor Fitness".into(),
            website: None,
            notes: None,
            traffic_control_member_id: None,
        },
    )
    .await
    .expect("client");
    (AgencyId::parse(&a.id).expect("agency id"), c.id)
}

#[tokio::test]
async fn a_trigger_event_starts_its_sop_once_even_when_replayed() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "a@x.example").await;
    let signed = T0 - 48 * HOUR;
    let e = clients::record_event(
        Cx::new(&t.db, &agency, &Actor::cli(), T0),
        &client,
        ClientEventType::ContractSigned,
        Some(signed),
        None,
    )
    .await
    .expect("contract signed");
    let trigger = Actor::system("SOP trigger");
    let event_id = EventId::parse(&e.id).expect("event id");
    let cx = Cx::new(&t.db, &agency, &trigger, T0);
    let first = sop_runs::start_for_event(cx, &event_id, false)
        .await
        .expect("trigger");
    assert_eq!(first.len(), 1);
    let again = sop_runs::start_for_event(cx, &event_id, false)
        .await
        .expect("replay");
    assert!(again.is_empty(), "a replayed job starts nothing");
    let run = sop_runs::get(&t.db, &agency, &first[0]).await.expect("run");
    assert_eq!(run.sop_key, "sales_handoff");
    assert_eq!(run.started_at, signed);
    assert_eq!(run.due_at, signed + 24 * HOUR);
    assert_eq!(run.status, RunStatus::Breached, "back-dated past its SLA");
    assert_eq!(run.breached_since, Some(signed + 24 * HOUR));
    // Another agency's event id starts nothing here.
    let (other, _) = setup(&t.db, "b@x.example").await;
    let elsewhere = Cx::new(&t.db, &other, &trigger, T0);
    assert!(sop_runs::start_for_event(elsewhere, &event_id, false)
        .await
        .expect("foreign event")
        .is_empty());
    t.cleanup().await;
}

#[tokio::test]
async fn the_scheduler_reads_only_due_runs_and_catches_up() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "c@x.example").await;
    let cli = Actor::cli();
    let mut ids = Vec::new();
    for hours_ago in [0, 30, 100] {
        let r = sop_runs::start(
            Cx::new(&t.db, &agency, &cli, T0),
            StartRun {
                sop_key: "access_setup".into(),
                client_id: client.to_string(),
                started_at: Some(T0 - hours_ago * HOUR),
                trigger_event_id: None,
            },
            false,
        )
        .await
        .expect("start");
        ids.push(r.id);
    }
    // Started at T0: at risk after 24 h; 30 h ago: at risk now, due in 42 h;
    // 100 h ago: breached at start, nothing left to schedule.
    assert_eq!(
        sop_runs::next_change(&t.db).await.unwrap(),
        Some(T0 + 24 * HOUR)
    );
    assert!(sop_runs::due_for_change(&t.db, T0, 100)
        .await
        .unwrap()
        .is_empty());
    // The scheduler was down for four days: one pass catches up with both.
    let later = T0 + 96 * HOUR;
    let due = sop_runs::due_for_change(&t.db, later, 100).await.unwrap();
    assert_eq!(due.len(), 2);
    let scheduler = Actor::system("SLA scheduler");
    for (a, id) in &due {
        let a = AgencyId::parse(a).expect("agency id");
        let id = RunId::parse(id).expect("run id");
        let cx = Cx::new(&t.db, &a, &scheduler, later);
        assert_eq!(
            sop_runs::advance(cx, &id, false).await.unwrap(),
            Some(RunStatus::Breached)
        );
        // A second scheduler that read the same due list changes nothing.
        assert_eq!(sop_runs::advance(cx, &id, false).await.unwrap(), None);
    }
    let breached = sop_runs::by_due(
        &t.db,
        &agency,
        &RunFilter {
            statuses: vec![RunStatus::Breached],
            ..RunFilter::default()
        },
        10,
    )
    .await
    .unwrap();
    assert_eq!(breached.len(), 3);
    assert_eq!(sop_runs::next_change(&t.db).await.unwrap(), None);
    t.cleanup().await;
}

/// One holder at a time; a lease that is not renewed is taken over with a
/// larger token; the old holder can neither renew nor write under its fence.
#[tokio::test]
async fn the_scheduler_lease_has_one_holder_and_fences_a_frozen_one() {
    use baton_store::leases;
    const TTL: i64 = 10_000;
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "lease@x.example").await;
    let name = sop_runs::SCHEDULER_LEASE;
    let mut a = leases::acquire(&t.db, name, "server-a", T0, TTL)
        .await
        .unwrap()
        .expect("free lease");
    assert_eq!(a.fence.token, 1);
    assert!(
        leases::acquire(&t.db, name, "server-b", T0 + 1, TTL)
            .await
            .unwrap()
            .is_none(),
        "held"
    );
    // A renews (heartbeat) and keeps it past the first TTL.
    assert!(leases::renew(&t.db, &mut a, T0 + 5_000, TTL).await.unwrap());
    assert!(leases::acquire(&t.db, name, "server-b", T0 + 12_000, TTL)
        .await
        .unwrap()
        .is_none());
    // A freezes: 10 s after its last renewal, B takes over, token 2.
    let mut b = leases::acquire(&t.db, name, "server-b", T0 + 15_001, TTL)
        .await
        .unwrap()
        .expect("taken over");
    assert_eq!(b.fence.token, 2);
    // A wakes up: it cannot renew, and its writes are fenced off.
    assert!(!leases::renew(&t.db, &mut a, T0 + 16_000, TTL)
        .await
        .unwrap());
    let cli = Actor::cli();
    let run = sop_runs::start(
        Cx::new(&t.db, &agency, &cli, T0),
        StartRun {
            sop_key: "access_setup".into(),
            client_id: client.to_string(),
            started_at: Some(T0 - 30 * HOUR),
            trigger_event_id: None,
        },
        false,
    )
    .await
    .expect("start");
    // Its breach is 42 h away; B's renewals carry it there.
    let late = T0 + 43 * HOUR;
    assert!(leases::renew(&t.db, &mut b, T0 + 16_000, 50 * HOUR)
        .await
        .unwrap());
    let scheduler = Actor::system("SLA scheduler");
    let cx = Cx::new(&t.db, &agency, &scheduler, late);
    assert_eq!(
        sop_runs::advance_fenced(cx, &run.id, false, Some(&a.fence))
            .await
            .unwrap(),
        None,
        "the old leader writes nothing"
    );
    assert!(sop_runs::advance_fenced(cx, &run.id, false, Some(&b.fence))
        .await
        .unwrap()
        .is_some());
    // Released on shutdown: free at once.
    leases::release(&t.db, &b).await.unwrap();
    let c = leases::acquire(&t.db, name, "server-c", late + 1, TTL)
        .await
        .unwrap()
        .expect("released lease");
    assert_eq!(c.fence.token, 3);
    t.cleanup().await;
}

#[tokio::test]
async fn library_versions_are_per_agency_and_runs_keep_theirs() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "d@x.example").await;
    let (other, _) = setup(&t.db, "e@x.example").await;
    let cli = Actor::cli();
    let cx = Cx::new(&t.db, &agency, &cli, T0);
    let run = sop_runs::start(
        cx,
        StartRun {
            sop_key: "offboarding".into(),
            client_id: client.to_string(),
            started_at: None,
            trigger_event_id: None,
        },
        false,
    )
    .await
    .unwrap();
    let mut def = sops::get(&t.db, &agency, "offboarding")
        .await
        .unwrap()
        .definition;
    def.sla.limit = 120.0;
    def.sla.target = 96.0;
    let saved = sops::save(cx, def.clone(), "Five days is enough")
        .await
        .unwrap();
    assert_eq!(saved.version, 2);
    assert_eq!(saved.reason, "Five days is enough");
    let history = sops::history(&t.db, &agency, "offboarding").await.unwrap();
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(
        sops::get(&t.db, &other, "offboarding")
            .await
            .unwrap()
            .version,
        1
    );
    let kept = sop_runs::get(&t.db, &agency, &run.id).await.unwrap();
    assert_eq!(kept.sop_version, 1);
    assert_eq!(kept.due_at, T0 + 168 * HOUR);
    assert!(sop_runs::get(&t.db, &other, &run.id).await.is_err());
    t.cleanup().await;
}

#[tokio::test]
async fn the_on_time_rate_counts_late_open_runs_but_not_paused_ones() {
    let t = TestDb::new().await;
    let (agency, client) = setup(&t.db, "f@x.example").await;
    let start = |hours_ago: i64| StartRun {
        sop_key: "access_setup".into(),
        client_id: client.to_string(),
        started_at: Some(T0 - hours_ago * HOUR),
        trigger_event_id: None,
    };
    // Late and open; late but paused (waiting on the client); on track.
    let cli = Actor::cli();
    let cx = Cx::new(&t.db, &agency, &cli, T0);
    let late = sop_runs::start(cx, start(100), false).await.unwrap();
    let paused = sop_runs::start(cx, start(90), false).await.unwrap();
    sop_runs::start(cx, start(1), false).await.unwrap();
    sop_runs::pause(cx, &paused.id, "waiting on the client")
        .await
        .unwrap();
    let r = sop_runs::on_time(&t.db, &agency, T0 - 30 * 24 * HOUR, T0 + 1, T0)
        .await
        .unwrap();
    assert_eq!(r.overall.late_open, 1, "{r:?}");
    assert_eq!(r.overall.done, 0);
    assert_eq!(r.overall.rate, Some(0.0));
    assert_eq!(r.by_client[0].label, "Harbor Fitness");
    assert_eq!(r.by_owner[0].key, "unowned");
    assert!(late.breached_since.is_some());
    t.cleanup().await;
}
