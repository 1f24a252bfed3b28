//! Connector checks of access requests: which are due (claimed inside one
//! UPDATE, so several servers check each once), and what a check's outcome
//! does to a request.
//!
//! | request is | Verified | Missing | Pending | Error |
//! |---|---|---|---|---|
//! | granted, requested, failed | verified by the connector, with evidence | granted: failed, the platform's words go to the client; otherwise noted | noted, re-checked in 15 min | "could not check", retried |
//! | verified | evidence refreshed, re-checked after the interval | seen before by a connector: **lost** (failed, `access.lost`, account team told); never seen: noted | noted | "could not check", retried |
//! | revoked | noted: still listed | **revoke confirmed** | noted | "could not check", retried |
//!
//! An outage or an expired connection never changes a request's status.

use baton_core::access::{AccessStatus, Mover};
use baton_core::connectors::{backoff_ms, ConnectorPlatform, Evidence, Outcome};
use baton_core::events;
use serde_json::json;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::Result;
use crate::sop_runs::{send_notices, NoticeAbout, NoticeText};

use super::moves::{fail, finish, lock_open, verify, Move, Recorded};
use super::{get, reminder_schedule, AccessRequest};

/// How soon a check that found the access waiting on the client looks again.
const PENDING_RECHECK_MS: i64 = 15 * 60_000;

/// A request whose check is due, claimed for a while.
#[derive(Debug, Clone)]
pub struct DueCheck {
    pub agency_id: String,
    pub id: String,
}

/// Claims up to `limit` requests whose check is due: their `next_check_at`
/// moves `lease_ms` ahead in the same UPDATE, so another server (or the
/// next pass) does not take them while this one checks; a check that dies
/// half way is retried when the lease runs out. An archived client's
/// requests are closed and never claimed.
pub async fn claim_due_checks(
    db: &Db,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<DueCheck>> {
    let rows = sqlx::query(
        "UPDATE access_requests SET next_check_at = $2 WHERE id IN \
         (SELECT r.id FROM access_requests r WHERE r.next_check_at <= $1 AND NOT EXISTS \
          (SELECT 1 FROM clients c WHERE c.id = r.client_id AND c.lifecycle = 'archived') \
          ORDER BY r.next_check_at LIMIT $3) \
         AND next_check_at <= $1 RETURNING agency_id, id",
    )
    .bind(now)
    .bind(now + lease_ms)
    .bind(limit)
    .fetch_all(&db.writer)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DueCheck {
                agency_id: r.try_get("agency_id")?,
                id: r.try_get("id")?,
            })
        })
        .collect()
}

/// A check's outcome, with what made it.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub platform: ConnectorPlatform,
    pub connection_id: String,
    /// The account the connection acts as.
    pub account: Option<String>,
    pub outcome: Outcome,
    /// When access the platform listed is checked again.
    pub recheck_ms: i64,
    /// Whether notices also go out by email (SMTP is configured).
    pub email: bool,
}

/// What one outcome does to a request in its state (the table above).
#[derive(Debug, Clone, PartialEq)]
enum Effect {
    /// The connector verifies it.
    Verify(Evidence),
    /// Granted access the platform does not list: back to the client.
    Fail(String),
    /// Held access the connector had seen is gone.
    Lost(String),
    /// Revoked access is gone from the platform.
    RevokeConfirmed(String),
    /// Only the check's state, detail and next time change.
    Note {
        state: &'static str,
        detail: String,
        evidence: Option<Evidence>,
        next_in: Option<i64>,
        failed: bool,
    },
}

fn effect(r: &AccessRequest, outcome: &Outcome, recheck_ms: i64) -> Effect {
    use AccessStatus as S;
    let retry =
        |after: Option<i64>| Some(after.unwrap_or_else(|| backoff_ms(r.check_failures + 1)));
    match (r.status, outcome) {
        (
            _,
            Outcome::Error {
                detail,
                retry_after_ms,
            },
        ) => Effect::Note {
            state: "could_not_check",
            detail: detail.clone(),
            evidence: None,
            next_in: retry(*retry_after_ms),
            failed: true,
        },
        (S::Revoked, Outcome::Missing { detail }) => Effect::RevokeConfirmed(detail.clone()),
        (S::Revoked, Outcome::Verified(e)) => Effect::Note {
            state: "verified",
            detail: format!(
                "the platform still lists {} with {}: remove it there",
                e.asset_name.as_deref().unwrap_or(&e.asset),
                e.role
            ),
            evidence: Some(e.clone()),
            next_in: None,
            failed: false,
        },
        (S::Revoked, Outcome::Pending { detail }) => Effect::Note {
            state: "pending",
            detail: detail.clone(),
            evidence: None,
            next_in: None,
            failed: false,
        },
        (S::Verified, Outcome::Verified(e)) => Effect::Note {
            state: "verified",
            detail: format!(
                "{} on {}",
                e.role,
                e.asset_name.as_deref().unwrap_or(&e.asset)
            ),
            evidence: Some(e.clone()),
            next_in: Some(recheck_ms),
            failed: false,
        },
        (S::Verified, Outcome::Missing { detail }) if r.evidence.is_some() => {
            Effect::Lost(detail.clone())
        }
        (S::Verified, Outcome::Missing { detail }) => Effect::Note {
            state: "missing",
            detail: format!("verified by hand; the connection does not see it ({detail})"),
            evidence: None,
            next_in: Some(recheck_ms),
            failed: false,
        },
        (S::Verified, Outcome::Pending { detail }) => Effect::Note {
            state: "pending",
            detail: detail.clone(),
            evidence: None,
            next_in: Some(PENDING_RECHECK_MS),
            failed: false,
        },
        (_, Outcome::Verified(e)) => Effect::Verify(e.clone()),
        (S::GrantedByClient, Outcome::Missing { detail }) => Effect::Fail(detail.clone()),
        (_, Outcome::Missing { detail }) => Effect::Note {
            state: "missing",
            detail: detail.clone(),
            evidence: None,
            next_in: None,
            failed: false,
        },
        (s, Outcome::Pending { detail }) => Effect::Note {
            state: "pending",
            detail: detail.clone(),
            evidence: None,
            next_in: (s == S::GrantedByClient).then_some(PENDING_RECHECK_MS),
            failed: false,
        },
    }
}

/// Applies a check's outcome to request `id` (see the module's table).
/// Status changes are audited writes by the connection; the rest is the
/// check's bookkeeping. Returns the request as it is now.
pub async fn apply_check(cx: Cx<'_>, id: &str, result: CheckResult) -> Result<AccessRequest> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let before = get(db, agency_id, id).await?;
    let effect_now = effect(&before, &result.outcome, result.recheck_ms);
    if let Effect::Note {
        state,
        detail,
        evidence,
        next_in,
        failed,
    } = effect_now
    {
        note(
            db,
            agency_id,
            &before,
            state,
            &detail,
            evidence.as_ref(),
            next_in.map(|n| now + n),
            failed,
            now,
        )
        .await?;
        return get(db, agency_id, id).await;
    }
    let reminders = if matches!(effect_now, Effect::Fail(_) | Effect::Lost(_)) {
        reminder_schedule(db, agency_id).await?
    } else {
        (None, 0)
    };
    let mut tx = cx.begin().await?;
    let (current, lifecycle) = lock_open(&mut tx, agency_id, id).await?;
    // Decided again on the locked row: it may have moved since.
    let effect_locked = effect(&current, &result.outcome, result.recheck_ms);
    if effect_locked != effect_now {
        // It moved while the platform was asked: this answer is about a
        // request that is gone; the next check (after the claim's lease)
        // decides on the request as it is.
        drop(tx);
        return get(db, agency_id, id).await;
    }
    let label = result.platform.label();
    let text = match &effect_locked {
        Effect::Verify(e) => format!(
            "Checked through {label}: {} on {}",
            e.role,
            e.asset_name.as_deref().unwrap_or(&e.asset)
        ),
        Effect::Fail(detail) => {
            format!("Baton checked {label} and did not find this access yet: {detail}")
        }
        Effect::Lost(detail) => format!("{label} no longer lists this access: {detail}"),
        Effect::RevokeConfirmed(detail) => detail.clone(),
        Effect::Note { .. } => unreachable!("handled above"),
    };
    let who = result
        .account
        .clone()
        .map(|a| format!("{label} connector ({a})"))
        .unwrap_or_else(|| format!("{label} connector"));
    let mut m = Move {
        tx: &mut tx,
        agency_id,
        id,
        now,
        who,
        current: &current,
        lifecycle,
        text: Some(&text),
    };
    let by = json!({"kind": "connector", "platform": result.platform.key(),
                    "connection_id": result.connection_id, "account": result.account});
    let (event_type, mut detail): Recorded = match &effect_locked {
        Effect::Verify(e) => {
            let rec = verify(&mut m, Mover::Connector).await?;
            sqlx::query(
                "UPDATE access_requests SET verified_connection_id = $3, evidence = $4, check_state = 'verified', \
                 check_detail = $5, checked_at = $6, next_check_at = $7, check_failures = 0, connector = $8 \
                 WHERE agency_id = $1 AND id = $2",
            )
            .bind(agency_id)
            .bind(id)
            .bind(&result.connection_id)
            .bind(serde_json::to_string(e).unwrap_or_default())
            .bind(&text)
            .bind(now)
            .bind(now + result.recheck_ms)
            .bind(result.platform.key())
            .execute(m.tx.conn())
            .await?;
            (
                rec.0,
                merge(rec.1, json!({"verified_by": by, "evidence": e})),
            )
        }
        Effect::Fail(detail) => {
            let rec = fail(&mut m, Mover::Connector, reminders).await?;
            set_check(&mut m, "missing", detail, now).await?;
            (
                rec.0,
                merge(rec.1, json!({"checked_by": by, "platform_says": detail})),
            )
        }
        Effect::Lost(detail) => {
            let rec = fail(&mut m, Mover::Connector, reminders).await?;
            set_check(&mut m, "missing", detail, now).await?;
            sqlx::query("UPDATE access_requests SET lost_at = $3 WHERE agency_id = $1 AND id = $2")
                .bind(agency_id)
                .bind(id)
                .bind(now)
                .execute(m.tx.conn())
                .await?;
            notify_team(&mut m, &current, &result, detail).await?;
            (
                events::ACCESS_LOST,
                merge(
                    rec.1,
                    json!({"checked_by": by, "platform_says": detail,
                                    "evidence_before": current.evidence}),
                ),
            )
        }
        Effect::RevokeConfirmed(detail) => {
            set_check(&mut m, "missing", detail, now).await?;
            sqlx::query(
                "UPDATE access_requests SET revoke_confirmed_at = $3, next_check_at = NULL \
                 WHERE agency_id = $1 AND id = $2",
            )
            .bind(agency_id)
            .bind(id)
            .bind(now)
            .execute(m.tx.conn())
            .await?;
            (
                events::ACCESS_REVOKE_CONFIRMED,
                json!({"checked_by": by, "platform_says": detail}),
            )
        }
        Effect::Note { .. } => unreachable!("handled above"),
    };
    if let Some(d) = detail.as_object_mut() {
        d.insert("connector".into(), json!(result.platform.key()));
    }
    finish(tx, agency_id, id, &current, event_type, detail).await?;
    get(db, agency_id, id).await
}

fn merge(mut a: serde_json::Value, b: serde_json::Value) -> serde_json::Value {
    if let (Some(a), Some(b)) = (a.as_object_mut(), b.as_object()) {
        for (k, v) in b {
            a.insert(k.clone(), v.clone());
        }
    }
    a
}

async fn set_check(m: &mut Move<'_>, state: &str, detail: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE access_requests SET check_state = $3, check_detail = $4, checked_at = $5, check_failures = 0 \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(state)
    .bind(detail)
    .bind(now)
    .execute(m.tx.conn())
    .await?;
    Ok(())
}

/// The check's bookkeeping when the status does not change, guarded by the
/// status it was decided on.
#[allow(clippy::too_many_arguments)]
async fn note(
    db: &Db,
    agency_id: &str,
    r: &AccessRequest,
    state: &str,
    detail: &str,
    evidence: Option<&Evidence>,
    next_at: Option<i64>,
    failed: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE access_requests SET check_state = $4, check_detail = $5, checked_at = $6, next_check_at = $7, \
         check_failures = CASE WHEN $8 = 1 THEN check_failures + 1 ELSE 0 END, \
         evidence = COALESCE($9, evidence) WHERE agency_id = $1 AND id = $2 AND status = $3",
    )
    .bind(agency_id)
    .bind(r.id.as_str())
    .bind(r.status.key())
    .bind(state)
    .bind(detail)
    .bind(now)
    .bind(next_at)
    .bind(i64::from(failed))
    .bind(evidence.map(|e| serde_json::to_string(e).unwrap_or_default()))
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Tells the client's account team (or the admins, with no team) that held
/// access was lost.
async fn notify_team(
    m: &mut Move<'_>,
    r: &AccessRequest,
    result: &CheckResult,
    detail: &str,
) -> Result<()> {
    let mut to: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT t.member_id FROM client_team t JOIN members mm ON mm.id = t.member_id \
         WHERE t.agency_id = $1 AND t.client_id = $2 AND mm.active = 1 ORDER BY t.member_id",
    )
    .bind(m.agency_id)
    .bind(&r.client_id)
    .fetch_all(m.tx.conn())
    .await?;
    if to.is_empty() {
        to = crate::sop_runs::admins(m.tx.conn(), m.agency_id).await?;
    }
    let row = sqlx::query(
        "SELECT c.name AS client_name, a.name AS agency_name FROM clients c JOIN agencies a ON a.id = c.agency_id \
         WHERE c.agency_id = $1 AND c.id = $2",
    )
    .bind(m.agency_id)
    .bind(&r.client_id)
    .fetch_one(m.tx.conn())
    .await?;
    let client_name: String = row.try_get("client_name")?;
    let agency_name: String = row.try_get("agency_name")?;
    let what = r.asset.as_deref().unwrap_or(&r.platform);
    let title = format!(
        "{client_name}: {} access lost ({what})",
        result.platform.label()
    );
    let body = format!(
        "The daily check through {} no longer finds this access: {detail}. The request is back \
         with the client on their onboarding link; ask them to grant it again.",
        result.platform.label()
    );
    send_notices(
        m.tx,
        &to,
        NoticeAbout {
            client_id: Some(&r.client_id),
            ..NoticeAbout::default()
        },
        NoticeText {
            kind: events::ACCESS_LOST,
            title: &title,
            body: &body,
        },
        &agency_name,
        result.email,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::types::AccessRequestId;

    fn request(status: AccessStatus, evidence: Option<Evidence>) -> AccessRequest {
        AccessRequest {
            id: AccessRequestId::new(1),
            client_id: "cli_1".into(),
            link_id: None,
            platform: "ga4".into(),
            permission: "editor".into(),
            asset: Some("123456".into()),
            required: true,
            position: 0,
            status,
            status_at: 0,
            created_at: 0,
            granted_at: None,
            granted_by: None,
            verified_at: None,
            verified_by: None,
            verify_note: None,
            failed_reason: None,
            stuck_at: None,
            stuck_message: None,
            revoked_at: None,
            revoked_by: None,
            revoke_note: None,
            waived_at: None,
            waived_by: None,
            waive_reason: None,
            connector: None,
            verified_by_kind: None,
            verified_connection_id: None,
            evidence,
            check_state: None,
            check_detail: None,
            checked_at: None,
            next_check_at: None,
            check_failures: 0,
            lost_at: None,
            revoke_confirmed_at: None,
        }
    }

    #[test]
    fn outcomes_by_request_state() {
        use AccessStatus as S;
        let ev = Evidence {
            role: "EDITOR".into(),
            asset: "properties/123456".into(),
            asset_name: None,
        };
        let found = Outcome::Verified(ev.clone());
        let missing = Outcome::Missing {
            detail: "not listed".into(),
        };
        let pending = Outcome::Pending {
            detail: "invitation sent".into(),
        };
        let down = Outcome::Error {
            detail: "503".into(),
            retry_after_ms: Some(30_000),
        };
        let kind = |e: Effect| match e {
            Effect::Verify(_) => "verify".to_string(),
            Effect::Fail(_) => "fail".into(),
            Effect::Lost(_) => "lost".into(),
            Effect::RevokeConfirmed(_) => "revoke_confirmed".into(),
            Effect::Note { state, next_in, .. } => format!("note:{state}:{next_in:?}"),
        };
        let day = 86_400_000;
        let cases = [
            (S::GrantedByClient, None, &found, "verify"),
            (S::Requested, None, &found, "verify"),
            (S::Failed, None, &found, "verify"),
            (S::GrantedByClient, None, &missing, "fail"),
            (S::Requested, None, &missing, "note:missing:None"),
            (
                S::GrantedByClient,
                None,
                &pending,
                "note:pending:Some(900000)",
            ),
            (S::Requested, None, &pending, "note:pending:None"),
            (
                S::GrantedByClient,
                None,
                &down,
                "note:could_not_check:Some(30000)",
            ),
            (
                S::Verified,
                Some(ev.clone()),
                &found,
                "note:verified:Some(86400000)",
            ),
            (S::Verified, Some(ev.clone()), &missing, "lost"),
            (S::Verified, None, &missing, "note:missing:Some(86400000)"),
            (
                S::Verified,
                Some(ev.clone()),
                &down,
                "note:could_not_check:Some(30000)",
            ),
            (S::Revoked, Some(ev.clone()), &missing, "revoke_confirmed"),
            (S::Revoked, None, &found, "note:verified:None"),
            (S::Revoked, None, &down, "note:could_not_check:Some(30000)"),
        ];
        for (status, evidence, outcome, want) in cases {
            let r = request(status, evidence);
            assert_eq!(
                kind(effect(&r, outcome, day)),
                want,
                "{status:?} {outcome:?}"
            );
        }
    }
}
