//! The welcome page (`GET /o/{token}`), "Continue" (`POST …/open`, which
//! logs an open) and the steps page (`GET …/steps`: a card per access
//! request, the questions, the files), with the helpers the steps' forms
//! share.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use baton_core::access::AccessStatus;
use baton_core::onboarding::{OnboardingSettings, Question};
use baton_core::platforms::Platform;
use baton_core::uploads;
use baton_core::weblinks::{self, Part};
use baton_core::CoreError;
use baton_store::access_requests::AccessRequest;
use baton_store::intake;
use baton_store::onboarding_links;
use baton_store::{platforms, Cx, StoreError};

use super::context::{load, load_for_post, Ctx};
use super::guard::{render, PortalError};
use super::views::{missing_note, plural, size_text, status_words, Notice, PortalLayout, Refused};
use crate::state::AppState;
use crate::web::form::{ClientMeta, PlainForm, QueryData};
use crate::web::refusal::sentence;
use crate::web::WebError;

struct PlatformLine {
    name: String,
    permission: String,
    asset: Option<String>,
    optional: bool,
}

#[derive(Template)]
#[template(path = "portal_welcome.html")]
struct WelcomePage {
    layout: PortalLayout,
    heading: String,
    welcome: String,
    platforms: Vec<PlatformLine>,
    base: String,
}

struct Card {
    id: String,
    vendor: String,
    platform: String,
    permission: String,
    permission_description: String,
    asset_label: String,
    asset: Option<String>,
    status_class: &'static str,
    status_text: String,
    /// Optional requests say so: they do not hold anything up.
    optional: bool,
    steps: Vec<StepView>,
    mistakes: Vec<Vec<Part>>,
    /// The notice after a form, when this card is where the page opens.
    notice: Option<String>,
    /// Granted or verified: the steps fold away.
    folded: bool,
    /// Revoked: no steps at all.
    withdrawn: bool,
    /// Waiting on the client: the two buttons.
    can_act: bool,
    stuck_message: Option<String>,
    /// A refusal of this card's action, at the top of the card.
    alert: Option<String>,
    /// The "I'm stuck" form: what was typed, its error, whether it is open.
    stuck_text: String,
    stuck_error: Option<String>,
    stuck_open: bool,
}

/// A step: its text with web addresses as links, and a note when it needs a
/// value the agency has not filled in yet.
struct StepView {
    parts: Vec<Part>,
    note: Option<String>,
}

struct QuestionView {
    key: String,
    label: String,
    help: String,
    long: bool,
    required: bool,
    value: String,
    error: Option<String>,
    described_by: String,
}

struct FileLine {
    name: String,
    size: String,
}

#[derive(Template)]
#[template(path = "portal_steps.html")]
struct StepsPage {
    layout: PortalLayout,
    base: String,
    agency: String,
    client: String,
    /// Refusals of the form just sent: (anchor of the field, message), at
    /// the top of the page, each a link to its field.
    errors: Vec<(String, String)>,
    /// The notice after a form, above the progress summary.
    notice: Option<String>,
    questions_notice: Option<String>,
    files_notice: Option<String>,
    finished: bool,
    done: usize,
    verified: usize,
    total: usize,
    cards: Vec<Card>,
    questions: Vec<QuestionView>,
    answers_alert: Option<String>,
    accept: String,
    accepted: String,
    limit: String,
    file_error: Option<String>,
    files: Vec<FileLine>,
}

/// The refusals of the form just sent, for the summary at the top: (anchor
/// of the field or card, message naming it).
fn error_summary(
    refused: &Refused,
    cards: &[Card],
    settings: &OnboardingSettings,
) -> Vec<(String, String)> {
    let platform = |id: &str| {
        cards
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.platform.clone())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    if let Some((id, message)) = &refused.card_alert {
        out.push((format!("req-{id}"), format!("{}: {message}", platform(id))));
    }
    if let Some((id, _, Some(message))) = &refused.stuck {
        out.push((format!("m-{id}"), format!("{}: {message}", platform(id))));
    }
    for q in &settings.questions {
        if let Some(message) = refused.answer_errors.get(&q.key) {
            out.push((format!("q-{}", q.key), format!("{} {message}", q.label)));
        }
    }
    if refused.answer_errors.is_empty() {
        if let Some(message) = &refused.answers_alert {
            out.push(("questions".into(), message.clone()));
        }
    }
    if let Some(message) = &refused.file_error {
        out.push(("file".into(), format!("Brand kit: {message}")));
    }
    out
}

/// One access request's card: the platform's steps with the agency's
/// values, its state, and the notice or refusal that is about it.
fn card(
    r: &AccessRequest,
    catalog: &[Platform],
    agency: &str,
    values: &BTreeMap<String, String>,
    notice: &Notice,
    refused: &Refused,
) -> Card {
    let p = catalog.iter().find(|p| p.key == r.platform);
    let perm = p.and_then(|p| p.permission(&r.permission));
    let (status_class, status_text) = status_words(r, agency);
    let waiting = matches!(r.status, AccessStatus::Requested | AccessStatus::Failed);
    let (stuck_text, stuck_error, stuck_open) = match &refused.stuck {
        Some((id, text, err)) if r.id == id.as_str() => (text.clone(), err.clone(), true),
        _ => (String::new(), None, false),
    };
    Card {
        id: r.id.to_string(),
        vendor: p.map(|p| p.vendor.clone()).unwrap_or_default(),
        platform: p
            .map(|p| p.name.clone())
            .unwrap_or_else(|| r.platform.clone()),
        permission: perm
            .map(|x| x.name.clone())
            .unwrap_or_else(|| r.permission.clone()),
        permission_description: perm.map(|x| x.description.clone()).unwrap_or_default(),
        asset_label: p
            .map(|p| p.asset_label.clone())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "Account".into()),
        asset: r.asset.clone().filter(|a| !a.trim().is_empty()),
        status_class,
        status_text,
        optional: !r.required,
        steps: p
            .map(|p| p.render_step_lines(agency, values, &r.permission, r.asset.as_deref()))
            .unwrap_or_default()
            .into_iter()
            .map(|line| StepView {
                parts: weblinks::split(&line.text),
                note: missing_note(agency, &line.missing),
            })
            .collect(),
        mistakes: p
            .map(|p| p.render_mistakes(agency, values))
            .unwrap_or_default()
            .iter()
            .map(|m| weblinks::split(m))
            .collect(),
        notice: match &notice.card {
            Some(id) if r.id == id.as_str() => notice.text.clone(),
            _ => None,
        },
        folded: matches!(
            r.status,
            AccessStatus::GrantedByClient | AccessStatus::Verified
        ),
        withdrawn: r.status == AccessStatus::Revoked,
        can_act: waiting,
        stuck_message: r.stuck_message.clone(),
        alert: match &refused.card_alert {
            Some((id, m)) if r.id == id.as_str() => Some(m.clone()),
            _ => None,
        },
        stuck_text,
        stuck_error,
        stuck_open,
    }
}

/// A question of the intake form, with what was typed (or saved) and its
/// error.
fn question_view(q: &Question, current: &BTreeMap<&str, &str>, refused: &Refused) -> QuestionView {
    let value = match &refused.answers {
        Some(typed) => typed.get(&q.key).cloned().unwrap_or_default(),
        None => current
            .get(q.key.as_str())
            .map(|s| s.to_string())
            .unwrap_or_default(),
    };
    let error = refused.answer_errors.get(&q.key).cloned();
    let mut described = Vec::new();
    if !q.help.is_empty() {
        described.push(format!("qh-{}", q.key));
    }
    if error.is_some() {
        described.push(format!("qe-{}", q.key));
    }
    QuestionView {
        key: q.key.clone(),
        label: q.label.clone(),
        help: q.help.clone(),
        long: q.long,
        required: q.required,
        value,
        error,
        described_by: described.join(" "),
    }
}

/// Renders the steps page with `status`, a notice and whatever a refused
/// form left. Reads only.
pub(super) async fn steps_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    notice: Notice,
    refused: Refused,
) -> Result<Response, PortalError> {
    let agency_id = &ctx.agency.id;
    let agency = ctx.agency.name.as_str();
    let requests = &ctx.requests;
    let catalog = platforms::lookup(&state.db, agency_id, &platform_keys(requests)).await?;
    let settings = &ctx.settings;
    let saved = intake::answers(&state.db, agency_id, &ctx.client.id).await?;
    let files = intake::files(&state.db, agency_id, &ctx.client.id).await?;

    let live: Vec<&AccessRequest> = requests
        .iter()
        .filter(|r| r.status != AccessStatus::Revoked)
        .collect();
    let total = live.len();
    let verified = live
        .iter()
        .filter(|r| r.status == AccessStatus::Verified)
        .count();
    let done = verified
        + live
            .iter()
            .filter(|r| r.status == AccessStatus::GrantedByClient)
            .count();

    let values = &settings.platform_values;
    let cards: Vec<Card> = requests
        .iter()
        .map(|r| card(r, &catalog, agency, values, &notice, &refused))
        .collect();

    let current: BTreeMap<&str, &str> = saved
        .iter()
        .map(|a| (a.question_key.as_str(), a.answer.as_str()))
        .collect();
    let questions = settings
        .questions
        .iter()
        .map(|q| question_view(q, &current, &refused))
        .collect();

    let errors = error_summary(&refused, &cards, settings);
    // The notice shows where the page opens: its card, its section, or
    // above the progress summary.
    let (mut top, mut questions_notice, mut files_notice) = (None, None, None);
    match (notice.card.is_some(), notice.done.as_deref()) {
        (true, _) => {}
        (false, Some("answers")) => questions_notice = notice.text,
        (false, Some("file")) => files_notice = notice.text,
        _ => top = notice.text,
    }
    let page = StepsPage {
        layout: ctx.layout(format!("Access for {}", ctx.client.name)),
        base: ctx.base(),
        agency: agency.to_string(),
        client: ctx.client.name.clone(),
        errors,
        notice: top,
        questions_notice,
        files_notice,
        finished: total > 0 && verified == total,
        done,
        verified,
        total,
        cards,
        questions,
        answers_alert: refused.answers_alert,
        accept: uploads::accept_attribute(),
        accepted: uploads::accepted_list(),
        limit: uploads::limit_text(),
        file_error: refused.file_error,
        files: files
            .into_iter()
            .map(|f| FileLine {
                name: f.name,
                size: size_text(f.size_bytes),
            })
            .collect(),
    };
    Ok(render(status, &page))
}

// --------------------------------------------------------------- handlers --

/// `GET /o/{token}`: the welcome page. Writes nothing.
pub(super) async fn welcome(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
) -> Result<Response, PortalError> {
    let ctx = load(&state, &headers, &token, meta).await?;
    let agency_id = &ctx.agency.id;
    let requests = &ctx.requests;
    let catalog = platforms::lookup(&state.db, agency_id, &platform_keys(requests)).await?;
    let lines: Vec<PlatformLine> = requests
        .iter()
        .filter(|r| r.status != AccessStatus::Revoked)
        .map(|r| {
            let p = catalog.iter().find(|p| p.key == r.platform);
            PlatformLine {
                name: p
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| r.platform.clone()),
                permission: p
                    .and_then(|p| p.permission(&r.permission))
                    .map(|x| x.name.clone())
                    .unwrap_or_else(|| r.permission.clone()),
                asset: r.asset.clone().filter(|a| !a.trim().is_empty()),
                optional: !r.required,
            }
        })
        .collect();
    let page = WelcomePage {
        heading: format!(
            "{} needs access to {} for {}",
            ctx.agency.name,
            plural(lines.len(), "platform", "platforms"),
            ctx.client.name
        ),
        layout: ctx.layout(format!("Welcome, {}", ctx.client.name)),
        welcome: ctx.settings.welcome.clone(),
        platforms: lines,
        base: ctx.base(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /o/{token}/open`: "Continue" logs the open, then the steps.
pub(super) async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    onboarding_links::record_open(
        Cx::new(&state.db, &ctx.agency.id, &ctx.actor(), state.now()),
        &ctx.link,
    )
    .await?;
    Ok(Redirect::to(&format!("{}/steps", ctx.base())).into_response())
}

/// `GET /o/{token}/steps[?done=…&next=…][?stuck=acc_…]`: the main page.
/// Writes nothing.
pub(super) async fn steps(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
    q: QueryData,
) -> Result<Response, PortalError> {
    let ctx = load(&state, &headers, &token, meta).await?;
    let notice = Notice::from_query(&q, &ctx);
    // "I'm stuck" is a link (`?stuck=acc_…#m-acc_…`) that opens the message
    // form on that card only, so the page carries one form, not one per card.
    let open = q
        .get("stuck")
        .and_then(|id| ctx.requests.iter().find(|r| r.id == id))
        .map(|r| (r.id.to_string(), String::new(), None));
    let view = Refused {
        stuck: open,
        ..Refused::default()
    };
    steps_page(&state, &ctx, StatusCode::OK, notice, view).await
}

/// The request `id` of this link, or 404 (another link's or client's id too).
/// The path's `id` is read as an `AccessRequestId` here, after the link's
/// token was checked (an expired link says so whatever the id): a
/// wrong-shaped id is the portal's own "not found", like another link's.
pub(super) fn request_of(ctx: &Ctx, id: &str) -> Result<AccessRequest, PortalError> {
    let id = baton_core::types::AccessRequestId::parse(id).map_err(|_| PortalError::NotFound)?;
    ctx.requests
        .iter()
        .find(|r| r.id == id && r.link_id.as_deref() == Some(ctx.link.id.as_str()))
        .cloned()
        .ok_or(PortalError::NotFound)
}

/// The platform keys of `requests`, for [`platforms::lookup`].
fn platform_keys(requests: &[AccessRequest]) -> Vec<&str> {
    requests.iter().map(|r| r.platform.as_str()).collect()
}

/// The client's form read into `T`; a body that is not a readable form is
/// the portal's error page (read after the link is checked, so a dead link
/// says so first).
pub(super) fn read_form<T>(form: Result<PlainForm<T>, WebError>) -> Result<T, PortalError> {
    form.map(|PlainForm(t)| t).map_err(PortalError::from)
}

/// A store refusal to show on the page: (status, sentence, the invalid
/// field), or a page error. The field comes back without a label: each of
/// the client's forms words it for the client.
pub(super) fn refusal(e: StoreError) -> Result<(StatusCode, String, Option<String>), PortalError> {
    match e {
        StoreError::Core(CoreError::Invalid { field, message }) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            sentence(&message),
            Some(field),
        )),
        StoreError::Core(CoreError::Conflict(m)) => Ok((StatusCode::CONFLICT, sentence(&m), None)),
        other => Err(other.into()),
    }
}

pub(super) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
