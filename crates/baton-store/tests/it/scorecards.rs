//! The scorecard on SQLite and PostgreSQL under real concurrency: eight
//! schedulers recording the same agency's `week_ended` write it once, eight
//! first looks create the default measurables once, and eight ships of the
//! same week make one scorecard — each claim taken inside its write's
//! transaction.

use baton_core::scorecard::{IsoWeek, Source};
use baton_core::types::{AgencyId, MemberId};
use baton_store::agencies::{self, NewAgency};
use baton_store::scorecards::{self, NewAction, Scope, Ship};
use baton_store::testing::TestDb;
use baton_store::{Actor, Cx, Db};

/// Monday 2026-11-23 09:00 UTC (ISO week 2026-W48).
const MON: i64 = 1_795_424_400_000;
const HOUR: i64 = 3_600_000;
/// Friday 2026-11-27 17:00 UTC: the end of W48's last business day.
const W48_END: i64 = MON + 4 * 24 * HOUR + 8 * HOUR;

async fn agency(db: &Db) -> (AgencyId, String) {
    let (a, admin) = agencies::create(
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
    (AgencyId::parse(&a.id).expect("agency id"), admin.id)
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db.reader())
        .await
        .unwrap()
}

/// Runs `due` on eight concurrent schedulers at `now`; returns how many
/// recorded an event.
async fn eight(db: &Db, agency: &AgencyId, due: scorecards::Due, now: i64) -> usize {
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let (db, agency, due) = (db.clone(), agency.clone(), due.clone());
            tokio::spawn(async move {
                let actor = Actor::system("Scorecard clock");
                scorecards::advance_fenced(Cx::new(&db, &agency, &actor, now), &due, false, None)
                    .await
            })
        })
        .collect();
    let mut moved = 0;
    for r in runs {
        if r.await.expect("task").expect("advance").is_some() {
            moved += 1;
        }
    }
    moved
}

#[tokio::test]
async fn eight_schedulers_end_the_week_once() {
    let t = TestDb::new().await;
    let (agency, _) = agency(&t.db).await;
    // Tracking starts silently: no event, the next end is Friday 17:00.
    assert_eq!(
        eight(&t.db, &agency, scorecards::Due::WeekEnded, MON).await,
        0
    );
    assert_eq!(scorecards::next_change(&t.db).await.unwrap(), Some(W48_END));
    assert!(scorecards::due_for_change(&t.db, W48_END - 1, 10)
        .await
        .unwrap()
        .is_empty());
    let due = scorecards::due_for_change(&t.db, W48_END, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        eight(&t.db, &agency, scorecards::Due::WeekEnded, W48_END).await,
        1
    );
    let events = "SELECT COUNT(*) FROM events WHERE type = 'week_ended' AND entity_id = '2026-W48'";
    assert_eq!(count(&t.db, events).await, 1);
    let audit = "SELECT COUNT(*) FROM audit_log WHERE action = 'week_ended'";
    assert_eq!(count(&t.db, audit).await, 1);
    // The next end is a week later; nothing is due before it.
    assert_eq!(
        scorecards::next_change(&t.db).await.unwrap(),
        Some(W48_END + 7 * 24 * HOUR)
    );
    assert!(scorecards::due_for_change(&t.db, W48_END + HOUR, 10)
        .await
        .unwrap()
        .is_empty());
    t.cleanup().await;
}

#[tokio::test]
async fn defaults_and_a_week_are_created_once_under_concurrency() {
    let t = TestDb::new().await;
    let (agency, admin) = agency(&t.db).await;
    let looks: Vec<_> = (0..8)
        .map(|_| {
            let (db, agency) = (t.db.clone(), agency.clone());
            tokio::spawn(async move {
                let actor = Actor::cli();
                scorecards::ensure_defaults(Cx::new(&db, &agency, &actor, MON)).await
            })
        })
        .collect();
    for l in looks {
        l.await.expect("task").expect("defaults");
    }
    let list = scorecards::measurables(&t.db, agency.as_str(), false)
        .await
        .unwrap();
    assert_eq!(list.len(), 6, "six defaults, once");
    assert!(list.iter().all(|m| matches!(m.source, Source::Kpi(_))));

    let week = IsoWeek::parse("2026-W48").unwrap();
    let now = W48_END + 2 * 24 * HOUR;
    let owner = MemberId::parse(&admin).unwrap();
    let ships: Vec<_> = (0..8)
        .map(|i| {
            let (db, agency, owner) = (t.db.clone(), agency.clone(), owner.clone());
            tokio::spawn(async move {
                let actor = Actor::cli();
                let s = Ship {
                    week,
                    scope: Scope::Agency,
                    insights: vec![format!("insight of ship {i}"), "b".into(), "c".into()],
                    actions: (0..3)
                        .map(|n| NewAction {
                            text: format!("action {n}"),
                            owner: owner.clone(),
                            due_on: "2026-12-04".into(),
                        })
                        .collect(),
                };
                scorecards::ship(Cx::new(&db, &agency, &actor, now), s).await
            })
        })
        .collect();
    let mut shipped = 0;
    for s in ships {
        match s.await.expect("task") {
            Ok(_) => shipped += 1,
            Err(e) => assert!(e.to_string().contains("already shipped"), "{e}"),
        }
    }
    assert_eq!(shipped, 1, "one ship wins, the others are told");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM scorecards").await, 1);
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM scorecard_actions").await,
        3
    );
    let events = "SELECT COUNT(*) FROM events WHERE type = 'scorecard.shipped'";
    assert_eq!(count(&t.db, events).await, 1);
    t.cleanup().await;
}
