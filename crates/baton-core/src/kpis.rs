//! The six ops KPIs of the seed's table with one set of definitions:
//! time-to-verified-access, time-to-first-value, cycle time (brief to
//! publish, split by stage), rework rate, on-time delivery (content and SOP
//! runs) and incident count — plus the access wait split by who is waiting.
//!
//! The store reads the moments each KPI is about ([`Inputs`]) once for a
//! whole range; [`compute`] takes any period inside it, so a 13-week trend
//! is one read and thirteen pure passes. Every thing counted belongs to the
//! period of its *anchor*: the moment it finished (access complete, first
//! value, published, first submitted for rework, done or due for on-time,
//! reported for incidents).

use serde::Serialize;

use crate::access::percentile;
use crate::calendar::Calendar;
use crate::content::{ItemHistory, RevisionSize};

/// Milliseconds in a calendar day (KPI values in days are wall-clock days).
pub const DAY_MS: f64 = 86_400_000.0;

/// One of the six ops KPIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    TimeToVerifiedAccess,
    TimeToFirstValue,
    CycleTime,
    ReworkRate,
    OnTimeDeliveryRate,
    IncidentCount,
}

/// What a KPI's `value` is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Calendar days (the median).
    Days,
    /// A share, 0–100.
    Percent,
    /// A number of things.
    Count,
}

impl Unit {
    pub fn key(self) -> &'static str {
        match self {
            Unit::Days => "days",
            Unit::Percent => "percent",
            Unit::Count => "count",
        }
    }

    pub fn parse(s: &str) -> Option<Unit> {
        [Unit::Days, Unit::Percent, Unit::Count]
            .into_iter()
            .find(|u| u.key() == s)
    }

    /// `value` as a person reads it: "2.5 days", "80%", "3".
    pub fn format(self, value: f64) -> String {
        let v = trim(value);
        match self {
            Unit::Days if (value - 1.0).abs() < f64::EPSILON => "1 day".into(),
            Unit::Days => format!("{v} days"),
            Unit::Percent => format!("{v}%"),
            Unit::Count => v,
        }
    }
}

/// A number with at most one decimal, without a trailing `.0`.
pub fn trim(value: f64) -> String {
    let r = (value * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

impl Kpi {
    pub const ALL: [Kpi; 6] = [
        Kpi::TimeToVerifiedAccess,
        Kpi::TimeToFirstValue,
        Kpi::CycleTime,
        Kpi::ReworkRate,
        Kpi::OnTimeDeliveryRate,
        Kpi::IncidentCount,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Kpi::TimeToVerifiedAccess => "time_to_verified_access",
            Kpi::TimeToFirstValue => "time_to_first_value",
            Kpi::CycleTime => "cycle_time",
            Kpi::ReworkRate => "rework_rate",
            Kpi::OnTimeDeliveryRate => "on_time_delivery_rate",
            Kpi::IncidentCount => "incident_count",
        }
    }

    pub fn parse(s: &str) -> Option<Kpi> {
        Kpi::ALL.into_iter().find(|k| k.key() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kpi::TimeToVerifiedAccess => "Time to verified access",
            Kpi::TimeToFirstValue => "Time to first value",
            Kpi::CycleTime => "Cycle time (brief to publish)",
            Kpi::ReworkRate => "Rework rate",
            Kpi::OnTimeDeliveryRate => "On-time delivery",
            Kpi::IncidentCount => "Incidents",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Kpi::TimeToVerifiedAccess | Kpi::TimeToFirstValue | Kpi::CycleTime => Unit::Days,
            Kpi::ReworkRate | Kpi::OnTimeDeliveryRate => Unit::Percent,
            Kpi::IncidentCount => Unit::Count,
        }
    }

    /// Whether a smaller value is better (all but on-time delivery).
    pub fn lower_is_better(self) -> bool {
        self != Kpi::OnTimeDeliveryRate
    }

    /// Why the seed says it matters.
    pub fn why(self) -> &'static str {
        match self {
            Kpi::TimeToVerifiedAccess => "Predicts time-to-launch and client confidence.",
            Kpi::TimeToFirstValue => "Shortens the buyer's remorse window.",
            Kpi::CycleTime => "Reveals bottlenecks and handoff issues.",
            Kpi::ReworkRate => "Protects margins and morale.",
            Kpi::OnTimeDeliveryRate => "Impacts trust and renewals.",
            Kpi::IncidentCount => "Measures QA and governance maturity.",
        }
    }

    /// The one-sentence definition (the API's `definition`, the
    /// definitions page and the README say exactly this).
    pub fn definition(self, first_value: FirstValue) -> String {
        match self {
            Kpi::TimeToVerifiedAccess => "Median calendar days from a client's contract signature to the moment its last required platform access was verified by a team member, over clients whose access became complete in the period.".into(),
            Kpi::TimeToFirstValue => format!(
                "Median calendar days from a client's contract signature to its first meaningful output ({}), over clients whose first output came in the period.",
                first_value.words()
            ),
            Kpi::CycleTime => "Median calendar days from a content item's brief approval to its publication, over items published in the period; split into brief to first draft, first draft to approved, and approved to published.".into(),
            Kpi::ReworkRate => "Share of content items first submitted for review in the period that needed at least one major revision, over those with a decided review round.".into(),
            Kpi::OnTimeDeliveryRate => "Share of deliveries on time: content published by the end of its planned day, and SOP runs done by their due time, over those finished in the period or still open past a due time in it.".into(),
            Kpi::IncidentCount => "Incidents reported in the period (brand-risk events, publishing errors, access and other), cancelled reports excluded.".into(),
        }
    }
}

/// What counts as a client's first meaningful output (agency setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstValue {
    /// The first content item published (the default).
    #[default]
    Published,
    /// The first content item the client approved on the approval link.
    ClientApproved,
}

impl FirstValue {
    pub fn key(self) -> &'static str {
        match self {
            FirstValue::Published => "published",
            FirstValue::ClientApproved => "client_approved",
        }
    }

    pub fn parse(s: &str) -> Option<FirstValue> {
        [FirstValue::Published, FirstValue::ClientApproved]
            .into_iter()
            .find(|f| f.key() == s)
    }

    pub fn words(self) -> &'static str {
        match self {
            FirstValue::Published => "its first content item published",
            FirstValue::ClientApproved => "the first content item the client approved",
        }
    }
}

/// From `start` to `end` (the anchor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

/// One published content item's production, for the cycle time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    /// When the brief was approved (production started); `None` for an
    /// item whose brief approval is not on record: not counted.
    pub brief_approved_at: Option<i64>,
    /// When its first draft (version 1) was added.
    pub first_draft_at: Option<i64>,
    pub approved_at: Option<i64>,
    /// The anchor.
    pub published_at: i64,
}

/// Something due: a content item's planned day or an SOP run's due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The last millisecond it is on time.
    pub due_at: i64,
    pub done_at: Option<i64>,
}

impl Due {
    /// The moment it is judged: done, or its due time passed while open.
    fn anchor(&self, now: i64) -> Option<i64> {
        match self.done_at {
            Some(d) => Some(d),
            None if self.due_at < now => Some(self.due_at),
            None => None,
        }
    }
}

/// One content item's review history, anchored at its first submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewed {
    pub first_submitted_at: i64,
    pub history: ItemHistory,
}

/// One access request's waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessWait {
    pub requested_at: i64,
    pub granted_at: Option<i64>,
    pub verified_at: Option<i64>,
}

/// Everything the KPIs are computed from, for one range.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Contract signed → access complete, per client.
    pub access: Vec<Span>,
    /// Contract signed → first meaningful output, per client.
    pub first_value: Vec<Span>,
    pub cycles: Vec<Cycle>,
    pub reviewed: Vec<Reviewed>,
    /// Content items with a planned day (cancelled ones left out).
    pub content_due: Vec<Due>,
    /// SOP runs (cancelled and paused ones left out).
    pub sop_due: Vec<Due>,
    /// When each incident was reported (cancelled ones left out).
    pub incidents: Vec<i64>,
    pub access_waits: Vec<AccessWait>,
}

/// Median and 90th percentile (nearest rank), calendar and business time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Durations {
    pub n: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    pub business_median_ms: Option<i64>,
    pub business_p90_ms: Option<i64>,
}

impl Durations {
    fn of(pairs: &[(i64, i64)], cal: &Calendar) -> Durations {
        let wall: Vec<i64> = pairs.iter().map(|(a, b)| (b - a).max(0)).collect();
        let business: Vec<i64> = pairs
            .iter()
            .map(|&(a, b)| cal.business_between(a, b))
            .collect();
        Durations {
            n: pairs.len(),
            median_ms: percentile(&wall, 50.0),
            p90_ms: percentile(&wall, 90.0),
            business_median_ms: percentile(&business, 50.0),
            business_p90_ms: percentile(&business, 90.0),
        }
    }

    /// The median in calendar days.
    pub fn median_days(&self) -> Option<f64> {
        self.median_ms.map(|ms| round2(ms as f64 / DAY_MS))
    }
}

/// On time among the judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct OnTime {
    pub n: usize,
    pub on_time: usize,
}

impl OnTime {
    fn of(dues: &[&Due]) -> OnTime {
        OnTime {
            n: dues.len(),
            on_time: dues
                .iter()
                .filter(|d| d.done_at.is_some_and(|at| at <= d.due_at))
                .count(),
        }
    }

    /// Percent on time; `None` when nothing was judged.
    pub fn percent(&self) -> Option<f64> {
        (self.n > 0).then(|| round2(100.0 * self.on_time as f64 / self.n as f64))
    }
}

/// The cycle time's stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Stages {
    pub brief_to_draft: Durations,
    pub draft_to_approved: Durations,
    pub approved_to_published: Durations,
}

/// The KPIs over one period.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Report {
    pub from: i64,
    pub until: i64,
    pub time_to_verified_access: Durations,
    pub time_to_first_value: Durations,
    pub cycle_time: Durations,
    pub stages: Stages,
    /// Items with a decided round, and those of them with a major revision.
    pub reviewed: usize,
    pub reworked: usize,
    pub content_on_time: OnTime,
    pub sops_on_time: OnTime,
    pub incidents: usize,
    /// Request → granted by the client (requests granted in the period).
    pub waiting_on_client: Durations,
    /// Granted → verified by the team (requests verified in the period).
    pub waiting_on_team: Durations,
}

/// What a KPI came to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Value {
    /// `None` when nothing counted toward it (rather than a misleading 0).
    pub value: Option<f64>,
    /// How many things it is computed over.
    pub n: usize,
}

impl Report {
    pub fn value(&self, kpi: Kpi) -> Value {
        let days = |d: &Durations| Value {
            value: d.median_days(),
            n: d.n,
        };
        match kpi {
            Kpi::TimeToVerifiedAccess => days(&self.time_to_verified_access),
            Kpi::TimeToFirstValue => days(&self.time_to_first_value),
            Kpi::CycleTime => days(&self.cycle_time),
            Kpi::ReworkRate => Value {
                value: (self.reviewed > 0)
                    .then(|| round2(100.0 * self.reworked as f64 / self.reviewed as f64)),
                n: self.reviewed,
            },
            Kpi::OnTimeDeliveryRate => {
                let all = self.on_time();
                Value {
                    value: all.percent(),
                    n: all.n,
                }
            }
            Kpi::IncidentCount => Value {
                value: Some(self.incidents as f64),
                n: self.incidents,
            },
        }
    }

    /// Content and SOP runs together.
    pub fn on_time(&self) -> OnTime {
        OnTime {
            n: self.content_on_time.n + self.sops_on_time.n,
            on_time: self.content_on_time.on_time + self.sops_on_time.on_time,
        }
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The KPIs over `[from, until)` at `now`, business time on `cal`.
pub fn compute(inputs: &Inputs, from: i64, until: i64, now: i64, cal: &Calendar) -> Report {
    let inside = |t: i64| t >= from && t < until;
    let spans = |v: &[Span]| -> Vec<(i64, i64)> {
        v.iter()
            .filter(|s| inside(s.end))
            .map(|s| (s.start, s.end))
            .collect()
    };
    let cycles: Vec<&Cycle> = inputs
        .cycles
        .iter()
        .filter(|c| inside(c.published_at) && c.brief_approved_at.is_some())
        .collect();
    let whole: Vec<(i64, i64)> = cycles
        .iter()
        .filter_map(|c| Some((c.brief_approved_at?, c.published_at)))
        .collect();
    let stage = |pick: fn(&Cycle) -> Option<(i64, i64)>| -> Vec<(i64, i64)> {
        cycles.iter().filter_map(|c| pick(c)).collect()
    };
    let reviewed: Vec<ItemHistory> = inputs
        .reviewed
        .iter()
        .filter(|r| inside(r.first_submitted_at))
        .map(|r| r.history.clone())
        .collect();
    // The content metrics' own definition: items with a decided round, and
    // those of them with a major revision.
    let decided: Vec<&ItemHistory> = reviewed.iter().filter(|h| h.rounds > 0).collect();
    let reviewed_n = decided.len();
    let reworked = decided
        .iter()
        .filter(|h| h.revisions.contains(&RevisionSize::Major))
        .count();
    let judged = |v: &[Due]| -> OnTime {
        let d: Vec<&Due> = v
            .iter()
            .filter(|d| d.anchor(now).is_some_and(inside))
            .collect();
        OnTime::of(&d)
    };
    let granted: Vec<(i64, i64)> = inputs
        .access_waits
        .iter()
        .filter_map(|w| Some((w.requested_at, w.granted_at?)))
        .filter(|(_, g)| inside(*g))
        .collect();
    let verified: Vec<(i64, i64)> = inputs
        .access_waits
        .iter()
        .filter_map(|w| Some((w.granted_at?, w.verified_at?)))
        .filter(|(_, v)| inside(*v))
        .collect();
    Report {
        from,
        until,
        time_to_verified_access: Durations::of(&spans(&inputs.access), cal),
        time_to_first_value: Durations::of(&spans(&inputs.first_value), cal),
        cycle_time: Durations::of(&whole, cal),
        stages: Stages {
            brief_to_draft: Durations::of(
                &stage(|c| Some((c.brief_approved_at?, c.first_draft_at?))),
                cal,
            ),
            draft_to_approved: Durations::of(
                &stage(|c| Some((c.first_draft_at?, c.approved_at?))),
                cal,
            ),
            approved_to_published: Durations::of(
                &stage(|c| Some((c.approved_at?, c.published_at))),
                cal,
            ),
        },
        reviewed: reviewed_n,
        reworked,
        content_on_time: judged(&inputs.content_due),
        sops_on_time: judged(&inputs.sop_due),
        incidents: inputs.incidents.iter().filter(|t| inside(**t)).count(),
        waiting_on_client: Durations::of(&granted, cal),
        waiting_on_team: Durations::of(&verified, cal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const D: i64 = 24 * H;

    fn cal() -> Calendar {
        Calendar::default_utc()
    }

    #[test]
    fn keys_units_and_definitions() {
        for k in Kpi::ALL {
            assert_eq!(Kpi::parse(k.key()), Some(k));
            let d = k.definition(FirstValue::Published);
            assert!(d.ends_with('.') && d.len() > 40, "{k:?}: {d}");
        }
        assert_eq!(Kpi::parse("nope"), None);
        assert!(Kpi::TimeToFirstValue
            .definition(FirstValue::ClientApproved)
            .contains("client approved"));
        assert_eq!(Unit::Days.format(2.25), "2.3 days");
        assert_eq!(Unit::Days.format(1.0), "1 day");
        assert_eq!(Unit::Percent.format(80.0), "80%");
        assert_eq!(Unit::Count.format(3.0), "3");
    }

    #[test]
    fn durations_by_anchor_median_and_p90() {
        // (start, end) anchored at end; only ends inside [10 D, 20 D) count.
        let access = vec![
            Span {
                start: 0,
                end: 2 * D,
            }, // outside
            Span {
                start: 9 * D,
                end: 10 * D,
            }, // 1 day
            Span {
                start: 9 * D,
                end: 12 * D,
            }, // 3 days
            Span {
                start: 10 * D,
                end: 15 * D,
            }, // 5 days
            Span {
                start: 10 * D,
                end: 20 * D,
            }, // anchor == until: outside
        ];
        let inputs = Inputs {
            access,
            ..Inputs::default()
        };
        let r = compute(&inputs, 10 * D, 20 * D, 30 * D, &cal());
        let v = r.value(Kpi::TimeToVerifiedAccess);
        assert_eq!(v.n, 3);
        assert_eq!(v.value, Some(3.0));
        assert_eq!(r.time_to_verified_access.p90_ms, Some(5 * D));
        // Nothing counted: None, not 0.
        assert_eq!(r.value(Kpi::TimeToFirstValue).value, None);
        assert_eq!(r.value(Kpi::TimeToFirstValue).n, 0);
    }

    #[test]
    fn cycle_time_and_stages() {
        let c = |b: i64, d: i64, a: i64, p: i64| Cycle {
            brief_approved_at: Some(b),
            first_draft_at: Some(d),
            approved_at: Some(a),
            published_at: p,
        };
        let inputs = Inputs {
            cycles: vec![
                c(0, D, 3 * D, 4 * D),     // 4 days: 1 + 2 + 1
                c(0, 2 * D, 4 * D, 8 * D), // 8 days: 2 + 2 + 4
                Cycle {
                    brief_approved_at: None, // not on record: not counted
                    first_draft_at: None,
                    approved_at: None,
                    published_at: 5 * D,
                },
            ],
            ..Inputs::default()
        };
        let r = compute(&inputs, 0, 10 * D, 10 * D, &cal());
        assert_eq!(
            r.value(Kpi::CycleTime),
            Value {
                value: Some(4.0),
                n: 2
            }
        );
        assert_eq!(r.cycle_time.p90_ms, Some(8 * D));
        assert_eq!(r.stages.brief_to_draft.median_ms, Some(D));
        assert_eq!(r.stages.draft_to_approved.median_ms, Some(2 * D));
        assert_eq!(r.stages.approved_to_published.p90_ms, Some(4 * D));
        // Business time: Mon 1970-01-05 09:00 → Tue 09:00 is 8 business hours.
        let mon9 = 4 * D + 9 * H;
        let one = Inputs {
            cycles: vec![c(mon9, mon9, mon9, mon9 + D)],
            ..Inputs::default()
        };
        let r = compute(&one, 0, 10 * D, 10 * D, &cal());
        assert_eq!(r.cycle_time.business_median_ms, Some(8 * H));
    }

    #[test]
    fn rework_and_on_time_and_incidents() {
        let item = |at: i64, rounds: u32, major: bool| Reviewed {
            first_submitted_at: at,
            history: ItemHistory {
                rounds,
                revisions: if major {
                    vec![RevisionSize::Major]
                } else if rounds > 1 {
                    vec![RevisionSize::Minor]
                } else {
                    vec![]
                },
                first_submitted_at: Some(at),
                approved_at: None,
                approved_first_round: false,
            },
        };
        let due = |due_at: i64, done_at: Option<i64>| Due { due_at, done_at };
        let inputs = Inputs {
            reviewed: vec![
                item(D, 2, true),
                item(D, 2, false),
                item(D, 1, false),
                item(D, 0, false),     // no decided round: not counted
                item(20 * D, 2, true), // outside
            ],
            content_due: vec![
                due(2 * D, Some(2 * D)),     // on time (the last ms counts)
                due(2 * D, Some(2 * D + 1)), // late
                due(3 * D, None),            // open, past due at now: late
                due(9 * D + 1, None),        // open, not due yet at now: not judged
            ],
            sop_due: vec![due(4 * D, Some(3 * D)), due(40 * D, Some(5 * D))],
            incidents: vec![D, 2 * D, 11 * D],
            ..Inputs::default()
        };
        let r = compute(&inputs, 0, 10 * D, 9 * D, &cal());
        assert_eq!(
            r.value(Kpi::ReworkRate),
            Value {
                value: Some(33.33),
                n: 3
            }
        );
        assert_eq!(r.content_on_time, OnTime { n: 3, on_time: 1 });
        assert_eq!(r.sops_on_time, OnTime { n: 2, on_time: 2 });
        assert_eq!(
            r.value(Kpi::OnTimeDeliveryRate),
            Value {
                value: Some(60.0),
                n: 5
            }
        );
        assert_eq!(
            r.value(Kpi::IncidentCount),
            Value {
                value: Some(2.0),
                n: 2
            }
        );
    }

    #[test]
    fn access_wait_split_by_who_waits() {
        let inputs = Inputs {
            access_waits: vec![
                AccessWait {
                    requested_at: 0,
                    granted_at: Some(2 * D),
                    verified_at: Some(3 * D),
                },
                AccessWait {
                    requested_at: 0,
                    granted_at: Some(4 * D),
                    verified_at: None,
                },
                AccessWait {
                    requested_at: 0,
                    granted_at: None,
                    verified_at: None,
                },
            ],
            ..Inputs::default()
        };
        let r = compute(&inputs, 0, 10 * D, 10 * D, &cal());
        assert_eq!(r.waiting_on_client.n, 2);
        assert_eq!(r.waiting_on_client.median_ms, Some(2 * D));
        assert_eq!(r.waiting_on_team.n, 1);
        assert_eq!(r.waiting_on_team.median_ms, Some(D));
    }
}
