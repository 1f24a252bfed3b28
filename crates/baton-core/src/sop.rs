//! Standard operating procedures (SOPs): what starts one, who owns it, its
//! definition of done (a checklist) and its service level, plus the pure
//! deadline and status arithmetic the scheduler needs.
//!
//! The default library follows the SOP table of the operations context
//! (sales handoff … offboarding). Agencies may edit copies; [`validate`]
//! checks an edited definition.
//!
//! ## Deadlines and pauses
//!
//! A run starts at `started`. Its SLA has two thresholds: at `target` the run
//! is *at risk*, at `limit` it is *breached*. [`Sla::deadlines`] turns them into
//! instants:
//!
//! * [`SlaUnit::Hours`] counts wall-clock time: `started + pause + amount`.
//! * [`SlaUnit::BusinessHours`] / [`SlaUnit::BusinessDays`] count working time
//!   on the agency [`Calendar`]: `cal.add_business(started, amount + pause)`
//!   (a business day is `cal.day_minutes` of working time).
//!
//! The pause argument is the total time the run spent paused, **measured in
//! the SLA's own clock**: wall ms for `Hours`, business ms (e.g. from
//! [`Calendar::business_between`] over each pause interval) for business
//! units. Paused time does not count, so it is simply added to both
//! thresholds. A negative pause is treated as 0.

use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::roles::Role;
use crate::CoreError;

const HOUR_MS: f64 = 3_600_000.0;
/// Largest SLA amount in hours or business hours: a year.
pub const MAX_SLA_HOURS: f64 = 8_760.0;
/// Largest SLA amount in business days (a year of a seven-day calendar).
pub const MAX_SLA_BUSINESS_DAYS: f64 = 365.0;
/// Smallest SLA target in hours or business hours: a minute.
pub const MIN_SLA_HOURS: f64 = 1.0 / 60.0;
/// Smallest SLA target in business days (a few minutes of a working day).
pub const MIN_SLA_BUSINESS_DAYS: f64 = 0.01;
/// A single-valued SLA ("24 hours") is at risk at this share of its limit.
pub const SINGLE_TARGET_SHARE: f64 = 0.8;

/// The clock an SLA is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaUnit {
    /// Wall-clock hours (nights and weekends count).
    Hours,
    /// Working hours on the agency calendar.
    BusinessHours,
    /// Working days on the agency calendar (`day_minutes` each).
    BusinessDays,
}

impl SlaUnit {
    fn max(self) -> f64 {
        match self {
            SlaUnit::Hours | SlaUnit::BusinessHours => MAX_SLA_HOURS,
            SlaUnit::BusinessDays => MAX_SLA_BUSINESS_DAYS,
        }
    }

    fn min(self) -> f64 {
        match self {
            SlaUnit::Hours | SlaUnit::BusinessHours => MIN_SLA_HOURS,
            SlaUnit::BusinessDays => MIN_SLA_BUSINESS_DAYS,
        }
    }

    fn words(self) -> (&'static str, &'static str) {
        match self {
            SlaUnit::Hours => ("hour", "hours"),
            SlaUnit::BusinessHours => ("business hour", "business hours"),
            SlaUnit::BusinessDays => ("business day", "business days"),
        }
    }
}

/// A service level: at `target` the run is at risk, at `limit` it is
/// breached ("24–72 hours" → target 24, limit 72; a single value "24 hours" →
/// target = 80% of it, limit = it). Amounts may be fractional (0.5 business
/// days).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sla {
    pub unit: SlaUnit,
    pub target: f64,
    pub limit: f64,
}

impl Sla {
    /// A range SLA: "24–72 hours" is `range(Hours, 24.0, 72.0)`.
    pub const fn range(unit: SlaUnit, target: f64, limit: f64) -> Sla {
        Sla {
            unit,
            target,
            limit,
        }
    }

    /// A single-valued SLA: at risk at 80% of `limit`, breached at `limit`.
    pub fn single(unit: SlaUnit, limit: f64) -> Sla {
        Sla {
            unit,
            target: limit * SINGLE_TARGET_SHARE,
            limit,
        }
    }

    /// Checks `min <= target <= limit <= max` with both finite: from a
    /// minute to a year (8 760 (business) hours; 0.01 to 365 business days).
    pub fn validated(self) -> Result<Sla, CoreError> {
        let (one, many) = self.unit.words();
        let max = self.unit.max();
        if !self.target.is_finite() || !self.limit.is_finite() {
            return Err(CoreError::invalid(
                "sla",
                "target and limit must be numbers",
            ));
        }
        if self.target <= 0.0 {
            return Err(CoreError::invalid("sla", "target must be greater than 0"));
        }
        if self.target < self.unit.min() {
            let min = match self.unit {
                SlaUnit::BusinessDays => format!("{MIN_SLA_BUSINESS_DAYS} {many}"),
                _ => "1 minute".to_string(),
            };
            return Err(CoreError::invalid(
                "sla",
                format!("target must be at least {min}"),
            ));
        }
        if self.target > self.limit {
            return Err(CoreError::invalid(
                "sla",
                format!(
                    "target ({}) must not exceed limit ({})",
                    self.target, self.limit
                ),
            ));
        }
        if self.limit > max {
            let unit = if max == 1.0 { one } else { many };
            return Err(CoreError::invalid(
                "sla",
                format!("limit must be at most {max} {unit}"),
            ));
        }
        Ok(self)
    }

    /// Milliseconds (wall for `Hours`, business otherwise) of an amount.
    fn amount_ms(&self, cal: &Calendar, amount: f64) -> i64 {
        match self.unit {
            SlaUnit::Hours | SlaUnit::BusinessHours => (amount * HOUR_MS).round() as i64,
            SlaUnit::BusinessDays => cal.business_days_ms(amount),
        }
    }

    /// `(at_risk_at, due_at)`: the instants `target` and `limit` fall on for
    /// a run started at `started`, with `paused_ms` of paused time added back.
    /// `paused_ms` is in the SLA's own clock (wall ms for `Hours`, business ms
    /// for business units; see the module docs); negative counts as 0.
    /// Saturates at `i64::MAX` ("never").
    pub fn deadlines(&self, cal: &Calendar, started: i64, paused_ms: i64) -> (i64, i64) {
        let pause = paused_ms.max(0);
        let at = |amount: f64| {
            let ms = self.amount_ms(cal, amount).saturating_add(pause);
            match self.unit {
                SlaUnit::Hours => started.saturating_add(ms),
                SlaUnit::BusinessHours | SlaUnit::BusinessDays => cal.add_business(started, ms),
            }
        };
        (at(self.target), at(self.limit))
    }

    /// Human text for pages: "24–72 hours", "1 business day", "2–5 business
    /// days". A single-valued SLA (target equal to the limit or 80% of it, as
    /// built by [`Sla::single`]) shows only its limit.
    /// SLA time between two instants in the SLA's own clock: wall time for
    /// `hours`, business time otherwise. A pause adds this much to the run's
    /// `paused_ms`.
    pub fn elapsed(&self, cal: &Calendar, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        match self.unit {
            SlaUnit::Hours => to - from,
            SlaUnit::BusinessHours | SlaUnit::BusinessDays => cal.business_between(from, to),
        }
    }

    pub fn describe(&self) -> String {
        let (one, many) = self.unit.words();
        let unit = if self.limit == 1.0 { one } else { many };
        let single = self.target == self.limit
            || (self.target - self.limit * SINGLE_TARGET_SHARE).abs() <= 1e-9 * self.limit.abs();
        if single {
            format!("{} {unit}", self.limit)
        } else {
            format!("{}–{} {unit}", self.target, self.limit)
        }
    }
}

/// Where a run stands against its SLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    OnTrack,
    AtRisk,
    Breached,
    Paused,
    Done,
    /// Its subject went away (the item was cancelled, the client left
    /// delivery): never judged on time.
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::OnTrack,
        RunStatus::AtRisk,
        RunStatus::Breached,
        RunStatus::Paused,
        RunStatus::Done,
        RunStatus::Cancelled,
    ];

    /// The key used in the API and the database.
    pub fn key(self) -> &'static str {
        match self {
            RunStatus::OnTrack => "on_track",
            RunStatus::AtRisk => "at_risk",
            RunStatus::Breached => "breached",
            RunStatus::Paused => "paused",
            RunStatus::Done => "done",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|r| r.key() == s)
    }
}

/// The status at `now` of an open (not paused, not done) run with these
/// deadlines, and the next instant at which it changes (None once breached)
/// — the scheduler sleeps until then. At exactly `at_risk_at` the run is at
/// risk; it is breached only *after* `due_at`, so a run done at its due
/// instant is on time and never reported breached. If `at_risk_at >=
/// due_at` the run goes straight from on track to breached.
pub fn status_at(at_risk_at: i64, due_at: i64, now: i64) -> (RunStatus, Option<i64>) {
    let breach_at = due_at.saturating_add(1);
    if now >= breach_at {
        (RunStatus::Breached, None)
    } else if now >= at_risk_at && at_risk_at < due_at {
        (RunStatus::AtRisk, Some(breach_at))
    } else if at_risk_at < due_at {
        (RunStatus::OnTrack, Some(at_risk_at))
    } else {
        (RunStatus::OnTrack, Some(breach_at))
    }
}

/// One item of an SOP's definition of done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub key: String,
    pub label: String,
}

/// A standard operating procedure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SopDefinition {
    pub key: String,
    pub name: String,
    /// Event type that starts it, e.g. "contract_signed",
    /// "content.brief_approved", or "manual".
    pub trigger: String,
    pub owner_role: Role,
    pub escalation_role: Role,
    /// The definition of done.
    pub checklist: Vec<ChecklistItem>,
    pub sla: Sla,
}

fn sop(
    key: &str,
    name: &str,
    trigger: &str,
    owner_role: Role,
    escalation_role: Role,
    sla: Sla,
    items: &[(&str, &str)],
) -> SopDefinition {
    SopDefinition {
        key: key.to_string(),
        name: name.to_string(),
        trigger: trigger.to_string(),
        owner_role,
        escalation_role,
        checklist: items
            .iter()
            .map(|(k, l)| ChecklistItem {
                key: (*k).to_string(),
                label: (*l).to_string(),
            })
            .collect(),
        sla,
    }
}

/// The nine SOPs of the operations context's SOP table.
///
/// SLA choices where the table is not a number of hours or days:
/// * "Same day" (publishing QA) → 4–8 **business hours**: at risk after half
///   a working day, breached after a full one, so a post readied late in the
///   day is not breached overnight.
/// * "Weekly" (weekly performance) → 4–5 **business days** from the end of
///   the week: the scorecard ships within the next working week and holidays
///   push it back, at risk a day before.
/// * "1 hour triage" (incident response) → 0.5–1 wall-clock **hours**: brand
///   risk does not wait for business hours.
/// * "7 days" (offboarding) → 120–168 wall-clock **hours**: seven calendar
///   days, since revoking access is a security deadline that should not
///   stretch with holidays; at risk after five days.
///
/// Single values ("24 hours", "1 business day") are at risk at 80%.
/// Escalation goes to the project manager for SOPs the account lead owns
/// (the PM owns due dates) and to the account lead for the others (the
/// account lead owns the relationship), except creative production, which
/// escalates to the PM.
pub fn default_library() -> Vec<SopDefinition> {
    [onboarding_sops(), content_sops(), ongoing_sops()].concat()
}

/// Bringing a client in: the sales handoff and access setup.
fn onboarding_sops() -> Vec<SopDefinition> {
    use Role::*;
    use SlaUnit::*;
    vec![
        sop(
            "sales_handoff",
            "Sales-to-delivery handoff",
            "contract_signed",
            AccountLead,
            ProjectManager,
            Sla::single(Hours, 24.0),
            &[
                ("scope_documented", "Scope documented in the handoff brief"),
                ("goals_documented", "Goals and success measures documented"),
                (
                    "constraints_documented",
                    "Constraints documented (brand, legal, budget)",
                ),
                ("first_30_days", "First 30 days planned"),
                ("stakeholders_approver", "Stakeholders and approver named"),
                (
                    "non_standard_promises",
                    "Non-standard sales promises listed",
                ),
            ],
        ),
        sop(
            "access_setup",
            "Access and permissions setup",
            "kickoff_scheduled",
            ProjectManager,
            AccountLead,
            Sla::range(Hours, 24.0, 72.0),
            &[
                ("platforms_listed", "Required platforms and folders listed"),
                ("access_requested", "Access requested from the client"),
                (
                    "platform_access_verified",
                    "Access verified on every required platform",
                ),
                (
                    "folder_access_verified",
                    "Access verified on shared folders and drives",
                ),
            ],
        ),
    ]
}

/// The content cycle: intake, production, review and approval, publishing QA.
fn content_sops() -> Vec<SopDefinition> {
    use Role::*;
    use SlaUnit::*;
    vec![
        sop(
            "content_intake",
            "Content intake and brief",
            "content.cycle_started",
            Strategist,
            AccountLead,
            Sla::single(BusinessDays, 1.0),
            &[
                ("audience", "Audience defined"),
                ("angle", "Angle defined"),
                ("offer", "Offer stated"),
                ("constraints", "Constraints listed"),
                ("examples", "Examples attached"),
            ],
        ),
        sop(
            "creative_production",
            "Creative production",
            "content.brief_approved",
            CreativeLead,
            ProjectManager,
            Sla::range(BusinessDays, 2.0, 5.0),
            &[
                ("drafts_produced", "Drafts produced for every deliverable"),
                ("specs_met", "Drafts match platform specs and the brief"),
                (
                    "version_naming",
                    "Files follow the version naming convention",
                ),
                ("internal_review", "Creative lead review done"),
            ],
        ),
        sop(
            "review_approval",
            "Review and approval",
            "content.drafts_ready",
            AccountLead,
            ProjectManager,
            Sla::range(Hours, 24.0, 48.0),
            &[
                ("sent_for_review", "Drafts sent to the client approver"),
                (
                    "feedback_consolidated",
                    "Feedback consolidated into one list",
                ),
                ("revisions_made", "Revisions made"),
                ("approvals_recorded", "Approvals recorded"),
            ],
        ),
        sop(
            "publishing_qa",
            "Publishing QA",
            "content.ready_to_schedule",
            ProjectManager,
            AccountLead,
            Sla::range(BusinessHours, 4.0, 8.0),
            &[
                ("links_checked", "Links checked"),
                ("tags_checked", "Tags and mentions checked"),
                ("formatting_checked", "Formatting checked on each platform"),
                ("legal_checked", "Legal and disclosure checks completed"),
            ],
        ),
    ]
}

/// Running and ending the account: the weekly cadence, incidents and
/// offboarding.
fn ongoing_sops() -> Vec<SopDefinition> {
    use Role::*;
    use SlaUnit::*;
    vec![
        sop(
            "weekly_performance",
            "Weekly performance cadence",
            "week_ended",
            Analyst,
            AccountLead,
            Sla::range(BusinessDays, 4.0, 5.0),
            &[
                ("scorecard", "Scorecard updated"),
                ("three_insights", "Three insights written"),
                ("three_actions", "Three next actions agreed"),
                ("shipped", "Report shipped to the client"),
            ],
        ),
        sop(
            "incident_response",
            "Incident response (brand risk)",
            "incident.opened",
            AccountLead,
            ProjectManager,
            Sla::range(Hours, 0.5, 1.0),
            &[
                ("triage", "Triage complete (severity and owner set)"),
                ("response_plan", "Response plan agreed"),
                ("plan_executed", "Response plan executed"),
                ("log_updated", "Incident log updated"),
            ],
        ),
        sop(
            "offboarding",
            "Offboarding and access revoke",
            "contract_ended",
            ProjectManager,
            AccountLead,
            Sla::range(Hours, 120.0, 168.0),
            &[
                ("access_revoked", "Agency access revoked on every platform"),
                ("assets_archived", "Assets archived"),
                ("final_report_sent", "Final report sent"),
            ],
        ),
    ]
}

/// A key as SOPs, checklist items and cadences spell it: 2–40 of
/// `[a-z0-9_]`, a letter first.
pub fn valid_key(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=40).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

fn valid_trigger(s: &str) -> bool {
    (1..=100).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'.')
}

fn text_ok(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    (1..=max).contains(&n) && !s.chars().any(char::is_control)
}

/// Validates an agency-edited SOP: key `[a-z][a-z0-9_]{1,39}`, name 1–200
/// characters (trimmed), trigger `[a-z][a-z0-9_.]*` up to 100, 1–30 checklist
/// items with unique keys (same pattern as the SOP key) and labels of 1–200
/// characters, and a valid SLA. Returns the definition with names and labels
/// trimmed.
pub fn validate(mut def: SopDefinition) -> Result<SopDefinition, CoreError> {
    if !valid_key(&def.key) {
        return Err(CoreError::invalid(
            "key",
            "use 2–40 characters: a lowercase letter, then lowercase letters, digits or _",
        ));
    }
    def.name = def.name.trim().to_string();
    if !text_ok(&def.name, 200) {
        return Err(CoreError::invalid("name", "use 1–200 characters"));
    }
    if !valid_trigger(&def.trigger) {
        return Err(CoreError::invalid(
            "trigger",
            "use an event type such as \"contract_signed\" or \"content.brief_approved\"",
        ));
    }
    if !(1..=30).contains(&def.checklist.len()) {
        return Err(CoreError::invalid(
            "checklist",
            "a checklist needs 1–30 items",
        ));
    }
    for i in 0..def.checklist.len() {
        let item = &mut def.checklist[i];
        item.label = item.label.trim().to_string();
        if !valid_key(&item.key) {
            return Err(CoreError::invalid(
                "checklist",
                format!(
                    "item key {:?}: use 2–40 characters: a lowercase letter, then lowercase letters, digits or _",
                    item.key
                ),
            ));
        }
        if !text_ok(&item.label, 200) {
            return Err(CoreError::invalid(
                "checklist",
                format!("item {:?}: label needs 1–200 characters", item.key),
            ));
        }
        if def.checklist[..i]
            .iter()
            .any(|o| o.key == def.checklist[i].key)
        {
            return Err(CoreError::invalid(
                "checklist",
                format!("item key {:?} is used twice", def.checklist[i].key),
            ));
        }
    }
    def.sla = def.sla.validated()?;
    Ok(def)
}

/// Whether runs of this SOP go on when the client leaves delivery
/// (`contract_ended`): offboarding itself and incident response do; the
/// rest (content, access, handoff, reporting) are cancelled with the move.
pub fn outlives_delivery(def: &SopDefinition) -> bool {
    def.trigger == "contract_ended" || def.trigger.starts_with("incident.")
}

/// Whether every checklist key is in `done` (the run's completed items).
/// Extra keys in `done` are ignored.
pub fn checklist_complete(def: &SopDefinition, done: &[String]) -> bool {
    def.checklist.iter().all(|i| done.contains(&i.key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    const H: i64 = 3_600_000;

    fn utc(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn lib_sop(key: &str) -> SopDefinition {
        default_library()
            .into_iter()
            .find(|d| d.key == key)
            .unwrap()
    }

    #[test]
    fn default_library_keys_triggers_and_validity() {
        let expected = [
            ("sales_handoff", "contract_signed", Role::AccountLead),
            ("access_setup", "kickoff_scheduled", Role::ProjectManager),
            ("content_intake", "content.cycle_started", Role::Strategist),
            (
                "creative_production",
                "content.brief_approved",
                Role::CreativeLead,
            ),
            ("review_approval", "content.drafts_ready", Role::AccountLead),
            (
                "publishing_qa",
                "content.ready_to_schedule",
                Role::ProjectManager,
            ),
            ("weekly_performance", "week_ended", Role::Analyst),
            ("incident_response", "incident.opened", Role::AccountLead),
            ("offboarding", "contract_ended", Role::ProjectManager),
        ];
        let lib = default_library();
        assert_eq!(lib.len(), expected.len());
        for (def, (key, trigger, owner)) in lib.iter().zip(expected) {
            assert_eq!(def.key, key);
            assert_eq!(def.trigger, trigger, "{key}");
            assert_eq!(def.owner_role, owner, "{key}");
            assert_ne!(def.owner_role, def.escalation_role, "{key}");
            assert!((3..=6).contains(&def.checklist.len()), "{key}");
            assert_eq!(validate(def.clone()).as_ref(), Ok(def), "{key}");
        }
        let mut keys: Vec<_> = lib.iter().map(|d| d.key.as_str()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 9);
        assert_eq!(lib_sop("access_setup").escalation_role, Role::AccountLead);
    }

    #[test]
    fn deadlines_on_default_calendar() {
        let cal = Calendar::default_utc();
        let fri = utc("2026-01-09T16:00Z"); // a Friday
                                            // (sop, paused ms, at risk, due)
        let cases: [(&str, i64, &str, &str); 12] = [
            // 24 wall hours, at risk at 80% = 19.2 h.
            ("sales_handoff", 0, "2026-01-10T11:12Z", "2026-01-10T16:00Z"),
            (
                "sales_handoff",
                2 * H,
                "2026-01-10T13:12Z",
                "2026-01-10T18:00Z",
            ),
            ("access_setup", 0, "2026-01-10T16:00Z", "2026-01-12T16:00Z"),
            // 1 business day = 8 business hours; at risk at 6.4 h.
            (
                "content_intake",
                0,
                "2026-01-12T14:24Z",
                "2026-01-12T16:00Z",
            ),
            // Fri 1 h + Mon 8 h + Tue 7 h = 2 bd; 5 bd = next Friday 16:00.
            (
                "creative_production",
                0,
                "2026-01-13T16:00Z",
                "2026-01-16T16:00Z",
            ),
            // A business-hour pause shifts both; 2 h crosses the weekend.
            (
                "creative_production",
                H,
                "2026-01-13T17:00Z",
                "2026-01-16T17:00Z",
            ),
            (
                "creative_production",
                2 * H,
                "2026-01-14T10:00Z",
                "2026-01-19T10:00Z",
            ),
            // Negative pause counts as none.
            (
                "creative_production",
                -H,
                "2026-01-13T16:00Z",
                "2026-01-16T16:00Z",
            ),
            ("publishing_qa", 0, "2026-01-12T12:00Z", "2026-01-12T16:00Z"),
            (
                "weekly_performance",
                0,
                "2026-01-15T16:00Z",
                "2026-01-16T16:00Z",
            ),
            (
                "incident_response",
                0,
                "2026-01-09T16:30Z",
                "2026-01-09T17:00Z",
            ),
            ("offboarding", 0, "2026-01-14T16:00Z", "2026-01-16T16:00Z"),
        ];
        for (key, paused, risk, due) in cases {
            let got = lib_sop(key).sla.deadlines(&cal, fri, paused);
            assert_eq!(got, (utc(risk), utc(due)), "{key} paused {paused}");
        }
        // Fractional business days.
        let half = Sla::range(SlaUnit::BusinessDays, 0.25, 0.5);
        assert_eq!(
            half.deadlines(&cal, fri, 0),
            (utc("2026-01-12T10:00Z"), utc("2026-01-12T12:00Z"))
        );
        // Hours saturate instead of overflowing.
        let sla = Sla::single(SlaUnit::Hours, 10.0);
        assert_eq!(sla.deadlines(&cal, i64::MAX - H, 0), (i64::MAX, i64::MAX));
    }

    #[test]
    fn status_at_table() {
        let (r, d) = (1_000, 2_000);
        let cases = [
            (0, RunStatus::OnTrack, Some(r)),
            (r - 1, RunStatus::OnTrack, Some(r)),
            (r, RunStatus::AtRisk, Some(d + 1)),
            (d - 1, RunStatus::AtRisk, Some(d + 1)),
            // Done at exactly its due instant is on time: not yet breached.
            (d, RunStatus::AtRisk, Some(d + 1)),
            (d + 1, RunStatus::Breached, None),
            (i64::MAX, RunStatus::Breached, None),
        ];
        for (now, status, next) in cases {
            assert_eq!(status_at(r, d, now), (status, next), "now {now}");
        }
        // Degenerate: at risk not before due → straight to breached.
        assert_eq!(status_at(5, 5, 4), (RunStatus::OnTrack, Some(6)));
        assert_eq!(status_at(5, 5, 5), (RunStatus::OnTrack, Some(6)));
        assert_eq!(status_at(5, 5, 6), (RunStatus::Breached, None));
        assert_eq!(status_at(9, 5, 4), (RunStatus::OnTrack, Some(6)));
        // A due time of "never" never breaches.
        assert_eq!(
            status_at(i64::MAX, i64::MAX, i64::MAX - 1),
            (RunStatus::OnTrack, Some(i64::MAX))
        );
    }

    #[test]
    fn only_offboarding_and_incidents_outlive_delivery() {
        let outlive: Vec<String> = default_library()
            .into_iter()
            .filter(outlives_delivery)
            .map(|d| d.key)
            .collect();
        assert_eq!(outlive, ["incident_response", "offboarding"]);
    }

    #[test]
    fn run_status_keys_round_trip() {
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.key()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.key())
            );
        }
        assert_eq!(RunStatus::parse("late"), None);
        assert_eq!(RunStatus::parse("AtRisk"), None);
    }

    #[test]
    fn sla_validated_table() {
        use SlaUnit::*;
        let cases = [
            (Sla::range(Hours, 24.0, 72.0), true),
            (Sla::range(Hours, 1.0, 1.0), true),
            (Sla::range(Hours, 0.5, 8_760.0), true),
            (Sla::range(Hours, 1.0 / 60.0, 1.0), true),
            (Sla::range(Hours, 0.01, 1.0), false),
            (Sla::range(BusinessHours, 0.001, 1.0), false),
            (Sla::range(BusinessDays, 0.01, 1.0), true),
            (Sla::range(BusinessDays, 0.001, 1.0), false),
            (Sla::range(Hours, 1.0, 8_761.0), false),
            (Sla::range(BusinessDays, 0.5, 365.0), true),
            (Sla::range(BusinessHours, 4.0, 8.0), true),
            (Sla::range(Hours, 72.0, 24.0), false),
            (Sla::range(Hours, 0.0, 24.0), false),
            (Sla::range(Hours, 0.0, 0.0), false),
            (Sla::range(Hours, -1.0, 24.0), false),
            (Sla::range(Hours, -2.0, -1.0), false),
            (Sla::range(Hours, f64::NAN, 24.0), false),
            (Sla::range(Hours, 1.0, f64::NAN), false),
            (Sla::range(Hours, 1.0, f64::INFINITY), false),
            (Sla::range(Hours, 1.0, 10_000.5), false),
            (Sla::range(BusinessHours, 1.0, 8_761.0), false),
            (Sla::range(BusinessDays, 1.0, 366.0), false),
        ];
        for (sla, ok) in cases {
            let got = sla.validated();
            if ok {
                assert_eq!(got, Ok(sla));
            } else {
                let Err(CoreError::Invalid { field, .. }) = got else {
                    panic!("{sla:?} accepted")
                };
                assert_eq!(field, "sla");
            }
        }
    }

    #[test]
    fn describe_texts() {
        use SlaUnit::*;
        let cases = [
            (Sla::range(Hours, 24.0, 72.0), "24–72 hours"),
            (Sla::single(Hours, 24.0), "24 hours"),
            (Sla::single(BusinessDays, 1.0), "1 business day"),
            (Sla::range(BusinessDays, 2.0, 5.0), "2–5 business days"),
            (Sla::range(BusinessDays, 0.5, 0.5), "0.5 business days"),
            (Sla::range(BusinessHours, 4.0, 8.0), "4–8 business hours"),
            (Sla::range(Hours, 0.5, 1.0), "0.5–1 hour"),
            (Sla::range(Hours, 1.0, 1.0), "1 hour"),
        ];
        for (sla, text) in cases {
            assert_eq!(sla.describe(), text);
        }
        assert_eq!(lib_sop("content_intake").sla.describe(), "1 business day");
        assert_eq!(lib_sop("access_setup").sla.describe(), "24–72 hours");
    }

    #[test]
    fn validate_refusals() {
        let base = lib_sop("offboarding");
        let item = |k: &str| ChecklistItem {
            key: k.into(),
            label: "Label".into(),
        };
        type Edit = fn(&mut SopDefinition);
        let cases: [(Edit, Option<&str>); 16] = [
            (|_| {}, None),
            (|d| d.key = "ab".into(), None),
            (|d| d.key = format!("a{}", "b".repeat(39)), None),
            (|d| d.key = format!("a{}", "b".repeat(40)), Some("key")),
            (|d| d.key = "a".into(), Some("key")),
            (|d| d.key = "1abc".into(), Some("key")),
            (|d| d.key = "Abc".into(), Some("key")),
            (|d| d.key = "ab-c".into(), Some("key")),
            (|d| d.name = "   ".into(), Some("name")),
            (|d| d.name = "x".repeat(201), Some("name")),
            (|d| d.trigger = String::new(), Some("trigger")),
            (|d| d.trigger = "Contract Signed".into(), Some("trigger")),
            (|d| d.checklist.clear(), Some("checklist")),
            (
                |d| d.checklist[1].key = d.checklist[0].key.clone(),
                Some("checklist"),
            ),
            (|d| d.checklist[0].label = " ".into(), Some("checklist")),
            (|d| d.sla.target = 0.0, Some("sla")),
        ];
        for (i, (edit, want)) in cases.into_iter().enumerate() {
            let mut d = base.clone();
            edit(&mut d);
            match (validate(d), want) {
                (Ok(_), None) => {}
                (Err(CoreError::Invalid { field, .. }), Some(f)) => {
                    assert_eq!(field, f, "case {i}")
                }
                (got, _) => panic!("case {i}: {got:?}"),
            }
        }
        // 30 items pass, 31 fail; a bad item key fails.
        let mut d = base.clone();
        d.checklist = (0..30).map(|n| item(&format!("item_{n}"))).collect();
        assert!(validate(d.clone()).is_ok());
        d.checklist.push(item("item_30"));
        assert!(validate(d).is_err());
        let mut d = base.clone();
        d.checklist.push(item("Bad key"));
        assert!(validate(d).is_err());
        // Names and labels come back trimmed.
        let mut d = base;
        d.name = "  Offboarding  ".into();
        d.checklist[0].label = " Revoke ".into();
        let d = validate(d).unwrap();
        assert_eq!(
            (d.name.as_str(), d.checklist[0].label.as_str()),
            ("Offboarding", "Revoke")
        );
    }

    #[test]
    fn checklist_complete_table() {
        let def = lib_sop("offboarding");
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let cases = [
            (s(&[]), false),
            (s(&["access_revoked", "assets_archived"]), false),
            (
                s(&["access_revoked", "assets_archived", "final_report_sent"]),
                true,
            ),
            (
                s(&[
                    "final_report_sent",
                    "extra",
                    "assets_archived",
                    "access_revoked",
                ]),
                true,
            ),
            (
                s(&["access_revoked", "access_revoked", "assets_archived"]),
                false,
            ),
        ];
        for (done, want) in cases {
            assert_eq!(checklist_complete(&def, &done), want, "{done:?}");
        }
    }

    #[test]
    fn serde_shape() {
        let sla = Sla::range(SlaUnit::BusinessDays, 2.0, 5.0);
        let json = serde_json::to_value(sla).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"unit": "business_days", "target": 2.0, "limit": 5.0})
        );
        let def = lib_sop("sales_handoff");
        let back: SopDefinition =
            serde_json::from_str(&serde_json::to_string(&def).unwrap()).unwrap();
        assert_eq!(back, def);
        assert_eq!(
            serde_json::to_value(&def).unwrap()["owner_role"],
            "account_lead"
        );
    }
}
