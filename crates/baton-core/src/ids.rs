//! Typed, prefixed, time-ordered ids: `cli_01JD…`. The prefix says what an id
//! names; the body is a ULID-style 26-character Crockford base32 string (48 bits
//! of milliseconds, 80 random bits), so ids sort roughly by creation time and
//! can serve as pagination cursors.

use rand::RngCore;

pub const AGENCY: &str = "agy";
pub const MEMBER: &str = "mem";
pub const CLIENT: &str = "cli";
pub const EVENT: &str = "evt";
pub const TOKEN: &str = "tok";
pub const INVITE: &str = "inv";
pub const JOB: &str = "job";
pub const LINK: &str = "lnk";
pub const ACCESS_REQUEST: &str = "acc";
pub const ACCESS_TEMPLATE: &str = "tpl";
pub const FILE: &str = "fil";
pub const SOP_RUN: &str = "run";
pub const NOTICE: &str = "ntc";
pub const CONTENT: &str = "cnt";
pub const COMMENT: &str = "cmt";
pub const DECISION: &str = "dec";
pub const APPROVAL_LINK: &str = "apl";
pub const INCIDENT: &str = "inc";
pub const INCIDENT_NOTE: &str = "inn";
pub const INCIDENT_ACTION: &str = "ina";
pub const MEASURABLE: &str = "msr";
pub const SCORECARD: &str = "scw";
pub const ACTION: &str = "act";
pub const CADENCE_OCCURRENCE: &str = "cdo";
pub const CADENCE_DECISION: &str = "cdd";
pub const ENDPOINT: &str = "whk";
pub const DELIVERY: &str = "dlv";
pub const INBOUND: &str = "inb";

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new id with `prefix`, for time `now_ms`.
pub fn new_id(prefix: &str, now_ms: i64) -> String {
    let mut random = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut random);
    let mut value: u128 = (now_ms.max(0) as u128 & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= (*b as u128) << (8 * (9 - i));
    }
    let mut body = [0u8; 26];
    for (i, slot) in body.iter_mut().enumerate() {
        let shift = 5 * (25 - i);
        *slot = ALPHABET[((value >> shift) & 0x1F) as usize];
    }
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    out.push_str(std::str::from_utf8(&body).expect("ascii"));
    out
}

/// An id that is the same every time for the same `seed`: the first 130
/// bits of its SHA-256, in the alphabet of [`new_id`]. For things Baton
/// computes rather than stores (a cadence's occurrence on a date), so the
/// id is stable before and after the row is written.
pub fn derived_id(prefix: &str, seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed.as_bytes());
    let mut value: u128 = 0;
    for b in &digest[..16] {
        value = (value << 8) | u128::from(*b);
    }
    let extra = u128::from(digest[16] >> 6);
    let mut body = [0u8; 26];
    for (i, slot) in body.iter_mut().enumerate() {
        // 26 digits × 5 bits = 130 bits: 128 from the first 16 bytes, the
        // last 2 from the 17th.
        let bits = if i < 25 {
            (value >> (123 - 5 * i)) & 0x1F
        } else {
            ((value & 0x7) << 2 | extra) & 0x1F
        };
        *slot = ALPHABET[bits as usize];
    }
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    out.push_str(std::str::from_utf8(&body).expect("ascii"));
    out
}

/// True when `id` looks like an id with `prefix` (cheap shape check used to
/// answer 404 early for garbage ids without a database round trip).
pub fn has_shape(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 27
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'_'
        && id[prefix.len() + 1..]
            .bytes()
            .all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_shape_and_order() {
        let a = new_id(CLIENT, 1_000);
        let b = new_id(CLIENT, 2_000);
        assert!(a.starts_with("cli_"));
        assert_eq!(a.len(), 30);
        assert!(has_shape(&a, CLIENT));
        assert!(!has_shape(&a, MEMBER));
        assert!(a < b, "later ids sort after earlier ones");
        assert_ne!(new_id(CLIENT, 1_000), new_id(CLIENT, 1_000));
    }

    #[test]
    fn derived_ids_are_stable_shaped_and_distinct() {
        let a = derived_id(CADENCE_OCCURRENCE, "agy_1|weekly|agency|2026-12-07");
        assert_eq!(
            a,
            derived_id(CADENCE_OCCURRENCE, "agy_1|weekly|agency|2026-12-07")
        );
        assert!(has_shape(&a, CADENCE_OCCURRENCE), "{a}");
        let b = derived_id(CADENCE_OCCURRENCE, "agy_1|weekly|agency|2026-12-14");
        assert_ne!(a, b);
        // All 130 bits vary: the last digit is not stuck.
        let last: std::collections::BTreeSet<char> = (0..64)
            .map(|i| derived_id("x", &i.to_string()).chars().last().unwrap())
            .collect();
        assert!(last.len() > 8, "{last:?}");
    }

    #[test]
    fn shape_rejects_garbage() {
        for bad in [
            "",
            "cli_",
            "cli_' OR 1=1 --",
            "cli_0000000000000000000000000I",
            "cliX00000000000000000000000000",
        ] {
            assert!(!has_shape(bad, CLIENT), "{bad}");
        }
    }
}
