//! The weekly scorecard: ISO weeks in the agency's time zone, measurables
//! (a goal and a comparator, green or red by a rule stated in words, flagged
//! when off track two weeks running), the default set from the seed's KPI
//! table, and the shape of a shipped week: exactly three insights and three
//! actions, each action with an owner and a due day.

use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;

use crate::calendar::Calendar;
use crate::kpis::{trim, Kpi, Unit};
use crate::roles::Role;
use crate::CoreError;

/// An ISO 8601 week (`2026-W48`): Monday to Sunday, agency time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    year: i16,
    week: i8,
}

impl IsoWeek {
    /// Parses `YYYY-Www`.
    pub fn parse(s: &str) -> Result<IsoWeek, CoreError> {
        let bad = || CoreError::invalid("week", "must be an ISO week such as 2026-W48");
        let (y, w) = s.trim().split_once("-W").ok_or_else(bad)?;
        if y.len() != 4 || w.len() != 2 {
            return Err(bad());
        }
        let year: i16 = y.parse().map_err(|_| bad())?;
        let week: i8 = w.parse().map_err(|_| bad())?;
        ISOWeekDate::new(year, week, Weekday::Monday).map_err(|_| bad())?;
        Ok(IsoWeek { year, week })
    }

    /// The week of `date`.
    pub fn of_date(date: Date) -> IsoWeek {
        let w = date.iso_week_date();
        IsoWeek {
            year: w.year(),
            week: w.week(),
        }
    }

    /// The week that contains instant `ms` in `tz`.
    pub fn containing(ms: i64, tz: &TimeZone) -> IsoWeek {
        let date = Timestamp::from_millisecond(ms)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(tz.clone())
            .date();
        IsoWeek::of_date(date)
    }

    pub fn monday(self) -> Date {
        ISOWeekDate::new(self.year, self.week, Weekday::Monday)
            .map(|w| w.date())
            .unwrap_or(Date::ZERO)
    }

    pub fn sunday(self) -> Date {
        ISOWeekDate::new(self.year, self.week, Weekday::Sunday)
            .map(|w| w.date())
            .unwrap_or(Date::ZERO)
    }

    /// The week before.
    pub fn prev(self) -> IsoWeek {
        IsoWeek::of_date(
            self.monday()
                .checked_sub(jiff::Span::new().days(7))
                .unwrap_or(Date::MIN),
        )
    }

    /// The week after.
    pub fn next(self) -> IsoWeek {
        IsoWeek::of_date(
            self.monday()
                .checked_add(jiff::Span::new().days(7))
                .unwrap_or(Date::MAX),
        )
    }

    /// `[Monday 00:00, next Monday 00:00)` in `tz`, unix milliseconds.
    pub fn bounds(self, tz: &TimeZone) -> (i64, i64) {
        let start = |d: Date| {
            d.to_zoned(tz.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(0)
        };
        (start(self.monday()), start(self.next().monday()))
    }

    /// The `n` weeks ending with the week of `now`, oldest first.
    pub fn last(n: usize, now: i64, tz: &TimeZone) -> Vec<IsoWeek> {
        let mut out = Vec::with_capacity(n);
        let mut w = IsoWeek::containing(now, tz);
        for _ in 0..n {
            out.push(w);
            w = w.prev();
        }
        out.reverse();
        out
    }
}

impl std::fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

/// When `week` ends for the agency: the end of the last working window of
/// its last business day (a holiday is not one). A week without a business
/// day ends at Sunday midnight. This is when `week_ended` fires.
pub fn week_end_at(cal: &Calendar, week: IsoWeek) -> i64 {
    let tz = crate::human::zone(&cal.timezone);
    let (_, sunday_midnight) = week.bounds(&tz);
    let monday = week.monday();
    for offset in (0..7i64).rev() {
        let Ok(day) = monday.checked_add(jiff::Span::new().days(offset)) else {
            continue;
        };
        if cal.holidays.contains(&day) {
            continue;
        }
        let idx = day.weekday().to_monday_zero_offset() as usize;
        let Some(last) = cal.week[idx].iter().map(|w| w.end_min).max() else {
            continue;
        };
        let end = day
            .to_datetime(jiff::civil::Time::midnight())
            .checked_add(jiff::Span::new().minutes(i64::from(last)))
            .ok()
            .and_then(|dt| dt.to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp().as_millisecond());
        if let Some(end) = end {
            return end;
        }
    }
    sunday_midnight
}

/// How a measurable's value is compared with its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Comparator {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    /// Between `goal` and `goal_max`, both included.
    #[serde(rename = "range")]
    Range,
}

impl Comparator {
    pub const ALL: [Comparator; 5] = [
        Comparator::Lt,
        Comparator::Le,
        Comparator::Ge,
        Comparator::Gt,
        Comparator::Range,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Ge => ">=",
            Comparator::Gt => ">",
            Comparator::Range => "range",
        }
    }

    pub fn parse(s: &str) -> Option<Comparator> {
        Comparator::ALL.into_iter().find(|c| c.key() == s.trim())
    }
}

/// A measurable's goal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Goal {
    pub comparator: Comparator,
    pub goal: f64,
    /// The upper bound of a range.
    pub goal_max: Option<f64>,
}

impl Goal {
    /// Validates: finite numbers; a range needs `goal <= goal_max`; other
    /// comparators take no upper bound.
    pub fn new(
        comparator: Comparator,
        goal: f64,
        goal_max: Option<f64>,
    ) -> Result<Goal, CoreError> {
        if !goal.is_finite() || goal_max.is_some_and(|m| !m.is_finite()) {
            return Err(CoreError::invalid("goal", "must be a number"));
        }
        match (comparator, goal_max) {
            (Comparator::Range, None) => Err(CoreError::invalid(
                "goal",
                "a range needs two numbers: [low, high]",
            )),
            (Comparator::Range, Some(max)) if max < goal => Err(CoreError::invalid(
                "goal",
                "a range's low end must not be above its high end",
            )),
            (Comparator::Range, Some(_)) => Ok(Goal {
                comparator,
                goal,
                goal_max,
            }),
            (_, Some(_)) => Err(CoreError::invalid(
                "goal",
                "only the range comparator takes two numbers",
            )),
            (_, None) => Ok(Goal {
                comparator,
                goal,
                goal_max: None,
            }),
        }
    }

    /// Whether `value` meets the goal.
    pub fn met(&self, value: f64) -> bool {
        match self.comparator {
            Comparator::Lt => value < self.goal,
            Comparator::Le => value <= self.goal,
            Comparator::Ge => value >= self.goal,
            Comparator::Gt => value > self.goal,
            Comparator::Range => value >= self.goal && value <= self.goal_max.unwrap_or(self.goal),
        }
    }

    /// The rule in words: "green when at most 3 days, red otherwise".
    pub fn rule(&self, unit: &str) -> String {
        let v = |x: f64| with_unit(x, unit);
        let cond = match self.comparator {
            Comparator::Lt => format!("below {}", v(self.goal)),
            Comparator::Le => format!("at most {}", v(self.goal)),
            Comparator::Ge => format!("at least {}", v(self.goal)),
            Comparator::Gt => format!("above {}", v(self.goal)),
            Comparator::Range => format!(
                "between {} and {}",
                v(self.goal),
                v(self.goal_max.unwrap_or(self.goal))
            ),
        };
        format!("green when {cond}, red otherwise")
    }

    /// The goal in short: "≤ 3 days".
    pub fn short(&self, unit: &str) -> String {
        let v = |x: f64| with_unit(x, unit);
        match self.comparator {
            Comparator::Lt => format!("< {}", v(self.goal)),
            Comparator::Le => format!("≤ {}", v(self.goal)),
            Comparator::Ge => format!("≥ {}", v(self.goal)),
            Comparator::Gt => format!("> {}", v(self.goal)),
            Comparator::Range => format!(
                "{}–{}",
                trim(self.goal),
                v(self.goal_max.unwrap_or(self.goal))
            ),
        }
    }
}

/// `value` with its unit as a person reads it.
pub fn with_unit(value: f64, unit: &str) -> String {
    match Unit::parse(unit) {
        Some(u) => u.format(value),
        None if unit.is_empty() => trim(value),
        None => format!("{} {unit}", trim(value)),
    }
}

/// A week's status against the goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    OnTrack,
    OffTrack,
    /// No value for the week (nothing counted, or not entered).
    NoData,
}

impl Status {
    pub fn of(goal: &Goal, value: Option<f64>) -> Status {
        match value {
            Some(v) if goal.met(v) => Status::OnTrack,
            Some(_) => Status::OffTrack,
            None => Status::NoData,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Status::OnTrack => "on_track",
            Status::OffTrack => "off_track",
            Status::NoData => "no_data",
        }
    }

    /// For a reader without colour.
    pub fn words(self) -> &'static str {
        match self {
            Status::OnTrack => "on track",
            Status::OffTrack => "off track",
            Status::NoData => "no data",
        }
    }
}

/// Whether the newest two statuses (oldest first) are both off track.
pub fn flagged(statuses: &[Status]) -> bool {
    statuses.len() >= 2
        && statuses[statuses.len() - 2..]
            .iter()
            .all(|s| *s == Status::OffTrack)
}

/// Where a measurable's weekly value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Filled by Baton from one of its KPIs.
    Kpi(Kpi),
    /// Entered by the owner each week.
    Manual,
}

impl Source {
    /// `manual` or a KPI key (`kpi:` prefix allowed).
    pub fn parse(s: &str) -> Result<Source, CoreError> {
        let s = s.trim();
        if s == "manual" {
            return Ok(Source::Manual);
        }
        Kpi::parse(s.strip_prefix("kpi:").unwrap_or(s))
            .map(Source::Kpi)
            .ok_or_else(|| {
                let keys: Vec<&str> = Kpi::ALL.iter().map(|k| k.key()).collect();
                CoreError::invalid(
                    "source",
                    format!("must be \"manual\" or a Baton KPI: {}", keys.join(", ")),
                )
            })
    }

    pub fn key(self) -> String {
        match self {
            Source::Kpi(k) => k.key().to_string(),
            Source::Manual => "manual".to_string(),
        }
    }
}

/// One measurable of the default set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefaultMeasurable {
    pub kpi: Kpi,
    pub goal: Goal,
    /// Who owns it, by role (the first member holding it).
    pub owner_role: Role,
}

/// The default scorecard: the seed's six ops KPIs, each with a starting
/// goal the agency edits.
pub fn defaults() -> Vec<DefaultMeasurable> {
    let g = |c, v| Goal {
        comparator: c,
        goal: v,
        goal_max: None,
    };
    use Comparator::*;
    vec![
        DefaultMeasurable {
            kpi: Kpi::TimeToVerifiedAccess,
            goal: g(Le, 3.0),
            owner_role: Role::ProjectManager,
        },
        DefaultMeasurable {
            kpi: Kpi::TimeToFirstValue,
            goal: g(Le, 14.0),
            owner_role: Role::AccountLead,
        },
        DefaultMeasurable {
            kpi: Kpi::CycleTime,
            goal: g(Le, 10.0),
            owner_role: Role::ProjectManager,
        },
        DefaultMeasurable {
            kpi: Kpi::ReworkRate,
            goal: g(Le, 15.0),
            owner_role: Role::CreativeLead,
        },
        DefaultMeasurable {
            kpi: Kpi::OnTimeDeliveryRate,
            goal: g(Ge, 90.0),
            owner_role: Role::ProjectManager,
        },
        DefaultMeasurable {
            kpi: Kpi::IncidentCount,
            goal: g(Le, 1.0),
            owner_role: Role::AccountLead,
        },
    ]
}

/// How many insights and actions a shipped week has.
pub const INSIGHTS: usize = 3;
pub const ACTIONS: usize = 3;

/// The rule a shipped week keeps: exactly three insights and three
/// actions, none empty.
pub fn check_ship(insights: &[String], actions: usize) -> Result<(), CoreError> {
    if insights.len() != INSIGHTS {
        return Err(CoreError::invalid(
            "insights",
            format!(
                "a weekly scorecard ships with exactly {INSIGHTS} insights (got {})",
                insights.len()
            ),
        ));
    }
    if let Some(i) = insights.iter().position(|t| t.trim().is_empty()) {
        return Err(CoreError::invalid(
            "insights",
            format!("insight {} is empty", i + 1),
        ));
    }
    if insights.iter().any(|t| t.chars().count() > 1000) {
        return Err(CoreError::invalid(
            "insights",
            "an insight is at most 1,000 characters",
        ));
    }
    if actions != ACTIONS {
        return Err(CoreError::invalid(
            "actions",
            format!("a weekly scorecard ships with exactly {ACTIONS} actions (got {actions})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks_parse_print_and_bound() {
        let w = IsoWeek::parse("2026-W48").unwrap();
        assert_eq!(w.to_string(), "2026-W48");
        assert_eq!(w.monday().to_string(), "2026-11-23");
        assert_eq!(w.sunday().to_string(), "2026-11-29");
        assert_eq!(w.prev().to_string(), "2026-W47");
        assert_eq!(
            IsoWeek::parse("2026-W53").unwrap().next().to_string(),
            "2027-W01"
        );
        assert_eq!(
            IsoWeek::parse("2027-W01").unwrap().prev().to_string(),
            "2026-W53"
        );
        for bad in [
            "2026-48",
            "2026-W4",
            "2025-W53",
            "2026-W00",
            "26-W48",
            "",
            "2026-W48x",
        ] {
            assert!(IsoWeek::parse(bad).is_err(), "{bad}");
        }
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let (from, to) = w.bounds(&berlin);
        // Monday 2026-11-23 00:00 CET = Sunday 23:00 UTC.
        assert_eq!(from, 1_795_388_400_000);
        assert_eq!(to - from, 7 * 86_400_000);
        assert_eq!(IsoWeek::containing(from, &berlin), w);
        assert_eq!(IsoWeek::containing(from - 1, &berlin), w.prev());
        let weeks = IsoWeek::last(13, from + 1, &berlin);
        assert_eq!(weeks.len(), 13);
        assert_eq!(weeks[12], w);
        assert_eq!(weeks[0].to_string(), "2026-W36");
    }

    #[test]
    fn the_week_ends_after_the_last_business_day() {
        let mut cal = Calendar::default_utc();
        let w = IsoWeek::parse("2026-W48").unwrap();
        // Friday 2026-11-27 17:00 UTC.
        let fri5 = 1_795_798_800_000;
        assert_eq!(week_end_at(&cal, w), fri5);
        // Friday a holiday: Thursday 17:00.
        cal.holidays.insert("2026-11-27".parse().unwrap());
        assert_eq!(week_end_at(&cal, w), fri5 - 86_400_000);
        // No business day at all: Sunday midnight.
        cal.week = Default::default();
        assert_eq!(week_end_at(&cal, w), w.bounds(&TimeZone::UTC).1);
    }

    #[test]
    fn goals_rules_and_status() {
        let cases = [
            (
                "<",
                3.0,
                None,
                2.9,
                true,
                "green when below 3 days, red otherwise",
            ),
            ("<", 3.0, None, 3.0, false, ""),
            (
                "<=",
                3.0,
                None,
                3.0,
                true,
                "green when at most 3 days, red otherwise",
            ),
            (">=", 90.0, None, 89.9, false, ""),
            (">", 90.0, None, 90.5, true, ""),
            (
                "range",
                2.0,
                Some(4.0),
                4.0,
                true,
                "green when between 2 days and 4 days, red otherwise",
            ),
            ("range", 2.0, Some(4.0), 1.9, false, ""),
        ];
        for (c, goal, max, value, met, rule) in cases {
            let g = Goal::new(Comparator::parse(c).unwrap(), goal, max).unwrap();
            assert_eq!(g.met(value), met, "{c} {goal} {value}");
            if !rule.is_empty() {
                assert_eq!(g.rule("days"), rule);
            }
        }
        assert!(Goal::new(Comparator::Range, 5.0, None).is_err());
        assert!(Goal::new(Comparator::Range, 5.0, Some(4.0)).is_err());
        assert!(Goal::new(Comparator::Le, 5.0, Some(6.0)).is_err());
        assert!(Goal::new(Comparator::Le, f64::NAN, None).is_err());
        assert_eq!(Comparator::parse("=="), None);
        let g = Goal::new(Comparator::Ge, 90.0, None).unwrap();
        assert_eq!(g.short("percent"), "≥ 90%");
        assert_eq!(
            g.rule("posts"),
            "green when at least 90 posts, red otherwise"
        );
        assert_eq!(Status::of(&g, Some(95.0)), Status::OnTrack);
        assert_eq!(Status::of(&g, None), Status::NoData);
        use Status::*;
        assert!(flagged(&[OnTrack, OffTrack, OffTrack]));
        assert!(!flagged(&[OffTrack, NoData, OffTrack]));
        assert!(!flagged(&[OffTrack]));
    }

    #[test]
    fn sources_and_ship_rule() {
        assert_eq!(Source::parse("manual").unwrap(), Source::Manual);
        assert_eq!(
            Source::parse("cycle_time").unwrap(),
            Source::Kpi(Kpi::CycleTime)
        );
        assert_eq!(
            Source::parse("kpi:rework_rate").unwrap(),
            Source::Kpi(Kpi::ReworkRate)
        );
        assert!(Source::parse("revenue").is_err());
        assert_eq!(defaults().len(), 6);
        let three = vec!["a".to_string(), "b".into(), "c".into()];
        assert!(check_ship(&three, 3).is_ok());
        let e = check_ship(&three[..2], 3).unwrap_err().to_string();
        assert!(e.contains("exactly 3 insights"), "{e}");
        let e = check_ship(&three, 4).unwrap_err().to_string();
        assert!(e.contains("exactly 3 actions"), "{e}");
        let blank = vec!["a".to_string(), " ".into(), "c".into()];
        assert!(check_ship(&blank, 3).is_err());
    }
}
