//! Files a client uploads on the onboarding link (the brand kit): the size
//! limit, the accepted types and how a name is made safe to show and store.
//!
//! A file is accepted only when its extension is on the list AND its first
//! bytes match that type (a `.png` must start with the PNG signature), so a
//! renamed executable or a mislabelled HTML page is refused. Pure: bytes and
//! names in, a verdict out.

use std::fmt;

/// The largest file accepted, in bytes (20 MiB).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// The longest stored name, in characters (all ASCII after sanitizing).
pub const MAX_NAME_CHARS: usize = 100;

/// Files one client may upload through its links: with the size limit this
/// bounds what anyone holding a link can put on the agency's disk (2 GiB).
pub const MAX_FILES_PER_CLIENT: usize = 100;

/// An accepted kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The lower-case extensions that name it.
    pub extensions: &'static [&'static str],
    /// What people call it ("PNG", "Word document").
    pub label: &'static str,
    pub content_type: &'static str,
    pub(crate) magic: Magic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Magic {
    /// Starts with one of these byte strings.
    Prefix(&'static [&'static [u8]]),
    /// `RIFF????WEBP`.
    Webp,
    /// UTF-8 text that contains `<svg`.
    Svg,
    /// UTF-8 text without NUL bytes.
    Text,
    /// An ISO base media file (MP4, QuickTime): bytes 4..8 name the first
    /// box, one of these.
    MediaBox(&'static [&'static [u8]]),
}

const ZIP: &[&[u8]] = &[b"PK\x03\x04", b"PK\x05\x06"];
const POSTSCRIPT: &[&[u8]] = &[b"%PDF", b"%!PS"];

/// PNG images (brand kits and drafts).
pub const PNG: Kind = Kind {
    extensions: &["png"],
    label: "PNG",
    content_type: "image/png",
    magic: Magic::Prefix(&[b"\x89PNG\r\n\x1a\n"]),
};

/// JPEG images (brand kits and drafts).
pub const JPEG: Kind = Kind {
    extensions: &["jpg", "jpeg"],
    label: "JPEG",
    content_type: "image/jpeg",
    magic: Magic::Prefix(&[b"\xff\xd8\xff"]),
};

/// GIF images (brand kits and drafts).
pub const GIF: Kind = Kind {
    extensions: &["gif"],
    label: "GIF",
    content_type: "image/gif",
    magic: Magic::Prefix(&[b"GIF87a", b"GIF89a"]),
};

/// WebP images (brand kits and drafts).
pub const WEBP: Kind = Kind {
    extensions: &["webp"],
    label: "WebP",
    content_type: "image/webp",
    magic: Magic::Webp,
};

/// PDF documents (brand kits and drafts).
pub const PDF: Kind = Kind {
    extensions: &["pdf"],
    label: "PDF",
    content_type: "application/pdf",
    magic: Magic::Prefix(&[b"%PDF"]),
};

/// Every accepted kind, in the order they are listed to the client.
pub const KINDS: &[Kind] = &[
    PNG,
    JPEG,
    GIF,
    WEBP,
    Kind {
        extensions: &["svg"],
        label: "SVG",
        content_type: "image/svg+xml",
        magic: Magic::Svg,
    },
    PDF,
    Kind {
        extensions: &["ai"],
        label: "Illustrator",
        content_type: "application/postscript",
        magic: Magic::Prefix(POSTSCRIPT),
    },
    Kind {
        extensions: &["eps"],
        label: "EPS",
        content_type: "application/postscript",
        magic: Magic::Prefix(POSTSCRIPT),
    },
    Kind {
        extensions: &["zip"],
        label: "ZIP",
        content_type: "application/zip",
        magic: Magic::Prefix(ZIP),
    },
    Kind {
        extensions: &["docx"],
        label: "Word",
        content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        magic: Magic::Prefix(ZIP),
    },
    Kind {
        extensions: &["pptx"],
        label: "PowerPoint",
        content_type: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        magic: Magic::Prefix(ZIP),
    },
    Kind {
        extensions: &["xlsx"],
        label: "Excel",
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        magic: Magic::Prefix(ZIP),
    },
    Kind {
        extensions: &["ttf"],
        label: "TrueType font",
        content_type: "font/ttf",
        magic: Magic::Prefix(&[b"\x00\x01\x00\x00", b"true", b"ttcf"]),
    },
    Kind {
        extensions: &["otf"],
        label: "OpenType font",
        content_type: "font/otf",
        magic: Magic::Prefix(&[b"OTTO", b"\x00\x01\x00\x00"]),
    },
    Kind {
        extensions: &["woff"],
        label: "WOFF",
        content_type: "font/woff",
        magic: Magic::Prefix(&[b"wOFF"]),
    },
    Kind {
        extensions: &["woff2"],
        label: "WOFF2",
        content_type: "font/woff2",
        magic: Magic::Prefix(&[b"wOF2"]),
    },
    Kind {
        extensions: &["txt"],
        label: "plain text",
        content_type: "text/plain; charset=utf-8",
        magic: Magic::Text,
    },
];

impl Kind {
    /// Whether `bytes` look like this kind.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        match self.magic {
            Magic::Prefix(prefixes) => prefixes.iter().any(|p| bytes.starts_with(p)),
            Magic::Webp => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
            Magic::Svg => match std::str::from_utf8(strip_bom(bytes)) {
                Ok(text) => !text.contains('\0') && text.to_ascii_lowercase().contains("<svg"),
                Err(_) => false,
            },
            Magic::Text => !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok(),
            Magic::MediaBox(boxes) => bytes.len() >= 8 && boxes.contains(&&bytes[4..8]),
        }
    }
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b)
}

/// The accepted extensions for a file input's `accept` attribute
/// (`.png,.jpg,…`).
pub fn accept_attribute() -> String {
    accept_attribute_of(KINDS)
}

/// [`accept_attribute`] for another list of kinds.
pub fn accept_attribute_of(kinds: &[Kind]) -> String {
    kinds
        .iter()
        .flat_map(|k| k.extensions.iter())
        .map(|e| format!(".{e}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The accepted extensions as a person reads them ("PNG, JPG, JPEG, …, TXT").
pub fn accepted_list() -> String {
    accepted_list_of(KINDS)
}

/// [`accepted_list`] for another list of kinds.
pub fn accepted_list_of(kinds: &[Kind]) -> String {
    kinds
        .iter()
        .flat_map(|k| k.extensions.iter())
        .map(|e| e.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The size limit as a person reads it ("20 MB").
pub fn limit_text() -> String {
    format!("{} MB", MAX_FILE_BYTES / (1024 * 1024))
}

/// The lower-case extension of `name` (after the last dot), if any.
pub fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// The kind an extension names.
pub fn kind_for_extension(ext: &str) -> Option<&'static Kind> {
    kind_in(KINDS, ext)
}

/// The kind an extension names among `kinds`.
pub fn kind_in(kinds: &'static [Kind], ext: &str) -> Option<&'static Kind> {
    let ext = ext.to_ascii_lowercase();
    kinds.iter().find(|k| k.extensions.contains(&ext.as_str()))
}

/// Makes an uploaded file's name safe to show, store and serve: only the
/// last path component (browsers on some systems send a whole path), every
/// character outside `[A-Za-z0-9._-]` becomes `_`, runs of dots become one
/// (no `..`), no leading dot, at most [`MAX_NAME_CHARS`] characters keeping
/// the extension; nothing left gives `file`.
pub fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out = String::with_capacity(base.len());
    for c in base.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
            c
        } else {
            '_'
        };
        if c == '.' && out.ends_with('.') {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_start_matches('.');
    if out.is_empty() {
        return "file".into();
    }
    if out.len() <= MAX_NAME_CHARS {
        return out.to_string();
    }
    // Too long: cut the stem and keep a short extension.
    match out.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && ext.len() <= 10 => {
            let keep = MAX_NAME_CHARS - ext.len() - 1;
            let stem = stem[..keep.min(stem.len())].trim_end_matches('.');
            format!("{stem}.{ext}")
        }
        _ => out[..MAX_NAME_CHARS].to_string(),
    }
}

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    TooLarge,
    /// The extension is not on the list (or there is none).
    NotAccepted,
    /// The extension is accepted but the bytes are something else.
    Mismatch {
        label: &'static str,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Empty => write!(f, "The file is empty."),
            Refusal::TooLarge => write!(f, "The file is larger than {}.", limit_text()),
            Refusal::NotAccepted => write!(
                f,
                "This type of file is not accepted. Accepted types: {}.",
                accepted_list()
            ),
            Refusal::Mismatch { label } => write!(
                f,
                "The file's name says {label}, but its content is something else. \
                 Accepted types: {}.",
                accepted_list()
            ),
        }
    }
}

/// Checks a file by its (sanitized) name and its bytes; returns its kind.
pub fn check(name: &str, bytes: &[u8]) -> Result<&'static Kind, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Refusal::TooLarge);
    }
    let kind = extension(name)
        .as_deref()
        .and_then(kind_for_extension)
        .ok_or(Refusal::NotAccepted)?;
    if kind.matches(bytes) {
        Ok(kind)
    } else {
        Err(Refusal::Mismatch { label: kind.label })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizing_table() {
        let long_stem = "a".repeat(150);
        let long = format!("{long_stem}.png");
        let want_long = format!("{}.png", "a".repeat(96));
        let no_ext = "b".repeat(130);
        for (input, want) in [
            ("logo.png", "logo.png"),
            ("Brand Guide v2.pdf", "Brand_Guide_v2.pdf"),
            ("../../etc/passwd.png", "passwd.png"),
            ("..\\..\\windows\\system.ini", "system.ini"),
            ("C:\\Users\\dana\\Desktop\\logo final.png", "logo_final.png"),
            ("..", "file"),
            ("../", "file"),
            ("...png", "png"),
            (".htaccess", "htaccess"),
            ("a..b...c.png", "a.b.c.png"),
            ("café crème.jpg", "caf__cr_me.jpg"),
            ("日本語.txt", "___.txt"),
            ("", "file"),
            ("   ", "___"),
            ("name\0with\nnul.txt", "name_with_nul.txt"),
            ("semi;colon&amp\"quote'.svg", "semi_colon_amp_quote_.svg"),
            (long.as_str(), want_long.as_str()),
            (no_ext.as_str(), &no_ext[..100]),
        ] {
            let got = sanitize_name(input);
            assert_eq!(got, want, "{input:?}");
            assert!(got.len() <= MAX_NAME_CHARS, "{input:?}");
            assert!(!got.contains(".."), "{input:?}");
            assert!(!got.starts_with('.'), "{input:?}");
            assert!(
                got.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn long_names_keep_their_extension() {
        let name = format!("{}.woff2", "x.".repeat(120));
        let got = sanitize_name(&name);
        assert!(got.ends_with(".woff2"), "{got}");
        assert!(got.len() <= MAX_NAME_CHARS);
        assert!(!got.contains(".."));
    }

    #[test]
    fn sniffing_table() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let zip = b"PK\x03\x04\x14\0\0\0";
        for (name, bytes, want) in [
            ("a.png", &png[..], Ok("image/png")),
            ("a.PNG", &png[..], Ok("image/png")),
            (
                "a.jpg",
                &b"\xff\xd8\xff\xe0\0\x10JFIF"[..],
                Ok("image/jpeg"),
            ),
            ("a.jpeg", &b"\xff\xd8\xff\xe1"[..], Ok("image/jpeg")),
            ("a.gif", &b"GIF89a\x01\0"[..], Ok("image/gif")),
            ("a.webp", &b"RIFF\x24\0\0\0WEBPVP8 "[..], Ok("image/webp")),
            ("a.pdf", &b"%PDF-1.7\n"[..], Ok("application/pdf")),
            (
                "a.svg",
                &b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"[..],
                Ok("image/svg+xml"),
            ),
            ("a.zip", &zip[..], Ok("application/zip")),
            (
                "a.docx",
                &zip[..],
                Ok("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ),
            (
                "a.xlsx",
                &zip[..],
                Ok("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ),
            ("a.ai", &b"%PDF-1.5"[..], Ok("application/postscript")),
            (
                "a.eps",
                &b"%!PS-Adobe-3.0 EPSF-3.0"[..],
                Ok("application/postscript"),
            ),
            ("a.ttf", &b"\x00\x01\x00\x00\x00\x10"[..], Ok("font/ttf")),
            ("a.otf", &b"OTTO\x00\x0b"[..], Ok("font/otf")),
            ("a.woff", &b"wOFF\x00\x01"[..], Ok("font/woff")),
            ("a.woff2", &b"wOF2\x00\x01"[..], Ok("font/woff2")),
            (
                "a.txt",
                "Brand colours: #123456 ✓\n".as_bytes(),
                Ok("text/plain; charset=utf-8"),
            ),
            // mismatches
            ("a.png", &b"<html><script>alert(1)</script>"[..], Err("PNG")),
            ("a.jpg", &png[..], Err("JPEG")),
            ("a.webp", &b"RIFF\x24\0\0\0WAVEfmt "[..], Err("WebP")),
            ("a.svg", &b"<html><body>hi</body></html>"[..], Err("SVG")),
            ("a.svg", &b"\xff\xfe<\0s\0v\0g\0"[..], Err("SVG")),
            ("a.pdf", &b"MZ\x90\0"[..], Err("PDF")),
            ("a.docx", &b"MZ\x90\0"[..], Err("Word")),
            ("a.eps", &b"\x89PNG\r\n\x1a\n"[..], Err("EPS")),
            ("a.txt", &b"text\0with nul"[..], Err("plain text")),
            ("a.txt", &b"\xff\xfe\xfd"[..], Err("plain text")),
            ("a.woff2", &b"wOFF"[..], Err("WOFF2")),
        ] {
            let got = check(name, bytes)
                .map(|k| k.content_type)
                .map_err(|e| match e {
                    Refusal::Mismatch { label } => label,
                    other => panic!("{name}: unexpected {other:?}"),
                });
            assert_eq!(got, want, "{name} {bytes:?}");
        }
    }

    #[test]
    fn refusals() {
        assert_eq!(check("a.png", b""), Err(Refusal::Empty));
        assert_eq!(check("a.exe", b"MZ\x90\0"), Err(Refusal::NotAccepted));
        assert_eq!(check("a.html", b"<html>"), Err(Refusal::NotAccepted));
        assert_eq!(
            check("png", b"\x89PNG\r\n\x1a\n"),
            Err(Refusal::NotAccepted),
            "no extension"
        );
        assert_eq!(check("file", b"x"), Err(Refusal::NotAccepted));
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert_eq!(check("a.txt", &big), Err(Refusal::TooLarge));
        let limit = vec![b'a'; MAX_FILE_BYTES];
        assert!(check("a.txt", &limit).is_ok(), "exactly the limit is fine");
        let msg = Refusal::NotAccepted.to_string();
        assert!(
            msg.contains("PNG") && msg.contains("WOFF2") && msg.contains("TXT"),
            "{msg}"
        );
        assert!(Refusal::TooLarge.to_string().contains("20 MB"));
    }

    #[test]
    fn lists() {
        assert!(accept_attribute().starts_with(".png,.jpg,.jpeg,"));
        assert!(accept_attribute().contains(",.woff2,"));
        assert_eq!(extension("a.tar.GZ").as_deref(), Some("gz"));
        assert_eq!(extension(".png"), None);
        assert_eq!(extension("noext"), None);
        for k in KINDS {
            for e in k.extensions {
                assert_eq!(kind_for_extension(e), Some(k));
            }
        }
    }
}
