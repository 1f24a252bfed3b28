//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes).
//! Unknown emails are verified against a fixed dummy hash so a login answers
//! in the same time whether or not the account exists.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// An argon2id PHC string for `password`.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default params cannot fail")
        .to_string()
}

/// Whether `password` matches the stored PHC string (`None`: no account or no
/// password yet; the dummy hash is checked so the timing is the same).
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let dummy = dummy_hash();
    let (phc, real) = match stored {
        Some(s) => (s, true),
        None => (dummy.as_str(), false),
    };
    let ok = match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    };
    ok && real
}

fn dummy_hash() -> &'static String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("no account has this password, it only burns time"))
}

/// Hashes on a blocking thread: argon2 is deliberately slow and must not stall
/// the async runtime.
pub async fn hash_async(password: String) -> String {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .expect("hash task")
}

pub async fn verify_async(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, stored.as_deref()))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("wrong", Some(&h)));
        assert!(!verify("anything", None));
        assert!(!verify("x", Some("not a phc string")));
    }
}
