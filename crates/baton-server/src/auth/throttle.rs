//! Login throttling: failed attempts are counted per account and per IP in a
//! sliding window; past the limit, logins are refused until the window clears.
//! In-process state: with several servers on PostgreSQL each keeps its own
//! counts, which still bounds guessing per process.

use std::collections::HashMap;
use std::sync::Mutex;

pub const WINDOW_MS: i64 = 15 * 60 * 1000;
pub const PER_ACCOUNT: usize = 5;
pub const PER_IP: usize = 20;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl Throttle {
    /// Seconds until `key` may try again, if it is over `limit`.
    pub fn blocked_for(&self, key: &str, limit: usize, now: i64) -> Option<u64> {
        let mut map = self.failures.lock().expect("throttle lock");
        let list = map.get_mut(key)?;
        list.retain(|t| now - t < WINDOW_MS);
        if list.len() >= limit {
            let oldest = list[list.len() - limit];
            Some(((oldest + WINDOW_MS - now).max(1000) / 1000) as u64)
        } else {
            None
        }
    }

    pub fn fail(&self, key: &str, now: i64) {
        let mut map = self.failures.lock().expect("throttle lock");
        if map.len() > 100_000 {
            map.retain(|_, v| v.iter().any(|t| now - t < WINDOW_MS));
        }
        map.entry(key.to_string()).or_default().push(now);
    }

    pub fn clear(&self, key: &str) {
        self.failures.lock().expect("throttle lock").remove(key);
    }

    /// Seconds a login for `email` from `ip` must wait, if throttled.
    pub fn login_blocked(&self, email: &str, ip: &str, now: i64) -> Option<u64> {
        self.blocked_for(&format!("acct:{email}"), PER_ACCOUNT, now)
            .or_else(|| self.blocked_for(&format!("ip:{ip}"), PER_IP, now))
    }

    pub fn login_failed(&self, email: &str, ip: &str, now: i64) {
        self.fail(&format!("acct:{email}"), now);
        self.fail(&format!("ip:{ip}"), now);
    }

    pub fn login_succeeded(&self, email: &str) {
        self.clear(&format!("acct:{email}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_and_clears_with_time() {
        let t = Throttle::default();
        for i in 0..PER_ACCOUNT {
            assert_eq!(t.login_blocked("a@b.co", "1.1.1.1", 1000 + i as i64), None);
            t.login_failed("a@b.co", "1.1.1.1", 1000 + i as i64);
        }
        let wait = t.login_blocked("a@b.co", "1.1.1.1", 2000).expect("blocked");
        assert!(wait > 800 && wait <= 900, "{wait}");
        assert_eq!(
            t.login_blocked("c@d.co", "2.2.2.2", 2000),
            None,
            "other accounts and IPs unaffected"
        );
        assert_eq!(
            t.login_blocked("a@b.co", "1.1.1.1", 1000 + WINDOW_MS + 10),
            None
        );
    }

    #[test]
    fn ip_limit_spans_accounts() {
        let t = Throttle::default();
        for i in 0..PER_IP {
            t.login_failed(&format!("user{i}@b.co"), "9.9.9.9", 1000);
        }
        assert!(t.login_blocked("fresh@b.co", "9.9.9.9", 1001).is_some());
        assert!(t.login_blocked("fresh@b.co", "8.8.8.8", 1001).is_none());
    }
}
