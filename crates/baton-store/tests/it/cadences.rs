//! The cadences' day clock on SQLite and PostgreSQL under real concurrency:
//! eight schedulers ending the same agency's day flag each meeting without
//! its artifact once (one row, one event, one notice, one audit entry),
//! and eight concurrent attaches of one meeting hold it once.

use baton_core::types::AgencyId;
use baton_store::agencies::{self, NewAgency};
use baton_store::cadences::artifacts::{self, Attach};
use baton_store::cadences::clock;
use baton_store::cadences::occurrences::{self, Filter};
use baton_store::testing::TestDb;
use baton_store::{Actor, Cx, Db};
use jiff::civil::Date;

/// Monday 2026-11-23 09:00 UTC.
const MON: i64 = 1_795_424_400_000;
const HOUR: i64 = 3_600_000;
/// Tuesday 2026-11-24 00:00 UTC: the end of Monday.
const MON_END: i64 = MON + 15 * HOUR;

async fn agency(db: &Db) -> AgencyId {
    let (a, _) = agencies::create(
        db,
        &Actor::cli(),
        MON,
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

/// Runs the day clock on eight concurrent schedulers at `now`; returns the
/// meetings flagged in all.
async fn eight(db: &Db, agency: &AgencyId, now: i64) -> usize {
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let (db, agency) = (db.clone(), agency.clone());
            tokio::spawn(async move {
                let actor = Actor::system("Cadence clock");
                clock::advance_fenced(Cx::new(&db, &agency, &actor, now), false, None).await
            })
        })
        .collect();
    let mut flagged = 0;
    for r in runs {
        flagged += r.await.expect("task").expect("advance");
    }
    flagged
}

#[tokio::test]
async fn eight_schedulers_flag_a_missing_artifact_once() {
    let t = TestDb::new().await;
    let agency = agency(&t.db).await;
    // The first look starts the cadences today, silently.
    assert_eq!(eight(&t.db, &agency, MON).await, 0);
    assert_eq!(clock::next_change(&t.db).await.unwrap(), Some(MON_END));
    assert!(clock::due_for_change(&t.db, MON_END - 1, 10)
        .await
        .unwrap()
        .is_empty());
    // Monday's two weekly meetings end without their artifact.
    assert_eq!(eight(&t.db, &agency, MON_END).await, 2);
    for (what, sql) in [
        (
            "rows",
            "SELECT COUNT(*) FROM cadence_occurrences WHERE flagged_at IS NOT NULL",
        ),
        (
            "events",
            "SELECT COUNT(*) FROM events WHERE type = 'cadence.artifact_missing'",
        ),
        (
            "audit",
            "SELECT COUNT(*) FROM audit_log WHERE action = 'cadence.artifact_missing'",
        ),
        (
            "notices",
            "SELECT COUNT(*) FROM notices WHERE kind = 'cadence.artifact_missing'",
        ),
    ] {
        assert_eq!(count(&t.db, sql).await, 2, "{what}");
    }
    // Nothing more until Tuesday ends, and Tuesday has no meeting.
    assert_eq!(
        clock::next_change(&t.db).await.unwrap(),
        Some(MON_END + 24 * HOUR)
    );
    assert_eq!(eight(&t.db, &agency, MON_END + 24 * HOUR).await, 0);
    let day = Date::constant(2026, 11, 23);
    let monday = occurrences::list(
        &t.db,
        agency.as_str(),
        (day, day),
        MON_END + 25 * HOUR,
        &Filter::default(),
    )
    .await
    .unwrap();
    assert_eq!(monday.len(), 2);
    assert!(monday
        .iter()
        .all(|o| o.artifact_missing && o.flagged_at.is_some()));
    t.cleanup().await;
}

#[tokio::test]
async fn eight_attaches_hold_a_meeting_once() {
    let t = TestDb::new().await;
    let agency = agency(&t.db).await;
    eight(&t.db, &agency, MON).await;
    let day = Date::constant(2026, 11, 23);
    let planning = occurrences::list(
        &t.db,
        agency.as_str(),
        (day, day),
        MON,
        &Filter {
            cadence: Some("weekly_delivery_planning".into()),
            ..Filter::default()
        },
    )
    .await
    .unwrap()
    .remove(0);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (db, agency, id) = (t.db.clone(), agency.clone(), planning.id.clone());
            tokio::spawn(async move {
                let actor = Actor::cli();
                artifacts::attach(
                    Cx::new(&db, &agency, &actor, MON + i),
                    &id,
                    Attach {
                        notes: Some(format!("Take {i}")),
                        ..Attach::default()
                    },
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("attach");
    }
    let rows = "SELECT COUNT(*) FROM cadence_occurrences WHERE held_at IS NOT NULL";
    assert_eq!(count(&t.db, rows).await, 1);
    let held = "SELECT COUNT(*) FROM events WHERE type = 'cadence.held'";
    assert_eq!(
        count(&t.db, held).await,
        1,
        "held once; the others updated it"
    );
    let updated = "SELECT COUNT(*) FROM events WHERE type = 'cadence.artifact_updated'";
    assert_eq!(count(&t.db, updated).await, 7);
    t.cleanup().await;
}
