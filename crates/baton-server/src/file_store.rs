//! Where uploaded files are kept: one interface, two backends.
//!
//! - **Local** (the default): the data directory, as [`crate::uploads`] lays
//!   it out (`{data_dir}/uploads/{agency}/{client}/{stored_name}`). Right for
//!   one server; several servers would each see only their own uploads.
//! - **Object storage**: an S3-compatible bucket (`BATON_STORAGE_URL=
//!   s3://bucket/prefix`), shared by every server of a deployment. Keys are
//!   `{prefix}/{agency}/{client}/{stored_name}`; uploads stream in 8 MiB
//!   parts and become visible only when complete; downloads stream and
//!   honour a single byte `Range`, `If-None-Match`, `If-Modified-Since` and
//!   `If-Range`, as the local backend does through tower-http.
//!
//! Both backends refuse any path part that is not one plain name, and never
//! replace a stored file: names carry a random part chosen by the caller.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as KeyPath;
use object_store::{GetOptions, GetRange, MultipartUpload, ObjectStore, PutPayload};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::uploads;

/// The size of each part of a streamed upload to object storage (S3 needs
/// at least 5 MiB for every part but the last).
const PART_BYTES: usize = 8 * 1024 * 1024;

/// Where this server keeps uploaded files. Cheap to clone.
#[derive(Clone)]
pub enum FileStore {
    /// Under the data directory (the path is the data directory itself).
    Local(PathBuf),
    /// In an S3-compatible bucket.
    Object(Arc<ObjectFiles>),
}

/// An S3-compatible bucket and the key prefix Baton's files live under.
pub struct ObjectFiles {
    store: AmazonS3,
    /// Path parts of the prefix (may be empty).
    prefix: Vec<String>,
    /// `s3://bucket/prefix`, for logs and `baton backup`; never a secret.
    label: String,
}

// The store's own Debug would print its credentials; this prints where.
impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "stored file not found")
}

fn storage_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => not_found(),
        e => io::Error::other(format!("object storage: {e}")),
    }
}

/// Splits `s3://bucket/some/prefix` into the bucket and the prefix parts.
pub fn parse_s3_url(url: &str) -> Result<(String, Vec<String>), String> {
    let rest = url.trim().strip_prefix("s3://").ok_or_else(|| {
        format!("{url:?} must look like s3://bucket/prefix (or be empty for the data directory)")
    })?;
    let rest = rest.trim_end_matches('/');
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.']);
    if !bucket_ok {
        return Err(format!(
            "{bucket:?} is not a bucket name (3–63 lower-case letters, digits, '-' or '.')"
        ));
    }
    let mut parts = Vec::new();
    for part in prefix.split('/').filter(|p| !p.is_empty()) {
        if !uploads::is_plain(part) {
            return Err(format!("the prefix part {part:?} is not a plain name"));
        }
        parts.push(part.to_string());
    }
    Ok((bucket.to_string(), parts))
}

impl FileStore {
    /// The data directory backend.
    pub fn local(data_dir: PathBuf) -> FileStore {
        FileStore::Local(data_dir)
    }

    /// Object storage at `url` (`s3://bucket/prefix`), connected as
    /// `builder` says (endpoint, region, credentials); the bucket name is
    /// taken from the URL.
    pub fn s3(url: &str, builder: AmazonS3Builder) -> Result<FileStore, String> {
        let (bucket, prefix) = parse_s3_url(url)?;
        let store = builder
            .with_bucket_name(&bucket)
            .build()
            .map_err(|e| format!("object storage settings: {e}"))?;
        let label = if prefix.is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{}", prefix.join("/"))
        };
        Ok(FileStore::Object(Arc::new(ObjectFiles {
            store,
            prefix,
            label,
        })))
    }

    /// Object storage from `BATON_STORAGE_URL` with the usual `AWS_*`
    /// variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP`, …).
    pub fn s3_from_env(url: &str) -> Result<FileStore, String> {
        let mut builder = AmazonS3Builder::from_env();
        // A region is needed to sign; S3-compatible servers ignore it.
        if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
            builder = builder.with_region("us-east-1");
        }
        FileStore::s3(url, builder)
    }

    /// Where files go, in words (no secrets): for logs and `baton backup`.
    pub fn describe(&self) -> String {
        match self {
            FileStore::Local(dir) => format!("{}", uploads::root(dir).display()),
            FileStore::Object(o) => o.label.clone(),
        }
    }

    /// Whether every server of a deployment sees the same files.
    pub fn is_shared(&self) -> bool {
        matches!(self, FileStore::Object(_))
    }

    /// Checks that the storage answers (at start-up, so a wrong bucket or
    /// key is reported at once rather than at the first upload).
    pub async fn check(&self) -> io::Result<()> {
        match self {
            FileStore::Local(_) => Ok(()),
            FileStore::Object(o) => {
                let probe = o.key(&[".baton-check"])?;
                match o.store.head(&probe).await {
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(storage_error(e)),
                }
            }
        }
    }

    /// Stores `bytes` as a new file.
    pub async fn store(
        &self,
        agency_id: &str,
        client_id: &str,
        stored_name: &str,
        bytes: Vec<u8>,
    ) -> io::Result<()> {
        match self {
            FileStore::Local(dir) => {
                uploads::store(dir, agency_id, client_id, stored_name, bytes).await?;
                Ok(())
            }
            FileStore::Object(o) => {
                let key = o.key(&[agency_id, client_id, stored_name])?;
                o.store
                    .put(&key, PutPayload::from(bytes))
                    .await
                    .map_err(storage_error)?;
                Ok(())
            }
        }
    }

    /// Starts a file received in pieces, to be kept as `stored_name` when
    /// [`Incoming::finish`] is called (dropped unfinished, nothing stays).
    pub async fn incoming(
        &self,
        agency_id: &str,
        client_id: &str,
        stored_name: &str,
    ) -> io::Result<Incoming> {
        match self {
            FileStore::Local(dir) => {
                if !uploads::is_plain(stored_name) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("unsafe path part: {stored_name}"),
                    ));
                }
                let file = uploads::Incoming::create(dir, agency_id, client_id).await?;
                Ok(Incoming {
                    inner: Inner::Local {
                        file,
                        name: stored_name.to_string(),
                    },
                    written: 0,
                })
            }
            FileStore::Object(o) => {
                let key = o.key(&[agency_id, client_id, stored_name])?;
                let upload = o.store.put_multipart(&key).await.map_err(storage_error)?;
                Ok(Incoming {
                    inner: Inner::Object {
                        upload: Some(upload),
                        buffer: Vec::new(),
                    },
                    written: 0,
                })
            }
        }
    }

    /// Reads a whole stored file (brand-kit files are small).
    pub async fn read(
        &self,
        agency_id: &str,
        client_id: &str,
        stored_name: &str,
    ) -> io::Result<Vec<u8>> {
        match self {
            FileStore::Local(dir) => uploads::read(dir, agency_id, client_id, stored_name).await,
            FileStore::Object(o) => {
                let key = o.key(&[agency_id, client_id, stored_name])?;
                let got = o.store.get(&key).await.map_err(storage_error)?;
                Ok(got.bytes().await.map_err(storage_error)?.to_vec())
            }
        }
    }

    /// Removes a stored file; a missing one is fine.
    pub async fn remove(
        &self,
        agency_id: &str,
        client_id: &str,
        stored_name: &str,
    ) -> io::Result<()> {
        match self {
            FileStore::Local(dir) => uploads::remove(dir, agency_id, client_id, stored_name).await,
            FileStore::Object(o) => {
                let key = o.key(&[agency_id, client_id, stored_name])?;
                match o.store.delete(&key).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(storage_error(e)),
                }
            }
        }
    }

    /// Every stored file (temporary ones too, on the local backend), as
    /// `agency/client/name`, sorted: for tests and operators' checks.
    pub async fn list(&self) -> io::Result<Vec<String>> {
        let mut out = match self {
            FileStore::Local(dir) => {
                let root = uploads::root(dir);
                tokio::task::spawn_blocking(move || {
                    let mut out = Vec::new();
                    list_dir(&root, &root, &mut out)?;
                    Ok::<_, io::Error>(out)
                })
                .await
                .map_err(io::Error::other)??
            }
            FileStore::Object(o) => {
                let prefix = KeyPath::from_iter(o.prefix.iter().map(String::as_str));
                let skip = o.prefix.len();
                let mut stream = o.store.list(Some(&prefix));
                let mut out = Vec::new();
                while let Some(meta) = stream.next().await {
                    let meta = meta.map_err(storage_error)?;
                    let parts: Vec<String> = meta
                        .location
                        .parts()
                        .skip(skip)
                        .map(|p| p.as_ref().to_string())
                        .collect();
                    out.push(parts.join("/"));
                }
                out
            }
        };
        out.sort();
        Ok(out)
    }

    /// Serves a stored file to `GET`/`HEAD` with the request's `Range` and
    /// conditional headers (only a single well-formed byte range is
    /// honoured; anything else gets the whole file). Headers such as the
    /// content type are the caller's. `Ok(None)`: no such file.
    pub async fn serve(
        &self,
        agency_id: &str,
        client_id: &str,
        stored_name: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> io::Result<Option<Response<Body>>> {
        let head = method == Method::HEAD;
        match self {
            FileStore::Local(dir) => {
                let path = uploads::path_for(dir, agency_id, client_id, stored_name)?;
                if !tokio::fs::try_exists(&path).await? {
                    return Ok(None);
                }
                let mut req = Request::new(Body::empty());
                *req.method_mut() = if head { Method::HEAD } else { Method::GET };
                // A Range that is not one well-formed byte range is ignored,
                // as RFC 9110 allows: the whole file, 200. A well-formed
                // range past the end is still a 416.
                if let Some(v) = headers.get(header::RANGE) {
                    let text = v.to_str().unwrap_or("");
                    if byte_range(text, u64::MAX).is_some() {
                        req.headers_mut().insert(header::RANGE, v.clone());
                    }
                }
                for h in [
                    header::IF_RANGE,
                    header::IF_MODIFIED_SINCE,
                    header::IF_UNMODIFIED_SINCE,
                    header::IF_NONE_MATCH,
                ] {
                    if let Some(v) = headers.get(&h) {
                        req.headers_mut().insert(h, v.clone());
                    }
                }
                let resp = ServeFile::new(&path)
                    .oneshot(req)
                    .await
                    .map_err(io::Error::other)?;
                Ok(Some(resp.map(Body::new)))
            }
            FileStore::Object(o) => {
                o.serve(agency_id, client_id, stored_name, head, headers)
                    .await
            }
        }
    }
}

fn list_dir(
    root: &std::path::Path,
    dir: &std::path::Path,
    out: &mut Vec<String>,
) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            list_dir(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

impl ObjectFiles {
    fn key(&self, parts: &[&str]) -> io::Result<KeyPath> {
        for p in parts {
            if !uploads::is_plain(p) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unsafe path part: {p}"),
                ));
            }
        }
        Ok(KeyPath::from_iter(
            self.prefix
                .iter()
                .map(String::as_str)
                .chain(parts.iter().copied()),
        ))
    }

    async fn serve(
        &self,
        agency_id: &str,
        client_id: &str,
        stored_name: &str,
        head: bool,
        headers: &HeaderMap,
    ) -> io::Result<Option<Response<Body>>> {
        let key = self.key(&[agency_id, client_id, stored_name])?;
        let meta = match self.store.head(&key).await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(storage_error(e)),
        };
        let size = meta.size;
        let modified = SystemTime::from(meta.last_modified);
        let etag = meta.e_tag.clone();
        let plan = plan_response(headers, size, modified, etag.as_deref());
        let mut builder = Response::builder()
            .header(header::ACCEPT_RANGES, "bytes")
            .header(header::LAST_MODIFIED, httpdate::fmt_http_date(modified));
        if let Some(tag) = &etag {
            if let Ok(v) = HeaderValue::from_str(tag) {
                builder = builder.header(header::ETAG, v);
            }
        }
        let (status, range) = match plan {
            Plan::NotModified => {
                return builder
                    .status(StatusCode::NOT_MODIFIED)
                    .body(Body::empty())
                    .map(Some)
                    .map_err(io::Error::other);
            }
            Plan::Unsatisfiable => {
                return builder
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                    .body(Body::empty())
                    .map(Some)
                    .map_err(io::Error::other);
            }
            Plan::Whole => (StatusCode::OK, None),
            Plan::Part(start, end) => (StatusCode::PARTIAL_CONTENT, Some((start, end))),
        };
        let length = match range {
            Some((start, end)) => {
                builder = builder.header(
                    header::CONTENT_RANGE,
                    format!("bytes {start}-{}/{size}", end - 1),
                );
                end - start
            }
            None => size,
        };
        builder = builder
            .status(status)
            .header(header::CONTENT_LENGTH, length);
        if head || length == 0 {
            return builder
                .body(Body::empty())
                .map(Some)
                .map_err(io::Error::other);
        }
        let options = GetOptions {
            range: range.map(|(s, e)| GetRange::Bounded(s..e)),
            ..Default::default()
        };
        let got = match self.store.get_opts(&key, options).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(storage_error(e)),
        };
        let stream = got
            .into_stream()
            .map(|chunk| chunk.map_err(|e| io::Error::other(format!("object storage: {e}"))));
        builder
            .body(Body::from_stream(stream))
            .map(Some)
            .map_err(io::Error::other)
    }
}

/// What to answer a download with.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    Whole,
    /// Bytes `start..end` (end exclusive).
    Part(u64, u64),
    NotModified,
    Unsatisfiable,
}

/// Decides the answer from the request's conditional and `Range` headers
/// (RFC 9110 §13 and §14), for a file of `size` bytes.
fn plan_response(headers: &HeaderMap, size: u64, modified: SystemTime, etag: Option<&str>) -> Plan {
    let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    let seconds = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    };
    if let Some(inm) = text(header::IF_NONE_MATCH) {
        let matches = inm.trim() == "*"
            || etag.is_some_and(|tag| {
                inm.split(',')
                    .any(|t| t.trim().trim_start_matches("W/") == tag.trim_start_matches("W/"))
            });
        if matches {
            return Plan::NotModified;
        }
    } else if let Some(since) =
        text(header::IF_MODIFIED_SINCE).and_then(|t| httpdate::parse_http_date(t).ok())
    {
        if seconds(modified) <= seconds(since) {
            return Plan::NotModified;
        }
    }
    let Some(range) = text(header::RANGE) else {
        return Plan::Whole;
    };
    // If-Range: the range only while the file is the one the client has.
    if let Some(if_range) = text(header::IF_RANGE) {
        let same = if if_range.trim().starts_with('"') {
            etag.is_some_and(|tag| tag == if_range.trim())
        } else {
            httpdate::parse_http_date(if_range).is_ok_and(|t| seconds(t) == seconds(modified))
        };
        if !same {
            return Plan::Whole;
        }
    }
    match byte_range(range, size) {
        Some(Some((start, end))) => Plan::Part(start, end),
        Some(None) => Plan::Unsatisfiable,
        None => Plan::Whole,
    }
}

/// A single byte range against `size`: `None` when not one well-formed
/// range (then ignored), `Some(None)` when it cannot be satisfied,
/// `Some(Some((start, end)))` with `end` exclusive.
fn byte_range(range: &str, size: u64) -> Option<Option<(u64, u64)>> {
    let spec = range.trim().strip_prefix("bytes=")?;
    let (first, last) = spec.trim().split_once('-')?;
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim(), last.trim()) {
        ("", n) => {
            let n = num(n).filter(|n| *n > 0)?;
            if size == 0 {
                return Some(None);
            }
            Some(Some((size.saturating_sub(n), size)))
        }
        (a, "") => {
            let a = num(a)?;
            Some((a < size).then_some((a, size)))
        }
        (a, b) => {
            let (a, b) = (num(a)?, num(b)?);
            if a > b {
                return None;
            }
            Some((a < size).then_some((a, (b + 1).min(size))))
        }
    }
}

/// A file being received in pieces (a draft video can be hundreds of MB).
pub struct Incoming {
    inner: Inner,
    written: u64,
}

enum Inner {
    Local {
        file: uploads::Incoming,
        name: String,
    },
    Object {
        /// `None` once completed or aborted.
        upload: Option<Box<dyn MultipartUpload>>,
        buffer: Vec<u8>,
    },
    /// Finished (or being finished).
    Done,
}

impl Incoming {
    /// Appends a piece.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.inner {
            Inner::Local { file, .. } => file.write(bytes).await?,
            Inner::Done => return Err(io::Error::other("upload finished")),
            Inner::Object { upload, buffer } => {
                buffer.extend_from_slice(bytes);
                if buffer.len() >= PART_BYTES {
                    let part = std::mem::take(buffer);
                    let up = upload
                        .as_mut()
                        .ok_or_else(|| io::Error::other("upload finished"))?;
                    up.put_part(PutPayload::from(part))
                        .await
                        .map_err(storage_error)?;
                }
            }
        }
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Makes the file visible under its stored name.
    pub async fn finish(mut self) -> io::Result<()> {
        match std::mem::replace(&mut self.inner, Inner::Done) {
            Inner::Local { file, name } => {
                file.finish(&name).await?;
                Ok(())
            }
            Inner::Done => Err(io::Error::other("upload finished")),
            Inner::Object { upload, buffer } => {
                let mut up = upload.ok_or_else(|| io::Error::other("upload finished"))?;
                let empty = self.written == 0;
                let result = async {
                    if !buffer.is_empty() || empty {
                        up.put_part(PutPayload::from(buffer)).await?;
                    }
                    up.complete().await
                }
                .await;
                if let Err(e) = result {
                    let _ = up.abort().await;
                    return Err(storage_error(e));
                }
                Ok(())
            }
        }
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Unfinished: the parts sent so far are thrown away (the local
        // backend removes its temporary file itself).
        if let Inner::Object { upload, .. } = &mut self.inner {
            if let Some(mut up) = upload.take() {
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move {
                        if let Err(e) = up.abort().await {
                            tracing::warn!(error = %e, "aborting an unfinished upload failed");
                        }
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls() {
        for (url, want) in [
            ("s3://baton-files", Some(("baton-files", vec![]))),
            ("s3://baton-files/", Some(("baton-files", vec![]))),
            (
                "s3://baton-files/prod/eu",
                Some(("baton-files", vec!["prod", "eu"])),
            ),
            (
                "s3://baton-files//prod/",
                Some(("baton-files", vec!["prod"])),
            ),
            ("https://baton-files", None),
            ("s3://", None),
            ("s3://Baton", None),
            ("s3://ab", None),
            ("s3://-bucket", None),
            ("s3://bucket/../x", None),
        ] {
            let got = parse_s3_url(url).ok();
            let want = want.map(|(b, p): (&str, Vec<&str>)| {
                (
                    b.to_string(),
                    p.into_iter().map(String::from).collect::<Vec<_>>(),
                )
            });
            assert_eq!(got, want, "{url}");
        }
    }

    #[test]
    fn byte_ranges() {
        for (range, size, want) in [
            ("bytes=0-99", 1000, Some(Some((0, 100)))),
            ("bytes=990-2000", 1000, Some(Some((990, 1000)))),
            ("bytes=100-", 1000, Some(Some((100, 1000)))),
            ("bytes=-10", 1000, Some(Some((990, 1000)))),
            ("bytes=-5000", 1000, Some(Some((0, 1000)))),
            ("bytes=1000-", 1000, Some(None)),
            ("bytes=1000-1001", 1000, Some(None)),
            ("bytes=-1", 0, Some(None)),
            ("bytes=5-4", 1000, None),
            ("bytes=-0", 1000, None),
            ("bytes=0-1,3-4", 1000, None),
            ("items=0-1", 1000, None),
        ] {
            assert_eq!(byte_range(range, size), want, "{range} of {size}");
        }
    }

    #[test]
    fn conditional_requests() {
        let modified = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let date = httpdate::fmt_http_date(modified);
        let earlier = httpdate::fmt_http_date(modified - std::time::Duration::from_secs(60));
        let tag = "\"abc\"";
        let h = |pairs: &[(&str, &str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(
                    header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            m
        };
        for (headers, want) in [
            (h(&[]), Plan::Whole),
            (h(&[("if-none-match", tag)]), Plan::NotModified),
            (h(&[("if-none-match", "\"other\"")]), Plan::Whole),
            (h(&[("if-modified-since", &date)]), Plan::NotModified),
            (h(&[("if-modified-since", &earlier)]), Plan::Whole),
            (h(&[("range", "bytes=0-9")]), Plan::Part(0, 10)),
            (
                h(&[("range", "bytes=0-9"), ("if-range", tag)]),
                Plan::Part(0, 10),
            ),
            (
                h(&[("range", "bytes=0-9"), ("if-range", "\"old\"")]),
                Plan::Whole,
            ),
            (
                h(&[("range", "bytes=0-9"), ("if-range", &date)]),
                Plan::Part(0, 10),
            ),
            (
                h(&[("range", "bytes=0-9"), ("if-range", &earlier)]),
                Plan::Whole,
            ),
            (h(&[("range", "bytes=500-")]), Plan::Unsatisfiable),
            (h(&[("range", "bytes=0-1,4-5")]), Plan::Whole),
        ] {
            assert_eq!(
                plan_response(&headers, 100, modified, Some(tag)),
                want,
                "{headers:?}"
            );
        }
    }
}
