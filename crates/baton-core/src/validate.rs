//! Input rules shared by the API, the web forms and the CLI, so that every door
//! refuses the same bad input with the same message.

use std::borrow::Cow;

use crate::CoreError;

pub const NAME_MAX: usize = 200;
pub const NOTE_MAX: usize = 10_000;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 1_000;

/// A display name: trimmed, 1 to 200 characters, no control characters.
/// Unicode and SQL-looking text are fine and kept verbatim, except the
/// bidirectional controls ([`is_bidi_control`]), which are stripped: in a
/// name they only serve to make it read backwards ("Acme\u{202E}gnp.exe").
/// A name with nothing visible left (only spaces, zero-width characters and
/// those controls) is refused, so nobody is called "".
pub fn name(field: &str, value: &str) -> Result<String, CoreError> {
    let cleaned: Cow<str> = if value.chars().any(is_bidi_control) {
        Cow::Owned(value.chars().filter(|&c| !is_bidi_control(c)).collect())
    } else {
        Cow::Borrowed(value)
    };
    // Plain emptiness keeps its own message; only the invisible is "blank".
    if !value.trim().is_empty()
        && cleaned
            .chars()
            .all(|c| c.is_whitespace() || is_invisible(c))
    {
        return Err(CoreError::invalid(field, "must contain visible characters"));
    }
    text(field, &cleaned, NAME_MAX)
}

/// The bidirectional embedding, override and isolate controls
/// (U+202A–U+202E, U+2066–U+2069) and the direction marks (U+200E, U+200F,
/// U+061C): invisible, and able to reorder how the text around them reads.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that take no space and show nothing: the zero-width space,
/// (non-)joiner, word joiner and byte-order mark, and the bidi controls.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}') || is_bidi_control(c)
}

/// A free-text note: trimmed, 1 to 10,000 characters; newlines and tabs allowed.
pub fn note(field: &str, value: &str) -> Result<String, CoreError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(CoreError::invalid(field, "must not be empty"));
    }
    let len = v.chars().count();
    if len > NOTE_MAX {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {NOTE_MAX} characters (got {len})"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(CoreError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_string())
}

fn text(field: &str, value: &str, max: usize) -> Result<String, CoreError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(CoreError::invalid(field, "must not be empty"));
    }
    let len = v.chars().count();
    if len > max {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {max} characters (got {len})"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_string())
}

/// An email address, lower-cased. Deliberately simple: one `@`, a dot in the
/// domain, no spaces; the invite mail is the real test.
pub fn email(value: &str) -> Result<String, CoreError> {
    let bad = || CoreError::invalid("email", "must be an email address like name@agency.com");
    // Characters, counted before trimming, as the OpenAPI `maxLength` counts.
    if value.chars().count() > EMAIL_MAX {
        return Err(bad());
    }
    let v = value.trim().to_lowercase();
    if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(bad());
    }
    Ok(v)
}

/// A new password: 10 to 1,000 characters.
pub fn password(value: &str) -> Result<(), CoreError> {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        return Err(CoreError::invalid(
            "password",
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if len > PASSWORD_MAX {
        return Err(CoreError::invalid(
            "password",
            format!("must be at most {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

/// An IANA time zone name known to the bundled database (`Europe/Berlin`).
pub fn timezone(value: &str) -> Result<String, CoreError> {
    let v = value.trim();
    if v.is_empty() || jiff::tz::TimeZone::get(v).is_err() {
        return Err(CoreError::invalid(
            "timezone",
            format!("unknown time zone {v:?}; use an IANA name such as Europe/Berlin"),
        ));
    }
    Ok(v.to_string())
}

/// A colour as `#rrggbb`, lower-cased.
pub fn color(field: &str, value: &str) -> Result<String, CoreError> {
    let v = value.trim().to_lowercase();
    let ok = v.len() == 7 && v.starts_with('#') && v[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(CoreError::invalid(field, "must be a colour like #1f6feb"));
    }
    Ok(v)
}

/// An optional http(s) URL (a logo, a website, a draft's link); empty means
/// none. The grammar is deliberately narrower than RFC 3986, so that every
/// consumer (browsers, mail clients, the scripts of API users) reads it the
/// same way: `http://` or `https://`, a host of ASCII letters, digits, dots
/// and dashes (an international name in its `xn--` form), an optional port
/// up to 65535, then an optional path, query or fragment of printable ASCII
/// without spaces, quotes or angle brackets. No user name or password, no
/// IP-literal in brackets. At most 2,000 characters. The OpenAPI pattern
/// (`api::openapi::url_pattern`) states the same rule.
pub fn optional_url(field: &str, value: &str) -> Result<Option<String>, CoreError> {
    // Characters, counted before trimming, as the OpenAPI `maxLength` counts.
    if value.chars().count() > 2_000 {
        return Err(CoreError::invalid(
            field,
            "must be a URL of at most 2,000 characters",
        ));
    }
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    url_shape(v).map_err(|why| CoreError::invalid(field, why))?;
    Ok(Some(v.to_string()))
}

/// Why `v` is not a URL of [`optional_url`]'s grammar.
fn url_shape(v: &str) -> Result<(), &'static str> {
    const HTTP: &str = "must be an http(s) URL, such as https://example.com/logo.png";
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or(HTTP)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err("must not carry a user name or password");
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let host_ok = host
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !host_ok {
        return Err(if host.is_ascii() {
            "must name a host of letters, digits, dots and dashes (https://example.com/…)"
        } else {
            "must name its host in ASCII (an international name in its xn-- form)"
        });
    }
    if let Some(p) = port {
        let ok = !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= 65_535);
        if !ok {
            return Err("must have a port from 0 to 65535 after the host");
        }
    }
    // Printable ASCII from '!' to '~' without '"', '<' and '>'.
    let tail_ok = tail
        .bytes()
        .all(|b| (b'!'..=b'~').contains(&b) && !matches!(b, b'"' | b'<' | b'>'));
    if !tail_ok {
        return Err(
            "must not contain spaces, quotes, angle brackets or other characters outside printable ASCII (percent-encode them)",
        );
    }
    Ok(())
}

/// A URL-safe slug from a name: lower-case ASCII letters, digits and dashes.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 48 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "agency".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table() {
        let long = "x".repeat(201);
        let cases: Vec<(&str, Option<&str>)> = vec![
            ("Acme Coffee", Some("Acme Coffee")),
            ("  padded  ", Some("padded")),
            ("Zoë's Café 東京 🚀", Some("Zoë's Café 東京 🚀")),
            (
                "Robert'); DROP TABLE clients;--",
                Some("Robert'); DROP TABLE clients;--"),
            ),
            ("", None),
            ("   ", None),
            ("tab\tinside", None),
            (long.as_str(), None),
            // Bidi controls are stripped; what is left must show something.
            ("Acme\u{202E}", Some("Acme")),
            ("\u{202E}Acme\u{202C} Co", Some("Acme Co")),
            ("\u{2067}Acme\u{2069}\u{200F}\u{200E}\u{061C}", Some("Acme")),
            (" \u{202A}Acme\u{202B} ", Some("Acme")),
            ("\u{200B}\u{202E}", None),
            ("\u{200B}", None),
            ("\u{200C}\u{200D}\u{2060}\u{FEFF}", None),
            (" \u{200B} \u{2066} ", None),
            ("\u{202E}", None),
            // Zero-width joiners inside visible text are kept (emoji, scripts).
            ("Ana\u{200D}🚀", Some("Ana\u{200D}🚀")),
        ];
        for (input, want) in cases {
            assert_eq!(name("name", input).ok().as_deref(), want, "{input:?}");
        }
        assert!(
            name("name", &"é".repeat(200)).is_ok(),
            "counts characters, not bytes"
        );
        // Counted after stripping: 200 letters and a bidi control fit.
        assert!(name("name", &format!("{}\u{202E}", "x".repeat(200))).is_ok());
        let blank = name("title", "\u{200B}\u{202E}").unwrap_err();
        assert_eq!(
            blank,
            CoreError::invalid("title", "must contain visible characters")
        );
        assert_eq!(
            name("name", "\u{202E}").unwrap_err(),
            CoreError::invalid("name", "must contain visible characters")
        );
    }

    #[test]
    fn emails_table() {
        for (input, want) in [
            ("Ana@Agency.com", Some("ana@agency.com")),
            (" a@b.co ", Some("a@b.co")),
            ("no-at.com", None),
            ("a@b", None),
            ("a@@b.com", None),
            ("a b@c.com", None),
            ("@c.com", None),
            ("a@.com", None),
            ("a@c..com", None),
        ] {
            assert_eq!(email(input).ok().as_deref(), want, "{input:?}");
        }
        // At most 254 characters, however many bytes they take.
        let long = format!("{}@b.co", "é".repeat(EMAIL_MAX - 5));
        assert_eq!(long.chars().count(), EMAIL_MAX);
        assert!(email(&long).is_ok());
        assert!(email(&format!("é{long}")).is_err());
    }

    #[test]
    fn timezones_colors_urls() {
        assert!(timezone("Europe/Berlin").is_ok());
        assert!(timezone("UTC").is_ok());
        assert!(timezone("Mars/Olympus").is_err());
        assert!(timezone("").is_err());
        assert_eq!(color("c", "#1F6FEB").unwrap(), "#1f6feb");
        assert!(color("c", "blue").is_err());
        assert!(color("c", "#12345").is_err());
        assert_eq!(optional_url("u", "").unwrap(), None);
        assert!(optional_url("u", "https://x.io/logo.png")
            .unwrap()
            .is_some());
        assert!(optional_url("u", "javascript:alert(1)").is_err());
        assert!(optional_url("u", "https://x.io/\"onload=").is_err());
        let cases = [
            ("https://example.com", true),
            ("http://localhost:8080/a?b=c#d", true),
            ("https://xn--caf-dma.example/menu[1].png", true),
            ("https://a.b:65535", true),
            ("https://a.b:65536", false),
            ("https://a.b:", false),
            ("http://[::1]/", false),
            ("http://a[b/", false),
            ("https://user:pw@example.com/", false),
            ("https://café.example/", false),
            ("https://", false),
            ("https:///path", false),
            ("https://-x/", false),
            ("https://x/a b", false),
            ("https://x/é", false),
            ("ftp://x/", false),
            ("\u{85}https://x/\u{85}", true),
        ];
        for (url, ok) in cases {
            assert_eq!(optional_url("u", url).is_ok(), ok, "{url}");
        }
        // 2,000 characters at most, however many bytes they take.
        let nel = "\u{85}".repeat(2_000);
        assert_eq!(optional_url("u", &nel).unwrap(), None);
        assert!(optional_url("u", &format!("{nel} ")).is_err());
    }

    #[test]
    fn passwords_and_slugs() {
        assert!(password("short").is_err());
        assert!(password("long enough pass").is_ok());
        assert_eq!(slugify("Northwind Social & Co."), "northwind-social-co");
        assert_eq!(slugify("東京"), "agency");
        assert_eq!(slugify("--A--"), "a");
    }

    #[test]
    fn notes_allow_newlines() {
        assert_eq!(note("note", " a\nb ").unwrap(), "a\nb");
        assert!(note("note", "").is_err());
        assert!(note("note", &"n".repeat(10_001)).is_err());
        assert!(note("note", "bell\u{7}").is_err());
    }
}
