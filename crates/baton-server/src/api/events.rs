//! `/api/v1/events`: the agency's event log, filterable by client and type.

use axum::extract::State;
use axum::Json;
use baton_store::events::{self, EventFilter};
use baton_store::tokens::Scope;
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{EventOut, PageOut};
use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, PageQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListEvents {
    /// Only events of this client.
    #[param(nullable = false)]
    pub client: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", nullable = false)]
    pub event_type: Option<String>,
    /// `asc` (oldest first, the default: poll for new events with the cursor)
    /// or `desc` (newest first, like a timeline).
    #[param(schema_with = super::openapi::order_param)]
    pub order: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (an event's `seq`).
    #[param(schema_with = super::openapi::seq_cursor)]
    pub cursor: Option<String>,
}

#[utoipa::path(get, operation_id = "listEvents", path = "/events", tag = "events", params(ListEvents),
    responses((status = 200, body = PageOut<EventOut>), (status = 404, description = "unknown client")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ListEvents>,
) -> ApiResult<Json<PageOut<EventOut>>> {
    caller.require(Scope::Read)?;
    PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .validate()?;
    if let Some(c) = q.client.as_deref().filter(|c| !c.is_empty()) {
        baton_store::clients::get(&state.db, caller.agency_id(), c).await?;
    }
    let newest_first = match q.order.as_deref() {
        None | Some("asc") | Some("") => false,
        Some("desc") => true,
        Some(_) => return Err(ApiError::invalid("order", "must be asc or desc")),
    };
    let filter = EventFilter {
        client_id: q.client.filter(|c| !c.is_empty()),
        event_type: q.event_type.filter(|t| !t.is_empty()),
        newest_first,
    };
    let page = events::list(
        &state.db,
        caller.agency_id(),
        &filter,
        q.cursor.as_deref().filter(|c| !c.is_empty()),
        q.limit,
    )
    .await?;
    Ok(Json(PageOut::map(page, EventOut::from)))
}
