//! Throttles that slow guessing without handing anyone a way to lock a real
//! user out. Counters live in the database (`baton_store::throttles`), so
//! several servers on one PostgreSQL allow the same number of guesses as one.
//!
//! - **Login.** Failures count per (account, address) and per address, never
//!   per account alone: a wrong password from one address does nothing to
//!   the account at any other address. From a browser that has signed in to
//!   the account before (its *device cookie*, HMAC-signed), the user is
//!   real: failures there only ever slow the next attempts down, they never
//!   lock.
//! - **Client links.** Misses (a token that opens nothing) count per
//!   address. Past the limit, every link request from that address waits
//!   [`ServerConfig::link_guess_delay`](crate::ServerConfig) before it is
//!   looked up, and misses answer 429; a valid link is still served.

use std::time::Duration;

use baton_core::secret;
use baton_store::{throttles, Db, StoreError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The window every counter counts in.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failed logins for one account from one address before that address is
/// refused for the account.
pub const PER_ACCOUNT_ADDRESS: i64 = 5;
/// Failed logins from one address, over all accounts, before the address
/// is refused (password spraying).
pub const PER_ADDRESS: i64 = 30;
/// Failed logins from a known device before each next one is slowed.
pub const PER_DEVICE: i64 = 5;
/// How long a known device's attempt waits once past [`PER_DEVICE`].
pub const DEVICE_DELAY: Duration = Duration::from_secs(2);
/// Link misses from one address before its link requests are slowed.
pub const LINK_MISSES: i64 = 30;
/// How long the device cookie lasts (a year).
pub const DEVICE_COOKIE_SECS: i64 = 365 * 24 * 3600;

/// What a login attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead.
    Open,
    /// Go ahead after waiting this long (a known device past its limit).
    Slow(Duration),
    /// Refused for this many seconds (this address, for this account or all).
    Blocked(u64),
}

fn account_key(email: &str, ip: &str) -> String {
    format!("login:acct:{}|{ip}", email.to_lowercase())
}

fn address_key(ip: &str) -> String {
    format!("login:ip:{ip}")
}

fn device_key(device: &str) -> String {
    format!("login:dev:{device}")
}

fn link_key(ip: &str) -> String {
    format!("link:{ip}")
}

fn seconds_until(end: i64, now: i64) -> u64 {
    ((end - now).max(1000) / 1000) as u64
}

/// Whether a login (or a password check) for `email` from `ip` may run.
/// `device`: the id of the browser's valid device cookie for this account.
pub async fn login_gate(
    db: &Db,
    email: &str,
    ip: &str,
    device: Option<&str>,
    now: i64,
) -> Result<Gate, StoreError> {
    if let Some(device) = device {
        let c = throttles::count(db, &device_key(device), now, WINDOW_MS).await?;
        return Ok(if c.hits >= PER_DEVICE {
            Gate::Slow(DEVICE_DELAY)
        } else {
            Gate::Open
        });
    }
    let by_account = throttles::count(db, &account_key(email, ip), now, WINDOW_MS).await?;
    if by_account.hits >= PER_ACCOUNT_ADDRESS {
        return Ok(Gate::Blocked(seconds_until(by_account.window_ends, now)));
    }
    let by_address = throttles::count(db, &address_key(ip), now, WINDOW_MS).await?;
    if by_address.hits >= PER_ADDRESS {
        return Ok(Gate::Blocked(seconds_until(by_address.window_ends, now)));
    }
    Ok(Gate::Open)
}

/// Counts a failed login.
pub async fn login_failed(
    db: &Db,
    email: &str,
    ip: &str,
    device: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    match device {
        Some(device) => {
            throttles::hit(db, &device_key(device), now, WINDOW_MS).await?;
        }
        None => {
            throttles::hit(db, &account_key(email, ip), now, WINDOW_MS).await?;
            throttles::hit(db, &address_key(ip), now, WINDOW_MS).await?;
        }
    }
    Ok(())
}

/// A successful login clears the failures it was counted under.
pub async fn login_succeeded(
    db: &Db,
    email: &str,
    ip: &str,
    device: Option<&str>,
) -> Result<(), StoreError> {
    throttles::clear(db, &account_key(email, ip)).await?;
    if let Some(device) = device {
        throttles::clear(db, &device_key(device)).await?;
    }
    Ok(())
}

/// Whether link requests from `ip` are slowed (it is past its misses).
pub async fn link_slowed(db: &Db, ip: &str, now: i64) -> Result<bool, StoreError> {
    Ok(throttles::count(db, &link_key(ip), now, WINDOW_MS)
        .await?
        .hits
        >= LINK_MISSES)
}

/// Counts a link miss; returns the seconds until the address's window ends.
pub async fn link_missed(db: &Db, ip: &str, now: i64) -> Result<u64, StoreError> {
    let c = throttles::hit(db, &link_key(ip), now, WINDOW_MS).await?;
    Ok(seconds_until(c.window_ends, now))
}

/// Forgets closed windows (the worker calls it).
pub async fn prune(db: &Db, now: i64) -> Result<u64, StoreError> {
    throttles::prune(db, now, WINDOW_MS).await
}

/// A new device cookie value for `email`: a random id and its HMAC.
pub fn device_cookie(secret_key: &str, email: &str) -> String {
    let id = secret::random_token();
    let mac = device_mac(secret_key, &id, email);
    format!("{id}.{mac}")
}

/// The device id of `cookie` when it was issued for `email` by this server.
pub fn device_of<'a>(secret_key: &str, cookie: Option<&'a str>, email: &str) -> Option<&'a str> {
    let (id, mac) = cookie?.split_once('.')?;
    secret::constant_time_eq(&device_mac(secret_key, id, email), mac).then_some(id)
}

fn device_mac(secret_key: &str, id: &str, email: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("any key length");
    mac.update(b"baton-login-device:");
    mac.update(id.as_bytes());
    mac.update(b":");
    mac.update(email.to_lowercase().as_bytes());
    secret::hex(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_cookies_bind_the_account_and_the_key() {
        let c = device_cookie("k", "Pat@Northwind.test");
        let id = c.split_once('.').unwrap().0;
        assert_eq!(device_of("k", Some(&c), "pat@northwind.test"), Some(id));
        assert_eq!(device_of("k", Some(&c), "jo@northwind.test"), None);
        assert_eq!(device_of("other key", Some(&c), "pat@northwind.test"), None);
        assert_eq!(
            device_of("k", Some("forged.cookie"), "pat@northwind.test"),
            None
        );
        assert_eq!(device_of("k", Some("nodot"), "pat@northwind.test"), None);
        assert_eq!(device_of("k", None, "pat@northwind.test"), None);
    }

    #[test]
    fn keys_keep_accounts_and_addresses_apart() {
        assert_ne!(
            account_key("a@b.co", "1.1.1.1"),
            account_key("a@b.co", "2.2.2.2")
        );
        assert_eq!(
            account_key("A@B.co", "1.1.1.1"),
            account_key("a@b.co", "1.1.1.1")
        );
        assert_ne!(address_key("1.1.1.1"), link_key("1.1.1.1"));
        assert_eq!(seconds_until(10_000, 0), 10);
        assert_eq!(seconds_until(0, 10_000), 1, "never 0");
    }
}
