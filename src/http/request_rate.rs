//! Request budgets per address (docs/security.md rule 66): endpoints that anyone may call and
//! that store something for each call — client registration now, device authorization later —
//! take at most a budget of requests per address group (see
//! [`crate::http::limiter::address_group`]) in each fixed window; past it, the answer is "wait
//! this many seconds" (a 429 with Retry-After). In memory, shared by the workers; unlike
//! [`crate::http::limiter`], which counts failed secret checks, this counts every request.

use crate::http::events::SecurityEvent;
use crate::http::limiter::address_group;
use crate::http::telemetry::Telemetry;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Entries kept before the windows that ended are pruned, so that the table stays small.
const PRUNE_ABOVE: usize = 10_000;
/// Seconds between prunings: each one walks the whole table under the lock every request needs.
const PRUNE_EVERY_SECONDS: i64 = 10;

/// An endpoint with a budget: each counts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Purpose {
    /// RFC 7591 client registration: each request may store an application.
    ClientRegistration,
    /// RFC 8628 device authorization: each request stores a device code.
    DeviceAuthorization,
}

impl Purpose {
    /// Requests allowed per address group in one window, and the window in seconds.
    fn budget(self) -> (u32, i64) {
        match self {
            // A client registers once per install; an office behind one address has many.
            Purpose::ClientRegistration => (30, 3600),
            // A device asks once per sign-in, and its codes live minutes: an address holds at
            // most this many pending codes at a time.
            Purpose::DeviceAuthorization => (60, 600),
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

/// One key's window: when it began and the requests counted in it.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

/// The windows per (purpose, address group), and when they were last pruned.
#[derive(Debug, Default)]
struct Table {
    windows: HashMap<(Purpose, IpAddr), Window>,
    pruned_at: i64,
}

/// Requests counted per (purpose, address group).
#[derive(Debug, Default)]
pub(crate) struct RequestRate {
    table: Mutex<Table>,
    /// Where an address running out of its budget is reported.
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

    /// Counts a request for `purpose` from `address` at `now`: `Ok` within the budget, else
    /// `Err` with the seconds until the window ends. A request of unknown address (none in
    /// the in-memory tests) is not counted.
    pub(crate) fn admit(
        &self,
        purpose: Purpose,
        address: Option<IpAddr>,
        now: i64,
    ) -> Result<(), i64> {
        let Some(address) = address else {
            return Ok(());
        };
        let (budget, seconds) = purpose.budget();
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if table.windows.len() > PRUNE_ABOVE && now - table.pruned_at >= PRUNE_EVERY_SECONDS {
            table
                .windows
                .retain(|(p, _), w| now - w.start < p.budget().1);
            table.pruned_at = now;
        }
        let window = table
            .windows
            .entry((purpose, address_group(address)))
            .or_insert(Window {
                start: now,
                count: 0,
            });
        if now - window.start >= seconds || now < window.start {
            *window = Window {
                start: now,
                count: 0,
            };
        }
        if window.count >= budget {
            return Err((window.start + seconds - now).max(1));
        }
        window.count += 1;
        let ran_out = window.count == budget;
        drop(table);
        if ran_out {
            // One line per address and window: later refusals cannot flood the log.
            let event = SecurityEvent::RequestsThrottled {
                purpose: purpose.label(),
                requests: budget,
            };
            self.telemetry.security(&event, Some(address));
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

    #[test]
    fn a_budget_is_spent_then_renewed_when_its_window_ends() {
        let rate = RequestRate::default();
        let (budget, seconds) = REGISTRATION.budget();
        let one = address("192.0.2.1");
        for _ in 0..budget {
            assert_eq!(rate.admit(REGISTRATION, one, 100), Ok(()));
        }
        assert_eq!(rate.admit(REGISTRATION, one, 100), Err(seconds));
        assert_eq!(rate.admit(REGISTRATION, one, 110), Err(seconds - 10));
        assert_eq!(rate.admit(REGISTRATION, address("192.0.2.2"), 110), Ok(()));
        assert_eq!(rate.admit(REGISTRATION, one, 100 + seconds), Ok(()));
    }

    #[test]
    fn ipv6_counts_by_its_64_and_unknown_addresses_are_not_counted() {
        let rate = RequestRate::default();
        let (budget, _) = REGISTRATION.budget();
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

    #[test]
    fn ended_windows_are_pruned_past_the_table_size() {
        let rate = RequestRate::default();
        for i in 0..=PRUNE_ABOVE {
            let a = IpAddr::from(u32::try_from(i).unwrap().to_be_bytes());
            rate.admit(REGISTRATION, Some(a), 0).unwrap();
        }
        let later = REGISTRATION.budget().1;
        rate.admit(REGISTRATION, address("198.51.100.1"), later)
            .unwrap();
        assert_eq!(rate.table.lock().unwrap().windows.len(), 1);
    }
}
