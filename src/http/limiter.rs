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
    /// `Ok` when a try for `username` from `address` may go ahead at `now`; otherwise the
    /// seconds left to wait.
    pub fn check(&self, username: &str, address: Option<IpAddr>, now: i64) -> Result<(), i64> {
        let table = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let wait = keys(username, address)
            .filter_map(|(key, free)| table.get(&key).map(|f| wait_left(f, free, now)))
            .max()
            .unwrap_or(0);
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    /// Records a failed try.
    pub fn failed(&self, username: &str, address: Option<IpAddr>, now: i64) {
        let mut table = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
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
    }

    /// A successful login clears its username's count (not its address's).
    pub fn succeeded(&self, username: &str) {
        let mut table = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        table.remove(&Key::Username(username_key(username)));
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
            assert_eq!(limiter.check("bob", HOME, 100), Ok(()));
            limiter.failed("bob", HOME, 100);
        }
        assert_eq!(limiter.check("bob", HOME, 100), Err(2));
        let other_case = limiter.check("BOB", None, 101);
        assert_eq!(other_case, Err(1), "usernames are case-insensitive");
        assert_eq!(limiter.check("bob", HOME, 102), Ok(()));
        limiter.failed("bob", HOME, 102);
        assert_eq!(limiter.check("bob", HOME, 102), Err(4), "the wait doubles");
        let alice = limiter.check("alice", None, 102);
        assert_eq!(alice, Ok(()), "others are not slowed");
        limiter.succeeded("bob");
        assert_eq!(limiter.check("bob", None, 101), Ok(()));
    }

    #[test]
    fn an_address_is_slowed_across_usernames_and_waits_are_capped() {
        let limiter = LoginLimiter::default();
        for i in 0..FREE_TRIES_PER_ADDRESS {
            limiter.failed(&format!("user{i}"), HOME, 100);
        }
        assert_eq!(limiter.check("someone", HOME, 100), Err(2));
        assert_eq!(limiter.check("someone", None, 100), Ok(()));
        for _ in 0..40 {
            limiter.failed("bob", None, 100);
        }
        assert_eq!(limiter.check("bob", None, 100), Err(MAX_WAIT_SECONDS));
    }
}
