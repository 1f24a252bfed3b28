//! The on-time KPI: how many runs finished within their SLA, per SOP.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::error::Result;

/// On-time rate of one group: runs done by their due time among the runs
/// decided in the period (done in it, or still open past a due time in it;
/// a paused run is not judged until it resumes, since its due time moves).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnTime {
    pub key: String,
    pub label: String,
    pub done: i64,
    pub on_time: i64,
    /// Open runs whose due time passed inside the period: already late.
    pub late_open: i64,
    /// `on_time / (done + late_open)`; `None` when nothing was decided.
    pub rate: Option<f64>,
}

/// On-time rates per SOP, per client and per owner over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnTimeReport {
    pub from: i64,
    pub to: i64,
    pub overall: OnTime,
    pub by_sop: Vec<OnTime>,
    pub by_client: Vec<OnTime>,
    pub by_owner: Vec<OnTime>,
}

pub async fn on_time(
    db: &Db,
    agency_id: &str,
    from: i64,
    to: i64,
    now: i64,
) -> Result<OnTimeReport> {
    let rows = sqlx::query(
        "SELECT r.sop_key, r.client_id, c.name AS client_name, r.owner_member_id, m.name AS owner_name, \
         r.done_at, r.due_at FROM sop_runs r JOIN clients c ON c.id = r.client_id \
         LEFT JOIN members m ON m.id = r.owner_member_id \
         WHERE r.agency_id = $1 AND ((r.done_at >= $2 AND r.done_at < $3) \
         OR (r.done_at IS NULL AND r.cancelled_at IS NULL AND r.paused_at IS NULL \
         AND r.due_at >= $2 AND r.due_at < $3 AND r.due_at < $4))",
    )
    .bind(agency_id)
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_all(db.reader())
    .await?;
    let names: BTreeMap<String, String> = crate::sops::list(db, agency_id)
        .await?
        .into_iter()
        .map(|s| (s.definition.key, s.definition.name))
        .collect();
    let mut overall = OnTime {
        key: "all".into(),
        label: "All SOPs".into(),
        done: 0,
        on_time: 0,
        late_open: 0,
        rate: None,
    };
    let mut by: [BTreeMap<String, OnTime>; 3] = Default::default();
    for r in &rows {
        let done_at: Option<i64> = r.try_get("done_at")?;
        let due_at: i64 = r.try_get("due_at")?;
        let sop_key: String = r.try_get("sop_key")?;
        let client_id: String = r.try_get("client_id")?;
        let client_name: String = r.try_get("client_name")?;
        let owner: Option<String> = r.try_get("owner_member_id")?;
        let owner_name: Option<String> = r.try_get("owner_name")?;
        let groups = [
            (
                sop_key.clone(),
                names.get(&sop_key).cloned().unwrap_or(sop_key),
            ),
            (client_id, client_name),
            (
                owner.unwrap_or_else(|| "unowned".into()),
                owner_name.unwrap_or_else(|| "Unowned".into()),
            ),
        ];
        let bump = |t: &mut OnTime| match done_at {
            Some(d) => {
                t.done += 1;
                if d <= due_at {
                    t.on_time += 1;
                }
            }
            None => t.late_open += 1,
        };
        bump(&mut overall);
        for (map, (key, label)) in by.iter_mut().zip(groups) {
            let t = map.entry(key.clone()).or_insert_with(|| OnTime {
                key,
                label,
                done: 0,
                on_time: 0,
                late_open: 0,
                rate: None,
            });
            bump(t);
        }
    }
    let finish = |mut t: OnTime| {
        let n = t.done + t.late_open;
        t.rate = (n > 0).then(|| t.on_time as f64 / n as f64);
        t
    };
    let [s, c, o] = by;
    let sorted = |m: BTreeMap<String, OnTime>| {
        let mut v: Vec<OnTime> = m.into_values().map(finish).collect();
        v.sort_by(|a, b| a.label.cmp(&b.label).then(a.key.cmp(&b.key)));
        v
    };
    Ok(OnTimeReport {
        from,
        to,
        overall: finish(overall),
        by_sop: sorted(s),
        by_client: sorted(c),
        by_owner: sorted(o),
    })
}
