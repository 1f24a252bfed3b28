//! The platform catalog: which platforms an agency asks a client to share,
//! each platform's permission levels (least to most privilege), and the steps
//! a client follows to grant access.
//!
//! The built-in catalog is data, `platforms.toml`, compiled into the binary
//! and parsed once. Agencies add their own platforms as the same [`Platform`]
//! shape (stored as JSON), checked by [`validate_custom`]. Client-facing text
//! carries `{placeholder}`s that [`Platform::render_steps`] fills with the
//! agency's own values, so one catalog serves every agency.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The shipped catalog, checked by this module's tests.
const CATALOG_TOML: &str = include_str!("platforms.toml");

/// Placeholders every platform understands, besides its own settings keys.
pub const CONTEXT_PLACEHOLDERS: [&str; 3] = ["agency", "permission", "asset"];

/// Shown for `{asset}` when the request names no asset, so a step still reads
/// as a sentence.
const NO_ASSET: &str = "the one you agreed with";

/// One permission level of a platform, named as the platform names it so the
/// client finds the same words on screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A value the agency supplies once in its settings (a business ID, an access
/// email) and the catalog's steps refer to as `{key}`. Keys are shared across
/// platforms when the value is the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingField {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub help: String,
}

/// A platform an agency can request access to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub vendor: String,
    /// What the "asset" of a request names, e.g. "Facebook Page name or URL".
    pub asset_label: String,
    /// Ordered from least to most privilege; see [`Platform::rank`].
    pub permissions: Vec<Permission>,
    pub default_permission: String,
    #[serde(default)]
    pub settings: Vec<SettingField>,
    /// Client-facing steps, with placeholders.
    pub instructions: Vec<String>,
    /// Client-facing things to avoid; placeholders limited to `{agency}` and
    /// settings keys, since they are rendered without a request.
    #[serde(default)]
    pub mistakes: Vec<String>,
    /// The agency team's checklist for calling access verified.
    #[serde(default)]
    pub verify: Vec<String>,
    /// True for agency-added platforms; never set in the shipped catalog.
    #[serde(default)]
    pub custom: bool,
}

#[derive(Deserialize)]
struct Catalog {
    platform: Vec<Platform>,
}

fn parse_catalog(text: &str) -> Result<Vec<Platform>, toml::de::Error> {
    let mut catalog: Catalog = toml::from_str(text)?;
    for p in &mut catalog.platform {
        p.custom = false;
    }
    Ok(catalog.platform)
}

/// The built-in platforms, in catalog order. Parsed on first use.
///
/// # Panics
///
/// If the shipped `platforms.toml` is malformed, which the tests rule out.
pub fn builtin() -> &'static [Platform] {
    static CATALOG: OnceLock<Vec<Platform>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        parse_catalog(CATALOG_TOML)
            .unwrap_or_else(|e| panic!("baton-core: the built-in platforms.toml is malformed: {e}"))
    })
}

/// The built-in platform with this key.
pub fn builtin_get(key: &str) -> Option<&'static Platform> {
    builtin().iter().find(|p| p.key == key)
}

impl Platform {
    /// The permission level with this key.
    pub fn permission(&self, key: &str) -> Option<&Permission> {
        self.permissions.iter().find(|p| p.key == key)
    }

    /// Where a permission sits in the privilege order: 0 = least privilege.
    /// `None` for a key the platform does not have.
    pub fn rank(&self, permission_key: &str) -> Option<usize> {
        self.permissions
            .iter()
            .position(|p| p.key == permission_key)
    }

    /// The instructions with placeholders filled in. A setting the agency has
    /// not supplied becomes a neutral phrase, "{agency}'s {label}", so the
    /// client is never shown a raw `{placeholder}` or a note meant for the
    /// agency; [`Platform::render_step_lines`] also says which
    /// step lacks what, and [`setup_warnings`] tells the agency.
    ///
    /// `{permission}` becomes the level's name (the key itself if the platform
    /// has no such level); `{asset}` without an asset becomes neutral text.
    /// Filled-in values are not scanned again, so a value containing braces
    /// is shown as typed.
    pub fn render_steps(
        &self,
        agency_name: &str,
        settings: &BTreeMap<String, String>,
        permission_key: &str,
        asset: Option<&str>,
    ) -> Vec<String> {
        self.render_step_lines(agency_name, settings, permission_key, asset)
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    /// [`Platform::render_steps`], each step with the settings it needed
    /// that the agency has not supplied (for a note under the step).
    pub fn render_step_lines(
        &self,
        agency_name: &str,
        settings: &BTreeMap<String, String>,
        permission_key: &str,
        asset: Option<&str>,
    ) -> Vec<RenderedLine> {
        let agency = agency_display(agency_name);
        let permission = self
            .permission(permission_key)
            .map_or(permission_key, |p| p.name.as_str());
        let asset = match asset.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => a.to_string(),
            None => format!("{NO_ASSET} {agency}"),
        };
        self.instructions
            .iter()
            .map(|step| self.fill(step, agency, settings, Some(permission), Some(&asset)))
            .collect()
    }

    /// The settings this platform's client-facing text uses that have no
    /// value in `settings` (missing or blank), in the platform's order.
    pub fn missing_settings(&self, settings: &BTreeMap<String, String>) -> Vec<&SettingField> {
        let used: HashSet<&str> = self
            .instructions
            .iter()
            .chain(&self.mistakes)
            .flat_map(|t| placeholders(t))
            .collect();
        self.settings
            .iter()
            .filter(|f| used.contains(f.key.as_str()) && setting_value(settings, &f.key).is_none())
            .collect()
    }

    /// Same filling for `mistakes`. `{permission}` and `{asset}` have no
    /// value here and are left as written; the catalog does not use them.
    pub fn render_mistakes(
        &self,
        agency_name: &str,
        settings: &BTreeMap<String, String>,
    ) -> Vec<String> {
        let agency = agency_display(agency_name);
        self.mistakes
            .iter()
            .map(|line| self.fill(line, agency, settings, None, None).text)
            .collect()
    }

    fn fill(
        &self,
        text: &str,
        agency: &str,
        settings: &BTreeMap<String, String>,
        permission: Option<&str>,
        asset: Option<&str>,
    ) -> RenderedLine {
        let mut out = String::with_capacity(text.len() + 32);
        let mut missing = Vec::new();
        for segment in scan(text) {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Placeholder(name) => {
                    match self.placeholder_value(name, agency, settings, permission, asset) {
                        Some(Ok(value)) => out.push_str(&value),
                        Some(Err(field)) => {
                            out.push_str(&format!("{agency}'s {}", field.label));
                            if !missing.contains(&field.label) {
                                missing.push(field.label.clone());
                            }
                        }
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                }
            }
        }
        RenderedLine { text: out, missing }
    }

    /// A placeholder's value; `Err` names a setting the agency has not
    /// supplied; `None` is a name the platform does not know.
    fn placeholder_value(
        &self,
        name: &str,
        agency: &str,
        settings: &BTreeMap<String, String>,
        permission: Option<&str>,
        asset: Option<&str>,
    ) -> Option<Result<String, &SettingField>> {
        match name {
            "agency" => Some(Ok(agency.to_string())),
            "permission" => permission.map(|p| Ok(p.to_string())),
            "asset" => asset.map(|a| Ok(a.to_string())),
            _ => {
                let field = self.settings.iter().find(|s| s.key == name)?;
                Some(
                    setting_value(settings, name)
                        .map(str::to_string)
                        .ok_or(field),
                )
            }
        }
    }
}

/// A line of client-facing text, filled in, with the labels of the settings
/// it needed that the agency has not supplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedLine {
    pub text: String,
    pub missing: Vec<String>,
}

/// The agency's value for a setting, when it has a non-blank one.
fn setting_value<'a>(settings: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    settings
        .get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

/// A requested platform whose client-facing steps need agency settings
/// that are not filled in (Settings → Onboarding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupWarning {
    /// The platform's key.
    pub platform: String,
    pub platform_name: String,
    /// The settings it lacks, in the platform's order.
    pub missing: Vec<SettingField>,
}

impl SetupWarning {
    /// "Shopify: the steps need your Shopify Partner organization name, which
    /// is not set. …" for the team.
    pub fn message(&self) -> String {
        let labels: Vec<&str> = self.missing.iter().map(|f| f.label.as_str()).collect();
        let list = match labels.as_slice() {
            [] => String::new(),
            [one] => one.to_string(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        };
        let (it, is) = if labels.len() == 1 {
            ("it", "is")
        } else {
            ("them", "are")
        };
        format!(
            "{}: the client's steps need your {list}, which {is} not set. The client is told \
             you will send {it}; enter {it} under Settings → Onboarding and the steps show {it}.",
            self.platform_name
        )
    }
}

/// For each of `platform_keys` (first occurrence, in order) found in
/// `catalog` whose client-facing text needs settings without a value, what
/// is missing. Computed when a link is made and whenever its card is shown,
/// so entering the value clears the warning.
pub fn setup_warnings(
    catalog: &[Platform],
    platform_keys: &[&str],
    settings: &BTreeMap<String, String>,
) -> Vec<SetupWarning> {
    let mut seen = HashSet::new();
    platform_keys
        .iter()
        .filter(|k| seen.insert(**k))
        .filter_map(|k| catalog.iter().find(|p| p.key == *k))
        .filter_map(|p| {
            let missing: Vec<SettingField> =
                p.missing_settings(settings).into_iter().cloned().collect();
            (!missing.is_empty()).then(|| SetupWarning {
                platform: p.key.clone(),
                platform_name: p.name.clone(),
                missing,
            })
        })
        .collect()
}

/// The agency's name as shown to a client; never empty.
fn agency_display(agency_name: &str) -> &str {
    match agency_name.trim() {
        "" => "your agency",
        name => name,
    }
}

/// Every distinct setting field of the given platforms (builtin + custom), in first-seen order, deduplicated by key.
pub fn settings_fields<'a>(platforms: impl IntoIterator<Item = &'a Platform>) -> Vec<SettingField> {
    let mut seen = HashSet::new();
    let mut fields = Vec::new();
    for platform in platforms {
        for field in &platform.settings {
            if seen.insert(field.key.as_str()) {
                fields.push(field.clone());
            }
        }
    }
    fields
}

/// A piece of catalog text: literal text, or a `{name}` placeholder.
#[derive(Debug, PartialEq, Eq)]
enum Segment<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// Splits text into literal runs and `{identifier}` placeholders. Braces that
/// do not enclose an identifier (`{ x }`, `{}`, a lone `{`) stay literal text.
fn scan(text: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    let mut rest = text;
    let mut literal_start = 0; // offset in `text` where the current literal run began
    let mut offset = 0; // offset of `rest` in `text`
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_identifier(&after[..close]) => {
                if literal_start < offset + open {
                    segments.push(Segment::Text(&text[literal_start..offset + open]));
                }
                segments.push(Segment::Placeholder(&after[..close]));
                let consumed = open + 1 + close + 1;
                offset += consumed;
                literal_start = offset;
                rest = &rest[consumed..];
            }
            _ => {
                offset += open + 1;
                rest = after;
            }
        }
    }
    if literal_start < text.len() {
        segments.push(Segment::Text(&text[literal_start..]));
    }
    segments
}

/// The placeholder names used in a text, in order.
fn placeholders(text: &str) -> Vec<&str> {
    scan(text)
        .into_iter()
        .filter_map(|s| match s {
            Segment::Placeholder(name) => Some(name),
            Segment::Text(_) => None,
        })
        .collect()
}

/// `[a-z][a-z0-9_]*`: what a placeholder name looks like.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `^[a-z][a-z0-9_]{1,39}$`: the rule for platform, permission and setting keys.
fn is_key(s: &str) -> bool {
    (2..=40).contains(&s.len()) && is_identifier(s)
}

const KEY_RULE: &str =
    "must be 2 to 40 characters: a lowercase letter, then lowercase letters, digits or underscores";

pub const CUSTOM_NAME_MAX: usize = 100;
pub const CUSTOM_ASSET_LABEL_MAX: usize = 200;
pub const CUSTOM_PERMISSIONS_MAX: usize = 12;
pub const CUSTOM_STEPS_MAX: usize = 20;
pub const CUSTOM_LINES_MAX: usize = 10;
pub const CUSTOM_SETTINGS_MAX: usize = 10;
pub const CUSTOM_LINE_LEN_MAX: usize = 500;

/// Validates an agency-added platform: key `^[a-z][a-z0-9_]{1,39}$` and not a builtin key; name 1–100 chars;
/// asset_label 1–200; 1–12 permissions with unique keys (same key rule) and non-empty names ≤ 100; default_permission
/// one of them; 1–20 instruction steps each 1–500 chars; ≤ 10 mistakes/verify lines ≤ 500 chars; ≤ 10 settings with key rule.
/// Trims strings, sets custom = true. Errors are `crate::CoreError::invalid(field, message)` where field is e.g. "permissions".
///
/// Beyond that: no control characters anywhere; setting keys unique and not
/// `agency`/`permission`/`asset`; setting labels 1–100 and help ≤ 500;
/// permission descriptions ≤ 500; and every `{placeholder}` in the steps and
/// mistakes must be one the platform can fill, so a typo never reaches a
/// client as raw `{agnecy}`.
pub fn validate_custom(p: Platform) -> Result<Platform, CoreError> {
    let key = custom_key(&p.key)?;
    // The shared name rule first: bidi controls out, blank-looking refused.
    let name = text(
        "name",
        "",
        &crate::validate::name("name", &p.name)?,
        1,
        CUSTOM_NAME_MAX,
    )?;
    let vendor = text("vendor", "", &p.vendor, 0, CUSTOM_NAME_MAX)?;
    let asset_label = text("asset_label", "", &p.asset_label, 1, CUSTOM_ASSET_LABEL_MAX)?;

    let (permissions, permission_keys) = custom_permissions(p.permissions)?;
    let default_permission = p.default_permission.trim().to_string();
    if !permission_keys.contains(&default_permission) {
        return Err(CoreError::invalid(
            "default_permission",
            format!("\"{default_permission}\" is not one of the platform's permission keys"),
        ));
    }

    let (settings, setting_keys) = custom_settings(p.settings)?;

    let instructions = lines("instructions", "step", p.instructions, 1, CUSTOM_STEPS_MAX)?;
    let mistakes = lines("mistakes", "line", p.mistakes, 0, CUSTOM_LINES_MAX)?;
    let verify = lines("verify", "line", p.verify, 0, CUSTOM_LINES_MAX)?;

    check_placeholders(&instructions, &mistakes, &setting_keys)?;

    Ok(Platform {
        key,
        name,
        vendor,
        asset_label,
        permissions,
        default_permission,
        settings,
        instructions,
        mistakes,
        verify,
        custom: true,
    })
}

/// A custom platform's key: the key rule, and not a built-in's.
fn custom_key(given: &str) -> Result<String, CoreError> {
    let key = given.trim().to_string();
    if !is_key(&key) {
        return Err(CoreError::invalid("key", KEY_RULE));
    }
    if builtin_get(&key).is_some() {
        return Err(CoreError::invalid(
            "key",
            format!("\"{key}\" is a built-in platform; choose another key"),
        ));
    }
    Ok(key)
}

/// A custom platform's permission levels (1 to the maximum, keys unique),
/// checked, with their keys.
fn custom_permissions(
    given: Vec<Permission>,
) -> Result<(Vec<Permission>, HashSet<String>), CoreError> {
    if given.is_empty() || given.len() > CUSTOM_PERMISSIONS_MAX {
        return Err(CoreError::invalid(
            "permissions",
            format!(
                "must have 1 to {CUSTOM_PERMISSIONS_MAX} levels (got {})",
                given.len()
            ),
        ));
    }
    let mut permissions = Vec::with_capacity(given.len());
    let mut permission_keys = HashSet::new();
    for (i, perm) in given.into_iter().enumerate() {
        let at = format!("level {}: ", i + 1);
        let key = perm.key.trim().to_string();
        if !is_key(&key) {
            return Err(CoreError::invalid(
                "permissions",
                format!("{at}key {KEY_RULE}"),
            ));
        }
        if !permission_keys.insert(key.clone()) {
            return Err(CoreError::invalid(
                "permissions",
                format!("{at}key \"{key}\" is used twice"),
            ));
        }
        permissions.push(Permission {
            key,
            name: text(
                "permissions",
                &format!("{at}name "),
                &perm.name,
                1,
                CUSTOM_NAME_MAX,
            )?,
            description: text(
                "permissions",
                &format!("{at}description "),
                &perm.description,
                0,
                CUSTOM_LINE_LEN_MAX,
            )?,
        });
    }
    Ok((permissions, permission_keys))
}

/// A custom platform's settings fields (at most the maximum, keys unique
/// and not the request's own placeholders), checked, with their keys.
fn custom_settings(
    given: Vec<SettingField>,
) -> Result<(Vec<SettingField>, HashSet<String>), CoreError> {
    if given.len() > CUSTOM_SETTINGS_MAX {
        return Err(CoreError::invalid(
            "settings",
            format!(
                "must have at most {CUSTOM_SETTINGS_MAX} fields (got {})",
                given.len()
            ),
        ));
    }
    let mut settings = Vec::with_capacity(given.len());
    let mut setting_keys = HashSet::new();
    for (i, field) in given.into_iter().enumerate() {
        let at = format!("field {}: ", i + 1);
        let key = field.key.trim().to_string();
        if !is_key(&key) {
            return Err(CoreError::invalid(
                "settings",
                format!("{at}key {KEY_RULE}"),
            ));
        }
        if CONTEXT_PLACEHOLDERS.contains(&key.as_str()) {
            return Err(CoreError::invalid(
                "settings",
                format!("{at}key \"{key}\" is reserved for the request's own value"),
            ));
        }
        if !setting_keys.insert(key.clone()) {
            return Err(CoreError::invalid(
                "settings",
                format!("{at}key \"{key}\" is used twice"),
            ));
        }
        settings.push(SettingField {
            key,
            label: text(
                "settings",
                &format!("{at}label "),
                &field.label,
                1,
                CUSTOM_NAME_MAX,
            )?,
            help: text(
                "settings",
                &format!("{at}help "),
                &field.help,
                0,
                CUSTOM_LINE_LEN_MAX,
            )?,
        });
    }

    Ok((settings, setting_keys))
}

/// Refuses a placeholder the instructions or mistakes cannot fill: only
/// `{agency}`, a settings key and, in the instructions, the request's own
/// values.
fn check_placeholders(
    instructions: &[String],
    mistakes: &[String],
    setting_keys: &HashSet<String>,
) -> Result<(), CoreError> {
    let known = |name: &str, with_request: bool| {
        name == "agency"
            || (with_request && CONTEXT_PLACEHOLDERS.contains(&name))
            || setting_keys.contains(name)
    };
    for (field, noun, texts, with_request) in [
        ("instructions", "step", instructions, true),
        ("mistakes", "line", mistakes, false),
    ] {
        for (i, line) in texts.iter().enumerate() {
            if let Some(bad) = placeholders(line)
                .into_iter()
                .find(|n| !known(n, with_request))
            {
                let allowed = if with_request {
                    "{agency}, {permission}, {asset}"
                } else {
                    "{agency}"
                };
                return Err(CoreError::invalid(
                    field,
                    format!(
                        "{noun} {}: unknown placeholder {{{bad}}}; use {allowed} or a settings key",
                        i + 1
                    ),
                ));
            }
        }
    }

    Ok(())
}

/// A trimmed single-line text of `min..=max` characters without control
/// characters; `what` prefixes the message (e.g. "level 2: name ").
fn text(field: &str, what: &str, value: &str, min: usize, max: usize) -> Result<String, CoreError> {
    let v = value.trim();
    let len = v.chars().count();
    if len < min {
        return Err(CoreError::invalid(
            field,
            format!("{what}must not be empty"),
        ));
    }
    if len > max {
        return Err(CoreError::invalid(
            field,
            format!("{what}must be at most {max} characters (got {len})"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            format!("{what}must not contain control characters"),
        ));
    }
    Ok(v.to_string())
}

/// A list of `min..=max` trimmed entries, each 1 to 500 characters;
/// `noun` names an entry in messages ("step 3: …").
fn lines(
    field: &str,
    noun: &str,
    values: Vec<String>,
    min: usize,
    max: usize,
) -> Result<Vec<String>, CoreError> {
    if values.len() < min || values.len() > max {
        let expected = if min == 0 {
            format!("at most {max}")
        } else {
            format!("{min} to {max}")
        };
        return Err(CoreError::invalid(
            field,
            format!("must have {expected} {noun}s (got {})", values.len()),
        ));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let what = format!("{noun} {}: ", i + 1);
            text(field, &what, v, 1, CUSTOM_LINE_LEN_MAX)
        })
        .collect()
}

#[cfg(test)]
mod tests;
