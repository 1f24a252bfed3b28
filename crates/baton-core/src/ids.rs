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
