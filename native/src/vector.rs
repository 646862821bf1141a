//! The semantic cache's similarity search: unit-length f32 vectors of one dimension, each under a caller's
//! u32 id, bounded by bytes with the oldest entries evicted first. Brute force below `approximate_from`
//! entries; from there an inverted file (spherical k-means centroids, the nearest `PROBES` lists scanned),
//! retrained each time the index doubles or has taken as many adds as it was trained on. Either way a
//! result is checked against the threshold with its exact similarity, so the approximate path may miss an
//! entry but never returns one below the threshold.
//! `src/native/vector.ts` is the TypeScript twin (brute force only).

use std::collections::{HashMap, VecDeque};

pub const MIN_DIMENSION: u32 = 8;
pub const MAX_DIMENSION: u32 = 4096;
/// Bytes counted per entry besides its vector: id, slot, insertion order and inverted-file bookkeeping.
pub const ENTRY_OVERHEAD: u64 = 64;
/// Entries from which the inverted file is used; chosen from bench/results/vector-micro.json.
pub const APPROXIMATE_FROM: u32 = 2048;
/// Inverted lists scanned per search; recall measured in src/native/vector.test.ts.
pub const PROBES: usize = 8;
const TRAIN_ITERATIONS: usize = 5;
/// Training samples per centroid: k-means on all entries would cost more than it gains.
const SAMPLES_PER_LIST: usize = 16;
/// Fewer entries than this never get an inverted file (a handful of lists would be pointless).
const MIN_APPROXIMATE: usize = 256;

pub struct Hit {
  pub id: u32,
  pub similarity: f32,
}

struct Ivf {
  centroids: Vec<f32>,
  lists: Vec<Vec<u32>>,
  /// Per slot: its list and its position in that list.
  list_of: Vec<u32>,
  pos_in_list: Vec<u32>,
}

pub struct Index {
  dim: usize,
  max_bytes: u64,
  approximate_from: usize,
  /// Slot-major vectors, dense: a removal moves the last slot into the hole.
  data: Vec<f32>,
  ids: Vec<u32>,
  seqs: Vec<u64>,
  slot_of: HashMap<u32, u32>,
  /// (id, seq) in insertion order; stale pairs (removed or re-added ids) are skipped lazily.
  order: VecDeque<(u32, u64)>,
  next_seq: u64,
  ivf: Option<Ivf>,
  train_at: usize,
  /// Adds since the inverted file was trained: once they match its training size, the entries it was
  /// trained on may all have been evicted, so it is trained again (a full index never doubles).
  adds_since_training: usize,
  trained_size: usize,
}

pub fn entry_bytes(dim: u32) -> u64 {
  dim as u64 * 4 + ENTRY_OVERHEAD
}

#[inline]
fn dot_plain(a: &[f32], b: &[f32]) -> f32 {
  // Blocks of 32 into 32 independent accumulators: the compiler maps them onto vector registers (four
  // 8-wide ones with AVX2) and the additions of consecutive blocks do not wait on each other.
  let (ab, ar) = a.as_chunks::<32>();
  let (bb, br) = b.as_chunks::<32>();
  let mut acc = [0f32; 32];
  for (x, y) in ab.iter().zip(bb) {
    for i in 0..32 {
      acc[i] += x[i] * y[i];
    }
  }
  let mut tail = 0f32;
  for (x, y) in ar.iter().zip(br) {
    tail += x * y;
  }
  let mut half = [0f32; 8];
  for i in 0..8 {
    half[i] = (acc[i] + acc[i + 8]) + (acc[i + 16] + acc[i + 24]);
  }
  ((half[0] + half[4]) + (half[1] + half[5])) + ((half[2] + half[6]) + (half[3] + half[7])) + tail
}

/// The same sum with AVX2 and FMA: four 8-wide accumulators (the compiler left the plain loop 4-wide).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
  use std::arch::x86_64::*;
  let n = a.len().min(b.len());
  let (pa, pb) = (a.as_ptr(), b.as_ptr());
  let mut acc = [_mm256_setzero_ps(); 4];
  let mut i = 0;
  // SAFETY: every load reads 8 floats at i + 8k < n from both slices.
  unsafe {
    while i + 32 <= n {
      for (k, s) in acc.iter_mut().enumerate() {
        let x = _mm256_loadu_ps(pa.add(i + 8 * k));
        let y = _mm256_loadu_ps(pb.add(i + 8 * k));
        *s = _mm256_fmadd_ps(x, y, *s);
      }
      i += 32;
    }
    while i + 8 <= n {
      acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc[0]);
      i += 8;
    }
  }
  let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
  let mut lanes = [0f32; 8];
  // SAFETY: `lanes` holds 8 floats.
  unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
  let mut total = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
  for j in i..n {
    total += a[j] * b[j];
  }
  total
}

#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
  use std::sync::OnceLock;
  static AVX2_FMA: OnceLock<bool> = OnceLock::new();
  *AVX2_FMA.get_or_init(|| std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"))
}

/// Dot product of two equal-length slices: AVX2 and FMA where the CPU has them, else baseline SIMD.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
  #[cfg(target_arch = "x86_64")]
  if has_avx2_fma() {
    // SAFETY: the CPU reports AVX2 and FMA.
    return unsafe { dot_avx2(a, b) };
  }
  dot_plain(a, b)
}

/// The unit vector along `v`; refuses wrong lengths, non-finite values and the zero vector.
pub fn normalise(v: &[f32], dim: usize) -> Result<Vec<f32>, String> {
  if v.len() != dim {
    return Err(format!("vector must have {dim} values, got {}", v.len()));
  }
  let mut sum = 0f64;
  for (i, &x) in v.iter().enumerate() {
    if !x.is_finite() {
      return Err(format!("vector[{i}] is not a finite number"));
    }
    sum += x as f64 * x as f64;
  }
  if sum == 0.0 {
    return Err("vector must not be all zeros".to_string());
  }
  let norm = sum.sqrt();
  Ok(v.iter().map(|&x| (x as f64 / norm) as f32).collect())
}

impl Index {
  pub fn new(dimension: u32, max_bytes: f64, approximate_from: Option<u32>) -> Result<Index, String> {
    if !(MIN_DIMENSION..=MAX_DIMENSION).contains(&dimension) {
      return Err(format!("dimension must be an integer from {MIN_DIMENSION} to {MAX_DIMENSION}"));
    }
    let one = entry_bytes(dimension);
    if !max_bytes.is_finite() || max_bytes.fract() != 0.0 || max_bytes < one as f64 {
      return Err(format!("maxBytes must be an integer of at least one entry's size ({one} bytes)"));
    }
    let from = approximate_from.unwrap_or(APPROXIMATE_FROM).max(MIN_APPROXIMATE as u32) as usize;
    Ok(Index {
      dim: dimension as usize,
      max_bytes: max_bytes as u64,
      approximate_from: from,
      data: Vec::new(),
      ids: Vec::new(),
      seqs: Vec::new(),
      slot_of: HashMap::new(),
      order: VecDeque::new(),
      next_seq: 0,
      ivf: None,
      train_at: from,
      adds_since_training: 0,
      trained_size: 0,
    })
  }

  pub fn len(&self) -> usize {
    self.ids.len()
  }

  pub fn bytes(&self) -> u64 {
    self.len() as u64 * entry_bytes(self.dim as u32)
  }

  pub fn approximate(&self) -> bool {
    self.ivf.is_some()
  }

  fn row(&self, slot: usize) -> &[f32] {
    &self.data[slot * self.dim..(slot + 1) * self.dim]
  }

  /// Stores `vector` (normalised) under `id`, replacing an entry with that id; answers the ids evicted to
  /// stay within the byte bound, oldest first.
  pub fn add(&mut self, id: u32, vector: &[f32]) -> Result<Vec<u32>, String> {
    let unit = normalise(vector, self.dim)?;
    self.remove(id);
    let mut evicted = Vec::new();
    let one = entry_bytes(self.dim as u32);
    while self.bytes() + one > self.max_bytes {
      match self.order.pop_front() {
        Some((old, seq)) => {
          if self.slot_of.get(&old).is_some_and(|&s| self.seqs[s as usize] == seq) {
            self.remove(old);
            evicted.push(old);
          }
        }
        None => break,
      }
    }
    let slot = self.ids.len();
    if self.data.len() == self.data.capacity() {
      // Doubling, but never past the bound, so the vectors' allocation stays within maxBytes.
      let most = (self.max_bytes / one) as usize;
      let slots = (slot * 2).max(16).min(most).max(slot + 1);
      self.data.reserve_exact((slots - slot) * self.dim);
    }
    self.data.extend_from_slice(&unit);
    self.ids.push(id);
    self.seqs.push(self.next_seq);
    self.order.push_back((id, self.next_seq));
    self.next_seq += 1;
    self.slot_of.insert(id, slot as u32);
    if self.order.len() > 2 * self.ids.len() + 1024 {
      let (slot_of, seqs) = (&self.slot_of, &self.seqs);
      self.order.retain(|&(i, s)| slot_of.get(&i).is_some_and(|&x| seqs[x as usize] == s));
    }
    self.adds_since_training += 1;
    let replaced = self.ivf.is_some() && self.adds_since_training >= self.trained_size;
    if self.ids.len() >= self.train_at || replaced {
      self.train();
    } else if self.ivf.is_some() {
      let list = self.nearest_list(&unit);
      let ivf = self.ivf.as_mut().expect("checked above");
      ivf.list_of.push(list as u32);
      ivf.pos_in_list.push(ivf.lists[list].len() as u32);
      ivf.lists[list].push(slot as u32);
    }
    Ok(evicted)
  }

  /// Drops the entry under `id`; answers whether there was one.
  pub fn remove(&mut self, id: u32) -> bool {
    let Some(slot) = self.slot_of.remove(&id) else { return false };
    let slot = slot as usize;
    let last = self.ids.len() - 1;
    if let Some(ivf) = self.ivf.as_mut() {
      let list = ivf.list_of[slot] as usize;
      let pos = ivf.pos_in_list[slot] as usize;
      ivf.lists[list].swap_remove(pos);
      if let Some(&moved) = ivf.lists[list].get(pos) {
        ivf.pos_in_list[moved as usize] = pos as u32;
      }
      if slot != last {
        let (l, p) = (ivf.list_of[last] as usize, ivf.pos_in_list[last] as usize);
        ivf.lists[l][p] = slot as u32;
      }
      ivf.list_of.swap_remove(slot);
      ivf.pos_in_list.swap_remove(slot);
    }
    if slot != last {
      let (dst, src) = (slot * self.dim, last * self.dim);
      self.data.copy_within(src..src + self.dim, dst);
      self.slot_of.insert(self.ids[last], slot as u32);
    }
    self.data.truncate(last * self.dim);
    self.ids.swap_remove(slot);
    self.seqs.swap_remove(slot);
    if self.ivf.is_some() && self.ids.len() * 4 < self.train_at {
      // Shrunk well below the size it was trained for: brute force again until it grows back.
      self.ivf = None;
      self.train_at = (self.ids.len() * 2).max(self.approximate_from);
    }
    true
  }

  /// The entry most similar to `query` with cosine similarity at least `threshold`, if any.
  pub fn search(&self, query: &[f32], threshold: f64) -> Result<Option<Hit>, String> {
    if !(-1.0..=1.0).contains(&threshold) {
      return Err("threshold must be a number from -1 to 1".to_string());
    }
    let q = normalise(query, self.dim)?;
    Ok(match &self.ivf {
      Some(ivf) => self.search_ivf(ivf, &q, threshold, PROBES),
      None => self.search_brute(&q, threshold),
    })
  }

  /// Brute force regardless of size: the reference the approximate search is measured against.
  pub fn search_exact(&self, query: &[f32], threshold: f64) -> Result<Option<Hit>, String> {
    if !(-1.0..=1.0).contains(&threshold) {
      return Err("threshold must be a number from -1 to 1".to_string());
    }
    let q = normalise(query, self.dim)?;
    Ok(self.search_brute(&q, threshold))
  }

  fn better(best: &Option<Hit>, sim: f32, threshold: f64) -> bool {
    sim as f64 >= threshold && best.as_ref().is_none_or(|b| sim > b.similarity)
  }

  fn search_brute(&self, q: &[f32], threshold: f64) -> Option<Hit> {
    let mut best: Option<Hit> = None;
    for (slot, row) in self.data.chunks_exact(self.dim).enumerate() {
      let sim = dot(q, row);
      if Self::better(&best, sim, threshold) {
        best = Some(Hit { id: self.ids[slot], similarity: sim });
      }
    }
    best
  }

  fn search_ivf(&self, ivf: &Ivf, q: &[f32], threshold: f64, probes: usize) -> Option<Hit> {
    // The `probes` centroids nearest the query, by a small insertion sort (probes is a handful).
    let mut top: Vec<(f32, usize)> = Vec::with_capacity(probes + 1);
    for (c, centroid) in ivf.centroids.chunks_exact(self.dim).enumerate() {
      let s = dot(q, centroid);
      if top.len() < probes || s > top[top.len() - 1].0 {
        let at = top.iter().position(|&(t, _)| s > t).unwrap_or(top.len());
        top.insert(at, (s, c));
        top.truncate(probes);
      }
    }
    let mut best: Option<Hit> = None;
    for &(_, list) in &top {
      for &slot in &ivf.lists[list] {
        let sim = dot(q, self.row(slot as usize));
        if Self::better(&best, sim, threshold) {
          best = Some(Hit { id: self.ids[slot as usize], similarity: sim });
        }
      }
    }
    best
  }

  fn nearest_list(&self, v: &[f32]) -> usize {
    let ivf = self.ivf.as_ref().expect("an inverted file");
    nearest(&ivf.centroids, self.dim, v)
  }

  /// Spherical k-means on a strided sample of the entries, then every entry filed under its nearest
  /// centroid. Deterministic: the first centroids are evenly spaced entries.
  fn train(&mut self) {
    let n = self.ids.len();
    let dim = self.dim;
    let lists = ((n as f64).sqrt().round() as usize).max(2);
    let samples = (lists * SAMPLES_PER_LIST).min(n);
    let sample: Vec<usize> = (0..samples).map(|i| i * n / samples).collect();
    let mut centroids = Vec::with_capacity(lists * dim);
    for c in 0..lists {
      centroids.extend_from_slice(self.row(sample[c * samples / lists]));
    }
    let mut assign = vec![0usize; samples];
    let mut sums = vec![0f64; lists * dim];
    let mut counts = vec![0usize; lists];
    for _ in 0..TRAIN_ITERATIONS {
      for (k, &slot) in sample.iter().enumerate() {
        assign[k] = nearest(&centroids, dim, self.row(slot));
      }
      sums.fill(0.0);
      counts.fill(0);
      for (k, &slot) in sample.iter().enumerate() {
        let c = assign[k];
        counts[c] += 1;
        for (s, &x) in sums[c * dim..(c + 1) * dim].iter_mut().zip(self.row(slot)) {
          *s += x as f64;
        }
      }
      for c in 0..lists {
        let sum = &sums[c * dim..(c + 1) * dim];
        let norm = sum.iter().map(|x| x * x).sum::<f64>().sqrt();
        // An empty (or degenerate) cluster keeps its previous centroid.
        if counts[c] > 0 && norm > 0.0 {
          for (dst, &s) in centroids[c * dim..(c + 1) * dim].iter_mut().zip(sum) {
            *dst = (s / norm) as f32;
          }
        }
      }
    }
    let mut ivf = Ivf {
      centroids,
      lists: vec![Vec::new(); lists],
      list_of: Vec::with_capacity(n),
      pos_in_list: Vec::with_capacity(n),
    };
    for slot in 0..n {
      let c = nearest(&ivf.centroids, dim, self.row(slot));
      ivf.list_of.push(c as u32);
      ivf.pos_in_list.push(ivf.lists[c].len() as u32);
      ivf.lists[c].push(slot as u32);
    }
    self.ivf = Some(ivf);
    self.train_at = n * 2;
    self.trained_size = n;
    self.adds_since_training = 0;
  }
}

fn nearest(centroids: &[f32], dim: usize, v: &[f32]) -> usize {
  let mut best = (f32::NEG_INFINITY, 0);
  for (c, centroid) in centroids.chunks_exact(dim).enumerate() {
    let s = dot(v, centroid);
    if s > best.0 {
      best = (s, c);
    }
  }
  best.1
}

#[cfg(test)]
mod tests {
  use super::*;

  fn lcg(seed: &mut u64) -> f32 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
  }

  #[test]
  fn vector_kernel_agrees_with_plain_loop() {
    let mut seed = 3u64;
    for n in [8usize, 9, 31, 32, 33, 100, 384, 1536, 4095] {
      let a: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
      let b: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
      let exact: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
      assert!((dot_plain(&a, &b) as f64 - exact).abs() < 1e-4, "plain, n = {n}");
      assert!((dot(&a, &b) as f64 - exact).abs() < 1e-4, "dispatched, n = {n}");
    }
  }

  #[test]
  fn full_index_retrains_once_its_entries_are_replaced() {
    let dim = 16;
    let mut index = Index::new(dim, (600 * entry_bytes(dim)) as f64, Some(256)).unwrap();
    let mut seed = 9u64;
    let mut add = |index: &mut Index, id: u32| {
      let v: Vec<f32> = (0..dim).map(|_| lcg(&mut seed)).collect();
      index.add(id, &v).unwrap();
    };
    for id in 0..600 {
      add(&mut index, id);
    }
    // Trained at 256 and 512 entries; full at 600, so it never reaches 1024.
    assert_eq!(index.ivf.as_ref().unwrap().lists.len(), 23);
    // 512 adds after the training at 512 entries (ids 512 to 1023) retrain it.
    for id in 600..1023 {
      add(&mut index, id);
    }
    assert_eq!(index.len(), 600);
    assert_eq!(index.ivf.as_ref().unwrap().lists.len(), 23, "511 adds since training");
    for id in 1023..1100 {
      add(&mut index, id);
    }
    assert_eq!(index.ivf.as_ref().unwrap().lists.len(), 24, "retrained on the 600 entries it holds");
  }

  #[test]
  fn inverted_file_stays_consistent_through_removals() {
    let dim = 16;
    let mut index = Index::new(dim, 1e9, Some(256)).unwrap();
    let mut seed = 7u64;
    for id in 0..1000u32 {
      let v: Vec<f32> = (0..dim).map(|_| lcg(&mut seed)).collect();
      index.add(id, &v).unwrap();
    }
    assert!(index.approximate());
    for id in (0..1000u32).step_by(3) {
      assert!(index.remove(id));
    }
    let ivf = index.ivf.as_ref().unwrap();
    let filed: usize = ivf.lists.iter().map(Vec::len).sum();
    assert_eq!(filed, index.len());
    for (l, list) in ivf.lists.iter().enumerate() {
      for (p, &slot) in list.iter().enumerate() {
        assert_eq!(ivf.list_of[slot as usize] as usize, l);
        assert_eq!(ivf.pos_in_list[slot as usize] as usize, p);
      }
    }
    for (&id, &slot) in &index.slot_of {
      assert_eq!(index.ids[slot as usize], id);
    }
  }
}
