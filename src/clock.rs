//! The clock: the one place that reads the time. Handlers and commands read it once and pass
//! `now` into the pure protocol core; tests run the server on a manual clock and move it on
//! instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the time comes from: the system clock, or a manual one that stands still until it is
/// advanced. Cheap to clone; clones of a manual clock share its time.
#[derive(Debug, Clone)]
pub struct Clock {
    /// The manual clock's unix second; `None` for the system clock.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A manual clock (for tests) that reads `start` (unix seconds) until advanced.
    pub fn manual(start: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(start))),
        }
    }

    /// The current time in unix seconds (the system clock reads 0 before 1970).
    pub fn now(&self) -> i64 {
        match &self.manual {
            Some(seconds) => seconds.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        }
    }

    /// Moves a manual clock, and every clone of it, on by `seconds`. The system clock cannot be
    /// moved: it ignores this.
    pub fn advance(&self, seconds: i64) {
        if let Some(manual) = &self.manual {
            manual.fetch_add(seconds, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn a_manual_clock_stands_still_until_advanced_and_its_clones_share_it() {
        let clock = Clock::manual(1_000);
        let clone = clock.clone();
        assert_eq!(clock.now(), 1_000);
        clone.advance(5);
        assert_eq!((clock.now(), clone.now()), (1_005, 1_005));
    }

    #[test]
    fn the_system_clock_reads_the_time_and_cannot_be_moved() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(-1_000_000);
        assert!(before > 1_600_000_000 && clock.now() >= before);
    }
}
