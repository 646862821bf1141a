//! The exact cache's process-wide store: one map from key to bytes for every thread of the process (the
//! lanes are worker threads, and an addon's statics are shared by all of them, unlike a JS Map). Bounded
//! by bytes (key length + value length), least recently used out first; an entry is gone at its expiry.
//! The caller passes the time in ms, so tests can move their own clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

struct Stored {
  value: Vec<u8>,
  /// Position in `Store::expiry`: the expiry's order key and the tick the entry was stored at.
  expiry: (u64, u64),
  /// Position in `Store::recency`; a read moves the entry to the newest.
  tick: u64,
}

pub struct Store {
  max_bytes: u64,
  bytes: u64,
  entries: HashMap<Arc<str>, Stored>,
  /// tick → key, least recently used first.
  recency: BTreeMap<u64, Arc<str>>,
  /// (expiry, tick stored) → key, soonest first: dropping what has expired never walks every entry, so
  /// the lock every lane waits on is held briefly.
  expiry: BTreeMap<(u64, u64), Arc<str>>,
  next_tick: u64,
  evictions: u64,
}

pub struct Stats {
  pub entries: usize,
  pub bytes: u64,
  pub evictions: u64,
}

fn size_of(key: &str, value: &[u8]) -> u64 {
  (key.len() + value.len()) as u64
}

/// An order key for a time in ms: the bits of a non-negative f64 sort as the numbers do.
fn time_key(ms: f64) -> u64 {
  ms.max(0.0).to_bits()
}

impl Store {
  pub fn new(max_bytes: u64) -> Store {
    Store {
      max_bytes,
      bytes: 0,
      entries: HashMap::new(),
      recency: BTreeMap::new(),
      expiry: BTreeMap::new(),
      next_tick: 0,
      evictions: 0,
    }
  }

  fn tick(&mut self) -> u64 {
    self.next_tick += 1;
    self.next_tick
  }

  fn remove(&mut self, key: &str) -> bool {
    match self.entries.remove(key) {
      Some(stored) => {
        self.recency.remove(&stored.tick);
        self.expiry.remove(&stored.expiry);
        self.bytes -= size_of(key, &stored.value);
        true
      }
      None => false,
    }
  }

  fn drop_expired(&mut self, now: f64) {
    let now = time_key(now);
    while let Some(entry) = self.expiry.first_entry() {
      if entry.key().0 > now {
        break;
      }
      let key = entry.remove();
      self.remove(&key);
    }
  }

  /// Drops least recently used entries until `room` more bytes fit; answers how many it dropped.
  fn make_room(&mut self, room: u64) -> u32 {
    let mut dropped = 0;
    while self.bytes + room > self.max_bytes {
      let Some((_, key)) = self.recency.first_key_value() else { break };
      let key = key.clone();
      self.remove(&key);
      dropped += 1;
    }
    self.evictions += dropped as u64;
    dropped
  }

  /// Sets the bound; a smaller one drops expired entries, then least recently used ones, until it holds.
  pub fn configure(&mut self, max_bytes: u64, now: f64) {
    self.max_bytes = max_bytes;
    if self.bytes > max_bytes {
      self.drop_expired(now);
      self.make_room(0);
    }
  }

  /// A copy of the value under `key` unless absent or expired (an expired entry is removed); a hit makes
  /// the entry the most recently used.
  pub fn get(&mut self, key: &str, now: f64) -> Option<Vec<u8>> {
    let (expired, tick) = match self.entries.get(key) {
      None => return None,
      Some(s) => (s.expiry.0 <= time_key(now), s.tick),
    };
    if expired {
      self.remove(key);
      return None;
    }
    let fresh = self.tick();
    let key = self.recency.remove(&tick).expect("every entry has a tick");
    self.recency.insert(fresh, key.clone());
    let stored = self.entries.get_mut(&key).expect("checked above");
    stored.tick = fresh;
    Some(stored.value.clone())
  }

  /// Stores `value` under `key` for `ttl_ms`; answers the entries evicted to make room, or None when not
  /// stored (ttl not positive, or the entry alone is over the bound: then nothing else is dropped either).
  pub fn set(&mut self, key: &str, value: &[u8], ttl_ms: f64, now: f64) -> Option<u32> {
    let size = size_of(key, value);
    if ttl_ms.is_nan() || ttl_ms <= 0.0 || size > self.max_bytes {
      return None;
    }
    self.remove(key);
    if self.bytes + size > self.max_bytes {
      // Expired entries go before live ones.
      self.drop_expired(now);
    }
    let dropped = self.make_room(size);
    let tick = self.tick();
    let key: Arc<str> = Arc::from(key);
    let expiry = (time_key(now + ttl_ms), tick);
    self.recency.insert(tick, key.clone());
    self.expiry.insert(expiry, key.clone());
    self.entries.insert(key, Stored { value: value.to_vec(), expiry, tick });
    self.bytes += size;
    Some(dropped)
  }

  pub fn delete(&mut self, key: &str) -> bool {
    self.remove(key)
  }

  /// Counts after dropping expired entries, so the figures are what a get could still answer.
  pub fn stats(&mut self, now: f64) -> Stats {
    self.drop_expired(now);
    Stats { entries: self.entries.len(), bytes: self.bytes, evictions: self.evictions }
  }

  pub fn clear(&mut self) {
    self.entries.clear();
    self.recency.clear();
    self.expiry.clear();
    self.bytes = 0;
  }
}

static STORE: Mutex<Option<Store>> = Mutex::new(None);

/// Runs `f` on the process's store (bound 0, so storing nothing, until configured). No step above panics
/// half-way, so a lock poisoned by a thread that panicked holding it guards a consistent store.
pub fn with_store<R>(f: impl FnOnce(&mut Store) -> R) -> R {
  let mut guard = STORE.lock().unwrap_or_else(|e| e.into_inner());
  f(guard.get_or_insert_with(|| Store::new(0)))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn lru_ttl_and_bound() {
    let mut s = Store::new(30);
    assert_eq!(s.set("a", b"123456789", 100.0, 0.0), Some(0));
    assert_eq!(s.set("b", b"123456789", 100.0, 0.0), Some(0));
    assert_eq!(s.set("c", b"123456789", 100.0, 0.0), Some(0));
    assert!(s.get("a", 1.0).is_some());
    assert_eq!(s.set("d", b"123456789", 100.0, 1.0), Some(1));
    assert!(s.get("b", 1.0).is_none());
    assert_eq!(s.set("e", &[0; 40], 100.0, 1.0), None);
    assert_eq!(s.set("e", b"x", 0.0, 1.0), None);
    assert!(s.get("a", 100.0).is_none());
    let stats = s.stats(101.0);
    assert_eq!((stats.entries, stats.bytes, stats.evictions), (0, 0, 1));
  }

  #[test]
  fn shrinking_evicts_least_recent() {
    let mut s = Store::new(100);
    for k in ["a", "b", "c"] {
      s.set(k, b"123456789", 100.0, 0.0);
    }
    s.get("a", 0.0);
    s.configure(20, 0.0);
    assert!(s.get("a", 0.0).is_some());
    assert!(s.get("c", 0.0).is_some());
    assert!(s.get("b", 0.0).is_none());
  }

  #[test]
  fn expiry_index_drops_only_what_has_expired_and_follows_replacements() {
    let mut s = Store::new(1000);
    s.set("late", b"x", 300.0, 0.0);
    s.set("soon", b"x", 100.0, 0.0);
    s.set("mid", b"x", 200.0, 0.0);
    // Replaced with a later expiry: the first expiry no longer applies.
    s.set("soon", b"x", 500.0, 0.0);
    assert_eq!(s.stats(250.0).entries, 2);
    assert!(s.get("mid", 250.0).is_none());
    assert_eq!(s.stats(400.0).entries, 1);
    assert!(s.get("soon", 400.0).is_some());
    assert_eq!((s.expiry.len(), s.recency.len()), (1, 1));
  }

  #[test]
  fn threads_share_one_store_within_its_bound() {
    with_store(|s| s.configure(10_000, 0.0));
    let threads: Vec<_> = (0..4)
      .map(|t| {
        std::thread::spawn(move || {
          for n in 0..2_000 {
            let key = format!("{t}/{n}");
            with_store(|s| s.set(&key, &[7; 40], 1e9, 0.0));
            // Other threads may have evicted it since (a preempted thread waits a whole time slice).
            let found = with_store(|s| s.get(&key, 0.0));
            assert!(found.is_none_or(|v| v == [7; 40]));
          }
        })
      })
      .collect();
    for t in threads {
      t.join().unwrap();
    }
    let stats = with_store(|s| s.stats(0.0));
    assert!(stats.bytes <= 10_000);
    assert_eq!(stats.evictions + stats.entries as u64, 8_000);
    with_store(|s| s.clear());
  }
}
