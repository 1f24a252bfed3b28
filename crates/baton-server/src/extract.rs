//! Request extractors that turn every malformed input into a clear problem
//! instead of axum's plain-text rejections.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::ApiError;

/// JSON body: a JSON object (every request body of the API is one). Syntax
/// errors are 400, wrong shapes 422 (an array where the object belongs too:
/// serde would otherwise read a struct's fields from it by position), a
/// missing JSON content type 415 and an oversized body 413, all as
/// problem+json.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = body_bytes(&parts, body, state).await?;
        let req = Request::from_parts(parts, axum::body::Body::from(bytes.clone()));
        let object = bytes.trim_ascii_start().starts_with(b"{");
        match (axum::Json::<T>::from_request(req, state).await, object) {
            (Ok(axum::Json(v)), true) => Ok(ApiJson(v)),
            (Ok(_) | Err(JsonRejection::JsonDataError(_)), false) => {
                Err(ApiError::invalid("body", "must be a JSON object"))
            }
            (Err(rejection), _) => Err(json_rejection(rejection)),
        }
    }
}

/// The whole body, under the app's body limit (413 over it).
async fn body_bytes<S: Send + Sync>(
    parts: &axum::http::request::Parts,
    body: axum::body::Body,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(e.body_text())
            }
        })
}

/// Path parameters, typed (ids such as [`baton_core::types::ClientId`]): a
/// value of the wrong shape names nothing here, so it is a 404 problem at
/// extraction, as an id of another agency is (never a 400 that would tell
/// the two apart).
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|_| ApiError::NotFound)
    }
}

/// A JSON body that may be left out: no body, an empty one or `null` gives
/// the type's default; anything else sent is checked like [`ApiJson`].
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        // Read through `Bytes` so the app's body limit applies (413).
        let bytes = body_bytes(&parts, body, state).await?;
        let blank = bytes.iter().all(u8::is_ascii_whitespace);
        if blank || bytes.trim_ascii() == b"null" {
            return Ok(OptionalJson(T::default()));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(v)| OptionalJson(v))
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => ApiError::invalid(
            "body",
            e.body_text().replace(
                "Failed to deserialize the JSON body into the target type: ",
                "",
            ),
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(format!(
            "malformed JSON: {}",
            e.body_text()
                .replace("Failed to parse the request body as JSON: ", "")
        )),
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "send the body as JSON with 'Content-Type: application/json'".into(),
        ),
        JsonRejection::BytesRejection(e)
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            ApiError::PayloadTooLarge
        }
        other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge
        }
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// Query string; a malformed one is a 400 problem.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(ApiError::BadRequest(e.body_text()))
            }
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// `?limit=&cursor=` of every list; documented as is for the lists keyed by
/// sequence numbers (the audit log), each other list documents its own
/// cursor's shape.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = crate::api::openapi::seq_cursor)]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn validate(&self) -> Result<(), ApiError> {
        if let Some(l) = self.limit {
            if !(1..=200).contains(&l) {
                return Err(ApiError::invalid("limit", "must be between 1 and 200"));
            }
        }
        Ok(())
    }
}

/// The cursor of a list keyed by ids (`cli_…`, `mem_…`): the id of the last
/// item shown. Anything else is a 422 instead of a silently empty page; an
/// empty cursor means the first page.
pub fn id_cursor<'a>(cursor: Option<&'a str>, prefix: &str) -> Result<Option<&'a str>, ApiError> {
    match cursor {
        None | Some("") => Ok(None),
        Some(c) if baton_core::ids::has_shape(c, prefix) => Ok(Some(c)),
        Some(_) => Err(ApiError::invalid("cursor", "not a cursor from this list")),
    }
}

/// Parses a report's `?from=&to=` (RFC 3339) into `(from, to, until)`: the
/// period is `[from, until)`, 90 days up to `to` by default, and when `to`
/// is left out it is now and `until` includes this very millisecond.
pub fn period(from: Option<&str>, to: Option<&str>, now: i64) -> Result<(i64, i64, i64), ApiError> {
    let parse = |field: &str, v: Option<&str>| -> Result<Option<i64>, ApiError> {
        match v {
            None | Some("") => Ok(None),
            Some(s) => baton_core::clock::parse_rfc3339(s)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(field, "must be an RFC 3339 time")),
        }
    };
    let given_to = parse("to", to)?;
    let to = given_to.unwrap_or(now);
    let from = parse("from", from)?.unwrap_or(to - 90 * 86_400_000);
    if from >= to {
        return Err(ApiError::invalid("from", "must be before to"));
    }
    let until = if given_to.is_some() { to } else { to + 1 };
    Ok((from, to, until))
}

/// Whether a request says its body is `multipart/form-data` (a file upload).
pub fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// `deserialize_with` of an optional integer field: a JSON number that is a
/// whole number is taken however it is written (`30`, `30.0`, `3e1`), as
/// JSON Schema's `integer` says; a fraction or a value out of range is
/// refused with a clear message (422).
pub fn whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    let v = match n.as_i64() {
        Some(v) => v,
        None => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
            _ => return Err(D::Error::custom(format!("{n} is not a whole number"))),
        },
    };
    T::try_from(v)
        .map(Some)
        .map_err(|_| D::Error::custom(format!("{v} is out of range")))
}
