//! Switchyard's native hot path: request scanning and patching, token counting, the vector index.
//! Every export but `listenReusePort` and `lowerThreadPriority` (system calls) has a TypeScript twin in
//! `src/native/` with identical results (the vector index's twin by brute force only). The shared cache
//! and vector registry live in this library's statics, one for every thread of the process; without the
//! addon each thread keeps its own (src/cache/).

mod listen;
mod rewrite;
mod scan;
mod shared_cache;
mod shared_vectors;
mod thread;
mod tokens;
mod transcode;
mod vector;

use napi::bindgen_prelude::{
  Buffer, Either, Env, Float32ArraySlice, Float64ArraySlice, Int32ArraySlice, Object, Utf16String,
};
use napi::{Error, Result, Status};
use napi_derive::napi;

use scan::{Model, ModelType, Scan};

fn model_value(body: &[u8], m: Model) -> Either<String, Utf16String> {
  match m {
    // SAFETY: the scanner validated these bytes as UTF-8.
    Model::Raw(s, e) => Either::A(unsafe { String::from_utf8_unchecked(body[s..e].to_vec()) }),
    Model::Decoded(units) => Either::B(Utf16String::from(units)),
  }
}

fn type_name(t: ModelType) -> &'static str {
  match t {
    ModelType::Missing => "missing",
    ModelType::String => "string",
    ModelType::Other => "other",
  }
}

/// Validates the body and locates the top-level `model` and `stream` members; returns a plain object.
#[napi(ts_return_type = "ScanResult")]
pub fn scan_request(env: Env, body: &[u8]) -> Result<Object<'_>> {
  let mut obj = Object::new(&env)?;
  match scan::scan(body) {
    Ok(Scan { model_type, model_start, model_end, stream, gateway_fields, model_repeated, model, metadata_start, metadata_end }) => {
      obj.set("ok", true)?;
      obj.set("modelType", type_name(model_type))?;
      match model {
        Some(m) => obj.set("model", model_value(body, m))?,
        None => obj.set("model", ())?,
      }
      obj.set("modelStart", model_start)?;
      obj.set("modelEnd", model_end)?;
      match stream {
        1 => obj.set("stream", true)?,
        2 => obj.set("stream", false)?,
        _ => obj.set("stream", ())?,
      }
      obj.set("gatewayFields", gateway_fields)?;
      obj.set("modelRepeated", model_repeated)?;
      obj.set("metadataStart", metadata_start)?;
      obj.set("metadataEnd", metadata_end)?;
    }
    Err(e) => {
      obj.set("ok", false)?;
      obj.set("error", e.message)?;
      obj.set("offset", e.offset as f64)?;
    }
  }
  Ok(obj)
}

/// Allocation-light form used by the loader: fills `out` (Int32Array, length >= SCAN_SLOTS) with
/// [ok, modelType 0 missing|1 string|2 other, modelStart, modelEnd, stream 0 none|1 true|2 false, errorOffset,
/// gatewayFields 0|1, modelRepeated 0|1, metadataStart, metadataEnd] and returns the decoded model (ok) or the
/// error message (not ok).
#[napi]
pub fn scan_request_into(body: &[u8], mut out: Int32ArraySlice) -> Result<Option<Either<String, Utf16String>>> {
  // SAFETY: the call is synchronous on the JS thread, so nothing else touches `out` meanwhile.
  let out = unsafe { out.as_mut() };
  if out.len() < SCAN_SLOTS as usize {
    return Err(Error::new(Status::InvalidArg, "out must hold at least SCAN_SLOTS slots"));
  }
  match scan::scan(body) {
    Ok(Scan { model_type, model_start, model_end, stream, gateway_fields, model_repeated, model, metadata_start, metadata_end }) => {
      out[0] = 1;
      out[1] = model_type as i32;
      out[2] = model_start;
      out[3] = model_end;
      out[4] = stream as i32;
      out[5] = -1;
      out[6] = gateway_fields as i32;
      out[7] = model_repeated as i32;
      out[8] = metadata_start;
      out[9] = metadata_end;
      Ok(model.map(|m| model_value(body, m)))
    }
    Err(e) => {
      out[0] = 0;
      out[5] = e.offset as i32;
      Ok(Some(Either::A(e.message)))
    }
  }
}

/// Replaces the model string token at [modelStart, modelEnd) with the JSON encoding of `newModel`.
#[napi]
pub fn rewrite_model(body: &[u8], model_start: f64, model_end: f64, new_model: Utf16String) -> Result<Buffer> {
  rewrite::rewrite(body, model_start, model_end, &new_model)
    .map(Buffer::from)
    .map_err(|m| Error::new(Status::InvalidArg, m))
}

/// Exact tiktoken token count of `text` encoded as ordinary text (special-token text is not special).
#[napi]
pub fn count_tokens(text: String, encoding: String) -> Result<u32> {
  tokens::count(&text, &encoding).map_err(|m| Error::new(Status::InvalidArg, m))
}

/// Anthropic Messages reply → OpenAI chat.completion JSON text, identical to the TypeScript path's, with
/// [prompt_tokens, completion_tokens] written into `usage`; null when it declines (the caller then runs
/// the TypeScript path). `modelJson` is the requested model already JSON-encoded.
#[napi]
pub fn anthropic_response_to_openai(
  body: &[u8],
  model_json: String,
  created: f64,
  mut usage: Float64ArraySlice,
) -> Result<Option<String>> {
  // SAFETY: the call is synchronous on the JS thread, so nothing else touches `usage` meanwhile.
  let usage = unsafe { usage.as_mut() };
  if usage.len() < 2 {
    return Err(Error::new(Status::InvalidArg, "usage must hold at least 2 slots"));
  }
  Ok(transcode::anthropic_to_openai(body, &model_json, created).map(|(text, counts)| {
    usage[0] = counts[0];
    usage[1] = counts[1];
    // SAFETY: the converter writes only UTF-8.
    unsafe { String::from_utf8_unchecked(text) }
  }))
}

/// The same conversion as `anthropicResponseToOpenai`, returning the UTF-8 bytes instead of a string
/// (the reply can write them as they are, with no UTF-16 string in between).
#[napi]
pub fn anthropic_response_to_openai_bytes(
  body: &[u8],
  model_json: String,
  created: f64,
  mut usage: Float64ArraySlice,
) -> Result<Option<Buffer>> {
  // SAFETY: the call is synchronous on the JS thread, so nothing else touches `usage` meanwhile.
  let usage = unsafe { usage.as_mut() };
  if usage.len() < 2 {
    return Err(Error::new(Status::InvalidArg, "usage must hold at least 2 slots"));
  }
  Ok(transcode::anthropic_to_openai(body, &model_json, created).map(|(bytes, counts)| {
    usage[0] = counts[0];
    usage[1] = counts[1];
    Buffer::from(bytes)
  }))
}

/// A listening TCP socket on `host:port` (IPv4 or IPv6 literal) in the port's SO_REUSEPORT group, with
/// SO_REUSEADDR, O_NONBLOCK and close-on-exec set; returns the descriptor, which the caller then owns.
#[napi]
pub fn listen_reuse_port(host: String, port: u32, backlog: u32) -> Result<i32> {
  let port = u16::try_from(port).map_err(|_| Error::new(Status::InvalidArg, "port must be below 65536"))?;
  let backlog = i32::try_from(backlog).map_err(|_| Error::new(Status::InvalidArg, "backlog is too large"))?;
  listen::listen(&host, port, backlog).map_err(|m| Error::new(Status::GenericFailure, m))
}

/// Lowers the calling thread's scheduling priority to `nice` (0 to 19), so that under CPU contention the
/// threads serving requests run first. Linux schedules threads apart (a thread id is a task id); answers
/// whether the priority was set.
#[napi]
pub fn lower_thread_priority(nice: u32) -> bool {
  thread::lower_priority(nice.min(19) as i32)
}

/// The nesting limit the scanner enforces.
#[napi]
pub const MAX_DEPTH: u32 = scan::MAX_DEPTH as u32;

/// Slots `scanRequestInto` fills; the loader refuses an addon built with another count.
#[napi]
pub const SCAN_SLOTS: u32 = 10;

fn invalid(message: String) -> Error {
  Error::new(Status::InvalidArg, message)
}

/// The semantic cache's similarity search over unit-length f32 vectors of one dimension (see vector.rs).
/// Bounded by `maxBytes`: adding to a full index evicts the oldest entries first and answers their ids.
#[napi]
pub struct VectorIndex {
  inner: vector::Index,
}

#[napi]
impl VectorIndex {
  /// `approximateFrom`: entries from which the inverted file is used (default `VECTOR_APPROXIMATE_FROM`).
  #[napi(constructor)]
  pub fn new(dimension: u32, max_bytes: f64, approximate_from: Option<u32>) -> Result<Self> {
    Ok(VectorIndex { inner: vector::Index::new(dimension, max_bytes, approximate_from).map_err(invalid)? })
  }

  /// Stores `vector`, normalised, under `id` (replacing that id's entry); answers the ids evicted to make
  /// room, oldest first.
  #[napi]
  pub fn add(&mut self, id: u32, vector: Float32ArraySlice) -> Result<Vec<u32>> {
    self.inner.add(id, &vector).map_err(invalid)
  }

  /// Drops the entry under `id`; answers whether there was one.
  #[napi]
  pub fn remove(&mut self, id: u32) -> bool {
    self.inner.remove(id)
  }

  /// Writes [id, similarity] of the best entry with similarity >= `threshold` into `out` and answers true,
  /// or answers false. `exact` forces brute force (the reference for recall).
  #[napi]
  pub fn search_into(
    &self,
    query: Float32ArraySlice,
    threshold: f64,
    mut out: Float64ArraySlice,
    exact: Option<bool>,
  ) -> Result<bool> {
    // SAFETY: the call is synchronous on the JS thread, so nothing else touches `out` meanwhile.
    let out = unsafe { out.as_mut() };
    if out.len() < 2 {
      return Err(invalid("out must hold at least 2 slots".to_string()));
    }
    let found = if exact == Some(true) {
      self.inner.search_exact(&query, threshold)
    } else {
      self.inner.search(&query, threshold)
    }
    .map_err(invalid)?;
    Ok(match found {
      Some(hit) => {
        out[0] = hit.id as f64;
        out[1] = hit.similarity as f64;
        true
      }
      None => false,
    })
  }

  #[napi(getter)]
  pub fn size(&self) -> u32 {
    self.inner.len() as u32
  }

  /// Bytes the entries take by the index's own count: each vector plus a fixed per-entry overhead.
  #[napi(getter)]
  pub fn bytes(&self) -> f64 {
    self.inner.bytes() as f64
  }

  /// Whether searches currently go through the inverted file rather than brute force.
  #[napi(getter)]
  pub fn approximate(&self) -> bool {
    self.inner.approximate()
  }
}

/// Entries from which a VectorIndex searches its inverted file instead of scanning every entry.
#[napi]
pub const VECTOR_APPROXIMATE_FROM: u32 = vector::APPROXIMATE_FROM;

/// Bytes a VectorIndex counts per entry besides the vector's own 4 bytes per value.
#[napi]
pub const VECTOR_ENTRY_OVERHEAD: u32 = vector::ENTRY_OVERHEAD as u32;

/// A byte bound as an integer count; refuses negatives, fractions and non-finite numbers.
fn bound(max_bytes: f64) -> Result<u64> {
  if !max_bytes.is_finite() || max_bytes < 0.0 || max_bytes.fract() != 0.0 {
    return Err(invalid("maxBytes must be a non-negative integer".to_string()));
  }
  Ok(max_bytes as u64)
}

/// Sets the process-wide cache's byte bound (keys plus values); a smaller one evicts, least recently used
/// first, after dropping entries expired at `now` (ms).
#[napi]
pub fn shared_cache_configure(max_bytes: f64, now: f64) -> Result<()> {
  let max_bytes = bound(max_bytes)?;
  shared_cache::with_store(|s| s.configure(max_bytes, now));
  Ok(())
}

/// A copy of the value under `key`, or null when absent or expired at `now` (ms; an expired entry is
/// removed). A hit makes the entry the most recently used.
#[napi]
pub fn shared_cache_get(key: String, now: f64) -> Option<Buffer> {
  shared_cache::with_store(|s| s.get(&key, now)).map(Buffer::from)
}

/// Stores a copy of `value` under `key` until `now + ttlMs`; answers the entries evicted to make room, or
/// null when not stored (ttlMs not positive, or key and value alone over the bound).
#[napi]
pub fn shared_cache_set(key: String, value: &[u8], ttl_ms: f64, now: f64) -> Option<u32> {
  shared_cache::with_store(|s| s.set(&key, value, ttl_ms, now))
}

/// Drops the entry under `key`; answers whether there was one.
#[napi]
pub fn shared_cache_delete(key: String) -> bool {
  shared_cache::with_store(|s| s.delete(&key))
}

#[napi(object)]
pub struct SharedCacheStats {
  /// Entries not expired at the time asked.
  pub entries: u32,
  /// Their keys' and values' bytes.
  pub bytes: f64,
  /// Entries dropped to stay within the bound since the process started.
  pub evictions: f64,
}

/// The process-wide cache's figures, after dropping the entries expired at `now` (ms).
#[napi]
pub fn shared_cache_stats(now: f64) -> SharedCacheStats {
  let s = shared_cache::with_store(|s| s.stats(now));
  SharedCacheStats { entries: s.entries as u32, bytes: s.bytes as f64, evictions: s.evictions as f64 }
}

/// Empties the process-wide cache (the bound and eviction count stay).
#[napi]
pub fn shared_cache_clear() {
  shared_cache::with_store(|s| s.clear());
}

/// Sets the byte bound over every scope of the process-wide vector registry (vectors, payloads and
/// overhead); a smaller one evicts the oldest entries first.
#[napi]
pub fn shared_vectors_configure(max_bytes: f64) -> Result<()> {
  let max_bytes = bound(max_bytes)?;
  shared_vectors::REGISTRY.configure(max_bytes);
  Ok(())
}

/// Stores `vector` (normalised) and a copy of `payload` in `scope`; answers the entry's id, unique in the
/// process, or null when the entry alone is over the bound. Evicts the oldest entries of any scope to
/// stay within the bound. Refuses a vector whose dimension is not the scope's.
#[napi]
pub fn shared_vectors_add(scope: String, vector: Float32ArraySlice, payload: &[u8]) -> Result<Option<u32>> {
  shared_vectors::REGISTRY.add(&scope, &vector, payload).map_err(invalid)
}

/// The payload of the entry of `scope` most similar to `query` with similarity >= `threshold`, writing
/// [similarity, id] into `out`; null when there is none (or no such scope).
#[napi]
pub fn shared_vectors_search(
  scope: String,
  query: Float32ArraySlice,
  threshold: f64,
  mut out: Float64ArraySlice,
) -> Result<Option<Buffer>> {
  // SAFETY: the call is synchronous on the JS thread, so nothing else touches `out` meanwhile.
  let out = unsafe { out.as_mut() };
  if out.len() < 2 {
    return Err(invalid("out must hold at least 2 slots".to_string()));
  }
  let found = shared_vectors::REGISTRY.search(&scope, &query, threshold).map_err(invalid)?;
  Ok(found.map(|(hit, payload)| {
    out[0] = hit.similarity as f64;
    out[1] = hit.id as f64;
    Buffer::from(payload)
  }))
}

/// Drops entry `id` of `scope` (and the scope once empty); answers whether there was one.
#[napi]
pub fn shared_vectors_remove(scope: String, id: u32) -> bool {
  shared_vectors::REGISTRY.remove(&scope, id)
}

/// Entries `scope` holds: with the dimension, what a search of it costs.
#[napi]
pub fn shared_vectors_scope_size(scope: String) -> u32 {
  shared_vectors::REGISTRY.scope_size(&scope) as u32
}

#[napi(object)]
pub struct SharedVectorsStats {
  pub scopes: u32,
  pub entries: u32,
  /// Vectors, payloads and overhead, as the bound counts them.
  pub bytes: f64,
}

#[napi]
pub fn shared_vectors_stats() -> SharedVectorsStats {
  let s = shared_vectors::REGISTRY.stats();
  SharedVectorsStats { scopes: s.scopes as u32, entries: s.entries as u32, bytes: s.bytes as f64 }
}

/// Empties the process-wide vector registry (the bound stays).
#[napi]
pub fn shared_vectors_clear() {
  shared_vectors::REGISTRY.clear();
}

/// Bytes the vector registry counts per scope besides its name.
#[napi]
pub const SHARED_VECTORS_SCOPE_OVERHEAD: u32 = shared_vectors::SCOPE_OVERHEAD as u32;
