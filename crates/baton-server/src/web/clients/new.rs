//! Creating a client: the new-client form (`/clients/new`, also on the
//! dashboard) and its `POST /clients`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_store::clients::{self, NewClient};
use baton_store::members;
use serde::Deserialize;

use super::refusal;
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::WebError;

/// The new-client form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewClientForm {
    pub name: String,
    pub website: String,
    pub notes: String,
    /// The traffic-control owner's member id.
    #[serde(rename = "traffic_control")]
    pub owner: String,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
    pub error: Option<String>,
}

/// The agency's active members as options, `selected` chosen.
pub async fn member_options(
    state: &AppState,
    agency_id: &str,
    selected: &str,
) -> Result<Vec<Opt>, WebError> {
    Ok(members::list_active(&state.db, agency_id)
        .await?
        .into_iter()
        .map(|m| Opt::new(m.id, m.name, selected))
        .collect())
}

#[derive(Template)]
#[template(path = "client_new.html")]
struct NewClientPage {
    layout: Layout,
    form: NewClientForm,
    owners: Vec<Opt>,
}

async fn render_new(
    state: &AppState,
    session: &WebSession,
    form: NewClientForm,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let owners = member_options(state, session.agency_id(), &form.owner).await?;
    let page = NewClientPage {
        layout: Layout::app(&agency, session, "New client", "dashboard"),
        form,
        owners,
    };
    Ok(render(status, &page))
}

/// `GET /clients/new`
pub async fn new_page(
    State(state): State<AppState>,
    session: WebSession,
) -> Result<Response, WebError> {
    render_new(&state, &session, NewClientForm::default(), StatusCode::OK).await
}

/// `POST /clients`: creates the client (stage `won`) and opens its page.
pub async fn create(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(mut input): CsrfForm<NewClientForm>,
) -> Result<Response, WebError> {
    let owner = input.owner.trim();
    let result = clients::create(
        session.cx(&state),
        NewClient {
            name: input.name.clone(),
            website: Some(input.website.clone()),
            notes: Some(input.notes.clone()),
            traffic_control_member_id: (!owner.is_empty()).then(|| owner.to_string()),
        },
    )
    .await;
    match result {
        Ok(c) => Ok(see_other(&format!(
            "/clients/{}?notice=client_created",
            c.id
        ))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            input.error = Some(message);
            render_new(&state, &session, input, status).await
        }
    }
}
