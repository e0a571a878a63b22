//! A map whose entries are valid only under the write generation they were loaded at (see
//! [`super::generation`]): what the session cache and the dashboard cache are made of.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// A backstop, not the mechanism: an entry is loaded again after this long, so a change made
/// outside the application (a hand edit of the database file, which bumps no counter) is seen
/// within it.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// Values by key, each tagged with the generation read before it was loaded.
#[derive(Debug)]
pub struct GenerationCache<K, V> {
    entries: RwLock<HashMap<K, Entry<V>>>,
    capacity: usize,
    hits: AtomicU64,
}

#[derive(Debug)]
struct Entry<V> {
    generation: u64,
    loaded: Instant,
    value: V,
}

impl<K: Eq + Hash, V: Clone> GenerationCache<K, V> {
    /// Holds at most `capacity` entries; past it, entries of older generations go first, then
    /// all of them.
    pub fn with_capacity(capacity: usize) -> Self {
        GenerationCache {
            entries: RwLock::new(HashMap::new()),
            capacity,
            hits: AtomicU64::new(0),
        }
    }

    /// The value under `key`, if it was loaded at `generation` (the counter this request read)
    /// and not longer than [`MAX_AGE`] ago.
    pub fn get<Q>(&self, key: &Q, generation: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(key)?;
        if entry.generation != generation || entry.loaded.elapsed() >= MAX_AGE {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(entry.value.clone())
    }

    /// Keeps `value`, loaded after the counter read `generation`.
    pub fn put(&self, key: K, generation: u64, value: V) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, entry| entry.generation == generation);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        let entry = Entry {
            generation,
            loaded: Instant::now(),
            value,
        };
        entries.insert(key, entry);
    }

    /// Changes a kept value in place (for a write that, by design, bumps no generation).
    pub fn update<Q>(&self, key: &Q, change: impl FnOnce(&mut V))
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Ok(mut entries) = self.entries.write() {
            if let Some(entry) = entries.get_mut(key) {
                change(&mut entry.value);
            }
        }
    }

    /// How many lookups were answered from memory (tests prove an entry was hot with it).
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_serves_only_its_own_generation() {
        let cache = GenerationCache::with_capacity(4);
        cache.put("a", 2, 1);
        assert_eq!(cache.get("a", 2), Some(1));
        assert_eq!(cache.get("a", 4), None);
        assert_eq!(cache.hits(), 1);
    }

    #[test]
    fn a_full_cache_drops_older_generations_first() {
        let cache = GenerationCache::with_capacity(2);
        cache.put("old", 2, 1);
        cache.put("kept", 4, 2);
        cache.put("new", 4, 3);
        assert_eq!(cache.get("old", 2), None);
        assert_eq!(cache.get("kept", 4), Some(2));
        assert_eq!(cache.get("new", 4), Some(3));
    }
}
