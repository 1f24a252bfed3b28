//! Draft files attached to content versions: which kinds are accepted, how
//! large they may be, and how the team and the client see them.
//!
//! Like brand-kit uploads (see [`crate::uploads`]), a draft is accepted only
//! when its extension is on the list AND its first bytes match that type, so
//! a renamed page or program never reaches a reviewer's browser. Drafts are
//! larger than brand files (videos), so the server streams them to disk and
//! checks only the first [`SNIFF_BYTES`] here. Pure: names and bytes in, a
//! verdict out.

use std::fmt;

use crate::uploads::{self, Kind, Magic};

/// The largest draft accepted, in bytes (200 MiB: a one-minute 1080p reel
/// is 50–150 MB).
pub const MAX_DRAFT_BYTES: u64 = 200 * 1024 * 1024;

/// How many leading bytes [`check`] needs to recognise every kind.
pub const SNIFF_BYTES: usize = 16;

/// ISO base media boxes that can open an MP4 file.
const MP4_BOXES: &[&[u8]] = &[b"ftyp"];
/// QuickTime files may open with older atoms than `ftyp`.
const MOV_BOXES: &[&[u8]] = &[
    b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot",
];

/// Every kind a draft may be, in the order they are listed.
pub const DRAFT_KINDS: &[Kind] = &[
    uploads::PNG,
    uploads::JPEG,
    uploads::GIF,
    uploads::WEBP,
    Kind {
        extensions: &["mp4", "m4v"],
        label: "MP4 video",
        content_type: "video/mp4",
        magic: Magic::MediaBox(MP4_BOXES),
    },
    Kind {
        extensions: &["mov"],
        label: "QuickTime video",
        content_type: "video/quicktime",
        magic: Magic::MediaBox(MOV_BOXES),
    },
    Kind {
        extensions: &["webm"],
        label: "WebM video",
        content_type: "video/webm",
        magic: Magic::Prefix(&[b"\x1a\x45\xdf\xa3"]),
    },
    uploads::PDF,
];

/// How a draft is shown: images and videos inline, everything else as a
/// download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preview {
    Image,
    Video,
    Document,
}

impl Preview {
    /// The preview for a stored content type.
    pub fn of(content_type: &str) -> Preview {
        match content_type.split('/').next() {
            Some("image") => Preview::Image,
            Some("video") => Preview::Video,
            _ => Preview::Document,
        }
    }
}

/// The accepted extensions for a file input's `accept` attribute.
pub fn accept_attribute() -> String {
    uploads::accept_attribute_of(DRAFT_KINDS)
}

/// The accepted extensions as a person reads them.
pub fn accepted_list() -> String {
    uploads::accepted_list_of(DRAFT_KINDS)
}

/// The size limit as a person reads it ("200 MB").
pub fn limit_text() -> String {
    size_text(MAX_DRAFT_BYTES)
}

/// A limit in bytes as a person reads it: whole MB, or KB below 1 MB.
pub fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// Why a draft file was refused, worded for the person uploading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No file part, or a file of no bytes.
    Empty,
    /// Over the server's limit, in bytes.
    TooLarge {
        limit: u64,
    },
    NotAccepted,
    Mismatch {
        label: &'static str,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Empty => write!(
                f,
                "Choose a draft file to upload (it was empty or missing)."
            ),
            Refusal::TooLarge { limit } => write!(
                f,
                "The file is larger than {}. Share a link to it instead.",
                size_text(*limit)
            ),
            Refusal::NotAccepted => write!(
                f,
                "This type of file is not accepted for drafts. Accepted types: {}.",
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

/// Checks a draft by its (sanitized) name and first bytes; `head` holds at
/// least [`SNIFF_BYTES`] bytes unless the file is shorter. A name with an
/// extension must name an accepted type that the bytes match; a name with
/// none (a script's upload, `file`) is known by its first bytes alone.
pub fn check(name: &str, head: &[u8]) -> Result<&'static Kind, Refusal> {
    if head.is_empty() {
        return Err(Refusal::Empty);
    }
    let Some(ext) = uploads::extension(name) else {
        return DRAFT_KINDS
            .iter()
            .find(|k| k.matches(head))
            .ok_or(Refusal::NotAccepted);
    };
    let kind = uploads::kind_in(DRAFT_KINDS, &ext).ok_or(Refusal::NotAccepted)?;
    if kind.matches(head) {
        Ok(kind)
    } else {
        Err(Refusal::Mismatch { label: kind.label })
    }
}

/// Checks the kind from the name alone, before any byte arrives, so a
/// wrong type is refused without receiving 200 MB first. `None`: the name
/// has no extension, and the first bytes will tell.
pub fn check_name(name: &str) -> Result<Option<&'static Kind>, Refusal> {
    match uploads::extension(name) {
        None => Ok(None),
        Some(ext) => uploads::kind_in(DRAFT_KINDS, &ext)
            .map(Some)
            .ok_or(Refusal::NotAccepted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_table() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0";
        let mov_old = b"\0\0\0\x08wide\0\0\0\0mdat";
        for (name, head, want) in [
            ("a.png", &png[..], Ok("image/png")),
            (
                "reel_v2.JPG",
                &b"\xff\xd8\xff\xe0\0\x10JFIF"[..],
                Ok("image/jpeg"),
            ),
            ("a.gif", &b"GIF89a\x01\0"[..], Ok("image/gif")),
            ("a.webp", &b"RIFF\x24\0\0\0WEBPVP8 "[..], Ok("image/webp")),
            ("reel.mp4", &mp4[..], Ok("video/mp4")),
            ("reel.m4v", &mp4[..], Ok("video/mp4")),
            ("reel.mov", &mp4[..], Ok("video/quicktime")),
            ("reel.mov", &mov_old[..], Ok("video/quicktime")),
            (
                "reel.webm",
                &b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81"[..],
                Ok("video/webm"),
            ),
            ("deck.pdf", &b"%PDF-1.7\n"[..], Ok("application/pdf")),
            // The name and the bytes disagree.
            (
                "a.png",
                &b"<html><script>alert(1)</script>"[..],
                Err(Refusal::Mismatch { label: "PNG" }),
            ),
            (
                "reel.mp4",
                &mov_old[..],
                Err(Refusal::Mismatch { label: "MP4 video" }),
            ),
            (
                "reel.mp4",
                &b"\0\0\0"[..],
                Err(Refusal::Mismatch { label: "MP4 video" }),
            ),
            (
                "reel.webm",
                &png[..],
                Err(Refusal::Mismatch {
                    label: "WebM video",
                }),
            ),
            (
                "deck.pdf",
                &b"MZ\x90\0"[..],
                Err(Refusal::Mismatch { label: "PDF" }),
            ),
            // Not a draft type, even when the bytes are fine.
            (
                "logo.svg",
                &b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"[..],
                Err(Refusal::NotAccepted),
            ),
            ("page.html", &b"<html>"[..], Err(Refusal::NotAccepted)),
            // No extension: the first bytes tell, among the draft types.
            ("noextension", &png[..], Ok("image/png")),
            ("file", &mp4[..], Ok("video/mp4")),
            ("file", &b"%PDF-1.7\n"[..], Ok("application/pdf")),
            ("file", &b"<html>"[..], Err(Refusal::NotAccepted)),
            (
                "file",
                &b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"[..],
                Err(Refusal::NotAccepted),
            ),
            ("a.png", &b""[..], Err(Refusal::Empty)),
        ] {
            let got = check(name, head).map(|k| k.content_type);
            assert_eq!(got, want, "{name} {head:?}");
        }
    }

    #[test]
    fn names_are_checked_before_bytes() {
        assert_eq!(
            check_name("reel.MOV").unwrap().unwrap().label,
            "QuickTime video"
        );
        assert_eq!(check_name("script.exe"), Err(Refusal::NotAccepted));
        // No extension (a dot file has none): the bytes will tell.
        assert_eq!(check_name(".png"), Ok(None));
        assert_eq!(check_name("file"), Ok(None));
    }

    #[test]
    fn previews() {
        for (ct, want) in [
            ("image/png", Preview::Image),
            ("video/quicktime", Preview::Video),
            ("application/pdf", Preview::Document),
            ("", Preview::Document),
        ] {
            assert_eq!(Preview::of(ct), want, "{ct}");
        }
    }

    #[test]
    fn messages_name_the_limits() {
        assert!(Refusal::TooLarge {
            limit: MAX_DRAFT_BYTES
        }
        .to_string()
        .contains("than 200 MB."));
        assert!(Refusal::TooLarge { limit: 1000 }
            .to_string()
            .contains("than 1 KB."));
        assert!(Refusal::NotAccepted
            .to_string()
            .contains("MP4, M4V, MOV, WEBM, PDF"));
        assert_eq!(
            accept_attribute(),
            ".png,.jpg,.jpeg,.gif,.webp,.mp4,.m4v,.mov,.webm,.pdf"
        );
    }
}
