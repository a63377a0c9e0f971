//! The periodic sweep: a thread with its own database connection that removes what has
//! expired every `sweep_interval_seconds` (docs/security.md rule 36), in the store's short
//! batches, and stops at once when the server does.

use crate::clock::Clock;
use crate::settings::Settings;
use crate::store::Store;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Wakes a sleeping sweeper for good: the server is stopping.
#[derive(Default)]
pub(crate) struct SweepStop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl SweepStop {
    /// Flags the stop and wakes the sweeper; a sweep under way ends after its current batch.
    pub(crate) fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_all();
    }

    fn stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits `interval` unless stopped first; whether to sweep (not stopped).
    fn wait(&self, interval: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (stopped, _) = self
            .wake
            .wait_timeout_while(stopped, interval, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        !*stopped
    }
}

/// Starts the sweeper on `store`, unless `sweep_interval_seconds` is 0 (never).
pub(crate) fn start(
    store: Store,
    settings: Arc<Settings>,
    clock: Clock,
    stop: Arc<SweepStop>,
) -> std::io::Result<Option<JoinHandle<()>>> {
    if settings.sweep_interval_seconds == 0 {
        return Ok(None);
    }
    let interval = Duration::from_secs(settings.sweep_interval_seconds);
    let thread = std::thread::Builder::new()
        .name("oauthd-sweep".into())
        .spawn(move || {
            while stop.wait(interval) {
                let keep_going = || !stop.stopped();
                let now = clock.now();
                let swept =
                    store.clear_expired(now, settings.refresh_token_expire_seconds, &keep_going);
                if let Err(e) = swept {
                    eprintln!("oauthd: sweep failed, will try again: {e}");
                }
            }
        })?;
    Ok(Some(thread))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(interval: u64) -> Arc<Settings> {
        let toml = format!("sweep_interval_seconds = {interval}");
        Arc::new(Settings::from_toml(&toml).unwrap())
    }

    fn run(interval: u64, stop: &Arc<SweepStop>) -> Option<JoinHandle<()>> {
        let store = Store::open_in_memory().unwrap();
        start(
            store,
            settings(interval),
            Clock::manual(0),
            Arc::clone(stop),
        )
        .unwrap()
    }

    #[test]
    fn zero_never_sweeps() {
        assert!(run(0, &Arc::default()).is_none());
    }

    #[test]
    fn a_sleeping_sweeper_stops_at_once() {
        let stop = Arc::new(SweepStop::default());
        let thread = run(3600, &stop).expect("a sweeper");
        stop.stop();
        thread.join().unwrap();
        assert!(stop.stopped());
    }
}
