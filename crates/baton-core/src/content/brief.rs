//! The content brief: its fields, their limits and whether it is complete
//! (an incomplete brief cannot be approved).

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Longest brief field, in characters.
const BRIEF_FIELD_MAX: usize = 5_000;

/// The content brief. Its five fields are the definition of done of the
/// `content_intake` SOP ([`ContentBrief::FIELDS`] are that checklist's keys):
/// a brief is complete when each of the five is filled. Every field may be
/// left out; unknown fields are refused so a typo is not silently lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentBrief {
    /// Who the content is for.
    pub audience: String,
    /// The idea or point of view.
    pub angle: String,
    /// What the audience is asked to do or get.
    pub offer: String,
    /// Brand, legal and format constraints.
    pub constraints: String,
    /// Reference posts, links or notes on what good looks like.
    pub examples: String,
}

impl ContentBrief {
    pub const FIELDS: [&'static str; 5] = ["audience", "angle", "offer", "constraints", "examples"];

    fn values(&self) -> [&str; 5] {
        [
            &self.audience,
            &self.angle,
            &self.offer,
            &self.constraints,
            &self.examples,
        ]
    }

    /// Checks and normalizes the brief: each field trimmed (Windows line
    /// endings become `\n`), at most 5,000 characters, no control characters
    /// other than newlines and tabs. Empty fields are fine (just not
    /// complete). Errors name the field as `brief.audience`, ….
    pub fn validated(self) -> Result<ContentBrief, CoreError> {
        Ok(ContentBrief {
            audience: brief_field("audience", &self.audience)?,
            angle: brief_field("angle", &self.angle)?,
            offer: brief_field("offer", &self.offer)?,
            constraints: brief_field("constraints", &self.constraints)?,
            examples: brief_field("examples", &self.examples)?,
        })
    }

    /// The fields still empty, in [`ContentBrief::FIELDS`] order.
    pub fn missing(&self) -> Vec<&'static str> {
        Self::FIELDS
            .into_iter()
            .zip(self.values())
            .filter(|(_, v)| v.trim().is_empty())
            .map(|(k, _)| k)
            .collect()
    }

    /// Every field is filled: the intake's definition of done is met.
    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }
}

fn brief_field(name: &str, value: &str) -> Result<String, CoreError> {
    let field = format!("brief.{name}");
    let v = value.trim().replace("\r\n", "\n");
    let len = v.chars().count();
    if len > BRIEF_FIELD_MAX {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {BRIEF_FIELD_MAX} characters (got {len})"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(CoreError::invalid(
            field,
            "must not contain control characters (newlines and tabs are fine)",
        ));
    }
    Ok(v)
}
