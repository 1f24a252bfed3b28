//! Reading items: filtered lists, the schedule, counts by status, an
//! item's versions, rounds and discussion, and what waits for a member.
//! Kept apart from the writes so each stays short.

use std::collections::BTreeMap;

use baton_core::content::ContentStatus;
use baton_core::ids;
use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::error::Result;
use crate::page::{self, Page};

use super::{from_row, parse, Item, COLS, FROM};

/// Which items to list.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub client_id: Option<String>,
    pub status: Option<ContentStatus>,
}

/// Items in id (creation) order, a page at a time.
pub async fn list(
    db: &Db,
    agency_id: &str,
    f: &ItemFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Item>> {
    let limit = page::clamp_limit(limit);
    let mut sql = format!("SELECT {COLS} {FROM} WHERE i.agency_id = $1 AND i.id > $2");
    let mut binds = Vec::new();
    if let Some(c) = &f.client_id {
        binds.push(c.clone());
        sql.push_str(&format!(" AND i.client_id = ${}", binds.len() + 3));
    }
    if let Some(s) = f.status {
        binds.push(s.key().to_string());
        sql.push_str(&format!(" AND i.status = ${}", binds.len() + 3));
    }
    sql.push_str(" ORDER BY i.id LIMIT $3");
    let mut q = sqlx::query(&sql)
        .bind(agency_id)
        .bind(cursor.unwrap_or(""))
        .bind(limit + 1);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.reader()).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(items, limit, |i| i.id.to_string()))
}

/// Scheduled and published items whose publish time falls in `[from, to)`,
/// by publish time: the content calendar and its iCalendar feeds.
pub async fn scheduled_between(
    db: &Db,
    agency_id: &str,
    from: i64,
    to: i64,
    client_id: Option<&str>,
) -> Result<Vec<Item>> {
    let sql =
        format!(
        "SELECT {COLS} {FROM} WHERE i.agency_id = $1 AND i.publish_at >= $2 AND i.publish_at < $3 \
         AND i.status IN ('scheduled', 'published'){} ORDER BY i.publish_at, i.id LIMIT 5000",
        if client_id.is_some() { " AND i.client_id = $4" } else { "" }
    );
    let mut q = sqlx::query(&sql).bind(agency_id).bind(from).bind(to);
    if let Some(c) = client_id {
        q = q.bind(c);
    }
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter().map(from_row).collect()
}

/// How many items the agency (or one client) has in each status.
pub async fn status_counts(
    db: &Db,
    agency_id: &str,
    client_id: Option<&str>,
) -> Result<BTreeMap<ContentStatus, i64>> {
    let sql =
        format!(
        "SELECT status, COUNT(*) AS n FROM content_items WHERE agency_id = $1{} GROUP BY status",
        if client_id.is_some() { " AND client_id = $2" } else { "" }
    );
    let mut q = sqlx::query(&sql).bind(agency_id);
    if let Some(c) = client_id {
        q = q.bind(c);
    }
    let mut out = BTreeMap::new();
    for r in q.fetch_all(db.reader()).await? {
        let status: String = r.try_get("status")?;
        if let Some(s) = ContentStatus::parse(&status) {
            out.insert(s, r.try_get::<i64, _>("n")?);
        }
    }
    Ok(out)
}

/// One immutable version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    pub n: i64,
    pub name: String,
    /// `link` or `file`.
    pub kind: String,
    pub url: Option<String>,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub size_bytes: Option<i64>,
    /// A file's name under the data directory's uploads (never shown).
    pub stored_name: Option<String>,
    /// A file's SHA-256, hex.
    pub sha256: Option<String>,
    pub note: Option<String>,
    /// The caption the version was added with (`None` for versions from
    /// before captions).
    pub caption: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

impl Version {
    /// The name a file downloads as: the convention's name with the
    /// uploaded file's extension (`…_reel_v2.mp4`).
    pub fn download_name(&self) -> String {
        match self
            .file_name
            .as_deref()
            .and_then(baton_core::uploads::extension)
        {
            Some(ext) => format!("{}.{ext}", self.name),
            None => self.name.clone(),
        }
    }
}

pub async fn versions(db: &Db, agency_id: &str, id: &str) -> Result<Vec<Version>> {
    let rows = sqlx::query(
        "SELECT n, name, kind, url, file_name, content_type, size_bytes, stored_name, sha256, note, \
         caption, created_by, created_at FROM content_versions WHERE agency_id = $1 AND content_id = $2 ORDER BY n",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Version {
                n: r.try_get("n")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                url: r.try_get("url")?,
                file_name: r.try_get("file_name")?,
                content_type: r.try_get("content_type")?,
                size_bytes: r.try_get("size_bytes")?,
                stored_name: r.try_get("stored_name")?,
                sha256: r.try_get("sha256")?,
                note: r.try_get("note")?,
                caption: r.try_get("caption")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// One approval round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Round {
    pub round: i64,
    pub version_n: i64,
    pub submitted_at: i64,
    pub decided_at: Option<i64>,
    /// `approved` or `changes_requested`; None while open.
    pub outcome: Option<String>,
    /// `major` or `minor` for a round with changes requested.
    pub revision: Option<String>,
    /// The round's feedback as one list, sent back to production.
    pub consolidated: Vec<String>,
    /// The caption the round was submitted with: with the version, what
    /// the approvers decided on (`None` for rounds from before captions).
    pub caption: Option<String>,
}

pub async fn rounds(db: &Db, agency_id: &str, id: &str) -> Result<Vec<Round>> {
    let rows = sqlx::query(
        "SELECT round, version_n, submitted_at, decided_at, outcome, revision, consolidated, caption \
         FROM content_rounds WHERE agency_id = $1 AND content_id = $2 ORDER BY round",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let consolidated: Option<String> = r.try_get("consolidated")?;
            Ok(Round {
                round: r.try_get("round")?,
                version_n: r.try_get("version_n")?,
                submitted_at: r.try_get("submitted_at")?,
                decided_at: r.try_get("decided_at")?,
                outcome: r.try_get("outcome")?,
                revision: r.try_get("revision")?,
                consolidated: match consolidated {
                    Some(t) => parse(&t, "feedback")?,
                    None => Vec::new(),
                },
                caption: r.try_get("caption")?,
            })
        })
        .collect()
}

/// A comment or a decision, as the item's discussion shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remark {
    pub id: String,
    pub round: i64,
    pub version_n: i64,
    /// `member` or `client`.
    pub author_kind: String,
    pub author_id: String,
    pub author_label: String,
    /// None for a comment; `approve` or `request_changes` for a decision.
    pub decision: Option<String>,
    pub body: Option<String>,
    /// The client sees it on their approval link: a comment marked for the
    /// client, or the client's own comment or decision.
    pub for_client: bool,
    pub created_at: i64,
}

/// Comments and decisions in time order.
pub async fn discussion(db: &Db, agency_id: &str, id: &str) -> Result<Vec<Remark>> {
    let rows = sqlx::query(
        "SELECT id, round, version_n, author_kind, author_id, author_label, NULL AS decision, body, \
         for_client, created_at FROM content_comments WHERE agency_id = $1 AND content_id = $2 \
         UNION ALL SELECT id, round, version_n, author_kind, author_id, author_label, decision, comment AS body, \
         CAST(CASE WHEN author_kind = 'client' THEN 1 ELSE 0 END AS BIGINT) AS for_client, created_at \
         FROM content_decisions WHERE agency_id = $1 AND content_id = $2 ORDER BY created_at, id",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Remark {
                id: r.try_get("id")?,
                round: r.try_get("round")?,
                version_n: r.try_get("version_n")?,
                author_kind: r.try_get("author_kind")?,
                author_id: r.try_get("author_id")?,
                author_label: r.try_get("author_label")?,
                decision: r.try_get("decision")?,
                body: r.try_get("body")?,
                for_client: r.try_get::<i64, _>("for_client")? != 0,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Why an item waits for a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingFor {
    /// An approver who has not decided in the open round.
    Decision,
    /// A reviewer who has not commented in the open round.
    Review,
}

/// Items in review that wait for `member_id`: an approver of the open
/// round who has not decided in it, or a reviewer who has not commented in
/// it. Longest waiting first, at most `cap` (1–500). One query; the `LIKE`
/// on the JSON lists finds the member's quoted id, the parsed lists say in
/// which role.
pub async fn waiting_for(
    db: &Db,
    agency_id: &str,
    member_id: &str,
    cap: i64,
) -> Result<Vec<(Item, WaitingFor)>> {
    if !ids::has_shape(member_id, ids::MEMBER) {
        return Ok(Vec::new());
    }
    let quoted = format!("%\"{member_id}\"%");
    let rows = sqlx::query(&format!(
        "SELECT {COLS} {FROM} WHERE i.agency_id = $1 AND i.status = 'in_review' AND ( \
           (i.approvers LIKE $2 AND NOT EXISTS (SELECT 1 FROM content_decisions d \
              WHERE d.agency_id = i.agency_id AND d.content_id = i.id AND d.round = i.round \
              AND d.author_kind = 'member' AND d.author_id = $3)) \
           OR (i.reviewers LIKE $2 AND NOT EXISTS (SELECT 1 FROM content_comments m \
              WHERE m.agency_id = i.agency_id AND m.content_id = i.id AND m.round = i.round \
              AND m.author_kind = 'member' AND m.author_id = $3))) \
         ORDER BY i.submitted_at, i.id LIMIT $4"
    ))
    .bind(agency_id)
    .bind(&quoted)
    .bind(member_id)
    .bind(cap.clamp(1, 500))
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let item = from_row(r)?;
        let why = if item.approvers.iter().any(|a| a == member_id) {
            WaitingFor::Decision
        } else if item.reviewers.iter().any(|a| a == member_id) {
            WaitingFor::Review
        } else {
            continue;
        };
        out.push((item, why));
    }
    Ok(out)
}
