//! Secrets handed to people and programs: API tokens (`bt_…`), session ids,
//! invite and onboarding capability tokens. All are 256-bit values,
//! base64url-encoded; only their SHA-256 hash is ever stored. Most are
//! random; an onboarding link's token is derived (see [`link_token`]) so the
//! server can put the link in a reminder without storing it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of API tokens, so a leaked token is recognisable by secret scanners.
pub const API_TOKEN_PREFIX: &str = "bt_";

/// 32 random bytes as 43 base64url characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh salt for [`link_token`]: 16 random bytes as 22 base64url
/// characters.
pub fn new_link_salt() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An onboarding link's token: base64url(HMAC-SHA256(server secret key,
/// `"baton-onboarding-link:" || link_id || ":" || salt`)), 256 bits in 43
/// characters like [`random_token`]. Only the server, which holds the key,
/// can compute it again (for a reminder that carries the link); the
/// database keeps the link id, the random salt and the token's hash, never
/// the token. A new salt (regenerating the link) or another key gives an
/// unrelated token. Neither link ids (`lnk_…`) nor salts (base64url) hold a
/// `:`, so the message reads one way only.
pub fn link_token(secret_key: &str, link_id: &str, salt: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("any key length");
    mac.update(b"baton-onboarding-link:");
    mac.update(link_id.as_bytes());
    mac.update(b":");
    mac.update(salt.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A new API token: `bt_` + 256 random bits.
pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", random_token())
}

/// A password made for a person to change later (agency bootstrap): 20
/// characters from an unambiguous alphabet, about 115 bits.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// The stored form of a token: lower-case hex SHA-256.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let a = new_api_token();
        let b = new_api_token();
        assert!(a.starts_with("bt_"));
        assert_eq!(a.len(), 3 + 43);
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn link_tokens_are_derived_from_key_link_and_salt() {
        let key = "k".repeat(43);
        let salt = new_link_salt();
        assert_eq!(salt.len(), 22);
        assert_ne!(salt, new_link_salt());
        let t = link_token(&key, "lnk_1", &salt);
        // Same shape as a random token: 256 bits, 43 base64url characters.
        assert_eq!(t.len(), 43);
        assert_eq!(t.len(), random_token().len());
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        // Stable for the same inputs; any change gives another token.
        assert_eq!(t, link_token(&key, "lnk_1", &salt));
        assert_ne!(t, link_token(&key, "lnk_2", &salt));
        assert_ne!(t, link_token(&key, "lnk_1", &new_link_salt()));
        assert_ne!(t, link_token(&"j".repeat(43), "lnk_1", &salt));
        // A known answer (computed independently), so the derivation never
        // changes by accident: that would cut every link out of reminders.
        assert_eq!(
            link_token("secret", "lnk_01", "salt"),
            "JWDWK66iF740DcaOVdPm3QFzHiC9lFVzr3xEI_5tpi8"
        );
    }

    #[test]
    fn passwords_and_compare() {
        let p = random_password();
        assert_eq!(p.len(), 20);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
