//! Captions: the length limit, hashtag counting and the problems a caption
//! has on a channel (which untick the matching QA checks).

use serde::Serialize;

use crate::CoreError;

use super::{channel, thousands};

/// Longest caption (copy), in characters.
pub const CAPTION_MAX: usize = 5_000;

/// Checks and normalizes a caption (the post's copy, part of what is
/// approved): trimmed, Windows line endings become `\n`, at most 5,000
/// characters, no control characters other than newlines and tabs. Empty
/// is fine (a caption may come later). Errors on `caption`.
pub fn validate_caption(caption: &str) -> Result<String, CoreError> {
    let v = caption.trim().replace("\r\n", "\n");
    let len = v.chars().count();
    if len > CAPTION_MAX {
        return Err(CoreError::invalid(
            "caption",
            format!(
                "must be at most {} characters (got {})",
                thousands(CAPTION_MAX),
                thousands(len)
            ),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(CoreError::invalid(
            "caption",
            "must not contain control characters (newlines and tabs are fine)",
        ));
    }
    Ok(v)
}

/// The hashtags of a caption: `#` followed by a letter, digit or `_`, not
/// inside a word (`a#b` is not one).
pub fn hashtag_count(caption: &str) -> usize {
    let mut count = 0;
    let mut prev: Option<char> = None;
    let mut chars = caption.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '#'
            && !prev.is_some_and(|p| p.is_alphanumeric() || p == '_')
            && chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '_')
        {
            count += 1;
        }
        prev = Some(c);
    }
    count
}

/// A publishing QA check the caption fails: the QA item's key (`length`,
/// `hashtags`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptionProblem {
    pub key: &'static str,
    pub message: String,
}

/// What the channel's limits say about a caption: too long for the channel,
/// or more hashtags than it accepts. Unknown channels have no limits.
pub fn caption_problems(channel_key: &str, caption: &str) -> Vec<CaptionProblem> {
    let Some(info) = channel(channel_key) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let len = caption.chars().count();
    if let Some(limit) = info.caption_limit.filter(|l| len > *l) {
        out.push(CaptionProblem {
            key: "length",
            message: format!(
                "the caption is {} characters; {} allows {}",
                thousands(len),
                info.name,
                thousands(limit)
            ),
        });
    }
    let tags = hashtag_count(caption);
    if let Some(limit) = info.hashtag_limit.filter(|l| tags > *l) {
        out.push(CaptionProblem {
            key: "hashtags",
            message: format!(
                "the caption has {tags} hashtags; {} allows {limit}",
                info.name
            ),
        });
    }
    out
}
