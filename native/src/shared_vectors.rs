//! The semantic cache's process-wide vector indexes: one `vector::Index` per scope (a tenant, model and
//! parameters whose answers may stand in for each other), shared by every thread of the process. The
//! registry numbers entries itself from one counter, so lanes adding at once never collide, keeps each
//! entry's payload (what a hit hands back), and holds all scopes within one byte bound by evicting the
//! globally oldest entry first. Searches take a read lock, so lanes search at the same time.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use crate::vector::{self, Hit};

/// Bytes counted per scope besides its name: the index, its maps and the registry's slot.
pub const SCOPE_OVERHEAD: u64 = 256;
/// Each scope's index is bounded by the registry, never by itself.
const UNBOUNDED: f64 = (1u64 << 52) as f64;

struct Scope {
  index: vector::Index,
  dimension: usize,
  payloads: HashMap<u32, Vec<u8>>,
}

pub struct Registry {
  max_bytes: u64,
  bytes: u64,
  entries: usize,
  scopes: HashMap<Arc<str>, Scope>,
  /// (scope, id) in insertion order; pairs already removed are skipped when reached.
  order: VecDeque<(Arc<str>, u32)>,
  next_id: u32,
}

pub struct Stats {
  pub scopes: usize,
  pub entries: usize,
  pub bytes: u64,
}

fn entry_bytes(dimension: usize, payload: usize) -> u64 {
  vector::entry_bytes(dimension as u32) + payload as u64
}

fn scope_bytes(name: &str) -> u64 {
  name.len() as u64 + SCOPE_OVERHEAD
}

impl Registry {
  pub fn new(max_bytes: u64) -> Registry {
    Registry {
      max_bytes,
      bytes: 0,
      entries: 0,
      scopes: HashMap::new(),
      order: VecDeque::new(),
      next_id: 0,
    }
  }

  /// Sets the bound; a smaller one evicts the oldest entries until it holds.
  pub fn configure(&mut self, max_bytes: u64) {
    self.max_bytes = max_bytes;
    self.evict_to_bound();
  }

  /// Stores `vector` (normalised) with `payload` in `scope`; answers its id, or None when the entry (with
  /// a new scope's own bytes) is over the whole bound. Errors on a bad vector or one whose dimension is
  /// not the scope's.
  pub fn add(&mut self, scope: &str, vector: &[f32], payload: &[u8]) -> Result<Option<u32>, String> {
    let existing = self.scopes.get(scope).map(|s| s.dimension);
    if let Some(d) = existing.filter(|&d| d != vector.len()) {
      return Err(format!("vector must have {d} values, got {} (the scope's dimension)", vector.len()));
    }
    let mut size = entry_bytes(vector.len(), payload.len());
    // The entry needs its scope, so both must fit even when the scope is there already.
    if size + scope_bytes(scope) > self.max_bytes {
      return Ok(None);
    }
    if existing.is_none() {
      size += scope_bytes(scope);
    }
    let id = self.next_id;
    let key: Arc<str> = match self.scopes.get_key_value(scope) {
      Some((k, _)) => k.clone(),
      None => {
        let index = vector::Index::new(vector.len() as u32, UNBOUNDED, None)?;
        let key: Arc<str> = Arc::from(scope);
        self.scopes.insert(key.clone(), Scope { index, dimension: vector.len(), payloads: HashMap::new() });
        key
      }
    };
    let entry = self.scopes.get_mut(scope).expect("made above");
    if let Err(e) = entry.index.add(id, vector) {
      if entry.payloads.is_empty() {
        self.scopes.remove(scope);
      }
      return Err(e);
    }
    // Only after 2^32 adds can an id come round again while its entry is still held: it is replaced.
    if let Some(old) = entry.payloads.insert(id, payload.to_vec()) {
      self.bytes -= entry_bytes(entry.dimension, old.len());
      self.entries -= 1;
    }
    self.next_id = self.next_id.wrapping_add(1);
    self.bytes += size;
    self.entries += 1;
    self.order.push_back((key, id));
    self.evict_to_bound();
    if self.order.len() > 2 * self.entries + 1024 {
      let scopes = &self.scopes;
      self.order.retain(|(s, i)| scopes.get(s).is_some_and(|s| s.payloads.contains_key(i)));
    }
    Ok(Some(id))
  }

  fn evict_to_bound(&mut self) {
    while self.bytes > self.max_bytes {
      let Some((scope, id)) = self.order.pop_front() else { break };
      self.remove(&scope, id);
    }
  }

  /// Drops the entry `id` of `scope`, and the scope once empty; answers whether there was one.
  pub fn remove(&mut self, scope: &str, id: u32) -> bool {
    let Some(entry) = self.scopes.get_mut(scope) else { return false };
    let Some(payload) = entry.payloads.remove(&id) else { return false };
    entry.index.remove(id);
    self.bytes -= entry_bytes(entry.dimension, payload.len());
    self.entries -= 1;
    if entry.payloads.is_empty() {
      self.scopes.remove(scope);
      self.bytes -= scope_bytes(scope);
    }
    true
  }

  /// The best entry of `scope` with similarity >= `threshold`, with its payload; None for an unknown scope.
  pub fn search(&self, scope: &str, query: &[f32], threshold: f64) -> Result<Option<(Hit, &[u8])>, String> {
    let Some(entry) = self.scopes.get(scope) else {
      if !(-1.0..=1.0).contains(&threshold) {
        return Err("threshold must be a number from -1 to 1".to_string());
      }
      return Ok(None);
    };
    Ok(entry.index.search(query, threshold)?.map(|hit| {
      let payload = entry.payloads.get(&hit.id).expect("every indexed id has a payload");
      (hit, payload.as_slice())
    }))
  }

  pub fn scope_size(&self, scope: &str) -> usize {
    self.scopes.get(scope).map_or(0, |s| s.payloads.len())
  }

  pub fn stats(&self) -> Stats {
    Stats { scopes: self.scopes.len(), entries: self.entries, bytes: self.bytes }
  }

  pub fn clear(&mut self) {
    self.scopes.clear();
    self.order.clear();
    self.bytes = 0;
    self.entries = 0;
  }
}

static REGISTRY: RwLock<Option<Registry>> = RwLock::new(None);

/// Runs `f` on the process's registry, exclusively (bound 0, so storing nothing, until configured). No
/// step above panics half-way, so a lock poisoned by a panicking thread guards a consistent registry.
pub fn with_registry<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
  let mut guard = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
  f(guard.get_or_insert_with(|| Registry::new(0)))
}

/// Runs `f` on the registry alongside other readers; None before anything was configured or added.
pub fn read_registry<R>(f: impl FnOnce(&Registry) -> R) -> Option<R> {
  let guard = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
  guard.as_ref().map(f)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn v(seed: u32) -> Vec<f32> {
    (0..8).map(|i| ((seed * 31 + i * 7) % 13) as f32 + 1.0).collect()
  }

  #[test]
  fn evicts_globally_oldest_and_drops_empty_scopes() {
    let one = entry_bytes(8, 4) + scope_bytes("a");
    let mut r = Registry::new(one * 2 + entry_bytes(8, 4));
    let a0 = r.add("a", &v(0), b"a0a0").unwrap().unwrap();
    r.add("b", &v(1), b"b0b0").unwrap().unwrap();
    r.add("b", &v(2), b"b1b1").unwrap().unwrap();
    assert_eq!(r.stats().entries, 3);
    r.add("b", &v(3), b"b2b2").unwrap().unwrap();
    assert_eq!(r.scope_size("a"), 0, "a0 was the oldest");
    assert!(!r.remove("a", a0));
    let s = r.stats();
    assert_eq!((s.scopes, s.entries), (1, 3));
    assert_eq!(s.bytes, scope_bytes("b") + 3 * entry_bytes(8, 4));
  }

  #[test]
  fn refuses_another_dimension_and_oversized_entries() {
    let mut r = Registry::new(1 << 20);
    r.add("a", &v(0), b"x").unwrap();
    assert!(r.add("a", &[1.0; 16], b"x").is_err());
    assert!(r.add("b", &[0.0; 8], b"x").is_err());
    assert_eq!(r.stats().scopes, 1);
    assert_eq!(r.add("c", &v(1), &vec![0; 1 << 20]).unwrap(), None);
  }

  #[test]
  fn threads_share_one_registry_within_its_bound() {
    let bound = 4 * scope_bytes("t0") + 200 * entry_bytes(8, 8);
    with_registry(|r| r.configure(bound));
    let threads: Vec<_> = (0..4u32)
      .map(|t| {
        std::thread::spawn(move || {
          let scope = format!("t{t}");
          for n in 0..500u32 {
            with_registry(|r| r.add(&scope, &v(n), &n.to_le_bytes().repeat(2)).unwrap());
            read_registry(|r| r.search(&scope, &v(n), 0.99).unwrap().map(|(h, _)| h.id)).unwrap();
          }
        })
      })
      .collect();
    for t in threads {
      t.join().unwrap();
    }
    let s = read_registry(|r| r.stats()).unwrap();
    assert!(s.bytes <= bound);
    assert!(s.entries >= 190, "{} entries", s.entries);
    // Ids came from one counter: 2000 adds, none reused.
    assert_eq!(with_registry(|r| r.next_id), 2000);
    with_registry(|r| r.clear());
  }
}
