//! Request budgets (docs/security.md rule 66): endpoints that anyone may call and that store
//! something for each call — client registration, device authorization — take at most a
//! budget of requests per address group (see [`crate::http::limiter::address_group`]) in each
//! fixed window, and at most an overall budget from all addresses together; past either, the
//! answer is "wait this many seconds" (a 429 with Retry-After). In memory, shared by the
//! workers; unlike [`crate::http::limiter`], which counts failed secret checks, this counts
//! every request.
//!
//! The overall budget bounds what the endpoint stores in a window however many addresses the
//! sender holds (an IPv6 /48 is 65,536 /64s), and it bounds this table too: an address is
//! added only by a request the overall budget admits, so at most the overall budgets' sum of
//! windows are live, and ended ones are pruned. The price: a sender with enough addresses can
//! spend the overall budget and make everyone wait for the window's end.

use crate::http::events::SecurityEvent;
use crate::http::limiter::address_group;
use crate::http::pruned_table::{PRUNE_ABOVE, PrunedTable};
use crate::http::telemetry::Telemetry;
use crate::oauth::error::SpentBudget;
use std::net::IpAddr;
use std::sync::Arc;

/// An endpoint with a budget: each counts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Purpose {
    /// RFC 7591 client registration: each request may store an application.
    ClientRegistration,
    /// RFC 8628 device authorization: each request stores a device code.
    DeviceAuthorization,
}

/// A purpose's budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Budget {
    /// Requests allowed per address group in one window.
    per_address: u32,
    /// Requests allowed from all addresses together in one window.
    overall: u32,
    /// The window, in seconds.
    seconds: i64,
}

impl Purpose {
    /// Its budgets.
    const fn budget(self) -> Budget {
        match self {
            // A client registers once per install; an office behind one address has many.
            // Overall, a self-hosted server sees a few new installs an hour: 1000 lets more
            // than 30 addresses spend their whole budget, and stores at most 24,000
            // applications a day, which an administrator notices long before they matter.
            Purpose::ClientRegistration => Budget {
                per_address: 30,
                overall: 1000,
                seconds: 3600,
            },
            // A device asks once per sign-in, and its codes live minutes: an address holds at
            // most this many pending codes at a time; overall ten addresses' worth, a sign-in
            // a second, holds the pending codes to 600.
            Purpose::DeviceAuthorization => Budget {
                per_address: 60,
                overall: 600,
                seconds: 600,
            },
        }
    }

    /// Its name in the log.
    fn label(self) -> &'static str {
        match self {
            Purpose::ClientRegistration => "client_registration",
            Purpose::DeviceAuthorization => "device_authorization",
        }
    }
}

// Live windows (at most twice a purpose's overall budget: this window's addresses and the
// last one's) never keep the table from being pruned below its size.
const _: () = assert!(
    2 * (Purpose::ClientRegistration.budget().overall as usize
        + Purpose::DeviceAuthorization.budget().overall as usize)
        < PRUNE_ABOVE
);

/// One key's window: when it began and the requests counted in it.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

impl Window {
    /// The window of `seconds` that holds `now`: this one, or a new, empty one when it ended
    /// (or the clock went back).
    fn at(window: Option<Window>, now: i64, seconds: i64) -> Window {
        match window {
            Some(w) if now >= w.start && now - w.start < seconds => w,
            _ => Window {
                start: now,
                count: 0,
            },
        }
    }

    /// `Err` with the seconds to its end when `budget` is spent.
    fn check(self, budget: u32, now: i64, seconds: i64) -> Result<(), i64> {
        if self.count >= budget {
            Err((self.start + seconds - now).max(1))
        } else {
            Ok(())
        }
    }
}

/// Requests counted per (purpose, address group), and per purpose from all addresses (the
/// key without an address).
#[derive(Debug, Default)]
pub(crate) struct RequestRate {
    windows: PrunedTable<(Purpose, Option<IpAddr>), Window>,
    /// Where a spent budget is reported.
    telemetry: Arc<Telemetry>,
}

impl RequestRate {
    /// An empty table that reports throttling to `telemetry`.
    pub(crate) fn reporting_to(telemetry: Arc<Telemetry>) -> RequestRate {
        RequestRate {
            telemetry,
            ..RequestRate::default()
        }
    }

    /// Counts a request for `purpose` from `address` at `now`: `Ok` within the address's and
    /// the overall budget, else `Err` with the budget spent and the seconds until its window
    /// ends; a refused
    /// request is not counted. A request of unknown address (none in the in-memory tests) is
    /// not counted.
    pub(crate) fn admit(
        &self,
        purpose: Purpose,
        address: Option<IpAddr>,
        now: i64,
    ) -> Result<(), SpentBudget> {
        let Some(address) = address else {
            return Ok(());
        };
        let budget = purpose.budget();
        let keys = [(purpose, Some(address_group(address))), (purpose, None)];
        let mut table = self.windows.lock();
        table.prune(now, |(p, _), w| now - w.start < p.budget().seconds);
        let [mine, all] = keys.map(|key| Window::at(table.get(&key).copied(), now, budget.seconds));
        mine.check(budget.per_address, now, budget.seconds)
            .map_err(SpentBudget::Address)?;
        all.check(budget.overall, now, budget.seconds)
            .map_err(SpentBudget::Overall)?;
        let mut ran_out = [None; 2];
        for ((key, window), (limit, log)) in keys.into_iter().zip([mine, all]).zip(
            [budget.per_address, budget.overall]
                .into_iter()
                .zip(&mut ran_out),
        ) {
            let count = window.count + 1;
            table.insert(key, Window { count, ..window });
            *log = (count == limit).then_some((key.1, limit));
        }
        drop(table);
        // One line per address, or for all of them, and window: later refusals cannot flood
        // the log.
        for (from, requests) in ran_out.into_iter().flatten() {
            let event = SecurityEvent::RequestsThrottled {
                purpose: purpose.label(),
                requests,
            };
            self.telemetry.security(&event, from.map(|_| address));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRATION: Purpose = Purpose::ClientRegistration;

    fn address(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    /// The `n`-th IPv4 address.
    fn nth(n: usize) -> Option<IpAddr> {
        Some(IpAddr::from(u32::try_from(n).unwrap().to_be_bytes()))
    }

    #[test]
    fn a_budget_is_spent_then_renewed_when_its_window_ends() {
        let rate = RequestRate::default();
        let Budget {
            per_address,
            seconds,
            ..
        } = REGISTRATION.budget();
        let one = address("192.0.2.1");
        for _ in 0..per_address {
            assert_eq!(rate.admit(REGISTRATION, one, 100), Ok(()));
        }
        assert_eq!(
            rate.admit(REGISTRATION, one, 100),
            Err(SpentBudget::Address(seconds))
        );
        assert_eq!(
            rate.admit(REGISTRATION, one, 110),
            Err(SpentBudget::Address(seconds - 10))
        );
        assert_eq!(rate.admit(REGISTRATION, address("192.0.2.2"), 110), Ok(()));
        assert_eq!(
            rate.admit(Purpose::DeviceAuthorization, one, 110),
            Ok(()),
            "each purpose counts apart"
        );
        assert_eq!(rate.admit(REGISTRATION, one, 100 + seconds), Ok(()));
    }

    #[test]
    fn ipv6_counts_by_its_64_and_unknown_addresses_are_not_counted() {
        let rate = RequestRate::default();
        let budget = REGISTRATION.budget().per_address;
        for i in 0..budget {
            let same_64 = address(&format!("2001:db8:1:2::{i:x}"));
            assert_eq!(rate.admit(REGISTRATION, same_64, 5), Ok(()));
        }
        assert!(
            rate.admit(REGISTRATION, address("2001:db8:1:2:ffff::1"), 5)
                .is_err()
        );
        assert_eq!(
            rate.admit(REGISTRATION, address("2001:db8:1:3::1"), 5),
            Ok(())
        );
        for _ in 0..=budget {
            assert_eq!(rate.admit(REGISTRATION, None, 5), Ok(()));
        }
    }

    /// The holder of a /48 has 65,536 /64s, each with a budget: together they get the overall
    /// budget, and then every address waits for the window's end, refused requests uncounted.
    #[test]
    fn all_addresses_together_get_the_overall_budget() {
        let rate = RequestRate::default();
        let Budget {
            overall, seconds, ..
        } = REGISTRATION.budget();
        let of_48 = |i: u32| address(&format!("2001:db8:7:{i:x}::1"));
        let admitted = (0..=u16::MAX)
            .filter(|i| rate.admit(REGISTRATION, of_48(u32::from(*i)), 10).is_ok())
            .count();
        assert_eq!(admitted, usize::try_from(overall).unwrap());
        let elsewhere = address("192.0.2.9");
        assert_eq!(
            rate.admit(REGISTRATION, elsewhere, 20),
            Err(SpentBudget::Overall(seconds - 10)),
            "the overall budget, not this address's, ran out"
        );
        assert_eq!(
            rate.admit(Purpose::DeviceAuthorization, elsewhere, 20),
            Ok(()),
            "other purposes are not affected"
        );
        assert_eq!(rate.admit(REGISTRATION, elsewhere, 10 + seconds), Ok(()));
        let windows = rate.windows.lock();
        let addresses = windows
            .keys()
            .filter(|(p, a)| *p == REGISTRATION && a.is_some());
        assert_eq!(addresses.count(), admitted + 1, "refused ones are not kept");
    }

    /// A flood from ever new addresses, window after window, never grows the table past the
    /// size it is pruned at plus an overall budget.
    #[test]
    fn the_table_stays_bounded_under_a_flood_of_addresses() {
        let rate = RequestRate::default();
        let Budget {
            overall, seconds, ..
        } = REGISTRATION.budget();
        let overall = usize::try_from(overall).unwrap();
        let mut next = 0;
        let mut largest = 0;
        for window in 0..2 * PRUNE_ABOVE / overall {
            let now = i64::try_from(window).unwrap() * seconds;
            for _ in 0..2 * overall {
                next += 1;
                _ = rate.admit(REGISTRATION, nth(next), now);
                largest = largest.max(rate.windows.lock().len());
            }
        }
        assert!(largest > PRUNE_ABOVE, "the flood filled the table");
        assert!(largest <= PRUNE_ABOVE + overall + 1, "{largest}");
    }
}
