//! `GET /content/metrics`: the content metrics of the items first submitted
//! for review in the last 30, 90 or 365 days (`?days=`, 90 by default, like
//! the dashboard's KPI period), optionally of one client (`?client=`) or one
//! creative (`?creative=`, the member who added an item's first version):
//! overall, per client and per creative, each metric explained in one line.
//!
//! The numbers come from `baton_store::content_metrics::report`, the same
//! report as `GET /api/v1/kpis/content`. A `days` other than 30, 90 or 365 is
//! a 400 that says what to use; a client or member that is not the agency's
//! (another agency's included) is a 404 that shows nothing of it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use baton_core::human;
use baton_store::clients::{self, Client};
use baton_store::content_metrics::{self, GroupMetrics, MetricsFilter};
use baton_store::members::{self, Member};

use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::form::QueryData;
use crate::web::layout::{agency_of, render, Layout, Opt};
use crate::web::{timefmt, WebError};

/// The periods the page can cover (`?days=`), in days; the second is the
/// default, as on the dashboard.
const PERIODS: &[i64] = &[30, 90, 365];
const DAY_MS: i64 = 86_400_000;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/content/metrics", get(page))
}

/// A ratio as a whole percentage ("67%"), or a dash when there is nothing to
/// divide by.
fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// A mean with one decimal ("1.0", "0.7"), or a dash.
fn decimal(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
}

/// A calendar duration ("2 days 4 h"), or a dash.
fn calendar(ms: Option<i64>) -> String {
    ms.map(human::duration).unwrap_or_else(|| "—".into())
}

/// Business time in business days of the agency's length (`day_ms`):
/// "5 business h", "2 business days 4 h", or a dash.
fn business(ms: Option<i64>, day_ms: i64) -> String {
    ms.map(|ms| human::business_duration(ms, day_ms))
        .unwrap_or_else(|| "—".into())
}

/// "1 item", "3 items".
fn items(n: usize) -> String {
    if n == 1 {
        "1 item".into()
    } else {
        format!("{n} items")
    }
}

/// One group of the report as the page shows it.
pub struct Row {
    pub key: String,
    pub label: String,
    /// A link for the label (a client's content board); `None` for creatives.
    pub href: Option<String>,
    pub items: usize,
    pub approved: usize,
    pub revisions_per_asset: String,
    pub rework_rate: String,
    pub first_draft_acceptance: String,
    pub pass_rate: String,
    pub cycle_median: String,
    pub cycle_p90: String,
    pub business_median: String,
    pub business_p90: String,
}

impl Row {
    /// `day_ms`: one business day of the agency's calendar.
    fn of(g: &GroupMetrics, href: Option<String>, day_ms: i64) -> Row {
        let m = &g.metrics;
        Row {
            key: g.key.clone(),
            label: g.label.clone(),
            href,
            items: m.items,
            approved: g.approved,
            revisions_per_asset: decimal(m.revisions_per_asset),
            rework_rate: percent(m.rework_rate),
            first_draft_acceptance: percent(m.first_draft_acceptance),
            pass_rate: percent(m.approval_pass_rate),
            cycle_median: calendar(m.approval_cycle_median_ms),
            cycle_p90: calendar(m.approval_cycle_p90_ms),
            business_median: business(g.approval_business_median_ms, day_ms),
            business_p90: business(g.approval_business_p90_ms, day_ms),
        }
    }
}

/// A period to choose from.
pub struct PeriodLink {
    pub days: i64,
    pub href: String,
    pub current: bool,
}

/// A metric and what it means, in one line.
pub struct Definition {
    pub term: &'static str,
    pub meaning: &'static str,
}

const DEFINITIONS: &[Definition] = &[
    Definition {
        term: "Items",
        meaning: "Content items first submitted for review in the period; approved counts those approved since.",
    },
    Definition {
        term: "Revisions per asset",
        meaning: "Rounds that ended with changes requested, per item with at least one decided round.",
    },
    Definition {
        term: "Rework rate",
        meaning: "Share of reviewed items that needed at least one major revision.",
    },
    Definition {
        term: "First-draft acceptance",
        meaning: "Share of approved items approved in their first round, without any change.",
    },
    Definition {
        term: "Pass rate",
        meaning: "Share of decided review rounds that ended in approval.",
    },
    Definition {
        term: "Approval cycle",
        meaning: "From first submission to approval, in calendar time: median and 90th percentile of approved items.",
    },
    Definition {
        term: "Business time",
        meaning: "The same cycle counted only within the agency's business hours (nights, weekends and holidays left out); a business day is one working day of the agency's calendar.",
    },
];

#[derive(Template)]
#[template(path = "content_metrics.html")]
struct MetricsPage {
    layout: Layout,
    days: i64,
    periods: Vec<PeriodLink>,
    from_date: String,
    from_iso: String,
    to_date: String,
    to_iso: String,
    /// The client filter, for the heading and a link to its board.
    client: Option<Client>,
    /// " for Harbor Fitness by Cleo Creative", or empty.
    scope: String,
    /// "3 items · 2 approved".
    summary: String,
    clients: Vec<Opt>,
    creatives: Vec<Opt>,
    overall: Row,
    by_client: Vec<Row>,
    by_creative: Vec<Row>,
    definitions: &'static [Definition],
}

/// The `?days=` of the page: 90 when absent or empty, 400 when not a period
/// offered.
fn days_of(value: Option<&str>) -> Result<i64, WebError> {
    match value.filter(|d| !d.trim().is_empty()) {
        None => Ok(PERIODS[1]),
        Some(d) => d
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| PERIODS.contains(d))
            .ok_or_else(|| WebError::BadRequest("Days: use 30, 90 or 365.".into())),
    }
}

/// The page's address for `days` with the filters kept (their ids were
/// read back from the store, so they are plain `cli_…`/`mem_…` ids).
fn href(days: i64, client: Option<&Client>, creative: Option<&Member>) -> String {
    let mut h = format!("/content/metrics?days={days}");
    if let Some(c) = client {
        h.push_str(&format!("&client={}", c.id));
    }
    if let Some(m) = creative {
        h.push_str(&format!("&creative={}", m.id));
    }
    h
}

/// `GET /content/metrics`
async fn page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let days = days_of(q.get("days"))?;
    // A filter naming nothing of this agency is a 404, like any other id.
    let client = match q.get("client") {
        Some(c) => Some(clients::get(&state.db, agency_id, c).await?),
        None => None,
    };
    let creative = match q.get("creative") {
        Some(m) => Some(members::get(&state.db, agency_id, m).await?),
        None => None,
    };
    let now = state.now();
    let from = now - days * DAY_MS;
    let filter = MetricsFilter {
        client_id: client.as_ref().map(|c| c.id.to_string()),
        creative_id: creative.as_ref().map(|m| m.id.clone()),
    };
    let (agency, report, summaries, active, (calendar, _)) = tokio::try_join!(
        agency_of(&state, &session),
        async {
            // `to` is exclusive: count an item submitted this very millisecond.
            Ok(content_metrics::report(&state.db, agency_id, from, now + 1, &filter).await?)
        },
        async { Ok(clients::summaries(&state.db, agency_id, true).await?) },
        async { Ok(members::list_active(&state.db, agency_id).await?) },
        async { Ok(baton_store::calendars::get(&state.db, agency_id).await?) },
    )?;
    let day_ms = calendar.business_days_ms(1.0);
    let tz = timefmt::zone(&agency.timezone);

    let selected_client = client.as_ref().map_or("", |c| c.id.as_str());
    let clients: Vec<Opt> = summaries
        .into_iter()
        .map(|s| Opt::new(s.client.id, s.client.name, selected_client))
        .collect();
    let selected_creative = creative.as_ref().map_or("", |m| m.id.as_str());
    let mut creatives: Vec<Opt> = active
        .into_iter()
        .map(|m| Opt::new(m.id, m.name, selected_creative))
        .collect();
    // A deactivated member chosen as the filter still shows as chosen.
    if let Some(m) = &creative {
        if !creatives.iter().any(|o| o.value == m.id) {
            creatives.push(Opt::new(m.id.clone(), m.name.clone(), selected_creative));
        }
    }

    let mut scope = String::new();
    if let Some(c) = &client {
        scope.push_str(&format!(" for {}", c.name));
    }
    if let Some(m) = &creative {
        scope.push_str(&format!(" by {}", m.name));
    }
    let periods = PERIODS
        .iter()
        .map(|&d| PeriodLink {
            days: d,
            href: href(d, client.as_ref(), creative.as_ref()),
            current: d == days,
        })
        .collect();
    let title = match &client {
        Some(c) => format!("Content metrics · {}", c.name),
        None => "Content metrics".to_string(),
    };
    let page = MetricsPage {
        layout: Layout::app(&agency, &session, title, "content"),
        days,
        periods,
        from_date: timefmt::local_date(from, &tz),
        from_iso: timefmt::machine(from),
        to_date: timefmt::local_date(now, &tz),
        to_iso: timefmt::machine(now),
        scope,
        summary: format!(
            "{} · {} approved",
            items(report.overall.metrics.items),
            report.overall.approved
        ),
        clients,
        creatives,
        overall: Row::of(&report.overall, None, day_ms),
        by_client: report
            .by_client
            .iter()
            .map(|g| Row::of(g, Some(format!("/clients/{}/content", g.key)), day_ms))
            .collect(),
        by_creative: report
            .by_creative
            .iter()
            .map(|g| Row::of(g, None, day_ms))
            .collect(),
        client,
        definitions: DEFINITIONS,
    };
    Ok(render(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_time_reads_in_the_agencys_business_days() {
        let hour = 3_600_000;
        for (ms, day_ms, want) in [
            (Some(2 * hour), 8 * hour, "2 business h"),
            (Some(20 * hour), 8 * hour, "2 business days 4 h"),
            // A 10-hour business day.
            (Some(20 * hour), 10 * hour, "2 business days 0 h"),
            (None, 8 * hour, "—"),
        ] {
            assert_eq!(business(ms, day_ms), want, "{ms:?} of {day_ms}");
        }
    }

    #[test]
    fn rates_and_means_read_as_people_write_them() {
        assert_eq!(percent(Some(1.0)), "100%");
        assert_eq!(percent(Some(2.0 / 3.0)), "67%");
        assert_eq!(percent(Some(0.0)), "0%");
        assert_eq!(percent(None), "—");
        assert_eq!(decimal(Some(1.0)), "1.0");
        assert_eq!(decimal(Some(2.0 / 3.0)), "0.7");
        assert_eq!(decimal(None), "—");
        assert_eq!(calendar(Some(2 * DAY_MS + 4 * 3_600_000)), "2 days 4 h");
        assert_eq!(calendar(None), "—");
        assert_eq!(items(1), "1 item");
        assert_eq!(items(0), "0 items");
    }

    #[test]
    fn days_are_one_of_the_periods() {
        assert_eq!(days_of(None).unwrap(), 90);
        assert_eq!(days_of(Some(" ")).unwrap(), 90);
        assert_eq!(days_of(Some("30")).unwrap(), 30);
        assert_eq!(days_of(Some("365")).unwrap(), 365);
        for bad in ["7", "-30", "ninety", "90.0", "0"] {
            assert!(
                matches!(days_of(Some(bad)), Err(WebError::BadRequest(_))),
                "{bad}"
            );
        }
    }
}
