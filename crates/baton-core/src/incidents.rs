//! The incident log's rules: severities with their one-line definitions,
//! sources, the lifecycle `reported → triaged → mitigated → resolved →
//! closed` (or `cancelled`), the triage SLA on a 24/7 clock, the postmortem
//! a sev1/sev2 needs before closing, and the incident-count KPI.
//!
//! Brand risk does not wait for business hours: triage is due a fixed
//! number of wall-clock minutes after the report (60 by default, per
//! severity in the agency's settings), at risk at half of it. Pure: times
//! are unix milliseconds passed in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::CoreError;

const MINUTE_MS: i64 = 60_000;

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Sev1, Severity::Sev2, Severity::Sev3];

    pub fn key(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.key() == s)
    }

    /// "Critical", "Major", "Minor".
    pub fn name(self) -> &'static str {
        match self {
            Severity::Sev1 => "Critical",
            Severity::Sev2 => "Major",
            Severity::Sev3 => "Minor",
        }
    }

    /// Baton's one-line definition (agencies may reword it).
    pub fn default_definition(self) -> &'static str {
        match self {
            Severity::Sev1 => {
                "Public harm now: a wrong or offensive post is live, an account is compromised, or a crisis is trending."
            }
            Severity::Sev2 => {
                "Visible damage to one client: a publishing error customers saw, a missed launch, or an angry public thread."
            }
            Severity::Sev3 => {
                "Contained: caught before customers noticed, or a small error quickly fixed."
            }
        }
    }

    /// Whether closing needs a postmortem.
    pub fn needs_postmortem(self) -> bool {
        matches!(self, Severity::Sev1 | Severity::Sev2)
    }
}

/// Where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    BrandRisk,
    PublishingError,
    Access,
    Other,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::BrandRisk,
        Source::PublishingError,
        Source::Access,
        Source::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Source::BrandRisk => "brand_risk",
            Source::PublishingError => "publishing_error",
            Source::Access => "access",
            Source::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|v| v.key() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Source::BrandRisk => "Brand risk",
            Source::PublishingError => "Publishing error",
            Source::Access => "Access",
            Source::Other => "Other",
        }
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Reported,
    Triaged,
    Mitigated,
    Resolved,
    Closed,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Reported,
        Status::Triaged,
        Status::Mitigated,
        Status::Resolved,
        Status::Closed,
        Status::Cancelled,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Triaged => "triaged",
            Status::Mitigated => "mitigated",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.key() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Reported => "Reported",
            Status::Triaged => "Triaged",
            Status::Mitigated => "Mitigated",
            Status::Resolved => "Resolved",
            Status::Closed => "Closed",
            Status::Cancelled => "Cancelled",
        }
    }

    /// Still needs work (counted as open).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Cancelled)
    }

    /// The moves allowed from here, in order.
    pub fn allowed(self) -> &'static [Move] {
        match self {
            Status::Reported => &[Move::Triage, Move::Cancel],
            Status::Triaged => &[Move::Mitigate, Move::Cancel],
            Status::Mitigated => &[Move::Resolve, Move::Cancel],
            Status::Resolved => &[Move::Close],
            Status::Closed | Status::Cancelled => &[],
        }
    }
}

/// A change of status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Move {
    Triage,
    Mitigate,
    Resolve,
    Close,
    Cancel,
}

impl Move {
    pub fn key(self) -> &'static str {
        match self {
            Move::Triage => "triage",
            Move::Mitigate => "mitigate",
            Move::Resolve => "resolve",
            Move::Close => "close",
            Move::Cancel => "cancel",
        }
    }

    /// Where the move leads.
    pub fn to(self) -> Status {
        match self {
            Move::Triage => Status::Triaged,
            Move::Mitigate => Status::Mitigated,
            Move::Resolve => Status::Resolved,
            Move::Close => Status::Closed,
            Move::Cancel => Status::Cancelled,
        }
    }

    /// The event recorded for the move.
    pub fn event(self) -> &'static str {
        match self {
            Move::Triage => crate::events::INCIDENT_TRIAGED,
            Move::Mitigate => crate::events::INCIDENT_MITIGATED,
            Move::Resolve => crate::events::INCIDENT_RESOLVED,
            Move::Close => crate::events::INCIDENT_CLOSED,
            Move::Cancel => crate::events::INCIDENT_CANCELLED,
        }
    }
}

/// Checks `mv` from `from`; the refusal names the allowed moves (409).
pub fn check_move(from: Status, mv: Move) -> Result<Status, CoreError> {
    if from.allowed().contains(&mv) {
        return Ok(mv.to());
    }
    let allowed: Vec<&str> = from.allowed().iter().map(|m| m.key()).collect();
    Err(CoreError::Conflict(if allowed.is_empty() {
        format!(
            "the incident is {}; it cannot {} (no moves are left)",
            from.key(),
            mv.key()
        )
    } else {
        format!(
            "the incident is {}; it cannot {} (allowed: {})",
            from.key(),
            mv.key(),
            allowed.join(", ")
        )
    }))
}

/// The triage clock of one severity: due `minutes` after the report, at
/// risk at half of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriageClock {
    pub minutes: i64,
}

/// The default triage limit: one hour (the SOP library's "1 hour triage").
pub const DEFAULT_TRIAGE_MINUTES: i64 = 60;
/// Triage limits an agency may set: 5 minutes to 3 days.
pub const TRIAGE_MINUTES: std::ops::RangeInclusive<i64> = 5..=4_320;

impl TriageClock {
    pub fn new(minutes: i64) -> Result<TriageClock, CoreError> {
        if TRIAGE_MINUTES.contains(&minutes) {
            Ok(TriageClock { minutes })
        } else {
            Err(CoreError::invalid(
                "triage_minutes",
                format!(
                    "must be between {} and {} minutes",
                    TRIAGE_MINUTES.start(),
                    TRIAGE_MINUTES.end()
                ),
            ))
        }
    }

    /// `(at_risk_at, due_at)` for a report at `reported_at`: wall-clock time,
    /// nights and weekends included.
    pub fn deadlines(self, reported_at: i64) -> (i64, i64) {
        let due = reported_at + self.minutes * MINUTE_MS;
        (reported_at + self.minutes * MINUTE_MS / 2, due)
    }
}

/// Where the triage clock stands for an untriaged incident at `now`, and
/// when it next changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriageState {
    OnTrack { next: i64 },
    AtRisk { next: i64 },
    Breached,
}

pub fn triage_state(at_risk_at: i64, due_at: i64, now: i64) -> TriageState {
    if now >= due_at {
        TriageState::Breached
    } else if now >= at_risk_at {
        TriageState::AtRisk { next: due_at }
    } else {
        TriageState::OnTrack { next: at_risk_at }
    }
}

/// Checks a report's times: `occurred_at` not after `reported_at`, and
/// `reported_at` not in the future (a few minutes of clock skew allowed).
pub fn check_report_times(occurred_at: i64, reported_at: i64, now: i64) -> Result<(), CoreError> {
    const SKEW: i64 = 5 * MINUTE_MS;
    const MIN: i64 = 946_684_800_000; // 2000-01-01
    if reported_at > now + SKEW {
        return Err(CoreError::invalid(
            "reported_at",
            "must not be in the future",
        ));
    }
    if reported_at < MIN {
        return Err(CoreError::invalid(
            "reported_at",
            "must be after 2000-01-01",
        ));
    }
    if occurred_at < MIN {
        return Err(CoreError::invalid(
            "occurred_at",
            "must be after 2000-01-01",
        ));
    }
    if occurred_at > reported_at {
        return Err(CoreError::invalid(
            "occurred_at",
            "must not be after the report (reported_at)",
        ));
    }
    Ok(())
}

/// One follow-up action of a postmortem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub title: String,
    /// The member who owns it.
    pub owner: String,
    /// The day it is due (`YYYY-MM-DD`, agency time).
    pub due_on: String,
}

/// The end of day `due_on` (`YYYY-MM-DD`) in `tz`, as unix milliseconds:
/// a follow-up due that day is overdue after it.
pub fn end_of_day(due_on: &str, tz: &jiff::tz::TimeZone) -> Result<i64, CoreError> {
    let bad = || CoreError::invalid("due_on", "must be a date, YYYY-MM-DD");
    if due_on.len() != 10 {
        return Err(bad());
    }
    let date: jiff::civil::Date = due_on.parse().map_err(|_| bad())?;
    let next = date.tomorrow().map_err(|_| bad())?;
    let start = next.to_zoned(tz.clone()).map_err(|_| bad())?;
    Ok(start.timestamp().as_millisecond() - 1)
}

/// What a sev1/sev2 must explain before it closes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Postmortem {
    pub summary: String,
    pub impact: String,
    pub detection: String,
    pub response: String,
    pub root_cause: String,
}

impl Postmortem {
    pub const FIELDS: [&'static str; 5] =
        ["summary", "impact", "detection", "response", "root_cause"];

    fn field(&self, key: &str) -> &str {
        match key {
            "summary" => &self.summary,
            "impact" => &self.impact,
            "detection" => &self.detection,
            "response" => &self.response,
            _ => &self.root_cause,
        }
    }

    /// Every section filled (trimmed), each up to 10,000 characters.
    pub fn validate(&self) -> Result<(), CoreError> {
        for key in Self::FIELDS {
            let v = self.field(key).trim();
            let field = format!("postmortem.{key}");
            if v.is_empty() {
                return Err(CoreError::invalid(field, "must not be empty"));
            }
            if v.chars().count() > 10_000 {
                return Err(CoreError::invalid(
                    field,
                    "must be at most 10,000 characters",
                ));
            }
        }
        Ok(())
    }
}

/// One incident as the KPI needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiRow {
    pub severity: Severity,
    pub source: Source,
    pub status: Status,
    pub reported_at: i64,
    pub triaged_at: Option<i64>,
    pub triage_due_at: i64,
}

/// The incident-count KPI over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    /// Incidents reported in the period (cancelled ones excluded: they were
    /// not incidents).
    pub count: i64,
    pub by_severity: BTreeMap<String, i64>,
    pub by_source: BTreeMap<String, i64>,
    /// Median (nearest rank: an observed value, the lower of two middles) of
    /// reported → triaged over the triaged ones.
    pub median_time_to_triage_seconds: Option<i64>,
    /// Share triaged before their triage due time (at the due instant the
    /// clock has run out), over the ones whose triage is settled (triaged,
    /// or past due untriaged).
    pub triage_on_time_rate: Option<f64>,
    /// Of the counted ones, those not closed yet.
    pub open: i64,
}

/// Computes the KPI over `rows` (already filtered to the period) at `now`.
pub fn kpis(rows: &[KpiRow], now: i64) -> Kpis {
    let counted: Vec<&KpiRow> = rows
        .iter()
        .filter(|r| r.status != Status::Cancelled)
        .collect();
    let mut by_severity: BTreeMap<String, i64> =
        Severity::ALL.iter().map(|s| (s.key().into(), 0)).collect();
    let mut by_source: BTreeMap<String, i64> =
        Source::ALL.iter().map(|s| (s.key().into(), 0)).collect();
    let mut triage_ms = Vec::new();
    let (mut settled, mut on_time) = (0i64, 0i64);
    for r in &counted {
        *by_severity.entry(r.severity.key().into()).or_default() += 1;
        *by_source.entry(r.source.key().into()).or_default() += 1;
        match r.triaged_at {
            Some(t) => {
                triage_ms.push((t - r.reported_at).max(0));
                settled += 1;
                if t < r.triage_due_at {
                    on_time += 1;
                }
            }
            None if now >= r.triage_due_at => settled += 1,
            None => {}
        }
    }
    Kpis {
        count: counted.len() as i64,
        by_severity,
        by_source,
        median_time_to_triage_seconds: crate::access::percentile(&triage_ms, 50.0)
            .map(|ms| ms / 1000),
        triage_on_time_rate: (settled > 0).then(|| on_time as f64 / settled as f64),
        open: counted.iter().filter(|r| r.status.is_open()).count() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = MINUTE_MS;

    #[test]
    fn moves_follow_the_lifecycle_and_name_the_allowed_ones() {
        use Move::*;
        use Status::*;
        let cases: [(Status, Move, Result<Status, &str>); 12] = [
            (Reported, Triage, Ok(Triaged)),
            (Reported, Cancel, Ok(Cancelled)),
            (Reported, Mitigate, Err("allowed: triage, cancel")),
            (Reported, Close, Err("allowed: triage, cancel")),
            (Triaged, Mitigate, Ok(Mitigated)),
            (Triaged, Resolve, Err("allowed: mitigate, cancel")),
            (Mitigated, Resolve, Ok(Resolved)),
            (Mitigated, Triage, Err("allowed: resolve, cancel")),
            (Resolved, Close, Ok(Closed)),
            (Resolved, Cancel, Err("allowed: close")),
            (Closed, Cancel, Err("no moves are left")),
            (Cancelled, Triage, Err("no moves are left")),
        ];
        for (from, mv, want) in cases {
            match (check_move(from, mv), want) {
                (Ok(to), Ok(w)) => assert_eq!(to, w, "{from:?} {mv:?}"),
                (Err(CoreError::Conflict(m)), Err(w)) => {
                    assert!(m.contains(w), "{from:?} {mv:?}: {m}")
                }
                (got, w) => panic!("{from:?} {mv:?}: {got:?} vs {w:?}"),
            }
        }
    }

    #[test]
    fn triage_clock_is_wall_time_at_risk_at_half() {
        let c = TriageClock::new(60).unwrap();
        let t0 = 1_767_225_600_000; // a Thursday midnight: nights count
        assert_eq!(c.deadlines(t0), (t0 + 30 * M, t0 + 60 * M));
        let (risk, due) = c.deadlines(t0);
        let cases = [
            (t0, TriageState::OnTrack { next: risk }),
            (t0 + 29 * M, TriageState::OnTrack { next: risk }),
            (t0 + 30 * M, TriageState::AtRisk { next: due }),
            (t0 + 59 * M, TriageState::AtRisk { next: due }),
            (t0 + 60 * M, TriageState::Breached),
            (t0 + 600 * M, TriageState::Breached),
        ];
        for (now, want) in cases {
            assert_eq!(triage_state(risk, due, now), want, "{}", (now - t0) / M);
        }
        assert_eq!(
            TriageClock::new(15).unwrap().deadlines(0),
            (7 * M + 30_000, 15 * M)
        );
        for bad in [0, 4, 4_321, -60] {
            assert!(TriageClock::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn report_times_may_be_back_dated_never_future() {
        let now = 1_767_225_600_000;
        let cases: [(i64, i64, Option<&str>); 6] = [
            (now, now, None),
            (now - 3_600_000, now - 1_800_000, None),
            (now, now + 4 * M, None),
            (now, now + 6 * M, Some("reported_at")),
            (now - M, now - 2 * M, Some("occurred_at")),
            (0, now, Some("occurred_at")),
        ];
        for (occurred, reported, bad) in cases {
            let got = check_report_times(occurred, reported, now);
            match (got, bad) {
                (Ok(()), None) => {}
                (Err(CoreError::Invalid { field, .. }), Some(f)) => assert_eq!(field, f),
                (got, bad) => panic!("{occurred} {reported}: {got:?} vs {bad:?}"),
            }
        }
    }

    #[test]
    fn postmortem_needs_every_section() {
        let full = Postmortem {
            summary: "s".into(),
            impact: "i".into(),
            detection: "d".into(),
            response: "r".into(),
            root_cause: "c".into(),
        };
        assert!(full.validate().is_ok());
        let mut missing = full.clone();
        missing.root_cause = "  ".into();
        match missing.validate() {
            Err(CoreError::Invalid { field, .. }) => assert_eq!(field, "postmortem.root_cause"),
            other => panic!("{other:?}"),
        }
        assert!(Severity::Sev1.needs_postmortem());
        assert!(Severity::Sev2.needs_postmortem());
        assert!(!Severity::Sev3.needs_postmortem());
    }

    #[test]
    fn kpis_count_by_severity_and_source_with_triage_times() {
        let h = 60 * M;
        let row = |sev, src, status, reported: i64, triaged: Option<i64>| KpiRow {
            severity: sev,
            source: src,
            status,
            reported_at: reported,
            triaged_at: triaged,
            triage_due_at: reported + h,
        };
        use Severity::*;
        use Source::*;
        let rows = vec![
            row(Sev1, BrandRisk, Status::Closed, 0, Some(20 * M)),
            row(Sev2, PublishingError, Status::Triaged, 0, Some(90 * M)),
            row(Sev3, PublishingError, Status::Reported, 10 * h, None),
            row(Sev3, Access, Status::Reported, 0, None),
            row(Sev2, Other, Status::Cancelled, 0, None),
        ];
        let k = kpis(&rows, 10 * h + 5 * M);
        assert_eq!(k.count, 4);
        assert_eq!(k.by_severity["sev1"], 1);
        assert_eq!(k.by_severity["sev2"], 1);
        assert_eq!(k.by_severity["sev3"], 2);
        assert_eq!(k.by_source["publishing_error"], 2);
        assert_eq!(k.by_source["other"], 0);
        // 20 and 90 minutes: the lower median is 20 minutes.
        assert_eq!(k.median_time_to_triage_seconds, Some(20 * 60));
        // Settled: two triaged (one on time) and one past due untriaged; the
        // one reported 5 minutes ago is not settled yet.
        assert_eq!(k.triage_on_time_rate, Some(1.0 / 3.0));
        assert_eq!(k.open, 3);
        let empty = kpis(&[], 0);
        assert_eq!(empty.count, 0);
        assert_eq!(empty.median_time_to_triage_seconds, None);
        assert_eq!(empty.triage_on_time_rate, None);
    }

    #[test]
    fn follow_ups_are_due_at_the_end_of_their_day_in_agency_time() {
        let berlin = crate::human::zone("Europe/Berlin");
        // 2026-03-10 ends at 23:59:59.999 in Berlin (UTC+1) = 22:59:59.999Z.
        let end = end_of_day("2026-03-10", &berlin).unwrap();
        assert_eq!(end, 1_773_183_600_000 - 1);
        assert_eq!(
            end_of_day("2026-03-10", &jiff::tz::TimeZone::UTC).unwrap(),
            1_773_187_200_000 - 1
        );
        for bad in [
            "",
            "2026-3-10",
            "2026-02-30",
            "tomorrow",
            "2026-03-10T00:00",
        ] {
            assert!(end_of_day(bad, &berlin).is_err(), "{bad}");
        }
    }
}
