//! An in-memory table of records per key, shared by the workers under one lock, whose records
//! that are over are pruned once it grows: what [`crate::http::limiter`] counts failed tries
//! in, [`crate::http::request_rate`] counts requests in and [`crate::http::device_pacing`]
//! keeps the pace of device polls in.

use std::collections::HashMap;
use std::hash::Hash;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Records kept, by default, before the ones that are over are pruned, so that the table stays
/// small.
pub(crate) const PRUNE_ABOVE: usize = 10_000;
/// Seconds between prunings: each one walks the whole table under the lock every request needs.
pub(crate) const PRUNE_EVERY_SECONDS: i64 = 10;

/// The records per key, behind one lock; pruned past `ABOVE` records.
#[derive(Debug)]
pub(crate) struct PrunedTable<K, V, const ABOVE: usize = PRUNE_ABOVE>(Mutex<Records<K, V, ABOVE>>);

impl<K, V, const ABOVE: usize> Default for PrunedTable<K, V, ABOVE> {
    fn default() -> Self {
        PrunedTable(Mutex::new(Records {
            map: HashMap::new(),
            pruned_at: 0,
        }))
    }
}

impl<K, V, const ABOVE: usize> PrunedTable<K, V, ABOVE> {
    /// The records, locked. A worker that panicked holding the lock left them usable: each
    /// change to a record is a single assignment.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Records<K, V, ABOVE>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The records, and when they were last pruned; used as the map they hold.
#[derive(Debug)]
pub(crate) struct Records<K, V, const ABOVE: usize = PRUNE_ABOVE> {
    map: HashMap<K, V>,
    pruned_at: i64,
}

impl<K: Eq + Hash, V, const ABOVE: usize> Records<K, V, ABOVE> {
    /// Past `ABOVE` records, and at most every [`PRUNE_EVERY_SECONDS`], keeps only the
    /// records that `needed` says are still needed at `now`.
    pub(crate) fn prune(&mut self, now: i64, needed: impl FnMut(&K, &mut V) -> bool) {
        if self.map.len() > ABOVE && now - self.pruned_at >= PRUNE_EVERY_SECONDS {
            self.map.retain(needed);
            self.pruned_at = now;
        }
    }
}

impl<K, V, const ABOVE: usize> Deref for Records<K, V, ABOVE> {
    type Target = HashMap<K, V>;

    fn deref(&self) -> &HashMap<K, V> {
        &self.map
    }
}

impl<K, V, const ABOVE: usize> DerefMut for Records<K, V, ABOVE> {
    fn deref_mut(&mut self) -> &mut HashMap<K, V> {
        &mut self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_pruned_past_the_size_at_most_every_ten_seconds() {
        let table: PrunedTable<usize, i64> = PrunedTable::default();
        let mut records = table.lock();
        records.extend((0..PRUNE_ABOVE).map(|key| (key, 0)));
        records.prune(100, |_, _| false);
        assert_eq!(records.len(), PRUNE_ABOVE, "not past the size");
        records.insert(PRUNE_ABOVE, 100);
        records.prune(100, |_, at| *at == 100);
        assert_eq!(records.len(), 1, "only the needed record");
        records.extend((0..=PRUNE_ABOVE).map(|key| (key, 0)));
        records.prune(100 + PRUNE_EVERY_SECONDS - 1, |_, _| false);
        assert_eq!(records.len(), PRUNE_ABOVE + 1, "pruned too recently");
        records.prune(100 + PRUNE_EVERY_SECONDS, |_, _| false);
        assert!(records.is_empty());
    }
}
