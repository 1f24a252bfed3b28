//! `baton demo`: an idempotent demo agency, "Northwind Social", with a
//! realistic team and clients at every lifecycle stage. Running it again keeps
//! the data, resets the demo admin's password and prints a fresh API token.

use baton_core::access::Mover;
use baton_core::clock::{Clock, SystemClock};
use baton_core::handoff::{self, HandoffBrief};
use baton_core::lifecycle::ClientEventType;
use baton_core::types::{AgencyId, ClientId, ContentId, EventId, MemberId};
use baton_server::auth::password;
use baton_store::access_requests::{self, Act, NewRequest};
use baton_store::agencies::{self, NewAgency};
use baton_store::clients::{self, NewClient};
use baton_store::members::{self, MemberInput};
use baton_store::sop_runs::{self, RunFilter};
use baton_store::tokens::{self, Scope};
use baton_store::{access_templates, handoff_briefs, onboarding_links, onboarding_settings};
use baton_store::{Actor, Cx, Db};

use super::demo_history;
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
    // The server's key: the demo's link tokens are derived from it, so
    // `baton serve` can put the link in reminders.
    let key = config.secret_key()?;
    let actor = Actor::cli();
    let hash = password::hash_async(DEMO_PASSWORD.to_string()).await;
    let admin = match members::find_by_email(db, DEMO_EMAIL).await? {
        Some(admin) => {
            members::set_password(
                Cx::new(db, &admin.agency_id, &actor, clock.now_ms()),
                &MemberId::parse(&admin.id)?,
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
            seed(db, &agency.id, &actor, &hash, &key).await?;
            println!("Demo agency {} created.", agency.name);
            admin
        }
    };
    let (_, token) = tokens::create(
        Cx::new(db, &admin.agency_id, &actor, clock.now_ms()),
        &admin,
        "Demo token",
        Scope::Admin,
    )
    .await?;
    let client_link = demo_client_link(db, &admin.agency_id, &actor, clock.now_ms(), &key).await?;
    println!();
    println!("  Open:      {}/login", config.public_url);
    println!("  Log in:    {DEMO_EMAIL} / {DEMO_PASSWORD}");
    println!("  API token: {token}");
    println!(
        "  Try:       curl -H 'Authorization: Bearer {token}' {}/api/v1/clients",
        config.public_url
    );
    if let Some(token) = client_link {
        println!(
            "  Client's onboarding link (Pixel Pet Supplies): {}/o/{token}",
            config.public_url
        );
    }
    println!();
    Ok(())
}

/// A fresh URL for the newest client's onboarding link, so the client's side
/// can be tried at once. Baton keeps only link hashes, so every run
/// regenerates the link (the previous URL stops working).
async fn demo_client_link(
    db: &Db,
    agency_id: &AgencyId,
    actor: &Actor,
    now: i64,
    key: &str,
) -> anyhow::Result<Option<String>> {
    let summaries = clients::summaries(db, agency_id, false).await?;
    let Some(pixel) = summaries
        .iter()
        .find(|s| s.client.name == "Pixel Pet Supplies")
    else {
        return Ok(None);
    };
    let links = onboarding_links::list_for_client(db, agency_id, &pixel.client.id).await?;
    let Some(link) = links.first() else {
        return Ok(None);
    };
    let (_, token) =
        onboarding_links::regenerate(Cx::new(db, agency_id, actor, now), &link.id, Some(30), key)
            .await?;
    Ok(Some(token))
}

async fn seed(
    db: &Db,
    agency_id: &AgencyId,
    actor: &Actor,
    hash: &str,
    key: &str,
) -> anyhow::Result<()> {
    let now = SystemClock.now_ms();
    let mut ids = Vec::new();
    for (name, email, roles) in TEAM {
        let m = members::create(
            Cx::new(db, agency_id, actor, now),
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
    seed_onboarding_settings(db, agency_id, actor, now).await?;
    let admin = members::find_by_email(db, DEMO_EMAIL)
        .await?
        .expect("demo admin")
        .id;
    // Clients in delivery, since when: their past weeks get a history.
    let mut in_delivery: Vec<(ClientId, i64)> = Vec::new();
    for (i, (name, website, events)) in CLIENTS.iter().enumerate() {
        let first_event = events.first().map(|e| e.1).unwrap_or(1);
        let created = now - (first_event + 1) * DAY;
        let c = clients::create(
            Cx::new(db, agency_id, actor, created),
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
        clients::set_team(Cx::new(db, agency_id, actor, created), &c.id, &seats, &pm).await?;
        let pm_member = members::get(db, agency_id, &pm).await?;
        let pm_actor = Actor {
            kind: "member".into(),
            id: pm_member.id,
            label: pm_member.name,
            ip: String::new(),
            user_agent: String::new(),
        };
        let mut starts = Vec::new();
        for (event, days_ago, note) in events.iter() {
            let at = now - days_ago * DAY;
            let e = clients::record_event(
                Cx::new(db, agency_id, actor, now),
                &c.id,
                *event,
                Some(at),
                Some(note),
            )
            .await?;
            if *event == ClientEventType::ContractSigned {
                seed_access(db, agency_id, actor, &c.id, at, now, key).await?;
            }
            // The SOPs the event triggers, started as the worker would have
            // a minute after it happened; the scheduler catches up on serve.
            let (agency, trigger) = (AgencyId::parse(agency_id)?, Actor::system("SOP trigger"));
            let cx = Cx::new(db, &agency, &trigger, at + MINUTE);
            sop_runs::start_for_event(cx, &EventId::parse(&e.id)?, false).await?;
            if *event == ClientEventType::ContractSigned {
                seed_handoff_brief(db, agency_id, name, &c.id, at, &pm_actor).await?;
            }
            starts.push((*event, at));
        }
        seed_sop_progress(db, agency_id, name, &c.id, &starts, &pm_actor).await?;
        let ended = starts
            .iter()
            .any(|(e, _)| *e == ClientEventType::ContractEnded);
        if let Some((_, at)) = starts
            .iter()
            .find(|(e, _)| *e == ClientEventType::OnboardingCompleted)
            .filter(|_| !ended)
        {
            in_delivery.push((c.id.clone(), *at));
        }
        if *name == "Bluebird Coffee Roasters" {
            seed_content(db, agency_id, &c.id, &pm_actor, &admin, now).await?;
        }
    }
    let member_actor = |m: &baton_store::members::Member| Actor {
        kind: "member".into(),
        id: m.id.clone(),
        label: m.name.clone(),
        ip: String::new(),
        user_agent: String::new(),
    };
    let pm = member_actor(&members::get(db, agency_id, &pick("project_manager")).await?);
    let approver = member_actor(&members::get(db, agency_id, &admin).await?);
    let cast = demo_history::Cast {
        pm: &pm,
        approver: &approver,
        approver_id: &admin,
        analyst_id: &pick("analyst"),
        creative_lead_id: &pick("creative_lead"),
    };
    demo_history::seed(db, agency_id, &in_delivery, &cast, now).await?;
    Ok(())
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// A handoff brief; `complete: false` leaves constraints, the first 30 days
/// and the promises out, as a brief still being written.
fn demo_brief(complete: bool) -> HandoffBrief {
    let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    HandoffBrief {
        scope: handoff::Scope {
            channels: lines(&["instagram", "tiktok", "meta_ads"]),
            deliverables: vec![
                handoff::Deliverable {
                    item: "Feed posts".into(),
                    per_month: 12,
                },
                handoff::Deliverable {
                    item: "Short videos".into(),
                    per_month: 8,
                },
                handoff::Deliverable {
                    item: "Performance report".into(),
                    per_month: 4,
                },
            ],
            notes: "Community management on weekdays, 09:00–17:00.".into(),
        },
        goals: lines(&[
            "Grow Instagram followers 15% in 6 months",
            "Paid social CPA under £25",
        ]),
        constraints: if complete {
            lines(&[
                "No claims about health benefits (legal review)",
                "Monthly ad budget £4,000",
            ])
        } else {
            vec![]
        },
        first_30_days: if complete {
            lines(&[
                "Week 1: verified access to every platform",
                "Week 2: content pillars and first brief approved",
                "Week 4: first posts live, first weekly scorecard",
            ])
        } else {
            vec![]
        },
        stakeholders: vec![
            handoff::Stakeholder {
                name: "Jess Moreno".into(),
                role: "Head of Marketing".into(),
                email: Some("jess@client.example".into()),
                approves: true,
            },
            handoff::Stakeholder {
                name: "Omar Reyes".into(),
                role: "Founder".into(),
                email: None,
                approves: false,
            },
        ],
        promises: if complete {
            lines(&["Stories every weekday during launch month"])
        } else {
            vec![]
        },
        no_promises: false,
    }
}

/// The client's handoff brief, saved some hours after the contract was
/// signed. Runs follow the work: a complete brief is the handoff's
/// definition of done, so its run is done at that moment (most on time,
/// Oak & Iron's late); the brand-new client's brief is half written (its
/// handoff breaches once the scheduler catches up).
async fn seed_handoff_brief(
    db: &Db,
    agency_id: &AgencyId,
    name: &str,
    client_id: &ClientId,
    signed: i64,
    pm: &Actor,
) -> anyhow::Result<()> {
    // (brief complete?, hours after signing the brief is saved)
    let plan: Option<(bool, i64)> = match name {
        "Bluebird Coffee Roasters" => Some((true, 18)),
        "Harbor Fitness" => Some((true, 22)),
        "Oak & Iron Furniture" => Some((true, 30)),
        "Cedar Dental Group" => Some((true, 12)),
        "Pixel Pet Supplies" => Some((false, 3)),
        _ => None,
    };
    if let Some((complete, brief_h)) = plan {
        handoff_briefs::save(
            Cx::new(db, agency_id, pm, signed + brief_h * HOUR),
            client_id,
            demo_brief(complete),
        )
        .await?;
    }
    Ok(())
}

/// Moves the rest of the demo's SOP runs through a realistic history: one
/// client's access setup paused while it waits on the client. Access
/// setups whose access was already verified completed when they started.
async fn seed_sop_progress(
    db: &Db,
    agency_id: &str,
    name: &str,
    client_id: &str,
    starts: &[(ClientEventType, i64)],
    pm: &Actor,
) -> anyhow::Result<()> {
    let started =
        |event: ClientEventType| starts.iter().find(|(e, _)| *e == event).map(|(_, at)| *at);
    let runs = sop_runs::list(
        db,
        agency_id,
        &RunFilter {
            client_id: Some(client_id.to_string()),
            ..RunFilter::default()
        },
        None,
        Some(50),
    )
    .await?
    .items;
    let run_of = |key: &str| runs.iter().find(|r| r.sop_key == key).cloned();
    if let (Some(run), Some(kickoff)) = (
        run_of("access_setup"),
        started(ClientEventType::KickoffScheduled),
    ) {
        if run.is_open() && name == "Harbor Fitness" {
            let agency = AgencyId::parse(agency_id)?;
            sop_runs::pause(
                Cx::new(db, &agency, pm, kickoff + 20 * HOUR),
                &run.id,
                "Waiting on the client's Meta Business Manager admin to accept the partner request",
            )
            .await?;
        }
    }
    Ok(())
}

/// The agency's platform values, a standard template and a questionnaire.
async fn seed_onboarding_settings(
    db: &Db,
    agency_id: &AgencyId,
    actor: &Actor,
    now: i64,
) -> anyhow::Result<()> {
    let mut settings = onboarding_settings::get(db, agency_id).await?;
    for (k, v) in [
        ("meta_business_id", "1029384756"),
        ("google_ads_manager_id", "123-456-7890"),
        ("agency_email", "access@northwind.example"),
        ("tiktok_business_center_id", "7012345678901234567"),
    ] {
        settings.platform_values.insert(k.into(), v.into());
    }
    settings.welcome = "Welcome to Northwind! These steps give us the access we need to start. \
        Most take two minutes; we never need your passwords."
        .into();
    onboarding_settings::put(Cx::new(db, agency_id, actor, now), settings).await?;
    let (name, requests) = access_templates::standard_social_retainer();
    access_templates::save(Cx::new(db, agency_id, actor, now), None, &name, requests).await?;
    Ok(())
}

/// One onboarding link per signed client, moved the way real onboarding
/// goes: long-signed clients fully verified; the newest one part-way, with
/// a request waiting on the team, one failed and one where the client is stuck.
async fn seed_access(
    db: &Db,
    agency_id: &AgencyId,
    actor: &Actor,
    client_id: &ClientId,
    signed_at: i64,
    now: i64,
    key: &str,
) -> anyhow::Result<()> {
    let req = |platform: &str, permission: &str, asset: Option<&str>| NewRequest {
        platform: platform.into(),
        permission: permission.into(),
        asset: asset.map(String::from),
        required: true,
    };
    let requests = vec![
        req("meta_page", "full_control", None),
        req("instagram", "content", None),
        req("meta_ad_account", "manage_campaigns", None),
        req("ga4", "analyst", None),
    ];
    let link_at = signed_at + 3 * 3600 * 1000;
    let created = onboarding_links::create(
        Cx::new(db, agency_id, actor, link_at),
        client_id,
        requests,
        Some(90),
        None,
        key,
    )
    .await?;
    let onboarded = (now - signed_at) / DAY > 10;
    for (i, r) in created.requests.iter().enumerate() {
        for (hours, act) in demo_moves(i, onboarded) {
            let at = link_at + hours * HOUR;
            access_requests::act(Cx::new(db, agency_id, actor, at), &r.id, act).await?;
        }
    }
    Ok(())
}

/// The moves of the demo's request number `i`, in hours after its link:
/// an onboarded client granted within a day or two and verified the next
/// morning; the newest client with one request verified, one waiting on the
/// team, one failed and one where the client is stuck.
fn demo_moves(i: usize, onboarded: bool) -> Vec<(i64, Act)> {
    let grant = Act::Grant {
        mover: Mover::Client,
    };
    let verify = |note: &str| Act::Verify {
        mover: Mover::Member,
        note: note.into(),
    };
    if onboarded {
        let granted = 20 + 9 * i as i64;
        return vec![
            (granted, grant),
            (
                granted + 14,
                verify("Logged in as the agency; asset listed with the requested level; drafted a test post."),
            ),
        ];
    }
    match i {
        0 => vec![
            (5, grant),
            (20, verify("Page visible in Business Settings with full control.")),
        ],
        1 => vec![(26, grant)],
        2 => vec![
            (8, grant),
            (
                22,
                Act::Fail {
                    mover: Mover::Member,
                    reason: "The ad account was shared with a person, not with our Business Manager as a partner.".into(),
                },
            ),
        ],
        _ => vec![(
            30,
            Act::Stuck {
                message: "I don't see Admin in GA4, only Property settings. Who can help?".into(),
            },
        )],
    }
}

/// Three content items for the demo's active client: one scheduled next
/// week (approved after a round of changes, QA done), one waiting on the
/// approver, one in production.
async fn seed_content(
    db: &Db,
    agency_id: &str,
    client_id: &str,
    pm: &Actor,
    approver_id: &str,
    now: i64,
) -> anyhow::Result<()> {
    use baton_core::content::ContentBrief;
    use baton_store::content::{self, NewItem, Speaker};
    let approver = members::get(db, agency_id, approver_id).await?;
    let approver_actor = Actor {
        kind: "member".into(),
        id: approver.id.clone(),
        label: approver.name.clone(),
        ip: String::new(),
        user_agent: String::new(),
    };
    let as_approver = Speaker::Member {
        id: approver.id.clone(),
        name: approver.name.clone(),
    };
    let brief = ContentBrief {
        audience: "Coffee lovers 25–45 in the city".into(),
        angle: "Behind the roast: from green bean to your cup".into(),
        offer: "10% off the winter blend with code ROAST10".into(),
        constraints: "No health claims; show the logo in the first 3 seconds".into(),
        examples: "Last year's harvest reel".into(),
    };
    let items = [
        ("Winter blend reel", "instagram", "reel", 3),
        ("Roastery tour carousel", "instagram", "carousel", 2),
        ("Barista tips short", "tiktok", "video", 1),
    ];
    for (i, (title, channel, format, stage)) in items.into_iter().enumerate() {
        let t0 = now - (10 - i as i64) * DAY;
        let new = NewItem {
            title: title.into(),
            channel: channel.into(),
            format: format.into(),
            campaign: "Winter 2026".into(),
            brief: brief.clone(),
            caption: format!(
                "{title}: roasted this week, around the corner.\n\
                 10% off the winter blend with code ROAST10. #coffee #winterblend"
            ),
            planned_on: Some(planned_day(db, agency_id, now + (5 + i as i64) * DAY).await?),
        };
        let item = first_draft(db, agency_id, client_id, pm, &approver.id, t0, new).await?;
        if stage < 2 {
            continue;
        }
        let agency = AgencyId::parse(agency_id)?;
        content::submit(Cx::new(db, &agency, pm, t0 + 3 * HOUR), &item).await?;
        if stage < 3 {
            continue;
        }
        let approver = (&approver_actor, &as_approver);
        approve_after_changes(db, agency_id, pm, approver, t0, &item).await?;
        schedule_after_qa(db, agency_id, pm, t0, &item, now + 5 * DAY).await?;
    }
    Ok(())
}

/// The agency-time day of `ms`, `YYYY-MM-DD`.
async fn planned_day(db: &Db, agency_id: &str, ms: i64) -> anyhow::Result<String> {
    let tz = baton_store::calendars::zone(db, agency_id).await?;
    Ok(jiff::Timestamp::from_millisecond(ms)?
        .to_zoned(tz)
        .date()
        .to_string())
}

/// A demo item created with its approver and a first draft (a link).
async fn first_draft(
    db: &Db,
    agency_id: &str,
    client_id: &str,
    pm: &Actor,
    approver_id: &str,
    t0: i64,
    new: baton_store::content::NewItem,
) -> anyhow::Result<ContentId> {
    use baton_store::content::{self, NewVersion, Participants, VersionText};
    let agency = AgencyId::parse(agency_id)?;
    let cx = Cx::new(db, &agency, pm, t0);
    let item = content::create(cx, &ClientId::parse(client_id)?, new).await?;
    let participants = Participants {
        reviewers: vec![],
        approvers: vec![approver_id.to_string()],
        mode: None,
        by_admin: false,
    };
    content::set_participants(cx, &item.id, &participants).await?;
    let url = format!("https://drive.example.com/bluebird/{}-v1.mp4", item.id);
    let link = NewVersion::Link { url };
    content::add_version(cx.at(t0 + 2 * HOUR), &item.id, link, VersionText::default()).await?;
    Ok(item.id)
}

/// The approver asks for a minor change; the next draft is submitted and
/// approved.
async fn approve_after_changes(
    db: &Db,
    agency_id: &str,
    pm: &Actor,
    (approver, as_approver): (&Actor, &baton_store::content::Speaker),
    t0: i64,
    item: &ContentId,
) -> anyhow::Result<()> {
    use baton_core::content::{Decision, RevisionSize};
    use baton_store::content::{self, NewDecision, NewVersion, VersionText};
    let changes = NewDecision {
        who: as_approver.clone(),
        decision: Decision::RequestChanges,
        comment: Some("Logo appears too late; move it into the first 3 seconds".into()),
        revision: Some(RevisionSize::Minor),
    };
    let agency = AgencyId::parse(agency_id)?;
    let by_pm = Cx::new(db, &agency, pm, t0);
    let by_approver = Cx::new(db, &agency, approver, t0);
    content::decide(by_approver.at(t0 + 5 * HOUR), item, &changes).await?;
    let url = format!("https://drive.example.com/bluebird/{item}-v2.mp4");
    let text = VersionText {
        note: Some("Logo moved up".into()),
        caption: None,
    };
    let link = NewVersion::Link { url };
    content::add_version(by_pm.at(t0 + 26 * HOUR), item, link, text).await?;
    content::submit(by_pm.at(t0 + 27 * HOUR), item).await?;
    let approve = NewDecision {
        who: as_approver.clone(),
        decision: Decision::Approve,
        comment: None,
        revision: None,
    };
    content::decide(by_approver.at(t0 + 29 * HOUR), item, &approve).await?;
    Ok(())
}

/// Every QA item ticked, then scheduled for `publish_at`.
async fn schedule_after_qa(
    db: &Db,
    agency_id: &str,
    pm: &Actor,
    t0: i64,
    item: &ContentId,
    publish_at: i64,
) -> anyhow::Result<()> {
    use baton_store::content;
    let qa = content::get(db, agency_id, item).await?.qa;
    let all = qa.items.iter().map(|q| (q.key.clone(), true)).collect();
    let agency = AgencyId::parse(agency_id)?;
    let cx = Cx::new(db, &agency, pm, t0);
    content::set_qa(cx.at(t0 + 30 * HOUR), item, &all).await?;
    content::schedule(cx.at(t0 + 31 * HOUR), item, publish_at, None).await?;
    Ok(())
}
