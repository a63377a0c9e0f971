//! Slowing down password guessing (docs/security.md rule 30, RFC 6819 §5.1.4.2.3): failed checks of
//! a secret — a login, the password grant's user password, a client secret, a user code typed
//! on the device page (RFC 8628 §5.1) — are counted per username, per client id from each
//! address, per signed-in user typing codes, and per client address; past a few free tries,
//! each further try must wait twice as long as the last, up to a cap. In memory, shared by
//! the workers.
//!
//! A client id is counted per address, not alone: client ids are public (they stand in
//! authorization URLs) and client secrets carry 160 bits or more, so a count per client id
//! alone would let anyone lock a client out of its own endpoints and protect nothing. IPv6
//! addresses count by their /64, which one subscriber usually holds whole.

use crate::http::events::SecurityEvent;
use crate::http::pruned_table::PrunedTable;
use crate::http::telemetry::Telemetry;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// Failed tries a username gets before it is slowed.
pub const FREE_TRIES_PER_USERNAME: u32 = 5;
/// Failed tries a client id gets before it is slowed.
pub const FREE_TRIES_PER_CLIENT: u32 = 5;
/// Wrong user codes a signed-in user may type before they are slowed (RFC 8628 §5.1).
pub const FREE_TRIES_PER_USER_CODE_ENTRY: u32 = 5;
/// Failed tries a client address gets before it is slowed (it may serve many users).
pub const FREE_TRIES_PER_ADDRESS: u32 = 20;
/// The longest wait between tries, in seconds.
pub(crate) const MAX_WAIT_SECONDS: i64 = 15 * 60;

/// Whose secret a try checks: each kind counts apart, so a user named like a client id does
/// not share the client's count. The address a try comes from is counted across all kinds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A user's password (login page, password grant). Case-insensitive.
    Username(&'a str),
    /// A client's secret (client authentication at the token, revocation and introspection
    /// endpoints). Client ids are exact.
    Client(&'a str),
    /// A user code typed on the device page (RFC 8628 §5.1: 34 bits must not be guessable),
    /// counted per signed-in user by row id.
    UserCodeEntry(i64),
}

impl Subject<'_> {
    fn key(self) -> (Key, u32) {
        match self {
            Subject::Username(name) => (
                Key::Username(name_hash(&name.to_lowercase())),
                FREE_TRIES_PER_USERNAME,
            ),
            Subject::Client(id) => (Key::Client(name_hash(id), None), FREE_TRIES_PER_CLIENT),
            Subject::UserCodeEntry(user_id) => {
                (Key::UserCodeEntry(user_id), FREE_TRIES_PER_USER_CODE_ENTRY)
            }
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Subject::Username(_) => "username",
            Subject::Client(_) => "client",
            Subject::UserCodeEntry(_) => "user_code",
        }
    }
}

/// Names are not printed: a username field sometimes holds a mistyped password.
impl fmt::Debug for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject::{}([redacted])", self.kind())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Username(u64),
    /// A client id, from one address (group).
    Client(u64, Option<IpAddr>),
    /// A signed-in user typing user codes.
    UserCodeEntry(i64),
    Address(IpAddr),
}

/// One key's record.
#[derive(Debug, Clone, Copy)]
struct Tries {
    /// Failed tries since the last success (an address's and a user code entry's are never
    /// cleared by one).
    failed: u32,
    /// Tries in flight, their secret not yet judged.
    in_flight: u32,
    /// When the last try began.
    last: i64,
}

/// Recent tries. Usernames and client ids are kept only as a hash.
#[derive(Debug, Default)]
pub(crate) struct LoginLimiter {
    tries: PrunedTable<Key, Tries>,
    /// Where a key running out of free tries is reported.
    telemetry: Arc<Telemetry>,
}

/// One try in flight. Dropped, it is counted as failed; [`Attempt::passed`] says it was not.
#[must_use = "a try that passed must say so, or it is counted as failed"]
#[derive(Debug)]
pub(crate) struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    subject: Subject<'a>,
    address: Option<IpAddr>,
    keys: Keys,
    began: i64,
    passed: bool,
}

impl Attempt<'_> {
    /// The secret was right: the subject's failures are cleared and this try is not counted
    /// against the address (whose other failures stay). A user code's failures are never
    /// cleared either: a user can make live codes of their own at will, so one passing would
    /// let them reset their count between guesses (docs/security.md rule 53).
    pub fn passed(mut self) {
        self.passed = true;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.limiter.settle(self);
    }
}

impl LoginLimiter {
    /// An empty limiter that reports throttling to `telemetry`.
    pub(crate) fn reporting_to(telemetry: Arc<Telemetry>) -> LoginLimiter {
        LoginLimiter {
            telemetry,
            ..LoginLimiter::default()
        }
    }

    /// Asks to try `subject`'s secret from `address` at `now`: `Err` with the seconds left to
    /// wait, or `Ok` with the try, in flight until it is dropped (a failure) or passes. It is
    /// registered under the same lock as the decision, so that past the free tries parallel
    /// guesses cannot all slip through before one is counted (see `wait_left`).
    pub fn attempt<'a>(
        &'a self,
        subject: Subject<'a>,
        address: Option<IpAddr>,
        now: i64,
    ) -> Result<Attempt<'a>, i64> {
        let keys = Keys::of(subject, address);
        let mut table = self.tries.lock();
        let wait = keys
            .iter()
            .filter_map(|(key, free)| table.get(&key).map(|t| wait_left(t, free, now)))
            .max()
            .unwrap_or(0);
        if wait > 0 {
            return Err(wait);
        }
        table.prune(now, |_, t| {
            t.in_flight > 0 || now - t.last < MAX_WAIT_SECONDS
        });
        for (key, _) in keys.iter() {
            let entry = table.entry(key).or_insert(Tries {
                failed: 0,
                in_flight: 0,
                last: now,
            });
            entry.in_flight = entry.in_flight.saturating_add(1);
            entry.last = now;
        }
        Ok(Attempt {
            limiter: self,
            subject,
            address,
            keys,
            began: now,
            passed: false,
        })
    }

    /// A try ends: failed, it is counted for the subject and the address; passed, the
    /// subject's failures are cleared. Records left empty are removed.
    fn settle(&self, attempt: &Attempt<'_>) {
        let mut ran_out = [None; 2];
        let mut table = self.tries.lock();
        for ((key, free), log) in attempt.keys.iter().zip(&mut ran_out) {
            let entry = table.entry(key).or_insert(Tries {
                failed: 0,
                in_flight: 1,
                last: attempt.began,
            });
            entry.in_flight = entry.in_flight.saturating_sub(1);
            if !attempt.passed {
                entry.failed = entry.failed.saturating_add(1);
                *log = (entry.failed == free).then_some((key, free));
            } else if !matches!(key, Key::Address(_) | Key::UserCodeEntry(_)) {
                entry.failed = 0;
            }
            if entry.failed == 0 && entry.in_flight == 0 {
                table.remove(&key);
            }
        }
        drop(table);
        // docs/conventions.md, convention 16: one event as a key's free tries run out (later
        // failures are spaced by the waits, so this cannot flood the log). No name: a username
        // field may hold a mistyped password.
        for (key, free) in ran_out.into_iter().flatten() {
            let kind = match key {
                Key::Address(_) => "address",
                Key::Username(_) | Key::Client(..) | Key::UserCodeEntry(_) => {
                    attempt.subject.kind()
                }
            };
            let event = SecurityEvent::Throttled {
                kind,
                failures: free,
            };
            self.telemetry.security(&event, attempt.address);
        }
    }
}

/// The keys a try is counted under, hashed once, with their free tries: the subject's and,
/// when known, the address's.
#[derive(Debug, Clone, Copy)]
struct Keys([Option<(Key, u32)>; 2]);

impl Keys {
    fn of(subject: Subject<'_>, address: Option<IpAddr>) -> Keys {
        let address = address.map(address_group);
        let by_address = address.map(|a| (Key::Address(a), FREE_TRIES_PER_ADDRESS));
        let by_subject = match subject.key() {
            (Key::Client(id, _), free) => (Key::Client(id, address), free),
            other => other,
        };
        Keys([Some(by_subject), by_address])
    }

    fn iter(self) -> impl Iterator<Item = (Key, u32)> {
        self.0.into_iter().flatten()
    }
}

/// The address a try (or, in [`crate::http::request_rate`], a request) is counted under: IPv4
/// as is (IPv4-mapped IPv6 too), IPv6 by its /64, which one subscriber usually holds whole.
pub(crate) fn address_group(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

fn name_hash(name: &str) -> u64 {
    let digest = crate::secret::digest(name);
    digest
        .iter()
        .take(8)
        .fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

/// Within its free tries a key is not slowed, and its tries in flight are not held against
/// it: a busy client's parallel requests are never refused. Past them, every try in flight
/// counts as one more failure until it is judged, so parallel guesses cannot slip through;
/// the n-th try past the free ones costs 2^(n+1) seconds, capped. (At least two: the clock
/// has whole seconds, so a one-second wait could end a moment after it began.)
fn wait_left(tries: &Tries, free: u32, now: i64) -> i64 {
    if tries.failed < free {
        return 0;
    }
    let held = tries.failed.saturating_add(tries.in_flight);
    let over = (held - free + 1).min(20);
    let wait = (1i64 << over).min(MAX_WAIT_SECONDS);
    (tries.last + wait - now).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::pruned_table::PRUNE_ABOVE;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    const AWAY: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)));

    /// Fails `subject`'s free tries from `address` at `now`.
    fn exhaust(limiter: &LoginLimiter, subject: Subject<'_>, address: Option<IpAddr>, now: i64) {
        let free = subject.key().1;
        for _ in 0..free {
            assert!(
                limiter.attempt(subject, address, now).is_ok(),
                "{subject:?}"
            );
        }
    }

    #[test]
    fn keys_keep_kinds_apart() {
        use Subject::{Client, Username};
        let table = [
            (Username("bob"), Username("bob"), true),
            (Username("bob"), Username("BOB"), true),
            (Username("bob"), Username("bob "), false),
            (Username("bob"), Username("alice"), false),
            (Username("bob"), Client("bob"), false),
            (Client("bob"), Username("bob"), false),
            (Client("abc"), Client("abc"), true),
            (Client("abc"), Client("ABC"), false),
            (Client("abc"), Client("abd"), false),
            (Username(""), Client(""), false),
            (Subject::UserCodeEntry(7), Subject::UserCodeEntry(7), true),
            (Subject::UserCodeEntry(7), Subject::UserCodeEntry(8), false),
            (Subject::UserCodeEntry(7), Username("7"), false),
        ];
        for (first, second, shared) in table {
            assert_eq!(
                first.key().0 == second.key().0,
                shared,
                "{first:?} {second:?}"
            );
            // The same through the limiter: without an address, only the subject's key counts.
            let limiter = LoginLimiter::default();
            exhaust(&limiter, first, None, 100);
            let slowed = limiter.attempt(second, None, 100).is_err();
            assert_eq!(slowed, shared, "{first:?} then {second:?}");
        }
        let free = [
            (Username("x"), FREE_TRIES_PER_USERNAME),
            (Client("x"), FREE_TRIES_PER_CLIENT),
            (Subject::UserCodeEntry(7), FREE_TRIES_PER_USER_CODE_ENTRY),
        ];
        for (subject, expected) in free {
            assert_eq!(subject.key().1, expected);
        }
    }

    #[test]
    fn names_are_neither_kept_nor_printed() {
        let subject = Subject::Username("hunter2");
        assert!(!format!("{subject:?}").contains("hunter2"));
        let limiter = LoginLimiter::default();
        let _counted = limiter.attempt(subject, HOME, 100);
        assert!(!format!("{limiter:?}").contains("hunter2"));
    }

    #[test]
    fn a_username_is_slowed_after_its_free_tries() {
        let limiter = LoginLimiter::default();
        let bob = Subject::Username("bob");
        exhaust(&limiter, bob, HOME, 100);
        assert_eq!(limiter.attempt(bob, HOME, 100).err(), Some(2));
        assert_eq!(
            limiter.attempt(Subject::Username("BOB"), None, 101).err(),
            Some(1),
            "usernames are case-insensitive"
        );
        assert!(
            limiter.attempt(bob, AWAY, 102).is_ok(),
            "one more try, counted, from anywhere"
        );
        assert_eq!(
            limiter.attempt(bob, HOME, 102).err(),
            Some(4),
            "the wait doubles"
        );
        assert!(
            limiter
                .attempt(Subject::Username("alice"), None, 102)
                .is_ok(),
            "others are not slowed"
        );
        let passed = limiter.attempt(bob, HOME, 106);
        passed.expect("the wait is over").passed();
        exhaust(&limiter, bob, None, 106);
        assert!(
            limiter.attempt(bob, None, 106).is_err(),
            "a success cleared the count: free tries again"
        );
    }

    #[test]
    fn a_passed_try_is_not_counted_and_a_dropped_one_is() {
        let limiter = LoginLimiter::default();
        let client = Subject::Client("svc");
        for _ in 0..3 * FREE_TRIES_PER_CLIENT {
            let attempt = limiter.attempt(client, HOME, 100);
            attempt.expect("not slowed").passed();
        }
        exhaust(&limiter, client, HOME, 100);
        assert_eq!(limiter.attempt(client, HOME, 100).err(), Some(2));
        let table = limiter.tries.lock();
        let failed = |key| table.get(&key).map(|t| (t.failed, t.in_flight));
        let keys = Keys::of(client, HOME);
        let counts: Vec<_> = keys.iter().map(|(key, _)| failed(key)).collect();
        assert_eq!(
            counts,
            [Some((FREE_TRIES_PER_CLIENT, 0)); 2],
            "client and address"
        );
    }

    #[test]
    fn quiet_entries_are_pruned() {
        let limiter = LoginLimiter::default();
        let names: Vec<String> = (0..=PRUNE_ABOVE).map(|i| format!("user{i}")).collect();
        for (i, name) in names.iter().enumerate() {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(i as u32));
            drop(limiter.attempt(Subject::Username(name), Some(address), 0));
        }
        assert!(limiter.tries.lock().len() > PRUNE_ABOVE);
        drop(limiter.attempt(Subject::Username("late"), AWAY, MAX_WAIT_SECONDS));
        assert_eq!(limiter.tries.lock().len(), 2, "only the late try's keys");
    }

    /// A client id is counted per address: guessing its secret from one address does not lock
    /// the client out from another. IPv6 addresses count by their /64.
    #[test]
    fn a_client_id_is_counted_per_address_and_ipv6_by_its_64() {
        let limiter = LoginLimiter::default();
        let svc = Subject::Client("svc");
        let v6 = |text: &str| Some(text.parse::<IpAddr>().unwrap());
        exhaust(&limiter, svc, AWAY, 100);
        assert!(
            limiter.attempt(svc, AWAY, 100).is_err(),
            "the guesser waits"
        );
        let attempt = limiter
            .attempt(svc, HOME, 100)
            .expect("the client itself does not");
        attempt.passed();
        exhaust(&limiter, svc, v6("2001:db8:1:2::1"), 100);
        let same_64 = limiter.attempt(svc, v6("2001:db8:1:2:ffff::9"), 100);
        assert!(same_64.is_err(), "one /64 is one address");
        assert!(limiter.attempt(svc, v6("2001:db8:1:3::1"), 100).is_ok());
        assert_eq!(
            address_group("::ffff:192.0.2.7".parse().unwrap()),
            AWAY.unwrap(),
            "IPv4-mapped is IPv4"
        );
    }

    #[test]
    fn tries_in_flight_are_held_against_a_key_past_its_free_tries() {
        let limiter = LoginLimiter::default();
        let svc = Subject::Client("svc");
        // A busy client's parallel requests, all in flight at once: none is refused.
        let busy: Vec<_> = (0..FREE_TRIES_PER_ADDRESS + FREE_TRIES_PER_CLIENT)
            .map(|_| limiter.attempt(svc, HOME, 100).expect("not slowed"))
            .collect();
        busy.into_iter().for_each(Attempt::passed);
        assert!(limiter.tries.lock().is_empty(), "nothing kept");
        // Past the free tries, a parallel guess waits for the one in flight.
        exhaust(&limiter, svc, HOME, 100);
        let in_flight = limiter.attempt(svc, HOME, 102).expect("the wait is over");
        assert_eq!(limiter.attempt(svc, HOME, 102).err(), Some(4));
        drop(in_flight);
        assert_eq!(limiter.attempt(svc, HOME, 102).err(), Some(4));
        // Within them, a parallel wave gets through once, and pays for every guess in it.
        let bob = Subject::Username("bob");
        for _ in 1..FREE_TRIES_PER_USERNAME {
            assert!(limiter.attempt(bob, AWAY, 100).is_ok());
        }
        let wave: Vec<_> = (0..10)
            .map(|_| {
                limiter
                    .attempt(bob, AWAY, 100)
                    .expect("within the free tries")
            })
            .collect();
        drop(wave);
        assert_eq!(
            limiter.attempt(bob, AWAY, 100).err(),
            Some(MAX_WAIT_SECONDS)
        );
    }

    #[test]
    fn an_address_is_slowed_across_usernames_and_client_ids() {
        let limiter = LoginLimiter::default();
        for i in 1..FREE_TRIES_PER_ADDRESS {
            let name = format!("user{i}");
            let subject = match i % 2 {
                0 => Subject::Username(&name),
                _ => Subject::Client(&name),
            };
            assert!(limiter.attempt(subject, HOME, 100).is_ok());
        }
        for _ in 0..FREE_TRIES_PER_ADDRESS {
            let right = limiter.attempt(Subject::Username("alice"), HOME, 100);
            right.expect("a right password is not counted").passed();
        }
        assert!(limiter.attempt(Subject::Client("last"), HOME, 100).is_ok());
        for subject in [Subject::Username("someone"), Subject::Client("some-client")] {
            assert_eq!(limiter.attempt(subject, HOME, 100).err(), Some(2));
            assert!(
                limiter.attempt(subject, AWAY, 100).is_ok(),
                "another address"
            );
        }
    }

    #[test]
    fn waits_are_capped() {
        let limiter = LoginLimiter::default();
        let bob = Subject::Username("bob");
        let mut now = 100;
        for _ in 0..40 {
            while let Err(wait) = limiter.attempt(bob, None, now) {
                now += wait;
            }
        }
        assert_eq!(
            limiter.attempt(bob, None, now).err(),
            Some(MAX_WAIT_SECONDS)
        );
    }
}
