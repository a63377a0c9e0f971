//! Slowing down password guessing (SECURITY 30, RFC 6819 §5.1.4.2.3): failed logins are
//! counted per username and per client address; past a few free tries, each further try must
//! wait twice as long as the last, up to a cap. In memory, shared by the workers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

/// Failed tries a username gets before it is slowed.
pub const FREE_TRIES_PER_USERNAME: u32 = 5;
/// Failed tries a client address gets before it is slowed (it may serve many users).
pub const FREE_TRIES_PER_ADDRESS: u32 = 20;
/// The longest wait between tries, in seconds.
pub const MAX_WAIT_SECONDS: i64 = 15 * 60;
/// Entries kept before quiet ones are pruned, so that the table stays small.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Username(u64),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: i64,
}

/// Counts of recent failures. Usernames are kept only as a hash.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<Key, Failures>>,
}

impl LoginLimiter {
    /// Asks to try a login for `username` from `address` at `now`: `Err` with the seconds left
    /// to wait, or `Ok` — and then the try is already counted as a failure, under the same
    /// lock, so parallel guesses cannot all slip through before one is counted.
    /// [`LoginLimiter::succeeded`] takes it back.
    pub fn attempt(&self, username: &str, address: Option<IpAddr>, now: i64) -> Result<(), i64> {
        let mut table = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let wait = keys(username, address)
            .filter_map(|(key, free)| table.get(&key).map(|f| wait_left(f, free, now)))
            .max()
            .unwrap_or(0);
        if wait > 0 {
            return Err(wait);
        }
        if table.len() > PRUNE_ABOVE {
            table.retain(|_, f| now - f.last < MAX_WAIT_SECONDS);
        }
        for (key, _) in keys(username, address) {
            let entry = table.entry(key).or_insert(Failures {
                count: 0,
                last: now,
            });
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
        }
        Ok(())
    }

    /// The try succeeded: the username's count is cleared and the address's try taken back.
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        let mut table = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        table.remove(&Key::Username(username_key(username)));
        if let Some(entry) = address.and_then(|a| table.get_mut(&Key::Address(a))) {
            entry.count = entry.count.saturating_sub(1);
        }
    }
}

fn keys(username: &str, address: Option<IpAddr>) -> impl Iterator<Item = (Key, u32)> {
    let by_name = (
        Key::Username(username_key(username)),
        FREE_TRIES_PER_USERNAME,
    );
    let by_address = address.map(|a| (Key::Address(a), FREE_TRIES_PER_ADDRESS));
    std::iter::once(by_name).chain(by_address)
}

fn username_key(username: &str) -> u64 {
    let digest = crate::secret::digest(&username.to_lowercase());
    digest
        .iter()
        .take(8)
        .fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

/// After `free` failures, the n-th further one costs 2^(n+1) seconds, capped. (At least two:
/// the clock has whole seconds, so a one-second wait could end a moment after it began.)
fn wait_left(failures: &Failures, free: u32, now: i64) -> i64 {
    if failures.count < free {
        return 0;
    }
    let over = (failures.count - free + 1).min(20);
    let wait = (1i64 << over).min(MAX_WAIT_SECONDS);
    (failures.last + wait - now).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn a_username_is_slowed_after_its_free_tries() {
        let limiter = LoginLimiter::default();
        for _ in 0..FREE_TRIES_PER_USERNAME {
            assert_eq!(limiter.attempt("bob", HOME, 100), Ok(()));
        }
        assert_eq!(limiter.attempt("bob", HOME, 100), Err(2));
        assert_eq!(
            limiter.attempt("BOB", None, 101),
            Err(1),
            "usernames are case-insensitive"
        );
        assert_eq!(
            limiter.attempt("bob", HOME, 102),
            Ok(()),
            "one more try, counted"
        );
        assert_eq!(
            limiter.attempt("bob", HOME, 102),
            Err(4),
            "the wait doubles"
        );
        assert_eq!(
            limiter.attempt("alice", None, 102),
            Ok(()),
            "others are not slowed"
        );
        limiter.succeeded("bob", HOME);
        assert_eq!(limiter.attempt("bob", None, 102), Ok(()));
    }

    #[test]
    fn an_address_is_slowed_across_usernames_and_waits_are_capped() {
        let limiter = LoginLimiter::default();
        for i in 0..FREE_TRIES_PER_ADDRESS {
            assert_eq!(limiter.attempt(&format!("user{i}"), HOME, 100), Ok(()));
        }
        assert_eq!(limiter.attempt("someone", HOME, 100), Err(2));
        limiter.succeeded("user0", HOME);
        assert_eq!(
            limiter.attempt("someone", HOME, 100),
            Ok(()),
            "a success takes its try back"
        );
        let mut now = 100;
        for _ in 0..40 {
            while let Err(wait) = limiter.attempt("bob", None, now) {
                now += wait;
            }
        }
        assert_eq!(limiter.attempt("bob", None, now), Err(MAX_WAIT_SECONDS));
    }
}
