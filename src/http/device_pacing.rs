//! The pace of device polls (RFC 8628 §3.5), in memory and shared by the workers: when each
//! pending device code was last polled and its interval as grown by `slow_down`. A poll that
//! is told to wait writes nothing to the database (docs/security.md rule 56); an entry goes
//! when its code expires. After a restart a code starts again from its stored interval.

use crate::model::DeviceCode;
use crate::oauth::device::{Pace, PollDecision};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Entries kept before expired ones are pruned.
const PRUNE_ABOVE: usize = 1_000;
/// Seconds between prunings: each one walks the whole table under the lock every poll needs.
const PRUNE_EVERY_SECONDS: i64 = 10;

/// A pending code's pace, until it expires.
#[derive(Debug, Clone, Copy)]
struct Entry {
    pace: Pace,
    expires: i64,
}

/// The pace of every device code polled and told to wait, by row id.
#[derive(Debug, Default)]
pub(crate) struct DevicePacing {
    codes: Mutex<HashMap<i64, Entry>>,
    /// When the table was last pruned.
    pruned_at: AtomicI64,
}

impl DevicePacing {
    /// Judges a poll of `code` at `now` with `judge` (the pure decision), given the code's
    /// pace so far, and remembers the pace a `Wait` sets, under one lock: of two polls at
    /// once, the second is judged by the first's.
    pub(crate) fn poll(
        &self,
        code: &DeviceCode,
        now: i64,
        judge: impl FnOnce(Option<Pace>) -> PollDecision,
    ) -> PollDecision {
        let mut codes = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
        let decision = judge(codes.get(&code.id).map(|entry| entry.pace));
        if let PollDecision::Wait { interval, .. } = &decision {
            let due = now - self.pruned_at.load(Ordering::Relaxed) >= PRUNE_EVERY_SECONDS;
            if codes.len() > PRUNE_ABOVE && due {
                codes.retain(|_, entry| entry.expires > now);
                self.pruned_at.store(now, Ordering::Relaxed);
            }
            let pace = Pace {
                at: now,
                interval: *interval,
            };
            codes.insert(
                code.id,
                Entry {
                    pace,
                    expires: code.expires,
                },
            );
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::OAuthError;
    use crate::oauth::fixtures::valid_device_code;

    fn code(id: i64, expires: i64) -> DeviceCode {
        DeviceCode {
            id,
            expires,
            ..valid_device_code()
        }
    }

    fn wait(interval: i64) -> PollDecision {
        PollDecision::Wait {
            error: OAuthError::AuthorizationPending,
            interval,
        }
    }

    #[test]
    fn a_wait_is_remembered_for_the_next_poll_and_nothing_else_is() {
        let pacing = DevicePacing::default();
        let first = code(1, 600);
        let mut seen = Vec::new();
        let mut poll = |code: &DeviceCode, now, decision: PollDecision| {
            pacing.poll(code, now, |pace| {
                seen.push(pace.map(|p| (p.at, p.interval)));
                decision
            })
        };
        assert_eq!(poll(&first, 100, wait(10)), wait(10));
        poll(&first, 104, PollDecision::Issue { user_id: 3 });
        poll(&first, 108, PollDecision::Reject(OAuthError::ExpiredToken));
        poll(&code(2, 600), 108, wait(5));
        poll(&first, 109, wait(15));
        poll(&first, 120, wait(15));
        assert_eq!(
            seen,
            [
                None,
                Some((100, 10)),
                Some((100, 10)),
                None,
                Some((100, 10)),
                Some((109, 15))
            ]
        );
    }

    #[test]
    fn expired_codes_are_pruned_once_the_table_is_large() {
        let pacing = DevicePacing::default();
        let size = |p: &DevicePacing| p.codes.lock().unwrap().len();
        for id in 0..=PRUNE_ABOVE as i64 {
            pacing.poll(&code(id, 50), 10, |_| wait(5));
        }
        assert_eq!(size(&pacing), PRUNE_ABOVE + 1);
        pacing.poll(&code(-1, 600), 50, |_| wait(5));
        assert_eq!(size(&pacing), 1, "only the live one");
    }
}
