//! The scorecard's clock, run by the SLA scheduler: `week_ended` at the end
//! of the agency's last business day of each week (it starts every active
//! client's `weekly_performance` run about that week, and reminds the owners
//! of manual measurables without the week's value), and one notice when an
//! agreed action becomes overdue. Each change is claimed inside its
//! transaction and written only while the scheduler's lease holds, so
//! several servers never record one twice. A server that was down records
//! only the newest ended week, not every week it missed.

use baton_core::events;
use baton_core::scorecard::{week_end_at, IsoWeek};
use baton_core::types::{ActionId, AgencyId};
use serde_json::json;
use sqlx::Row;

use super::actions::action_on;
use crate::cx::Cx;
use crate::db::Db;
use crate::error::Result;
use crate::leases::Fence;
use crate::sop_runs::{send_notices, NoticeAbout, NoticeText};
use crate::write::{NewEvent, Record, WriteTx};

/// What the scorecard clock has due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// The agency's week ended (or its next end is to be computed).
    WeekEnded,
    /// An agreed action became overdue.
    ActionOverdue(ActionId),
}

/// Agencies whose week ended (or whose next end is unknown), then overdue
/// actions, each with its agency.
pub async fn due_for_change(db: &Db, now: i64, limit: i64) -> Result<Vec<(AgencyId, Due)>> {
    let rows = sqlx::query(
        "SELECT id FROM agencies WHERE week_ended_next_at IS NULL OR week_ended_next_at <= $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        if let Ok(a) = AgencyId::parse(&r.try_get::<String, _>("id")?) {
            out.push((a, Due::WeekEnded));
        }
    }
    let rows = sqlx::query(
        "SELECT agency_id, id FROM scorecard_actions WHERE done_at IS NULL AND overdue_noticed_at IS NULL \
         AND due_at < $1 ORDER BY due_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    for (a, id) in crate::db::agency_and_ids(&rows)? {
        if let (Ok(a), Ok(id)) = (AgencyId::parse(&a), ActionId::parse(&id)) {
            out.push((a, Due::ActionOverdue(id)));
        }
    }
    Ok(out)
}

/// The earliest pending change: a week's end or an action's due time. An
/// agency whose next week end is still to be computed is not counted: the
/// scheduler looks at least every second anyway, and one that fails to
/// compute must not make it spin.
pub async fn next_change(db: &Db) -> Result<Option<i64>> {
    let a: Option<i64> = sqlx::query_scalar("SELECT MIN(week_ended_next_at) FROM agencies")
        .fetch_one(db.reader())
        .await?;
    let b: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(due_at) FROM scorecard_actions WHERE done_at IS NULL AND overdue_noticed_at IS NULL",
    )
    .fetch_one(db.reader())
    .await?;
    Ok(match (a, b.map(|t| t + 1)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Moves what is due at `cx.now` while `fence` holds. Returns the event
/// recorded, if any.
pub async fn advance_fenced(
    cx: Cx<'_>,
    due: &Due,
    email: bool,
    fence: Option<&Fence>,
) -> Result<Option<&'static str>> {
    let mut tx = cx.begin().await?;
    if let Some(fence) = fence {
        if !crate::leases::fence_holds(tx.conn(), fence, cx.now).await? {
            return Ok(None);
        }
    }
    match due {
        Due::WeekEnded => week_ended(tx, email).await,
        Due::ActionOverdue(id) => action_overdue(tx, id, email).await,
    }
}

/// Records `week_ended` for the newest week that ended, once; otherwise
/// only sets when the next week ends.
async fn week_ended(mut tx: WriteTx, email: bool) -> Result<Option<&'static str>> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let row =
        sqlx::query("SELECT week_ended_through, week_ended_next_at FROM agencies WHERE id = $1")
            .bind(&agency_id)
            .fetch_one(tx.conn())
            .await?;
    let through: Option<String> = row.try_get("week_ended_through")?;
    let next_at: Option<i64> = row.try_get("week_ended_next_at")?;
    let cal = crate::calendars::week_calendar_on(tx.conn(), &agency_id).await?;
    let tz = baton_core::human::zone(&cal.timezone);
    let mut latest = IsoWeek::containing(now, &tz);
    if week_end_at(&cal, latest) > now {
        latest = latest.prev();
    }
    let recorded = through.as_deref().and_then(|t| IsoWeek::parse(t).ok());
    // A newly tracked agency starts from the newest ended week, silently.
    let fire = recorded.is_some_and(|t| t < latest);
    let new_through = if recorded.is_none() || fire {
        latest
    } else {
        recorded.unwrap_or(latest)
    };
    let new_next = week_end_at(&cal, new_through.next());
    // Claim: only the writer that finds the clock as read moves it.
    let claimed = sqlx::query(
        "UPDATE agencies SET week_ended_through = $2, week_ended_next_at = $3 WHERE id = $1 \
         AND COALESCE(week_ended_through, '') = $4 AND COALESCE(week_ended_next_at, -1) = $5",
    )
    .bind(&agency_id)
    .bind(new_through.to_string())
    .bind(new_next)
    .bind(through.clone().unwrap_or_default())
    .bind(next_at.unwrap_or(-1))
    .execute(tx.conn())
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(None);
    }
    if !fire {
        // Bookkeeping of the clock only: nothing happened to audit.
        tx.commit_all(Vec::new()).await?;
        return Ok(None);
    }
    let week = latest.to_string();
    let ended_at = week_end_at(&cal, latest);
    let (from, until) = latest.bounds(&tz);
    let reminded = remind_manual(&mut tx, &week, email).await?;
    let data = json!({
        "week": week, "from": from, "until": until, "ended_at": ended_at,
        "skipped_from": recorded.map(|r| r.next().to_string()).filter(|w| *w != week),
        "reminded": reminded,
    });
    let mut record = Record::new(events::WEEK_ENDED, "week", &week, data.clone());
    record.events.push(NewEvent {
        id: None,
        event_type: events::WEEK_ENDED.into(),
        client_id: None,
        entity_type: "week".into(),
        entity_id: week.clone(),
        occurred_at: Some(ended_at),
        note: None,
        data,
    });
    tx.commit(record).await?;
    Ok(Some(events::WEEK_ENDED))
}

/// Reminds the owner of each manual measurable without a value for `week`
/// (one notice per owner). Returns how many owners were reminded.
async fn remind_manual(tx: &mut WriteTx, week: &str, email: bool) -> Result<usize> {
    let agency_id = tx.agency_id().to_string();
    let rows = sqlx::query(
        "SELECT x.owner_member_id, x.name FROM measurables x WHERE x.agency_id = $1 AND x.source = 'manual' \
         AND x.archived_at IS NULL AND x.owner_member_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM \
         measurable_values v WHERE v.measurable_id = x.id AND v.week = $2) ORDER BY x.owner_member_id, x.position",
    )
    .bind(&agency_id)
    .bind(week)
    .fetch_all(tx.conn())
    .await?;
    let mut by_owner: Vec<(String, Vec<String>)> = Vec::new();
    for r in &rows {
        let owner: String = r.try_get("owner_member_id")?;
        let name: String = r.try_get("name")?;
        match by_owner.last_mut() {
            Some((o, names)) if *o == owner => names.push(name),
            _ => by_owner.push((owner, vec![name])),
        }
    }
    let agency_name = agency_name(tx).await?;
    for (owner, names) in &by_owner {
        let title = format!("Scorecard {week}: enter this week's numbers");
        let body = format!(
            "The week {week} ended. The weekly scorecard waits for your number{}: {}. \
             Enter {} on the scorecard page so the week can ship.",
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" },
        );
        let text = NoticeText {
            kind: events::MEASURABLES_REMINDED,
            title: &title,
            body: &body,
        };
        let about = NoticeAbout {
            client_id: None,
            run_id: None,
            incident_id: None,
            action_id: None,
            occurrence_id: None,
        };
        send_notices(
            tx,
            std::slice::from_ref(owner),
            about,
            text,
            &agency_name,
            email,
        )
        .await?;
    }
    Ok(by_owner.len())
}

async fn agency_name(tx: &mut WriteTx) -> Result<String> {
    let agency_id = tx.agency_id().to_string();
    Ok(
        sqlx::query_scalar("SELECT name FROM agencies WHERE id = $1")
            .bind(&agency_id)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// One action that became overdue: claimed once, one notice to its owner.
async fn action_overdue(
    mut tx: WriteTx,
    id: &ActionId,
    email: bool,
) -> Result<Option<&'static str>> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let claimed = sqlx::query(
        "UPDATE scorecard_actions SET overdue_noticed_at = $3 WHERE agency_id = $1 AND id = $2 \
         AND done_at IS NULL AND overdue_noticed_at IS NULL AND due_at < $3",
    )
    .bind(&agency_id)
    .bind(id.as_str())
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(None);
    }
    let a = action_on(tx.conn(), &agency_id, id.as_str()).await?;
    let kind = events::ACTION_OVERDUE;
    let whose = a
        .client_name
        .as_deref()
        .map(|c| format!("{c}'s"))
        .unwrap_or_else(|| "the agency's".into());
    let title = format!("Action overdue: {}", a.text);
    let body = format!(
        "The action \"{}\" agreed in {whose} weekly scorecard for {} was due {}. Finish it and mark it \
         done: next week's scorecard shows whether it shipped.",
        a.text, a.week, a.due_on
    );
    let agency_name = agency_name(&mut tx).await?;
    let text = NoticeText {
        kind,
        title: &title,
        body: &body,
    };
    let about = NoticeAbout {
        client_id: a.client_id.as_deref(),
        run_id: None,
        incident_id: None,
        action_id: Some(id.as_str()),
        occurrence_id: None,
    };
    send_notices(
        &mut tx,
        std::slice::from_ref(&a.owner_member_id),
        about,
        text,
        &agency_name,
        email,
    )
    .await?;
    let data = json!({"action_id": id, "scorecard_id": a.scorecard_id, "week": a.week, "text": a.text,
        "owner": a.owner_member_id, "due_on": a.due_on});
    let mut record = Record::new(kind, "scorecard", &a.scorecard_id, data.clone());
    record.events.push(NewEvent {
        id: None,
        event_type: kind.into(),
        client_id: a.client_id.clone(),
        entity_type: "scorecard".into(),
        entity_id: a.scorecard_id.clone(),
        occurred_at: Some(a.due_at),
        note: None,
        data,
    });
    tx.commit(record).await?;
    Ok(Some(kind))
}
