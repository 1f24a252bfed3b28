//! `baton sop export` / `baton sop import`: the agency's SOP library as a TOML
//! file, so it can be reviewed, edited in a text editor, kept in version
//! control and loaded back (or into another agency).
//!
//! Import checks the whole file before it saves anything, then saves each SOP
//! through `sops::save`: a changed SOP becomes a new version with the reason as
//! its changelog line, an unchanged one stays as it is. Exporting and
//! importing again therefore changes nothing.
//!
//! The file is one `[[sop]]` table per SOP:
//!
//! ```toml
//! [[sop]]
//! key = "access_setup"
//! name = "Access and permissions setup"
//! trigger = "kickoff_scheduled"
//! owner_role = "project_manager"
//! escalation_role = "account_lead"
//! version = 1  # informational, ignored on import
//! sla = { unit = "hours", target = 24, limit = 72 }
//! checklist = [
//!     { key = "platforms_listed", label = "Required platforms and folders listed" },
//! ]
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use baton_core::clock::{self, Clock, SystemClock};
use baton_core::roles::Role;
use baton_core::sop::{self, ChecklistItem, Sla, SlaUnit, SopDefinition};
use baton_core::types::AgencyId;
use baton_core::{validate, CoreError};
use baton_store::agencies::{self, Agency};
use baton_store::sops::{self, Sop};
use baton_store::{Actor, Cx, Db};
use serde::de::IgnoredAny;
use serde::Deserialize;

// ---------------------------------------------------------------- commands

/// `baton sop export`: the current library as TOML, on stdout or in `output`.
pub async fn export(
    db: &Db,
    agency: Option<&str>,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let agency = pick_agency(db, agency).await?;
    let library = sops::list(db, &agency.id).await?;
    let file_name = output
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sops.toml".into());
    let text = render(&agency, &library, SystemClock.now_ms(), &file_name);
    write_export(
        &text,
        output,
        &format!("{} SOPs of {}", library.len(), agency.slug),
    )
}

/// Prints an export, or writes it to `output` and says so ("exported
/// `what` to FILE").
pub(super) fn write_export(
    text: &str,
    output: Option<&Path>,
    what: &str,
) -> anyhow::Result<ExitCode> {
    match output {
        None => print!("{text}"),
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("exported {what} to {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `baton sop import`: validates every SOP in `file`, then saves each one
/// (or, with `dry_run`, only says what would change).
pub async fn import(
    db: &Db,
    file: &Path,
    agency: Option<&str>,
    reason: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let reason = match reason {
        Some(r) => r.to_string(),
        None => format!("Imported from {file_name}"),
    };
    let reason = validate::note("reason", &reason).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let agency = pick_agency(db, agency).await?;

    let before: BTreeMap<String, Sop> = sops::list(db, &agency.id)
        .await?
        .into_iter()
        .map(|s| (s.definition.key.clone(), s))
        .collect();
    let current: BTreeMap<&str, &SopDefinition> = before
        .iter()
        .map(|(k, s)| (k.as_str(), &s.definition))
        .collect();
    let defs = match parse(&text, &current) {
        Ok(defs) => defs,
        Err(problems) => {
            for p in &problems {
                eprintln!("{}: {p}", file.display());
            }
            anyhow::bail!(
                "nothing imported: {} has {} problem{}",
                file.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
        }
    };

    let in_file: BTreeSet<String> = defs.iter().map(|d| d.key.clone()).collect();
    let now = SystemClock.now_ms();
    let actor = Actor::cli();
    let agency_id = AgencyId::parse(&agency.id)?;
    let cx = Cx::new(db, &agency_id, &actor, now);
    let width = defs.iter().map(|d| d.key.len()).max().unwrap_or(0);
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    for def in defs {
        let key = def.key.clone();
        let prior = before.get(&key);
        let outcome = if dry_run {
            match prior {
                Some(s) if s.definition == def => Outcome::Unchanged,
                Some(s) => Outcome::Updated(s.version + 1),
                None => Outcome::Created(1),
            }
        } else {
            let saved = sops::save(cx, def, &reason)
                .await
                .with_context(|| format!("saving SOP {key:?}"))?;
            match prior {
                Some(s) if s.version == saved.version => Outcome::Unchanged,
                Some(_) => Outcome::Updated(saved.version),
                None => Outcome::Created(saved.version),
            }
        };
        let (verb, counter) = match outcome {
            Outcome::Unchanged => ("unchanged".to_string(), &mut unchanged),
            Outcome::Updated(v) if dry_run => (format!("would update to v{v}"), &mut updated),
            Outcome::Updated(v) => (format!("updated to v{v}"), &mut updated),
            Outcome::Created(v) if dry_run => (format!("would create v{v}"), &mut created),
            Outcome::Created(v) => (format!("created v{v}"), &mut created),
        };
        *counter += 1;
        println!("{key:<width$}  {verb}");
    }
    let missing: Vec<&str> = before
        .keys()
        .filter(|k| !in_file.contains(k.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        println!("not in the file, kept as they are: {}", missing.join(", "));
    }
    if dry_run {
        println!(
            "dry run for {}: {created} would be created, {updated} updated, {unchanged} unchanged; nothing saved",
            agency.slug
        );
    } else {
        println!(
            "imported into {}: {created} created, {updated} updated, {unchanged} unchanged",
            agency.slug
        );
    }
    Ok(ExitCode::SUCCESS)
}

enum Outcome {
    Unchanged,
    Updated(i64),
    Created(i64),
}

/// The agency named by `slug`, or the only agency when no slug is given.
pub(super) async fn pick_agency(db: &Db, slug: Option<&str>) -> anyhow::Result<Agency> {
    if let Some(slug) = slug {
        return agencies::find_by_slug(db, slug)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no agency with slug {slug:?}"));
    }
    let mut all = agencies::list_all(db).await?;
    match all.len() {
        0 => anyhow::bail!("there is no agency yet: create one with `baton agency create`"),
        1 => Ok(all.remove(0)),
        _ => anyhow::bail!(
            "there are {} agencies: choose one with --agency ({})",
            all.len(),
            all.iter()
                .map(|a| a.slug.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

// ---------------------------------------------------------------- export

/// The library as TOML: a header saying what the file is and how to load it
/// back, then one `[[sop]]` table per SOP in library order.
fn render(agency: &Agency, library: &[Sop], now: i64, file_name: &str) -> String {
    let mut out = String::new();
    let roles = wrap(
        &format!("Roles: {}.", Role::ALL.map(Role::key).join(", ")),
        76,
    );
    let _ = write!(
        out,
        "# Baton SOP library of {} (agency {}), exported {}: {} SOPs.\n\
         #\n\
         # Edit it, then load it back with\n\
         #   baton sop import {} --agency {} --reason \"why it changes\"\n\
         # (add --dry-run to see what would change first). Each changed SOP becomes a\n\
         # new version with the reason as its changelog line; unchanged SOPs stay as\n\
         # they are and SOPs left out of the file are kept. `version` is\n\
         # informational and ignored on import.\n\
         #\n\
         # sla.unit: hours (wall clock), business_hours or business_days (agency\n\
         # calendar). A run is at risk at `target` and breached at `limit`;\n\
         # 0 < target <= limit.\n\
         {}",
        comment_text(&agency.name),
        comment_text(&agency.slug),
        clock::rfc3339(now - now.rem_euclid(1000)),
        library.len(),
        comment_text(file_name),
        comment_text(&agency.slug),
        roles,
    );
    for s in library {
        let d = &s.definition;
        out.push('\n');
        out.push_str("[[sop]]\n");
        let _ = writeln!(out, "key = {}", toml_str(&d.key));
        let _ = writeln!(out, "name = {}", toml_str(&d.name));
        let _ = writeln!(out, "trigger = {}", toml_str(&d.trigger));
        let _ = writeln!(out, "owner_role = {}", toml_str(d.owner_role.key()));
        let _ = writeln!(
            out,
            "escalation_role = {}",
            toml_str(d.escalation_role.key())
        );
        let when = s
            .changed_at
            .map(|ms| format!(", {}", &clock::rfc3339(ms)[..10]))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "version = {}  # {} ({}{when})",
            s.version,
            comment_text(&s.reason),
            comment_text(&s.changed_by),
        );
        let _ = writeln!(
            out,
            "sla = {{ unit = {}, target = {}, limit = {} }}",
            toml_str(unit_key(d.sla.unit)),
            toml_num(shown(d.sla.target)),
            toml_num(shown(d.sla.limit)),
        );
        out.push_str("checklist = [\n");
        for item in &d.checklist {
            let _ = writeln!(
                out,
                "    {{ key = {}, label = {} }},",
                toml_str(&item.key),
                toml_str(&item.label)
            );
        }
        out.push_str("]\n");
    }
    out
}

/// `text` as `# ` comment lines of at most about `width` characters.
pub(super) fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "# {line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "# {line}");
    }
    out
}

/// A TOML string literal, escaped as TOML requires.
pub(super) fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML number that parses back to exactly `x`: whole amounts as integers
/// (`24`, read back as 24.0), others as the shortest exact float (`0.5`).
fn toml_num(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
        format!("{}", x as i64)
    } else {
        toml::Value::Float(x).to_string()
    }
}

/// An SLA amount as the file shows it: rounded to 6 decimals, so that a
/// computed 80% of 24 hours reads `19.2`, not `19.200000000000003`. Import
/// maps a shown amount back to the exact stored one ([`keep_exact`]).
fn shown(x: f64) -> f64 {
    if x.is_finite() && x.abs() < 1.0e9 {
        (x * 1.0e6).round() / 1.0e6
    } else {
        x
    }
}

/// The file's amount, or the current exact amount when the file shows the
/// current amount unchanged (see [`shown`]).
fn keep_exact(file: f64, current: f64) -> f64 {
    if file != current && file == shown(current) {
        current
    } else {
        file
    }
}

/// Free text made safe for a one-line `#` comment.
pub(super) fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn unit_key(unit: SlaUnit) -> &'static str {
    match unit {
        SlaUnit::Hours => "hours",
        SlaUnit::BusinessHours => "business_hours",
        SlaUnit::BusinessDays => "business_days",
    }
}

const UNITS: [SlaUnit; 3] = [
    SlaUnit::Hours,
    SlaUnit::BusinessHours,
    SlaUnit::BusinessDays,
];

// ---------------------------------------------------------------- import

/// The file as written: roles and units stay text here so that a wrong one
/// is reported with its SOP's key, next to that SOP's other problems.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LibraryFile {
    #[serde(default)]
    sop: Vec<toml::Spanned<SopEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SopEntry {
    key: String,
    name: String,
    trigger: String,
    owner_role: String,
    escalation_role: String,
    /// Informational (what export wrote); import ignores it.
    #[serde(default, rename = "version")]
    _version: Option<IgnoredAny>,
    sla: SlaEntry,
    checklist: Vec<ItemEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlaEntry {
    unit: String,
    target: f64,
    limit: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemEntry {
    key: String,
    label: String,
}

/// The validated definitions of a library file, in file order, or every
/// problem found (a TOML error carries its line; SOP problems name the SOP's
/// key and line).
fn parse(
    text: &str,
    current: &BTreeMap<&str, &SopDefinition>,
) -> Result<Vec<SopDefinition>, Vec<String>> {
    let file: LibraryFile = toml::from_str(text).map_err(|e| vec![toml_error(text, &e)])?;
    if file.sop.is_empty() {
        return Err(vec![
            "no [[sop]] tables: the file holds no SOP to import".into()
        ]);
    }
    let mut problems = Vec::new();
    let mut defs = Vec::new();
    let mut seen = BTreeSet::new();
    for spanned in file.sop {
        let line = line_of(text, spanned.span().start);
        let entry = spanned.into_inner();
        let at = format!("line {line}: SOP {:?}", entry.key);
        if !seen.insert(entry.key.clone()) {
            problems.push(format!("{at}: the key appears more than once in the file"));
            continue;
        }
        let cur = current.get(entry.key.as_str()).copied();
        match definition(entry, cur) {
            Ok(def) => defs.push(def),
            Err(errs) => problems.extend(errs.into_iter().map(|e| format!("{at}: {e}"))),
        }
    }
    if problems.is_empty() {
        Ok(defs)
    } else {
        Err(problems)
    }
}

/// One entry as a validated definition, or its problems. `current` is the
/// SOP's current definition, whose exact SLA amounts are kept where the file
/// shows them unchanged.
fn definition(e: SopEntry, current: Option<&SopDefinition>) -> Result<SopDefinition, Vec<String>> {
    let mut problems = Vec::new();
    let mut role = |field: &str, key: &str| {
        let r = Role::parse(key);
        if r.is_none() {
            problems.push(format!(
                "{field}: unknown role {key:?}; use one of {}",
                Role::ALL.map(Role::key).join(", ")
            ));
        }
        r
    };
    let owner = role("owner_role", &e.owner_role);
    let escalation = role("escalation_role", &e.escalation_role);
    let unit = UNITS.into_iter().find(|u| unit_key(*u) == e.sla.unit);
    if unit.is_none() {
        problems.push(format!(
            "sla.unit: unknown unit {:?}; use one of {}",
            e.sla.unit,
            UNITS.map(unit_key).join(", ")
        ));
    }
    let (Some(owner_role), Some(escalation_role), Some(unit)) = (owner, escalation, unit) else {
        return Err(problems);
    };
    let (mut target, mut limit) = (e.sla.target, e.sla.limit);
    if let Some(cur) = current.filter(|c| c.sla.unit == unit) {
        target = keep_exact(target, cur.sla.target);
        limit = keep_exact(limit, cur.sla.limit);
    }
    let def = SopDefinition {
        key: e.key,
        name: e.name,
        trigger: e.trigger,
        owner_role,
        escalation_role,
        checklist: e
            .checklist
            .into_iter()
            .map(|i| ChecklistItem {
                key: i.key,
                label: i.label,
            })
            .collect(),
        sla: Sla::range(unit, target, limit),
    };
    sop::validate(def).map_err(|e| match e {
        CoreError::Invalid { field, message } => vec![format!("{field}: {message}")],
        other => vec![other.to_string()],
    })
}

/// A TOML error on one line: where, and what.
pub(super) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim();
    match e.span() {
        Some(span) => format!("line {}: {message}", line_of(text, span.start)),
        None => message.to_string(),
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// An agency for the export tests of this and the cadence command.
#[cfg(test)]
pub(super) fn test_agency() -> Agency {
    tests::agency()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn agency() -> Agency {
        Agency {
            id: baton_core::types::AgencyId::parse("agy_00000000000000000000000001").unwrap(),
            name: "North \"wind\"\nSocial".into(),
            slug: "northwind".into(),
            timezone: "UTC".into(),
            brand_color: String::new(),
            accent_color: String::new(),
            logo_url: None,
            white_label: false,
            custom_domain: None,
            domain: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn library(defs: Vec<SopDefinition>) -> Vec<Sop> {
        defs.into_iter()
            .map(|definition| Sop {
                definition,
                version: 2,
                customized: true,
                default: false,
                changed_by: "Ana \"A\"".into(),
                changed_at: Some(1_767_225_600_000),
                reason: "line one\nline two # not a key = 1".into(),
            })
            .collect()
    }

    #[test]
    fn render_parses_back_to_the_same_definitions() {
        let mut defs = sop::default_library();
        // Tricky text and amounts survive the trip exactly.
        defs[0].name = "Hand-off \"sales\" → delivery \\ 'quoted' # not a comment".into();
        defs[0].checklist[0].label = "Label with \"quotes\", ''' and é".into();
        defs[1].sla = Sla::range(SlaUnit::BusinessDays, 0.1 + 0.2, 7.0 / 3.0);
        defs[2].sla = Sla::single(SlaUnit::Hours, 24.0);
        let text = render(&agency(), &library(defs.clone()), 0, "my file.toml");
        let current = defs.iter().map(|d| (d.key.as_str(), d)).collect();
        assert_eq!(parse(&text, &current), Ok(defs.clone()), "{text}");
        // Computed amounts read well; import maps them back to the exact ones.
        assert!(text.contains("target = 0.3, limit = 2.333333 }"), "{text}");
        assert!(text.contains("target = 19.2, limit = 24 }"), "{text}");
        let fresh = parse(&text, &BTreeMap::new()).unwrap();
        assert_eq!(
            fresh[1].sla,
            Sla::range(SlaUnit::BusinessDays, 0.3, 2.333333)
        );
        // An edited amount is taken as written.
        let edited = text.replace("target = 0.3,", "target = 0.30000001,");
        let got = parse(&edited, &current).unwrap();
        assert_eq!(got[1].sla.target, 0.30000001);
        assert_eq!(got[1].sla.limit, 7.0 / 3.0);
        assert!(text.contains("sla = { unit = \"business_days\", target = 2, limit = 5 }"));
    }

    #[test]
    fn problems_name_the_sop_and_line() {
        let defs = sop::default_library();
        let text = render(&agency(), &library(defs), 0, "x.toml");
        let none = BTreeMap::new();
        let bad = text
            .replacen("owner_role = \"account_lead\"", "owner_role = \"boss\"", 1)
            .replacen("unit = \"business_days\"", "unit = \"weeks\"", 1)
            .replacen("target = 24, limit = 72", "target = 80, limit = 72", 1);
        let problems = parse(&bad, &none).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("\"sales_handoff\"") && problems[0].contains("\"boss\""));
        assert!(problems[1].contains("\"access_setup\"") && problems[1].contains("sla"));
        assert!(problems[2].contains("\"content_intake\"") && problems[2].contains("\"weeks\""));
        let line = bad
            .lines()
            .position(|l| l == "key = \"access_setup\"")
            .unwrap();
        assert!(
            problems[1].starts_with(&format!("line {line}:")),
            "{problems:?}"
        );

        let unknown = text.replacen("trigger = ", "colour = \"red\"\ntrigger = ", 1);
        let problems = parse(&unknown, &none).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("colour"), "{problems:?}");
        assert!(problems[0].starts_with("line "), "{problems:?}");

        let first = text.find("[[sop]]").unwrap();
        let second = first + 1 + text[first + 1..].find("[[sop]]").unwrap();
        let twice = format!("{text}\n{}", &text[first..second]);
        let problems = parse(&twice, &none).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("more than once"), "{problems:?}");

        assert!(parse("# nothing\n", &none).is_err());
        assert!(parse("[[sop]]\nkey = ", &none).is_err());
    }
}
