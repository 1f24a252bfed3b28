//! What every operation of the OpenAPI document has in common, added in one
//! pass instead of on 98 attributes: the bearer scheme, the answers the
//! layers and extractors give (401 and 403 on every operation; 404 where the
//! path names a resource; 400/413/415/422 where a body or query is read;
//! `Idempotency-Key` with its 409 and 422 on every POST) and the
//! `application/problem+json` content of every error. Each operation keeps
//! its own specific answers (with their descriptions) on its attribute.

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, Object, ObjectBuilder, SchemaFormat, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder};
use utoipa::Modify;

pub const PROBLEM_JSON: &str = "application/problem+json";

pub struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("bt_…")
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (is_post, op) in operations(item) {
                complete(path, is_post, op);
            }
        }
    }
}

/// The operations of a path item, each with whether it is a POST.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (false, item.get.as_mut()),
        (false, item.put.as_mut()),
        (true, item.post.as_mut()),
        (false, item.delete.as_mut()),
        (false, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(is_post, op)| op.map(|op| (is_post, op)))
}

fn complete(path: &str, is_post: bool, op: &mut Operation) {
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let body_types: Vec<String> = op
        .request_body
        .iter()
        .flat_map(|b| b.content.keys().cloned())
        .collect();
    let json_body = body_types.iter().any(|t| t == "application/json");

    let mut statuses = vec![401, 403];
    if path.contains('{') {
        statuses.push(404);
    }
    if has_query || json_body {
        statuses.extend([400, 422]);
    }
    if !body_types.is_empty() {
        statuses.extend([413, 415]);
    }
    if is_post {
        op.parameters
            .get_or_insert_with(Vec::new)
            .push(idempotency_key());
        // A bad key (422), a key still held by another request or whose
        // answer held a secret (409), a body over the limit (413).
        statuses.extend([409, 413, 422]);
    }
    for status in statuses {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem(default_description(status)).into());
    }
    // The operation's own error answers: their description, problem content.
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let code = status.parse::<u16>().unwrap_or(0);
        if code >= 400 && response.content.is_empty() {
            if response.description.is_empty() {
                response.description = default_description(code).into();
            }
            response
                .content
                .insert(PROBLEM_JSON.into(), problem_content());
        }
    }
}

/// `Idempotency-Key`, as `api::idempotency` checks it.
fn idempotency_key() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the first successful answer to this key is replayed for 24 hours \
             (`Idempotency-Replayed: true`); the same key with another request is a 422.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x21-\\x7E]+$")),
        ))
        .build()
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, problem_content())
        .build()
}

fn default_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed request: broken JSON or query string",
        401 => "Missing, unknown or revoked API token",
        403 => "The token's scope or the member's role does not allow this",
        404 => "No such resource in this agency",
        409 => "Conflicts with the current state, or another request with this Idempotency-Key is in progress",
        413 => "Request body too large",
        415 => "Unsupported content type",
        422 => "Invalid input; `errors` names the fields",
        _ => "Error",
    }
}

// Schemas of query parameters, built from the types the handlers parse them
// with, so the document cannot drift from what is accepted.

/// A string that is one of `values`.
pub fn one_of(values: impl IntoIterator<Item = &'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

/// A list filter: one of `values`, or empty for no filter.
fn filter(values: impl IntoIterator<Item = &'static str>) -> Object {
    one_of(std::iter::once("").chain(values))
}

pub fn lifecycle_filter() -> Object {
    filter(baton_core::lifecycle::Lifecycle::ALL.map(|l| l.key()))
}

pub fn access_status_filter() -> Object {
    filter(baton_core::access::AccessStatus::ALL.map(|s| s.key()))
}

pub fn waiting_on_filter() -> Object {
    use baton_core::access::WaitingOn;
    filter([WaitingOn::Client.key(), WaitingOn::Agency.key()])
}

pub fn content_status_filter() -> Object {
    filter(baton_core::content::ContentStatus::ALL.map(|s| s.key()))
}

pub fn order_param() -> Object {
    filter(["asc", "desc"])
}

/// `?status=` of SOP runs: comma-separated statuses, blanks ignored.
pub fn run_statuses_filter() -> Object {
    let one = baton_core::sop::RunStatus::ALL.map(|s| s.key()).join("|");
    let item = format!("\\s*({one})?\\s*");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{item}(,{item})*$")))
        .build()
}

/// The cursor of a list keyed by ids with `prefix` (see `extract::id_cursor`).
fn id_cursor(prefix: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^({prefix}_[0-9A-HJKMNP-TV-Z]{{26}})?$")))
        .build()
}

/// The cursor of a list keyed by its sequence number (events, audit).
pub fn seq_cursor() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^([+-]?[0-9]{1,18})?$"))
        .build()
}

macro_rules! id_cursors {
    ($($name:ident => $prefix:ident),* $(,)?) => {
        $(pub fn $name() -> Object {
            id_cursor(baton_core::ids::$prefix)
        })*
    };
}

id_cursors!(
    client_cursor => CLIENT,
    member_cursor => MEMBER,
    access_request_cursor => ACCESS_REQUEST,
    content_cursor => CONTENT,
    run_cursor => SOP_RUN,
);

/// `?from=` / `?to=` of a report: an RFC 3339 time, or empty for the default.
pub fn time_param() -> utoipa::openapi::schema::Schema {
    let time = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)));
    let empty = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(0));
    AnyOfBuilder::new().item(time).item(empty).into()
}

// Schemas of the text rules of `baton_core::validate`, for body fields.

/// A character that is neither a control character (`char::is_control`)
/// nor, with `visible`, white space or one of the invisible characters
/// `validate::name` refuses on their own.
fn char_class(visible: bool, allow_newlines: bool) -> String {
    let controls = if allow_newlines {
        "\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F"
    } else {
        "\\x00-\\x1F\\x7F-\\x9F"
    };
    if visible {
        format!(
            "[^{controls}\\s\\u200B-\\u200F\\u2060\\uFEFF\\u202A-\\u202E\\u2066-\\u2069\\u061C]"
        )
    } else {
        format!("[^{controls}]")
    }
}

fn text(max: usize, allow_newlines: bool, nullable: bool) -> Object {
    let any = char_class(false, allow_newlines);
    let visible = char_class(true, allow_newlines);
    let ty = if nullable {
        utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
    } else {
        utoipa::openapi::schema::SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!("^{any}*{visible}{any}*$")))
        .build()
}

/// `validate::name`: 1–200 characters, something visible, no control characters.
pub fn name_text() -> Object {
    text(baton_core::validate::NAME_MAX, false, false)
}

/// [`name_text`], or `null` for "unchanged".
pub fn name_text_or_null() -> Object {
    text(baton_core::validate::NAME_MAX, false, true)
}

/// `validate::note`: 1–10,000 characters, not blank; newlines and tabs allowed.
pub fn note_text() -> Object {
    text(baton_core::validate::NOTE_MAX, true, false)
}

/// [`note_text`], or `null`.
pub fn note_text_or_null() -> Object {
    text(baton_core::validate::NOTE_MAX, true, true)
}

/// A note that may be left empty (or blank, or `null`) to clear it.
pub fn optional_note_text() -> Object {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .max_length(Some(baton_core::validate::NOTE_MAX))
        .pattern(Some(format!("^{}*$", char_class(false, true))))
        .build()
}

/// One of the agency roles (`project_manager`, …).
pub fn role() -> Object {
    one_of(baton_core::roles::Role::ALL.map(|r| r.key()))
}

/// A token scope.
pub fn scope() -> Object {
    use baton_store::tokens::Scope;
    one_of([Scope::Read, Scope::Write, Scope::Admin].map(|s| s.key()))
}

/// Role keys.
pub fn roles() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(role())
        .build()
}

/// Role keys, or `null` for "unchanged".
pub fn roles_or_null() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Array,
            Type::Null,
        ]))
        .items(role())
        .build()
}
