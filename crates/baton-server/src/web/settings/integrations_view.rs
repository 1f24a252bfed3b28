//! What the integrations pages show, in words: success rates ("12 of 12
//! attempts succeeded (100%)"), latencies, the retry schedule, a channel's
//! notices by label, the event catalogue with its example bodies, and the
//! refusal of a form placed at its field.

use axum::http::StatusCode;
use baton_core::webhooks::RetrySchedule;
use baton_core::CoreError;
use baton_store::StoreError;
use jiff::tz::TimeZone;

use crate::integrations::catalogue::{self, ChannelNotice, CHANNEL_NOTICES, TOPICS};
use crate::web::{refusal, WebError};

/// The fields of the integrations forms as the pages label them.
pub const LABELS: refusal::Labels = &[
    ("url", "URL"),
    ("events", "Events"),
    ("description", "Description"),
    ("client", "Client"),
    ("name", "Name"),
    ("kind", "Kind"),
    ("since", "Recover failed since"),
    ("cursor", "Page"),
];

/// A channel's forms call its event filters "Notices".
pub const CHANNEL_LABELS: refusal::Labels = &[
    ("url", "URL"),
    ("events", "Notices"),
    ("description", "Description"),
    ("client", "Client"),
    ("kind", "Kind"),
];

/// A refusal shown at its field (`field` empty: above the form).
#[derive(Debug, Default, Clone)]
pub struct FieldError {
    field: String,
    text: String,
}

impl FieldError {
    /// `text` at `field` when the form has that field (`fields`), else
    /// above the form.
    pub fn new(field: &str, text: impl Into<String>, fields: &[&str]) -> FieldError {
        FieldError {
            field: if fields.contains(&field) {
                field.to_string()
            } else {
                String::new()
            },
            text: text.into(),
        }
    }

    /// The sentence to show at `field` ("" for above the form), if any.
    pub fn at(&self, field: &str) -> Option<&str> {
        (!self.text.is_empty() && self.field == field).then_some(self.text.as_str())
    }
}

/// A store refusal as its status and the sentence at its field; anything a
/// form cannot show (not found, a failure) is the error page.
pub fn refuse(
    e: StoreError,
    labels: refusal::Labels,
    fields: &[&str],
) -> Result<(StatusCode, FieldError), WebError> {
    let field = match &e {
        StoreError::Core(CoreError::Invalid { field, .. }) => field.clone(),
        _ => String::new(),
    };
    let (status, text) = refusal::present(e, labels)?;
    Ok((status, FieldError::new(&field, text, fields)))
}

/// Event filters as typed: separated by commas, spaces or new lines.
pub fn split_filters(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// `None` for a blank choice ("All clients").
pub fn chosen(value: &str) -> Option<String> {
    Some(value.trim().to_string()).filter(|v| !v.is_empty())
}

/// "12 of 12 attempts succeeded (100%)", or "No attempts in 7 days". The
/// percentage is rounded down, so 100% means every attempt.
pub fn success_words(ok: i64, total: i64) -> String {
    if total <= 0 {
        return "No attempts in 7 days".into();
    }
    let pct = ok * 100 / total;
    let pct = if ok > 0 && pct == 0 {
        "under 1%".to_string()
    } else {
        format!("{pct}%")
    };
    let noun = if total == 1 { "attempt" } else { "attempts" };
    format!("{ok} of {total} {noun} succeeded ({pct})")
}

/// "183 ms", or "2.4 s" from a second on.
pub fn latency_words(ms: i64) -> String {
    if ms < 1000 {
        format!("{} ms", ms.max(0))
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// A wait in words: "5 s", "5 min", "2 h", "1 h 30 min", "24 h".
pub fn wait_words(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if ms < 1000 {
        return format!("{} ms", ms.max(0));
    }
    if s < 60 {
        return format!("{s} s");
    }
    if s < 3600 {
        return format!("{} min", (s + 30) / 60);
    }
    let (h, m) = (s / 3600, (s % 3600 + 30) / 60);
    if m == 0 || m == 60 {
        format!("{} h", h + m / 60)
    } else {
        format!("{h} h {m} min")
    }
}

/// The retry schedule as a sentence: "Each delivery gets up to 10
/// attempts: the first at once, then after waits of 5 s, 5 min, … and 24 h
/// (about 3 days in all)."
pub fn schedule_words(schedule: &RetrySchedule) -> String {
    let delays = schedule.delays_ms();
    let Some((first, rest)) = delays.split_first() else {
        return "Each delivery gets one attempt, at once, with no retries.".into();
    };
    let start = if *first == 0 {
        "at once".to_string()
    } else {
        format!("after {}", wait_words(*first))
    };
    if rest.is_empty() {
        return format!("Each delivery gets one attempt, {start}, with no retries.");
    }
    let waits: Vec<String> = rest.iter().map(|d| wait_words(*d)).collect();
    let list = match waits.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, before)) => format!("{} and {last}", before.join(", ")),
        None => String::new(),
    };
    let total: i64 = delays.iter().sum();
    let span = if total >= 48 * 3_600_000 {
        format!("about {} days", (total + 43_200_000) / 86_400_000)
    } else {
        wait_words(total)
    };
    format!(
        "Each delivery gets up to {} attempts: the first {start}, then after waits of {list} ({span} in all).",
        delays.len()
    )
}

/// A channel notice as a checkbox.
pub struct NoticeCheck {
    pub key: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// The notices of [`CHANNEL_NOTICES`] as checkboxes, `keys` ticked.
pub fn notice_checks(keys: &[String]) -> Vec<NoticeCheck> {
    CHANNEL_NOTICES
        .iter()
        .map(|n| NoticeCheck {
            key: n.key,
            label: n.label,
            checked: keys.iter().any(|k| k == n.key),
        })
        .collect()
}

/// A channel's stored filters read back as its notices (each one whose
/// every topic is there) and the filters no notice covers.
pub fn notices_of(events: &[String]) -> (Vec<&'static ChannelNotice>, Vec<String>) {
    let notices: Vec<&'static ChannelNotice> = CHANNEL_NOTICES
        .iter()
        .filter(|n| n.filters.iter().all(|f| events.iter().any(|e| e == f)))
        .collect();
    let rest = events
        .iter()
        .filter(|e| !notices.iter().any(|n| n.filters.contains(&e.as_str())))
        .cloned()
        .collect();
    (notices, rest)
}

/// What a channel is told about, in words: its notices by label, then any
/// other filter.
pub fn channel_events_words(events: &[String]) -> String {
    let (notices, rest) = notices_of(events);
    let mut words: Vec<String> = notices.iter().map(|n| n.label.to_string()).collect();
    words.extend(rest);
    words.join("; ")
}

/// One topic of the catalogue with its example body, pretty-printed.
pub struct TopicView {
    pub topic: &'static str,
    pub means: &'static str,
    pub example: String,
}

/// The whole catalogue.
pub fn catalogue_view() -> Vec<TopicView> {
    TOPICS
        .iter()
        .map(|t| TopicView {
            topic: t.topic,
            means: t.means,
            example: serde_json::to_string_pretty(&catalogue::example_body(t)).unwrap_or_default(),
        })
        .collect()
}

/// `ms` as a `datetime-local` value in `tz` ("2026-03-01T09:30").
pub fn datetime_local(ms: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_latencies_and_waits_read_naturally() {
        assert_eq!(success_words(0, 0), "No attempts in 7 days");
        assert_eq!(success_words(12, 12), "12 of 12 attempts succeeded (100%)");
        assert_eq!(success_words(1, 1), "1 of 1 attempt succeeded (100%)");
        assert_eq!(
            success_words(999, 1000),
            "999 of 1000 attempts succeeded (99%)"
        );
        assert_eq!(
            success_words(1, 1000),
            "1 of 1000 attempts succeeded (under 1%)"
        );
        assert_eq!(success_words(0, 3), "0 of 3 attempts succeeded (0%)");
        assert_eq!(latency_words(183), "183 ms");
        assert_eq!(latency_words(2_430), "2.4 s");
        for (ms, want) in [
            (0, "0 ms"),
            (5_000, "5 s"),
            (300_000, "5 min"),
            (7_200_000, "2 h"),
            (5_400_000, "1 h 30 min"),
            (86_400_000, "24 h"),
        ] {
            assert_eq!(wait_words(ms), want, "{ms}");
        }
    }

    #[test]
    fn the_default_schedule_in_words() {
        assert_eq!(
            schedule_words(&RetrySchedule::default()),
            "Each delivery gets up to 10 attempts: the first at once, then after waits of 5 s, 5 min, \
             30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (about 3 days in all)."
        );
        assert_eq!(
            schedule_words(&RetrySchedule::parse("0s").unwrap()),
            "Each delivery gets one attempt, at once, with no retries."
        );
        assert_eq!(
            schedule_words(&RetrySchedule::parse("0s,1s").unwrap()),
            "Each delivery gets up to 2 attempts: the first at once, then after waits of 1 s (1 s in all)."
        );
    }

    #[test]
    fn filters_split_and_channel_choices_read_back() {
        assert_eq!(
            split_filters(" client.*, access.verified\n*,,"),
            vec!["client.*", "access.verified", "*"]
        );
        let stored: Vec<String> = crate::integrations::expand_channel_events(&[
            "access".into(),
            "sop_breached".into(),
            "content.published".into(),
        ]);
        let (notices, rest) = notices_of(&stored);
        let keys: Vec<&str> = notices.iter().map(|n| n.key).collect();
        assert_eq!(keys, vec!["sop_breached", "access"]);
        assert_eq!(rest, vec!["content.published"]);
        assert_eq!(
            channel_events_words(&stored),
            "SOP run breached; Access granted, verified or failed; content.published"
        );
    }

    #[test]
    fn refusals_land_at_their_field() {
        let e = StoreError::Core(CoreError::invalid("url", "must use https"));
        let (status, fe) = refuse(e, LABELS, &["url", "events"]).unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fe.at("url"), Some("URL: must use https."));
        assert_eq!(fe.at(""), None);
        let e = StoreError::Core(CoreError::invalid("secret", "odd"));
        let (_, fe) = refuse(e, LABELS, &["url"]).unwrap();
        assert_eq!(fe.at(""), Some("secret: odd."));
        assert!(refuse(StoreError::NotFound, LABELS, &[]).is_err());
    }

    #[test]
    fn datetime_local_values_are_in_the_zone() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(
            datetime_local(1_772_353_800_000, &berlin),
            "2026-03-01T09:30"
        );
    }
}
