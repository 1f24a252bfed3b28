//! The audit hash chain. Each agency's audit entries form a chain: an entry's
//! hash covers its own fields and the previous entry's hash, so altering or
//! removing any entry breaks every hash after it, and removing the newest is
//! caught by the head hash kept on the agency.

use sha2::{Digest, Sha256};

/// How entries are hashed now: version 2 covers every stored column
/// (version 1, before it, left out `actor_label` and `user_agent`; entries
/// written then keep their version and verify as they were written).
pub const HASH_VERSION: i64 = 2;

/// The hash of the (empty) chain before an agency's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an audit entry that its hash covers: every stored column
/// but the hashes themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFields<'a> {
    /// [`HASH_VERSION`] for new entries.
    pub hash_version: i64,
    pub agency_id: &'a str,
    pub seq: i64,
    pub recorded_at: i64,
    pub actor_kind: &'a str,
    pub actor_id: &'a str,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub detail: &'a str,
}

/// The chain hash of an entry given the previous entry's hash, as its
/// `hash_version` defines it. Fields are length-prefixed so no two field
/// lists hash alike; version 2 starts with its version, so no entry can be
/// passed off as another version's.
pub fn chain_hash(prev_hash: &str, f: &AuditFields<'_>) -> String {
    let mut h = Sha256::new();
    let seq = f.seq.to_string();
    let at = f.recorded_at.to_string();
    // Version 1 left out the marker, the label and the user agent.
    let v2 = f.hash_version >= 2;
    for part in [
        v2.then_some("baton-audit-v2"),
        Some(prev_hash),
        Some(f.agency_id),
        Some(&seq),
        Some(&at),
        Some(f.actor_kind),
        Some(f.actor_id),
        v2.then_some(f.actor_label),
        Some(f.action),
        Some(f.entity_type),
        Some(f.entity_id),
        Some(f.ip),
        v2.then_some(f.user_agent),
        Some(f.detail),
    ]
    .into_iter()
    .flatten()
    {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    crate::secret::hex(&h.finalize())
}

/// One stored entry as read back for verification.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub hash_version: i64,
    pub agency_id: String,
    pub seq: i64,
    pub recorded_at: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEntry {
    pub fn fields(&self) -> AuditFields<'_> {
        AuditFields {
            hash_version: self.hash_version,
            agency_id: &self.agency_id,
            seq: self.seq,
            recorded_at: self.recorded_at,
            actor_kind: &self.actor_kind,
            actor_id: &self.actor_id,
            actor_label: &self.actor_label,
            action: &self.action,
            entity_type: &self.entity_type,
            entity_id: &self.entity_id,
            ip: &self.ip,
            user_agent: &self.user_agent,
            detail: &self.detail,
        }
    }
}

/// Verifies one agency's chain, in seq order, against its recorded head.
/// Returns the first problem found, naming the entry.
pub fn verify_chain(entries: &[StoredEntry], head_seq: i64, head_hash: &str) -> Result<(), String> {
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let want_seq = i as i64 + 1;
        if e.seq != want_seq {
            return Err(format!(
                "entry #{want_seq} is missing (next entry found is #{})",
                e.seq
            ));
        }
        if e.prev_hash != prev {
            return Err(format!(
                "entry #{} does not follow entry #{} (previous hash differs)",
                e.seq,
                e.seq - 1
            ));
        }
        let computed = chain_hash(&prev, &e.fields());
        if computed != e.hash {
            return Err(format!(
                "entry #{} ({} on {} {}) was altered: its content does not match its hash",
                e.seq, e.action, e.entity_type, e.entity_id
            ));
        }
        prev = computed;
    }
    let last = entries.len() as i64;
    if last != head_seq || prev != head_hash {
        return Err(format!(
            "the chain ends at entry #{last} but the agency recorded {head_seq} entries: entry #{} was removed",
            last + 1
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = StoredEntry {
                    // A chain started before version 2 and continued after.
                    hash_version: if seq <= 2 { 1 } else { HASH_VERSION },
                    agency_id: "agy_1".into(),
                    seq,
                    recorded_at: 1000 + seq,
                    actor_kind: "member".into(),
                    actor_id: "mem_1".into(),
                    actor_label: "Jo".into(),
                    action: "client.created".into(),
                    entity_type: "client".into(),
                    entity_id: format!("cli_{seq}"),
                    ip: "127.0.0.1".into(),
                    user_agent: "Firefox".into(),
                    detail: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = chain_hash(&prev, &e.fields());
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let head = c.last().unwrap().hash.clone();
        assert_eq!(verify_chain(&c, 5, &head), Ok(()));
        assert_eq!(verify_chain(&[], 0, GENESIS), Ok(()));
    }

    #[test]
    fn tampering_is_named() {
        let c = chain(5);
        let head = c.last().unwrap().hash.clone();

        let mut altered = c.clone();
        altered[2].entity_id = "cli_other".into();
        let err = verify_chain(&altered, 5, &head).unwrap_err();
        assert!(err.starts_with("entry #3 "), "{err}");

        // Every stored column counts in version 2.
        for alter in [
            |e: &mut StoredEntry| e.actor_label = "Someone else".into(),
            |e: &mut StoredEntry| e.user_agent = "curl".into(),
            |e: &mut StoredEntry| e.ip = "10.0.0.1".into(),
            // Passing a version-2 entry off as version 1 changes its hash.
            |e: &mut StoredEntry| e.hash_version = 1,
        ] {
            let mut altered = c.clone();
            alter(&mut altered[3]);
            let err = verify_chain(&altered, 5, &head).unwrap_err();
            assert!(err.starts_with("entry #4 "), "{err}");
        }
        // Version 1 entries verify as they were written (without the label).
        let mut old = c.clone();
        old[0].actor_label = "Edited before v2".into();
        assert_eq!(verify_chain(&old, 5, &head), Ok(()));

        let mut removed = c.clone();
        removed.remove(1);
        let err = verify_chain(&removed, 5, &head).unwrap_err();
        assert!(err.contains("entry #2 is missing"), "{err}");

        let mut tail = c.clone();
        tail.pop();
        let err = verify_chain(&tail, 5, &head).unwrap_err();
        assert!(err.contains("entry #5 was removed"), "{err}");

        let mut rehashed = c.clone();
        rehashed[1].detail = "{\"x\":1}".into();
        rehashed[1].hash = chain_hash(&rehashed[1].prev_hash.clone(), &rehashed[1].fields());
        let err = verify_chain(&rehashed, 5, &head).unwrap_err();
        assert!(err.starts_with("entry #3 does not follow"), "{err}");
    }

    #[test]
    fn field_boundaries_matter() {
        let mut a = chain(1).remove(0);
        let h1 = chain_hash(GENESIS, &a.fields());
        a.action = "client.create".into();
        a.entity_type = "dclient".into();
        assert_ne!(h1, chain_hash(GENESIS, &a.fields()));
    }
}
