//! An agency's severities: the one-line definition shown where a severity
//! is chosen, and the triage limit in minutes (Baton's wording and 60
//! minutes until the agency changes them).

use baton_core::events;
use baton_core::incidents::{Severity, TriageClock, DEFAULT_TRIAGE_MINUTES};
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::db::Db;
use crate::error::Result;
use crate::write::Record;

/// One severity as the agency defines it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SeverityDef {
    pub severity: Severity,
    pub definition: String,
    pub triage_minutes: i64,
    /// Changed by the agency (not Baton's default).
    pub customized: bool,
}

/// The agency's three severities, sev1 first.
pub async fn severities(db: &Db, agency_id: &str) -> Result<Vec<SeverityDef>> {
    severities_on(&mut *db.reader().acquire().await?, agency_id).await
}

pub(crate) async fn severities_on(
    conn: &mut AnyConnection,
    agency_id: &str,
) -> Result<Vec<SeverityDef>> {
    let rows = sqlx::query(
        "SELECT severity, definition, triage_minutes FROM incident_severities WHERE agency_id = $1",
    )
    .bind(agency_id)
    .fetch_all(conn)
    .await?;
    let mut out = Vec::new();
    for s in Severity::ALL {
        let row = rows
            .iter()
            .find(|r| r.try_get::<String, _>("severity").ok().as_deref() == Some(s.key()));
        out.push(match row {
            Some(r) => SeverityDef {
                severity: s,
                definition: r.try_get("definition")?,
                triage_minutes: r.try_get("triage_minutes")?,
                customized: true,
            },
            None => SeverityDef {
                severity: s,
                definition: s.default_definition().into(),
                triage_minutes: DEFAULT_TRIAGE_MINUTES,
                customized: false,
            },
        });
    }
    Ok(out)
}

/// The triage clock of `severity` in this agency.
pub(crate) async fn clock_of(
    conn: &mut AnyConnection,
    agency_id: &str,
    severity: Severity,
) -> Result<TriageClock> {
    let all = severities_on(conn, agency_id).await?;
    let minutes = all
        .iter()
        .find(|d| d.severity == severity)
        .map_or(DEFAULT_TRIAGE_MINUTES, |d| d.triage_minutes);
    Ok(TriageClock::new(minutes)?)
}

/// Saves the agency's definition and triage limit of one severity. Applies
/// to incidents reported from now on (a reported incident keeps its clock).
pub async fn save_severity(
    cx: Cx<'_>,
    severity: Severity,
    definition: &str,
    triage_minutes: i64,
) -> Result<SeverityDef> {
    let definition = baton_core::validate::name("definition", definition)?;
    TriageClock::new(triage_minutes)?;
    let mut tx = cx.begin().await?;
    let agency_id = cx.agency_id();
    sqlx::query("DELETE FROM incident_severities WHERE agency_id = $1 AND severity = $2")
        .bind(agency_id)
        .bind(severity.key())
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO incident_severities (agency_id, severity, definition, triage_minutes, updated_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(agency_id)
    .bind(severity.key())
    .bind(&definition)
    .bind(triage_minutes)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    tx.commit(Record::new(
        events::INCIDENT_SEVERITY_SAVED,
        "agency",
        agency_id,
        json!({"severity": severity.key(), "definition": definition, "triage_minutes": triage_minutes}),
    ))
    .await?;
    Ok(SeverityDef {
        severity,
        definition,
        triage_minutes,
        customized: true,
    })
}
