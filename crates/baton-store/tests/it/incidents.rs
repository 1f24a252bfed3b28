//! The incident clock on SQLite and PostgreSQL under real concurrency: eight
//! schedulers advancing the same due incident, and the same overdue
//! follow-up action, write its event (and its notices) exactly once — the
//! claim is taken inside each write's transaction.

use baton_core::incidents::{FollowUp, Postmortem, Severity, Source};
use baton_core::types::AgencyId;
use baton_store::agencies::{self, NewAgency};
use baton_store::incidents::{self, NewIncident, Triage};
use baton_store::testing::TestDb;
use baton_store::{Actor, Cx, Db};

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z (a Saturday)
const MINUTE: i64 = 60_000;

async fn agency(db: &Db) -> (AgencyId, String) {
    let (a, admin) = agencies::create(
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
    (AgencyId::parse(&a.id).expect("agency id"), admin.id)
}

async fn count(db: &Db, sql: &str, arg: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(arg)
        .fetch_one(db.reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn eight_schedulers_breach_an_incident_once() {
    let t = TestDb::new().await;
    let (agency, _) = agency(&t.db).await;
    let actor = Actor::cli();
    let i = incidents::report(
        Cx::new(&t.db, &agency, &actor, T0),
        NewIncident {
            title: "Account hacked".into(),
            severity: Severity::Sev1,
            source: Source::BrandRisk,
            client_id: None,
            content_id: None,
            summary: None,
            occurred_at: None,
            reported_at: None,
        },
    )
    .await
    .expect("report");
    let id = i.id.to_string();
    let now = T0 + 61 * MINUTE;
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let db = t.db.clone();
            let agency = agency.clone();
            let due = incidents::Due::Triage(i.id.clone());
            tokio::spawn(async move {
                let actor = Actor::system("Incident clock");
                incidents::advance_fenced(Cx::new(&db, &agency, &actor, now), &due, false, None)
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
    assert_eq!(moved, 1, "one scheduler moved it");
    let sql =
        "SELECT COUNT(*) FROM events WHERE type = 'incident.triage_breached' AND entity_id = $1";
    assert_eq!(count(&t.db, sql, &id).await, 1);
    let audit = "SELECT COUNT(*) FROM audit_log WHERE action = 'incident.triage_breached' AND entity_id = $1";
    assert_eq!(count(&t.db, audit, &id).await, 1);
    // Nothing is due any more.
    assert!(incidents::due_for_change(&t.db, now + 60 * MINUTE, 10)
        .await
        .unwrap()
        .is_empty());
    t.cleanup().await;
}

#[tokio::test]
async fn an_overdue_follow_up_is_noticed_once_by_concurrent_schedulers() {
    let t = TestDb::new().await;
    let (agency, admin) = agency(&t.db).await;
    let actor = Actor::cli();
    let cx = Cx::new(&t.db, &agency, &actor, T0);
    let i = incidents::report(
        cx,
        NewIncident {
            title: "Wrong post".into(),
            severity: Severity::Sev2,
            source: Source::PublishingError,
            client_id: None,
            content_id: None,
            summary: None,
            occurred_at: None,
            reported_at: None,
        },
    )
    .await
    .expect("report");
    incidents::triage(
        cx.at(T0 + MINUTE),
        &i.id,
        Triage {
            severity: None,
            lead: admin.parse().unwrap(),
            plan: "Take it down".into(),
        },
    )
    .await
    .expect("triage");
    incidents::save_postmortem(
        cx.at(T0 + 2 * MINUTE),
        &i.id,
        Postmortem {
            summary: "s".into(),
            impact: "i".into(),
            detection: "d".into(),
            response: "r".into(),
            root_cause: "c".into(),
        },
        vec![FollowUp {
            title: "Add a second pair of eyes".into(),
            owner: admin.clone(),
            due_on: "2026-11-29".into(),
        }],
    )
    .await
    .expect("postmortem");
    let now = T0 + 3 * 24 * 60 * MINUTE;
    let due = incidents::due_for_change(&t.db, now, 10).await.unwrap();
    assert_eq!(due.len(), 1, "the action: {due:?}");
    let (a, action) = due[0].clone();
    assert!(matches!(action, incidents::Due::FollowUp(_)), "{action:?}");
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let db = t.db.clone();
            let (a, action) = (a.clone(), action.clone());
            tokio::spawn(async move {
                let actor = Actor::system("Incident clock");
                incidents::advance_fenced(Cx::new(&db, &a, &actor, now), &action, false, None).await
            })
        })
        .collect();
    let mut moved = 0;
    for r in runs {
        if r.await.expect("task").expect("advance").is_some() {
            moved += 1;
        }
    }
    assert_eq!(moved, 1);
    let notices =
        "SELECT COUNT(*) FROM notices WHERE kind = 'incident.action_overdue' AND incident_id = $1";
    assert_eq!(count(&t.db, notices, i.id.as_str()).await, 1);
    assert!(incidents::due_for_change(&t.db, now, 10)
        .await
        .unwrap()
        .is_empty());
    t.cleanup().await;
}
