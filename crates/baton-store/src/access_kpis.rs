//! Time-to-verified-access: per client (contract signed → last required
//! request verified) and the agency's median and 90th percentile over a
//! period. Both read the two times kept on the client row.

use baton_core::access::{percentile, time_to_verified_access};
use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::error::{Result, StoreError};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClientAccessKpi {
    pub contract_signed_at: Option<i64>,
    pub access_complete_at: Option<i64>,
    /// Milliseconds; `None` until every required request is verified (or
    /// while no contract signature is recorded).
    pub time_to_verified_access_ms: Option<i64>,
    pub requests: i64,
    pub required: i64,
    pub verified: i64,
    pub waiting_on_client: i64,
    pub waiting_on_agency: i64,
    /// Of the verified requests, how many a connector verified (the rest a member).
    pub verified_by_connector: i64,
}

pub async fn client(db: &Db, agency_id: &str, client_id: &str) -> Result<ClientAccessKpi> {
    let row = sqlx::query(
        "SELECT contract_signed_at, access_complete_at FROM clients WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    let signed: Option<i64> = row.try_get("contract_signed_at")?;
    let complete: Option<i64> = row.try_get("access_complete_at")?;
    let counts = sqlx::query(
        "SELECT COUNT(*) AS n, \
         COALESCE(SUM(CASE WHEN required = 1 THEN 1 ELSE 0 END), 0) AS req, \
         COALESCE(SUM(CASE WHEN status = 'verified' THEN 1 ELSE 0 END), 0) AS ver, \
         COALESCE(SUM(CASE WHEN status IN ('requested', 'failed') THEN 1 ELSE 0 END), 0) AS woc, \
         COALESCE(SUM(CASE WHEN status = 'granted_by_client' THEN 1 ELSE 0 END), 0) AS woa, \
         COALESCE(SUM(CASE WHEN status = 'verified' AND verified_by_kind = 'connector' THEN 1 ELSE 0 END), 0) AS vbc \
         FROM access_requests WHERE agency_id = $1 AND client_id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_one(db.reader())
    .await?;
    Ok(ClientAccessKpi {
        contract_signed_at: signed,
        access_complete_at: complete,
        time_to_verified_access_ms: time_to_verified_access(signed, complete),
        requests: counts.try_get("n")?,
        required: counts.try_get("req")?,
        verified: counts.try_get("ver")?,
        waiting_on_client: counts.try_get("woc")?,
        waiting_on_agency: counts.try_get("woa")?,
        verified_by_connector: counts.try_get("vbc")?,
    })
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgencyAccessKpi {
    pub from: i64,
    pub to: i64,
    /// Clients whose access became complete in the period.
    pub clients: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    /// The same counted in business time on the agency's calendar.
    pub business_median_ms: Option<i64>,
    pub business_p90_ms: Option<i64>,
    /// Clients with a signed contract still waiting for complete access.
    pub waiting_clients: i64,
    /// Requests first verified in the period, by a connector and by a member.
    pub verified_by_connector: i64,
    pub verified_by_member: i64,
}

/// The agency's time-to-verified-access over clients whose access became
/// complete in `[from, to)`.
pub async fn agency(db: &Db, agency_id: &str, from: i64, to: i64) -> Result<AgencyAccessKpi> {
    let rows = sqlx::query(
        "SELECT contract_signed_at, access_complete_at FROM clients WHERE agency_id = $1 \
         AND access_complete_at >= $2 AND access_complete_at < $3 AND contract_signed_at IS NOT NULL",
    )
    .bind(agency_id)
    .bind(from)
    .bind(to)
    .fetch_all(db.reader())
    .await?;
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut values = Vec::with_capacity(rows.len());
    let mut business = Vec::with_capacity(rows.len());
    for r in &rows {
        let signed: Option<i64> = r.try_get("contract_signed_at")?;
        let complete: Option<i64> = r.try_get("access_complete_at")?;
        if let (Some(v), Some(a), Some(b)) =
            (time_to_verified_access(signed, complete), signed, complete)
        {
            values.push(v);
            business.push(calendar.business_between(a, b));
        }
    }
    let waiting: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clients WHERE agency_id = $1 AND contract_signed_at IS NOT NULL \
         AND access_complete_at IS NULL AND lifecycle IN ('onboarding', 'active')",
    )
    .bind(agency_id)
    .fetch_one(db.reader())
    .await?;
    let by = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN verified_by_kind = 'connector' THEN 1 ELSE 0 END), 0) AS c, \
         COALESCE(SUM(CASE WHEN verified_by_kind = 'connector' THEN 0 ELSE 1 END), 0) AS m \
         FROM access_requests WHERE agency_id = $1 AND verified_at >= $2 AND verified_at < $3",
    )
    .bind(agency_id)
    .bind(from)
    .bind(to)
    .fetch_one(db.reader())
    .await?;
    Ok(AgencyAccessKpi {
        verified_by_connector: by.try_get("c")?,
        verified_by_member: by.try_get("m")?,
        from,
        to,
        clients: values.len(),
        median_ms: percentile(&values, 50.0),
        p90_ms: percentile(&values, 90.0),
        business_median_ms: percentile(&business, 50.0),
        business_p90_ms: percentile(&business, 90.0),
        waiting_clients: waiting,
    })
}
