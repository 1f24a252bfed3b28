//! Verifying an agency's custom domain before Baton routes it: the TXT
//! records of `_baton-challenge.{domain}` must hold the challenge Baton gave
//! when the domain was set. Checked on demand (the settings page's "Check
//! now", `POST /api/v1/agency/custom-domain/verify`) and by a background
//! loop that looks at every pending domain each 10 minutes for 7 days. A
//! check that finds the challenge verifies the domain through the one write
//! path (`agency.custom_domain_verified` and its audit entry); one that does
//! not records when it looked and what it found.
//!
//! [`evaluate`] is the pure part (what a lookup's answer means);
//! [`lookup_txt`] asks DNS, through `BATON_DNS_SERVER` or the system's
//! resolver configuration.

use std::net::SocketAddr;
use std::time::Duration;

use baton_core::custom_domain::{self, CHECK_EVERY_MS};
use baton_core::types::AgencyId;
use baton_store::agencies::{self, Agency, DueDomainCheck};
use baton_store::{Actor, Cx, StoreError};
use tokio::sync::watch;

use crate::state::AppState;

/// What a TXT lookup answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The name's TXT records, each one's strings joined.
    Values(Vec<String>),
    /// The name exists but has no TXT record.
    NoRecords,
    /// No such name in DNS (NXDOMAIN).
    NoSuchName,
    /// The lookup itself failed (timeout, refused, …), in words.
    Failed(String),
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub verified: bool,
    /// What was found, in words, for people: "no TXT record", "TXT records
    /// \"v=spf1 -all\"", …
    pub found: String,
}

/// How many TXT values a description lists, and how much of each.
const SHOWN_VALUES: usize = 5;
const SHOWN_CHARS: usize = 100;

/// What the answer `found` means for `challenge`. Pure.
pub fn evaluate(challenge: &str, found: &Found) -> Evaluation {
    match found {
        Found::Values(values) => {
            let verified = custom_domain::challenge_found(challenge, values);
            let mut shown: Vec<String> = values
                .iter()
                .take(SHOWN_VALUES)
                .map(|v| {
                    let cut: String = v.chars().take(SHOWN_CHARS).collect();
                    if cut.len() < v.len() {
                        format!("\"{cut}…\"")
                    } else {
                        format!("\"{cut}\"")
                    }
                })
                .collect();
            if values.len() > SHOWN_VALUES {
                shown.push(format!("and {} more", values.len() - SHOWN_VALUES));
            }
            let list = shown.join(", ");
            let found = if verified {
                format!("the expected value (TXT: {list})")
            } else if values.len() == 1 {
                format!("one TXT record, {list}, which is not the expected value")
            } else {
                format!(
                    "{} TXT records, {list}, none of them the expected value",
                    values.len()
                )
            };
            Evaluation { verified, found }
        }
        Found::NoRecords => Evaluation {
            verified: false,
            found: "no TXT record".into(),
        },
        Found::NoSuchName => Evaluation {
            verified: false,
            found: "no such name in DNS".into(),
        },
        Found::Failed(why) => Evaluation {
            verified: false,
            found: format!("no answer: the DNS lookup failed ({why})"),
        },
    }
}

/// How long one lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Looks up the TXT records of `name`, asking `server` (or the nameservers
/// of the system's configuration). Nothing is cached: a record added a
/// moment ago is seen as soon as the nameserver has it.
pub async fn lookup_txt(server: Option<SocketAddr>, name: &str) -> Found {
    use hickory_resolver::Name;

    // Fully qualified: never tried under the system's search domains.
    let Ok(fqdn) = Name::from_ascii(format!("{}.", name.trim_end_matches('.'))) else {
        return Found::Failed(format!("{name} is not a DNS name"));
    };
    let resolver = match resolver(server) {
        Ok(r) => r,
        Err(e) => return Found::Failed(e),
    };
    let lookup = tokio::time::timeout(LOOKUP_TIMEOUT * 3, resolver.txt_lookup(fqdn)).await;
    match lookup {
        Err(_) => Found::Failed("timed out".into()),
        Ok(Ok(txt)) => Found::Values(
            txt.iter()
                .map(|r| {
                    r.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>()
                })
                .collect(),
        ),
        Ok(Err(e)) if e.is_nx_domain() => Found::NoSuchName,
        Ok(Err(e)) if e.is_no_records_found() => Found::NoRecords,
        Ok(Err(e)) => Found::Failed(e.to_string()),
    }
}

/// A resolver that asks `server` (or the nameservers of the system's
/// configuration) and caches nothing: a record changed a moment ago is seen
/// as soon as the nameserver has it. Custom-domain checks and the webhook
/// sender's address checks both use it.
pub fn resolver(server: Option<SocketAddr>) -> Result<hickory_resolver::TokioResolver, String> {
    use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
    use hickory_resolver::name_server::TokioConnectionProvider;
    use hickory_resolver::proto::xfer::Protocol;
    use hickory_resolver::TokioResolver;

    let mut builder = match server {
        Some(addr) => {
            let config = ResolverConfig::from_parts(
                None,
                vec![],
                vec![
                    NameServerConfig::new(addr, Protocol::Udp),
                    NameServerConfig::new(addr, Protocol::Tcp),
                ],
            );
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
                .with_options(ResolverOpts::default())
        }
        None => TokioResolver::builder_tokio()
            .map_err(|e| format!("the system's DNS configuration is unusable: {e}"))?,
    };
    let opts = builder.options_mut();
    opts.cache_size = 0;
    opts.timeout = LOOKUP_TIMEOUT;
    opts.attempts = 1;
    // One nameserver at a time: UDP first, TCP only if that fails.
    opts.num_concurrent_reqs = 1;
    Ok(builder.build())
}

/// What a check of the agency's domain came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// No custom domain is set.
    NoDomain,
    /// Verified earlier; nothing was looked up.
    AlreadyVerified(Agency),
    /// This check found the challenge and verified the domain.
    Verified(Agency),
    /// Still pending: the record looked up, the value expected, and what
    /// was found instead.
    NotYet {
        record: String,
        expected: String,
        found: String,
    },
    /// The domain changed (or was verified by a concurrent check) while it
    /// was being looked up; its current state.
    Changed(Agency),
}

/// Checks the agency's pending domain now (a member asked).
pub async fn check_now(
    state: &AppState,
    agency_id: &str,
    actor: &Actor,
) -> Result<Outcome, StoreError> {
    let agency = agencies::get(&state.db, agency_id).await?;
    if agency.custom_domain.is_some() {
        return Ok(Outcome::AlreadyVerified(agency));
    }
    let (Some(domain), Some(challenge)) = (agency.domain.pending, agency.domain.challenge) else {
        return Ok(Outcome::NoDomain);
    };
    check(state, &agency.id, &domain, &challenge, actor).await
}

async fn check(
    state: &AppState,
    agency_id: &AgencyId,
    domain: &str,
    challenge: &str,
    actor: &Actor,
) -> Result<Outcome, StoreError> {
    let record = custom_domain::record_name(domain);
    let found = lookup_txt(state.config.dns_server, &record).await;
    let result = evaluate(challenge, &found);
    let now = state.now();
    if result.verified {
        let done = agencies::verify_custom_domain(
            Cx::new(&state.db, agency_id, actor, now),
            challenge,
            &result.found,
        )
        .await?;
        let agency = agencies::get(&state.db, agency_id).await?;
        if done {
            tracing::info!(agency = %agency_id, domain = %domain, "custom domain verified");
            return Ok(Outcome::Verified(agency));
        }
        return Ok(Outcome::Changed(agency));
    }
    agencies::record_domain_check(&state.db, agency_id, challenge, now, &result.found).await?;
    Ok(Outcome::NotYet {
        record,
        expected: challenge.to_string(),
        found: result.found,
    })
}

/// How many pending domains one pass looks at, at most.
const BATCH: i64 = 50;

/// One pass of the background checks: every pending domain whose check is
/// due and that this server claims is looked up once. Returns how many were
/// verified. Several servers may run it at once: each due check is claimed
/// by exactly one.
pub async fn run_once(state: &AppState) -> Result<usize, StoreError> {
    let now = state.now();
    let due = agencies::due_domain_checks(&state.db, now, BATCH).await?;
    let actor = Actor::system("custom domain check");
    let mut verified = 0;
    for d in due {
        if !agencies::claim_domain_check(&state.db, &d, now).await? {
            continue;
        }
        match check(state, &d.agency_id, &d.domain, &d.challenge, &actor).await {
            Ok(Outcome::Verified(_)) => verified += 1,
            Ok(_) => {}
            Err(e) => log_failure(&d, &e),
        }
    }
    Ok(verified)
}

fn log_failure(d: &DueDomainCheck, e: &StoreError) {
    tracing::warn!(agency = %d.agency_id, domain = %d.domain, error = %e, "custom domain check failed");
}

/// How often the loop looks for due checks (each domain is checked every
/// [`CHECK_EVERY_MS`]).
const LOOP_EVERY: Duration = Duration::from_secs(30);

/// Runs the background checks until `shutdown` turns true.
pub async fn check_loop(state: AppState, mut shutdown: watch::Receiver<bool>) {
    debug_assert!(LOOP_EVERY.as_millis() < CHECK_EVERY_MS as u128);
    loop {
        if let Err(e) = run_once(&state).await {
            tracing::warn!(error = %e, "custom domain check pass failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOP_EVERY) => {}
            _ = shutdown.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "baton-verify=abc";

    #[test]
    fn the_challenge_verifies() {
        let e = evaluate(C, &Found::Values(vec!["v=spf1 -all".into(), C.into()]));
        assert!(e.verified);
        assert!(e.found.contains("expected value"), "{}", e.found);
    }

    #[test]
    fn anything_else_says_what_was_found() {
        let e = evaluate(C, &Found::Values(vec!["baton-verify=old".into()]));
        assert!(!e.verified);
        assert_eq!(
            e.found,
            "one TXT record, \"baton-verify=old\", which is not the expected value"
        );
        let e = evaluate(C, &Found::Values(vec!["a".into(), "b".into()]));
        assert_eq!(
            e.found,
            "2 TXT records, \"a\", \"b\", none of them the expected value"
        );
        assert_eq!(evaluate(C, &Found::NoRecords).found, "no TXT record");
        assert_eq!(evaluate(C, &Found::NoSuchName).found, "no such name in DNS");
        let e = evaluate(C, &Found::Failed("timed out".into()));
        assert!(!e.verified);
        assert_eq!(e.found, "no answer: the DNS lookup failed (timed out)");
    }

    #[test]
    fn long_answers_are_cut() {
        let many: Vec<String> = (0..8).map(|i| format!("{i}{}", "x".repeat(300))).collect();
        let e = evaluate(C, &Found::Values(many));
        assert!(!e.verified);
        assert!(e.found.contains("and 3 more"), "{}", e.found);
        assert!(e.found.len() < 700, "{}", e.found.len());
    }
}
