//! Draft files of content versions: received from a multipart form (the API
//! and the item page share this), streamed to the data directory, recorded
//! as the item's next version, and served back to the team and to the
//! client's approval page.
//!
//! A draft is checked by name before any byte is kept and by its first bytes
//! as they arrive; past [`MAX_DRAFT_BYTES`] or on a mismatch the rest of the
//! body is read and dropped, so the sender gets an answer rather than a
//! reset connection. Nothing is stored for a refused upload, and a file
//! whose version could not be recorded is removed again.

use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use baton_core::content_files::{self, Preview, Refusal, MAX_DRAFT_BYTES, SNIFF_BYTES};

use baton_core::types::ContentId;
use baton_core::uploads::{self as names, Kind};
use baton_store::content::{self, NewVersion, Version};
use baton_store::{Cx, StoreError};
use sha2::{Digest, Sha256};

use crate::download::Show;
use crate::file_store::Incoming;
use crate::state::AppState;

/// The body limit of the routes that take a draft: the file plus the form
/// around it.
pub const UPLOAD_BODY_LIMIT: usize = MAX_DRAFT_BYTES as usize + 1024 * 1024;

/// The refusal past the routes' body limit (the hard cap).
const OVER_CAP: Refusal = Refusal::TooLarge {
    limit: MAX_DRAFT_BYTES,
};

/// The longest note or CSRF field read from the form.
const MAX_TEXT_FIELD: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    /// The sender's mistake, worded for them.
    #[error("{0}")]
    Refused(Refusal),
    #[error("the body is not readable multipart/form-data")]
    Unreadable,
    /// The web form's CSRF token did not come (first) or did not match.
    #[error("the form's CSRF token is missing or wrong")]
    Csrf,
    /// An API upload named a field the form does not have (a typo such as
    /// `notes` would otherwise lose what it carried without a word).
    #[error("unknown field {0:?}; the upload takes file, note and caption")]
    UnknownField(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("storing a draft file: {0}")]
    Io(#[from] std::io::Error),
}

impl DraftError {
    /// The HTTP status of a refusal (413 for size, 422 otherwise).
    pub fn refusal_status(r: &Refusal) -> StatusCode {
        match r {
            Refusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// A draft received and checked, not yet named or recorded.
pub struct Received {
    /// The uploaded name, sanitized.
    name: String,
    /// The name it is kept under (item id, a random part, the name).
    stored_name: String,
    kind: &'static Kind,
    size: u64,
    sha256: String,
    incoming: Incoming,
}

/// The form: `csrf` (web only, before the file), `note`, `file`.
#[derive(Default)]
pub struct DraftForm {
    pub note: String,
    /// The caption sent with the draft; `None` keeps the item's.
    pub caption: Option<String>,
    pub file: Option<Received>,
    /// Why the file was refused (the rest of the form is still read, so a
    /// page can keep the note).
    pub refused: Option<Refusal>,
}

fn too_large(e: &MultipartError) -> bool {
    e.status() == StatusCode::PAYLOAD_TOO_LARGE
}

/// Reads a small text field, refusing one over [`MAX_TEXT_FIELD`].
async fn text(field: &mut Field<'_>) -> Result<String, DraftError> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(c)) if bytes.len() + c.len() <= MAX_TEXT_FIELD => bytes.extend_from_slice(&c),
            Ok(Some(_)) => return Err(DraftError::Unreadable),
            Ok(None) => break,
            Err(e) if too_large(&e) => return Err(DraftError::Refused(OVER_CAP)),
            Err(_) => return Err(DraftError::Unreadable),
        }
    }
    String::from_utf8(bytes).map_err(|_| DraftError::Unreadable)
}

/// Reads what is left of a field without keeping it.
async fn drain(field: &mut Field<'_>) -> Result<(), DraftError> {
    loop {
        match field.chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(e) if too_large(&e) => return Err(DraftError::Refused(OVER_CAP)),
            Err(_) => return Err(DraftError::Unreadable),
        }
    }
}

/// Streams the `file` field to the file store (a temporary file, or an
/// object not yet visible), checking its name, first bytes and size on the way.
async fn receive(
    state: &AppState,
    agency_id: &str,
    client_id: &str,
    item_id: &str,
    field: &mut Field<'_>,
) -> Result<Received, DraftError> {
    let mut name = names::sanitize_name(field.file_name().unwrap_or(""));
    if let Err(r) = content_files::check_name(&name) {
        drain(field).await?;
        // A form sent without choosing a file has an empty name and body.
        let r = if field.file_name().unwrap_or("").is_empty() {
            Refusal::Empty
        } else {
            r
        };
        return Err(DraftError::Refused(r));
    }
    let stored_name = format!(
        "{item_id}-{}-{name}",
        &baton_core::secret::random_token()[..12]
    );
    let mut incoming = state
        .config
        .files
        .incoming(agency_id, client_id, &stored_name)
        .await?;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut kind = None;
    let mut hasher = Sha256::new();
    let mut refused = None;
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) if too_large(&e) => return Err(DraftError::Refused(OVER_CAP)),
            Err(_) => return Err(DraftError::Unreadable),
        };
        if refused.is_some() {
            continue;
        }
        let limit = state.config.draft_limit.min(MAX_DRAFT_BYTES);
        if incoming.written() + chunk.len() as u64 > limit {
            refused = Some(Refusal::TooLarge { limit });
            continue;
        }
        if kind.is_none() {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == SNIFF_BYTES {
                match content_files::check(&name, &head) {
                    Ok(k) => kind = Some(k),
                    Err(r) => {
                        refused = Some(r);
                        continue;
                    }
                }
            }
        }
        hasher.update(&chunk);
        incoming.write(&chunk).await?;
    }
    if let Some(r) = refused {
        return Err(DraftError::Refused(r));
    }
    // A file shorter than the sniffed prefix is checked on what there is.
    let kind = match kind {
        Some(k) => k,
        None => content_files::check(&name, &head).map_err(DraftError::Refused)?,
    };
    // A name without an extension gets its type's, so the file opens.
    if baton_core::uploads::extension(&name).is_none() {
        name = format!("{}.{}", name.trim_end_matches('.'), kind.extensions[0]);
    }
    Ok(Received {
        name,
        stored_name,
        kind,
        size: incoming.written(),
        sha256: baton_core::secret::hex(&hasher.finalize()),
        incoming,
    })
}

/// Reads the draft form of item `item_id`. With `csrf`, the web form's token
/// must come before the file and match (`csrf` says whether a submitted token
/// is right), and other fields (the browser's buttons) are ignored; without,
/// it is an API call authenticated by its bearer token, and a field other
/// than `file`, `note` and `caption` is refused.
pub async fn read_form(
    state: &AppState,
    agency_id: &str,
    client_id: &str,
    item_id: &str,
    mut multipart: Multipart,
    csrf: Option<&(dyn Fn(&str) -> bool + Sync)>,
) -> Result<DraftForm, DraftError> {
    let mut form = DraftForm::default();
    let mut csrf_ok = csrf.is_none();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if too_large(&e) => return Err(DraftError::Refused(OVER_CAP)),
            Err(_) => return Err(DraftError::Unreadable),
        };
        match field.name().unwrap_or("") {
            "csrf" => {
                let token = text(&mut field).await?;
                csrf_ok = csrf.is_none_or(|ok| ok(&token));
            }
            "note" => form.note = text(&mut field).await?,
            "caption" => form.caption = Some(text(&mut field).await?),
            "file" if form.file.is_none() && form.refused.is_none() => {
                if !csrf_ok {
                    return Err(DraftError::Csrf);
                }
                match receive(state, agency_id, client_id, item_id, &mut field).await {
                    Ok(r) => form.file = Some(r),
                    Err(DraftError::Refused(r)) => form.refused = Some(r),
                    Err(e) => return Err(e),
                }
            }
            "file" => drain(&mut field).await?,
            other if csrf.is_none() => {
                return Err(DraftError::UnknownField(other.chars().take(100).collect()))
            }
            _ => drain(&mut field).await?,
        }
    }
    if !csrf_ok {
        return Err(DraftError::Csrf);
    }
    Ok(form)
}

/// Records the received draft as the item's next version: the file gets
/// its stored name, then the version row; if recording fails the file is
/// removed again.
pub async fn add(
    state: &AppState,
    cx: Cx<'_>,
    item_id: &ContentId,
    client_id: &str,
    form: DraftForm,
) -> Result<Version, DraftError> {
    if let Some(r) = form.refused {
        return Err(DraftError::Refused(r));
    }
    let file = form.file.ok_or(DraftError::Refused(Refusal::Empty))?;
    let stored_name = file.stored_name;
    file.incoming.finish().await?;
    let result = content::add_version(
        cx,
        item_id,
        NewVersion::File {
            file_name: file.name,
            content_type: file.kind.content_type.to_string(),
            size_bytes: file.size as i64,
            stored_name: stored_name.clone(),
            sha256: file.sha256,
        },
        content::VersionText {
            note: Some(form.note),
            caption: form.caption,
        },
    )
    .await;
    if result.is_err() {
        let _ = state
            .config
            .files
            .remove(cx.agency_id(), client_id, &stored_name)
            .await;
    }
    Ok(result?)
}

/// How a file is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Images and videos shown in the page; other kinds still download.
    Preview,
    /// Always a download, named by the naming convention.
    Download,
}

/// Serves a file version (with `Range`, conditional requests and `HEAD`
/// handled by the file store, so phones can seek in a video). A link
/// version or a file missing from the file store is `None`.
pub async fn serve(
    state: &AppState,
    agency_id: &str,
    client_id: &str,
    version: &Version,
    method: &Method,
    headers: &HeaderMap,
    how: Disposition,
) -> Result<Option<Response>, DraftError> {
    let (Some(stored), Some(content_type)) = (&version.stored_name, &version.content_type) else {
        return Ok(None);
    };
    let served = state
        .config
        .files
        .serve(agency_id, client_id, stored, method, headers)
        .await;
    let mut resp = match served {
        Ok(Some(r)) => r,
        Ok(None) => {
            tracing::warn!(
                version = version.n,
                "draft file is missing from the file store"
            );
            return Ok(None);
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            tracing::warn!(version = version.n, error = %e, "stored draft name refused");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let inline = how == Disposition::Preview && Preview::of(content_type) != Preview::Document;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let show = if inline {
        Show::Inline
    } else {
        Show::Attachment
    };
    // Opened on its own, the file runs nothing and reaches nothing.
    crate::download::mark(
        h,
        &version.download_name(),
        show,
        crate::download::INLINE_SANDBOX,
        "private, no-cache",
    );
    Ok(Some(resp))
}
