//! `baton cadence export` / `baton cadence import`: the agency's cadences
//! as a TOML file, like the SOP library (`baton sop`): reviewed, edited,
//! kept in version control and loaded back.
//!
//! Import checks the whole file before it saves anything, then saves each
//! cadence through `cadences::save`: a changed one becomes a new version
//! that rules from today with the reason as its changelog line; an
//! unchanged one stays. Exporting and importing again changes nothing.
//!
//! ```toml
//! [[cadence]]
//! key = "weekly_delivery_planning"
//! name = "Weekly delivery planning"
//! purpose = "Confirm next outputs, resolve constraints"
//! scope = "agency"
//! attendee_roles = ["project_manager", "creative_lead", "strategist"]
//! owner_role = "project_manager"
//! schedule = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0"
//! duration_minutes = 45
//! artifact = "content_calendar"
//! version = 1  # informational, ignored on import
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use baton_core::cadence::{ArtifactKind, Attendee, CadenceDefinition, Schedule, Scope};
use baton_core::clock::{self, Clock, SystemClock};
use baton_core::roles::Role;
use baton_core::types::AgencyId;
use baton_core::{validate, CoreError};
use baton_store::agencies::Agency;
use baton_store::cadences::{self, Cadence};
use baton_store::{Actor, Cx, Db};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::sop::{comment_text, line_of, pick_agency, toml_error, toml_str, wrap, write_export};

/// `baton cadence export`: the current cadences as TOML, on stdout or in `output`.
pub async fn export(
    db: &Db,
    agency: Option<&str>,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let agency = pick_agency(db, agency).await?;
    let all = cadences::list(db, &agency.id).await?;
    let file_name = output
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cadences.toml".into());
    let text = render(&agency, &all, SystemClock.now_ms(), &file_name);
    write_export(
        &text,
        output,
        &format!("{} cadences of {}", all.len(), agency.slug),
    )
}

/// `baton cadence import`: validates every cadence in `file`, then saves
/// each one (or, with `dry_run`, only says what would change).
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
    let reason = reason.map_or_else(|| format!("Imported from {file_name}"), String::from);
    let reason = validate::note("reason", &reason).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let agency = pick_agency(db, agency).await?;
    let before: BTreeMap<String, Cadence> = cadences::list(db, &agency.id)
        .await?
        .into_iter()
        .map(|c| (c.definition.key.clone(), c))
        .collect();
    let defs = match parse(&text) {
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
    let actor = Actor::cli();
    let agency_id = AgencyId::parse(&agency.id)?;
    let cx = Cx::new(db, &agency_id, &actor, SystemClock.now_ms());
    let width = defs.iter().map(|d| d.key.len()).max().unwrap_or(0);
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    for def in defs {
        let key = def.key.clone();
        let prior = before.get(&key);
        let verb = match prior {
            Some(c) if c.definition == def => {
                unchanged += 1;
                "unchanged".to_string()
            }
            _ if dry_run => {
                let v = prior.map_or(1, |c| c.version + 1);
                if prior.is_some() {
                    updated += 1;
                    format!("would update to v{v}")
                } else {
                    created += 1;
                    format!("would create v{v}")
                }
            }
            _ => {
                let saved = cadences::save(cx, def, &reason)
                    .await
                    .with_context(|| format!("saving cadence {key:?}"))?;
                if prior.is_some() {
                    updated += 1;
                    format!("updated to v{}", saved.version)
                } else {
                    created += 1;
                    format!("created v{}", saved.version)
                }
            }
        };
        println!("{key:<width$}  {verb}");
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

/// The cadences as TOML: a header saying what the file is and how to load
/// it back, then one `[[cadence]]` table each.
fn render(agency: &Agency, all: &[Cadence], now: i64, file_name: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "# Baton cadences of {} (agency {}), exported {}: {} cadences.\n\
         #\n\
         # Edit it, then load it back with\n\
         #   baton cadence import {} --agency {} --reason \"why it changes\"\n\
         # (add --dry-run first to see what would change). Each changed cadence\n\
         # becomes a new version that rules from the day it is imported; meetings\n\
         # already past keep their schedule. `version` is informational.\n\
         #\n\
         # scope: agency (one meeting) or client (one per active client).\n\
         # schedule: an RRULE subset, e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0,\n\
         # FREQ=MONTHLY;BYDAY=1TH, FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=2TU,\n\
         # FREQ=MONTHLY;BYMONTHDAY=-1; INTERVAL too. Agency time; a meeting on a\n\
         # day off moves to the next working day.\n\
         # artifact: content_calendar, scorecard, account_memo (scope client) or\n\
         # ops_review.\n\
         {}",
        comment_text(&agency.name),
        comment_text(&agency.slug),
        clock::rfc3339(now - now.rem_euclid(1000)),
        all.len(),
        comment_text(file_name),
        comment_text(&agency.slug),
        wrap(
            &format!(
                "attendee_roles: leadership, client_stakeholders and the roles {}.",
                Role::ALL.map(Role::key).join(", ")
            ),
            76
        ),
    );
    for c in all {
        let d = &c.definition;
        let _ = writeln!(out, "\n[[cadence]]");
        let _ = writeln!(out, "key = {}", toml_str(&d.key));
        let _ = writeln!(out, "name = {}", toml_str(&d.name));
        let _ = writeln!(out, "purpose = {}", toml_str(&d.purpose));
        let _ = writeln!(out, "scope = {}", toml_str(d.scope.key()));
        let _ = writeln!(
            out,
            "attendee_roles = [{}]",
            d.attendee_roles
                .iter()
                .map(|a| toml_str(a.key()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(out, "owner_role = {}", toml_str(d.owner_role.key()));
        let _ = writeln!(
            out,
            "schedule = {}  # {}",
            toml_str(&d.schedule.rrule()),
            d.schedule.describe()
        );
        let _ = writeln!(out, "duration_minutes = {}", d.duration_minutes);
        let _ = writeln!(out, "artifact = {}", toml_str(d.artifact.key()));
        let _ = writeln!(out, "version = {}  # informational", c.version);
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CadenceFile {
    #[serde(default)]
    cadence: Vec<toml::Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    key: String,
    name: String,
    purpose: String,
    scope: String,
    attendee_roles: Vec<String>,
    owner_role: String,
    schedule: String,
    duration_minutes: u16,
    artifact: String,
    #[serde(default, rename = "version")]
    _version: Option<IgnoredAny>,
}

/// The validated definitions of a file, in file order, or every problem
/// found (each naming its cadence's key and line).
fn parse(text: &str) -> Result<Vec<CadenceDefinition>, Vec<String>> {
    let file: CadenceFile = toml::from_str(text).map_err(|e| vec![toml_error(text, &e)])?;
    if file.cadence.is_empty() {
        return Err(vec![
            "no [[cadence]] tables: the file holds no cadence to import".into(),
        ]);
    }
    let mut problems = Vec::new();
    let mut defs = Vec::new();
    let mut seen = BTreeSet::new();
    for spanned in file.cadence {
        let line = line_of(text, spanned.span().start);
        let e = spanned.into_inner();
        let at = format!("line {line}: cadence {:?}", e.key);
        if !seen.insert(e.key.clone()) {
            problems.push(format!("{at}: the key appears more than once in the file"));
            continue;
        }
        match definition(e) {
            Ok(d) => defs.push(d),
            Err(errs) => problems.extend(errs.into_iter().map(|p| format!("{at}: {p}"))),
        }
    }
    if problems.is_empty() {
        Ok(defs)
    } else {
        Err(problems)
    }
}

fn definition(e: Entry) -> Result<CadenceDefinition, Vec<String>> {
    let mut problems = Vec::new();
    let scope = Scope::parse(&e.scope);
    if scope.is_none() {
        problems.push(format!(
            "scope: unknown scope {:?}; use agency or client",
            e.scope
        ));
    }
    let owner = Role::parse(&e.owner_role);
    if owner.is_none() {
        problems.push(format!(
            "owner_role: unknown role {:?}; use one of {}",
            e.owner_role,
            Role::ALL.map(Role::key).join(", ")
        ));
    }
    let mut attendees = Vec::new();
    for a in &e.attendee_roles {
        match Attendee::parse(a) {
            Some(x) => attendees.push(x),
            None => problems.push(format!(
                "attendee_roles: unknown attendee {a:?}; use role keys, leadership or client_stakeholders"
            )),
        }
    }
    let artifact = ArtifactKind::parse(&e.artifact);
    if artifact.is_none() {
        problems.push(format!(
            "artifact: unknown artifact {:?}; use one of {}",
            e.artifact,
            ArtifactKind::ALL.map(ArtifactKind::key).join(", ")
        ));
    }
    let schedule = Schedule::parse(&e.schedule).map_err(|err| problems.push(err.to_string()));
    let (Some(scope), Some(owner_role), Some(artifact), Ok(schedule)) =
        (scope, owner, artifact, schedule)
    else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let def = CadenceDefinition {
        key: e.key,
        name: e.name.trim().to_string(),
        purpose: e.purpose.trim().to_string(),
        scope,
        attendee_roles: attendees,
        owner_role,
        schedule,
        duration_minutes: e.duration_minutes,
        artifact,
    };
    def.validate().map_err(|err| match err {
        CoreError::Invalid { field, message } => vec![format!("{field}: {message}")],
        other => vec![other.to_string()],
    })?;
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agency() -> Agency {
        Agency {
            id: "agy_00000000000000000000000001".parse().unwrap(),
            ..crate::commands::sop::test_agency()
        }
    }

    #[test]
    fn export_then_parse_gives_the_same_cadences() {
        let all: Vec<Cadence> = baton_core::cadence::defaults()
            .into_iter()
            .map(|d| Cadence {
                definition: d,
                version: 1,
                customized: false,
                default: true,
                changed_by: "Baton".into(),
                changed_at: None,
                reason: cadences::DEFAULT_REASON.into(),
            })
            .collect();
        let text = render(&agency(), &all, 0, "cadences.toml");
        let back = parse(&text).unwrap_or_else(|p| panic!("{p:?}\n{text}"));
        assert_eq!(back, baton_core::cadence::defaults());
        assert!(text.contains("# every Monday at 10:00"), "{text}");
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = r#"
[[cadence]]
key = "sync"
name = "Sync"
purpose = "Talk"
scope = "team"
attendee_roles = ["ops", "ceo"]
owner_role = "boss"
schedule = "FREQ=DAILY"
duration_minutes = 30
artifact = "minutes"
"#;
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        for p in &problems {
            assert!(p.starts_with("line 2: cadence \"sync\""), "{p}");
        }
        for word in ["scope", "ceo", "boss", "DAILY", "minutes"] {
            assert!(
                problems.iter().any(|p| p.contains(word)),
                "{word}: {problems:?}"
            );
        }
        assert!(parse("").unwrap_err()[0].contains("no [[cadence]]"));
    }
}
