//! Thirteen weeks of the demo agency's past, so every KPI chart and the
//! weekly scorecard show something real after `baton demo`: content for the
//! clients in delivery (planned, briefed, drafted, reviewed — some with
//! changes, one with a major rework — and published, a few late), a few
//! incidents, a manual measurable the analyst enters, and each past week's
//! scorecard shipped with three insights and three actions (most of them
//! done), and the cadences' meetings of those weeks, most held with their
//! artifact and decisions. Everything goes through the store's commands at back-dated
//! times, as if it had happened then.

use baton_core::content::{ContentAction, ContentBrief, Decision, RevisionSize};
use baton_core::incidents::{Severity, Source as IncidentSource};
use baton_core::scorecard::{Comparator, Goal, IsoWeek, Source};
use baton_core::types::{AgencyId, ClientId, MemberId};
use baton_store::content::{
    self, NewDecision, NewItem, NewVersion, Participants, Speaker, VersionText,
};
use baton_store::incidents::{self, NewIncident};
use baton_store::scorecards::{self, NewAction, NewMeasurable, Scope, Ship};
use baton_store::{Actor, Cx, Db};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// Weeks of history before this one.
const WEEKS: i64 = 13;

/// Who does what in the history.
pub struct Cast<'a> {
    pub pm: &'a Actor,
    pub approver: &'a Actor,
    pub approver_id: &'a str,
    pub analyst_id: &'a str,
    pub creative_lead_id: &'a str,
}

/// Seeds the past weeks for `clients` (in delivery since the day given).
pub async fn seed(
    db: &Db,
    agency: &AgencyId,
    clients: &[(ClientId, i64)],
    cast: &Cast<'_>,
    now: i64,
) -> anyhow::Result<()> {
    let tz = baton_store::calendars::zone(db, agency.as_str()).await?;
    let this_week = IsoWeek::containing(now, &tz);
    let mut week = this_week;
    for _ in 0..WEEKS {
        week = week.prev();
    }
    let first = week.bounds(&tz).0;
    let manual = manual_measurable(db, agency, cast, first).await?;
    let mut n = 0usize;
    while week < this_week {
        let (monday, _) = week.bounds(&tz);
        for (client, since) in clients {
            if monday < *since {
                continue;
            }
            for slot in 0..2 {
                item(db, agency, client, cast, monday, n, slot, &tz).await?;
                n += 1;
            }
        }
        if n % 5 == 3 {
            incident(db, agency, clients, cast, monday + 2 * DAY + 11 * HOUR, n).await?;
        }
        let at = monday + 4 * DAY + 15 * HOUR;
        let value = 4.0 + ((n % 7) as f64) / 10.0;
        let cx = Cx::new(db, agency, cast.pm, at);
        scorecards::enter_value(cx, &manual, week, value).await?;
        ship(db, agency, cast, week, monday + 7 * DAY + 10 * HOUR, n, now).await?;
        week = week.next();
    }
    meetings(db, agency, cast, first, now).await?;
    Ok(())
}

/// The cadences' past meetings since `since`: most held with their artifact
/// an hour after they started (some with a decision), every seventh left
/// without it, so adherence reads like a real agency's.
async fn meetings(
    db: &Db,
    agency: &AgencyId,
    cast: &Cast<'_>,
    since: i64,
    now: i64,
) -> anyhow::Result<()> {
    use baton_store::cadences::{self, artifacts, occurrences};
    let tz = baton_store::calendars::zone(db, agency.as_str()).await?;
    let (first, today) = (cadences::day_of(since, &tz), cadences::day_of(now, &tz));
    let cx = Cx::new(db, agency, cast.pm, now);
    cadences::clock::count_from(cx, first).await?;
    let past = occurrences::list(
        db,
        agency.as_str(),
        (first, today.yesterday()?),
        now,
        &occurrences::Filter::default(),
    )
    .await?;
    let pm = MemberId::parse(&cast.pm.id)?;
    for (i, o) in past.iter().enumerate() {
        if o.held || i % 7 == 3 {
            continue;
        }
        let notes = match o.artifact_kind {
            baton_core::cadence::ArtifactKind::AccountMemo => format!(
                "Outcomes: the month's posts went out on plan.\n\nRisks: approvals slowed when the brand lead travelled.\n\nNext bets: one UGC-style reel a week for {}.",
                o.client_name.as_deref().unwrap_or("the client")
            ),
            _ => "Confirmed with the team; see the decisions.".into(),
        };
        let decisions = if i % 3 == 0 {
            vec![cadences::decisions::NewDecision {
                text: "Book the next shoot before the calendar is confirmed".into(),
                owner: pm.clone(),
                due_on: Some((o.date.saturating_add(jiff::Span::new().days(4))).to_string()),
            }]
        } else {
            Vec::new()
        };
        let attach = artifacts::Attach {
            notes: Some(notes),
            decisions,
            ..artifacts::Attach::default()
        };
        if let Err(e) = artifacts::attach(cx.at(o.starts_at + HOUR), &o.id, attach).await {
            // A weekly review whose scorecard was not shipped stays missing.
            tracing::debug!(meeting = %o.id, error = %e, "demo meeting left without artifact");
        }
    }
    Ok(())
}

/// The analyst's client-satisfaction score, entered every week.
async fn manual_measurable(
    db: &Db,
    agency: &AgencyId,
    cast: &Cast<'_>,
    at: i64,
) -> anyhow::Result<baton_core::types::MeasurableId> {
    let cx = Cx::new(db, agency, cast.pm, at);
    scorecards::ensure_defaults(cx).await?;
    let m = scorecards::create_measurable(
        cx,
        NewMeasurable {
            name: "Client satisfaction (weekly pulse)".into(),
            owner: Some(MemberId::parse(cast.analyst_id)?),
            unit: Some("score".into()),
            goal: Goal::new(Comparator::Ge, 4.5, None)?,
            source: Source::Manual,
        },
    )
    .await?;
    Ok(m.id)
}

/// One content item of week `monday`: planned for Thursday or Friday,
/// brief approved on Monday, drafted on Tuesday, reviewed, published.
#[allow(clippy::too_many_arguments)]
async fn item(
    db: &Db,
    agency: &AgencyId,
    client: &ClientId,
    cast: &Cast<'_>,
    monday: i64,
    n: usize,
    slot: i64,
    tz: &jiff::tz::TimeZone,
) -> anyhow::Result<()> {
    let day = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(tz.clone()).date().to_string())
            .unwrap_or_default()
    };
    let t0 = monday + 9 * HOUR + slot * 2 * HOUR;
    let planned = monday + (3 + slot) * DAY;
    let formats = ["reel", "carousel", "story", "video"];
    let cx = Cx::new(db, agency, cast.pm, t0);
    let created = content::create(
        cx,
        client,
        NewItem {
            title: format!("Week {} {} #{}", n / 2 + 1, formats[n % 4], slot + 1),
            channel: if n.is_multiple_of(3) {
                "tiktok"
            } else {
                "instagram"
            }
            .into(),
            format: formats[n % 4].into(),
            campaign: "Always-on".into(),
            brief: ContentBrief {
                audience: "Existing followers and look-alikes".into(),
                angle: "Show the team behind the product".into(),
                offer: "Book or visit this week".into(),
                constraints: "Brand colours; no claims".into(),
                examples: "Last quarter's best performer".into(),
            },
            caption: "Behind the scenes this week. #behindthescenes".into(),
            planned_on: Some(day(planned)),
        },
    )
    .await?;
    let id = created.id;
    let participants = Participants {
        reviewers: vec![cast.creative_lead_id.to_string()],
        approvers: vec![cast.approver_id.to_string()],
        mode: None,
        by_admin: false,
    };
    content::set_participants(cx, &id, &participants).await?;
    content::act(cx.at(t0 + HOUR), &id, ContentAction::ApproveBrief).await?;
    let version = |v: i64| NewVersion::Link {
        url: format!("https://drive.example.com/demo/{id}-v{v}.mp4"),
    };
    content::add_version(cx.at(t0 + DAY), &id, version(1), VersionText::default()).await?;
    content::submit(cx.at(t0 + DAY + HOUR), &id).await?;
    let approver = Cx::new(db, agency, cast.approver, t0);
    let who = Speaker::Member {
        id: cast.approver.id.clone(),
        name: cast.approver.label.clone(),
    };
    let decision = |d: Decision, size: Option<RevisionSize>| NewDecision {
        who: who.clone(),
        decision: d,
        comment: size.map(|_| "Tighten the hook and show the offer earlier".into()),
        revision: size,
    };
    let mut approved_at = t0 + DAY + 5 * HOUR;
    // Every third item needs changes, every seventh a major rework.
    if n % 3 == 1 {
        let size = if n % 7 == 1 {
            RevisionSize::Major
        } else {
            RevisionSize::Minor
        };
        content::decide(
            approver.at(t0 + DAY + 4 * HOUR),
            &id,
            &decision(Decision::RequestChanges, Some(size)),
        )
        .await?;
        content::add_version(cx.at(t0 + 2 * DAY), &id, version(2), VersionText::default()).await?;
        content::submit(cx.at(t0 + 2 * DAY + HOUR), &id).await?;
        approved_at = t0 + 2 * DAY + 3 * HOUR;
    }
    content::decide(
        approver.at(approved_at),
        &id,
        &decision(Decision::Approve, None),
    )
    .await?;
    // Every fifth item slips a day past its plan.
    let publish_at = planned + 10 * HOUR + if n % 5 == 4 { DAY } else { 0 };
    let qa = content::get(db, agency.as_str(), &id).await?.qa;
    let all = qa.items.iter().map(|q| (q.key.clone(), true)).collect();
    content::set_qa(cx.at(approved_at + HOUR), &id, &all).await?;
    content::schedule(cx.at(approved_at + 2 * HOUR), &id, publish_at, None).await?;
    content::act(cx.at(publish_at), &id, ContentAction::Publish).await?;
    Ok(())
}

async fn incident(
    db: &Db,
    agency: &AgencyId,
    clients: &[(ClientId, i64)],
    cast: &Cast<'_>,
    at: i64,
    n: usize,
) -> anyhow::Result<()> {
    let Some((client, _)) = clients.get(n % clients.len().max(1)) else {
        return Ok(());
    };
    let (title, source) = if n.is_multiple_of(2) {
        (
            "Post went out with last week's price",
            IncidentSource::PublishingError,
        )
    } else {
        (
            "Angry review thread picked up by a local blog",
            IncidentSource::BrandRisk,
        )
    };
    incidents::report(
        Cx::new(db, agency, cast.pm, at),
        NewIncident {
            title: title.into(),
            severity: Severity::Sev3,
            source,
            client_id: Some(client.clone()),
            content_id: None,
            summary: Some("Spotted by the community manager.".into()),
            occurred_at: None,
            reported_at: None,
        },
    )
    .await?;
    Ok(())
}

/// Week `week` shipped on the next Monday: three insights, three actions
/// (due that Friday; the older ones done).
async fn ship(
    db: &Db,
    agency: &AgencyId,
    cast: &Cast<'_>,
    week: IsoWeek,
    at: i64,
    n: usize,
    now: i64,
) -> anyhow::Result<()> {
    let tz = baton_store::calendars::zone(db, agency.as_str()).await?;
    let due = |days: i64| {
        jiff::Timestamp::from_millisecond(at + days * DAY)
            .map(|t| t.to_zoned(tz.clone()).date().to_string())
            .unwrap_or_default()
    };
    let owners = [cast.analyst_id, cast.pm.id.as_str(), cast.creative_lead_id];
    let texts = [
        "Move the Tuesday draft review to Monday afternoon",
        "Ask the client for next month's offers by Wednesday",
        "Try a carousel instead of a reel for the recap post",
    ];
    let actions = texts
        .iter()
        .zip(owners)
        .map(|(t, o)| {
            Ok(NewAction {
                text: (*t).into(),
                owner: MemberId::parse(o)?,
                due_on: due(4),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cx = Cx::new(db, agency, cast.pm, at.min(now));
    let shipped = scorecards::ship(
        cx,
        Ship {
            week,
            scope: Scope::Agency,
            insights: vec![
                format!("Week {week}: reels kept the best reach; carousels saved the most."),
                "Drafts approved in the first round when the brief named the offer.".into(),
                "Late posts all waited on client feedback, not on production.".into(),
            ],
            actions,
        },
    )
    .await?;
    // Actions of weeks long past are done; the newest ones still open.
    for (i, a) in shipped.actions.iter().enumerate() {
        let done_at = at + (2 + i as i64) * DAY;
        if done_at < now - 3 * DAY && !(n + i).is_multiple_of(4) {
            scorecards::action_done(cx.at(done_at), &a.id, true).await?;
        }
    }
    Ok(())
}
