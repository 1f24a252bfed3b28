//! The store conformance suite: the same tests on SQLite (default) and on
//! PostgreSQL (when BATON_TEST_POSTGRES_URL is set), each on its own fresh
//! database.

use baton_core::audit::GENESIS;
use baton_core::lifecycle::{ClientEventType, Lifecycle};
use baton_core::roles::Role;
use baton_core::secret;
use baton_core::types::{AgencyId, MemberId};
use baton_store::agencies::{self, AgencyPatch, NewAgency};
use baton_store::clients::{self, ClientPatch, NewClient};
use baton_store::events::{self, EventFilter};
use baton_store::members::{self, MemberInput, MemberPatch};
use baton_store::testing::TestDb;
use baton_store::tokens::{self, Scope};
use baton_store::{audit, idempotency, invites, outbox, sessions, Actor, Cx, Db, StoreError};
use sqlx::Row;

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z
/// Agencies of the previous release, written with its SQL.
const OLD_AGENCY: &str = "agy_00000000000000000000000001";
const PLAIN_AGENCY: &str = "agy_00000000000000000000000002";

fn actor() -> Actor {
    Actor::cli()
}

/// A member's id, typed.
fn mid(m: &members::Member) -> MemberId {
    MemberId::parse(&m.id).unwrap()
}

async fn agency(db: &Db, email: &str) -> (AgencyId, members::Member) {
    let (a, m) = agencies::create(
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
    (a.id, m)
}

async fn count(db: &Db, sql: &str, agency_id: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(agency_id)
        .fetch_one(db.reader())
        .await
        .expect(sql)
}

async fn totals(db: &Db, agency_id: &str) -> (i64, i64, i64) {
    (
        count(
            db,
            "SELECT COUNT(*) FROM events WHERE agency_id = $1",
            agency_id,
        )
        .await,
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1",
            agency_id,
        )
        .await,
        count(
            db,
            "SELECT COUNT(*) FROM outbox WHERE agency_id = $1",
            agency_id,
        )
        .await,
    )
}

#[tokio::test]
#[cfg_attr(
    not(baton_pg),
    ignore = "PostgreSQL not configured: the store suite ran on SQLite only; set BATON_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run it on PostgreSQL"
)]
async fn postgres_suite() {
    let t = TestDb::new().await;
    assert_eq!(TestDb::engine(), "postgres");
    assert_eq!(t.db.backend(), baton_store::Backend::Postgres);
    t.cleanup().await;
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let t = TestDb::new().await;
    let again = Db::open(&t.url)
        .await
        .expect("second open migrates nothing");
    let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM baton_migrations")
        .fetch_one(again.reader())
        .await
        .unwrap();
    assert_eq!(
        versions, 18,
        "one row per migration (foundation, onboarding, calendar, sops, content, content_files, follow_the_work, content_caption, link_reminders, throttles, audit_hash_v2, leases, custom_domain_verification, incidents, scorecard, cadences, integrations, connectors)"
    );
    again.close().await;
    t.cleanup().await;
}

#[tokio::test]
async fn every_change_writes_event_audit_and_outbox_together() {
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    let before = totals(&t.db, &aid).await;
    assert_eq!(before, (2, 2, 2), "agency + admin each recorded");

    let c = clients::create(
        Cx::new(&t.db, &aid, &actor(), T0),
        NewClient {
            name: "Bluebird".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(totals(&t.db, &aid).await, (3, 3, 3));

    // A refused change writes nothing at all.
    let err = clients::record_event(
        Cx::new(&t.db, &aid, &actor(), T0),
        &c.id,
        ClientEventType::Archived,
        None,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Core(baton_core::CoreError::Conflict(_))),
        "{err:?}"
    );
    assert_eq!(totals(&t.db, &aid).await, (3, 3, 3));
    assert_eq!(
        clients::get(&t.db, &aid, &c.id).await.unwrap().lifecycle,
        Lifecycle::Won
    );

    // An update with no change records nothing either.
    clients::update(
        Cx::new(&t.db, &aid, &actor(), T0),
        &c.id,
        ClientPatch {
            name: Some("Bluebird".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(totals(&t.db, &aid).await, (3, 3, 3));

    let reports = audit::verify_all(&t.db).await.unwrap();
    assert!(reports.iter().all(|r| r.problem.is_none()), "{reports:?}");
    t.cleanup().await;
}

#[tokio::test]
async fn lifecycle_moves_through_events_and_keeps_back_dates() {
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    let c = clients::create(
        Cx::new(&t.db, &aid, &actor(), T0),
        NewClient {
            name: "Harbor".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let signed_at = T0 - 30 * 24 * 3600 * 1000;
    let e = clients::record_event(
        Cx::new(&t.db, &aid, &actor(), T0),
        &c.id,
        ClientEventType::ContractSigned,
        Some(signed_at),
        Some("12 months"),
    )
    .await
    .unwrap();
    assert_eq!(e.event_type, "contract_signed");
    assert_eq!(e.topic, "client.contract_signed");
    assert_eq!(e.occurred_at, signed_at);
    assert_eq!(e.recorded_at, T0);
    assert_eq!(e.note.as_deref(), Some("12 months"));
    assert_eq!(
        e,
        events::get(&t.db, &aid, &e.id).await.unwrap(),
        "the returned event is the stored one"
    );
    for (ev, want) in [
        (ClientEventType::KickoffScheduled, Lifecycle::Onboarding),
        (ClientEventType::OnboardingCompleted, Lifecycle::Active),
        (ClientEventType::ContractEnded, Lifecycle::Offboarding),
        (ClientEventType::Archived, Lifecycle::Archived),
    ] {
        clients::record_event(Cx::new(&t.db, &aid, &actor(), T0), &c.id, ev, None, None)
            .await
            .unwrap();
        assert_eq!(
            clients::get(&t.db, &aid, &c.id).await.unwrap().lifecycle,
            want,
            "{ev:?}"
        );
    }
    let archived = clients::get(&t.db, &aid, &c.id).await.unwrap();
    assert_eq!(archived.archived_at, Some(T0));
    let err = clients::update(
        Cx::new(&t.db, &aid, &actor(), T0),
        &c.id,
        ClientPatch {
            name: Some("x".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(err, Err(StoreError::Core(_))));

    // Future and pre-2000 times are refused.
    let c2 = clients::create(
        Cx::new(&t.db, &aid, &actor(), T0),
        NewClient {
            name: "Other".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for bad in [T0 + 3600 * 1000, 0] {
        let r = clients::record_event(
            Cx::new(&t.db, &aid, &actor(), T0),
            &c2.id,
            ClientEventType::ContractSigned,
            Some(bad),
            None,
        )
        .await;
        assert!(
            matches!(
                r,
                Err(StoreError::Core(baton_core::CoreError::Invalid { .. }))
            ),
            "{bad}"
        );
    }
    t.cleanup().await;
}

#[tokio::test]
async fn tenants_cannot_see_each_other() {
    let t = TestDb::new().await;
    let (a, _) = agency(&t.db, "a@a.test").await;
    let (b, b_admin) = agency(&t.db, "b@b.test").await;
    let ca = clients::create(
        Cx::new(&t.db, &a, &actor(), T0),
        NewClient {
            name: "A's client".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        clients::get(&t.db, &b, &ca.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(clients::list(&t.db, &b, None, None, None)
        .await
        .unwrap()
        .items
        .is_empty());
    let r = clients::record_event(
        Cx::new(&t.db, &b, &actor(), T0),
        &ca.id,
        ClientEventType::Note,
        None,
        Some("x"),
    )
    .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let r = clients::update(
        Cx::new(&t.db, &b, &actor(), T0),
        &ca.id,
        ClientPatch {
            name: Some("pwned".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
    // B's member cannot be put on A's client team.
    let r = clients::set_team(Cx::new(&t.db, &a, &actor(), T0), &ca.id, &[], &b_admin.id).await;
    assert!(
        matches!(
            r,
            Err(StoreError::Core(baton_core::CoreError::Invalid { .. }))
        ),
        "{r:?}"
    );
    let f = EventFilter {
        client_id: Some(ca.id.to_string()),
        ..Default::default()
    };
    assert!(events::list(&t.db, &b, &f, None, None)
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(matches!(
        members::get(&t.db, &a, &b_admin.id).await,
        Err(StoreError::NotFound)
    ));
    t.cleanup().await;
}

#[tokio::test]
async fn pagination_returns_each_row_once() {
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    let mut made = Vec::new();
    for i in 0..23 {
        let c = clients::create(
            Cx::new(&t.db, &aid, &actor(), T0 + i),
            NewClient {
                name: format!("Client {i}"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        made.push(c.id);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = clients::list(&t.db, &aid, None, cursor.as_deref(), Some(10))
            .await
            .unwrap();
        assert!(page.items.len() <= 10);
        seen.extend(page.items.into_iter().map(|c| c.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    made.sort();
    assert_eq!(seen, made);

    let only_won = clients::list(&t.db, &aid, Some(Lifecycle::Active), None, None)
        .await
        .unwrap();
    assert!(only_won.items.is_empty());

    // Events: newest first and oldest first see the same rows, reversed.
    let f_new = EventFilter {
        newest_first: true,
        ..Default::default()
    };
    let f_old = EventFilter::default();
    let newest = events::list(&t.db, &aid, &f_new, None, Some(200))
        .await
        .unwrap()
        .items;
    let mut oldest = events::list(&t.db, &aid, &f_old, None, Some(200))
        .await
        .unwrap()
        .items;
    oldest.reverse();
    assert_eq!(newest, oldest);
    assert!(
        newest.windows(2).all(|w| w[0].seq == w[1].seq + 1),
        "seqs contiguous"
    );
    let bad = events::list(&t.db, &aid, &f_old, Some("not-a-seq"), None).await;
    assert!(matches!(bad, Err(StoreError::Core(_))));
    t.cleanup().await;
}

#[tokio::test]
async fn concurrent_writes_keep_the_chain_and_sequence_intact() {
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    let c = clients::create(
        Cx::new(&t.db, &aid, &actor(), T0),
        NewClient {
            name: "Busy".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = t.db.clone();
        let (aid, cid) = (aid.clone(), c.id.clone());
        tasks.push(tokio::spawn(async move {
            clients::record_event(
                Cx::new(&db, &aid, &actor(), T0),
                &cid,
                ClientEventType::Note,
                None,
                Some(&format!("note {i}")),
            )
            .await
            .expect("concurrent note")
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let (events, audits, jobs) = totals(&t.db, &aid).await;
    assert_eq!((events, audits, jobs), (43, 43, 43));
    let seqs: Vec<i64> = sqlx::query("SELECT seq FROM events WHERE agency_id = $1 ORDER BY seq")
        .bind(aid.as_str())
        .fetch_all(t.db.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>("seq"))
        .collect();
    assert_eq!(seqs, (1..=43).collect::<Vec<_>>());
    let reports = audit::verify_all(&t.db).await.unwrap();
    assert!(reports.iter().all(|r| r.problem.is_none()), "{reports:?}");
    t.cleanup().await;
}

#[tokio::test]
async fn text_is_stored_verbatim() {
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    for name in [
        "Zoë's Café 東京 🚀",
        "Robert'); DROP TABLE clients;--",
        "50% off \\ \"quoted\" $1 ?",
    ] {
        let c = clients::create(
            Cx::new(&t.db, &aid, &actor(), T0),
            NewClient {
                name: name.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(clients::get(&t.db, &aid, &c.id).await.unwrap().name, name);
    }
    assert_eq!(
        clients::list(&t.db, &aid, None, None, None)
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    t.cleanup().await;
}

#[tokio::test]
async fn members_sessions_tokens_and_invites() {
    let t = TestDb::new().await;
    let (aid, admin) = agency(&t.db, "maya@northwind.test").await;

    // Emails are unique across agencies, case-insensitively.
    let dup = members::create(
        Cx::new(&t.db, &aid, &actor(), T0),
        MemberInput {
            email: "MAYA@northwind.test".into(),
            name: "Again".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(dup, Err(StoreError::Duplicate(_))), "{dup:?}");
    let bad_role = members::create(
        Cx::new(&t.db, &aid, &actor(), T0),
        MemberInput {
            email: "x@northwind.test".into(),
            name: "X".into(),
            roles: vec!["boss".into()],
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(bad_role, Err(StoreError::Core(_))));

    // Sessions: a password change ends every other session.
    for token in ["s1", "s2", "s3"] {
        sessions::create(
            Cx::new(&t.db, &admin.agency_id, &actor(), T0),
            &admin,
            &secret::hash_token(token),
            "csrf",
            3_600_000,
        )
        .await
        .unwrap();
    }
    assert_eq!(
        sessions::count_for_member(&t.db, &aid, &admin.id, T0)
            .await
            .unwrap(),
        3
    );
    members::set_password(
        Cx::new(&t.db, &aid, &actor(), T0),
        &mid(&admin),
        "$argon2id$new",
        Some(&secret::hash_token("s2")),
    )
    .await
    .unwrap();
    assert_eq!(
        sessions::count_for_member(&t.db, &aid, &admin.id, T0)
            .await
            .unwrap(),
        1
    );
    assert!(sessions::find(&t.db, &secret::hash_token("s2"), T0)
        .await
        .unwrap()
        .is_some());
    assert!(sessions::find(&t.db, &secret::hash_token("s1"), T0)
        .await
        .unwrap()
        .is_none());
    assert!(
        sessions::find(&t.db, &secret::hash_token("s2"), T0 + 3_600_001)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );

    // Tokens: hashed, scoped, revocable.
    let (tok, secret_value) = tokens::create(
        Cx::new(&t.db, &admin.agency_id, &actor(), T0),
        &admin,
        "zapier",
        Scope::Write,
    )
    .await
    .unwrap();
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens WHERE id = $1")
        .bind(tok.id.as_str())
        .fetch_one(t.db.reader())
        .await
        .unwrap();
    assert_ne!(stored, secret_value);
    assert_eq!(stored, secret::hash_token(&secret_value));
    let (found, m) = tokens::authenticate(&t.db, &secret_value)
        .await
        .unwrap()
        .expect("valid");
    assert_eq!(
        (found.scope, m.id.as_str()),
        (Scope::Write, admin.id.as_str())
    );
    tokens::revoke(Cx::new(&t.db, &aid, &actor(), T0), &tok.id)
        .await
        .unwrap();
    assert!(tokens::authenticate(&t.db, &secret_value)
        .await
        .unwrap()
        .is_none());

    // Invites: one use only; non-admins cannot hold admin tokens.
    let (invited, invite) = invites::create_member_with_invite(
        Cx::new(&t.db, &aid, &actor(), T0),
        MemberInput {
            email: "leo@northwind.test".into(),
            name: "Leo".into(),
            roles: vec!["project_manager".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(invited.roles, vec![Role::ProjectManager]);
    assert!(!invited.has_password);
    assert!(tokens::create(
        Cx::new(&t.db, &invited.agency_id, &actor(), T0),
        &invited,
        "x",
        Scope::Admin
    )
    .await
    .is_err());
    let accepted = invites::accept(&t.db, &invite, &actor(), T0, "$argon2id$leo")
        .await
        .unwrap();
    assert!(accepted.has_password);
    assert!(matches!(
        invites::accept(&t.db, &invite, &actor(), T0, "$argon2id$again").await,
        Err(StoreError::NotFound)
    ));

    // The last admin cannot be demoted; deactivation revokes tokens.
    let r = members::update(
        Cx::new(&t.db, &aid, &actor(), T0),
        &mid(&admin),
        MemberPatch {
            is_admin: Some(false),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(
        r,
        Err(StoreError::Core(baton_core::CoreError::Conflict(_)))
    ));
    let (_, leo_secret) = tokens::create(
        Cx::new(&t.db, &accepted.agency_id, &actor(), T0),
        &accepted,
        "leo",
        Scope::Read,
    )
    .await
    .unwrap();
    members::update(
        Cx::new(&t.db, &aid, &actor(), T0),
        &mid(&accepted),
        MemberPatch {
            active: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(tokens::authenticate(&t.db, &leo_secret)
        .await
        .unwrap()
        .is_none());
    t.cleanup().await;
}

#[tokio::test]
async fn agency_settings_validate_and_record() {
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    let a = agencies::update(
        Cx::new(&t.db, &aid, &actor(), T0),
        AgencyPatch {
            timezone: Some("America/New_York".into()),
            brand_color: Some("#AA3300".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (a.timezone.as_str(), a.brand_color.as_str()),
        ("America/New_York", "#aa3300")
    );
    for bad in [
        AgencyPatch {
            timezone: Some("Mars/Base".into()),
            ..Default::default()
        },
        AgencyPatch {
            brand_color: Some("red".into()),
            ..Default::default()
        },
        AgencyPatch {
            custom_domain: Some("not a domain".into()),
            ..Default::default()
        },
        AgencyPatch {
            logo_url: Some("javascript:alert(1)".into()),
            ..Default::default()
        },
    ] {
        assert!(agencies::update(Cx::new(&t.db, &aid, &actor(), T0), bad)
            .await
            .is_err());
    }
    // Two agencies with the same name get distinct slugs.
    let (other, _) = agency(&t.db, "second@northwind.test").await;
    let s1 = agencies::get(&t.db, &aid).await.unwrap().slug;
    let s2 = agencies::get(&t.db, &other).await.unwrap().slug;
    assert_ne!(s1, s2);
    t.cleanup().await;
}

/// A custom domain set before verification existed (written by the
/// previous release, on the schema it left) is grandfathered by the upgrade:
/// verified as of the migration, routed as before, and kept verified when
/// the agency's settings are saved again with it.
#[tokio::test]
async fn custom_domains_from_before_verification_are_grandfathered() {
    use baton_core::custom_domain::DomainStatus;
    let t = TestDb::new_at_version(12).await;
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url)
        .await
        .unwrap();
    // The INSERT of the previous release's agencies::create, then its
    // settings update.
    for (id, slug, domain) in [
        (OLD_AGENCY, "old", Some("onboard.old.test")),
        (PLAIN_AGENCY, "plain", None),
    ] {
        sqlx::query(
            "INSERT INTO agencies (id, name, slug, timezone, brand_color, accent_color, audit_head, created_at, updated_at) \
             VALUES ($1, $2, $3, 'Europe/Berlin', '#1f4fd1', '#0f766e', $4, $5, $5)",
        )
        .bind(id)
        .bind(format!("Agency {slug}"))
        .bind(slug)
        .bind(GENESIS)
        .bind(T0)
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query("UPDATE agencies SET custom_domain = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(domain)
            .bind(T0 + 1)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    drop(conn);
    let before_upgrade = baton_core::clock::Clock::now_ms(&baton_core::clock::SystemClock);
    t.migrate().await;

    let old = agencies::get(&t.db, OLD_AGENCY).await.unwrap();
    assert_eq!(old.domain_status(), DomainStatus::Verified);
    assert_eq!(old.custom_domain.as_deref(), Some("onboard.old.test"));
    assert_eq!(old.configured_domain(), Some("onboard.old.test"));
    let at = old.domain.verified_at.expect("verified at the upgrade");
    assert!(at >= before_upgrade, "{at} {before_upgrade}");
    assert_eq!(old.domain.set_at, Some(at));
    assert_eq!(old.domain.pending, None);
    assert_eq!(old.pending_record(), None);
    let routed = agencies::find_by_custom_domain(&t.db, "onboard.old.test")
        .await
        .unwrap()
        .expect("still routed");
    assert_eq!(routed.id, OLD_AGENCY);
    let plain = agencies::get(&t.db, PLAIN_AGENCY).await.unwrap();
    assert_eq!(plain.domain_status(), DomainStatus::None);
    assert_eq!(plain.domain, Default::default());
    // Nothing for the worker to check.
    assert!(agencies::due_domain_checks(&t.db, i64::MAX / 2, 10)
        .await
        .unwrap()
        .is_empty());

    // The settings form posts the domain back with every save: it stays
    // verified.
    let saved = agencies::update(
        Cx::new(
            &t.db,
            &AgencyId::parse(OLD_AGENCY).unwrap(),
            &actor(),
            T0 + 2,
        ),
        AgencyPatch {
            name: Some("Old Agency".into()),
            custom_domain: Some("Onboard.Old.test".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(saved.domain_status(), DomainStatus::Verified);
    assert_eq!(saved.domain.verified_at, Some(at));
    t.cleanup().await;
}

/// Setting a domain makes it pending; only its challenge verifies it, once,
/// with an event and an audit entry; a verified domain is another agency's
/// no more to claim.
#[tokio::test]
async fn custom_domains_are_pending_until_verified_once() {
    use baton_core::custom_domain::{DomainStatus, CHECK_EVERY_MS, CHECK_FOR_MS};
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    let (other, _) = agency(&t.db, "rival@rival.test").await;
    let set = |id: AgencyId, d: &'static str| {
        let db = t.db.clone();
        async move {
            agencies::update(
                Cx::new(&db, &id, &actor(), T0),
                AgencyPatch {
                    custom_domain: Some(d.into()),
                    ..Default::default()
                },
            )
            .await
        }
    };
    let a = set(aid.clone(), "onboard.northwind.test").await.unwrap();
    assert_eq!(a.domain_status(), DomainStatus::Pending);
    assert_eq!(a.custom_domain, None, "not routed");
    let (name, value) = a.pending_record().unwrap();
    assert_eq!(name, "_baton-challenge.onboard.northwind.test");
    assert!(value.starts_with("baton-verify="));
    assert!(
        agencies::find_by_custom_domain(&t.db, "onboard.northwind.test")
            .await
            .unwrap()
            .is_none()
    );
    // The rival may claim it too (pending claims do not lock a domain).
    let r = set(other.clone(), "onboard.northwind.test").await.unwrap();
    assert_ne!(r.domain.challenge, a.domain.challenge);

    // Due for the worker after CHECK_EVERY_MS, claimed by one caller only.
    assert!(agencies::due_domain_checks(&t.db, T0, 10)
        .await
        .unwrap()
        .is_empty());
    let due = agencies::due_domain_checks(&t.db, T0 + CHECK_EVERY_MS, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 2);
    let mine = due.iter().find(|d| d.agency_id == aid).unwrap();
    assert!(
        agencies::claim_domain_check(&t.db, mine, T0 + CHECK_EVERY_MS)
            .await
            .unwrap()
    );
    assert!(
        !agencies::claim_domain_check(&t.db, mine, T0 + CHECK_EVERY_MS)
            .await
            .unwrap()
    );
    assert!(
        agencies::due_domain_checks(&t.db, T0 + CHECK_FOR_MS + 1, 10)
            .await
            .unwrap()
            .is_empty(),
        "not after 7 days"
    );

    // A failed check is recorded without an event.
    let before = totals(&t.db, &aid).await;
    agencies::record_domain_check(&t.db, &aid, &value, T0 + 5, "no TXT record")
        .await
        .unwrap();
    assert_eq!(totals(&t.db, &aid).await, before);
    let a = agencies::get(&t.db, &aid).await.unwrap();
    assert_eq!(a.domain.checked_at, Some(T0 + 5));
    assert_eq!(a.domain.found.as_deref(), Some("no TXT record"));

    // Another challenge verifies nothing; the right one verifies once.
    assert!(!agencies::verify_custom_domain(
        Cx::new(&t.db, &aid, &actor(), T0 + 6),
        "baton-verify=x",
        "x"
    )
    .await
    .unwrap());
    assert!(agencies::verify_custom_domain(
        Cx::new(&t.db, &aid, &actor(), T0 + 7),
        &value,
        "the expected value"
    )
    .await
    .unwrap());
    assert!(!agencies::verify_custom_domain(
        Cx::new(&t.db, &aid, &actor(), T0 + 8),
        &value,
        "again"
    )
    .await
    .unwrap());
    let (events, audit, outbox) = totals(&t.db, &aid).await;
    assert_eq!(
        (events, audit, outbox),
        (before.0 + 1, before.1 + 1, before.2 + 1)
    );
    let a = agencies::get(&t.db, &aid).await.unwrap();
    assert_eq!(a.domain_status(), DomainStatus::Verified);
    assert_eq!(a.domain.verified_at, Some(T0 + 7));
    assert_eq!(
        agencies::find_by_custom_domain(&t.db, "onboard.northwind.test")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(aid.clone())
    );

    // The rival's pending claim can no longer be verified, nor made again.
    let rival_value = r.domain.challenge.unwrap();
    match agencies::verify_custom_domain(
        Cx::new(&t.db, &other, &actor(), T0 + 9),
        &rival_value,
        "x",
    )
    .await
    {
        Err(StoreError::Duplicate(m)) => assert!(m.contains("already verified"), "{m}"),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert!(set(other.clone(), "").await.is_ok());
    assert!(matches!(
        set(other.clone(), "onboard.northwind.test").await,
        Err(StoreError::Duplicate(_))
    ));
    t.cleanup().await;
}

#[tokio::test]
async fn outbox_claims_leases_and_completes() {
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    assert_eq!(outbox::pending_count(&t.db).await.unwrap(), 2);
    let jobs = outbox::claim(&t.db, T0, 60_000, 10).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs
        .iter()
        .all(|j| *j.agency_id == *aid && j.kind == "event" && j.attempts == 1));
    assert!(
        outbox::claim(&t.db, T0 + 1, 60_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    // Released jobs are claimable at once, their attempt not counted.
    outbox::release(&t.db, &[jobs[0].id.clone()]).await.unwrap();
    let released = outbox::claim(&t.db, T0 + 2, 60_000, 10).await.unwrap();
    assert_eq!(released.len(), 1);
    assert_eq!(
        (released[0].id.as_str(), released[0].attempts),
        (jobs[0].id.as_str(), 1)
    );
    let again = outbox::claim(&t.db, T0 + 60_003, 60_000, 10).await.unwrap();
    assert_eq!(again.len(), 2, "lease expired: claimable again");
    outbox::fail(&t.db, &again[0].id, T0 + 200_000, "boom")
        .await
        .unwrap();
    outbox::complete_many(&t.db, &[again[1].id.clone()], T0)
        .await
        .unwrap();
    assert_eq!(outbox::pending_count(&t.db).await.unwrap(), 1);
    assert!(!outbox::any_due(&t.db, T0 + 100_000).await.unwrap());
    assert!(outbox::any_due(&t.db, T0 + 200_000).await.unwrap());
    t.cleanup().await;
}

#[tokio::test]
async fn idempotency_keys_round_trip() {
    let t = TestDb::new().await;
    let (aid, admin) = agency(&t.db, "maya@northwind.test").await;
    let s = idempotency::Stored {
        request_hash: "h1".into(),
        status: 201,
        body: "{\"id\":1}".into(),
    };
    idempotency::save(&t.db, &aid, &admin.id, "key-1", T0, &s)
        .await
        .unwrap();
    let got = idempotency::find(&t.db, &aid, &admin.id, "key-1", T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.request_hash.as_str(), got.status, got.body.as_str()),
        ("h1", 201, "{\"id\":1}")
    );
    assert!(idempotency::find(&t.db, &aid, "mem_other", "key-1", T0)
        .await
        .unwrap()
        .is_none());
    assert!(idempotency::find(
        &t.db,
        &aid,
        &admin.id,
        "key-1",
        T0 + idempotency::TTL_MS + 1
    )
    .await
    .unwrap()
    .is_none());
    t.cleanup().await;
}

/// A chain written before hash version 2 (its entries hashed without the
/// actor's label and user agent) still verifies, and goes on with version-2
/// entries after the upgrade.
#[tokio::test]
async fn audit_chains_from_before_hash_version_2_verify_and_continue() {
    use baton_core::audit::{chain_hash, StoredEntry};
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "old@northwind.test").await;
    // Re-seal the agency's entries as the previous release wrote them.
    let rows = sqlx::query(
        "SELECT agency_id, seq, recorded_at, actor_kind, actor_id, actor_label, action, entity_type, \
         entity_id, ip, user_agent, detail FROM audit_log WHERE agency_id = $1 ORDER BY seq",
    )
    .bind(aid.as_str())
    .fetch_all(t.db.reader())
    .await
    .unwrap();
    assert!(!rows.is_empty());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url)
        .await
        .unwrap();
    let mut prev = GENESIS.to_string();
    for r in &rows {
        let e = StoredEntry {
            hash_version: 1,
            agency_id: r.get("agency_id"),
            seq: r.get("seq"),
            recorded_at: r.get("recorded_at"),
            actor_kind: r.get("actor_kind"),
            actor_id: r.get("actor_id"),
            actor_label: r.get("actor_label"),
            action: r.get("action"),
            entity_type: r.get("entity_type"),
            entity_id: r.get("entity_id"),
            ip: r.get("ip"),
            user_agent: r.get("user_agent"),
            detail: r.get("detail"),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        let hash = chain_hash(&prev, &e.fields());
        sqlx::query(
            "UPDATE audit_log SET hash_version = 1, prev_hash = $3, hash = $4 WHERE agency_id = $1 AND seq = $2",
        )
        .bind(aid.as_str())
        .bind(e.seq)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut conn)
        .await
        .unwrap();
        prev = hash;
    }
    sqlx::query("UPDATE agencies SET audit_head = $2 WHERE id = $1")
        .bind(aid.as_str())
        .bind(&prev)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    assert!(audit::verify_all(&t.db).await.unwrap()[0].problem.is_none());
    // The upgraded server appends version-2 entries to the same chain.
    clients::create(
        Cx::new(&t.db, &aid, &actor(), T0),
        NewClient {
            name: "After the upgrade".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT hash_version FROM audit_log WHERE agency_id = $1 ORDER BY seq")
            .bind(aid.as_str())
            .fetch_all(t.db.reader())
            .await
            .unwrap();
    assert_eq!(versions.last(), Some(&2));
    assert_eq!(versions.iter().filter(|v| **v == 1).count(), rows.len());
    let report = &audit::verify_all(&t.db).await.unwrap()[0];
    assert!(report.problem.is_none(), "{:?}", report.problem);
    t.cleanup().await;
}

#[tokio::test]
async fn audit_tampering_is_detected() {
    let t = TestDb::new().await;
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    clients::create(
        Cx::new(&t.db, &aid, &actor(), T0),
        NewClient {
            name: "C".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let head: String = sqlx::query_scalar("SELECT audit_head FROM agencies WHERE id = $1")
        .bind(aid.as_str())
        .fetch_one(t.db.reader())
        .await
        .unwrap();
    assert_ne!(head, GENESIS);

    // Alter entry #2 through a separate read-write connection.
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET detail = '{}' WHERE agency_id = $1 AND seq = 2")
        .bind(aid.as_str())
        .execute(&mut conn)
        .await
        .unwrap();
    let reports = audit::verify_all(&t.db).await.unwrap();
    let problem = reports[0].problem.clone().expect("tampering found");
    assert!(problem.starts_with("entry #2 "), "{problem}");

    // Every stored column is covered: who it says acted, and from what.
    for (column, value) in [("actor_label", "Someone Else"), ("user_agent", "curl/8")] {
        sqlx::query(&format!(
            "UPDATE audit_log SET {column} = $2 WHERE agency_id = $1 AND seq = 1"
        ))
        .bind(aid.as_str())
        .bind(value)
        .execute(&mut conn)
        .await
        .unwrap();
        let problem = audit::verify_all(&t.db).await.unwrap()[0]
            .problem
            .clone()
            .expect("an edited column is found");
        assert!(problem.starts_with("entry #1 "), "{column}: {problem}");
    }

    // Removing the newest entry is caught by the head.
    sqlx::query("UPDATE audit_log SET detail = (SELECT detail FROM audit_log WHERE agency_id = $1 AND seq = 1) WHERE agency_id = $1 AND seq = 2")
        .bind(aid.as_str())
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE agency_id = $1 AND seq = 3")
        .bind(aid.as_str())
        .execute(&mut conn)
        .await
        .unwrap();
    let problem = audit::verify_all(&t.db).await.unwrap()[0]
        .problem
        .clone()
        .expect("still broken");
    assert!(problem.contains("entry #"), "{problem}");
    drop(conn);
    t.cleanup().await;
}

#[tokio::test]
async fn sqlite_backup_is_a_consistent_copy() {
    let t = TestDb::new().await;
    if t.db.backend() != baton_store::Backend::Sqlite {
        // Backup copies the embedded database only; PostgreSQL is refused.
        assert!(t.db.backup_to(&t.dir.join("x.db")).await.is_err());
        t.cleanup().await;
        return;
    }
    let (aid, _) = agency(&t.db, "maya@northwind.test").await;
    clients::create(
        Cx::new(&t.db, &aid, &actor(), T0),
        NewClient {
            name: "Backed up".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let dest = t.dir.join("backup.db");
    t.db.backup_to(&dest).await.unwrap();
    assert!(t.db.backup_to(&dest).await.is_err(), "refuses to overwrite");
    let copy = Db::open(&format!("sqlite://{}", dest.display()))
        .await
        .unwrap();
    let names: Vec<String> = clients::list(&copy, &aid, None, None, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["Backed up".to_string()]);
    assert!(audit::verify_all(&copy)
        .await
        .unwrap()
        .iter()
        .all(|r| r.problem.is_none()));
    copy.close().await;
    t.cleanup().await;
}

/// Throttle counters: hits in a window that opens with the first one,
/// concurrent hits never lost (one upsert each), a closed window restarts.
#[tokio::test]
async fn throttle_counters_count_every_concurrent_hit() {
    use baton_store::throttles;
    let t = TestDb::new().await;
    const W: i64 = 60_000;
    let mut hits = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let db = t.db.clone();
        hits.spawn(async move { throttles::hit(&db, "k", T0, W).await.unwrap().hits });
    }
    let mut seen = Vec::new();
    while let Some(h) = hits.join_next().await {
        seen.push(h.unwrap());
    }
    seen.sort();
    assert_eq!(
        seen,
        (1..=8).collect::<Vec<i64>>(),
        "each hit saw its own count"
    );
    let c = throttles::count(&t.db, "k", T0 + 10, W).await.unwrap();
    assert_eq!((c.hits, c.window_ends), (8, T0 + W));
    assert_eq!(
        throttles::count(&t.db, "other", T0, W).await.unwrap().hits,
        0
    );
    // The window closes: nothing counted, and the next hit starts anew.
    assert_eq!(
        throttles::count(&t.db, "k", T0 + W, W).await.unwrap().hits,
        0
    );
    let c = throttles::hit(&t.db, "k", T0 + W + 5, W).await.unwrap();
    assert_eq!((c.hits, c.window_ends), (1, T0 + 2 * W + 5));
    throttles::clear(&t.db, "k").await.unwrap();
    assert_eq!(
        throttles::count(&t.db, "k", T0 + W + 6, W)
            .await
            .unwrap()
            .hits,
        0
    );
    throttles::hit(&t.db, "old", T0, W).await.unwrap();
    assert_eq!(throttles::prune(&t.db, T0 + W, W).await.unwrap(), 1);
    t.cleanup().await;
}

/// A nullable DOUBLE PRECISION bound as NULL and then as a number through one
/// connection: on PostgreSQL, sqlx's `Any` layer would prepare the statement
/// for a `float4` NULL and refuse the `float8` number after it.
#[tokio::test]
async fn a_nullable_double_binds_null_then_a_number_on_one_connection() {
    use baton_store::db::NullableF64;
    use sqlx::Connection;
    let t = TestDb::new().await;
    let mut conn = sqlx::AnyConnection::connect(&t.url).await.unwrap();
    sqlx::Executor::execute(
        &mut conn,
        "CREATE TEMPORARY TABLE f (n BIGINT NOT NULL, x DOUBLE PRECISION)",
    )
    .await
    .unwrap();
    for (n, x) in [(1_i64, None), (2, Some(2.5)), (3, None), (4, Some(-1.0))] {
        sqlx::query("INSERT INTO f (n, x) VALUES ($1, $2)")
            .bind(n)
            .bind(NullableF64(x))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("row {n}: {e}"));
    }
    let xs: Vec<Option<f64>> = sqlx::query_scalar("SELECT x FROM f ORDER BY n")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(xs, vec![None, Some(2.5), None, Some(-1.0)]);
    conn.close().await.unwrap();
    t.cleanup().await;
}
