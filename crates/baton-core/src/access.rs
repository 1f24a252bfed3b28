//! Access requests: the states a platform access moves through, who may move
//! it, and the time-to-verified-access arithmetic.
//!
//! `requested → granted_by_client → verified`, or `failed` with a reason (the
//! request goes back to the client), or `revoked`. *Verified* means a member
//! (or, later, an automated connector that checked through the platform's API)
//! confirmed working access, not that a request went out. The mover is part of
//! every transition, so a connector can move requests later without a new
//! model.

use serde::{Deserialize, Serialize};

use crate::CoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessStatus {
    Requested,
    GrantedByClient,
    Verified,
    Failed,
    Revoked,
}

impl AccessStatus {
    pub const ALL: [AccessStatus; 5] = [
        AccessStatus::Requested,
        AccessStatus::GrantedByClient,
        AccessStatus::Verified,
        AccessStatus::Failed,
        AccessStatus::Revoked,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AccessStatus::Requested => "requested",
            AccessStatus::GrantedByClient => "granted_by_client",
            AccessStatus::Verified => "verified",
            AccessStatus::Failed => "failed",
            AccessStatus::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccessStatus::Requested => "Requested",
            AccessStatus::GrantedByClient => "Granted by client",
            AccessStatus::Verified => "Verified",
            AccessStatus::Failed => "Failed",
            AccessStatus::Revoked => "Revoked",
        }
    }

    pub fn parse(key: &str) -> Option<AccessStatus> {
        AccessStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Who the request is waiting on, if anyone.
    pub fn waiting_on(self) -> Option<WaitingOn> {
        match self {
            AccessStatus::Requested | AccessStatus::Failed => Some(WaitingOn::Client),
            AccessStatus::GrantedByClient => Some(WaitingOn::Agency),
            AccessStatus::Verified | AccessStatus::Revoked => None,
        }
    }

    /// Whether the agency may hold this access: verified, or granted by the
    /// client and not yet checked. Held access must be revoked (or waived)
    /// before a client can be archived.
    pub fn is_held(self) -> bool {
        matches!(self, AccessStatus::Verified | AccessStatus::GrantedByClient)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingOn {
    Client,
    Agency,
}

impl WaitingOn {
    pub fn key(self) -> &'static str {
        match self {
            WaitingOn::Client => "client",
            WaitingOn::Agency => "agency",
        }
    }

    pub fn parse(key: &str) -> Option<WaitingOn> {
        match key {
            "client" => Some(WaitingOn::Client),
            "agency" => Some(WaitingOn::Agency),
            _ => None,
        }
    }
}

/// Who moves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mover {
    /// The client's stakeholder, through the onboarding link.
    Client,
    /// A member of the agency (web app or API token).
    Member,
    /// An automated connector acting through the platform's API.
    Connector,
}

/// What is done to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    /// "I've granted access" (or a connector that granted it).
    Grant,
    /// A member confirmed working access.
    Verify,
    /// The access does not work; goes back to the client with a reason.
    Fail,
    /// The access was removed at the platform (or the request withdrawn).
    Revoke,
}

impl AccessAction {
    pub fn key(self) -> &'static str {
        match self {
            AccessAction::Grant => "grant",
            AccessAction::Verify => "verify",
            AccessAction::Fail => "fail",
            AccessAction::Revoke => "revoke",
        }
    }
}

/// The state after `action` by `mover`, or why it is not possible.
pub fn transition(
    from: AccessStatus,
    action: AccessAction,
    mover: Mover,
) -> Result<AccessStatus, CoreError> {
    use AccessAction as A;
    use AccessStatus as S;
    let allowed_mover = match action {
        // A member may record a grant the client reported another way.
        A::Grant => true,
        A::Verify | A::Fail | A::Revoke => mover != Mover::Client,
    };
    if !allowed_mover {
        return Err(CoreError::Conflict(format!(
            "only the agency can {} an access request",
            action.key()
        )));
    }
    let to =
        match (from, action) {
            (S::Requested | S::Failed, A::Grant) => S::GrantedByClient,
            (S::Requested | S::GrantedByClient | S::Failed, A::Verify) => S::Verified,
            (S::GrantedByClient | S::Verified, A::Fail) => S::Failed,
            (S::Requested | S::GrantedByClient | S::Verified | S::Failed, A::Revoke) => S::Revoked,
            (S::GrantedByClient, A::Grant) => {
                return Err(CoreError::Conflict(
                    "access is already marked as granted; the agency is checking it".into(),
                ))
            }
            (S::Verified, A::Grant | A::Verify) => {
                return Err(CoreError::Conflict("access is already verified".into()))
            }
            (S::Requested | S::Failed, A::Fail) => return Err(CoreError::Conflict(
                "only granted or verified access can fail; this request is waiting on the client"
                    .into(),
            )),
            (S::Revoked, _) => {
                return Err(CoreError::Conflict(
                    "the request is revoked; create a new request instead".into(),
                ))
            }
        };
    Ok(to)
}

/// What the KPI needs of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KpiRequest {
    pub required: bool,
    pub status: AccessStatus,
    /// When it was first verified.
    pub verified_at: Option<i64>,
}

/// When access was complete: the moment the last required request was
/// verified, or `None` while any required request is unverified (or none
/// exists). A request withdrawn before it was ever verified does not count.
pub fn access_complete_at(requests: &[KpiRequest]) -> Option<i64> {
    let mut last: Option<i64> = None;
    let mut any = false;
    for r in requests {
        if !r.required || (r.status == AccessStatus::Revoked && r.verified_at.is_none()) {
            continue;
        }
        any = true;
        let at = r.verified_at?;
        last = Some(last.map_or(at, |l| l.max(at)));
    }
    if any {
        last
    } else {
        None
    }
}

/// Time-to-verified-access in milliseconds: from the contract signature to
/// complete access. Never negative (access granted before the contract was
/// recorded counts as zero).
pub fn time_to_verified_access(
    contract_signed_at: Option<i64>,
    complete_at: Option<i64>,
) -> Option<i64> {
    Some((complete_at? - contract_signed_at?).max(0))
}

/// The `p`-th percentile (0 < p ≤ 100) of `values` by nearest rank, so the
/// answer is always one of the values. `None` for no values.
pub fn percentile(values: &[i64], p: f64) -> Option<i64> {
    if values.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccessAction as A;
    use AccessStatus as S;
    use Mover as M;

    #[test]
    fn transitions_table() {
        let ok = [
            (S::Requested, A::Grant, M::Client, S::GrantedByClient),
            (S::Failed, A::Grant, M::Client, S::GrantedByClient),
            (S::Requested, A::Grant, M::Connector, S::GrantedByClient),
            (S::Requested, A::Grant, M::Member, S::GrantedByClient),
            (S::GrantedByClient, A::Verify, M::Member, S::Verified),
            (S::Requested, A::Verify, M::Member, S::Verified),
            (S::Failed, A::Verify, M::Connector, S::Verified),
            (S::GrantedByClient, A::Fail, M::Member, S::Failed),
            (S::Verified, A::Fail, M::Member, S::Failed),
            (S::Verified, A::Revoke, M::Member, S::Revoked),
            (S::Requested, A::Revoke, M::Member, S::Revoked),
        ];
        for (from, action, mover, to) in ok {
            assert_eq!(
                transition(from, action, mover),
                Ok(to),
                "{from:?} {action:?} {mover:?}"
            );
        }
        let refused = [
            (S::GrantedByClient, A::Verify, M::Client),
            (S::Verified, A::Revoke, M::Client),
            (S::GrantedByClient, A::Fail, M::Client),
            (S::GrantedByClient, A::Grant, M::Client),
            (S::Verified, A::Grant, M::Client),
            (S::Verified, A::Verify, M::Member),
            (S::Requested, A::Fail, M::Member),
            (S::Revoked, A::Grant, M::Client),
            (S::Revoked, A::Verify, M::Member),
            (S::Revoked, A::Revoke, M::Member),
        ];
        for (from, action, mover) in refused {
            assert!(
                matches!(transition(from, action, mover), Err(CoreError::Conflict(_))),
                "{from:?} {action:?} {mover:?} must be refused"
            );
        }
    }

    #[test]
    fn waiting_and_held() {
        assert_eq!(S::Requested.waiting_on(), Some(WaitingOn::Client));
        assert_eq!(S::Failed.waiting_on(), Some(WaitingOn::Client));
        assert_eq!(S::GrantedByClient.waiting_on(), Some(WaitingOn::Agency));
        assert_eq!(S::Verified.waiting_on(), None);
        assert!(S::Verified.is_held() && S::GrantedByClient.is_held());
        assert!(!S::Requested.is_held() && !S::Revoked.is_held() && !S::Failed.is_held());
        for s in S::ALL {
            assert_eq!(S::parse(s.key()), Some(s));
        }
        assert_eq!(S::parse("done"), None);
    }

    fn req(required: bool, status: S, verified_at: Option<i64>) -> KpiRequest {
        KpiRequest {
            required,
            status,
            verified_at,
        }
    }

    #[test]
    fn completion_table() {
        let cases: Vec<(Vec<KpiRequest>, Option<i64>)> = vec![
            (vec![], None),
            (
                vec![
                    req(true, S::Verified, Some(10)),
                    req(true, S::Verified, Some(30)),
                ],
                Some(30),
            ),
            (
                vec![
                    req(true, S::Verified, Some(10)),
                    req(true, S::GrantedByClient, None),
                ],
                None,
            ),
            // optional requests do not hold the KPI back
            (
                vec![
                    req(true, S::Verified, Some(10)),
                    req(false, S::Requested, None),
                ],
                Some(10),
            ),
            // withdrawn before verification: not counted
            (
                vec![
                    req(true, S::Verified, Some(10)),
                    req(true, S::Revoked, None),
                ],
                Some(10),
            ),
            // verified then revoked at offboarding: still counted
            (
                vec![
                    req(true, S::Revoked, Some(50)),
                    req(true, S::Verified, Some(10)),
                ],
                Some(50),
            ),
            // verified once, failed later: first verification stands
            (vec![req(true, S::Failed, Some(20))], Some(20)),
            (vec![req(false, S::Verified, Some(10))], None),
            (vec![req(true, S::Revoked, None)], None),
        ];
        for (reqs, want) in cases {
            assert_eq!(access_complete_at(&reqs), want, "{reqs:?}");
        }
    }

    #[test]
    fn kpi_and_percentiles() {
        assert_eq!(
            time_to_verified_access(Some(1_000), Some(61_000)),
            Some(60_000)
        );
        assert_eq!(time_to_verified_access(Some(5_000), Some(1_000)), Some(0));
        assert_eq!(time_to_verified_access(None, Some(1_000)), None);
        assert_eq!(time_to_verified_access(Some(1_000), None), None);
        let v = [50, 10, 40, 20, 30];
        assert_eq!(percentile(&v, 50.0), Some(30));
        assert_eq!(percentile(&v, 90.0), Some(50));
        assert_eq!(percentile(&v, 20.0), Some(10));
        assert_eq!(percentile(&[7], 90.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&v, 0.0), None);
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 90.0), Some(90));
        assert_eq!(percentile(&hundred, 50.0), Some(50));
    }
}
