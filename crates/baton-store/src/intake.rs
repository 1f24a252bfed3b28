//! What the client hands over on the onboarding link besides access: answers
//! to the agency's intake questionnaire (saved on the client) and brand-kit
//! files (bytes under the data directory; their metadata here).

use std::collections::BTreeMap;

use baton_core::onboarding::validate_answers;
use baton_core::types::ClientId;
use baton_core::{events, ids};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Answer {
    pub question_key: String,
    /// The question as it was worded when answered.
    pub question: String,
    pub answer: String,
    pub answered_at: i64,
}

pub async fn answers(db: &Db, agency_id: &str, client_id: &str) -> Result<Vec<Answer>> {
    let rows = sqlx::query(
        "SELECT question_key, question, answer, answered_at FROM client_answers \
         WHERE agency_id = $1 AND client_id = $2 ORDER BY answered_at, question_key",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Answer {
                question_key: r.try_get("question_key")?,
                question: r.try_get("question")?,
                answer: r.try_get("answer")?,
                answered_at: r.try_get("answered_at")?,
            })
        })
        .collect()
}

/// Saves the client's answers (validated against the agency's current
/// questionnaire); an answer left empty keeps nothing for that question.
pub async fn save_answers(
    cx: Cx<'_>,
    client_id: &ClientId,
    given: &BTreeMap<String, String>,
) -> Result<Vec<Answer>> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let client_id = client_id.as_str();
    let settings = crate::onboarding_settings::get(db, agency_id).await?;
    let valid = validate_answers(&settings.questions, given)?;
    let mut tx = cx.begin().await?;
    for q in &settings.questions {
        sqlx::query("DELETE FROM client_answers WHERE agency_id = $1 AND client_id = $2 AND question_key = $3")
            .bind(agency_id)
            .bind(client_id)
            .bind(&q.key)
            .execute(tx.conn())
            .await?;
    }
    for (key, question, answer) in &valid {
        sqlx::query(
            "INSERT INTO client_answers (agency_id, client_id, question_key, question, answer, answered_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(agency_id)
        .bind(client_id)
        .bind(key)
        .bind(question)
        .bind(answer)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let keys: Vec<&str> = valid.iter().map(|(k, _, _)| k.as_str()).collect();
    tx.commit(
        Record::new(
            events::ANSWERS_SAVED,
            "client",
            client_id,
            json!({"answered": keys}),
        )
        .with_event(Some(client_id), json!({"answered": keys})),
    )
    .await?;
    answers(db, agency_id, client_id).await
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClientFile {
    pub id: String,
    pub client_id: String,
    pub link_id: Option<String>,
    /// The sanitized name shown and used for downloads.
    pub name: String,
    /// The file's name under the data directory (`{id}-{name}`).
    pub stored_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_at: i64,
    pub uploaded_by: String,
}

const FILE_COLS: &str =
    "id, client_id, link_id, name, stored_name, content_type, size_bytes, sha256, uploaded_at, uploaded_by";

fn file_from_row(r: &AnyRow) -> Result<ClientFile> {
    Ok(ClientFile {
        id: r.try_get("id")?,
        client_id: r.try_get("client_id")?,
        link_id: r.try_get("link_id")?,
        name: r.try_get("name")?,
        stored_name: r.try_get("stored_name")?,
        content_type: r.try_get("content_type")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        uploaded_at: r.try_get("uploaded_at")?,
        uploaded_by: r.try_get("uploaded_by")?,
    })
}

/// A new file's metadata; the bytes are already on disk under `stored_name`.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub id: String,
    pub link_id: Option<String>,
    pub name: String,
    pub stored_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// A fresh file id (the caller names the stored file after it before writing).
pub fn new_file_id(now: i64) -> String {
    ids::new_id(ids::FILE, now)
}

pub async fn add_file(cx: Cx<'_>, client_id: &ClientId, f: NewFile) -> Result<ClientFile> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    let client_id = client_id.as_str();
    let mut tx = cx.begin().await?;
    sqlx::query(&format!(
        "INSERT INTO client_files ({FILE_COLS}, agency_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&f.id)
    .bind(client_id)
    .bind(f.link_id.as_deref())
    .bind(&f.name)
    .bind(&f.stored_name)
    .bind(&f.content_type)
    .bind(f.size_bytes)
    .bind(&f.sha256)
    .bind(now)
    .bind(&actor.label)
    .bind(agency_id)
    .execute(tx.conn())
    .await?;
    let data = json!({"file_id": f.id, "name": f.name, "content_type": f.content_type, "size_bytes": f.size_bytes});
    tx.commit(
        Record::new(events::FILE_UPLOADED, "client_file", &f.id, data.clone())
            .with_event(Some(client_id), data),
    )
    .await?;
    get_file(db, agency_id, &f.id).await
}

pub async fn files(db: &Db, agency_id: &str, client_id: &str) -> Result<Vec<ClientFile>> {
    let rows = sqlx::query(&format!(
        "SELECT {FILE_COLS} FROM client_files WHERE agency_id = $1 AND client_id = $2 ORDER BY id"
    ))
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(file_from_row).collect()
}

pub async fn get_file(db: &Db, agency_id: &str, id: &str) -> Result<ClientFile> {
    if !ids::has_shape(id, ids::FILE) {
        return Err(StoreError::NotFound);
    }
    let row = sqlx::query(&format!(
        "SELECT {FILE_COLS} FROM client_files WHERE agency_id = $1 AND id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    file_from_row(&row)
}
