//! Versions of an item: immutable, named by the agency's convention,
//! added only before a round opens and before approval.

use baton_core::content::{self, ContentStatus, NameParts};
use baton_core::types::ContentId;
use baton_core::{validate, CoreError};
use serde_json::json;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::{Actor, Record, WriteTx};

use super::{event, get, lock, settings_on, text, versions, Item, Version};

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
    cx: Cx<'_>,
    id: &ContentId,
    v: NewVersion,
    words: VersionText,
) -> Result<Version> {
    let (agency_id, actor, now) = (cx.agency_id(), cx.actor, cx.now);
    let (note, given_caption) = checked_words(&v, &words)?;
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    version_allowed(item.status)?;
    let caption = given_caption.unwrap_or_else(|| item.caption.clone());
    let settings = settings_on(tx.conn(), agency_id).await?;
    let n = item.current_version + 1;
    let name = name_of(&settings.naming, &item, n, now);
    let version = new_version(v, n, name, note, caption, actor, now);
    insert_version(&mut tx, id, &version, actor).await?;
    let caption_changed = version.caption.as_deref() != Some(item.caption.as_str());
    advance_item(&mut tx, &item, n, &version).await?;
    let data = json!({"version": n, "name": version.name, "kind": version.kind, "caption_changed": caption_changed});
    let mut record = Record::new("content.version_added", "content", id, data.clone());
    record
        .events
        .push(event(&item, "content.version_added", data));
    tx.commit(record).await?;
    Ok(version)
}

/// The version's note and given caption, checked (a link must be one).
fn checked_words(v: &NewVersion, words: &VersionText) -> Result<(Option<String>, Option<String>)> {
    if let NewVersion::Link { url } = v {
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
    Ok((note, given_caption))
}

/// Version `n`'s name by the agency's naming pattern.
fn name_of(naming: &str, item: &Item, n: i64, now: i64) -> String {
    let date = baton_core::clock::rfc3339(now)[..10].replace('-', "");
    content::version_name(
        naming,
        &NameParts {
            client: item.client_name.clone(),
            campaign: item.campaign.clone(),
            channel: item.channel.clone(),
            format: item.format.clone(),
            title: item.title.clone(),
            date,
        },
        n as u32,
    )
}

/// The version as it is stored: a link or a file, with its words.
fn new_version(
    v: NewVersion,
    n: i64,
    name: String,
    note: Option<String>,
    caption: String,
    actor: &Actor,
    now: i64,
) -> Version {
    let (kind, url, file_name, content_type, size_bytes, stored_name, sha256) = match v {
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
    Version {
        n,
        name,
        kind: kind.into(),
        url,
        file_name,
        content_type,
        size_bytes,
        stored_name,
        sha256,
        note,
        caption: Some(caption),
        created_by: actor.label.clone(),
        created_at: now,
    }
}

/// Inserts the version's row.
async fn insert_version(tx: &mut WriteTx, id: &str, v: &Version, actor: &Actor) -> Result<()> {
    let agency_id = tx.agency_id().to_string();
    sqlx::query(
        "INSERT INTO content_versions (agency_id, content_id, n, name, kind, url, file_name, content_type, \
         size_bytes, stored_name, sha256, note, created_by_id, created_by, created_at, caption) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&agency_id)
    .bind(id)
    .bind(v.n)
    .bind(&v.name)
    .bind(&v.kind)
    .bind(&v.url)
    .bind(&v.file_name)
    .bind(&v.content_type)
    .bind(v.size_bytes)
    .bind(&v.stored_name)
    .bind(&v.sha256)
    .bind(&v.note)
    .bind(&actor.id)
    .bind(&actor.label)
    .bind(v.created_at)
    .bind(&v.caption)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Makes version `n` the item's current one, with its caption: the first
/// version moves the item from `brief` to `in_production`; a new caption
/// unticks the QA checks it breaks.
async fn advance_item(tx: &mut WriteTx, item: &Item, n: i64, v: &Version) -> Result<()> {
    let caption = v.caption.clone().unwrap_or_default();
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
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    sqlx::query(
        "UPDATE content_items SET current_version = $3, status = $4, updated_at = $5, caption = $6, qa = $7 \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(&agency_id)
    .bind(item.id.as_str())
    .bind(n)
    .bind(to.key())
    .bind(now)
    .bind(&caption)
    .bind(text(&qa)?)
    .execute(tx.conn())
    .await?;
    Ok(())
}
