//! The pace of device polls (RFC 8628 §3.5), in memory and shared by the workers: when each
//! pending device code was last polled and its interval as grown by `slow_down`. A poll that
//! is told to wait writes nothing to the database (docs/security.md rule 56). An expired
//! code's entry is pruned once the table holds more than [`PRUNE_ABOVE`], at most every
//! [`PRUNE_EVERY_SECONDS`](crate::http::pruned_table::PRUNE_EVERY_SECONDS). After a restart
//! a code starts again from its stored interval.

use crate::http::pruned_table::PrunedTable;
use crate::model::DeviceCode;
use crate::oauth::device::{Pace, PollDecision};

/// Entries kept before expired ones are pruned.
const PRUNE_ABOVE: usize = 1_000;

/// A pending code's pace, until it expires.
#[derive(Debug, Clone, Copy)]
struct Entry {
    pace: Pace,
    expires: i64,
}

/// The pace of every device code polled and told to wait, by row id.
#[derive(Debug, Default)]
pub(crate) struct DevicePacing {
    codes: PrunedTable<i64, Entry, PRUNE_ABOVE>,
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
        let mut codes = self.codes.lock();
        let decision = judge(codes.get(&code.id).map(|entry| entry.pace));
        if let PollDecision::Wait { interval, .. } = &decision {
            codes.prune(now, |_, entry| entry.expires > now);
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
        let size = |p: &DevicePacing| p.codes.lock().len();
        for id in 0..=PRUNE_ABOVE as i64 {
            pacing.poll(&code(id, 50), 10, |_| wait(5));
        }
        assert_eq!(size(&pacing), PRUNE_ABOVE + 1);
        pacing.poll(&code(-1, 600), 50, |_| wait(5));
        assert_eq!(size(&pacing), 1, "only the live one");
    }
}
