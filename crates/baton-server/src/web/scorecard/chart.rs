//! Server-rendered SVG trend charts: one KPI over the weeks, as numbers the
//! template places (no JavaScript, no markup built as text, so escaping
//! stays the template's). Readable without colour: every week is a dot with
//! its value in words, the newest value is written out, a week without data
//! breaks the line, and a table of the same numbers sits beneath.

/// Drawing area, in SVG user units.
pub const WIDTH: f64 = 260.0;
pub const HEIGHT: f64 = 90.0;
const PAD_X: f64 = 8.0;
const PAD_TOP: f64 = 10.0;
const PAD_BOTTOM: f64 = 10.0;

/// One week's dot.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    pub cx: String,
    pub cy: String,
    /// "2026-W48: 2.5 days" (the dot's tooltip and accessible name).
    pub title: String,
}

/// One chart.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendChart {
    /// The KPI key, for ids and links.
    pub key: &'static str,
    pub label: &'static str,
    /// The newest week's value in words ("2.5 days", "no data").
    pub latest: String,
    /// What the newest value is over ("over 4").
    pub latest_n: String,
    /// Polyline `points` attributes: one per run of weeks with data.
    pub segments: Vec<String>,
    pub dots: Vec<Dot>,
    /// The axis: highest and lowest value drawn, in words.
    pub top: String,
    pub bottom: String,
    pub first_week: String,
    pub last_week: String,
    /// A one-sentence summary for the chart's accessible name.
    pub summary: String,
    /// Whether lower is better (said beside the chart).
    pub lower_is_better: bool,
}

fn num(v: f64) -> String {
    format!("{v:.1}")
}

/// A chart of `values` (oldest first, one per week in `weeks`), formatted
/// with `fmt`.
pub fn trend(
    key: &'static str,
    label: &'static str,
    weeks: &[String],
    values: &[(Option<f64>, usize)],
    fmt: impl Fn(f64) -> String,
    lower_is_better: bool,
) -> TrendChart {
    let present: Vec<f64> = values.iter().filter_map(|(v, _)| *v).collect();
    let lo = present
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    let mut hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !hi.is_finite() || hi <= lo {
        hi = lo + 1.0;
    }
    let n = values.len().max(1);
    let step = if n > 1 {
        (WIDTH - 2.0 * PAD_X) / (n - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| PAD_X + step * i as f64;
    let y = |v: f64| PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * (1.0 - (v - lo) / (hi - lo));
    let mut segments = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut dots = Vec::new();
    for (i, (v, _)) in values.iter().enumerate() {
        let week = weeks.get(i).cloned().unwrap_or_default();
        match v {
            Some(v) => {
                current.push(format!("{},{}", num(x(i)), num(y(*v))));
                dots.push(Dot {
                    cx: num(x(i)),
                    cy: num(y(*v)),
                    title: format!("{week}: {}", fmt(*v)),
                });
            }
            None => {
                if current.len() > 1 {
                    segments.push(current.join(" "));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        segments.push(current.join(" "));
    }
    let (latest, latest_n) = match values.last() {
        Some((Some(v), n)) => (fmt(*v), format!("over {n}")),
        _ => ("no data".to_string(), String::new()),
    };
    let with_data = present.len();
    let summary = if with_data == 0 {
        format!("{label}, last {} weeks: no data.", values.len())
    } else {
        format!(
            "{label}, last {} weeks ({with_data} with data): from {} to {}; this week {}.",
            values.len(),
            fmt(present.iter().copied().fold(f64::INFINITY, f64::min)),
            fmt(present.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
            latest
        )
    };
    TrendChart {
        key,
        label,
        latest,
        latest_n,
        segments,
        dots,
        top: fmt(hi),
        bottom: fmt(lo),
        first_week: weeks.first().cloned().unwrap_or_default(),
        last_week: weeks.last().cloned().unwrap_or_default(),
        summary,
        lower_is_better,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weeks(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("2026-W{i:02}")).collect()
    }

    #[test]
    fn gaps_break_the_line_and_every_value_is_a_dot() {
        let v = [
            (Some(1.0), 2),
            (Some(3.0), 1),
            (None, 0),
            (Some(2.0), 4),
            (Some(4.0), 1),
            (Some(0.0), 3),
        ];
        let c = trend(
            "cycle_time",
            "Cycle time",
            &weeks(6),
            &v,
            |x| format!("{x} d"),
            true,
        );
        assert_eq!(c.segments.len(), 2, "{:?}", c.segments);
        assert_eq!(c.dots.len(), 5);
        assert_eq!(c.dots[0].title, "2026-W01: 1 d");
        assert_eq!(c.latest, "0 d");
        assert_eq!(c.latest_n, "over 3");
        assert_eq!(c.top, "4 d");
        assert_eq!(c.bottom, "0 d");
        // The highest value is at the top edge, zero at the bottom.
        assert_eq!(c.dots[3].cy, num(PAD_TOP));
        assert_eq!(c.dots[4].cy, num(HEIGHT - PAD_BOTTOM));
        assert_eq!(c.dots[0].cx, num(PAD_X));
        assert_eq!(c.dots[4].cx, num(WIDTH - PAD_X));
        assert!(c.summary.contains("5 with data"), "{}", c.summary);
    }

    #[test]
    fn no_data_draws_nothing_and_says_so() {
        let v = vec![(None, 0); 13];
        let c = trend(
            "incident_count",
            "Incidents",
            &weeks(13),
            &v,
            |x| x.to_string(),
            true,
        );
        assert!(c.segments.is_empty() && c.dots.is_empty());
        assert_eq!(c.latest, "no data");
        assert_eq!(c.summary, "Incidents, last 13 weeks: no data.");
        // A single value draws a dot but no line.
        let mut v = vec![(None, 0); 12];
        v.push((Some(5.0), 1));
        let c = trend(
            "incident_count",
            "Incidents",
            &weeks(13),
            &v,
            |x| x.to_string(),
            true,
        );
        assert!(c.segments.is_empty());
        assert_eq!(c.dots.len(), 1);
    }
}
