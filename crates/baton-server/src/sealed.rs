//! Where stored secrets are encrypted: webhook signing secrets, inbound
//! endpoint secrets and the URLs of Slack and Teams channels are sealed
//! with a key derived from the server key (ChaCha20-Poly1305), bound to the
//! row they belong to, so a database dump alone reveals none of them and a
//! sealed value copied onto another row does not open.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use sha2::Sha256;

/// The format's version, first in every sealed value.
const VERSION: &str = "v1.";

fn key(server_key: &str) -> LessSafeKey {
    let mut mac = Hmac::<Sha256>::new_from_slice(server_key.as_bytes()).expect("any key length");
    mac.update(b"baton-sealed-secrets:v1");
    let bytes = mac.finalize().into_bytes();
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &bytes).expect("32-byte key"))
}

/// Seals `plain` for the row `owner` (its id): `v1.` + base64url of
/// nonce ‖ ciphertext ‖ tag.
pub fn seal(server_key: &str, owner: &str, plain: &str) -> String {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let mut in_out = plain.as_bytes().to_vec();
    key(server_key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(owner.as_bytes()),
            &mut in_out,
        )
        .expect("sealing cannot fail");
    let mut out = nonce.to_vec();
    out.extend(in_out);
    format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out))
}

/// Opens a value sealed for `owner`; `None` when it was sealed with another
/// server key, for another row, or was changed.
pub fn open(server_key: &str, owner: &str, sealed: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(VERSION)?).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, rest) = bytes.split_at(NONCE_LEN);
    let mut in_out = rest.to_vec();
    let plain = key(server_key)
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).ok()?,
            Aad::from(owner.as_bytes()),
            &mut in_out,
        )
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_row() {
        let sealed = seal("server key", "whk_1", "whsec_abc");
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(
            open("server key", "whk_1", &sealed).as_deref(),
            Some("whsec_abc")
        );
        let cases = [
            ("other key", "whk_1", sealed.clone()),
            ("server key", "whk_2", sealed.clone()),
            ("server key", "whk_1", sealed.replace("v1.", "v2.")),
            ("server key", "whk_1", format!("{sealed}A")),
            ("server key", "whk_1", "v1.".to_string()),
        ];
        for (k, owner, value) in cases {
            assert_eq!(open(k, owner, &value), None, "{k} {owner} {value}");
        }
        assert_ne!(
            sealed,
            seal("server key", "whk_1", "whsec_abc"),
            "fresh nonce"
        );
    }
}
