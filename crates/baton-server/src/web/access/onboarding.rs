//! Settings → Onboarding (`/settings/onboarding`): what the client's link
//! asks for (the intake questions and platform values), for admins.

use baton_core::policy::{Action, Area, Subject};
use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::onboarding::{OnboardingSettings, Question, MAX_QUESTIONS};
use baton_core::platforms::{self as catalog, SettingField};
use baton_store::{onboarding_settings, platforms};
use serde::Deserialize;

use super::common::{layout, refusal, LABELS};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::QueryData;
use crate::web::layout::{agency_of, render, see_other, Layout};
use crate::web::{refusal as presenter, WebError};

/// A platform value field.
pub struct ValueField {
    pub key: String,
    pub label: String,
    pub help: String,
    pub value: String,
}

/// A row of the questionnaire editor.
#[derive(Default)]
pub struct QuestionRow {
    pub key: String,
    pub label: String,
    pub help: String,
    pub long: bool,
    pub required: bool,
    pub remove: bool,
}

impl QuestionRow {
    fn is_blank(&self) -> bool {
        self.key.trim().is_empty() && self.label.trim().is_empty() && self.help.trim().is_empty()
    }
}

/// Blank rows offered to add questions.
const BLANK_QUESTIONS: usize = 2;

/// The onboarding settings form as sent: the fixed fields, then the
/// questionnaire's rows (`q{i}_key`, `q{i}_label`, `q{i}_help` and the
/// boxes `q{i}_long`, `q{i}_required`, `q{i}_remove`, for `q_count` rows)
/// and the platform values (`pv_{key}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OnboardingFields {
    welcome: String,
    link_expiry_days: String,
    reminder_every_days: String,
    reminder_max: String,
    q_count: String,
    /// The questionnaire's rows and the platform values (and the CSRF
    /// token), by their numbered or keyed names.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

impl OnboardingFields {
    /// The text sent as `name` ("" when none).
    fn text(&self, name: &str) -> String {
        self.rest.get(name).cloned().unwrap_or_default()
    }

    /// Whether the box `name` was ticked (sent at all).
    fn ticked(&self, name: &str) -> bool {
        self.rest.contains_key(name)
    }
}

/// The onboarding settings form as shown or typed.
pub struct OnboardingForm {
    pub values: Vec<ValueField>,
    pub welcome: String,
    pub link_expiry_days: String,
    pub reminder_every_days: String,
    pub reminder_max: String,
    pub questions: Vec<QuestionRow>,
    pub error: Option<String>,
}

impl OnboardingForm {
    fn of(s: &OnboardingSettings, fields: &[SettingField]) -> OnboardingForm {
        let mut questions: Vec<QuestionRow> = s
            .questions
            .iter()
            .map(|q| QuestionRow {
                key: q.key.clone(),
                label: q.label.clone(),
                help: q.help.clone(),
                long: q.long,
                required: q.required,
                remove: false,
            })
            .collect();
        questions.extend((0..BLANK_QUESTIONS).map(|_| QuestionRow::default()));
        OnboardingForm {
            values: fields
                .iter()
                .map(|f| ValueField {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    help: f.help.clone(),
                    value: s.platform_values.get(&f.key).cloned().unwrap_or_default(),
                })
                .collect(),
            welcome: s.welcome.clone(),
            link_expiry_days: s.link_expiry_days.to_string(),
            reminder_every_days: s.reminder_every_days.to_string(),
            reminder_max: s.reminder_max.to_string(),
            questions,
            error: None,
        }
    }

    fn typed(f: OnboardingFields, fields: &[SettingField]) -> OnboardingForm {
        let count = f
            .q_count
            .trim()
            .parse::<usize>()
            .unwrap_or(0)
            .min(MAX_QUESTIONS * 2 + BLANK_QUESTIONS);
        let mut questions: Vec<QuestionRow> = (0..count)
            .map(|i| QuestionRow {
                key: f.text(&format!("q{i}_key")),
                label: f.text(&format!("q{i}_label")),
                help: f.text(&format!("q{i}_help")),
                long: f.ticked(&format!("q{i}_long")),
                required: f.ticked(&format!("q{i}_required")),
                remove: f.ticked(&format!("q{i}_remove")),
            })
            .filter(|q| !q.is_blank())
            .collect();
        questions.extend((0..BLANK_QUESTIONS).map(|_| QuestionRow::default()));
        OnboardingForm {
            values: fields
                .iter()
                .map(|fl| ValueField {
                    key: fl.key.clone(),
                    label: fl.label.clone(),
                    help: fl.help.clone(),
                    value: f.text(&format!("pv_{}", fl.key)),
                })
                .collect(),
            welcome: f.welcome,
            link_expiry_days: f.link_expiry_days,
            reminder_every_days: f.reminder_every_days,
            reminder_max: f.reminder_max,
            questions,
            error: None,
        }
    }

    /// The settings to save: the current ones with what the form changes.
    fn settings(&self, current: &OnboardingSettings) -> Result<OnboardingSettings, String> {
        let number = |v: &str, field: &str| {
            v.trim().parse::<u32>().map_err(|_| {
                format!(
                    "{}: enter a whole number of days.",
                    presenter::label(LABELS, field)
                )
            })
        };
        let count = |v: &str, field: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("{}: enter a whole number.", presenter::label(LABELS, field)))
        };
        let mut platform_values: BTreeMap<String, String> = current.platform_values.clone();
        for v in &self.values {
            platform_values.insert(v.key.clone(), v.value.clone());
        }
        Ok(OnboardingSettings {
            platform_values,
            questions: self
                .questions
                .iter()
                .filter(|q| !q.remove && !q.is_blank())
                .map(|q| Question {
                    key: q.key.trim().to_string(),
                    label: q.label.clone(),
                    help: q.help.clone(),
                    long: q.long,
                    required: q.required,
                })
                .collect(),
            reminder_every_days: number(&self.reminder_every_days, "reminder_every_days")?,
            reminder_max: count(&self.reminder_max, "reminder_max")?,
            link_expiry_days: number(&self.link_expiry_days, "link_expiry_days")?,
            welcome: self.welcome.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "settings_onboarding.html")]
struct OnboardingPage {
    layout: Layout,
    sub: &'static str,
    can_edit: bool,
    form: OnboardingForm,
}

async fn render_onboarding(
    state: &AppState,
    session: &WebSession,
    q: Option<&QueryData>,
    form: Option<OnboardingForm>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let form = match form {
        Some(f) => f,
        None => {
            let all = platforms::catalog(&state.db, session.agency_id()).await?;
            let fields = catalog::settings_fields(all.iter());
            let current = onboarding_settings::get(&state.db, session.agency_id()).await?;
            OnboardingForm::of(&current, &fields)
        }
    };
    let page = OnboardingPage {
        layout: layout(&agency, session, "Onboarding settings", "settings", q),
        sub: "onboarding",
        can_edit: session.administers(Area::Onboarding),
        form,
    };
    Ok(render(status, &page))
}

/// `GET /settings/onboarding`
pub(super) async fn onboarding_page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    render_onboarding(&state, &session, Some(&q), None, StatusCode::OK).await
}

/// `POST /settings/onboarding` (admins)
pub(super) async fn onboarding_save(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(form): CsrfForm<OnboardingFields>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Onboarding))?;
    let agency_id = session.agency_id();
    let all = platforms::catalog(&state.db, agency_id).await?;
    let fields = catalog::settings_fields(all.iter());
    let mut typed = OnboardingForm::typed(form, &fields);
    let current = onboarding_settings::get(&state.db, agency_id).await?;
    let refused = match typed.settings(&current) {
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Ok(next) => match onboarding_settings::put(session.cx(&state), next).await {
            Ok(_) => return Ok(see_other("/settings/onboarding?notice=onboarding_saved")),
            Err(e) => refusal(e)?,
        },
    };
    typed.error = Some(refused.1);
    render_onboarding(&state, &session, None, Some(typed), refused.0).await
}
