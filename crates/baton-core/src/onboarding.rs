//! An agency's onboarding settings: the values its platform instructions
//! need (Business Manager id, invite email, …), the intake questionnaire the
//! client answers on the onboarding link, link expiry and the reminder
//! schedule. Stored as one JSON document per agency and validated here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{validate, CoreError};

pub const MAX_QUESTIONS: usize = 30;
pub const MAX_ANSWER_CHARS: usize = 5_000;
pub const DEFAULT_EXPIRY_DAYS: u32 = 30;
pub const MAX_EXPIRY_DAYS: u32 = 365;

/// One question of the intake questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable key answers are stored under; derived from the label when empty.
    #[serde(default)]
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub help: String,
    /// A multi-line answer (textarea) rather than one line.
    #[serde(default)]
    pub long: bool,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardingSettings {
    /// Values the platform instructions use, by setting key.
    #[serde(default)]
    pub platform_values: BTreeMap<String, String>,
    #[serde(default = "default_questions")]
    pub questions: Vec<Question>,
    /// Days between reminders while a link waits on the client; 0 turns them off.
    #[serde(default = "default_reminder_every_days")]
    pub reminder_every_days: u32,
    /// At most this many reminders per link.
    #[serde(default = "default_reminder_max")]
    pub reminder_max: u32,
    /// How long a new link stays valid unless the request says otherwise.
    #[serde(default = "default_expiry_days")]
    pub link_expiry_days: u32,
    /// A short welcome shown at the top of the client's page.
    #[serde(default)]
    pub welcome: String,
}

impl Default for OnboardingSettings {
    fn default() -> Self {
        serde_json::from_str("{}").expect("defaults")
    }
}

fn default_reminder_every_days() -> u32 {
    3
}
fn default_reminder_max() -> u32 {
    3
}
fn default_expiry_days() -> u32 {
    DEFAULT_EXPIRY_DAYS
}

/// The questionnaire a new agency starts with.
pub fn default_questions() -> Vec<Question> {
    let q = |key: &str, label: &str, help: &str, long: bool, required: bool| Question {
        key: key.into(),
        label: label.into(),
        help: help.into(),
        long,
        required,
    };
    vec![
        q(
            "approver",
            "Who approves content on your side?",
            "Name and email of the one person whose yes is final.",
            false,
            true,
        ),
        q(
            "access_contact",
            "Who can help if an access step gets stuck?",
            "Name, email or phone of whoever administers your ad and social accounts.",
            false,
            false,
        ),
        q(
            "brand_voice",
            "Describe your brand voice in a few words",
            "For example: warm, direct, a little playful.",
            false,
            false,
        ),
        q(
            "avoid",
            "Topics, words or competitors we must avoid",
            "",
            true,
            false,
        ),
    ]
}

impl OnboardingSettings {
    /// Parses a stored document; a damaged one falls back to the defaults
    /// rather than breaking every onboarding page.
    pub fn from_stored(json: &str) -> OnboardingSettings {
        serde_json::from_str(json).unwrap_or_default()
    }

    /// Checks and normalizes settings typed by a person or a script.
    pub fn validated(mut self) -> Result<OnboardingSettings, CoreError> {
        let mut values = BTreeMap::new();
        for (k, v) in std::mem::take(&mut self.platform_values) {
            let k = k.trim().to_string();
            if !is_key(&k) {
                return Err(CoreError::invalid(
                    "platform_values",
                    format!("{k:?} is not a setting key (lowercase letters, digits, _)"),
                ));
            }
            let v = v.trim();
            if v.chars().count() > 300 {
                return Err(CoreError::invalid(
                    "platform_values",
                    format!("the value of {k} is over 300 characters"),
                ));
            }
            if !v.is_empty() {
                values.insert(k, v.to_string());
            }
        }
        self.platform_values = values;
        if self.questions.len() > MAX_QUESTIONS {
            return Err(CoreError::invalid(
                "questions",
                format!("at most {MAX_QUESTIONS} questions"),
            ));
        }
        let mut seen = Vec::new();
        for q in &mut self.questions {
            q.label = validate::name("questions", &q.label)?;
            q.help = q.help.trim().to_string();
            if q.help.chars().count() > 500 {
                return Err(CoreError::invalid(
                    "questions",
                    "a question's help is over 500 characters",
                ));
            }
            q.key = if q.key.trim().is_empty() {
                derive_key(&q.label)
            } else {
                q.key.trim().to_string()
            };
            if !is_key(&q.key) {
                return Err(CoreError::invalid(
                    "questions",
                    format!(
                        "{:?} is not a question key (lowercase letters, digits, _)",
                        q.key
                    ),
                ));
            }
            if seen.contains(&q.key) {
                return Err(CoreError::invalid(
                    "questions",
                    format!("two questions have the key {}", q.key),
                ));
            }
            seen.push(q.key.clone());
        }
        if self.reminder_every_days > 60 {
            return Err(CoreError::invalid(
                "reminder_every_days",
                "must be 0 (off) to 60",
            ));
        }
        if self.reminder_max > 20 {
            return Err(CoreError::invalid("reminder_max", "must be 0 to 20"));
        }
        if !(1..=MAX_EXPIRY_DAYS).contains(&self.link_expiry_days) {
            return Err(CoreError::invalid(
                "link_expiry_days",
                format!("must be 1 to {MAX_EXPIRY_DAYS}"),
            ));
        }
        self.welcome = self.welcome.trim().to_string();
        if self.welcome.chars().count() > 2_000 {
            return Err(CoreError::invalid("welcome", "at most 2,000 characters"));
        }
        Ok(self)
    }

    /// The next reminder after `from`, if reminders are on.
    pub fn next_reminder(&self, from: i64, sent_so_far: u32) -> Option<i64> {
        (self.reminder_every_days > 0 && sent_so_far < self.reminder_max)
            .then(|| from + self.reminder_every_days as i64 * 86_400_000)
    }
}

/// A valid key from a label: "Which topics must we avoid?" → `which_topics_must_we_avoid`;
/// starts with a letter (`q_` is put in front otherwise), at most 40 characters.
pub fn derive_key(label: &str) -> String {
    let mut k = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            k.push(c.to_ascii_lowercase());
        } else if !k.is_empty() && !k.ends_with('_') {
            k.push('_');
        }
    }
    if !k.starts_with(|c: char| c.is_ascii_lowercase()) {
        k = format!("q_{k}");
    }
    k.truncate(40);
    let k = k.trim_end_matches('_');
    if k.is_empty() {
        "q".into()
    } else {
        k.to_string()
    }
}

/// `[a-z][a-z0-9_]{0,39}`: keys of settings, questions and platforms.
pub fn is_key(k: &str) -> bool {
    let b = k.as_bytes();
    !b.is_empty()
        && b.len() <= 40
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// Checks the client's answers against the questionnaire: only known keys,
/// required ones present, each at most [`MAX_ANSWER_CHARS`]. Returns
/// `(key, question label, answer)` for every non-empty answer.
pub fn validate_answers(
    questions: &[Question],
    answers: &BTreeMap<String, String>,
) -> Result<Vec<(String, String, String)>, CoreError> {
    for k in answers.keys() {
        if !questions.iter().any(|q| &q.key == k) {
            return Err(CoreError::invalid(
                k.clone(),
                "not a question of this questionnaire",
            ));
        }
    }
    let mut out = Vec::new();
    for q in questions {
        let a = answers.get(&q.key).map(|s| s.trim()).unwrap_or("");
        if a.is_empty() {
            if q.required {
                return Err(CoreError::invalid(
                    q.key.clone(),
                    format!("\"{}\" needs an answer", q.label),
                ));
            }
            continue;
        }
        if a.chars().count() > MAX_ANSWER_CHARS {
            return Err(CoreError::invalid(
                q.key.clone(),
                format!("at most {MAX_ANSWER_CHARS} characters"),
            ));
        }
        if a.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(CoreError::invalid(
                q.key.clone(),
                "contains control characters",
            ));
        }
        out.push((q.key.clone(), q.label.clone(), a.to_string()));
    }
    Ok(out)
}

/// A request named in a reminder: platform, permission level, and the
/// agency's reason when it failed.
pub type ReminderItem = (String, String, Option<String>);

/// How a reminder points the client to their link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderLink<'a> {
    /// The link itself (the server derives it; see `secret::link_token`).
    Url(&'a str),
    /// Only the day it was sent, for a link whose URL the server cannot
    /// make again (made before links were derivable, or the server's secret
    /// key changed since): the reminder points to that earlier message.
    SentOn(&'a str),
}

/// A link's URL as recorded (in a reminder's event): the address up to
/// `/o/`, the token replaced by `…`, like the request logs.
pub fn redact_link(url: &str) -> String {
    match url.find("/o/") {
        Some(i) => format!("{}…", &url[..i + 3]),
        None => "…".into(),
    }
}

/// Stands for the link's URL in a reminder waiting to be emailed, so the
/// queued message never holds the link: the sender puts the URL in at the
/// last moment. Control characters cannot occur in names, so it cannot
/// collide with an agency's or client's name.
pub const LINK_SLOT: &str = "\u{1}onboarding-link\u{1}";

/// The subject of a reminder email to a client.
pub fn reminder_subject(agency: &str, client: &str) -> String {
    format!("{agency}: access we still need from {client}")
}

/// The reminder a client gets while required requests wait on them, ready
/// to send by email or to copy. `required` are listed as needed; `optional`
/// ones, if any, are mentioned as optional (a member may also remind about
/// optional ones alone, when every required request is done).
pub fn reminder_text(
    agency: &str,
    client: &str,
    link: ReminderLink<'_>,
    required: &[ReminderItem],
    optional: &[ReminderItem],
) -> String {
    let line = |s: &mut String, (platform, permission, reason): &ReminderItem| {
        s.push_str(&format!("- {platform} ({permission})"));
        if let Some(r) = reason {
            s.push_str(&format!(" — we could not use it yet: {r}"));
        }
        s.push('\n');
    };
    let mut s = format!("Hi {client} team,\n\n");
    if required.is_empty() {
        s.push_str(&format!(
            "A quick note from {agency}: we have everything we need from you. If you can, \
             these optional ones would help too:\n\n"
        ));
        optional.iter().for_each(|r| line(&mut s, r));
    } else {
        s.push_str(&format!(
            "A quick reminder from {agency}: we still need access to the following before \
             we can start working for you:\n\n"
        ));
        required.iter().for_each(|r| line(&mut s, r));
        if !optional.is_empty() {
            s.push_str("\nOptional, if you can (these do not hold anything up):\n");
            optional.iter().for_each(|r| line(&mut s, r));
        }
    }
    let steps = "step has instructions, and \"I'm stuck\" reaches us directly if anything is \
                 unclear";
    match link {
        ReminderLink::Url(url) => s.push_str(&format!(
            "\nPlease open your onboarding link:\n{url}\n\nEach {steps}. "
        )),
        ReminderLink::SentOn(day) => s.push_str(&format!(
            "\nPlease open the onboarding link we sent you on {day}; each {steps}. "
        )),
    }
    s.push_str(&format!(
        "Please never send passwords: every platform above lets you add {agency} as a \
         partner.\n\nThank you,\n{agency}\n"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_stored() {
        let d = OnboardingSettings::default();
        assert_eq!(d.questions.len(), 4);
        assert_eq!(d.reminder_every_days, 3);
        assert_eq!(d.link_expiry_days, 30);
        // an agency that removed every question keeps none
        let s = OnboardingSettings::from_stored(r#"{"questions": []}"#);
        assert!(s.questions.is_empty());
        assert_eq!(OnboardingSettings::from_stored("not json"), d);
    }

    #[test]
    fn validation_table() {
        let base = OnboardingSettings::default();
        let mut bad_key = base.clone();
        bad_key.platform_values.insert("Bad Key".into(), "x".into());
        let mut dup = base.clone();
        dup.questions.push(dup.questions[0].clone());
        let mut expiry = base.clone();
        expiry.link_expiry_days = 0;
        let mut reminders = base.clone();
        reminders.reminder_every_days = 61;
        let mut empty_label = base.clone();
        empty_label.questions[0].label = "  ".into();
        for (s, field) in [
            (bad_key, "platform_values"),
            (dup, "questions"),
            (expiry, "link_expiry_days"),
            (reminders, "reminder_every_days"),
            (empty_label, "questions"),
        ] {
            match s.validated() {
                Err(CoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected invalid {field}, got {other:?}"),
            }
        }
        let mut ok = base;
        ok.platform_values
            .insert("meta_business_id".into(), " 123 ".into());
        ok.platform_values
            .insert("agency_email".into(), "  ".into());
        ok.questions.push(Question {
            key: String::new(),
            label: "Brand colours?".into(),
            help: String::new(),
            long: false,
            required: false,
        });
        let v = ok.validated().unwrap();
        assert_eq!(v.platform_values.get("meta_business_id").unwrap(), "123");
        assert!(
            !v.platform_values.contains_key("agency_email"),
            "blank values are dropped"
        );
        assert_eq!(v.questions.last().unwrap().key, "brand_colours");
    }

    #[test]
    fn derived_keys_are_always_valid() {
        for (label, want) in [
            ("Brand colours?", "brand_colours"),
            ("2024 goals", "q_2024_goals"),
            (
                "Which topics, words or competitors must we never mention in content?",
                "which_topics_words_or_competitors_must_w",
            ),
            ("???", "q"),
            ("", "q"),
        ] {
            let k = derive_key(label);
            assert_eq!(k, want, "{label}");
            assert!(is_key(&k), "{k} must be a valid key");
        }
    }

    #[test]
    fn answers_table() {
        let qs = default_questions();
        let mut a = BTreeMap::new();
        assert!(
            matches!(validate_answers(&qs, &a), Err(CoreError::Invalid { field, .. }) if field == "approver")
        );
        a.insert(
            "approver".to_string(),
            "Dana <dana@client.example>".to_string(),
        );
        a.insert("avoid".to_string(), "  ".to_string());
        let out = validate_answers(&qs, &a).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].2, "Dana <dana@client.example>");
        a.insert("nope".to_string(), "x".to_string());
        assert!(validate_answers(&qs, &a).is_err());
        a.remove("nope");
        a.insert("avoid".to_string(), "x".repeat(MAX_ANSWER_CHARS + 1));
        assert!(validate_answers(&qs, &a).is_err());
    }

    #[test]
    fn reminders() {
        let s = OnboardingSettings::default();
        assert_eq!(s.next_reminder(0, 0), Some(3 * 86_400_000));
        assert_eq!(s.next_reminder(0, 3), None);
        let off = OnboardingSettings {
            reminder_every_days: 0,
            ..s
        };
        assert_eq!(off.next_reminder(0, 0), None);
        let item = |p: &str, l: &str, r: Option<&str>| (p.into(), l.into(), r.map(Into::into));
        let required = [item("Google Ads", "Standard", Some("wrong account"))];
        let optional = [item("Pinterest", "Analyst", None)];
        let text = reminder_text(
            "Northwind",
            "Acme",
            ReminderLink::SentOn("3 March"),
            &required,
            &[],
        );
        assert!(text.contains("Google Ads (Standard)"));
        assert!(text.contains("wrong account"));
        assert!(text.contains("we sent you on 3 March"));
        assert!(!text.contains("Optional"));
        // With the link: the URL on its own line; optional ones as optional.
        let url = "https://ops.example/o/abc";
        let text = reminder_text(
            "Northwind",
            "Acme",
            ReminderLink::Url(url),
            &required,
            &optional,
        );
        assert!(text.contains(&format!("\n{url}\n")), "{text}");
        assert!(!text.contains("we sent you on"));
        let (need, opt) = text.split_once("Optional, if you can").expect(&text);
        assert!(need.contains("Google Ads") && !need.contains("Pinterest"));
        assert!(opt.contains("- Pinterest (Analyst)"));
        // Only optional ones left (a member's reminder): said so.
        let text = reminder_text("N", "A", ReminderLink::Url(url), &[], &optional);
        assert!(text.contains("we have everything we need"), "{text}");
        assert!(text.contains("Pinterest") && !text.contains("we still need"));
        assert_eq!(redact_link(url), "https://ops.example/o/…");
        assert_eq!(redact_link("nonsense"), "…");
        // The slot is what the email sender replaces.
        let queued = reminder_text("N", "A", ReminderLink::Url(LINK_SLOT), &required, &[]);
        assert_eq!(queued.matches(LINK_SLOT).count(), 1);
        assert_eq!(
            queued.replace(LINK_SLOT, url),
            reminder_text("N", "A", ReminderLink::Url(url), &required, &[])
        );
    }
}
