//! The semantic cache's process-wide vector indexes: one `vector::Index` per scope (a tenant, model and
//! parameters whose answers may stand in for each other), shared by every thread of the process. The
//! registry numbers entries itself from one counter, so lanes adding at once never collide, keeps each
//! entry's payload (what a hit hands back), and holds all scopes within one byte bound by evicting the
//! globally oldest entry first.
//!
//! Locking: the books (ids, bytes, insertion order, which scopes exist) are behind one mutex held only for
//! bookkeeping; each scope's index and payloads are behind a read-write lock of their own. An add that
//! retrains a scope's inverted file (0.56 s at 65k × 384) so holds up only that scope's searches, which at
//! that size go off the lanes anyway (src/cache/semantic-search.ts). An entry is booked first and indexed
//! after; one evicted in between is removed again once indexed (it may answer a search meanwhile: it is a
//! cache).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::vector::{self, Hit};

/// Bytes counted per scope besides its name: the index, its maps and the registry's slot.
pub const SCOPE_OVERHEAD: u64 = 256;
/// Each scope's index is bounded by the registry, never by itself.
const UNBOUNDED: f64 = (1u64 << 52) as f64;

struct Scope {
  index: vector::Index,
  payloads: HashMap<u32, Vec<u8>>,
}

type ScopeCell = Arc<RwLock<Scope>>;

struct Booked {
  cell: ScopeCell,
  dimension: usize,
  /// Entries booked to the scope; at 0 the scope is dropped.
  entries: usize,
}

struct Books {
  max_bytes: u64,
  bytes: u64,
  scopes: HashMap<Arc<str>, Booked>,
  /// id → (scope, bytes) of every booked entry.
  live: HashMap<u32, (Arc<str>, u64)>,
  /// Ids in insertion order; ids no longer booked are skipped when reached.
  order: VecDeque<u32>,
  next_id: u32,
}

pub struct Registry {
  books: Mutex<Books>,
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

/// No step below panics half-way through changing what a lock guards, so a lock poisoned by a thread that
/// panicked holding it guards consistent data and is used as is.
fn write(cell: &ScopeCell) -> std::sync::RwLockWriteGuard<'_, Scope> {
  cell.write().unwrap_or_else(|e| e.into_inner())
}

fn unindex(removals: Vec<(ScopeCell, u32)>) {
  for (cell, id) in removals {
    let mut scope = write(&cell);
    scope.index.remove(id);
    scope.payloads.remove(&id);
  }
}

impl Books {
  /// Unbooks `id`, dropping its scope once empty; answers the scope to remove it from.
  fn unbook(&mut self, id: u32) -> Option<(ScopeCell, u32)> {
    let (name, bytes) = self.live.remove(&id)?;
    self.bytes -= bytes;
    let booked = self.scopes.get_mut(&name).expect("a live entry's scope is booked");
    booked.entries -= 1;
    let cell = booked.cell.clone();
    if booked.entries == 0 {
      self.scopes.remove(&name);
      self.bytes -= scope_bytes(&name);
    }
    Some((cell, id))
  }

  /// Unbooks the oldest entries until within the bound; answers what to remove from the scopes.
  fn evict_to_bound(&mut self) -> Vec<(ScopeCell, u32)> {
    let mut removals = Vec::new();
    while self.bytes > self.max_bytes {
      let Some(id) = self.order.pop_front() else { break };
      removals.extend(self.unbook(id));
    }
    if self.order.len() > 2 * self.live.len() + 1024 {
      let live = &self.live;
      self.order.retain(|id| live.contains_key(id));
    }
    removals
  }
}

impl Registry {
  pub fn new(max_bytes: u64) -> Registry {
    Registry {
      books: Mutex::new(Books {
        max_bytes,
        bytes: 0,
        scopes: HashMap::new(),
        live: HashMap::new(),
        order: VecDeque::new(),
        next_id: 0,
      }),
    }
  }

  fn books(&self) -> MutexGuard<'_, Books> {
    self.books.lock().unwrap_or_else(|e| e.into_inner())
  }

  /// Sets the bound; a smaller one evicts the oldest entries until it holds.
  pub fn configure(&self, max_bytes: u64) {
    let removals = {
      let mut books = self.books();
      books.max_bytes = max_bytes;
      books.evict_to_bound()
    };
    unindex(removals);
  }

  /// Stores `vector` (normalised) with `payload` in `scope`; answers its id, or None when the entry (with
  /// its scope's own bytes) is over the whole bound. Errors on a bad vector or one whose dimension is not
  /// the scope's.
  pub fn add(&self, scope: &str, vector: &[f32], payload: &[u8]) -> Result<Option<u32>, String> {
    let dimension = vector.len();
    let (cell, id, removals) = {
      let mut books = self.books();
      let existing = books.scopes.get(scope).map(|b| b.dimension);
      if let Some(d) = existing.filter(|&d| d != dimension) {
        return Err(format!("vector must have {d} values, got {dimension} (the scope's dimension)"));
      }
      let size = entry_bytes(dimension, payload.len());
      // The entry needs its scope, so both must fit even when the scope is there already.
      if size + scope_bytes(scope) > books.max_bytes {
        return Ok(None);
      }
      // Refused before anything is booked: a dimension out of range, then the vector's values.
      let fresh = match existing {
        None => Some(vector::Index::new(dimension as u32, UNBOUNDED, None)?),
        Some(_) => None,
      };
      vector::normalise(vector, dimension)?;
      let name: Arc<str> = match fresh {
        None => books.scopes.get_key_value(scope).expect("booked").0.clone(),
        Some(index) => {
          let name: Arc<str> = Arc::from(scope);
          let cell = Arc::new(RwLock::new(Scope { index, payloads: HashMap::new() }));
          books.scopes.insert(name.clone(), Booked { cell, dimension, entries: 0 });
          books.bytes += scope_bytes(scope);
          name
        }
      };
      let id = books.next_id;
      books.next_id = id.wrapping_add(1);
      // Only after 2^32 adds can an id come round again while its entry is still booked: it is replaced.
      let mut removals: Vec<_> = books.unbook(id).into_iter().collect();
      let booked = books.scopes.get_mut(scope).expect("booked above");
      booked.entries += 1;
      let cell = booked.cell.clone();
      books.live.insert(id, (name, size));
      books.bytes += size;
      books.order.push_back(id);
      removals.extend(books.evict_to_bound());
      (cell, id, removals)
    };
    unindex(removals);
    let indexed = {
      let mut entry = write(&cell);
      let result = entry.index.add(id, vector);
      if result.is_ok() {
        entry.payloads.insert(id, payload.to_vec());
      }
      result
    };
    if let Err(e) = indexed {
      let removal = self.books().unbook(id);
      unindex(removal.into_iter().collect());
      return Err(e);
    }
    // Evicted by another thread between booking and indexing: its removal found nothing to remove.
    if !self.books().live.contains_key(&id) {
      unindex(vec![(cell, id)]);
    }
    Ok(Some(id))
  }

  /// Drops the entry `id` of `scope`, and the scope once empty; answers whether there was one.
  pub fn remove(&self, scope: &str, id: u32) -> bool {
    let removal = {
      let mut books = self.books();
      if books.live.get(&id).is_none_or(|(name, _)| &**name != scope) {
        return false;
      }
      books.unbook(id)
    };
    unindex(removal.into_iter().collect());
    true
  }

  /// The best entry of `scope` with similarity >= `threshold`, with a copy of its payload; None for an
  /// unknown scope.
  pub fn search(&self, scope: &str, query: &[f32], threshold: f64) -> Result<Option<(Hit, Vec<u8>)>, String> {
    let cell = self.books().scopes.get(scope).map(|b| b.cell.clone());
    let Some(cell) = cell else {
      if !(-1.0..=1.0).contains(&threshold) {
        return Err("threshold must be a number from -1 to 1".to_string());
      }
      return Ok(None);
    };
    let entry = cell.read().unwrap_or_else(|e| e.into_inner());
    Ok(entry.index.search(query, threshold)?.map(|hit| {
      let payload = entry.payloads.get(&hit.id).expect("every indexed id has a payload").clone();
      (hit, payload)
    }))
  }

  pub fn scope_size(&self, scope: &str) -> usize {
    self.books().scopes.get(scope).map_or(0, |b| b.entries)
  }

  pub fn stats(&self) -> Stats {
    let books = self.books();
    Stats { scopes: books.scopes.len(), entries: books.live.len(), bytes: books.bytes }
  }

  /// Forgets every entry; a thread adding meanwhile finds its entry unbooked and removes it.
  pub fn clear(&self) {
    let mut books = self.books();
    books.scopes.clear();
    books.live.clear();
    books.order.clear();
    books.bytes = 0;
  }
}

/// The process's registry: bound 0, so storing nothing, until configured.
pub static REGISTRY: std::sync::LazyLock<Registry> = std::sync::LazyLock::new(|| Registry::new(0));

#[cfg(test)]
mod tests {
  use super::*;

  fn v(seed: u32) -> Vec<f32> {
    (0..8).map(|i| ((seed * 31 + i * 7) % 13) as f32 + 1.0).collect()
  }

  #[test]
  fn evicts_globally_oldest_and_drops_empty_scopes() {
    let one = entry_bytes(8, 4) + scope_bytes("a");
    let r = Registry::new(one * 2 + entry_bytes(8, 4));
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
    let r = Registry::new(1 << 20);
    r.add("a", &v(0), b"x").unwrap();
    assert!(r.add("a", &[1.0; 16], b"x").is_err());
    assert!(r.add("b", &[0.0; 8], b"x").is_err());
    assert_eq!(r.stats().scopes, 1);
    assert_eq!(r.add("c", &v(1), &vec![0; 1 << 20]).unwrap(), None);
  }

  #[test]
  fn threads_share_one_registry_within_its_bound() {
    let bound = 4 * scope_bytes("t0") + 200 * entry_bytes(8, 8);
    let r = Arc::new(Registry::new(bound));
    let threads: Vec<_> = (0..4u32)
      .map(|t| {
        let r = r.clone();
        std::thread::spawn(move || {
          let scope = format!("t{t}");
          for n in 0..500u32 {
            r.add(&scope, &v(n), &n.to_le_bytes().repeat(2)).unwrap();
            r.search(&scope, &v(n), 0.99).unwrap();
          }
        })
      })
      .collect();
    for t in threads {
      t.join().unwrap();
    }
    let s = r.stats();
    assert!(s.bytes <= bound);
    assert!(s.entries >= 190, "{} entries", s.entries);
    // Ids came from one counter: 2000 adds, none reused.
    assert_eq!(r.books().next_id, 2000);
    // Every booked entry is indexed, and nothing else is.
    let books = r.books();
    let indexed: usize = books.scopes.values().map(|b| b.cell.read().unwrap().payloads.len()).sum();
    assert_eq!(indexed, s.entries);
    for b in books.scopes.values() {
      assert_eq!(b.cell.read().unwrap().index.len(), b.entries);
    }
  }

  #[test]
  fn a_scope_held_for_writing_holds_up_no_other_scope() {
    let r = Registry::new(1 << 20);
    r.add("a", &v(0), b"a").unwrap();
    r.add("b", &v(1), b"b").unwrap();
    let a = r.books().scopes.get("a").unwrap().cell.clone();
    // As while an add to `a` retrains its inverted file.
    let _training = write(&a);
    assert_eq!(r.search("b", &v(1), 0.99).unwrap().map(|(_, p)| p), Some(b"b".to_vec()));
    r.add("b", &v(2), b"b2").unwrap();
    assert_eq!((r.scope_size("a"), r.scope_size("b")), (1, 2));
  }
}
