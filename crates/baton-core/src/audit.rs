//! The audit hash chain. Each agency's audit entries form a chain: an entry's
//! hash covers its own fields and the previous entry's hash, so altering or
//! removing any entry breaks every hash after it, and removing the newest is
//! caught by the head hash kept on the agency.

use sha2::{Digest, Sha256};

/// The hash of the (empty) chain before an agency's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an audit entry that its hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFields<'a> {
    pub agency_id: &'a str,
    pub seq: i64,
    pub recorded_at: i64,
    pub actor_kind: &'a str,
    pub actor_id: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub ip: &'a str,
    pub detail: &'a str,
}

/// The chain hash of an entry given the previous entry's hash.
/// Fields are length-prefixed so no two field lists hash alike.
pub fn chain_hash(prev_hash: &str, f: &AuditFields<'_>) -> String {
    let mut h = Sha256::new();
    let seq = f.seq.to_string();
    let at = f.recorded_at.to_string();
    for part in [
        prev_hash,
        f.agency_id,
        &seq,
        &at,
        f.actor_kind,
        f.actor_id,
        f.action,
        f.entity_type,
        f.entity_id,
        f.ip,
        f.detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    crate::secret::hex(&h.finalize())
}

/// One stored entry as read back for verification.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub agency_id: String,
    pub seq: i64,
    pub recorded_at: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub ip: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEntry {
    pub fn fields(&self) -> AuditFields<'_> {
        AuditFields {
            agency_id: &self.agency_id,
            seq: self.seq,
            recorded_at: self.recorded_at,
            actor_kind: &self.actor_kind,
            actor_id: &self.actor_id,
            action: &self.action,
            entity_type: &self.entity_type,
            entity_id: &self.entity_id,
            ip: &self.ip,
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
                    agency_id: "agy_1".into(),
                    seq,
                    recorded_at: 1000 + seq,
                    actor_kind: "member".into(),
                    actor_id: "mem_1".into(),
                    action: "client.created".into(),
                    entity_type: "client".into(),
                    entity_id: format!("cli_{seq}"),
                    ip: "127.0.0.1".into(),
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
