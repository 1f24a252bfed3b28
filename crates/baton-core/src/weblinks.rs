//! Web addresses inside plain text, found so a page can make them links
//! without trusting the text: the text is split into parts, each either
//! plain text or an address with the `https://`/`http://` URL it opens, and
//! the page escapes every part as usual (no `|safe`).
//!
//! Two kinds of address are found: `http(s)://…` URLs, and bare web
//! addresses such as `business.facebook.com/settings` (lower-case host
//! names ending in a common top-level domain), which open over `https://`.
//! Nothing else becomes a link: no other scheme (`javascript:`, `data:`),
//! no e-mail address, no file name (`logo.png`), and no example domain
//! (`example.com`, `*.test`, …: those are illustrations, not places).
//! Punctuation that ends a sentence (`.`, `,`, `)` …) stays text.

/// A run of text: plain, or an address and the URL it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub text: String,
    /// `Some(url)` for an address: always `https://…` or `http://…`.
    pub href: Option<String>,
}

/// Top-level domains a bare address may end with. Kept to common ones so a
/// word like `file.txt` or `v1.2` never turns into a link.
const TLDS: &[&str] = &[
    "com", "org", "net", "io", "co", "app", "dev", "ai", "me", "info", "biz", "shop", "store",
    "site", "online", "tv", "eu", "uk", "us", "de", "fr", "es", "it", "nl", "be", "at", "ch", "se",
    "no", "dk", "fi", "ie", "pl", "pt", "ca", "au", "nz", "in", "br", "mx", "jp",
];

/// Characters an address may contain (RFC 3986's unreserved, reserved and
/// `%`); anything else (space, quotes, `<`, `…`, `“`) ends it.
fn url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// Splits `text` into plain parts and addresses. Joining the parts' texts
/// gives `text` back unchanged.
pub fn split(text: &str) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    let mut plain_from = 0;
    let mut i = 0;
    while i < text.len() {
        // An address starts a word: not after a letter, digit or a
        // character that would make it part of a longer name or path.
        let at_boundary =
            i == 0 || !text[..i].ends_with(|c: char| c.is_alphanumeric() || ".@/-_".contains(c));
        let c = text[i..].chars().next().expect("in bounds");
        if at_boundary && c.is_ascii_alphanumeric() {
            let run_len = text[i..]
                .find(|c: char| !url_char(c))
                .unwrap_or(text.len() - i);
            let candidate = trim_trailing(&text[i..i + run_len]);
            if let Some(href) = address(candidate) {
                if plain_from < i {
                    parts.push(plain(&text[plain_from..i]));
                }
                parts.push(Part {
                    text: candidate.to_string(),
                    href: Some(href),
                });
                i += candidate.len();
                plain_from = i;
                continue;
            }
        }
        i += c.len_utf8();
    }
    if plain_from < text.len() {
        parts.push(plain(&text[plain_from..]));
    }
    parts
}

fn plain(s: &str) -> Part {
    Part {
        text: s.to_string(),
        href: None,
    }
}

/// `s` without the punctuation that ends a sentence around an address; a
/// closing `)` stays when it closes a `(` inside the address.
fn trim_trailing(mut s: &str) -> &str {
    loop {
        let Some(last) = s.chars().last() else {
            return s;
        };
        let unbalanced_paren = last == ')' && s.matches('(').count() < s.matches(')').count();
        if ".,;:!?'".contains(last) || unbalanced_paren || last == ']' {
            s = &s[..s.len() - 1];
        } else {
            return s;
        }
    }
}

/// The URL an address opens, or `None` when `s` is not one.
fn address(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let (rest, href) = if let Some(rest) = lower.strip_prefix("https://") {
        (rest, s.to_string())
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (rest, s.to_string())
    } else {
        // A bare address: a lower-case host, never a mail address.
        let host = s.split(['/', '?', '#']).next().unwrap_or("");
        let tld = host.rsplit('.').next().unwrap_or("");
        if s.contains('@')
            || host != host.to_ascii_lowercase()
            || !host.contains('.')
            || !TLDS.contains(&tld)
        {
            return None;
        }
        (s, format!("https://{s}"))
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = host.split(':').next().unwrap_or(host);
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !host.contains('.') || !labels_ok || is_example(host) {
        return None;
    }
    Some(href)
}

/// RFC 2606 / 6761 names for examples and tests.
fn is_example(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    ["example.com", "example.org", "example.net"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || [".example", ".test", ".invalid", ".localhost"]
            .iter()
            .any(|t| host.ends_with(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(text: &str) -> Vec<(String, String)> {
        let parts = split(text);
        let joined: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(joined, text, "the parts give the text back");
        parts
            .into_iter()
            .filter_map(|p| p.href.map(|h| (p.text, h)))
            .collect()
    }

    fn pair(text: &str, href: &str) -> (String, String) {
        (text.to_string(), href.to_string())
    }

    #[test]
    fn addresses_in_catalog_steps_become_links() {
        assert_eq!(
            links("Open business.facebook.com/settings and sign in."),
            [pair(
                "business.facebook.com/settings",
                "https://business.facebook.com/settings"
            )]
        );
        assert_eq!(
            links("Sign in at ads.google.com with a Google account."),
            [pair("ads.google.com", "https://ads.google.com")]
        );
        assert_eq!(
            links("Sign in at tagmanager.google.com."),
            [pair(
                "tagmanager.google.com",
                "https://tagmanager.google.com"
            )]
        );
        assert_eq!(
            links("Open business.facebook.com/settings, sign in"),
            [pair(
                "business.facebook.com/settings",
                "https://business.facebook.com/settings"
            )]
        );
        assert_eq!(
            links("Sign in at linkedin.com/campaignmanager and open it"),
            [pair(
                "linkedin.com/campaignmanager",
                "https://linkedin.com/campaignmanager"
            )]
        );
    }

    #[test]
    fn full_urls_keep_their_scheme_and_lose_trailing_punctuation() {
        assert_eq!(
            links("See https://help.shopify.com/en/manual (the guide)."),
            [pair(
                "https://help.shopify.com/en/manual",
                "https://help.shopify.com/en/manual"
            )]
        );
        assert_eq!(
            links("(http://acme-bakery.com/shop?x=1&y=2)"),
            [pair(
                "http://acme-bakery.com/shop?x=1&y=2",
                "http://acme-bakery.com/shop?x=1&y=2"
            )]
        );
        assert_eq!(
            links("the wiki https://en.wikipedia.org/wiki/Foo_(bar), then"),
            [pair(
                "https://en.wikipedia.org/wiki/Foo_(bar)",
                "https://en.wikipedia.org/wiki/Foo_(bar)"
            )]
        );
        assert_eq!(
            links("two: acme.com and https://acme.co.uk/x!"),
            [
                pair("acme.com", "https://acme.com"),
                pair("https://acme.co.uk/x", "https://acme.co.uk/x")
            ]
        );
        assert_eq!(
            links("linkedin.com/company/Acme-Bakery"),
            [pair(
                "linkedin.com/company/Acme-Bakery",
                "https://linkedin.com/company/Acme-Bakery"
            )]
        );
        assert_eq!(
            links("HTTPS://ACME.COM/Path"),
            [pair("HTTPS://ACME.COM/Path", "HTTPS://ACME.COM/Path")]
        );
    }

    #[test]
    fn nothing_else_becomes_a_link() {
        for text in [
            "javascript:alert(1)",
            "data:text/html,<b>x</b>",
            "ftp://files.acme.com/x",
            "Add ops@northwind.com as a user",
            "Upload logo.png or brand.pdf",
            "Version v1.2 and 3.14",
            "e.g. this, i.e. that",
            "A domain property (example.com) and a web address property (https://…)",
            "https://www.example.com/ and shop.example and x.test",
            "Settings.Users or Acme.Com",
            "https:// alone, http://nohost, https://-bad-.com",
            "javascript://acme.com/%0aalert(1)",
            "",
        ] {
            assert!(links(text).is_empty(), "{text}: {:?}", links(text));
        }
    }

    #[test]
    fn an_address_inside_a_word_is_not_split_out() {
        // `evil.com` after `user@` or in a path is part of something else.
        assert!(links("mail me at jo@evil.com").is_empty());
        assert_eq!(
            links("https://acme.com/go/evil.com"),
            [pair(
                "https://acme.com/go/evil.com",
                "https://acme.com/go/evil.com"
            )]
        );
        // Non-ASCII and markup around an address stay plain text.
        let parts = split("«acme.com» <b>x</b>");
        assert_eq!(parts[0], plain("«"));
        assert_eq!(parts[1].href.as_deref(), Some("https://acme.com"));
        assert_eq!(parts[2], plain("» <b>x</b>"));
    }
}

#[cfg(test)]
mod catalog_tests {
    #[test]
    fn the_catalog_links_only_vendor_sites() {
        let mut found = Vec::new();
        for p in crate::platforms::builtin() {
            for line in p.instructions.iter().chain(&p.mistakes) {
                for part in super::split(line) {
                    if let Some(h) = part.href {
                        found.push(h);
                    }
                }
            }
        }
        found.sort();
        found.dedup();
        // Every address a step names opens its vendor's site over https,
        // and none of the illustrations (example.com, https://…) does.
        let vendors = [
            "facebook.com",
            "google.com",
            "youtube.com",
            "tiktok.com",
            "linkedin.com",
            "snapchat.com",
            "x.com",
            "dropbox.com",
        ];
        assert!(found.len() >= 13, "{found:?}");
        for h in &found {
            let host = h
                .strip_prefix("https://")
                .expect(h)
                .split('/')
                .next()
                .unwrap();
            assert!(
                vendors
                    .iter()
                    .any(|v| host == *v || host.ends_with(&format!(".{v}"))),
                "{h}"
            );
        }
        assert!(found.contains(&"https://business.facebook.com/settings".to_string()));
    }
}
