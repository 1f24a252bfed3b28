//! `baton demo`: an idempotent demo agency, "Northwind Social", with a
//! realistic team and clients at every lifecycle stage. Running it again keeps
//! the data, resets the demo admin's password and prints a fresh API token.

use baton_core::clock::{Clock, SystemClock};
use baton_core::lifecycle::ClientEventType;
use baton_server::auth::password;
use baton_store::agencies::{self, NewAgency};
use baton_store::clients::{self, NewClient};
use baton_store::members::{self, MemberInput};
use baton_store::tokens::{self, Scope};
use baton_store::{Actor, Db};

use crate::config::Config;

pub const DEMO_EMAIL: &str = "maya@northwind.example";
pub const DEMO_PASSWORD: &str = "northwind-demo";
const DAY: i64 = 24 * 3600 * 1000;

const TEAM: &[(&str, &str, &[&str])] = &[
    ("Leo Martins", "leo@northwind.example", &["project_manager"]),
    ("Aisha Khan", "aisha@northwind.example", &["strategist"]),
    ("Tom Becker", "tom@northwind.example", &["creative_lead"]),
    ("Sofia Rossi", "sofia@northwind.example", &["copywriter"]),
    ("Ken Ito", "ken@northwind.example", &["designer"]),
    (
        "Nora Lind",
        "nora@northwind.example",
        &["community_manager"],
    ),
    ("Diego Alvarez", "diego@northwind.example", &["paid_social"]),
    ("Hana Kim", "hana@northwind.example", &["analyst"]),
    (
        "Sam Reed",
        "sam@northwind.example",
        &["ops", "project_manager"],
    ),
];

/// (name, website, events as (type, days ago, note)).
type DemoClient = (
    &'static str,
    &'static str,
    &'static [(ClientEventType, i64, &'static str)],
);

const CLIENTS: &[DemoClient] = &[
    (
        "Bluebird Coffee Roasters",
        "https://bluebird.example",
        &[
            (
                ClientEventType::ContractSigned,
                62,
                "12-month retainer: Instagram, TikTok, paid social.",
            ),
            (
                ClientEventType::KickoffScheduled,
                60,
                "Kickoff with Jess (marketing) and Omar (founder).",
            ),
            (
                ClientEventType::OnboardingCompleted,
                55,
                "All platform access verified.",
            ),
            (
                ClientEventType::Note,
                20,
                "Decision: move weekly report to Mondays 10:00.",
            ),
        ],
    ),
    (
        "Harbor Fitness",
        "https://harborfitness.example",
        &[
            (
                ClientEventType::ContractSigned,
                6,
                "3-month pilot, organic + community management.",
            ),
            (
                ClientEventType::KickoffScheduled,
                4,
                "Kickoff Thursday; waiting on Meta Business Manager access.",
            ),
        ],
    ),
    ("Lumen Skincare", "https://lumen.example", &[]),
    (
        "Oak & Iron Furniture",
        "https://oakandiron.example",
        &[
            (
                ClientEventType::ContractSigned,
                400,
                "Annual contract, Pinterest + Instagram.",
            ),
            (
                ClientEventType::OnboardingCompleted,
                390,
                "Access verified.",
            ),
            (
                ClientEventType::ContractEnded,
                3,
                "Not renewing; moving social in-house. Revoke all access.",
            ),
        ],
    ),
    (
        "Cedar Dental Group",
        "https://cedardental.example",
        &[
            (
                ClientEventType::ContractSigned,
                120,
                "Local awareness across 4 clinics; Google Business Profile.",
            ),
            (
                ClientEventType::OnboardingCompleted,
                110,
                "Verified access to GBP, Meta Page, Instagram.",
            ),
        ],
    ),
    (
        "Pixel Pet Supplies",
        "https://pixelpet.example",
        &[(
            ClientEventType::ContractSigned,
            2,
            "Paid social launch for spring catalogue.",
        )],
    ),
];

pub async fn run(config: &Config, db: &Db) -> anyhow::Result<()> {
    let clock = SystemClock;
    let actor = Actor::cli();
    let hash = password::hash_async(DEMO_PASSWORD.to_string()).await;
    let admin = match members::find_by_email(db, DEMO_EMAIL).await? {
        Some(admin) => {
            members::set_password(
                db,
                &admin.agency_id,
                &actor,
                clock.now_ms(),
                &admin.id,
                &hash,
                None,
            )
            .await?;
            println!("Demo agency already present; its data is kept and the demo password reset.");
            admin
        }
        None => {
            let (agency, admin) = agencies::create(
                db,
                &actor,
                clock.now_ms(),
                NewAgency {
                    name: "Northwind Social".into(),
                    timezone: Some("Europe/London".into()),
                    admin_email: DEMO_EMAIL.into(),
                    admin_name: "Maya Patel".into(),
                    admin_password_hash: hash.clone(),
                },
            )
            .await?;
            seed(db, &agency.id, &actor, &hash).await?;
            println!("Demo agency {} created.", agency.name);
            admin
        }
    };
    let (_, token) = tokens::create(
        db,
        &admin,
        &actor,
        clock.now_ms(),
        "Demo token",
        Scope::Admin,
    )
    .await?;
    println!();
    println!("  Open:      {}/login", config.public_url);
    println!("  Log in:    {DEMO_EMAIL} / {DEMO_PASSWORD}");
    println!("  API token: {token}");
    println!(
        "  Try:       curl -H 'Authorization: Bearer {token}' {}/api/v1/clients",
        config.public_url
    );
    println!();
    Ok(())
}

async fn seed(db: &Db, agency_id: &str, actor: &Actor, hash: &str) -> anyhow::Result<()> {
    let now = SystemClock.now_ms();
    let mut ids = Vec::new();
    for (name, email, roles) in TEAM {
        let m = members::create(
            db,
            agency_id,
            actor,
            now,
            MemberInput {
                email: (*email).into(),
                name: (*name).into(),
                roles: roles.iter().map(|r| r.to_string()).collect(),
                is_admin: false,
                password_hash: Some(hash.to_string()),
            },
        )
        .await?;
        ids.push((roles[0], m.id));
    }
    let pick = |role: &str| {
        ids.iter()
            .find(|(r, _)| *r == role)
            .map(|(_, id)| id.clone())
            .expect("demo role")
    };
    let admin = members::find_by_email(db, DEMO_EMAIL)
        .await?
        .expect("demo admin")
        .id;
    for (i, (name, website, events)) in CLIENTS.iter().enumerate() {
        let first_event = events.first().map(|e| e.1).unwrap_or(1);
        let created = now - (first_event + 1) * DAY;
        let c = clients::create(
            db,
            agency_id,
            actor,
            created,
            NewClient {
                name: (*name).into(),
                website: Some((*website).into()),
                notes: None,
                traffic_control_member_id: None,
            },
        )
        .await?;
        let pm = if i % 2 == 0 {
            pick("project_manager")
        } else {
            ids.last().expect("ops").1.clone()
        };
        let seats = vec![
            ("account_lead".to_string(), admin.clone()),
            ("project_manager".to_string(), pm.clone()),
            ("strategist".to_string(), pick("strategist")),
            ("creative_lead".to_string(), pick("creative_lead")),
            ("analyst".to_string(), pick("analyst")),
        ];
        clients::set_team(db, agency_id, actor, created, &c.id, &seats, &pm).await?;
        for (event, days_ago, note) in events.iter() {
            let at = now - days_ago * DAY;
            clients::record_event(
                db,
                agency_id,
                actor,
                now,
                &c.id,
                *event,
                Some(at),
                Some(note),
            )
            .await?;
        }
    }
    Ok(())
}
