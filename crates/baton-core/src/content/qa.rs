//! The publishing QA checklist: the channels Baton knows, their default
//! checklists and the validation of an agency's own.

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// One item of a publishing QA checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaItem {
    pub key: String,
    pub label: String,
}

/// A channel content is published to, with its text limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChannelInfo {
    pub key: &'static str,
    pub name: &'static str,
    /// Longest caption (post text, or video description), in characters.
    pub caption_limit: Option<usize>,
    /// Most hashtags the channel accepts on one post.
    pub hashtag_limit: Option<usize>,
}

const fn ch(
    key: &'static str,
    name: &'static str,
    caption_limit: Option<usize>,
    hashtag_limit: Option<usize>,
) -> ChannelInfo {
    ChannelInfo {
        key,
        name,
        caption_limit,
        hashtag_limit,
    }
}

/// The channels Baton knows the limits of: Instagram (2,200-character
/// caption, 30 hashtags), Facebook (63,206), TikTok (2,200), LinkedIn
/// (3,000), X (280, non-Premium), YouTube (5,000-character description),
/// Pinterest (500-character pin description), Threads (500).
pub const CHANNELS: &[ChannelInfo] = &[
    ch("instagram", "Instagram", Some(2_200), Some(30)),
    ch("facebook", "Facebook", Some(63_206), None),
    ch("tiktok", "TikTok", Some(2_200), None),
    ch("linkedin", "LinkedIn", Some(3_000), None),
    ch("x", "X", Some(280), None),
    ch("youtube", "YouTube", Some(5_000), None),
    ch("pinterest", "Pinterest", Some(500), None),
    ch("threads", "Threads", Some(500), None),
];

/// A known channel by key (case and surrounding spaces ignored).
pub fn channel(key: &str) -> Option<&'static ChannelInfo> {
    let key = key.trim();
    CHANNELS.iter().find(|c| c.key.eq_ignore_ascii_case(key))
}

/// The default publishing QA checklist of a channel: links, tags and
/// handles, formatting, length (with the channel's caption limit when
/// known), hashtags (only where the channel limits them), legal, and
/// disclosure. An unknown channel gets the generic items.
pub fn default_qa(channel_key: &str) -> Vec<QaItem> {
    let info = channel(channel_key);
    let item = |key: &str, label: String| QaItem {
        key: key.to_string(),
        label,
    };
    let mut items = vec![
        item(
            "links_checked",
            "Every link opens the right page, with UTM tags".into(),
        ),
        item(
            "tags_handles",
            "Tags and @handles are correct and approved".into(),
        ),
        item(
            "formatting",
            "Formatting and line breaks render on the channel".into(),
        ),
    ];
    items.push(item(
        "length",
        match info.and_then(|c| c.caption_limit.map(|l| (c.name, l))) {
            Some((name, limit)) => {
                format!("Caption within {name}'s {} characters", thousands(limit))
            }
            None => "Length fits the channel".into(),
        },
    ));
    if let Some(n) = info.and_then(|c| c.hashtag_limit) {
        items.push(item("hashtags", format!("At most {n} hashtags")));
    }
    items.push(item("legal", "Legal and claims checked".into()));
    items.push(item(
        "disclosure",
        "Paid partnership / #ad disclosure where required".into(),
    ));
    items
}

/// `63206` → `63,206`.
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    // The first group has 1–3 digits; every later group has 3.
    let head = match digits.len() % 3 {
        0 => 3,
        r => r,
    }
    .min(digits.len());
    let mut out = digits[..head].to_string();
    for group in digits.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.extend(group.iter().map(|b| char::from(*b)));
    }
    out
}

/// Most items of a QA checklist.
const QA_ITEMS_MAX: usize = 30;

/// Longest QA item label, in characters.
const QA_LABEL_MAX: usize = 200;

/// Validates an agency-configured QA checklist: 1–30 items, keys
/// `[a-z][a-z0-9_]{1,39}` and unique, labels 1–200 characters without
/// control characters. Returns it with labels trimmed. Errors on "items".
pub fn validate_qa(items: Vec<QaItem>) -> Result<Vec<QaItem>, CoreError> {
    let bad = |m: String| CoreError::invalid("items", m);
    if !(1..=QA_ITEMS_MAX).contains(&items.len()) {
        return Err(bad(format!(
            "a checklist needs 1–{QA_ITEMS_MAX} items (got {})",
            items.len()
        )));
    }
    let mut out: Vec<QaItem> = Vec::with_capacity(items.len());
    for item in items {
        if !qa_key_ok(&item.key) {
            return Err(bad(format!(
                "item key {:?}: use 2–40 characters: a lowercase letter, then lowercase letters, digits or _",
                item.key
            )));
        }
        if out.iter().any(|o| o.key == item.key) {
            return Err(bad(format!("item key {:?} is used twice", item.key)));
        }
        let label = item.label.trim();
        let len = label.chars().count();
        if !(1..=QA_LABEL_MAX).contains(&len) || label.chars().any(char::is_control) {
            return Err(bad(format!(
                "item {:?}: the label needs 1–{QA_LABEL_MAX} characters on one line",
                item.key
            )));
        }
        out.push(QaItem {
            key: item.key,
            label: label.to_string(),
        });
    }
    Ok(out)
}

fn qa_key_ok(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=40).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}
