//! Version naming: the agency's pattern, its placeholders and the name of
//! each version, each part folded to a safe file name.

use serde::{Deserialize, Serialize};

use crate::CoreError;

use super::or_list;

/// The default naming convention of versions, e.g.
/// `harbor-fitness_spring-launch_instagram_reel_v3`.
pub const DEFAULT_NAMING: &str = "{client}_{campaign}_{channel}_{format}_v{n}";

/// The placeholders a naming pattern may use; `{n}` is the version number.
pub const NAMING_PLACEHOLDERS: [&str; 7] = [
    "client", "campaign", "channel", "format", "title", "date", "n",
];

/// Longest pattern and longest generated name, in characters.
const NAME_MAX: usize = 200;

/// Longest filled-in part (client, campaign, …), in characters.
const PART_MAX: usize = 40;

enum Token<'a> {
    Literal(&'a str),
    Placeholder(&'static str),
}

/// Splits a pattern into literal text and known placeholders; the error is
/// the message only.
fn tokens(pattern: &str) -> Result<Vec<Token<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('{') {
            let Some(end) = after.find('}') else {
                return Err("a \"{\" is not closed; placeholders look like {client}".to_string());
            };
            let name = &after[..end];
            let Some(known) = NAMING_PLACEHOLDERS.iter().find(|p| **p == name) else {
                let known: Vec<String> = NAMING_PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect();
                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                return Err(format!(
                    "unknown placeholder {{{name}}}; use {}",
                    or_list(&known)
                ));
            };
            out.push(Token::Placeholder(known));
            rest = &after[end + 1..];
        } else {
            let end = rest.find('{').unwrap_or(rest.len());
            let literal = &rest[..end];
            if let Some(c) = literal.chars().find(|c| !literal_ok(*c)) {
                return Err(if c == '}' {
                    "a \"}\" has no opening \"{\"".to_string()
                } else {
                    format!(
                        "{c:?} is not allowed; outside placeholders use only letters, digits, \"_\", \".\" and \"-\""
                    )
                });
            }
            out.push(Token::Literal(literal));
            rest = &rest[end..];
        }
    }
    Ok(out)
}

fn literal_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Checks a naming pattern: 1–200 characters, only known `{placeholders}`,
/// must contain `{n}` (so versions get distinct names), literal text limited
/// to `[A-Za-z0-9_.-]` (safe in file names everywhere). Returns it trimmed.
pub fn validate_naming(pattern: &str) -> Result<String, CoreError> {
    let p = pattern.trim();
    let bad = |m: String| CoreError::invalid("naming", m);
    if p.is_empty() {
        return Err(bad("must not be empty".into()));
    }
    let len = p.chars().count();
    if len > NAME_MAX {
        return Err(bad(format!(
            "must be at most {NAME_MAX} characters (got {len})"
        )));
    }
    let toks = tokens(p).map_err(bad)?;
    if !toks.iter().any(|t| matches!(t, Token::Placeholder("n"))) {
        return Err(bad(
            "must contain {n}, the version number, so every version gets its own name".into(),
        ));
    }
    Ok(p.to_string())
}

/// What a version name is made of; `n` comes separately.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameParts {
    pub client: String,
    pub campaign: String,
    pub channel: String,
    pub format: String,
    pub title: String,
    /// Usually `2025-03-14`.
    pub date: String,
}

/// Fills the naming pattern for version `n`. Each part is made safe for file
/// names: lower-cased, common accented Latin letters folded to ASCII
/// (`é` → `e`, `ß` → `ss`), anything else outside `[a-z0-9-]` (spaces,
/// underscores, slashes, dots, other scripts) becomes `-`, runs of `-`
/// collapse, `-` is trimmed from both ends, at most 40 characters, and an
/// empty part becomes `x`. If the whole name would exceed 200 characters the
/// longest parts are shortened further (the version number is never cut).
/// An invalid pattern falls back to [`DEFAULT_NAMING`], so a name is always
/// produced.
pub fn version_name(pattern: &str, parts: &NameParts, n: u32) -> String {
    let pattern = validate_naming(pattern).unwrap_or_else(|_| DEFAULT_NAMING.to_string());
    let toks = tokens(&pattern).unwrap_or_default();
    let clean = [
        ("client", sanitize_part(&parts.client)),
        ("campaign", sanitize_part(&parts.campaign)),
        ("channel", sanitize_part(&parts.channel)),
        ("format", sanitize_part(&parts.format)),
        ("title", sanitize_part(&parts.title)),
        ("date", sanitize_part(&parts.date)),
    ];
    let number = n.to_string();
    let fill = |cap: usize| {
        let mut out = String::new();
        for t in &toks {
            match t {
                Token::Literal(l) => out.push_str(l),
                Token::Placeholder("n") => out.push_str(&number),
                Token::Placeholder(p) => {
                    let v = clean.iter().find(|(k, _)| k == p).map_or("x", |(_, v)| v);
                    // Parts are ASCII, so byte positions are characters.
                    out.push_str(v[..v.len().min(cap)].trim_end_matches('-'));
                }
            }
        }
        out
    };
    for cap in (1..=PART_MAX).rev() {
        let name = fill(cap);
        if name.len() <= NAME_MAX {
            return name;
        }
    }
    let mut name = fill(1);
    name.truncate(NAME_MAX);
    name
}

/// One part of a file name: see [`version_name`].
fn sanitize_part(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars().flat_map(char::to_lowercase) {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            // combining accents of decomposed text ("e" + "´"): dropped
            continue;
        }
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if let Some(f) = fold(c) {
            out.push_str(f);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(PART_MAX); // ASCII only, so a char boundary
    let out = out.trim_matches('-');
    if out.is_empty() {
        "x".to_string()
    } else {
        out.to_string()
    }
}

/// ASCII for common accented Latin letters (already lower-cased).
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}
