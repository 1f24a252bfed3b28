//! Versions of an item: immutable, named by the agency's convention,
//! added only before a round opens and before approval.

use baton_core::content::{self, ContentStatus, NameParts};
use baton_core::{validate, CoreError};
use serde_json::json;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::{Actor, Record};

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
