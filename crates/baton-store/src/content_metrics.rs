//! Content metrics over a period: revisions per asset, rework rate, approval
//! cycle time (calendar and business), first-draft acceptance and approval
//! pass rate — overall, per client and per creative (the member who added an
//! item's first version). The arithmetic is `baton_core::content::metrics`;
//! this module only reads each item's rounds into an [`ItemHistory`].

use std::collections::BTreeMap;

use baton_core::access::percentile;
use baton_core::content::{self, ContentMetrics, ItemHistory, RevisionSize};
use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::error::Result;

/// Which items a report covers besides the period.
#[derive(Debug, Clone, Default)]
pub struct MetricsFilter {
    /// Only this client's items.
    pub client_id: Option<String>,
    /// Only items whose first version this member added.
    pub creative_id: Option<String>,
}

/// The metrics of one group of items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupMetrics {
    /// `all`, a client id or a member id.
    pub key: String,
    pub label: String,
    pub metrics: ContentMetrics,
    /// Items approved (those the cycle times are over).
    pub approved: usize,
    /// Rounds that ended with changes requested, over all items.
    pub revisions: usize,
    /// First submitted → approved on the agency's business calendar, median
    /// and 90th percentile (nearest rank) over approved items.
    pub approval_business_median_ms: Option<i64>,
    pub approval_business_p90_ms: Option<i64>,
}

/// The content metrics of the items first submitted in `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentReport {
    pub from: i64,
    pub to: i64,
    pub overall: GroupMetrics,
    /// By client, ordered by name.
    pub by_client: Vec<GroupMetrics>,
    /// By creative (first version's author), ordered by name.
    pub by_creative: Vec<GroupMetrics>,
}

/// One item as the report reads it.
struct ItemRow {
    /// (client id, client name)
    client: (String, String),
    /// (member id, member name) of the first version's author
    creative: (String, String),
    history: ItemHistory,
    business_ms: Option<i64>,
}

/// Key of the creative group of an item without a first version (cannot
/// happen for a submitted item, kept so such data is still counted).
const UNKNOWN_CREATIVE: &str = "unknown";

/// The report over items whose first submission falls in `[from, to)`.
/// One query reads the items with their decided rounds (so the numbers are
/// consistent with each other); a round with changes requested but no size
/// counts as minor, as the store records it.
pub async fn report(
    db: &Db,
    agency_id: &str,
    from: i64,
    to: i64,
    f: &MetricsFilter,
) -> Result<ContentReport> {
    let mut sql = String::from(
        "SELECT i.id, i.client_id, c.name AS client_name, i.first_submitted_at, i.approved_at, \
         i.approval_business_ms, v.created_by_id AS creative_id, \
         COALESCE(m.name, v.created_by) AS creative_name, r.round, r.outcome, r.revision \
         FROM content_items i JOIN clients c ON c.id = i.client_id \
         LEFT JOIN content_versions v ON v.content_id = i.id AND v.n = 1 \
         LEFT JOIN members m ON m.id = v.created_by_id AND m.agency_id = i.agency_id \
         LEFT JOIN content_rounds r ON r.content_id = i.id AND r.outcome IS NOT NULL \
         WHERE i.agency_id = $1 AND i.first_submitted_at >= $2 AND i.first_submitted_at < $3",
    );
    let mut binds: Vec<&str> = Vec::new();
    if let Some(c) = &f.client_id {
        binds.push(c);
        sql.push_str(&format!(" AND i.client_id = ${}", binds.len() + 3));
    }
    if let Some(m) = &f.creative_id {
        binds.push(m);
        sql.push_str(&format!(" AND v.created_by_id = ${}", binds.len() + 3));
    }
    sql.push_str(" ORDER BY i.id, r.round");
    let mut q = sqlx::query(&sql).bind(agency_id).bind(from).bind(to);
    for b in binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.reader()).await?;

    let mut items: Vec<(String, ItemRow)> = Vec::new();
    for r in &rows {
        let id: String = r.try_get("id")?;
        if items.last().map(|(last, _)| last != &id).unwrap_or(true) {
            let creative_id: Option<String> = r.try_get("creative_id")?;
            let creative_name: Option<String> = r.try_get("creative_name")?;
            items.push((
                id.clone(),
                ItemRow {
                    client: (r.try_get("client_id")?, r.try_get("client_name")?),
                    creative: (
                        creative_id.unwrap_or_else(|| UNKNOWN_CREATIVE.into()),
                        creative_name.unwrap_or_else(|| "Unknown".into()),
                    ),
                    history: ItemHistory {
                        first_submitted_at: r.try_get("first_submitted_at")?,
                        approved_at: r.try_get("approved_at")?,
                        ..ItemHistory::default()
                    },
                    business_ms: r.try_get("approval_business_ms")?,
                },
            ));
        }
        let Some((_, item)) = items.last_mut() else {
            continue;
        };
        add_round(&mut item.history, r)?;
    }

    let all: Vec<&ItemRow> = items.iter().map(|(_, i)| i).collect();
    let overall = group("all".into(), "All content".into(), &all);
    let by = |pick: fn(&ItemRow) -> &(String, String)| {
        let mut groups: BTreeMap<&str, (&str, Vec<&ItemRow>)> = BTreeMap::new();
        for i in &all {
            let (key, label) = pick(i);
            groups
                .entry(key.as_str())
                .or_insert_with(|| (label.as_str(), Vec::new()))
                .1
                .push(i);
        }
        let mut out: Vec<GroupMetrics> = groups
            .into_iter()
            .map(|(key, (label, rows))| group(key.into(), label.into(), &rows))
            .collect();
        out.sort_by(|a, b| a.label.cmp(&b.label).then(a.key.cmp(&b.key)));
        out
    };
    Ok(ContentReport {
        from,
        to,
        overall,
        by_client: by(|i| &i.client),
        by_creative: by(|i| &i.creative),
    })
}

/// Adds the decided round of row `r` (columns `round`, `outcome`,
/// `revision`; NULL when the item has none) to `h`. A round with changes
/// requested but no size counts as minor, as the store records it.
pub(crate) fn add_round(h: &mut ItemHistory, r: &sqlx::any::AnyRow) -> Result<()> {
    let round: Option<i64> = r.try_get("round")?;
    let outcome: Option<String> = r.try_get("outcome")?;
    let (Some(round), Some(outcome)) = (round, outcome) else {
        return Ok(());
    };
    h.rounds += 1;
    match outcome.as_str() {
        "changes_requested" => {
            let size: Option<String> = r.try_get("revision")?;
            h.revisions.push(
                size.as_deref()
                    .and_then(RevisionSize::parse)
                    .unwrap_or(RevisionSize::Minor),
            );
        }
        "approved" if round == 1 => h.approved_first_round = true,
        _ => {}
    }
    Ok(())
}

fn group(key: String, label: String, rows: &[&ItemRow]) -> GroupMetrics {
    let histories: Vec<ItemHistory> = rows.iter().map(|r| r.history.clone()).collect();
    let business: Vec<i64> = rows
        .iter()
        .filter(|r| r.history.approved_at.is_some())
        .filter_map(|r| r.business_ms.map(|ms| ms.max(0)))
        .collect();
    GroupMetrics {
        key,
        label,
        metrics: content::metrics(&histories),
        approved: rows
            .iter()
            .filter(|r| r.history.approved_at.is_some())
            .count(),
        revisions: rows.iter().map(|r| r.history.revisions.len()).sum(),
        approval_business_median_ms: percentile(&business, 50.0),
        approval_business_p90_ms: percentile(&business, 90.0),
    }
}
