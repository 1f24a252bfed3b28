//! Group commit on SQLite and PostgreSQL: writes queued behind one share its
//! COMMIT, each keeping its own event and audit entry; a write that fails or
//! is dropped half way takes nothing else with it; a writer that gives up
//! waiting does not strand the writes before it; and under real concurrency
//! every acknowledged write is there with an intact audit chain.

use std::time::Duration;

use baton_core::types::AgencyId;
use baton_store::agencies::{self, NewAgency};
use baton_store::clients::{self, NewClient};
use baton_store::testing::TestDb;
use baton_store::{audit, Actor, Cx, Db, Record};
use serde_json::json;

/// Monday 2026-11-23 09:00 UTC.
const T0: i64 = 1_795_424_400_000;

async fn agency(db: &Db, email: &str) -> AgencyId {
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
    AgencyId::parse(&a.id).expect("agency id")
}

async fn count(db: &Db, sql: &str, agency: &AgencyId) -> i64 {
    sqlx::query_scalar(sql)
        .bind(agency.as_str())
        .fetch_one(db.reader())
        .await
        .unwrap()
}

fn client(name: &str) -> NewClient {
    NewClient {
        name: name.into(),
        website: None,
        notes: None,
        traffic_control_member_id: None,
    }
}

fn spawn_client(db: &Db, agency: &AgencyId, name: &str) -> tokio::task::JoinHandle<()> {
    let (db, agency, name) = (db.clone(), agency.clone(), name.to_string());
    tokio::spawn(async move {
        let actor = Actor::cli();
        clients::create(Cx::new(&db, &agency, &actor, T0 + 1), client(&name))
            .await
            .expect("client");
    })
}

/// Lets spawned writes run until they queue for the batch the test holds:
/// on this one-thread runtime each yield polls them, and they reach the
/// lane's lock before any I/O of their own.
async fn let_them_queue() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

async fn chain_intact(db: &Db) {
    for report in audit::verify_all(db).await.unwrap() {
        assert_eq!(report.problem, None, "{}", report.agency_name);
    }
}

#[tokio::test]
async fn writes_queued_behind_one_share_its_commit() {
    let t = TestDb::new().await;
    let db = &t.db;
    let a = agency(db, "maya@x.example").await;
    let actor = Actor::cli();
    let entries = count(
        db,
        "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1",
        &a,
    )
    .await;
    let before = db.group_commit_stats();

    let held = db.begin_write(a.as_str(), &actor, T0).await.unwrap();
    let writes: Vec<_> = (0..5)
        .map(|i| spawn_client(db, &a, &format!("Client {i}")))
        .collect();
    let_them_queue().await;
    // Nothing of theirs is visible before the shared COMMIT.
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM clients WHERE agency_id = $1", &a).await,
        0
    );
    held.commit(Record::new("test.held", "agency", a.as_str(), json!({})))
        .await
        .unwrap();
    for w in writes {
        w.await.unwrap();
    }

    let after = db.group_commit_stats();
    assert_eq!(after.writes - before.writes, 6);
    assert_eq!(after.batches - before.batches, 1, "one COMMIT for the six");
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM clients WHERE agency_id = $1", &a).await,
        5
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM events WHERE agency_id = $1 AND type = 'client.created'",
            &a
        )
        .await,
        5
    );
    // The held write and five clients, chained in order.
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1",
            &a
        )
        .await,
        entries + 6
    );
    chain_intact(db).await;
    t.cleanup().await;
}

#[tokio::test]
async fn a_failed_or_dropped_write_takes_nothing_else_with_it() {
    let t = TestDb::new().await;
    let db = &t.db;
    let a = agency(db, "maya@x.example").await;
    let actor = Actor::cli();
    let entries = count(
        db,
        "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1",
        &a,
    )
    .await;

    let held = db.begin_write(a.as_str(), &actor, T0).await.unwrap();
    let first = spawn_client(db, &a, "Before the failure");
    // A write whose statement fails inside the batch (on PostgreSQL that
    // aborts the transaction until its savepoint is rolled back).
    let failing = {
        let (db, a) = (db.clone(), a.clone());
        tokio::spawn(async move {
            let actor = Actor::cli();
            let mut w = db.begin_write(a.as_str(), &actor, T0).await.unwrap();
            sqlx::query("INSERT INTO clients (id) VALUES ('not-enough-columns')")
                .execute(w.conn())
                .await
                .expect_err("the insert breaks a NOT NULL rule");
            // `w` is dropped here without commit.
        })
    };
    // A write that changes a row and then gives up (a no-op answer).
    let dropped = {
        let (db, a) = (db.clone(), a.clone());
        tokio::spawn(async move {
            let actor = Actor::cli();
            let mut w = db.begin_write(a.as_str(), &actor, T0).await.unwrap();
            sqlx::query("UPDATE agencies SET name = 'Renamed' WHERE id = $1")
                .bind(a.as_str())
                .execute(w.conn())
                .await
                .unwrap();
        })
    };
    let last = spawn_client(db, &a, "After the failure");
    let_them_queue().await;
    held.commit(Record::new("test.held", "agency", a.as_str(), json!({})))
        .await
        .unwrap();
    for w in [first, failing, dropped, last] {
        w.await.unwrap();
    }

    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM clients WHERE agency_id = $1 ORDER BY name")
            .bind(a.as_str())
            .fetch_all(db.reader())
            .await
            .unwrap();
    assert_eq!(names, ["After the failure", "Before the failure"]);
    let name: String = sqlx::query_scalar("SELECT name FROM agencies WHERE id = $1")
        .bind(a.as_str())
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(
        name, "Northwind Social",
        "the dropped write's change is gone"
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1",
            &a
        )
        .await,
        entries + 3
    );
    chain_intact(db).await;

    // The lane is free again: a later write commits on its own.
    clients::create(Cx::new(db, &a, &actor, T0 + 2), client("Later"))
        .await
        .unwrap();
    chain_intact(db).await;
    t.cleanup().await;
}

#[tokio::test]
async fn a_writer_that_stops_waiting_strands_nobody() {
    let t = TestDb::new().await;
    let db = &t.db;
    let a = agency(db, "maya@x.example").await;
    let actor = Actor::cli();

    let held = db.begin_write(a.as_str(), &actor, T0).await.unwrap();
    let kept = spawn_client(db, &a, "Kept");
    let cancelled = spawn_client(db, &a, "Cancelled while queued");
    let_them_queue().await;
    cancelled.abort();
    let _ = cancelled.await;
    held.commit(Record::new("test.held", "agency", a.as_str(), json!({})))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), kept)
        .await
        .expect("the queued write commits")
        .unwrap();

    // Queued writes that all give up: the flusher still commits the held one.
    let held = db.begin_write(a.as_str(), &actor, T0).await.unwrap();
    let gone: Vec<_> = (0..3)
        .map(|i| spawn_client(db, &a, &format!("Gone {i}")))
        .collect();
    let_them_queue().await;
    let commit = {
        let db2 = db.clone();
        let a2 = a.clone();
        tokio::spawn(async move {
            let _keep = db2;
            held.commit(Record::new("test.held", "agency", a2.as_str(), json!({})))
                .await
        })
    };
    tokio::task::yield_now().await;
    for g in &gone {
        g.abort();
    }
    tokio::time::timeout(Duration::from_secs(10), commit)
        .await
        .expect("the held write commits although every writer behind it left")
        .unwrap()
        .unwrap();
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1 AND action = 'test.held'",
            &a
        )
        .await,
        2
    );
    chain_intact(db).await;
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_lands_under_real_concurrency() {
    let t = TestDb::new().await;
    let db = &t.db;
    let a = agency(db, "maya@x.example").await;
    let b = agency(db, "ines@y.example").await;
    let entries = count(
        db,
        "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1",
        &a,
    )
    .await;
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1",
            &b
        )
        .await,
        entries
    );
    let mut tasks = Vec::new();
    for w in 0..24 {
        let (db, agency) = (db.clone(), if w % 3 == 0 { b.clone() } else { a.clone() });
        tasks.push(tokio::spawn(async move {
            let actor = Actor::cli();
            for i in 0..10 {
                clients::create(
                    Cx::new(&db, &agency, &actor, T0 + i),
                    client(&format!("W{w} C{i}")),
                )
                .await
                .expect("acknowledged");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for (agency, writes) in [(&a, 160), (&b, 80)] {
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
                agency
            )
            .await,
            writes
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM events WHERE agency_id = $1 AND type = 'client.created'",
                agency
            )
            .await,
            writes
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1",
                agency
            )
            .await,
            entries + writes
        );
    }
    chain_intact(db).await;
    t.cleanup().await;
}

/// SQLite: the writer leaves WAL checkpoints to a thread of their own, which
/// checkpoints what was committed.
#[tokio::test]
async fn sqlite_checkpoints_the_wal_off_the_writer() {
    let t = TestDb::new().await;
    let db = &t.db;
    let Some(stats) = db.wal_checkpoint_stats() else {
        assert_eq!(TestDb::engine(), "postgres");
        t.cleanup().await;
        return;
    };
    use std::sync::atomic::Ordering::Relaxed;
    let a = agency(db, "maya@x.example").await;
    let before = stats.checkpoints.load(Relaxed);
    let actor = Actor::cli();
    for i in 0..50 {
        clients::create(Cx::new(db, &a, &actor, T0 + i), client(&format!("C{i}")))
            .await
            .unwrap();
    }
    // The thread checkpoints when asked (and on its own every 100 ms).
    assert!(db.checkpoint_wal_now().await, "the checkpoint ran");
    assert!(stats.checkpoints.load(Relaxed) > before);
    assert!(stats.wal_frames.load(Relaxed) > 0);
    assert_eq!(stats.failures.load(Relaxed), 0);
    chain_intact(db).await;
    t.cleanup().await;
}
