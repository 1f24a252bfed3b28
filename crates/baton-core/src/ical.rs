//! Writing iCalendar (RFC 5545) feeds that calendar apps subscribe to: the
//! content calendar of a client or a member. Pure text: escaping of TEXT
//! values, line folding at 75 octets, times in UTC.

use jiff::Timestamp;

/// One event of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsEvent {
    /// Stable across refreshes, so calendar apps update instead of duplicating.
    pub uid: String,
    pub start_ms: i64,
    pub duration_minutes: i64,
    pub summary: String,
    pub description: String,
    pub url: Option<String>,
}

/// `20261128T093000Z`
fn utc(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|_| "19700101T000000Z".into())
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so no physical line exceeds 75 octets
/// (continuations start with a space); never splits a UTF-8 character.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// A whole `VCALENDAR` named `name` with `events`, stamped `now_ms`.
pub fn calendar(name: &str, events: &[IcsEvent], now_ms: i64) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Baton//Content calendar//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)));
    let stamp = utc(now_ms);
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape_text(&e.uid)));
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(&mut out, &format!("DTSTART:{}", utc(e.start_ms)));
        line(
            &mut out,
            &format!(
                "DTEND:{}",
                utc(e.start_ms + e.duration_minutes.max(1) * 60_000)
            ),
        );
        line(&mut out, &format!("SUMMARY:{}", escape_text(&e.summary)));
        if !e.description.is_empty() {
            line(
                &mut out,
                &format!("DESCRIPTION:{}", escape_text(&e.description)),
            );
        }
        if let Some(u) = &e.url {
            line(&mut out, &format!("URL:{u}"));
        }
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_are_escaped() {
        for (raw, want) in [
            ("plain", "plain"),
            ("a,b;c", "a\\,b\\;c"),
            ("back\\slash", "back\\\\slash"),
            ("two\nlines\r\n", "two\\nlines\\n"),
            ("bell\u{7}", "bell"),
            ("Café ☕", "Café ☕"),
        ] {
            assert_eq!(escape_text(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(100));
        line(&mut out, &long);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), long);
    }

    #[test]
    fn a_calendar_has_its_events_in_utc() {
        // 2026-11-28T09:30:00Z
        let start = 1_795_858_200_000;
        let text = calendar(
            "Harbor Fitness, content",
            &[IcsEvent {
                uid: "cnt_1@baton".into(),
                start_ms: start,
                duration_minutes: 30,
                summary: "Reel: morning routine".into(),
                description: "instagram · reel".into(),
                url: Some("https://ops.example/content/cnt_1".into()),
            }],
            start,
        );
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("X-WR-CALNAME:Harbor Fitness\\, content\r\n"));
        assert!(text.contains("DTSTART:20261128T093000Z\r\n"));
        assert!(text.contains("DTEND:20261128T100000Z\r\n"));
        assert!(text.contains("UID:cnt_1@baton\r\n"));
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 1);
        assert!(!text.contains("\n\n"));
    }
}
