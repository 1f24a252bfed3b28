//! Reading what a browser sent: url-encoded forms as key/value pairs (read
//! into typed structs by [`CsrfForm`](super::csrf_form::CsrfForm) for a
//! member's forms and [`PlainForm`] for forms without a session), query
//! strings, typed path ids, the caller's address for audit and throttling,
//! and the refusal of a form whose CSRF token is wrong.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;

use super::WebError;

/// The fields of a url-encoded form, in order (checkbox groups repeat a key).
#[derive(Debug, Default, Clone)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    /// The first value of `key`, or "" when absent.
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every field in the order sent.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(pairs)) => Ok(FormData(pairs)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(WebError::PayloadTooLarge),
            Err(e) if e.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Err(WebError::BadRequest(
                    "Forms must be sent as application/x-www-form-urlencoded.".into(),
                ))
            }
            Err(_) => Err(WebError::BadRequest("The form could not be read.".into())),
        }
    }
}

/// A url-encoded form read into `T` (the rules of [`super::csrf_form`])
/// without the session's CSRF check: for forms that prove their origin
/// otherwise (sign-in and invites check a double-submit token, a client's
/// portal page checks its capability link).
#[derive(Debug, Clone)]
pub struct PlainForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for PlainForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form = FormData::from_request(req, state).await?;
        super::csrf_form::read(form.pairs()).map(PlainForm)
    }
}

/// The query string as key/value pairs; a malformed one reads as empty.
#[derive(Debug, Default, Clone)]
pub struct QueryData(FormData);

impl QueryData {
    /// The value of `key`, if present and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        Some(self.0.get(key)).filter(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryData {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let pairs = axum::extract::Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|q| q.0)
            .unwrap_or_default();
        Ok(QueryData(FormData(pairs)))
    }
}

/// Path parameters, typed (ids such as [`baton_core::types::ClientId`]): a
/// value of the wrong shape names nothing, so it is the 404 page, as an id
/// of another agency is.
#[derive(Debug, Clone)]
pub struct WebPath<T>(pub T);

impl<S, T> FromRequestParts<S> for WebPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| WebPath(v))
            .map_err(|_| WebError::NotFound)
    }
}

/// Where a request came from: the peer address and User-Agent, for the audit
/// log and login throttling.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    pub ip: String,
    pub user_agent: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientMeta {
            ip: crate::auth::client_ip(&parts.extensions),
            user_agent: crate::auth::user_agent(&parts.headers),
        })
    }
}

/// The refusal of a form whose CSRF token is missing or wrong.
pub fn csrf_refused() -> WebError {
    WebError::Forbidden(
        "This form has expired or did not come from Baton. Reload the page and try again.".into(),
    )
}

/// What a person is told when their upload is not readable multipart.
pub const UNREADABLE_UPLOAD: &str =
    "The upload could not be read. Choose the file again and retry.";

/// A multipart body axum refused: over the route's limit (413) or not
/// readable multipart (400).
pub fn multipart_refused(e: &MultipartRejection) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::PayloadTooLarge
    } else {
        WebError::BadRequest(UNREADABLE_UPLOAD.into())
    }
}

/// `next` when it is a path on this site ("/…" but not "//…", and only
/// visible ASCII so it is a valid `Location`), else "/".
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 2000
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_only() {
        for (input, want) in [
            (Some("/clients/cli_1?x=1"), "/clients/cli_1?x=1"),
            (Some("/"), "/"),
            (Some("//evil.example/x"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("/a\r\nSet-Cookie: x=1"), "/"),
            (Some("/caf\u{e9}"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some(""), "/"),
            (None, "/"),
        ] {
            assert_eq!(local_path(input), want, "{input:?}");
        }
    }

    #[test]
    fn form_fields() {
        let f = FormData(vec![
            ("roles".into(), "analyst".into()),
            ("name".into(), "Ana".into()),
            ("roles".into(), "ops".into()),
        ]);
        assert_eq!(f.get("name"), "Ana");
        assert_eq!(f.get("missing"), "");
        assert_eq!(f.pairs().len(), 3);
    }
}
