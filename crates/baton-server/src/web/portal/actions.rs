//! The client's forms on the steps page: "I've granted access", "I'm
//! stuck" and the intake answers.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use baton_core::access::{AccessStatus, Mover};
use baton_store::access_requests::{self, Act};
use baton_store::{intake, Cx};
use serde::Deserialize;

use super::context::load_for_post;
use super::guard::PortalError;
use super::steps::{lower_first, read_form, refusal, request_of, steps_page};
use super::views::{refused_page, Notice, Refused};
use crate::state::AppState;
use crate::web::form::{ClientMeta, PlainForm};
use crate::web::WebError;

/// "I'm stuck": where the client is stuck.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StuckForm {
    message: String,
}

/// The questionnaire as sent: an answer per question (`q_{key}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AnswersForm {
    #[serde(flatten)]
    fields: BTreeMap<String, String>,
}

impl AnswersForm {
    /// The answer sent for question `key` ("" when none).
    fn answer(&self, key: &str) -> String {
        self.fields
            .get(&format!("q_{key}"))
            .cloned()
            .unwrap_or_default()
    }
}

/// `POST /o/{token}/requests/{id}/granted`: "I've granted access".
pub(super) async fn granted(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    headers: HeaderMap,
    meta: ClientMeta,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    let req = request_of(&ctx, &id)?;
    if matches!(
        req.status,
        AccessStatus::GrantedByClient | AccessStatus::Verified
    ) {
        // A second click (or the back button): already done.
        return Ok(ctx.after_card("granted", &req.id));
    }
    let act = Act::Grant {
        mover: Mover::Client,
    };
    match access_requests::act(
        Cx::new(&state.db, &ctx.agency.id, &ctx.actor(), state.now()),
        &req.id,
        act,
    )
    .await
    {
        Ok(_) => Ok(ctx.after_card("granted", &req.id)),
        Err(e) => {
            let (status, message, _) = refusal(e)?;
            let refused = Refused {
                card_alert: Some((req.id.into(), message)),
                ..Refused::default()
            };
            let anchor = refused.anchor();
            let page = steps_page(&state, &ctx, status, Notice::default(), refused).await?;
            Ok(refused_page(&ctx, page, &anchor))
        }
    }
}

/// `POST /o/{token}/requests/{id}/stuck`: "I'm stuck" with a message.
pub(super) async fn stuck(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    headers: HeaderMap,
    meta: ClientMeta,
    form: Result<PlainForm<StuckForm>, WebError>,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    let form = read_form(form)?;
    let req = request_of(&ctx, &id)?;
    let message = form.message;
    let act = Act::Stuck {
        message: message.clone(),
    };
    match access_requests::act(
        Cx::new(&state.db, &ctx.agency.id, &ctx.actor(), state.now()),
        &req.id,
        act,
    )
    .await
    {
        Ok(_) => Ok(ctx.after_card("stuck", &req.id)),
        Err(e) => {
            let (status, text, field) = refusal(e)?;
            let refused = if field.is_some() {
                let text = if message.trim().is_empty() {
                    "Write a few words about where you are stuck.".to_string()
                } else {
                    format!("Your message {}", lower_first(&text))
                };
                Refused {
                    stuck: Some((req.id.into(), message, Some(text))),
                    ..Refused::default()
                }
            } else {
                Refused {
                    card_alert: Some((req.id.into(), text)),
                    ..Refused::default()
                }
            };
            let anchor = refused.anchor();
            let page = steps_page(&state, &ctx, status, Notice::default(), refused).await?;
            Ok(refused_page(&ctx, page, &anchor))
        }
    }
}

/// `POST /o/{token}/answers`: the questionnaire (fields `q_{key}`).
pub(super) async fn answers(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
    form: Result<PlainForm<AnswersForm>, WebError>,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    let form = read_form(form)?;
    let settings = &ctx.settings;
    // Only the questions asked now: a field of an older questionnaire is
    // ignored rather than refused.
    let given: BTreeMap<String, String> = settings
        .questions
        .iter()
        .map(|q| (q.key.clone(), form.answer(&q.key)))
        .collect();
    let saved = intake::save_answers(
        Cx::new(&state.db, &ctx.agency.id, &ctx.actor(), state.now()),
        &ctx.client.id,
        &given,
    )
    .await;
    match saved {
        Ok(_) => Ok(ctx.steps_url("answers", "#questions")),
        Err(e) => {
            let (status, message, field) = refusal(e)?;
            let mut refused = Refused {
                answers: Some(given),
                answers_alert: Some(
                    "Your answers were not saved yet. Please check the question marked below."
                        .into(),
                ),
                ..Refused::default()
            };
            match field {
                Some(f) if settings.questions.iter().any(|q| q.key == f) => {
                    let message = match settings.questions.iter().find(|q| q.key == f) {
                        Some(q) if message.contains(&q.label) => {
                            "This question needs an answer.".to_string()
                        }
                        _ => message,
                    };
                    refused.answer_errors.insert(f, message);
                }
                _ => refused.answers_alert = Some(message),
            }
            let anchor = refused.anchor();
            let page = steps_page(&state, &ctx, status, Notice::default(), refused).await?;
            Ok(refused_page(&ctx, page, &anchor))
        }
    }
}
