//! One way files people uploaded leave Baton (draft files, brand-kit files):
//! a `Content-Disposition` naming the file safely, `nosniff`, a sandboxing
//! Content-Security-Policy and a private cache rule, so a file opened on its
//! own runs nothing and reaches nothing, whichever page serves it.

use axum::http::{header, HeaderMap, HeaderValue};

/// How the browser shows the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Saved as a file.
    Attachment,
    /// Shown in the tab (a draft's preview).
    Inline,
}

/// The sandbox for a file shown inline: images and media of this site load,
/// nothing else does.
pub const INLINE_SANDBOX: &str = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'";
/// The sandbox for a file only ever saved.
pub const SANDBOX: &str = "sandbox";

/// `name` with what a quoted header value cannot hold (`"`, `\`, controls,
/// anything outside ASCII) replaced by `_`; "download" when nothing is left.
pub fn ascii_file_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.trim().is_empty() {
        "download".into()
    } else {
        s
    }
}

/// RFC 8187 encoding of a file name for `filename*`.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `attachment; filename="…"` (or `inline`), with `filename*` carrying the
/// exact name when the plain one had to change.
pub fn disposition(name: &str, show: Show) -> HeaderValue {
    let kind = match show {
        Show::Attachment => "attachment",
        Show::Inline => "inline",
    };
    let plain = ascii_file_name(name);
    let value = if plain == name {
        format!("{kind}; filename=\"{plain}\"")
    } else {
        format!(
            "{kind}; filename=\"{plain}\"; filename*=UTF-8''{}",
            percent_encode(name)
        )
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

/// The content type a file is served with: the stored one, except types a
/// browser could run as a page (SVG, HTML, XML), which are served as bytes.
pub fn safe_type(stored: &str) -> HeaderValue {
    let t = stored.trim().to_ascii_lowercase();
    let active = t.contains("svg") || t.contains("html") || t.contains("xml") || t.is_empty();
    if active {
        return HeaderValue::from_static("application/octet-stream");
    }
    HeaderValue::from_str(&t).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// Marks a response as a download of `name`: its disposition, `nosniff`,
/// the sandbox `csp` and the cache rule `cache`.
pub fn mark(h: &mut HeaderMap, name: &str, show: Show, csp: &'static str, cache: &'static str) {
    h.insert(header::CONTENT_DISPOSITION, disposition(name, show));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_name_files_safely() {
        for (name, show, want) in [
            (
                "bluebird_spring_instagram_reel_v2.mp4",
                Show::Inline,
                "inline; filename=\"bluebird_spring_instagram_reel_v2.mp4\"",
            ),
            (
                "logo v2.png",
                Show::Attachment,
                "attachment; filename=\"logo v2.png\"",
            ),
            (
                "a\"b.png",
                Show::Attachment,
                "attachment; filename=\"a_b.png\"; filename*=UTF-8''a%22b.png",
            ),
            (
                "ünï.pdf",
                Show::Attachment,
                "attachment; filename=\"_n_.pdf\"; filename*=UTF-8''%C3%BCn%C3%AF.pdf",
            ),
            (
                "",
                Show::Attachment,
                "attachment; filename=\"download\"; filename*=UTF-8''",
            ),
        ] {
            assert_eq!(disposition(name, show), want, "{name}");
        }
        assert_eq!(ascii_file_name("logo \"v2\".png"), "logo _v2_.png");
    }

    #[test]
    fn active_types_are_served_as_bytes() {
        for (stored, want) in [
            ("image/png", "image/png"),
            ("IMAGE/PNG ", "image/png"),
            ("image/svg+xml", "application/octet-stream"),
            ("text/html", "application/octet-stream"),
            ("application/xhtml+xml", "application/octet-stream"),
            ("", "application/octet-stream"),
            ("bad\nvalue", "application/octet-stream"),
        ] {
            assert_eq!(safe_type(stored), want, "{stored:?}");
        }
    }

    #[test]
    fn a_marked_response_runs_nothing() {
        let mut h = HeaderMap::new();
        mark(&mut h, "brief.pdf", Show::Attachment, SANDBOX, "no-store");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], "sandbox");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(
            h[header::CONTENT_DISPOSITION],
            "attachment; filename=\"brief.pdf\""
        );
    }
}
