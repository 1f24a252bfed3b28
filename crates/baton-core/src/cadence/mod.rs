//! Cadences: the agency's recurring meetings (weekly delivery planning,
//! weekly performance review, monthly account review, quarterly ops review),
//! each held only when its artifact is attached. A cadence is data like an
//! SOP: the four defaults below until the agency edits one, then its own
//! versions. Its occurrences are computed from the schedule on the agency
//! calendar, so a meeting exists (and has a stable id) before anything is
//! written about it.

pub mod schedule;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::roles::Role;
use crate::{ids, CoreError};
pub use schedule::Schedule;

/// Whom one meeting is about: the agency, or each active client (one
/// meeting per client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Agency,
    Client,
}

impl Scope {
    pub fn key(self) -> &'static str {
        match self {
            Scope::Agency => "agency",
            Scope::Client => "client",
        }
    }
    pub fn parse(key: &str) -> Option<Scope> {
        [Scope::Agency, Scope::Client]
            .into_iter()
            .find(|s| s.key() == key)
    }
}

/// What a meeting must leave behind to count as held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// The content calendar for the next two weeks, confirmed, with the
    /// changes since the last planning listed.
    ContentCalendar,
    /// The week's shipped scorecard, plus the decisions taken on it.
    Scorecard,
    /// A QBR-lite memo drafted from the client's KPIs, edited, shared with
    /// the client by link.
    AccountMemo,
    /// The quarter's SOP changelog and KPI trends, with decisions.
    OpsReview,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 4] = [
        ArtifactKind::ContentCalendar,
        ArtifactKind::Scorecard,
        ArtifactKind::AccountMemo,
        ArtifactKind::OpsReview,
    ];
    pub fn key(self) -> &'static str {
        match self {
            ArtifactKind::ContentCalendar => "content_calendar",
            ArtifactKind::Scorecard => "scorecard",
            ArtifactKind::AccountMemo => "account_memo",
            ArtifactKind::OpsReview => "ops_review",
        }
    }
    pub fn parse(key: &str) -> Option<ArtifactKind> {
        ArtifactKind::ALL.into_iter().find(|k| k.key() == key)
    }
    /// In words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            ArtifactKind::ContentCalendar => {
                "Updated content calendar (next two weeks confirmed, changes listed)"
            }
            ArtifactKind::Scorecard => "The weekly scorecard + decisions",
            ArtifactKind::AccountMemo => "QBR-lite memo shared with the client",
            ArtifactKind::OpsReview => "SOP changelog for the quarter + KPI trends, with decisions",
        }
    }
    /// The scope the artifact makes sense for: a memo is about one client,
    /// the others about the agency.
    pub fn scope(self) -> Scope {
        match self {
            ArtifactKind::AccountMemo => Scope::Client,
            _ => Scope::Agency,
        }
    }
}

/// Who attends: a role of the role map, the agency's leadership (its
/// admins) or the client's stakeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attendee {
    Role(Role),
    Leadership,
    ClientStakeholders,
}

impl Attendee {
    pub fn key(self) -> &'static str {
        match self {
            Attendee::Role(r) => r.key(),
            Attendee::Leadership => "leadership",
            Attendee::ClientStakeholders => "client_stakeholders",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Attendee::Role(r) => r.label(),
            Attendee::Leadership => "Leadership",
            Attendee::ClientStakeholders => "Client stakeholders",
        }
    }
    pub fn parse(key: &str) -> Option<Attendee> {
        match key {
            "leadership" => Some(Attendee::Leadership),
            "client_stakeholders" => Some(Attendee::ClientStakeholders),
            k => Role::parse(k).map(Attendee::Role),
        }
    }
}

impl Serialize for Attendee {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for Attendee {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        Attendee::parse(&key)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown attendee {key:?}")))
    }
}

/// One cadence as the agency runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CadenceDefinition {
    /// 2–40 of `[a-z0-9_]`, a letter first.
    pub key: String,
    pub name: String,
    pub purpose: String,
    pub scope: Scope,
    pub attendee_roles: Vec<Attendee>,
    /// Who owns each meeting (for a client's meeting, the client's seat for
    /// the role first).
    pub owner_role: Role,
    pub schedule: Schedule,
    pub duration_minutes: u16,
    pub artifact: ArtifactKind,
}

/// The longest meeting Baton accepts, in minutes.
pub const MAX_DURATION_MINUTES: u16 = 8 * 60;

impl CadenceDefinition {
    /// Checks the definition as an edit or an import gives it.
    pub fn validate(&self) -> Result<(), CoreError> {
        if !crate::sop::valid_key(&self.key) {
            return Err(CoreError::invalid(
                "key",
                "2–40 of a-z, 0-9 and _, starting with a letter",
            ));
        }
        crate::validate::name("name", &self.name)?;
        crate::validate::name("purpose", &self.purpose)?;
        if self.attendee_roles.is_empty() || self.attendee_roles.len() > 12 {
            return Err(CoreError::invalid(
                "attendee_roles",
                "name 1–12 attendees (role keys, leadership or client_stakeholders)",
            ));
        }
        if self.scope == Scope::Agency
            && self.attendee_roles.contains(&Attendee::ClientStakeholders)
        {
            return Err(CoreError::invalid(
                "attendee_roles",
                "client stakeholders attend only a cadence held per client (scope \"client\")",
            ));
        }
        if !(5..=MAX_DURATION_MINUTES).contains(&self.duration_minutes) {
            return Err(CoreError::invalid(
                "duration_minutes",
                format!("5 to {MAX_DURATION_MINUTES} minutes"),
            ));
        }
        if self.artifact.scope() != self.scope {
            return Err(CoreError::invalid(
                "artifact",
                format!(
                    "{} belongs to a cadence held {}",
                    self.artifact.key(),
                    match self.artifact.scope() {
                        Scope::Client => "per client (scope \"client\")",
                        Scope::Agency => "for the agency (scope \"agency\")",
                    }
                ),
            ));
        }
        Ok(())
    }

    /// The attendees in words ("Project Manager, Creative Lead, Strategist").
    pub fn attendees_text(&self) -> String {
        self.attendee_roles
            .iter()
            .map(|a| a.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The keys of the four default cadences, in the seed's order.
pub const DEFAULT_KEYS: [&str; 4] = [
    "weekly_delivery_planning",
    "weekly_performance_review",
    "monthly_account_review",
    "quarterly_ops_review",
];

/// The seed's four cadences.
pub fn defaults() -> Vec<CadenceDefinition> {
    let rule = |s: &str| Schedule::parse(s).expect("default schedules parse");
    vec![
        CadenceDefinition {
            key: DEFAULT_KEYS[0].into(),
            name: "Weekly delivery planning".into(),
            purpose: "Confirm next outputs, resolve constraints".into(),
            scope: Scope::Agency,
            attendee_roles: vec![
                Attendee::Role(Role::ProjectManager),
                Attendee::Role(Role::CreativeLead),
                Attendee::Role(Role::Strategist),
            ],
            owner_role: Role::ProjectManager,
            schedule: rule("FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0"),
            duration_minutes: 45,
            artifact: ArtifactKind::ContentCalendar,
        },
        CadenceDefinition {
            key: DEFAULT_KEYS[1].into(),
            name: "Weekly performance review".into(),
            purpose: "Double down / stop".into(),
            scope: Scope::Agency,
            attendee_roles: vec![
                Attendee::Role(Role::Analyst),
                Attendee::Role(Role::Strategist),
                Attendee::Role(Role::AccountLead),
            ],
            owner_role: Role::Analyst,
            schedule: rule("FREQ=WEEKLY;BYDAY=MO;BYHOUR=14;BYMINUTE=0"),
            duration_minutes: 45,
            artifact: ArtifactKind::Scorecard,
        },
        CadenceDefinition {
            key: DEFAULT_KEYS[2].into(),
            name: "Monthly account review".into(),
            purpose: "Outcomes, risks, next bets".into(),
            scope: Scope::Client,
            attendee_roles: vec![
                Attendee::Role(Role::AccountLead),
                Attendee::ClientStakeholders,
            ],
            owner_role: Role::AccountLead,
            schedule: rule("FREQ=MONTHLY;BYDAY=1TH;BYHOUR=15;BYMINUTE=0"),
            duration_minutes: 60,
            artifact: ArtifactKind::AccountMemo,
        },
        CadenceDefinition {
            key: DEFAULT_KEYS[3].into(),
            name: "Quarterly ops review".into(),
            purpose: "Improve system health".into(),
            scope: Scope::Agency,
            attendee_roles: vec![Attendee::Leadership, Attendee::Role(Role::Ops)],
            owner_role: Role::Ops,
            schedule: rule("FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=2TU;BYHOUR=14;BYMINUTE=0"),
            duration_minutes: 90,
            artifact: ArtifactKind::OpsReview,
        },
    ]
}

/// The scope of one meeting as stored: `agency`, or the client's id.
pub fn scope_key(client_id: Option<&str>) -> &str {
    client_id.unwrap_or("agency")
}

/// The id of the meeting of cadence `key` for `scope` on `date`: the same
/// whenever it is computed, written or not.
pub fn occurrence_id(agency_id: &str, key: &str, scope: &str, date: Date) -> String {
    ids::derived_id(
        ids::CADENCE_OCCURRENCE,
        &format!("{agency_id}|{key}|{scope}|{date}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_defaults_are_valid_and_in_the_seeds_order() {
        let d = defaults();
        assert_eq!(
            d.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
            DEFAULT_KEYS
        );
        for c in &d {
            c.validate().unwrap_or_else(|e| panic!("{}: {e}", c.key));
        }
        assert_eq!(d[2].scope, Scope::Client);
        assert_eq!(d[1].artifact, ArtifactKind::Scorecard);
    }

    #[test]
    fn bad_definitions_name_their_field() {
        let base = defaults().remove(0);
        type Edit = fn(&mut CadenceDefinition);
        let cases: [(Edit, &str); 6] = [
            (|c| c.key = "Bad Key".into(), "key"),
            (|c| c.name = " ".into(), "name"),
            (|c| c.attendee_roles.clear(), "attendee_roles"),
            (
                |c| c.attendee_roles.push(Attendee::ClientStakeholders),
                "attendee_roles",
            ),
            (|c| c.duration_minutes = 2, "duration_minutes"),
            (|c| c.artifact = ArtifactKind::AccountMemo, "artifact"),
        ];
        for (edit, field) in cases {
            let mut c = base.clone();
            edit(&mut c);
            match c.validate() {
                Err(CoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn attendees_round_trip_their_keys() {
        for key in ["account_lead", "leadership", "client_stakeholders", "ops"] {
            assert_eq!(Attendee::parse(key).unwrap().key(), key);
        }
        assert_eq!(Attendee::parse("ceo"), None);
    }

    #[test]
    fn occurrence_ids_depend_on_every_part() {
        let d = Date::constant(2026, 12, 7);
        let a = occurrence_id("agy_1", "k", "agency", d);
        assert_eq!(a, occurrence_id("agy_1", "k", "agency", d));
        assert_ne!(a, occurrence_id("agy_2", "k", "agency", d));
        assert_ne!(a, occurrence_id("agy_1", "k", "cli_1", d));
        assert_ne!(
            a,
            occurrence_id("agy_1", "k", "agency", d.tomorrow().unwrap())
        );
        assert!(crate::types::OccurrenceId::parse(&a).is_ok());
    }
}
