//! The clock: the one place that reads the time. Handlers and commands read it once and pass
//! `now` into the pure protocol core.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time in unix seconds (0 if the system clock is before 1970).
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
