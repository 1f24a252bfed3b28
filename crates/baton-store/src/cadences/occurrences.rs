//! Meetings: each cadence's schedule laid on the agency calendar, version by
//! version, one meeting per day for the agency or per active client, merged
//! with what was written about them (held with an artifact, flagged).
//!
//! A meeting is *held* only when its artifact is attached. The weekly
//! performance review's artifact is the week's shipped scorecard, a fact
//! Baton knows: a scorecard shipped by the end of the meeting's day (for its
//! week or the week before) holds it without anyone attaching it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use baton_core::cadence::{occurrence_id, scope_key, ArtifactKind, Attendee, Scope};
use baton_core::roles::Role;
use baton_core::scorecard::IsoWeek;
use baton_core::types::OccurrenceId;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::decisions::{decisions_of, Decision};
use super::{all_versions, since_on, today_on, CadenceVersion};
use crate::db::Db;
use crate::error::{Result, StoreError};

/// The longest range one listing computes, in days.
pub const MAX_RANGE_DAYS: i64 = 366;

/// One meeting.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub id: OccurrenceId,
    pub cadence_key: String,
    pub cadence_name: String,
    /// The cadence version whose schedule set this meeting.
    pub version: i64,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub date: Date,
    pub starts_at: i64,
    pub ends_at: i64,
    pub owner_member_id: Option<String>,
    pub owner_name: Option<String>,
    pub attendee_roles: Vec<Attendee>,
    pub artifact_kind: ArtifactKind,
    pub held: bool,
    pub held_at: Option<i64>,
    pub held_by: Option<String>,
    /// Its day ended without its artifact.
    pub artifact_missing: bool,
    /// When the day clock flagged it (notice sent), if it did.
    pub flagged_at: Option<i64>,
    /// What was attached: Baton's generated part and the team's notes.
    pub artifact: Option<Value>,
    /// A memo shared with the client by link.
    pub shared: bool,
    pub decisions: Vec<Decision>,
}

impl Occurrence {
    /// `agency`, or the client's id.
    pub fn scope(&self) -> &str {
        scope_key(self.client_id.as_deref())
    }
}

/// Narrows a listing.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub cadence: Option<String>,
    pub client_id: Option<String>,
    pub owner: Option<String>,
}

/// What the team wrote about one meeting.
struct Stored {
    key: String,
    client_id: Option<String>,
    client_name: Option<String>,
    date: Date,
    version: i64,
    owner: Option<String>,
    owner_name: Option<String>,
    held_at: Option<i64>,
    held_by: Option<String>,
    artifact: Option<Value>,
    shared: bool,
    flagged_at: Option<i64>,
}

fn stored_of(r: &AnyRow) -> Result<(String, Stored)> {
    let date: String = r.try_get("on_date")?;
    let artifact: Option<String> = r.try_get("artifact")?;
    Ok((
        r.try_get("id")?,
        Stored {
            key: r.try_get("cadence_key")?,
            client_id: r.try_get("client_id")?,
            client_name: r.try_get("client_name")?,
            date: date
                .parse()
                .map_err(|_| StoreError::Config(format!("bad stored day {date:?}")))?,
            version: r.try_get("version")?,
            owner: r.try_get("owner_member_id")?,
            owner_name: r.try_get("owner_name")?,
            held_at: r.try_get("held_at")?,
            held_by: r.try_get("held_by")?,
            artifact: artifact.and_then(|a| serde_json::from_str(&a).ok()),
            shared: r
                .try_get::<Option<String>, _>("share_token_hash")?
                .is_some(),
            flagged_at: r.try_get("flagged_at")?,
        },
    ))
}

const STORED: &str = "SELECT o.id, o.cadence_key, o.client_id, c.name AS client_name, o.on_date, o.version, \
    o.owner_member_id, m.name AS owner_name, o.held_at, o.held_by, o.artifact, o.share_token_hash, o.flagged_at \
    FROM cadence_occurrences o LEFT JOIN clients c ON c.id = o.client_id \
    LEFT JOIN members m ON m.id = o.owner_member_id";

/// Who can own a meeting: active members with their roles, clients' seats
/// and traffic-control owners.
struct People {
    members: Vec<(String, String, Vec<String>)>,
    seats: HashMap<(String, String), String>,
    traffic: HashMap<String, String>,
}

impl People {
    async fn load(conn: &mut AnyConnection, agency_id: &str) -> Result<People> {
        let rows = sqlx::query(
            "SELECT id, name, roles FROM members WHERE agency_id = $1 AND active = 1 ORDER BY id",
        )
        .bind(agency_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut members = Vec::with_capacity(rows.len());
        for r in &rows {
            let roles: String = r.try_get("roles")?;
            members.push((
                r.try_get("id")?,
                r.try_get("name")?,
                serde_json::from_str(&roles).unwrap_or_default(),
            ));
        }
        let rows = sqlx::query(
            "SELECT t.client_id, t.role, t.member_id FROM client_team t JOIN members m ON m.id = t.member_id \
             WHERE t.agency_id = $1 AND m.active = 1",
        )
        .bind(agency_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut seats = HashMap::new();
        for r in &rows {
            seats.insert(
                (r.try_get("client_id")?, r.try_get("role")?),
                r.try_get("member_id")?,
            );
        }
        let rows = sqlx::query(
            "SELECT c.id, c.traffic_control_member_id FROM clients c JOIN members m \
             ON m.id = c.traffic_control_member_id AND m.active = 1 WHERE c.agency_id = $1",
        )
        .bind(agency_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut traffic = HashMap::new();
        for r in &rows {
            traffic.insert(r.try_get("id")?, r.try_get("traffic_control_member_id")?);
        }
        Ok(People {
            members,
            seats,
            traffic,
        })
    }

    fn name(&self, id: &str) -> Option<String> {
        self.members.iter().find(|m| m.0 == id).map(|m| m.1.clone())
    }

    /// The client's seat for `role`, else its traffic-control owner, else
    /// the first active member holding the role.
    fn owner(&self, role: Role, client: Option<&str>) -> Option<String> {
        if let Some(c) = client {
            if let Some(m) = self.seats.get(&(c.to_string(), role.key().to_string())) {
                return Some(m.clone());
            }
            if let Some(m) = self.traffic.get(c) {
                return Some(m.clone());
            }
        }
        self.members
            .iter()
            .find(|m| m.2.iter().any(|r| r == role.key()))
            .map(|m| m.0.clone())
    }
}

/// `date` at `hour:minute` in `tz`, in unix milliseconds.
pub(crate) fn instant(date: Date, hour: u8, minute: u8, tz: &TimeZone) -> i64 {
    date.at(hour as i8, minute as i8, 0, 0)
        .to_zoned(tz.clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

/// The end of `date` in `tz` (the next day's midnight).
pub(crate) fn day_end(date: Date, tz: &TimeZone) -> i64 {
    instant(date.tomorrow().unwrap_or(date), 0, 0, tz)
}

/// Shipped agency scorecards by week: `(shipped_at, id)`.
async fn shipped_weeks(
    conn: &mut AnyConnection,
    agency_id: &str,
    from: Date,
    to: Date,
) -> Result<HashMap<String, (i64, String)>> {
    let lo = IsoWeek::of_date(from).prev().to_string();
    let hi = IsoWeek::of_date(to).to_string();
    let rows = sqlx::query(
        "SELECT id, week, shipped_at FROM scorecards WHERE agency_id = $1 AND scope = 'agency' \
         AND week >= $2 AND week <= $3",
    )
    .bind(agency_id)
    .bind(lo)
    .bind(hi)
    .fetch_all(conn)
    .await?;
    let mut out = HashMap::new();
    for r in &rows {
        out.insert(
            r.try_get("week")?,
            (r.try_get("shipped_at")?, r.try_get("id")?),
        );
    }
    Ok(out)
}

/// A meeting the schedules place: cadence key, version, client (id,
/// name) of a per-client meeting, day.
type Planned = (String, i64, Option<(String, String)>, Date);

/// The meetings in `[from, to]` (agency days), as of `now`, in time order.
pub(crate) async fn compute(
    conn: &mut AnyConnection,
    agency_id: &str,
    (from, to): (Date, Date),
    now: i64,
    filter: &Filter,
) -> Result<Vec<Occurrence>> {
    let cal = crate::calendars::week_calendar_on(&mut *conn, agency_id).await?;
    let tz = baton_core::human::zone(&cal.timezone);
    let since = since_on(&mut *conn, agency_id, now).await?;
    let versions = all_versions(&mut *conn, agency_id).await?;
    let by_version: HashMap<(String, i64), &CadenceVersion> = versions
        .iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| ((k.clone(), v.version), v)))
        .collect();
    let clients: Vec<(String, String)> = {
        let rows = sqlx::query(
            "SELECT id, name FROM clients WHERE agency_id = $1 AND lifecycle = 'active' ORDER BY name, id",
        )
        .bind(agency_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect::<Result<_>>()?
    };
    let people = People::load(&mut *conn, agency_id).await?;

    // What the schedules say.
    let mut planned: Vec<Planned> = Vec::new();
    for (key, vs) in &versions {
        if filter.cadence.as_ref().is_some_and(|c| c != key) {
            continue;
        }
        for (i, v) in vs.iter().enumerate() {
            let eff = v.effective_from.unwrap_or(since).max(since);
            let lo = eff.max(from);
            let mut hi = to;
            if let Some(next) = vs.get(i + 1) {
                let next_from = next.effective_from.unwrap_or(since).max(since);
                hi = hi.min(next_from.yesterday().unwrap_or(next_from));
            }
            if lo > hi {
                continue;
            }
            let dates = v.definition.schedule.occurrences(&cal, eff, lo, hi);
            match v.definition.scope {
                // A client's meetings only, when asked for one client.
                Scope::Agency if filter.client_id.is_some() => {}
                Scope::Agency => {
                    planned.extend(dates.into_iter().map(|d| (key.clone(), v.version, None, d)))
                }
                Scope::Client => {
                    for c in &clients {
                        if filter.client_id.as_ref().is_some_and(|f| *f != c.0) {
                            continue;
                        }
                        planned.extend(
                            dates
                                .iter()
                                .map(|d| (key.clone(), v.version, Some(c.clone()), *d)),
                        );
                    }
                }
            }
        }
    }

    // What was written.
    let rows = sqlx::query(&format!(
        "{STORED} WHERE o.agency_id = $1 AND o.on_date >= $2 AND o.on_date <= $3"
    ))
    .bind(agency_id)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut stored: BTreeMap<String, Stored> = BTreeMap::new();
    for r in &rows {
        let (id, s) = stored_of(r)?;
        stored.insert(id, s);
    }
    let mut decisions = decisions_of(&mut *conn, agency_id, stored.keys()).await?;
    let shipped = if planned
        .iter()
        .any(|p| by_version[&(p.0.clone(), p.1)].definition.artifact == ArtifactKind::Scorecard)
    {
        shipped_weeks(&mut *conn, agency_id, from, to).await?
    } else {
        HashMap::new()
    };

    let mut out = Vec::with_capacity(planned.len() + stored.len());
    let mut seen = BTreeSet::new();
    let mut push = |key: &str,
                    version: i64,
                    client: Option<(String, String)>,
                    date: Date,
                    stored: Option<Stored>| {
        let Some(v) = by_version.get(&(key.to_string(), version)) else {
            return;
        };
        let d = &v.definition;
        let client_id = client.as_ref().map(|c| c.0.clone());
        let id = occurrence_id(agency_id, key, scope_key(client_id.as_deref()), date);
        if !seen.insert(id.clone()) {
            return;
        }
        let starts_at = instant(date, d.schedule.hour, d.schedule.minute, &tz);
        let mut o = Occurrence {
            id: OccurrenceId::parse(&id).expect("derived ids have the shape"),
            cadence_key: key.to_string(),
            cadence_name: d.name.clone(),
            version,
            client_id,
            client_name: client.map(|c| c.1),
            date,
            starts_at,
            ends_at: starts_at + i64::from(d.duration_minutes) * 60_000,
            owner_member_id: None,
            owner_name: None,
            attendee_roles: d.attendee_roles.clone(),
            artifact_kind: d.artifact,
            held: false,
            held_at: None,
            held_by: None,
            artifact_missing: false,
            flagged_at: None,
            artifact: None,
            shared: false,
            decisions: decisions.remove(&id).unwrap_or_default(),
        };
        match stored {
            Some(s) => {
                o.owner_member_id = s.owner;
                o.owner_name = s.owner_name;
                o.held = s.held_at.is_some();
                o.held_at = s.held_at;
                o.held_by = s.held_by;
                o.artifact = s.artifact;
                o.shared = s.shared;
                o.flagged_at = s.flagged_at;
            }
            None => {
                o.owner_member_id = people.owner(d.owner_role, o.client_id.as_deref());
                o.owner_name = o.owner_member_id.as_deref().and_then(|m| people.name(m));
            }
        }
        let end = day_end(date, &tz);
        if !o.held && d.artifact == ArtifactKind::Scorecard {
            let week = IsoWeek::of_date(date);
            for w in [week, week.prev()] {
                if let Some((at, sc)) = shipped.get(&w.to_string()) {
                    if *at < end {
                        o.held = true;
                        o.held_at = Some(*at);
                        o.held_by = Some("Baton (scorecard shipped)".into());
                        o.artifact = Some(serde_json::json!({
                            "kind": "scorecard", "generated": {"scorecard_id": sc, "week": w.to_string()}
                        }));
                        break;
                    }
                }
            }
        }
        o.artifact_missing = !o.held && end <= now;
        out.push(o);
    };
    for (key, version, client, date) in planned {
        let id = occurrence_id(
            agency_id,
            &key,
            scope_key(client.as_ref().map(|c| c.0.as_str())),
            date,
        );
        let s = stored.remove(&id);
        push(&key, version, client, date, s);
    }
    // Meetings written about but no longer on a schedule (a client that
    // left): what happened stays.
    for (_, s) in std::mem::take(&mut stored) {
        if filter.cadence.as_ref().is_some_and(|c| *c != s.key)
            || filter
                .client_id
                .as_ref()
                .is_some_and(|c| s.client_id.as_ref() != Some(c))
        {
            continue;
        }
        let client = s
            .client_id
            .clone()
            .map(|c| (c, s.client_name.clone().unwrap_or_default()));
        let (key, version, date) = (s.key.clone(), s.version, s.date);
        push(&key, version, client, date, Some(s));
    }
    if let Some(owner) = &filter.owner {
        out.retain(|o| o.owner_member_id.as_ref() == Some(owner));
    }
    let order: HashMap<&str, usize> = versions
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.as_str(), i))
        .collect();
    out.sort_by(|a, b| {
        (
            a.starts_at,
            order.get(a.cadence_key.as_str()),
            &a.client_name,
        )
            .cmp(&(
                b.starts_at,
                order.get(b.cadence_key.as_str()),
                &b.client_name,
            ))
    });
    Ok(out)
}

/// Writes the row of meeting `o` if it has none yet (held and flagged
/// meetings have one), inside the caller's transaction.
pub(crate) async fn ensure_row(tx: &mut crate::write::WriteTx, o: &Occurrence) -> Result<()> {
    let (agency_id, now) = (tx.agency_id().to_string(), tx.now());
    sqlx::query(
        "INSERT INTO cadence_occurrences (id, agency_id, cadence_key, scope, client_id, on_date, version, \
         owner_member_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(o.id.as_str())
    .bind(&agency_id)
    .bind(&o.cadence_key)
    .bind(o.scope())
    .bind(o.client_id.as_deref())
    .bind(o.date.to_string())
    .bind(o.version)
    .bind(o.owner_member_id.as_deref())
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Checks a listing's range: `from` not after `to`, at most a year.
pub fn check_range(from: Date, to: Date) -> Result<()> {
    if from > to {
        return Err(baton_core::CoreError::invalid("to", "must not be before from").into());
    }
    let days = from.until(to).map(|s| i64::from(s.get_days()));
    if days.map_or(true, |d| d >= MAX_RANGE_DAYS) {
        return Err(baton_core::CoreError::invalid(
            "to",
            format!("a range of at most {MAX_RANGE_DAYS} days"),
        )
        .into());
    }
    Ok(())
}

/// The agency's meetings in `[from, to]` (agency days).
pub async fn list(
    db: &Db,
    agency_id: &str,
    (from, to): (Date, Date),
    now: i64,
    filter: &Filter,
) -> Result<Vec<Occurrence>> {
    check_range(from, to)?;
    let mut conn = db.reader().acquire().await?;
    compute(&mut conn, agency_id, (from, to), now, filter).await
}

/// One meeting by id: a written one, or one the schedules place between
/// the day cadences started and a year from today.
pub(crate) async fn find(
    conn: &mut AnyConnection,
    agency_id: &str,
    id: &OccurrenceId,
    now: i64,
) -> Result<Occurrence> {
    let day: Option<String> = sqlx::query_scalar(
        "SELECT on_date FROM cadence_occurrences WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let range = match day.and_then(|d| d.parse::<Date>().ok()) {
        Some(d) => (d, d),
        None => {
            let today = today_on(&mut *conn, agency_id, now).await?;
            let since = since_on(&mut *conn, agency_id, now).await?;
            let from = since.max(today.saturating_sub(jiff::Span::new().days(400)));
            (
                from,
                today.saturating_add(jiff::Span::new().days(MAX_RANGE_DAYS)),
            )
        }
    };
    compute(conn, agency_id, range, now, &Filter::default())
        .await?
        .into_iter()
        .find(|o| o.id == *id)
        .ok_or(StoreError::NotFound)
}

/// One meeting by id.
pub async fn get(db: &Db, agency_id: &str, id: &OccurrenceId, now: i64) -> Result<Occurrence> {
    let mut conn = db.reader().acquire().await?;
    find(&mut conn, agency_id, id, now).await
}

/// Meetings held and due (day ended) over `[from, to]`: the cadence
/// adherence figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Adherence {
    pub held: usize,
    pub due: usize,
}

impl Adherence {
    /// Held share of the meetings due, `None` when none was due.
    pub fn rate(&self) -> Option<f64> {
        (self.due > 0).then(|| self.held as f64 / self.due as f64)
    }
}

/// Adherence over `[from, to]` as of `now`, for one client's meetings or
/// all: a meeting counts once its day has ended (or once held, if earlier).
pub async fn adherence(
    db: &Db,
    agency_id: &str,
    (from, to): (Date, Date),
    now: i64,
    client_id: Option<&str>,
) -> Result<Adherence> {
    let filter = Filter {
        client_id: client_id.map(String::from),
        ..Filter::default()
    };
    let all = list(db, agency_id, (from, to), now, &filter).await?;
    let due: Vec<&Occurrence> = all
        .iter()
        .filter(|o| o.held || o.artifact_missing)
        .collect();
    Ok(Adherence {
        held: due.iter().filter(|o| o.held).count(),
        due: due.len(),
    })
}
