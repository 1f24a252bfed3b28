//! Content items: the brief, immutable versions named by the agency's
//! convention, reviewers (who comment) and approvers (who decide), approval
//! rounds with consolidated feedback and counted revisions, the publishing
//! QA gate and the schedule. Status moves follow `baton_core::content`;
//! each move records the event that starts the matching SOP.

use std::collections::{BTreeMap, BTreeSet};

use baton_core::content::{
    self, ApprovalMode, ContentAction, ContentBrief, ContentStatus, Decision, NameParts, QaItem,
    RevisionSize, RoundOutcome,
};
use baton_core::policy::{self, Effect};
use baton_core::{ids, validate, CoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::page::{self, Page};
use crate::write::{Actor, NewEvent, Record, WriteTx};

/// The agency's content settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentSettings {
    /// Version naming pattern (default `{client}_{campaign}_{channel}_{format}_v{n}`).
    pub naming: String,
    /// QA checklists the agency configured, per channel; other channels use
    /// Baton's defaults.
    pub qa: BTreeMap<String, Vec<QaItem>>,
}

/// The agency's content settings (Baton's defaults until changed).
pub async fn settings(db: &Db, agency_id: &str) -> Result<ContentSettings> {
    let mut conn = db.reader().acquire().await?;
    settings_on(&mut conn, agency_id).await
}

async fn settings_on(conn: &mut AnyConnection, agency_id: &str) -> Result<ContentSettings> {
    let row = sqlx::query("SELECT naming, qa FROM content_settings WHERE agency_id = $1")
        .bind(agency_id)
        .fetch_optional(conn)
        .await?;
    let (naming, qa) = match row {
        None => (None, None),
        Some(r) => (
            r.try_get::<Option<String>, _>("naming")?,
            r.try_get::<Option<String>, _>("qa")?,
        ),
    };
    Ok(ContentSettings {
        naming: naming.unwrap_or_else(|| content::DEFAULT_NAMING.to_string()),
        qa: match qa {
            None => BTreeMap::new(),
            Some(t) => parse(&t, "QA settings")?,
        },
    })
}

/// Saves the agency's naming pattern and per-channel QA checklists.
pub async fn save_settings(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    naming: &str,
    qa: BTreeMap<String, Vec<QaItem>>,
) -> Result<ContentSettings> {
    let naming = content::validate_naming(naming)?;
    let mut checked = BTreeMap::new();
    for (channel, items) in qa {
        let key = channel.trim().to_lowercase();
        if key.is_empty() || key.len() > 40 {
            return Err(CoreError::invalid("qa", "name each channel (1–40 characters)").into());
        }
        checked.insert(key, content::validate_qa(items)?);
    }
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    sqlx::query("DELETE FROM content_settings WHERE agency_id = $1")
        .bind(agency_id)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO content_settings (agency_id, naming, qa, updated_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(agency_id)
    .bind(&naming)
    .bind(text(&checked)?)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let detail = json!({"naming": naming, "qa_channels": checked.keys().collect::<Vec<_>>()});
    tx.commit(Record::new(
        "agency.content_settings_changed",
        "agency",
        agency_id,
        detail,
    ))
    .await?;
    Ok(ContentSettings {
        naming,
        qa: checked,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(t: &str, what: &str) -> Result<T> {
    serde_json::from_str(t).map_err(|e| StoreError::Config(format!("bad stored {what}: {e}")))
}

fn text(v: &impl Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Config(e.to_string()))
}

/// The QA checklist of an item: its items and which are done.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QaState {
    pub items: Vec<QaItem>,
    /// key → who ticked it and when.
    pub done: BTreeMap<String, Done>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub at: i64,
    pub by: String,
}

impl QaState {
    pub fn complete(&self) -> bool {
        self.items.iter().all(|i| self.done.contains_key(&i.key))
    }
}

/// One content item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub title: String,
    pub channel: String,
    pub format: String,
    pub campaign: String,
    pub brief: ContentBrief,
    /// The caption (copy) to publish with the asset, part of what is
    /// approved; empty until written.
    pub caption: String,
    pub status: ContentStatus,
    pub approval_mode: ApprovalMode,
    pub reviewers: Vec<String>,
    pub approvers: Vec<String>,
    /// A change of reviewers and approvers waiting for the next round.
    pub pending_participants: Option<PendingParticipants>,
    pub current_version: i64,
    pub round: i64,
    pub first_submitted_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub approved_at: Option<i64>,
    pub approval_business_ms: Option<i64>,
    pub qa: QaState,
    pub qa_by: Option<String>,
    pub qa_at: Option<i64>,
    pub qa_waived_reason: Option<String>,
    pub publish_at: Option<i64>,
    pub published_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Rounds whose outcome was changes requested.
    pub revision_count: i64,
}

/// A change of an item's reviewers and approvers made during an open round
/// by someone other than an admin: it applies when the next round opens, so
/// the open round is decided by the approvers it was submitted to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingParticipants {
    pub reviewers: Vec<String>,
    pub approvers: Vec<String>,
    pub approval_mode: ApprovalMode,
    /// Who asked for it: their name and member id.
    pub by: String,
    pub by_id: String,
    pub at: i64,
}

impl Item {
    /// First submission to approval, wall time.
    pub fn approval_cycle_ms(&self) -> Option<i64> {
        Some(self.approved_at? - self.first_submitted_at?)
    }
}

const COLS: &str = "i.id, i.client_id, c.name AS client_name, i.title, i.channel, i.format, i.campaign, \
    i.brief, i.caption, i.status, i.approval_mode, i.reviewers, i.approvers, i.pending_participants, \
    i.current_version, i.round, \
    i.first_submitted_at, i.submitted_at, i.approved_at, i.approval_business_ms, i.qa, i.qa_by, i.qa_at, \
    i.qa_waived_reason, i.publish_at, i.published_at, i.created_by, i.created_at, i.updated_at, \
    (SELECT COUNT(*) FROM content_rounds x WHERE x.content_id = i.id AND x.outcome = 'changes_requested') AS revisions";

const FROM: &str = "FROM content_items i JOIN clients c ON c.id = i.client_id";

fn from_row(r: &AnyRow) -> Result<Item> {
    let status: String = r.try_get("status")?;
    let mode: String = r.try_get("approval_mode")?;
    Ok(Item {
        id: r.try_get("id")?,
        client_id: r.try_get("client_id")?,
        client_name: r.try_get("client_name")?,
        title: r.try_get("title")?,
        channel: r.try_get("channel")?,
        format: r.try_get("format")?,
        campaign: r.try_get("campaign")?,
        brief: parse(&r.try_get::<String, _>("brief")?, "brief")?,
        caption: r.try_get("caption")?,
        status: ContentStatus::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("bad stored content status {status}")))?,
        approval_mode: ApprovalMode::parse(&mode).unwrap_or_default(),
        reviewers: parse(&r.try_get::<String, _>("reviewers")?, "reviewers")?,
        approvers: parse(&r.try_get::<String, _>("approvers")?, "approvers")?,
        pending_participants: match r.try_get::<Option<String>, _>("pending_participants")? {
            Some(t) => Some(parse(&t, "pending participants")?),
            None => None,
        },
        current_version: r.try_get("current_version")?,
        round: r.try_get("round")?,
        first_submitted_at: r.try_get("first_submitted_at")?,
        submitted_at: r.try_get("submitted_at")?,
        approved_at: r.try_get("approved_at")?,
        approval_business_ms: r.try_get("approval_business_ms")?,
        qa: parse(&r.try_get::<String, _>("qa")?, "QA")?,
        qa_by: r.try_get("qa_by")?,
        qa_at: r.try_get("qa_at")?,
        qa_waived_reason: r.try_get("qa_waived_reason")?,
        publish_at: r.try_get("publish_at")?,
        published_at: r.try_get("published_at")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        revision_count: r.try_get("revisions")?,
    })
}

async fn get_on(conn: &mut AnyConnection, agency_id: &str, id: &str) -> Result<Item> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} {FROM} WHERE i.agency_id = $1 AND i.id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// One item of the agency.
pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<Item> {
    let mut conn = db.reader().acquire().await?;
    get_on(&mut conn, agency_id, id).await
}

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
    Ok(page::from_rows(items, limit, |i| i.id.clone()))
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

// ---------------------------------------------------------------------------
// Creating and changing items
// ---------------------------------------------------------------------------

/// A new item.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    pub title: String,
    pub channel: String,
    pub format: String,
    pub campaign: String,
    pub brief: ContentBrief,
    /// The caption (copy); may be written later.
    pub caption: String,
}

fn short(field: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(
            CoreError::invalid(field, format!("use at most {max} characters, one line")).into(),
        );
    }
    Ok(v.to_string())
}

fn channel_key(v: &str) -> Result<String> {
    let v = v.trim().to_lowercase();
    if v.is_empty()
        || v.len() > 40
        || !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(CoreError::invalid(
            "channel",
            "name the channel, e.g. instagram, tiktok, linkedin (letters, digits, _)",
        )
        .into());
    }
    Ok(v)
}

/// The client's approval defaults: (mode, reviewers, approvers).
pub async fn client_defaults(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
) -> Result<(ApprovalMode, Vec<String>, Vec<String>)> {
    let row = sqlx::query(
        "SELECT approval_mode, reviewers, approvers FROM client_content_settings WHERE agency_id = $1 AND client_id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_optional(conn)
    .await?;
    match row {
        None => Ok((ApprovalMode::All, vec![], vec![])),
        Some(r) => Ok((
            ApprovalMode::parse(&r.try_get::<String, _>("approval_mode")?).unwrap_or_default(),
            parse(&r.try_get::<String, _>("reviewers")?, "reviewers")?,
            parse(&r.try_get::<String, _>("approvers")?, "approvers")?,
        )),
    }
}

/// Saves a client's approval defaults (new items start with them).
pub async fn save_client_defaults(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    client_id: &str,
    p: &Participants,
) -> Result<(ApprovalMode, Vec<String>, Vec<String>)> {
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let hit =
        sqlx::query("UPDATE clients SET updated_at = updated_at WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(client_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
    if hit == 0 {
        return Err(StoreError::NotFound);
    }
    let (reviewers, approvers) = checked_people(tx.conn(), agency_id, p).await?;
    let mode = p.mode.unwrap_or_default();
    sqlx::query("DELETE FROM client_content_settings WHERE agency_id = $1 AND client_id = $2")
        .bind(agency_id)
        .bind(client_id)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO client_content_settings (agency_id, client_id, approval_mode, reviewers, approvers, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(agency_id)
    .bind(client_id)
    .bind(mode.key())
    .bind(text(&reviewers)?)
    .bind(text(&approvers)?)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let data = json!({"approval_mode": mode.key(), "reviewers": reviewers, "approvers": approvers});
    tx.commit(
        Record::new(
            "client.content_settings_changed",
            "client",
            client_id,
            data.clone(),
        )
        .with_event(Some(client_id), data),
    )
    .await?;
    Ok((mode, reviewers, approvers))
}

/// Creates an item in `brief` and records `content.cycle_started` (which
/// starts the content intake SOP). Reviewers, approvers and the approval
/// mode come from the client's settings; the QA checklist from the agency's
/// checklist for the channel (or Baton's default).
pub async fn create(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    client_id: &str,
    n: NewItem,
) -> Result<Item> {
    let title = validate::name("title", &n.title)?;
    let channel = channel_key(&n.channel)?;
    let format = short("format", &n.format, 60)?;
    let campaign = short("campaign", &n.campaign, 120)?;
    let brief = n.brief.validated()?;
    let caption = content::validate_caption(&n.caption)?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let lifecycle: String =
        sqlx::query_scalar("SELECT lifecycle FROM clients WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(client_id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
    if lifecycle == "archived" {
        return Err(CoreError::Conflict("the client is archived: no new content".into()).into());
    }
    let (mode, reviewers, approvers) = client_defaults(tx.conn(), agency_id, client_id).await?;
    let settings = settings_on(tx.conn(), agency_id).await?;
    let qa = QaState {
        items: settings
            .qa
            .get(&channel)
            .cloned()
            .unwrap_or_else(|| content::default_qa(&channel)),
        done: BTreeMap::new(),
    };
    let id = ids::new_id(ids::CONTENT, now);
    sqlx::query(
        "INSERT INTO content_items (id, agency_id, client_id, title, channel, format, campaign, brief, status, \
         approval_mode, reviewers, approvers, qa, created_by, created_at, updated_at, caption) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'brief', $9, $10, $11, $12, $13, $14, $14, $15)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(client_id)
    .bind(&title)
    .bind(&channel)
    .bind(&format)
    .bind(&campaign)
    .bind(text(&brief)?)
    .bind(mode.key())
    .bind(text(&reviewers)?)
    .bind(text(&approvers)?)
    .bind(text(&qa)?)
    .bind(&actor.label)
    .bind(now)
    .bind(&caption)
    .execute(tx.conn())
    .await?;
    let data = json!({"content_id": id, "title": title, "channel": channel, "brief_complete": brief.is_complete()});
    tx.commit(
        Record::new(content::CYCLE_STARTED, "content", &id, data.clone())
            .with_event(Some(client_id), data),
    )
    .await?;
    get(db, agency_id, &id).await
}

/// What an edit of an item may change; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ItemPatch {
    pub title: Option<String>,
    pub format: Option<String>,
    pub campaign: Option<String>,
    pub brief: Option<ContentBrief>,
    pub caption: Option<String>,
}

/// Why an approval was reopened, in the event and on the page.
pub const CAPTION_REOPENS: &str = "caption changed after approval";

/// Edits the title, format, campaign, brief or caption.
///
/// Once approved the item is what was approved: edits are refused (409)
/// from then on, except the caption's: a new caption on an approved or
/// scheduled item reopens approval ([`ContentAction::ReopenApproval`]: back
/// to `in_production`, taken off the schedule, its publishing QA to do
/// again, `content.approval_reopened` recorded) so the next round decides
/// on the new copy. During an open round the caption under review stays as
/// submitted (409). A caption that breaks the channel's length or hashtag
/// limit unticks that QA item.
pub async fn update(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    p: ItemPatch,
) -> Result<Item> {
    let title = p
        .title
        .as_deref()
        .map(|t| validate::name("title", t))
        .transpose()?;
    let format = p
        .format
        .as_deref()
        .map(|f| short("format", f, 60))
        .transpose()?;
    let campaign = p
        .campaign
        .as_deref()
        .map(|c| short("campaign", c, 120))
        .transpose()?;
    let brief = p.brief.map(ContentBrief::validated).transpose()?;
    let caption = p
        .caption
        .as_deref()
        .map(content::validate_caption)
        .transpose()?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    let caption = caption.filter(|c| *c != item.caption);
    let others = title.is_some() || format.is_some() || campaign.is_some() || brief.is_some();
    let approved = matches!(
        item.status,
        ContentStatus::Approved | ContentStatus::Scheduled
    );
    let editable = matches!(
        item.status,
        ContentStatus::Brief
            | ContentStatus::InProduction
            | ContentStatus::ChangesRequested
            | ContentStatus::InReview
    );
    if others && !editable {
        return Err(CoreError::Conflict(format!(
            "the item is {}: it stays as it was approved{}",
            item.status.label().to_lowercase(),
            if approved {
                " (a new caption reopens approval)"
            } else {
                ""
            }
        ))
        .into());
    }
    if caption.is_some() && item.status == ContentStatus::InReview {
        return Err(CoreError::Conflict(
            "a review round is open: the caption under review stays as submitted; \
             request changes (or wait for the decision), then edit it"
                .into(),
        )
        .into());
    }
    if caption.is_some() && !(editable || approved) {
        return Err(CoreError::Conflict(format!(
            "the item is {}: its caption stays as it was",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    let reopen = caption.is_some() && approved;
    let title = title.unwrap_or_else(|| item.title.clone());
    let format = format.unwrap_or_else(|| item.format.clone());
    let campaign = campaign.unwrap_or_else(|| item.campaign.clone());
    let brief = brief.unwrap_or_else(|| item.brief.clone());
    let changed_caption = caption.is_some();
    let caption = caption.unwrap_or_else(|| item.caption.clone());
    let mut qa = item.qa.clone();
    if reopen {
        // The copy changed: every check of the publishing QA is about it.
        qa.done.clear();
    } else if changed_caption {
        for problem in content::caption_problems(&item.channel, &caption) {
            qa.done.remove(problem.key);
        }
    }
    let status = if reopen {
        content::transition(item.status, ContentAction::ReopenApproval)?
    } else {
        item.status
    };
    sqlx::query(
        "UPDATE content_items SET title = $3, format = $4, campaign = $5, brief = $6, updated_at = $7, \
         caption = $8, qa = $9, status = $10 WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(&title)
    .bind(&format)
    .bind(&campaign)
    .bind(text(&brief)?)
    .bind(now)
    .bind(&caption)
    .bind(text(&qa)?)
    .bind(status.key())
    .execute(tx.conn())
    .await?;
    if reopen {
        sqlx::query(
            "UPDATE content_items SET qa_waived_reason = NULL WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    }
    let data = json!({"title": title, "brief_complete": brief.is_complete(), "brief_missing": brief.missing(),
        "caption_changed": changed_caption});
    let mut record = Record::new("content.updated", "content", id, data.clone());
    record.events.push(event(&item, "content.updated", data));
    if reopen {
        let ev = content::action_event(ContentAction::ReopenApproval);
        record.events.push(event(
            &item,
            ev,
            json!({"reason": CAPTION_REOPENS, "from": item.status.key(), "to": status.key(),
                "round": item.round, "version": item.current_version,
                "unscheduled": item.status == ContentStatus::Scheduled, "qa_reset": true}),
        ));
    }
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Locks an item's row for a change and loads it.
async fn lock(tx: &mut WriteTx, id: &str) -> Result<Item> {
    let agency_id = tx.agency_id().to_string();
    let hit = sqlx::query(
        "UPDATE content_items SET updated_at = updated_at WHERE agency_id = $1 AND id = $2",
    )
    .bind(&agency_id)
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if hit == 0 {
        return Err(StoreError::NotFound);
    }
    get_on(tx.conn(), &agency_id, id).await
}

fn event(item: &Item, event_type: &str, data: serde_json::Value) -> NewEvent {
    let mut d = json!({"content_id": item.id, "title": item.title});
    if let (Some(o), serde_json::Value::Object(extra)) = (d.as_object_mut(), data) {
        o.extend(extra);
    }
    NewEvent {
        id: None,
        event_type: event_type.into(),
        client_id: Some(item.client_id.clone()),
        entity_type: "content".into(),
        entity_id: item.id.clone(),
        occurred_at: None,
        note: None,
        data: d,
    }
}

async fn set_status(
    tx: &mut WriteTx,
    item: &Item,
    to: ContentStatus,
    extra_sql: &str,
    binds: &[Option<i64>],
) -> Result<()> {
    let sql = format!(
        "UPDATE content_items SET status = $3, updated_at = $4{extra_sql} WHERE agency_id = $1 AND id = $2"
    );
    let mut q = sqlx::query(&sql)
        .bind(tx.agency_id().to_string())
        .bind(&item.id)
        .bind(to.key())
        .bind(tx.now());
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(tx.conn()).await?;
    Ok(())
}

/// The approver id that stands for the client (who decides on the item's
/// approval link, without an account); defined by the policy.
pub use baton_core::policy::CLIENT_APPROVER;

/// Active members of the agency among `ids` (each once) with their names,
/// or a 422 naming the first one who cannot be chosen: by name when they
/// are a (deactivated) member, as given when nobody has that id.
async fn members_of(
    conn: &mut AnyConnection,
    agency_id: &str,
    field: &str,
    ids: &[String],
) -> Result<Vec<(String, String)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    if ids.len() > 50 {
        return Err(CoreError::invalid(field, "at most 50 people").into());
    }
    for id in ids {
        let id = id.trim();
        // The client approves on their approval link: "client" in approvers.
        if id == CLIENT_APPROVER && field == "approvers" {
            if seen.insert(id.to_string()) {
                out.push((id.to_string(), "the client".to_string()));
            }
            continue;
        }
        let row = sqlx::query("SELECT active, name FROM members WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        let name = match row {
            Some(r) if r.try_get::<i64, _>("active")? == 1 => r.try_get::<String, _>("name")?,
            Some(r) => {
                let name: String = r.try_get("name")?;
                return Err(CoreError::invalid(
                    field,
                    format!("{name} is no longer an active member of this agency"),
                )
                .into());
            }
            None => {
                return Err(CoreError::invalid(
                    field,
                    format!("{id:?} is not a member of this agency"),
                )
                .into())
            }
        };
        if seen.insert(id.to_string()) {
            out.push((id.to_string(), name));
        }
    }
    Ok(out)
}

/// The reviewers and approvers of `p`, each an active member (or the
/// client, as approver) and listed once. Approval stays narrow: nobody is
/// both, and the refusal names them.
async fn checked_people(
    conn: &mut AnyConnection,
    agency_id: &str,
    p: &Participants,
) -> Result<(Vec<String>, Vec<String>)> {
    let reviewers = members_of(conn, agency_id, "reviewers", &p.reviewers).await?;
    let approvers = members_of(conn, agency_id, "approvers", &p.approvers).await?;
    if let Some((_, name)) = reviewers
        .iter()
        .find(|(r, _)| approvers.iter().any(|(a, _)| a == r))
    {
        return Err(CoreError::invalid(
            "approvers",
            format!("{name} is listed as reviewer and approver: keep approval narrow, choose one"),
        )
        .into());
    }
    let ids = |v: Vec<(String, String)>| v.into_iter().map(|(id, _)| id).collect();
    Ok((ids(reviewers), ids(approvers)))
}

/// Who reviews and who approves an item, and how approvals combine.
#[derive(Debug, Clone, Default)]
pub struct Participants {
    pub reviewers: Vec<String>,
    pub approvers: Vec<String>,
    /// `None` keeps the item's mode.
    pub mode: Option<ApprovalMode>,
    /// An admin makes the change: on an item it applies at once, even
    /// during an open round ([`policy::participants_effect`]). Whether the
    /// person may make it at all is the handler's question
    /// ([`policy::can`]); the store does not authorize.
    pub by_admin: bool,
}

/// Sets who reviews (comments) and who approves (decides). Approval stays
/// narrow: a member is a reviewer or an approver, not both. During an open
/// round a change by anyone but an admin is kept as the item's pending
/// participants (`content.participants_changed` with `"applies":
/// "next_round"`) and applied when the next round opens ([`submit`]); the
/// open round is decided by the approvers it was submitted to. Otherwise it
/// applies at once (`"applies": "now"`) and replaces any pending change.
pub async fn set_participants(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    p: &Participants,
) -> Result<Item> {
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    let (reviewers, approvers) = checked_people(tx.conn(), agency_id, p).await?;
    let mode = p.mode.unwrap_or(item.approval_mode);
    let effect = policy::participants_effect(p.by_admin, item.status);
    let applies = match effect {
        Effect::Now => {
            sqlx::query(
                "UPDATE content_items SET reviewers = $3, approvers = $4, approval_mode = $5, updated_at = $6, \
                 pending_participants = NULL WHERE agency_id = $1 AND id = $2",
            )
            .bind(agency_id)
            .bind(id)
            .bind(text(&reviewers)?)
            .bind(text(&approvers)?)
            .bind(mode.key())
            .bind(now)
            .execute(tx.conn())
            .await?;
            "now"
        }
        Effect::NextRound => {
            let pending = PendingParticipants {
                reviewers: reviewers.clone(),
                approvers: approvers.clone(),
                approval_mode: mode,
                by: actor.label.clone(),
                by_id: actor.id.clone(),
                at: now,
            };
            sqlx::query(
                "UPDATE content_items SET pending_participants = $3, updated_at = $4 \
                 WHERE agency_id = $1 AND id = $2",
            )
            .bind(agency_id)
            .bind(id)
            .bind(text(&pending)?)
            .bind(now)
            .execute(tx.conn())
            .await?;
            "next_round"
        }
    };
    let data = json!({"reviewers": reviewers, "approvers": approvers, "approval_mode": mode.key(),
        "applies": applies, "round": item.round,
        "replaced_pending": item.pending_participants.is_some()});
    let mut record = Record::new("content.participants_changed", "content", id, data.clone());
    record
        .events
        .push(event(&item, "content.participants_changed", data));
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Event of a pending change of reviewers and approvers applied as the next
/// round opened.
pub const PARTICIPANTS_APPLIED: &str = "content.participants_applied";

/// A new version: a link (files come through [`add_file_version`]).
#[derive(Debug, Clone)]
pub enum NewVersion {
    Link {
        url: String,
    },
    /// A draft file already stored under the data directory.
    File {
        /// The uploaded name, sanitized.
        file_name: String,
        content_type: String,
        size_bytes: i64,
        stored_name: String,
        sha256: String,
    },
}

/// Whether an item in `status` takes a new version: not while a round is
/// open, not once approved.
pub fn version_allowed(status: ContentStatus) -> Result<()> {
    match status {
        ContentStatus::Brief | ContentStatus::InProduction | ContentStatus::ChangesRequested => {
            Ok(())
        }
        ContentStatus::InReview => Err(CoreError::Conflict(
            "a review round is open on the current version: wait for its decision, then add the revision".into(),
        )
        .into()),
        s => Err(CoreError::Conflict(format!(
            "the item is {}: versions are added before approval",
            s.label().to_lowercase()
        ))
        .into()),
    }
}

/// The item, if it takes a new version now: checked before a draft file is
/// received, so a refused upload is not stored first. [`add_version`]
/// checks again under the write lock.
pub async fn ready_for_version(db: &Db, agency_id: &str, id: &str) -> Result<Item> {
    let item = get(db, agency_id, id).await?;
    version_allowed(item.status)?;
    Ok(item)
}

/// One version of an item.
pub async fn version(db: &Db, agency_id: &str, id: &str, n: i64) -> Result<Version> {
    versions(db, agency_id, id)
        .await?
        .into_iter()
        .find(|v| v.n == n)
        .ok_or(StoreError::NotFound)
}

/// The words that come with a version.
#[derive(Debug, Clone, Default)]
pub struct VersionText {
    /// What changed in this version.
    pub note: Option<String>,
    /// The caption to publish with it; `None` keeps the item's caption. A
    /// caption given here becomes the item's caption too.
    pub caption: Option<String>,
}

/// Adds the next immutable version, named by the agency's convention, with
/// the caption it goes with (given, or the item's current one). The first
/// version moves an item from `brief` to `in_production`; a version cannot
/// be added while a round is open or once approved.
pub async fn add_version(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    v: NewVersion,
    words: VersionText,
) -> Result<Version> {
    if let NewVersion::Link { url } = &v {
        if validate::optional_url("url", url)?.is_none() {
            return Err(CoreError::invalid("url", "give the draft's link (https://…)").into());
        }
    }
    let note = match words
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) => Some(validate::note("note", n)?),
        None => None,
    };
    let given_caption = words
        .caption
        .as_deref()
        .map(content::validate_caption)
        .transpose()?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    version_allowed(item.status)?;
    let caption = given_caption.unwrap_or_else(|| item.caption.clone());
    let settings = settings_on(tx.conn(), agency_id).await?;
    let n = item.current_version + 1;
    let date = baton_core::clock::rfc3339(now)[..10].replace('-', "");
    let name = content::version_name(
        &settings.naming,
        &NameParts {
            client: item.client_name.clone(),
            campaign: item.campaign.clone(),
            channel: item.channel.clone(),
            format: item.format.clone(),
            title: item.title.clone(),
            date,
        },
        n as u32,
    );
    let (kind, url, file_name, content_type, size, stored_name, sha256) = match v {
        NewVersion::Link { url } => (
            "link",
            Some(url.trim().to_string()),
            None,
            None,
            None,
            None,
            None,
        ),
        NewVersion::File {
            file_name,
            content_type,
            size_bytes,
            stored_name,
            sha256,
        } => (
            "file",
            None,
            Some(file_name),
            Some(content_type),
            Some(size_bytes),
            Some(stored_name),
            Some(sha256),
        ),
    };
    sqlx::query(
        "INSERT INTO content_versions (agency_id, content_id, n, name, kind, url, file_name, content_type, \
         size_bytes, stored_name, sha256, note, created_by_id, created_by, created_at, caption) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(agency_id)
    .bind(id)
    .bind(n)
    .bind(&name)
    .bind(kind)
    .bind(&url)
    .bind(&file_name)
    .bind(&content_type)
    .bind(size)
    .bind(&stored_name)
    .bind(&sha256)
    .bind(&note)
    .bind(&actor.id)
    .bind(&actor.label)
    .bind(now)
    .bind(&caption)
    .execute(tx.conn())
    .await?;
    let to = if item.status == ContentStatus::Brief {
        ContentStatus::InProduction
    } else {
        item.status
    };
    let mut qa = item.qa.clone();
    if caption != item.caption {
        for problem in content::caption_problems(&item.channel, &caption) {
            qa.done.remove(problem.key);
        }
    }
    sqlx::query(
        "UPDATE content_items SET current_version = $3, status = $4, updated_at = $5, caption = $6, qa = $7 \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(n)
    .bind(to.key())
    .bind(now)
    .bind(&caption)
    .bind(text(&qa)?)
    .execute(tx.conn())
    .await?;
    let data = json!({"version": n, "name": name, "kind": kind, "caption_changed": caption != item.caption});
    let mut record = Record::new("content.version_added", "content", id, data.clone());
    record
        .events
        .push(event(&item, "content.version_added", data));
    tx.commit(record).await?;
    Ok(Version {
        n,
        name,
        kind: kind.into(),
        url,
        file_name,
        content_type,
        size_bytes: size,
        stored_name,
        sha256,
        note,
        caption: Some(caption),
        created_by: actor.label.clone(),
        created_at: now,
    })
}

/// Moves an item by one of the plain actions (approve the brief, cancel,
/// unschedule, publish), recording the action's event.
pub async fn act(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    action: ContentAction,
) -> Result<Item> {
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    let to = content::transition(item.status, action)?;
    match action {
        ContentAction::ApproveBrief if !item.brief.is_complete() => {
            return Err(CoreError::Conflict(format!(
                "the brief is not complete: fill {}",
                item.brief.missing().join(", ")
            ))
            .into());
        }
        ContentAction::ApproveBrief | ContentAction::Cancel | ContentAction::Unschedule => {
            set_status(&mut tx, &item, to, "", &[]).await?
        }
        ContentAction::Publish => {
            set_status(&mut tx, &item, to, ", published_at = $5", &[Some(now)]).await?
        }
        _ => {
            return Err(CoreError::Conflict(format!(
                "use the item's own endpoint to {}",
                action.key().replace('_', " ")
            ))
            .into())
        }
    }
    let ev = content::action_event(action);
    let data = json!({"from": item.status.key(), "to": to.key()});
    let mut record = Record::new(ev, "content", id, data.clone());
    record.events.push(event(&item, ev, data));
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Submits the current version for review: opens a round (records
/// `content.drafts_ready`, which starts the review and approval SOP) with
/// the item's caption as the round's. Needs a version and at least one
/// approver. A pending change of reviewers and approvers applies here, in
/// the same transaction, before the round opens
/// ([`PARTICIPANTS_APPLIED`]).
pub async fn submit(db: &Db, agency_id: &str, actor: &Actor, now: i64, id: &str) -> Result<Item> {
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    let to = content::transition(item.status, ContentAction::Submit)?;
    if item.current_version == 0 {
        return Err(CoreError::Conflict(
            "add a version (a file or a link) before submitting".into(),
        )
        .into());
    }
    let mut record = Record::new(
        content::action_event(ContentAction::Submit),
        "content",
        id,
        json!({}),
    );
    let mut approvers = &item.approvers;
    if let Some(p) = &item.pending_participants {
        approvers = &p.approvers;
        sqlx::query(
            "UPDATE content_items SET reviewers = $3, approvers = $4, approval_mode = $5, \
             pending_participants = NULL WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(id)
        .bind(text(&p.reviewers)?)
        .bind(text(&p.approvers)?)
        .bind(p.approval_mode.key())
        .execute(tx.conn())
        .await?;
        record.events.push(event(
            &item,
            PARTICIPANTS_APPLIED,
            json!({"reviewers": p.reviewers, "approvers": p.approvers,
                "approval_mode": p.approval_mode.key(), "applied": "next_round",
                "round": item.round + 1, "requested_by": p.by, "requested_at": p.at}),
        ));
    }
    if approvers.is_empty() {
        return Err(CoreError::Conflict(
            "name at least one approver first (PUT …/participants): someone must decide".into(),
        )
        .into());
    }
    let round = item.round + 1;
    sqlx::query(
        "INSERT INTO content_rounds (agency_id, content_id, round, version_n, submitted_at, caption) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(agency_id)
    .bind(id)
    .bind(round)
    .bind(item.current_version)
    .bind(now)
    .bind(&item.caption)
    .execute(tx.conn())
    .await?;
    set_status(
        &mut tx,
        &item,
        to,
        ", round = $5, submitted_at = $6, first_submitted_at = COALESCE(first_submitted_at, $6)",
        &[Some(round), Some(now)],
    )
    .await?;
    let ev = content::action_event(ContentAction::Submit);
    let data = json!({"round": round, "version": item.current_version,
        "participants_applied": item.pending_participants.is_some()});
    record.detail = data.clone();
    record.events.push(event(&item, ev, data));
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Who is speaking: a member of the agency or the client on their link.
#[derive(Debug, Clone)]
pub enum Speaker {
    Member { id: String, name: String },
    Client { name: String },
}

impl Speaker {
    fn parts(&self) -> (&'static str, String, String) {
        match self {
            Speaker::Member { id, name } => ("member", id.clone(), name.clone()),
            Speaker::Client { name } => ("client", String::new(), name.clone()),
        }
    }
}

/// A comment on the current round.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub who: Speaker,
    pub body: String,
    /// The client sees it on their approval link. Members' comments are
    /// internal unless marked; the client's own are always theirs to see.
    pub for_client: bool,
}

/// Adds a comment to the current round (review is broad: any member, and
/// the client on their link).
pub async fn comment(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    c: &NewComment,
) -> Result<Remark> {
    let (who, for_client) = (
        &c.who,
        c.for_client || matches!(c.who, Speaker::Client { .. }),
    );
    let body = validate::note("body", &c.body)?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    if !item.status.is_open() {
        return Err(CoreError::Conflict(format!(
            "the item is {}",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    let (kind, author_id, label) = who.parts();
    let cid = ids::new_id(ids::COMMENT, now);
    sqlx::query(
        "INSERT INTO content_comments (id, agency_id, content_id, round, version_n, author_kind, author_id, author_label, body, created_at, for_client) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&cid)
    .bind(agency_id)
    .bind(id)
    .bind(item.round)
    .bind(item.current_version)
    .bind(kind)
    .bind(&author_id)
    .bind(&label)
    .bind(&body)
    .bind(now)
    .bind(i64::from(for_client))
    .execute(tx.conn())
    .await?;
    let data = json!({"comment_id": cid, "round": item.round, "by": label, "author_kind": kind, "for_client": for_client});
    let mut record = Record::new("content.commented", "content", id, data.clone());
    record.events.push(event(&item, "content.commented", data));
    tx.commit(record).await?;
    Ok(Remark {
        id: cid,
        round: item.round,
        version_n: item.current_version,
        author_kind: kind.into(),
        author_id,
        author_label: label,
        decision: None,
        body: Some(body),
        for_client,
        created_at: now,
    })
}

/// The round's feedback as one list: every comment and decision comment of
/// the round, "Name: text", in time order.
async fn consolidate(
    conn: &mut AnyConnection,
    agency_id: &str,
    id: &str,
    round: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT author_label, body, created_at, id FROM content_comments WHERE agency_id = $1 AND content_id = $2 AND round = $3 \
         UNION ALL SELECT author_label, comment AS body, created_at, id FROM content_decisions \
         WHERE agency_id = $1 AND content_id = $2 AND round = $3 AND comment IS NOT NULL ORDER BY created_at, id",
    )
    .bind(agency_id)
    .bind(id)
    .bind(round)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let who: String = r.try_get("author_label")?;
            let body: String = r.try_get("body")?;
            Ok(format!("{who}: {body}"))
        })
        .collect()
}

/// A decision on the current round.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub who: Speaker,
    pub decision: Decision,
    /// Required when requesting changes.
    pub comment: Option<String>,
    /// For a request for changes: major or minor (minor when absent).
    pub revision: Option<RevisionSize>,
}

/// Records an approver's decision on the current round. A reviewer (or any
/// other member) deciding is refused (403): approval is narrow. The item is
/// approved when the approvers' decisions say so (all, or any one, as the
/// item is set); a request for changes closes the round as a revision
/// (`major` or `minor`, minor by default) with the consolidated feedback.
pub async fn decide(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    d: &NewDecision,
) -> Result<Item> {
    let (who, decision, revision) = (&d.who, d.decision, d.revision);
    let comment = match d
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => Some(validate::note("comment", c)?),
        None => None,
    };
    if decision == Decision::RequestChanges && comment.is_none() {
        return Err(CoreError::invalid("comment", "say what should change").into());
    }
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    let (kind, _, label) = who.parts();
    // The client decides for the client's side; among members only the
    // round's approvers (the policy's rule, asked on the locked item).
    let decider = match who {
        Speaker::Member { id: m, .. } => policy::Decider::Member { id: m },
        Speaker::Client { .. } => policy::Decider::Client,
    };
    let approver_key = policy::may_decide(
        decider,
        policy::RoundSeats {
            approvers: &item.approvers,
            next_round_approvers: item
                .pending_participants
                .as_ref()
                .map(|p| p.approvers.as_slice()),
            reviewers: &item.reviewers,
        },
    )
    .map_err(|d| StoreError::Forbidden(d.sentence))?;
    if item.status != ContentStatus::InReview {
        return Err(CoreError::Conflict(format!(
            "nothing to decide: the item is {} (decisions are made on a submitted version)",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    let did = ids::new_id(ids::DECISION, now);
    sqlx::query(
        "INSERT INTO content_decisions (id, agency_id, content_id, round, version_n, author_kind, author_id, author_label, decision, comment, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&did)
    .bind(agency_id)
    .bind(id)
    .bind(item.round)
    .bind(item.current_version)
    .bind(kind)
    .bind(&approver_key)
    .bind(&label)
    .bind(decision.key())
    .bind(&comment)
    .bind(now)
    .execute(tx.conn())
    .await?;
    // Every decision of this round so far, members by id and the client as "client".
    let rows = sqlx::query(
        "SELECT author_id, decision FROM content_decisions WHERE agency_id = $1 AND content_id = $2 AND round = $3 \
         ORDER BY created_at, id",
    )
    .bind(agency_id)
    .bind(id)
    .bind(item.round)
    .fetch_all(tx.conn())
    .await?;
    let mut decisions = Vec::new();
    for r in &rows {
        let d: String = r.try_get("decision")?;
        if let Some(d) = Decision::parse(&d) {
            decisions.push((r.try_get::<String, _>("author_id")?, d));
        }
    }
    let outcome = content::round_outcome(item.approval_mode, &item.approvers, &decisions);
    let ev_data = json!({"round": item.round, "version": item.current_version, "decision": decision.key(), "by": label});
    let mut record = Record::new("content.decided", "content", id, ev_data.clone());
    record.events.push(event(&item, "content.decided", ev_data));
    match outcome {
        RoundOutcome::Pending { .. } => {}
        RoundOutcome::Approved => {
            let to = content::transition(item.status, ContentAction::Approve)?;
            let business = item
                .first_submitted_at
                .map(|s| calendar.business_between(s, now));
            set_status(
                &mut tx,
                &item,
                to,
                ", approved_at = $5, approval_business_ms = $6",
                &[Some(now), business],
            )
            .await?;
            close_round(&mut tx, &item, "approved", None).await?;
            let ev = content::action_event(ContentAction::Approve);
            record.events.push(event(
                &item,
                ev,
                json!({"round": item.round, "version": item.current_version}),
            ));
        }
        RoundOutcome::ChangesRequested => {
            let to = content::transition(item.status, ContentAction::RequestChanges)?;
            set_status(&mut tx, &item, to, "", &[]).await?;
            let size = revision.unwrap_or(RevisionSize::Minor);
            let feedback = close_round(&mut tx, &item, "changes_requested", Some(size)).await?;
            let ev = content::action_event(ContentAction::RequestChanges);
            record.events.push(event(
                &item,
                ev,
                json!({"round": item.round, "revision": size.key(), "feedback": feedback}),
            ));
        }
    }
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

async fn close_round(
    tx: &mut WriteTx,
    item: &Item,
    outcome: &str,
    revision: Option<RevisionSize>,
) -> Result<Vec<String>> {
    let agency_id = tx.agency_id().to_string();
    let feedback = consolidate(tx.conn(), &agency_id, &item.id, item.round).await?;
    sqlx::query(
        "UPDATE content_rounds SET decided_at = $4, outcome = $5, revision = $6, consolidated = $7 \
         WHERE agency_id = $1 AND content_id = $2 AND round = $3",
    )
    .bind(&agency_id)
    .bind(&item.id)
    .bind(item.round)
    .bind(tx.now())
    .bind(outcome)
    .bind(revision.map(|r| r.key()))
    .bind(text(&feedback)?)
    .execute(tx.conn())
    .await?;
    Ok(feedback)
}

/// Ticks or unticks QA items; who did it is recorded.
pub async fn set_qa(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    items: &BTreeMap<String, bool>,
) -> Result<Item> {
    if items.is_empty() {
        return Err(CoreError::invalid("items", "name at least one QA item").into());
    }
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    if matches!(
        item.status,
        ContentStatus::Published | ContentStatus::Cancelled
    ) {
        return Err(CoreError::Conflict(format!(
            "the item is {}",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    let mut qa = item.qa.clone();
    let problems = content::caption_problems(&item.channel, &item.caption);
    for (key, &tick) in items {
        let Some(line) = qa.items.iter().find(|i| &i.key == key) else {
            return Err(CoreError::invalid(
                "items",
                format!("{key:?} is not on this item's QA checklist"),
            )
            .into());
        };
        if let Some(p) = problems.iter().find(|p| p.key == key).filter(|_| tick) {
            return Err(CoreError::invalid(
                "items",
                format!("\"{}\" cannot be ticked: {}", line.label, p.message),
            )
            .into());
        }
        if tick {
            qa.done.entry(key.clone()).or_insert(Done {
                at: now,
                by: actor.label.clone(),
            });
        } else {
            qa.done.remove(key);
        }
    }
    sqlx::query("UPDATE content_items SET qa = $3, qa_by = $4, qa_at = $5, updated_at = $5 WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id)
        .bind(text(&qa)?)
        .bind(&actor.label)
        .bind(now)
        .execute(tx.conn())
        .await?;
    let data = json!({"done": qa.done.len(), "of": qa.items.len(), "complete": qa.complete()});
    let mut record = Record::new("content.qa_changed", "content", id, data.clone());
    record.events.push(event(&item, "content.qa_changed", data));
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Schedules an approved item. Refused (409) until its QA checklist is
/// complete, unless QA is waived with a reason — recorded as an incident
/// risk (`content.qa_waived`).
pub async fn schedule(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    publish_at: i64,
    waive_reason: Option<&str>,
) -> Result<Item> {
    let waive = match waive_reason.map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => Some(validate::note("qa_waived_reason", w)?),
        None => None,
    };
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    let to = content::transition(item.status, ContentAction::Schedule)?;
    if !item.qa.complete() && waive.is_none() {
        let missing: Vec<&str> = item
            .qa
            .items
            .iter()
            .filter(|i| !item.qa.done.contains_key(&i.key))
            .map(|i| i.label.as_str())
            .collect();
        return Err(CoreError::Conflict(format!(
            "publishing QA is not complete: {} item{} left ({}); finish it or waive it with a reason",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            missing.join("; ")
        ))
        .into());
    }
    set_status(&mut tx, &item, to, ", publish_at = $5", &[Some(publish_at)]).await?;
    let ev = content::action_event(ContentAction::Schedule);
    let data = json!({"publish_at": publish_at, "qa_by": item.qa_by, "qa_waived": waive.is_some()});
    let mut record = Record::new(ev, "content", id, data.clone());
    record.events.push(event(&item, ev, data));
    if let Some(reason) = &waive {
        sqlx::query(
            "UPDATE content_items SET qa_waived_reason = $3 WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(id)
        .bind(reason)
        .execute(tx.conn())
        .await?;
        record.events.push(event(
            &item,
            "content.qa_waived",
            json!({"reason": reason, "incident_risk": true, "by": actor.label}),
        ));
    }
    tx.commit(record).await?;
    get(db, agency_id, id).await
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
