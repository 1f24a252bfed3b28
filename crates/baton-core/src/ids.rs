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
pub const CONNECTION: &str = "con";

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The last random part given out for each recent time, so ids made for one
/// millisecond by this process sort in the order they were made (as ULID's
/// monotonic mode does), even when ids for other times come in between:
/// two comments posted in the same millisecond list in the order they were
/// posted. Only the [`RECENT_TIMES`] times used last are remembered.
static LAST: std::sync::Mutex<std::collections::VecDeque<(u128, u128)>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());
const RECENT_TIMES: usize = 256;

/// The 80-bit random part after `last` (the previous one of the same time,
/// if any): one more, or `fresh` when there is none or no room to grow.
fn next_random(last: Option<u128>, fresh: u128) -> u128 {
    const MAX: u128 = (1 << 80) - 1;
    match last {
        Some(l) if l < MAX => l + 1,
        _ => fresh & MAX,
    }
}

fn random_part(time: u128) -> u128 {
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    let fresh = bytes
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    let mut recent = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let previous = recent
        .iter()
        .position(|(t, _)| *t == time)
        .and_then(|i| recent.remove(i))
        .map(|(_, r)| r);
    let next = next_random(previous, fresh);
    recent.push_back((time, next));
    if recent.len() > RECENT_TIMES {
        recent.pop_front();
    }
    next
}

/// A new id with `prefix`, for time `now_ms`.
pub fn new_id(prefix: &str, now_ms: i64) -> String {
    let time = now_ms.max(0) as u128 & 0xFFFF_FFFF_FFFF;
    let value: u128 = (time << 80) | random_part(time);
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
    fn ids_of_one_millisecond_sort_in_the_order_they_were_made() {
        // Ids of other times in between do not break the order.
        let ids: Vec<String> = (0..1_000)
            .map(|i| {
                new_id("cmt", 5_000_000 + i);
                new_id("cmt", 1_000_000)
            })
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
        // A later millisecond still sorts after, whatever its random part.
        assert!(new_id("cmt", 1_000_001) > ids[999]);
        let max = (1u128 << 80) - 1;
        let cases = [
            (None, 7, 7),
            (Some(7), 99, 8),
            (Some(max), 3, 3),
            (None, u128::MAX, max),
        ];
        for (last, fresh, want) in cases {
            assert_eq!(next_random(last, fresh), want, "{last:?} {fresh}");
        }
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
