//! The access board across clients (`/access`) and the access still held
//! (`/access/held`).

use std::collections::HashSet;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::access::{AccessStatus, WaitingOn};
use baton_core::lifecycle::Lifecycle;
use baton_store::access_requests;
use baton_store::platforms;

use super::common::{by_key, layout, names, Since};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::form::QueryData;
use crate::web::layout::{agency_of, render, Layout};
use crate::web::{timefmt, WebError};

/// A line of the access board.
pub struct BoardRow {
    pub client_id: String,
    pub client_name: String,
    pub offboarding: bool,
    pub platform: String,
    pub permission: String,
    pub asset: Option<String>,
    pub failed: bool,
    pub since: Since,
    pub stuck: Option<String>,
    pub stuck_since: Option<Since>,
    pub failed_reason: Option<String>,
}

#[derive(Template)]
#[template(path = "access_board.html")]
struct BoardPage {
    layout: Layout,
    /// "", "agency" or "client".
    filter: &'static str,
    on_us: Vec<BoardRow>,
    on_client: Vec<BoardRow>,
    on_us_count: usize,
    on_client_count: usize,
    stuck_count: usize,
    client_count: usize,
}

/// `GET /access`: every open request across clients, oldest wait first,
/// split by who it waits on.
pub(super) async fn board(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let filter = match q.get("waiting_on").and_then(WaitingOn::parse) {
        Some(WaitingOn::Agency) => "agency",
        Some(WaitingOn::Client) => "client",
        None => "",
    };
    // One query for the lines, one for the agency's own platforms.
    let (lines, all) = tokio::try_join!(
        access_requests::open_board(&state.db, session.agency_id()),
        platforms::catalog(&state.db, session.agency_id()),
    )?;
    let cat = by_key(&all);
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let mut page = BoardPage {
        layout: layout(&agency, &session, "Access", "access", Some(&q)),
        filter,
        on_us: Vec::new(),
        on_client: Vec::new(),
        on_us_count: 0,
        on_client_count: 0,
        stuck_count: 0,
        client_count: 0,
    };
    let mut clients = HashSet::new();
    for r in lines {
        let on_us = r.status.waiting_on() == Some(WaitingOn::Agency);
        if on_us {
            page.on_us_count += 1;
        } else {
            page.on_client_count += 1;
        }
        if r.stuck_message.is_some() {
            page.stuck_count += 1;
        }
        if !clients.contains(r.client_id.as_str()) {
            clients.insert(r.client_id.clone());
        }
        let shown = match filter {
            "agency" => on_us,
            "client" => !on_us,
            _ => true,
        };
        if !shown {
            continue;
        }
        let (platform, permission) = names(&cat, &r.platform, &r.permission);
        let row = BoardRow {
            offboarding: r.client_lifecycle == Lifecycle::Offboarding,
            client_name: r.client_name,
            platform,
            permission,
            failed: r.status == AccessStatus::Failed,
            since: Since::at(r.status_at, now, &tz),
            stuck_since: r.stuck_at.map(|t| Since::at(t, now, &tz)),
            stuck: r.stuck_message,
            failed_reason: r.failed_reason.filter(|_| r.status == AccessStatus::Failed),
            asset: r.asset,
            client_id: r.client_id,
        };
        if on_us {
            page.on_us.push(row);
        } else {
            page.on_client.push(row);
        }
    }
    page.client_count = clients.len();
    Ok(render(StatusCode::OK, &page))
}

// -------------------------------------------------------------------- held --

/// A held access of a client.
pub struct HeldRow {
    pub platform: String,
    pub asset: Option<String>,
    pub permission: String,
    pub verified: bool,
    pub since: Option<Since>,
    pub verified_by: Option<String>,
    pub granted_by: Option<String>,
}

/// A client and the access the agency holds for it.
pub struct HeldClient {
    pub id: String,
    pub name: String,
    pub stage: &'static str,
    pub offboarding: bool,
    pub lines: Vec<HeldRow>,
}

#[derive(Template)]
#[template(path = "access_held.html")]
struct HeldPage {
    layout: Layout,
    clients: Vec<HeldClient>,
    total: usize,
    offboarding: usize,
}

/// `GET /access/held`: the access inventory, clients in offboarding first.
pub(super) async fn held(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let (lines, all) = tokio::try_join!(
        access_requests::held(&state.db, session.agency_id()),
        platforms::catalog(&state.db, session.agency_id()),
    )?;
    let cat = by_key(&all);
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let total = lines.len();
    let mut clients: Vec<HeldClient> = Vec::new();
    for line in lines {
        let r = line.request;
        let (platform, permission) = names(&cat, &r.platform, &r.permission);
        let verified = r.status == AccessStatus::Verified;
        let row = HeldRow {
            platform,
            permission,
            asset: r.asset,
            verified,
            since: r
                .verified_at
                .filter(|_| verified)
                .or(r.granted_at)
                .or(r.verified_at)
                .map(|t| Since::at(t, now, &tz)),
            verified_by: r.verified_by.filter(|_| verified),
            granted_by: r.granted_by,
        };
        match clients.last_mut() {
            Some(c) if c.id == r.client_id => c.lines.push(row),
            _ => clients.push(HeldClient {
                id: r.client_id,
                name: line.client_name,
                stage: line.client_lifecycle.label(),
                offboarding: line.client_lifecycle == Lifecycle::Offboarding,
                lines: vec![row],
            }),
        }
    }
    // Offboarding first (revoke now); the store's name order otherwise.
    clients.sort_by_key(|c| !c.offboarding);
    let offboarding = clients.iter().filter(|c| c.offboarding).count();
    let page = HeldPage {
        layout: layout(&agency, &session, "Access still held", "access", Some(&q)),
        clients,
        total,
        offboarding,
    };
    Ok(render(StatusCode::OK, &page))
}
