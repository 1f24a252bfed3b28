//! Runs connector checks: the ones due (a grant, a new connection, a retry,
//! the daily re-check) claimed in the database by every server's loop, and
//! the "check now" of the API. One check: the request, its platform's active
//! connection, a fresh access token (refreshed under a lease when near
//! expiry or refused), the connector's question to the platform, and the
//! outcome applied (`baton_store::access_requests::apply_check`).

use std::collections::BTreeMap;
use std::time::Duration;

use baton_core::connectors::{ConnectorPlatform, Outcome};
use baton_core::types::AgencyId;
use baton_core::CoreError;
use baton_store::access_requests::{self, AccessRequest, CheckResult};
use baton_store::connections::{self, Connection, Tokens};
use baton_store::{onboarding_settings, Actor, Cx, StoreError};
use tokio::sync::watch;

use super::oauth::{self, OpenedApp, TokenError};
use super::{connector, Call, Target};
use crate::sealed;
use crate::state::AppState;

/// How long a claimed check is kept from other servers.
const LEASE_MS: i64 = 5 * 60_000;
/// Checks claimed per pass.
const BATCH: i64 = 20;
/// How long a refresh lease lasts.
const REFRESH_LEASE_MS: i64 = 30_000;
/// A token this close to expiry is refreshed first.
const EXPIRY_MARGIN_MS: i64 = 2 * 60_000;
/// When nothing can be asked (no connection, an expired one), the next look.
const NO_CONNECTION_RETRY_MS: i64 = 6 * 3_600_000;

/// What the store seals an app's secrets for (the app's row).
pub fn app_owner(agency_id: &str, platform: ConnectorPlatform) -> String {
    format!("{agency_id}:{}", platform.key())
}

/// Runs until `shutdown` turns true: every two seconds, the due checks.
pub async fn checker_loop(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = run_once(&state).await {
            tracing::warn!(error = %e, "connector check pass failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// One pass: claims the due checks and runs them. Returns how many ran.
pub async fn run_once(state: &AppState) -> Result<usize, StoreError> {
    let mut ran = 0;
    loop {
        let due =
            access_requests::claim_due_checks(&state.db, state.now(), LEASE_MS, BATCH).await?;
        let n = due.len();
        for d in due {
            let Ok(agency) = AgencyId::parse(&d.agency_id) else {
                continue;
            };
            match check(state, &agency, &d.id).await {
                Ok(_) => ran += 1,
                // No connector or no connection: recorded on the request
                // as "could not check" with its next look.
                Err(StoreError::Core(CoreError::Conflict(m))) => {
                    ran += 1;
                    tracing::info!(request = %d.id, reason = %m, "connector check could not run");
                }
                Err(e) => {
                    tracing::warn!(request = %d.id, error = %e, "connector check failed; retried after its lease")
                }
            }
        }
        if (n as i64) < BATCH {
            return Ok(ran);
        }
    }
}

/// Checks request `id` of `agency` now and applies what the platform says.
/// A platform without a connector, or without an active connection, is a
/// conflict (409) that names what to do.
pub async fn check(
    state: &AppState,
    agency: &AgencyId,
    id: &str,
) -> Result<AccessRequest, StoreError> {
    let r = access_requests::get(&state.db, agency.as_str(), id).await?;
    let platform = ConnectorPlatform::for_request(&r.platform).ok_or_else(|| {
        CoreError::Conflict(format!(
            "Baton has no connector for {}; verify it by hand",
            r.platform
        ))
    })?;
    let now = state.now();
    let Some(conn) = connections::active(&state.db, agency.as_str(), platform).await? else {
        let actor = Actor::system(&format!("{} connector", platform.label()));
        let cx = Cx::new(&state.db, agency, &actor, now);
        let detail = format!(
            "no active {} connection: an admin connects it under Settings → Connections",
            platform.label()
        );
        access_requests::apply_check(
            cx,
            id,
            result(
                state,
                platform,
                "",
                None,
                Outcome::Error {
                    detail: detail.clone(),
                    retry_after_ms: Some(NO_CONNECTION_RETRY_MS),
                },
            ),
        )
        .await?;
        return Err(CoreError::Conflict(detail).into());
    };
    let outcome = ask(state, &conn, &r).await?;
    let error = match &outcome {
        Outcome::Error { detail, .. } => Some(detail.as_str()),
        _ => None,
    };
    connections::stamp(&state.db, &conn.id, now, error).await?;
    let actor = Actor {
        kind: "connector".into(),
        id: conn.id.clone(),
        label: match &conn.account {
            Some(a) => format!("{} connector ({a})", platform.label()),
            None => format!("{} connector", platform.label()),
        },
        ip: String::new(),
        user_agent: String::new(),
    };
    let cx = Cx::new(&state.db, agency, &actor, now);
    access_requests::apply_check(
        cx,
        id,
        result(state, platform, &conn.id, conn.account.clone(), outcome),
    )
    .await
}

fn result(
    state: &AppState,
    platform: ConnectorPlatform,
    connection_id: &str,
    account: Option<String>,
    outcome: Outcome,
) -> CheckResult {
    CheckResult {
        platform,
        connection_id: connection_id.to_string(),
        account,
        outcome,
        recheck_ms: state.config.connector_recheck_ms,
        email: state.mailer.is_some(),
    }
}

/// Asks the platform, refreshing the token once when it is refused.
async fn ask(
    state: &AppState,
    conn: &Connection,
    r: &AccessRequest,
) -> Result<Outcome, StoreError> {
    let platform = conn.platform;
    let settings = onboarding_settings::get(&state.db, &conn.agency_id).await?;
    let app = connections::app(&state.db, &conn.agency_id, platform).await?;
    let mut values: BTreeMap<String, String> = settings.platform_values.clone();
    if let Some(app) = &app {
        let owner = app_owner(&conn.agency_id, platform);
        for (k, v) in &app.extras {
            let v = if super::secret_extra(k) {
                match sealed::open(&state.config.secret_key, &owner, v) {
                    Some(v) => v,
                    None => continue,
                }
            } else {
                v.clone()
            };
            values.insert(k.clone(), v);
        }
    }
    let target = Target {
        platform: &r.platform,
        permission: &r.permission,
        asset: r.asset.as_deref(),
        values: &values,
        account: conn.account.as_deref(),
    };
    let urls = state.config.connectors.of(platform);
    let mut forced = false;
    loop {
        let token = match token(state, conn, forced).await? {
            Ok(t) => t,
            Err(outcome) => return Ok(outcome),
        };
        let call = Call {
            http: &state.connector_http,
            api: &urls.api,
            token: &token,
        };
        let outcome = connector(platform).verify(&call, &target).await;
        match &outcome {
            Outcome::Error { detail, .. }
                if !forced && detail.contains(super::http::TOKEN_REFUSED) =>
            {
                forced = true;
            }
            _ => return Ok(outcome),
        }
    }
}

/// The connection's access token, refreshed first when it is near expiry
/// (or `force`d after a refusal). `Ok(Err(outcome))`: nothing can be asked
/// (expired connection, an outage at the token endpoint).
async fn token(
    state: &AppState,
    conn: &Connection,
    force: bool,
) -> Result<Result<String, Outcome>, StoreError> {
    let key = &state.config.secret_key;
    let label = conn.platform.label();
    let mut current = conn.clone();
    for _ in 0..20 {
        let now = state.now();
        let access = current
            .access_sealed
            .as_deref()
            .and_then(|s| sealed::open(key, &current.id, s));
        let fresh = current
            .access_expires_at
            .is_none_or(|at| at > now + EXPIRY_MARGIN_MS);
        if let Some(a) = &access {
            if fresh && !(force && current.access_sealed == conn.access_sealed) {
                return Ok(Ok(a.clone()));
            }
        }
        if connections::claim_refresh(&state.db, &current.id, now, REFRESH_LEASE_MS).await? {
            return refresh(state, &current, access.as_deref()).await;
        }
        // Another server is refreshing: wait for its tokens.
        tokio::time::sleep(Duration::from_millis(250)).await;
        current = connections::get(&state.db, &conn.agency_id, &conn.id).await?;
        if current.status != connections::Status::Active {
            return Ok(Err(Outcome::Error {
                detail: format!(
                    "the {label} connection is {}: an admin reconnects it",
                    current.status.key()
                ),
                retry_after_ms: Some(NO_CONNECTION_RETRY_MS),
            }));
        }
    }
    Ok(Err(Outcome::Error {
        detail: format!("the {label} token is being refreshed by another server"),
        retry_after_ms: None,
    }))
}

async fn refresh(
    state: &AppState,
    conn: &Connection,
    access: Option<&str>,
) -> Result<Result<String, Outcome>, StoreError> {
    let key = &state.config.secret_key;
    let platform = conn.platform;
    let label = platform.label();
    let now = state.now();
    let Some(app) = connections::app(&state.db, &conn.agency_id, platform).await? else {
        connections::release_refresh(&state.db, &conn.id).await?;
        return Ok(Err(Outcome::Error {
            detail: format!("the agency's {label} app is not set up"),
            retry_after_ms: Some(NO_CONNECTION_RETRY_MS),
        }));
    };
    let owner = app_owner(&conn.agency_id, platform);
    let Some(secret) = sealed::open(key, &owner, &app.client_secret_sealed) else {
        connections::release_refresh(&state.db, &conn.id).await?;
        return Ok(Err(Outcome::Error {
            detail: format!(
                "the {label} app's secret cannot be opened with this server's key; save it again"
            ),
            retry_after_ms: Some(NO_CONNECTION_RETRY_MS),
        }));
    };
    let opened = OpenedApp {
        client_id: app.client_id.clone(),
        client_secret: secret,
    };
    let refresh_token = conn
        .refresh_sealed
        .as_deref()
        .and_then(|s| sealed::open(key, &conn.id, s));
    let urls = state.config.connectors.of(platform);
    match oauth::refresh(
        &state.connector_http,
        platform,
        urls,
        &opened,
        refresh_token.as_deref(),
        access,
    )
    .await
    {
        Ok(set) => {
            let tokens = Tokens {
                access_sealed: sealed::seal(key, &conn.id, &set.access_token),
                access_expires_at: set.expires_in.map(|s| now + s * 1_000),
                refresh_sealed: set
                    .refresh_token
                    .as_deref()
                    .map(|t| sealed::seal(key, &conn.id, t)),
            };
            connections::store_tokens(&state.db, &conn.id, &tokens, now).await?;
            Ok(Ok(set.access_token))
        }
        Err(TokenError::Refused(m)) => {
            let agency = AgencyId::parse(&conn.agency_id).map_err(|_| StoreError::NotFound)?;
            let actor = Actor::system(&format!("{label} connector"));
            let cx = Cx::new(&state.db, &agency, &actor, now);
            connections::expire(cx, &conn.id, &m).await?;
            Ok(Err(Outcome::Error {
                detail: format!(
                    "the {label} connection expired ({m}): an admin reconnects it under Settings → Connections"
                ),
                retry_after_ms: Some(NO_CONNECTION_RETRY_MS),
            }))
        }
        Err(TokenError::Unavailable(m)) => {
            connections::release_refresh(&state.db, &conn.id).await?;
            Ok(Err(Outcome::Error {
                detail: format!("could not refresh the {label} token: {m}"),
                retry_after_ms: None,
            }))
        }
    }
}
