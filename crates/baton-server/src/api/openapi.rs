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
    // An operation without a token (the inbound endpoint: its senders sign
    // their posts) says so with an empty security list, and has no
    // idempotency layer: replays are told apart by `webhook-id`.
    let public = op.security.is_none();
    if public {
        op.security = Some(Vec::new());
    }

    let mut statuses = if public { vec![401] } else { vec![401, 403] };
    if path.contains('{') {
        statuses.push(404);
    }
    if has_query || json_body {
        statuses.extend([400, 422]);
    }
    if !body_types.is_empty() {
        statuses.extend([413, 415]);
    }
    if is_post && !public {
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

/// `?from=` / `?to=` of a report: an RFC 3339 time (offset within ±18:00),
/// or empty for the default.
pub fn time_param() -> utoipa::openapi::schema::Schema {
    let time = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .pattern(Some(OFFSET_WITHIN_18H));
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

/// `string`, or `["string", "null"]` for a field that may be null.
fn string_type(nullable: bool) -> utoipa::openapi::schema::SchemaType {
    if nullable {
        utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
    } else {
        utoipa::openapi::schema::SchemaType::Type(Type::String)
    }
}

fn text(max: usize, allow_newlines: bool, nullable: bool) -> Object {
    let any = char_class(false, allow_newlines);
    let visible = char_class(true, allow_newlines);
    let ty = string_type(nullable);
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

// Text the server trims before it judges it (`str::trim`), so white space
// around the value is allowed and not counted against the rule.

/// The white space `str::trim` removes (Unicode `White_Space`), spelled
/// out: a regex `\s` means other sets in other engines.
const TRIMMED: &str =
    "[\\t\\n\\x0B\\x0C\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";

/// A character that is neither a control character nor white space.
const SOLID: &str =
    "[^\\x00-\\x20\\x7F-\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";

/// What may stand between the first and last solid character of a text.
#[derive(Clone, Copy)]
enum Lines {
    /// One line: no control character at all.
    One,
    /// `validate::note`: newlines, carriage returns and tabs too.
    Note,
    /// A caption or brief field: newlines and tabs, and `\r` only in `\r\n`.
    Caption,
}

fn inner(lines: Lines) -> String {
    match lines {
        Lines::One => "[^\\x00-\\x1F\\x7F-\\x9F]".into(),
        Lines::Note => "[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]".into(),
        Lines::Caption => "(?:[^\\x00-\\x08\\x0B-\\x1F\\x7F-\\x9F]|\\r\\n)".into(),
    }
}

/// A trimmed text of at most `max` characters: `required`, something other
/// than white space is left after trimming. `nullable` also allows `null`.
/// The length is in the pattern, around the trimmed part, because the
/// server counts after trimming: white space around the text is free.
fn trimmed(max: usize, lines: Lines, required: bool, nullable: bool) -> Object {
    let n = inner(lines);
    let core = format!("{SOLID}(?:{n}{{0,{}}}{SOLID})?", max.saturating_sub(2));
    let body = if required {
        core
    } else {
        format!("(?:{core})?")
    };
    let ty = string_type(nullable);
    ObjectBuilder::new()
        .schema_type(ty)
        .min_length(required.then_some(1))
        .pattern(Some(format!("^{TRIMMED}*{body}{TRIMMED}*$")))
        .build()
}

macro_rules! trimmed_texts {
    ($($(#[$doc:meta])* $name:ident => ($max:expr, $lines:ident, $required:expr, $nullable:expr)),* $(,)?) => {
        $($(#[$doc])* pub fn $name() -> Object {
            trimmed($max, Lines::$lines, $required, $nullable)
        })*
    };
}

trimmed_texts!(
    /// `validate::note` where the value must be given (a reason, a comment).
    required_note => (baton_core::validate::NOTE_MAX, Note, true, false),
    /// A note that may be left out, empty or `null`.
    note_or_empty => (baton_core::validate::NOTE_MAX, Note, false, true),
    /// A caption (copy): up to 5,000 characters, several lines, may be empty.
    caption_text => (baton_core::content::CAPTION_MAX, Caption, false, true),
    /// A brief field: up to 5,000 characters, several lines, may be empty.
    brief_text => (5_000, Caption, false, false),
    /// A content item's format: one line of at most 60 characters.
    format_text => (60, One, false, true),
    /// A content item's campaign: one line of at most 120 characters.
    campaign_text => (120, One, false, true),
    /// A handoff line (goal, constraint, step, promise): at most 500 characters.
    handoff_line => (500, One, false, false),
    /// A handoff channel or a stakeholder's role: at most 200 characters.
    handoff_short_line => (baton_core::validate::NAME_MAX, One, false, false),
    /// A required one-line name of at most 200 characters (SOP names, labels).
    line_200 => (200, One, true, false),
    /// A handoff's scope notes: at most 2,000 characters, several lines.
    scope_notes => (2_000, Note, false, false),
);

/// Any text of at most `max` characters counted after trimming.
fn any_text(max: usize, is_nullable: bool) -> Object {
    let ws =
        "\\t\\n\\x0B\\x0C\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
    let ty = if is_nullable {
        nullable(Type::String)
    } else {
        utoipa::openapi::schema::SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .pattern(Some(format!(
            "^{TRIMMED}*(?:[^{ws}](?:[\\s\\S]{{0,{}}}[^{ws}])?)?{TRIMMED}*$",
            max - 2
        )))
        .build()
}

/// The welcome text of the onboarding page: at most 2,000 characters
/// (counted after trimming), or `null` for "unchanged".
pub fn welcome_text() -> Object {
    any_text(2_000, true)
}

/// The onboarding settings' `platform_values`: setting keys (lowercase
/// letters, digits, `_`, a letter first, at most 40) to values of at most
/// 300 characters; an empty value removes the setting. `null`: unchanged.
pub fn platform_values() -> Object {
    ObjectBuilder::new()
        .schema_type(nullable(Type::Object))
        .property_names(Some(matching(
            format!("^{TRIMMED}*[a-z][a-z0-9_]{{0,39}}{TRIMMED}*$"),
            None,
            false,
        )))
        .additional_properties(Some(utoipa::openapi::Schema::Object(any_text(300, false))))
        .build()
}

/// The intake questionnaire: at most 30 questions, each with a label
/// (1–200 characters), an optional key (derived from the label when
/// empty; unique: 422), help of at most 500 characters, `long` and
/// `required`. `null`: unchanged.
pub fn questions() -> utoipa::openapi::schema::Array {
    let question = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "key",
            matching(
                format!("^{TRIMMED}*(?:[a-z][a-z0-9_]{{0,39}})?{TRIMMED}*$"),
                None,
                false,
            ),
        )
        .property("label", name_text())
        .property("help", any_text(500, false))
        .property("long", ObjectBuilder::new().schema_type(Type::Boolean))
        .property("required", ObjectBuilder::new().schema_type(Type::Boolean))
        .required("label");
    utoipa::openapi::schema::ArrayBuilder::new()
        .schema_type(nullable(Type::Array))
        .items(question)
        .max_items(Some(baton_core::onboarding::MAX_QUESTIONS))
        .build()
}

/// A name (`validate::name`) that may also be left empty or `null`.
pub fn name_or_empty() -> Object {
    let any = char_class(false, false);
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .max_length(Some(baton_core::validate::NAME_MAX))
        .pattern(Some(format!(
            "^{TRIMMED}*(?:{any}*{}{any}*)?{TRIMMED}*$",
            char_class(true, false)
        )))
        .build()
}

fn nullable(ty: Type) -> utoipa::openapi::schema::SchemaType {
    utoipa::openapi::schema::SchemaType::from_iter([ty, Type::Null])
}

/// A string matching `pattern`, or `null` when `nullable`.
fn matching(pattern: String, max: Option<usize>, is_nullable: bool) -> Object {
    let ty = if is_nullable {
        nullable(Type::String)
    } else {
        utoipa::openapi::schema::SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .max_length(max)
        .pattern(Some(pattern))
        .build()
}

/// `validate::optional_url`: `http(s)://`, a host of letters, digits, dots
/// and dashes starting with a letter or digit, an optional port up to
/// 65535, then an optional path, query or fragment of printable ASCII
/// without spaces, quotes or angle brackets; at most 2,000 characters;
/// empty for none; surrounding white space is trimmed.
fn url_pattern(required: bool) -> String {
    let port =
        "(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?";
    let tail = "(?:[/?#][!#-;=?-~]*)?";
    let optional = if required { "" } else { "?" };
    format!("^{TRIMMED}*(?:https?://[A-Za-z0-9][A-Za-z0-9.-]*{port}{tail}){optional}{TRIMMED}*$")
}

/// [`url_pattern`], or `null` for "unchanged".
pub fn optional_url() -> Object {
    matching(url_pattern(false), Some(2_000), true)
}

/// A colour `#rrggbb`, or `null` for "unchanged".
pub fn color_or_null() -> Object {
    matching(
        format!("^{TRIMMED}*#[0-9A-Fa-f]{{6}}{TRIMMED}*$"),
        None,
        true,
    )
}

/// A host name (labels of letters, digits and inner dashes, at least two
/// labels, the last one starting with a letter: an address is no domain),
/// or empty to remove it, or `null` for "unchanged".
pub fn custom_domain() -> Object {
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    let top = "[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    matching(format!("^(?:(?:{label}\\.)+{top})?$"), Some(253), true)
}

/// An IANA time zone name (`Europe/Berlin`, `UTC`): which names exist is the
/// time zone database's, so the schema states the shape only.
pub fn timezone_name() -> Object {
    matching("^[A-Za-z0-9_+\\-/]{1,64}$".into(), None, false)
}

/// [`timezone_name`], or `null` for "unchanged".
pub fn timezone_or_null() -> Object {
    matching("^[A-Za-z0-9_+\\-/]{1,64}$".into(), None, true)
}

/// An RFC 3339 time whose offset is within ±18:00 (`parse_rfc3339`).
fn rfc3339(is_nullable: bool) -> Object {
    let ty = if is_nullable {
        nullable(Type::String)
    } else {
        utoipa::openapi::schema::SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .pattern(Some(OFFSET_WITHIN_18H))
        .build()
}

/// The end of an RFC 3339 time whose offset is within ±18:00.
const OFFSET_WITHIN_18H: &str = "(?:[Zz]|[+-](?:0[0-9]|1[0-7]):[0-5][0-9]|[+-]18:00)$";

pub fn time() -> Object {
    rfc3339(false)
}

pub fn time_or_null() -> Object {
    rfc3339(true)
}

/// One of `values`, or `null` (or, with `empty`, the empty string) for the default.
fn choice(values: &[&'static str], empty: bool) -> Object {
    let mut all: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    if empty {
        all.push("".into());
    }
    all.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .enum_values(Some(all))
        .build()
}

/// `by` of an access request move: `member` (default) or `connector`.
pub fn mover() -> Object {
    choice(&["member", "connector"], true)
}

/// `all` or `any` (approval mode), or empty / `null` for the default.
pub fn approval_mode() -> Object {
    choice(&["all", "any"], true)
}

/// `major` or `minor`, or empty / `null` (minor).
pub fn revision() -> Object {
    choice(&["major", "minor"], true)
}

/// `approve` or `request_changes`.
pub fn decision() -> Object {
    one_of(["approve", "request_changes"])
}

/// The event types a client's timeline takes.
pub fn client_event_type() -> Object {
    one_of(baton_core::lifecycle::ClientEventType::ALL.map(|t| t.key()))
}

/// The SLA units.
pub fn sla_unit() -> Object {
    one_of(["hours", "business_hours", "business_days"])
}

/// An integer in `min..=max`, or `null` for the default.
fn int_range(min: i64, max: i64, is_nullable: bool) -> Object {
    let ty = if is_nullable {
        nullable(Type::Integer)
    } else {
        utoipa::openapi::schema::SchemaType::Type(Type::Integer)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}

/// Days an onboarding link is valid: 1–365, or `null` for the agency's setting.
pub fn link_days() -> Object {
    int_range(1, i64::from(baton_core::onboarding::MAX_EXPIRY_DAYS), true)
}

/// Days a content approval link is valid: 1–90, or `null` for 14.
pub fn approval_link_days() -> Object {
    int_range(1, 90, true)
}

pub fn reminder_every_days() -> Object {
    int_range(0, 60, true)
}

pub fn reminder_max() -> Object {
    int_range(0, 20, true)
}

/// Minutes of a business day: 60–1440, or `null` for 480.
pub fn day_minutes() -> Object {
    int_range(60, 1440, true)
}

/// A key of lowercase letters, digits and `_` starting with a letter, of
/// `min..=40` characters (SOP keys, checklist and QA item keys).
fn key_pattern(min: usize) -> String {
    format!("^[a-z][a-z0-9_]{{{},39}}$", min - 1)
}

/// An SOP, checklist or QA item key: 2–40 of `[a-z0-9_]`, a letter first.
pub fn item_key() -> Object {
    matching(key_pattern(2), None, false)
}

/// An SOP trigger: an event type such as `contract_signed` or
/// `content.brief_approved` (1–100 of `[a-z0-9_.]`, a letter first).
pub fn trigger() -> Object {
    matching("^[a-z][a-z0-9_.]{0,99}$".into(), None, false)
}

/// A content channel key: 1–40 letters, digits or `_` (lower-cased).
pub fn channel_key() -> Object {
    matching(
        format!("^{TRIMMED}*[A-Za-z0-9_]{{1,40}}{TRIMMED}*$"),
        None,
        false,
    )
}

/// The version naming pattern: literal letters, digits, `_`, `.` and `-`
/// and the placeholders, with `{n}`; at most 200 characters.
pub fn naming() -> Object {
    let part = format!(
        "(?:[A-Za-z0-9_.\\-]|\\{{(?:{})\\}})",
        baton_core::content::NAMING_PLACEHOLDERS.join("|")
    );
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(3))
        .max_length(Some(baton_core::validate::NAME_MAX))
        .pattern(Some(format!(
            "^{TRIMMED}*{part}*\\{{n\\}}{part}*{TRIMMED}*$"
        )))
        .build()
}

/// Working windows per weekday (`mon`..`sun`), each `["HH:MM", "HH:MM"]`
/// local time (`24:00` ends a day). That a window ends after it starts,
/// that a day's windows do not overlap and that some day has one are the
/// server's checks (422).
pub fn calendar_hours() -> Object {
    use utoipa::openapi::schema::ArrayBuilder;
    let time = matching(
        format!("^{TRIMMED}*(?:[01][0-9]:[0-5][0-9]|2[0-3]:[0-5][0-9]|24:00){TRIMMED}*$"),
        None,
        false,
    );
    let window = ArrayBuilder::new()
        .items(time)
        .min_items(Some(2))
        .max_items(Some(2));
    let windows = ArrayBuilder::new().items(window);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(one_of([
            "mon", "tue", "wed", "thu", "fri", "sat", "sun",
        ])))
        .additional_properties(Some(windows))
        .min_properties(Some(1))
        .build()
}

/// Local dates off, `YYYY-MM-DD`.
pub fn holidays() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
                .pattern(Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")),
        )
        .build()
}

/// A required http(s) URL ([`url_pattern`] without the empty string).
pub fn required_url() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(8))
        .max_length(Some(2_000))
        .pattern(Some(url_pattern(true)))
        .build()
}

/// An email address (`validate::email`: one `@`, a dot in the domain, no
/// spaces), or empty or `null` for none.
pub fn optional_email() -> Object {
    matching(
        format!(
            "^{TRIMMED}*(?:[^@\\s\\x00-\\x1F\\x7F-\\x9F]+@[^@\\s.\\x00-\\x1F\\x7F-\\x9F]+(?:\\.[^@\\s.\\x00-\\x1F\\x7F-\\x9F]+)+)?{TRIMMED}*$"
        ),
        Some(baton_core::validate::EMAIL_MAX),
        true,
    )
}

/// [`time`], empty, or `null`: "now".
pub fn time_or_empty() -> utoipa::openapi::schema::Schema {
    AnyOfBuilder::new()
        .item(rfc3339(false))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(0)),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// An SLA: the unit and, in it, `target` (at risk) and `limit` (breached),
/// from a minute to a year (0.01 to 365 business days). That `target` does
/// not exceed `limit` is the server's check (422).
pub fn sla() -> utoipa::openapi::schema::Schema {
    use baton_core::sop::{
        MAX_SLA_BUSINESS_DAYS, MAX_SLA_HOURS, MIN_SLA_BUSINESS_DAYS, MIN_SLA_HOURS,
    };
    let one = |units: &[&'static str], min: f64, max: f64| {
        let amount = || {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(min))
                .maximum(Some(max))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("unit", one_of(units.iter().copied()))
            .property("target", amount())
            .property("limit", amount())
            .required("unit")
            .required("target")
            .required("limit")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ))
    };
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(one(
            &["hours", "business_hours"],
            MIN_SLA_HOURS,
            MAX_SLA_HOURS,
        ))
        .item(one(
            &["business_days"],
            MIN_SLA_BUSINESS_DAYS,
            MAX_SLA_BUSINESS_DAYS,
        ))
        .into()
}

/// A client id (`cli_…`).
pub fn client_id() -> Object {
    id_schema(baton_core::ids::CLIENT, false)
}

/// The QA checklists of a content settings document, per channel key
/// (1–40 letters, digits or `_`): 1–30 items each.
pub fn qa_checklists() -> Object {
    use utoipa::openapi::schema::ArrayBuilder;
    let item = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("key", item_key())
        .property("label", line_200())
        .required("key")
        .required("label")
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(channel_key()))
        .additional_properties(Some(
            ArrayBuilder::new()
                .items(item)
                .min_items(Some(1))
                .max_items(Some(30)),
        ))
        .build()
}

/// `{"key": true|false, …}` with at least one key.
pub fn item_toggles() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(ObjectBuilder::new().schema_type(Type::Boolean)))
        .min_properties(Some(1))
        .build()
}

/// An id with `prefix` (`mem_…`), or with `nullable` also `null`.
fn id_schema(prefix: &str, is_nullable: bool) -> Object {
    matching(
        format!("^{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}$"),
        None,
        is_nullable,
    )
}

/// A member id (`mem_…`).
pub fn member_id() -> Object {
    id_schema(baton_core::ids::MEMBER, false)
}

/// A client id (`cli_…`) or `null`.
pub fn client_id_or_null() -> Object {
    id_schema(baton_core::ids::CLIENT, true)
}

/// A content item id (`cnt_…`) or `null`.
pub fn content_id_or_null() -> Object {
    id_schema(baton_core::ids::CONTENT, true)
}

/// The cursor of the incident list.
pub fn incident_cursor() -> Object {
    id_cursor(baton_core::ids::INCIDENT)
}

/// An incident severity.
pub fn severity() -> Object {
    one_of(baton_core::incidents::Severity::ALL.map(|s| s.key()))
}

/// An incident severity, or `null` (unchanged).
pub fn severity_or_null() -> Object {
    choice(
        &baton_core::incidents::Severity::ALL.map(|s| s.key()),
        false,
    )
}

/// An incident source.
pub fn incident_source() -> Object {
    one_of(baton_core::incidents::Source::ALL.map(|s| s.key()))
}

/// An incident status filter, or empty for all.
pub fn incident_status_filter() -> Object {
    filter(baton_core::incidents::Status::ALL.map(|s| s.key()))
}

/// A severity filter, or empty for all.
pub fn severity_filter() -> Object {
    filter(baton_core::incidents::Severity::ALL.map(|s| s.key()))
}

/// A client filter: a client id, or empty for all (the shape of a cursor
/// of clients).
pub fn client_filter() -> Object {
    id_cursor(baton_core::ids::CLIENT)
}

/// A calendar day, `YYYY-MM-DD` (that it exists is the server's check, 422).
pub fn date() -> Object {
    matching("^[0-9]{4}-[0-9]{2}-[0-9]{2}$".into(), None, false)
}

/// Minutes a severity's triage may take: 5 to 4,320 (three days).
pub fn triage_minutes() -> Object {
    int_range(
        *baton_core::incidents::TRIAGE_MINUTES.start(),
        *baton_core::incidents::TRIAGE_MINUTES.end(),
        false,
    )
}

/// A download format: `csv`, `json`, or empty for JSON (unless `Accept: text/csv`).
pub fn download_format() -> Object {
    filter(["csv", "json"])
}

/// What counts as a client's first value.
pub fn first_value_rule() -> Object {
    one_of(["published", "client_approved"])
}

/// An ISO week, `2026-W48` (that it exists is the server's check, 422).
pub fn iso_week() -> Object {
    matching("^[0-9]{4}-W[0-9]{2}$".into(), None, false)
}

/// An ISO week, or empty for the current one.
pub fn iso_week_or_empty() -> Object {
    matching("^([0-9]{4}-W[0-9]{2})?$".into(), None, false)
}

/// A measurable's comparator.
pub fn comparator() -> Object {
    one_of(baton_core::scorecard::Comparator::ALL.map(|c| c.key()))
}

/// A measurable's source: `manual` or a KPI key.
pub fn measurable_source() -> Object {
    one_of(std::iter::once("manual").chain(baton_core::kpis::Kpi::ALL.map(|k| k.key())))
}

/// A comparator, or `null` (unchanged).
pub fn comparator_or_null() -> Object {
    choice(
        &baton_core::scorecard::Comparator::ALL.map(|c| c.key()),
        false,
    )
}

/// A member id (`mem_…`) or `null` (unchanged).
pub fn member_id_or_null() -> Object {
    id_schema(baton_core::ids::MEMBER, true)
}

/// A member filter: a member id, or empty for all.
pub fn member_filter() -> Object {
    id_cursor(baton_core::ids::MEMBER)
}

/// A measurable's unit: 1–20 characters, or `null` (a KPI's own).
pub fn optional_unit() -> Object {
    matching("^\\S(.{0,18}\\S)?$".into(), Some(20), true)
}

/// A goal: a number, or `[low, high]` for a range.
pub fn goal() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder};
    let number = ObjectBuilder::new().schema_type(Type::Number).build();
    let pair = ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::Number).build())
        .min_items(Some(2))
        .max_items(Some(2))
        .build();
    OneOfBuilder::new().item(number).item(pair).build().into()
}

/// [`goal`], or `null` (unchanged).
pub fn goal_or_null() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder};
    let number = ObjectBuilder::new().schema_type(Type::Number).build();
    let pair = ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::Number).build())
        .min_items(Some(2))
        .max_items(Some(2))
        .build();
    let null = ObjectBuilder::new().schema_type(Type::Null).build();
    OneOfBuilder::new()
        .item(number)
        .item(pair)
        .item(null)
        .build()
        .into()
}

/// A range's high end, or `null`.
pub fn goal_max() -> Object {
    ObjectBuilder::new()
        .schema_type(nullable(Type::Number))
        .build()
}

/// A calendar day, `YYYY-MM-DD`, or empty or `null` for none.
pub fn date_or_null() -> Object {
    matching("^([0-9]{4}-[0-9]{2}-[0-9]{2})?$".into(), None, true)
}

/// A shipped week's insights: exactly three, each 1–1,000 characters.
pub fn insights() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(text(1000, true, false))
        .min_items(Some(baton_core::scorecard::INSIGHTS))
        .max_items(Some(baton_core::scorecard::INSIGHTS))
        .build()
}

/// A day, `YYYY-MM-DD`, or empty for the default.
pub fn date_or_empty() -> Object {
    matching("^([0-9]{4}-[0-9]{2}-[0-9]{2})?$".into(), None, false)
}

/// Whom a cadence's meetings are about.
pub fn cadence_scope() -> Object {
    use baton_core::cadence::Scope;
    one_of([Scope::Agency, Scope::Client].map(|s| s.key()))
}

/// What a cadence's meeting must leave behind.
pub fn artifact_kind() -> Object {
    one_of(baton_core::cadence::ArtifactKind::ALL.map(|k| k.key()))
}

/// A cadence's attendees: 1–12 of the role keys, `leadership` and
/// `client_stakeholders`.
pub fn attendees() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(one_of(
            baton_core::roles::Role::ALL
                .map(|r| r.key())
                .into_iter()
                .chain(["leadership", "client_stakeholders"]),
        ))
        .min_items(Some(1))
        .max_items(Some(12))
        .build()
}

/// A cadence's recurrence rule: 1–200 characters (the RRULE subset and
/// how its parts fit together is the server's check, 422: `FREQ=WEEKLY`
/// or `FREQ=MONTHLY` with `INTERVAL`, `BYDAY`, `BYMONTHDAY`, `BYMONTH`,
/// `BYHOUR`, `BYMINUTE`; keys and values in any case).
pub fn schedule_rule() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(200))
        .build()
}

/// A meeting's length: 5 to 480 minutes.
pub fn meeting_minutes() -> Object {
    int_range(
        5,
        i64::from(baton_core::cadence::MAX_DURATION_MINUTES),
        false,
    )
}

/// A cadence filter: its key, or empty for all.
pub fn cadence_filter() -> Object {
    matching("^([a-z][a-z0-9_]{1,39})?$".into(), None, false)
}

/// Search words: any text of at most 200 characters.
pub fn search_words() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(200))
        .build()
}

/// A revision's size.
pub fn revision_size() -> Object {
    one_of(["major", "minor"])
}

/// An outbound endpoint's URL: `http(s)://host[:port][/path]`, at most 2,000
/// characters, nothing around it (https only unless the server allows
/// private addresses; the server also refuses local names and addresses).
pub fn webhook_url() -> Object {
    let port =
        "(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?";
    let tail = "(?:[/?#][!#-;=?-~]*)?";
    matching(
        format!("^https?://[A-Za-z0-9][A-Za-z0-9.-]*{port}{tail}$"),
        Some(2_000),
        false,
    )
}

/// [`webhook_url`], or `null` for "unchanged".
pub fn webhook_url_or_null() -> Object {
    let mut o = webhook_url();
    o.schema_type = nullable(Type::String);
    o
}

/// Event filters: 1–50 of a topic (`access.verified`), a namespace
/// (`client.*`) or `*`; a channel also takes its notice keys
/// (`sop_breached`).
pub fn event_filters() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::ArrayBuilder;
    ArrayBuilder::new()
        .items(matching(
            "^(?:\\*|[a-z0-9_]+(?:\\.[a-z0-9_]+)*(?:\\.\\*)?)$".into(),
            Some(100),
            false,
        ))
        .min_items(Some(1))
        .max_items(Some(50))
        .build()
}

/// [`event_filters`], or `null` for "unchanged".
pub fn event_filters_or_null() -> utoipa::openapi::schema::Array {
    let mut a = event_filters();
    a.schema_type = nullable(Type::Array);
    a
}

/// `slack` or `teams`.
pub fn channel_kind() -> Object {
    one_of(["slack", "teams"])
}

/// A delivery id (`dlv_…`), or empty for all.
pub fn delivery_id() -> Object {
    id_cursor(baton_core::ids::DELIVERY)
}

/// The cursor of a delivery log: `unix-ms:dlv_…:attempt`.
pub fn attempt_cursor() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(
            "^(?:[0-9]{1,15}:dlv_[0-9A-HJKMNP-TV-Z]{26}:[0-9]{1,6})?$".to_string(),
        ))
        .build()
}
