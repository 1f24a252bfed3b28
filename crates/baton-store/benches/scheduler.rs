//! The SLA scheduler's tick against 100,000 open SOP runs on SQLite: a tick
//! must touch only the runs whose next change has come, so its cost does not
//! grow with the number of open runs. Run with
//! `cargo bench -p baton-store --bench scheduler`.
//!
//! * `idle tick` — nothing due: the due-runs query and the next-change query.
//! * `tick advancing 10 runs` — ten runs came due: the queries plus ten
//!   status moves, each with its event, audit entry and escalation notice.

use std::hint::black_box;

use baton_core::types::{AgencyId, RunId};
use baton_store::agencies::{self, NewAgency};
use baton_store::clients::{self, NewClient};
use baton_store::sop_runs;
use baton_store::testing::TestDb;
use baton_store::{Actor, Cx};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use sqlx::Connection;

const OPEN_RUNS: i64 = 100_000;
const NOW: i64 = 1_790_000_000_000;
const HOUR: i64 = 3_600_000;

/// A database with one agency, one client and 100,000 open runs whose next
/// change is hours to weeks away (the copies' ids are run ids by shape). Returns the db, the agency and the
/// connection URL for raw resets.
async fn seed() -> (TestDb, String) {
    let test = TestDb::new().await;
    let db = &test.db;
    let actor = Actor::cli();
    let (agency, _) = agencies::create(
        db,
        &actor,
        NOW,
        NewAgency {
            name: "Bench Agency".into(),
            timezone: None,
            admin_email: "admin@bench.test".into(),
            admin_name: "Admin".into(),
            admin_password_hash: String::new(),
        },
    )
    .await
    .expect("agency");
    let client = clients::create(
        Cx::new(db, &agency.id, &actor, NOW),
        NewClient {
            name: "Bench Client".into(),
            website: None,
            notes: None,
            traffic_control_member_id: None,
        },
    )
    .await
    .expect("client");
    // One real run writes the SOP's version row; the rest are bulk copies.
    let agency_id = AgencyId::parse(&agency.id).expect("agency id");
    let first = sop_runs::start(
        Cx::new(db, &agency_id, &actor, NOW),
        sop_runs::StartRun {
            sop_key: "access_setup".into(),
            client_id: client.id.to_string(),
            started_at: None,
            trigger_event_id: None,
        },
        false,
    )
    .await
    .expect("first run");
    let mut conn = sqlx::AnyConnection::connect(&test.url)
        .await
        .expect("raw connection");
    let mut tx = conn.begin().await.expect("begin");
    for i in 1..OPEN_RUNS {
        let at_risk = NOW + HOUR + (i % 500) * HOUR;
        sqlx::query(
            "INSERT INTO sop_runs (id, agency_id, client_id, sop_key, sop_version, trigger_event_id, started_at, \
             started_by, owner_member_id, owner_source, status, at_risk_at, due_at, next_change_at, checklist, \
             created_at, updated_at) \
             SELECT $1, agency_id, client_id, sop_key, sop_version, NULL, started_at, started_by, owner_member_id, \
             owner_source, 'on_track', $2, $3, $2, '{}', created_at, updated_at FROM sop_runs WHERE id = $4",
        )
        .bind(format!("run_{i:026}"))
        .bind(at_risk)
        .bind(at_risk + 48 * HOUR)
        .bind(first.id.as_str())
        .execute(&mut *tx)
        .await
        .expect("bulk run");
    }
    tx.commit().await.expect("commit");
    conn.close().await.expect("close");
    (test, agency.id.into())
}

/// Makes ten runs due (at risk) again at `NOW`.
async fn make_ten_due(url: &str) {
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .expect("raw connection");
    sqlx::query(
        "UPDATE sop_runs SET status = 'on_track', at_risk_since = NULL, at_risk_at = $1, due_at = $2, \
         next_change_at = $1 WHERE id IN (SELECT id FROM sop_runs ORDER BY id LIMIT 10)",
    )
    .bind(NOW - 1)
    .bind(NOW + 48 * HOUR)
    .execute(&mut conn)
    .await
    .expect("reset");
    conn.close().await.expect("close");
}

async fn tick(test: &TestDb) -> usize {
    let due = sop_runs::due_for_change(&test.db, NOW, 500)
        .await
        .expect("due");
    let actor = Actor::system("SLA scheduler");
    let mut changed = 0;
    for (agency, id) in &due {
        let agency = AgencyId::parse(agency).expect("agency id");
        let id = RunId::parse(id).expect("run id");
        if sop_runs::advance(Cx::new(&test.db, &agency, &actor, NOW), &id, false)
            .await
            .expect("advance")
            .is_some()
        {
            changed += 1;
        }
    }
    black_box(sop_runs::next_change(&test.db).await.expect("next"));
    changed
}

fn bench_scheduler(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (test, _agency) = rt.block_on(seed());
    let mut group = c.benchmark_group("scheduler 100k open runs");
    group.sample_size(30);
    group.bench_function("idle tick", |b| {
        b.iter(|| assert_eq!(rt.block_on(tick(&test)), 0))
    });
    group.bench_function("tick advancing 10 runs", |b| {
        b.iter_batched(
            || rt.block_on(make_ten_due(&test.url)),
            |_| assert_eq!(rt.block_on(tick(&test)), 10),
            BatchSize::PerIteration,
        )
    });
    group.finish();
    rt.block_on(test.cleanup());
}

criterion_group!(benches, bench_scheduler);
criterion_main!(benches);
