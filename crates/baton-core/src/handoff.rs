//! The sales-to-delivery handoff brief: the one-page artifact per client that
//! carries what sales sold into delivery — scope, goals, constraints, the
//! first 30 days, stakeholders and who approves, and every non-standard
//! promise on its own line ("if it is not in the handoff, it does not
//! exist").
//!
//! Its six sections are exactly the definition of done of the
//! `sales_handoff` SOP ([`SECTION_KEYS`] are that checklist's keys), so the
//! brief's completeness *is* the SOP's checklist. This module checks and
//! normalizes a brief and says which sections are done; storing versions
//! and syncing runs is the store's job.

use serde::{Deserialize, Serialize};

use crate::{validate, CoreError};

/// Longest line of a list (a goal, a promise, a deliverable), in characters.
pub const LINE_MAX: usize = 500;
/// Most lines in one list (goals, channels, deliverables, …).
pub const LINES_MAX: usize = 50;
/// Most stakeholders.
pub const STAKEHOLDERS_MAX: usize = 30;
/// Longest name (a channel, a stakeholder's name or role), in characters.
pub const NAME_MAX: usize = 120;
/// Longest scope note, in characters (newlines allowed).
pub const SCOPE_NOTES_MAX: usize = 2_000;
/// Largest number of one deliverable per month.
pub const PER_MONTH_MAX: i64 = 1_000;

/// The sections of the brief, as the keys of the `sales_handoff` SOP's
/// checklist (see `sop::default_library`).
pub const SECTION_KEYS: [&str; 6] = [
    "scope_documented",
    "goals_documented",
    "constraints_documented",
    "first_30_days",
    "stakeholders_approver",
    "non_standard_promises",
];

/// Section titles, in the order of [`SECTION_KEYS`].
const SECTION_LABELS: [&str; 6] = [
    "Scope: channels and deliverables per month",
    "Goals",
    "Constraints",
    "First 30 days",
    "Stakeholders and who approves",
    "Non-standard promises",
];

/// The brief as the API speaks it and as stored (JSON). Every field may be
/// left out; unknown fields are refused so a typo is not silently lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HandoffBrief {
    pub scope: Scope,
    /// What the client wants to achieve, one per line.
    pub goals: Vec<String>,
    /// Brand, legal and budget constraints, one per line.
    pub constraints: Vec<String>,
    /// The plan for the first 30 days, one step per line.
    pub first_30_days: Vec<String>,
    pub stakeholders: Vec<Stakeholder>,
    /// Every promise sales made beyond the standard offer, one per line.
    pub promises: Vec<String>,
    /// Set to say explicitly that no non-standard promise was made (an
    /// empty `promises` alone does not complete that section).
    pub no_promises: bool,
}

/// What was sold: the channels and the deliverables per month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    /// `instagram`, `tiktok`, … as typed.
    pub channels: Vec<String>,
    pub deliverables: Vec<Deliverable>,
    /// Anything else about the scope (newlines allowed).
    pub notes: String,
}

/// One deliverable: "12 Feed posts" a month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deliverable {
    pub item: String,
    /// 1 to 1,000.
    pub per_month: i64,
}

/// A person on the client's side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Stakeholder {
    pub name: String,
    /// Their title ("CMO"); may be empty.
    pub role: String,
    pub email: Option<String>,
    /// Whether they approve content and deliverables for the client.
    pub approves: bool,
}

impl HandoffBrief {
    /// The six sections: `(checklist key, title, done)`, in the checklist's order.
    pub fn sections(&self) -> Vec<(&'static str, &'static str, bool)> {
        let done = [
            !self.scope.channels.is_empty() && !self.scope.deliverables.is_empty(),
            !self.goals.is_empty(),
            !self.constraints.is_empty(),
            !self.first_30_days.is_empty(),
            !self.stakeholders.is_empty() && self.stakeholders.iter().any(|s| s.approves),
            !self.promises.is_empty() || self.no_promises,
        ];
        SECTION_KEYS
            .into_iter()
            .zip(SECTION_LABELS)
            .zip(done)
            .map(|((k, l), d)| (k, l, d))
            .collect()
    }

    /// The keys of the sections not done yet, in the checklist's order.
    pub fn missing(&self) -> Vec<&'static str> {
        self.sections()
            .into_iter()
            .filter(|(_, _, done)| !done)
            .map(|(k, _, _)| k)
            .collect()
    }

    /// Every section is done: the handoff's definition of done is met.
    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }

    /// The title of a section key, if it is one.
    pub fn section_label(key: &str) -> Option<&'static str> {
        SECTION_KEYS
            .iter()
            .position(|k| *k == key)
            .map(|i| SECTION_LABELS[i])
    }

    /// Checks and normalizes the brief: every string trimmed, blank lines
    /// (and blank stakeholders, and repeated channels) dropped, emails
    /// lower-cased. Refuses over-long text, too many lines, a per-month
    /// count outside 1–1,000, a bad email, and "no promises" ticked while
    /// promises are listed.
    pub fn validated(self) -> Result<HandoffBrief, CoreError> {
        let mut channels: Vec<String> = Vec::new();
        for c in lines("scope.channels", self.scope.channels, NAME_MAX)? {
            if !channels.iter().any(|k| k.eq_ignore_ascii_case(&c)) {
                channels.push(c);
            }
        }
        let mut deliverables = Vec::new();
        for (i, d) in self.scope.deliverables.into_iter().enumerate() {
            let item = d.item.trim();
            if item.is_empty() && d.per_month == 0 {
                continue;
            }
            let n = i + 1;
            if item.is_empty() {
                return Err(CoreError::invalid(
                    "scope.deliverables",
                    format!("item {n}: say what is delivered (e.g. \"Feed posts\")"),
                ));
            }
            let item = one_line(item, LINE_MAX)
                .map_err(|m| CoreError::invalid("scope.deliverables", format!("item {n}: {m}")))?;
            if !(1..=PER_MONTH_MAX).contains(&d.per_month) {
                return Err(CoreError::invalid(
                    "scope.deliverables",
                    format!(
                        "item {n} ({item}): per_month must be 1 to {PER_MONTH_MAX} (got {})",
                        d.per_month
                    ),
                ));
            }
            deliverables.push(Deliverable {
                item,
                per_month: d.per_month,
            });
        }
        count("scope.deliverables", deliverables.len(), LINES_MAX)?;
        let notes = self.scope.notes.trim().to_string();
        if !notes.is_empty() {
            validate::note("scope.notes", &notes)?;
            let len = notes.chars().count();
            if len > SCOPE_NOTES_MAX {
                return Err(CoreError::invalid(
                    "scope.notes",
                    format!("must be at most {SCOPE_NOTES_MAX} characters (got {len})"),
                ));
            }
        }

        let mut stakeholders = Vec::new();
        for (i, s) in self.stakeholders.into_iter().enumerate() {
            let n = i + 1;
            let email = s.email.as_deref().map(str::trim).unwrap_or("");
            if s.name.trim().is_empty() && s.role.trim().is_empty() && email.is_empty() {
                continue;
            }
            let at =
                |m: String| CoreError::invalid("stakeholders", format!("stakeholder {n}: {m}"));
            if s.name.trim().is_empty() {
                return Err(at("name must not be empty".into()));
            }
            let name = one_line(&s.name, NAME_MAX).map_err(|m| at(format!("name {m}")))?;
            let role = if s.role.trim().is_empty() {
                String::new()
            } else {
                one_line(&s.role, NAME_MAX).map_err(|m| at(format!("role {m}")))?
            };
            let email = if email.is_empty() {
                None
            } else {
                Some(validate::email(email).map_err(|_| {
                    at(format!(
                        "email of {name} must be an email address like name@client.com"
                    ))
                })?)
            };
            stakeholders.push(Stakeholder {
                name,
                role,
                email,
                approves: s.approves,
            });
        }
        count("stakeholders", stakeholders.len(), STAKEHOLDERS_MAX)?;

        let promises = lines("promises", self.promises, LINE_MAX)?;
        if self.no_promises && !promises.is_empty() {
            return Err(CoreError::invalid(
                "promises",
                "promises are listed, so \"no non-standard promises were made\" cannot be ticked; \
                 remove the promises or untick it",
            ));
        }
        Ok(HandoffBrief {
            scope: Scope {
                channels,
                deliverables,
                notes,
            },
            goals: lines("goals", self.goals, LINE_MAX)?,
            constraints: lines("constraints", self.constraints, LINE_MAX)?,
            first_30_days: lines("first_30_days", self.first_30_days, LINE_MAX)?,
            stakeholders,
            promises,
            no_promises: self.no_promises,
        })
    }
}

/// A list of one-line strings: trimmed, blanks dropped, each at most `max`
/// characters, at most [`LINES_MAX`] of them.
fn lines(field: &str, given: Vec<String>, max: usize) -> Result<Vec<String>, CoreError> {
    let mut out = Vec::new();
    for (i, l) in given.iter().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let v = one_line(l, max)
            .map_err(|m| CoreError::invalid(field, format!("line {}: {m}", i + 1)))?;
        out.push(v);
    }
    count(field, out.len(), LINES_MAX)?;
    Ok(out)
}

/// One trimmed line of at most `max` characters, without control characters.
/// The error is the message only; callers say where.
fn one_line(value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    let len = v.chars().count();
    if len > max {
        return Err(format!("must be at most {max} characters (got {len})"));
    }
    if v.chars().any(char::is_control) {
        return Err("must be one line without control characters".into());
    }
    Ok(v.to_string())
}

fn count(field: &str, n: usize, max: usize) -> Result<(), CoreError> {
    if n > max {
        return Err(CoreError::invalid(
            field,
            format!("at most {max} entries (got {n})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sop::default_library;

    fn full() -> HandoffBrief {
        serde_json::from_value(serde_json::json!({
            "scope": {"channels": ["instagram", "tiktok"], "deliverables": [{"item": "Feed posts", "per_month": 12}], "notes": "Stories on request"},
            "goals": ["Grow reach 20% by Q3"],
            "constraints": ["No competitor mentions"],
            "first_30_days": ["Kickoff workshop", "Content calendar for month 1"],
            "stakeholders": [{"name": "Dana Ruiz", "role": "CMO", "email": "dana@client.test", "approves": true}],
            "promises": ["We post daily across 4 channels"]
        }))
        .unwrap()
    }

    #[test]
    fn section_keys_are_the_sales_handoff_checklist() {
        let lib = default_library();
        let handoff = lib.iter().find(|s| s.key == "sales_handoff").unwrap();
        let keys: Vec<&str> = handoff.checklist.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, SECTION_KEYS);
        let brief = HandoffBrief::default();
        let section_keys: Vec<&str> = brief.sections().iter().map(|s| s.0).collect();
        assert_eq!(section_keys, SECTION_KEYS);
        assert_eq!(
            HandoffBrief::section_label("goals_documented"),
            Some("Goals")
        );
        assert_eq!(HandoffBrief::section_label("nope"), None);
    }

    #[test]
    fn completeness_table() {
        type Edit = fn(&mut HandoffBrief);
        let cases: Vec<(&str, Edit, Vec<&str>)> = vec![
            ("full", |_| {}, vec![]),
            (
                "no channels",
                |b| b.scope.channels.clear(),
                vec!["scope_documented"],
            ),
            (
                "no deliverables",
                |b| b.scope.deliverables.clear(),
                vec!["scope_documented"],
            ),
            ("no goals", |b| b.goals.clear(), vec!["goals_documented"]),
            (
                "no constraints",
                |b| b.constraints.clear(),
                vec!["constraints_documented"],
            ),
            (
                "no plan",
                |b| b.first_30_days.clear(),
                vec!["first_30_days"],
            ),
            (
                "no stakeholders",
                |b| b.stakeholders.clear(),
                vec!["stakeholders_approver"],
            ),
            (
                "nobody approves",
                |b| b.stakeholders[0].approves = false,
                vec!["stakeholders_approver"],
            ),
            (
                "no promises, not said",
                |b| b.promises.clear(),
                vec!["non_standard_promises"],
            ),
            (
                "no promises, said so",
                |b| {
                    b.promises.clear();
                    b.no_promises = true;
                },
                vec![],
            ),
        ];
        for (what, edit, missing) in cases {
            let mut b = full();
            edit(&mut b);
            assert_eq!(b.missing(), missing, "{what}");
            assert_eq!(b.is_complete(), missing.is_empty(), "{what}");
            let done: Vec<bool> = b.sections().iter().map(|s| s.2).collect();
            assert_eq!(
                done.iter().filter(|d| !**d).count(),
                missing.len(),
                "{what}"
            );
        }
        assert_eq!(HandoffBrief::default().missing(), SECTION_KEYS.to_vec());
    }

    #[test]
    fn validation_normalizes() {
        let mut b = full();
        b.goals = vec![
            "  Grow reach  ".into(),
            "".into(),
            "   ".into(),
            "Leads".into(),
        ];
        b.scope.channels = vec![
            " Instagram ".into(),
            "instagram".into(),
            "".into(),
            "tiktok".into(),
        ];
        b.scope.deliverables.push(Deliverable::default());
        b.stakeholders.push(Stakeholder::default());
        b.stakeholders[0].email = Some(" Dana@Client.TEST ".into());
        b.stakeholders.push(Stakeholder {
            name: " Sam ".into(),
            email: Some("  ".into()),
            ..Stakeholder::default()
        });
        let v = b.validated().unwrap();
        assert_eq!(v.goals, vec!["Grow reach", "Leads"]);
        assert_eq!(v.scope.channels, vec!["Instagram", "tiktok"]);
        assert_eq!(v.scope.deliverables.len(), 1);
        assert_eq!(v.stakeholders.len(), 2);
        assert_eq!(v.stakeholders[0].email.as_deref(), Some("dana@client.test"));
        assert_eq!(v.stakeholders[1].name, "Sam");
        assert_eq!(v.stakeholders[1].email, None);
        // Validating twice changes nothing.
        assert_eq!(v.clone().validated().unwrap(), v);
        // Unicode and markup are kept verbatim (pages escape them).
        let mut u = full();
        u.promises = vec!["<b>Zoë's</b> 東京 🚀".into()];
        assert_eq!(
            u.validated().unwrap().promises,
            vec!["<b>Zoë's</b> 東京 🚀"]
        );
    }

    #[test]
    fn refusals_table() {
        type Edit = fn(&mut HandoffBrief);
        let cases: Vec<(&str, Edit, &str)> = vec![
            (
                "promises and no promises",
                |b| b.no_promises = true,
                "promises",
            ),
            ("long goal", |b| b.goals = vec!["g".repeat(501)], "goals"),
            (
                "long promise",
                |b| b.promises = vec!["p".repeat(501)],
                "promises",
            ),
            (
                "too many constraints",
                |b| b.constraints = (0..51).map(|i| format!("c{i}")).collect(),
                "constraints",
            ),
            (
                "newline in a step",
                |b| b.first_30_days = vec!["a\nb".into()],
                "first_30_days",
            ),
            (
                "long channel",
                |b| b.scope.channels = vec!["c".repeat(121)],
                "scope.channels",
            ),
            (
                "zero per month",
                |b| b.scope.deliverables[0].per_month = 0,
                "scope.deliverables",
            ),
            (
                "too many per month",
                |b| b.scope.deliverables[0].per_month = 1001,
                "scope.deliverables",
            ),
            (
                "negative per month",
                |b| b.scope.deliverables[0].per_month = -1,
                "scope.deliverables",
            ),
            (
                "count without item",
                |b| b.scope.deliverables[0].item = " ".into(),
                "scope.deliverables",
            ),
            (
                "long notes",
                |b| b.scope.notes = "n".repeat(2001),
                "scope.notes",
            ),
            (
                "bad email",
                |b| b.stakeholders[0].email = Some("dana at client".into()),
                "stakeholders",
            ),
            (
                "stakeholder without name",
                |b| b.stakeholders[0].name = " ".into(),
                "stakeholders",
            ),
            (
                "long name",
                |b| b.stakeholders[0].name = "n".repeat(121),
                "stakeholders",
            ),
            (
                "too many stakeholders",
                |b| {
                    b.stakeholders = (0..31)
                        .map(|i| Stakeholder {
                            name: format!("P{i}"),
                            ..Stakeholder::default()
                        })
                        .collect()
                },
                "stakeholders",
            ),
        ];
        for (what, edit, field) in cases {
            let mut b = full();
            edit(&mut b);
            match b.validated() {
                Err(CoreError::Invalid { field: f, message }) => {
                    assert_eq!(f, field, "{what}: {message}");
                    assert!(!message.is_empty(), "{what}");
                }
                other => panic!("{what}: expected a refusal on {field}, got {other:?}"),
            }
        }
        // At the limits is fine.
        let mut b = full();
        b.goals = vec!["g".repeat(500); 50];
        b.scope.deliverables[0].per_month = 1000;
        b.stakeholders[0].name = "é".repeat(120);
        assert!(b.validated().is_ok());
    }

    #[test]
    fn json_shape() {
        let b: HandoffBrief = serde_json::from_str("{}").unwrap();
        assert_eq!(b, HandoffBrief::default());
        assert!(serde_json::from_str::<HandoffBrief>(r#"{"goal": []}"#).is_err());
        assert!(serde_json::from_str::<HandoffBrief>(r#"{"scope": {"channel": []}}"#).is_err());
        let v = serde_json::to_value(full()).unwrap();
        assert_eq!(v["scope"]["deliverables"][0]["per_month"], 12);
        assert_eq!(v["stakeholders"][0]["approves"], true);
        assert_eq!(v["no_promises"], false);
        let back: HandoffBrief = serde_json::from_value(v).unwrap();
        assert_eq!(back, full());
    }
}
