//! The client's copy of a monthly account review's memo, `/memo/{token}`:
//! the memo as the account lead wrote it, the KPIs of the month it was
//! drafted from, and the decisions with their owners. Read-only; inside the
//! portal's router, so it has the links' rules: throttled guessing with the
//! same neutral 404, `no-referrer`, `noindex`, no scripts, the agency's
//! branding, and on a custom domain only that agency's memos.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{any, get};
use axum::Router;
use baton_core::kpis::{Kpi, Unit};
use baton_store::agencies;
use baton_store::cadences::artifacts;

use super::brand::{css_href, theme_href};
use super::context::{public_host, request_host};
use super::guard::{render, PortalError};
use super::views::PortalLayout;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/memo", any(not_found))
        .route("/memo/", any(not_found))
        .route("/memo/{token}", get(page))
        .route("/memo/{token}/{*rest}", any(not_found))
}

async fn not_found() -> PortalError {
    PortalError::NotFound
}

/// One KPI line of the month.
struct KpiLine {
    label: &'static str,
    value: String,
}

/// One decision: what, who, by when.
struct DecisionLine {
    text: String,
    owner: String,
    due: Option<String>,
}

#[derive(Template)]
#[template(path = "portal_memo.html")]
struct MemoPage {
    layout: PortalLayout,
    client: String,
    date: String,
    paragraphs: Vec<String>,
    kpis: Vec<KpiLine>,
    decisions: Vec<DecisionLine>,
}

/// `GET /memo/{token}`: the shared memo. Writes nothing.
async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let memo = artifacts::shared_memo(&state.db, &token)
        .await?
        .ok_or(PortalError::NotFound)?;
    let agency = agencies::get(&state.db, &memo.agency_id).await?;
    if let Some(h) = request_host(&headers) {
        if h != public_host(&state.config.public_url) && agency.custom_domain.as_deref() != Some(&h)
        {
            return Err(PortalError::NotFound);
        }
    }
    let kpis = Kpi::ALL
        .into_iter()
        .map(|k| {
            let v = &memo.generated["kpis"][k.key()];
            let unit = v["unit"].as_str().and_then(Unit::parse).unwrap_or(k.unit());
            KpiLine {
                label: k.label(),
                value: v["value"]
                    .as_f64()
                    .map_or_else(|| "—".to_string(), |x| unit.format(x)),
            }
        })
        .collect();
    let date = memo
        .date
        .parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%-d %B %Y").to_string())
        .unwrap_or(memo.date.clone());
    let page = MemoPage {
        layout: PortalLayout {
            title: "Monthly account review".into(),
            agency: agency.name.clone(),
            logo_url: agency.logo_url.clone(),
            css_href: css_href(),
            theme_href: theme_href(&agency.brand_color, &agency.accent_color),
            powered_by: !agency.white_label,
        },
        client: memo.client_name.unwrap_or_default(),
        date,
        paragraphs: memo
            .notes
            .split("\n\n")
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        kpis,
        decisions: memo
            .decisions
            .into_iter()
            .map(|(text, owner, due)| DecisionLine {
                text,
                owner: owner.unwrap_or_else(|| agency.name.clone()),
                due,
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}
