//! Request-body scanner: validates RFC 8259 JSON without building a tree and
//! records where the top-level `model`, `stream` and `metadata` members are, and whether the body names a
//! member the gateway consumes itself (`fallbacks`, `timeout`, `cache`).
//!
//! The algorithm, error messages and error offsets mirror `src/native/scan.ts`
//! exactly; the shared vectors in `test/vectors/scan.json` hold both to that.

/// Containers nested deeper than this are rejected (the top-level object counts as 1).
pub const MAX_DEPTH: usize = 512;

/// Offsets travel to JavaScript as i32, so larger bodies are refused outright.
pub const MAX_BODY: usize = i32::MAX as usize;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelType {
  Missing = 0,
  String = 1,
  Other = 2,
}

#[derive(Debug)]
pub enum Model {
  /// Token without escapes: the bytes between the quotes are the value.
  Raw(usize, usize),
  /// Token with escapes, decoded to UTF-16 so lone surrogates survive as JSON.parse keeps them.
  Decoded(Vec<u16>),
}

#[derive(Debug)]
pub struct Scan {
  pub model_type: ModelType,
  pub model_start: i32,
  pub model_end: i32,
  /// 0 absent or not a boolean, 1 true, 2 false.
  pub stream: u8,
  /// A top-level `fallbacks`, `timeout` or `cache` member: the gateway's own fields, removed before the provider sees the body.
  pub gateway_fields: bool,
  /// More than one top-level `model` member: routing reads the last, a provider may read the first.
  pub model_repeated: bool,
  pub model: Option<Model>,
  /// The last top-level `metadata` member's value when it is an object: its bytes from `{` to past `}`
  /// (the request log reads the client's metadata there alone); -1 otherwise.
  pub metadata_start: i32,
  pub metadata_end: i32,
}

#[derive(Debug)]
pub struct ScanError {
  pub message: String,
  pub offset: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
  Model,
  Stream,
  Metadata,
  Gateway,
  Other,
}

struct StrInfo {
  end: usize,
  escaped: bool,
}

fn err(message: &str, offset: usize) -> ScanError {
  ScanError { message: format!("{message} at byte {offset}"), offset }
}

fn eof(len: usize) -> ScanError {
  err("Unexpected end of input", len)
}

fn unexpected(b: &[u8], pos: usize) -> ScanError {
  match b.get(pos) {
    None => eof(b.len()),
    Some(&c) if (0x20..0x7f).contains(&c) => err(&format!("Unexpected token '{}'", c as char), pos),
    Some(&c) => err(&format!("Unexpected byte 0x{c:02x}"), pos),
  }
}

#[inline(always)]
fn skip_ws(b: &[u8], mut pos: usize) -> usize {
  while pos < b.len() {
    match b[pos] {
      b' ' | b'\t' | b'\n' | b'\r' => pos += 1,
      _ => break,
    }
  }
  pos
}

#[inline(always)]
fn is_cont(b: &[u8], pos: usize, lo: u8, hi: u8) -> bool {
  matches!(b.get(pos), Some(&c) if c >= lo && c <= hi)
}

/// Length of the UTF-8 sequence at `pos` (lead byte >= 0x80), or None when it is not well formed.
fn utf8_len(b: &[u8], pos: usize) -> Option<usize> {
  let c = b[pos];
  let ok = match c {
    0xc2..=0xdf => is_cont(b, pos + 1, 0x80, 0xbf),
    0xe0 => is_cont(b, pos + 1, 0xa0, 0xbf) && is_cont(b, pos + 2, 0x80, 0xbf),
    0xe1..=0xec | 0xee..=0xef => is_cont(b, pos + 1, 0x80, 0xbf) && is_cont(b, pos + 2, 0x80, 0xbf),
    0xed => is_cont(b, pos + 1, 0x80, 0x9f) && is_cont(b, pos + 2, 0x80, 0xbf),
    0xf0 => {
      is_cont(b, pos + 1, 0x90, 0xbf) && is_cont(b, pos + 2, 0x80, 0xbf) && is_cont(b, pos + 3, 0x80, 0xbf)
    }
    0xf1..=0xf3 => {
      is_cont(b, pos + 1, 0x80, 0xbf) && is_cont(b, pos + 2, 0x80, 0xbf) && is_cont(b, pos + 3, 0x80, 0xbf)
    }
    0xf4 => {
      is_cont(b, pos + 1, 0x80, 0x8f) && is_cont(b, pos + 2, 0x80, 0xbf) && is_cont(b, pos + 3, 0x80, 0xbf)
    }
    _ => false,
  };
  if !ok {
    return None;
  }
  Some(match c {
    0xc2..=0xdf => 2,
    0xe0..=0xef => 3,
    _ => 4,
  })
}

#[inline(always)]
fn hex_val(c: u8) -> Option<u16> {
  match c {
    b'0'..=b'9' => Some((c - b'0') as u16),
    b'a'..=b'f' => Some((c - b'a' + 10) as u16),
    b'A'..=b'F' => Some((c - b'A' + 10) as u16),
    _ => None,
  }
}

/// `pos` is at the opening quote.
fn scan_string(b: &[u8], pos: usize) -> Result<StrInfo, ScanError> {
  let len = b.len();
  let mut i = pos + 1;
  let mut escaped = false;
  loop {
    // Plain printable ASCII is the common case; stay in this tight loop for it.
    while i < len {
      let c = b[i];
      if c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c) {
        break;
      }
      i += 1;
    }
    if i >= len {
      return Err(eof(len));
    }
    let c = b[i];
    if c == b'"' {
      return Ok(StrInfo { end: i + 1, escaped });
    }
    if c == b'\\' {
      escaped = true;
      let Some(&e) = b.get(i + 1) else {
        return Err(eof(len));
      };
      match e {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
        b'u' => {
          for k in 2..6 {
            match b.get(i + k) {
              None => return Err(eof(len)),
              Some(&h) if hex_val(h).is_some() => {}
              Some(_) => return Err(err("Invalid unicode escape", i + k)),
            }
          }
          i += 6;
        }
        _ => return Err(err("Invalid escape", i + 1)),
      }
    } else if c < 0x20 {
      return Err(err("Unescaped control character in string", i));
    } else {
      match utf8_len(b, i) {
        Some(n) => i += n,
        None => return Err(err("Invalid UTF-8", i)),
      }
    }
  }
}

/// Decodes a validated string token (quotes included) to UTF-16 code units.
pub fn decode_utf16(tok: &[u8]) -> Vec<u16> {
  let inner = &tok[1..tok.len() - 1];
  let mut out = Vec::with_capacity(inner.len());
  let mut i = 0;
  while i < inner.len() {
    let run = i;
    while i < inner.len() && inner[i] != b'\\' {
      i += 1;
    }
    if i > run {
      // SAFETY: scan_string validated the UTF-8 and a backslash never splits a sequence.
      let s = unsafe { std::str::from_utf8_unchecked(&inner[run..i]) };
      out.extend(s.encode_utf16());
    }
    if i >= inner.len() {
      break;
    }
    let e = inner[i + 1];
    let unit = match e {
      b'b' => 0x08,
      b'f' => 0x0c,
      b'n' => 0x0a,
      b'r' => 0x0d,
      b't' => 0x09,
      b'u' => {
        let mut v = 0u16;
        for k in 2..6 {
          v = (v << 4) | hex_val(inner[i + k]).unwrap_or(0);
        }
        i += 4;
        v
      }
      other => other as u16,
    };
    out.push(unit);
    i += 2;
  }
  out
}

fn classify_key(b: &[u8], s: &StrInfo, start: usize) -> Key {
  let tok = &b[start..s.end];
  if !s.escaped {
    return match &tok[1..tok.len() - 1] {
      b"model" => Key::Model,
      b"stream" => Key::Stream,
      b"metadata" => Key::Metadata,
      b"fallbacks" | b"timeout" | b"cache" => Key::Gateway,
      _ => Key::Other,
    };
  }
  let units = decode_utf16(tok);
  let is = |name: &str| units.iter().copied().eq(name.encode_utf16());
  if is("model") {
    Key::Model
  } else if is("stream") {
    Key::Stream
  } else if is("metadata") {
    Key::Metadata
  } else if is("fallbacks") || is("timeout") || is("cache") {
    Key::Gateway
  } else {
    Key::Other
  }
}

fn scan_number(b: &[u8], mut pos: usize) -> Result<usize, ScanError> {
  let len = b.len();
  let digit = |p: usize| matches!(b.get(p), Some(c) if c.is_ascii_digit());
  if b[pos] == b'-' {
    pos += 1;
  }
  match b.get(pos) {
    None => return Err(eof(len)),
    Some(b'0') => pos += 1,
    Some(b'1'..=b'9') => {
      pos += 1;
      while digit(pos) {
        pos += 1;
      }
    }
    Some(_) => return Err(unexpected(b, pos)),
  }
  if b.get(pos) == Some(&b'.') {
    pos += 1;
    if !digit(pos) {
      return Err(unexpected(b, pos));
    }
    while digit(pos) {
      pos += 1;
    }
  }
  if matches!(b.get(pos), Some(b'e' | b'E')) {
    pos += 1;
    if matches!(b.get(pos), Some(b'+' | b'-')) {
      pos += 1;
    }
    if !digit(pos) {
      return Err(unexpected(b, pos));
    }
    while digit(pos) {
      pos += 1;
    }
  }
  Ok(pos)
}

fn scan_literal(b: &[u8], pos: usize, word: &[u8]) -> Result<usize, ScanError> {
  for (k, &w) in word.iter().enumerate().skip(1) {
    if b.get(pos + k) != Some(&w) {
      return Err(unexpected(b, pos + k));
    }
  }
  Ok(pos + word.len())
}

pub fn scan(b: &[u8]) -> Result<Scan, ScanError> {
  let len = b.len();
  if len > MAX_BODY {
    return Err(err("Body too large", 0));
  }
  let mut out = Scan {
    model_type: ModelType::Missing,
    model_start: -1,
    model_end: -1,
    stream: 0,
    gateway_fields: false,
    model_repeated: false,
    model: None,
    metadata_start: -1,
    metadata_end: -1,
  };
  // The top-level `metadata` object being scanned: its end is where the depth comes back to 1.
  let mut metadata_open = false;
  let mut pos = skip_ws(b, 0);
  match b.get(pos) {
    None => return Err(eof(len)),
    Some(b'{') => {}
    Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
      return Err(err("Top-level value must be an object", pos));
    }
    Some(_) => return Err(unexpected(b, pos)),
  }
  // true = object, false = array.
  let mut stack: Vec<bool> = Vec::with_capacity(16);
  let mut key = Key::Other;
  // Entry state: expecting a value at `pos`.
  'value: loop {
    let at_top = stack.len() == 1;
    let c = match b.get(pos) {
      None => return Err(eof(len)),
      Some(&c) => c,
    };
    if at_top && key == Key::Gateway {
      out.gateway_fields = true;
    }
    if at_top && key == Key::Stream {
      out.stream = match c {
        b't' => 1,
        b'f' => 2,
        _ => 0,
      };
    }
    if at_top && key == Key::Model && out.model_type != ModelType::Missing {
      out.model_repeated = true;
    }
    if at_top && key == Key::Model && c != b'"' {
      out.model_type = ModelType::Other;
      out.model_start = -1;
      out.model_end = -1;
      out.model = None;
    }
    if at_top && key == Key::Metadata {
      // JSON.parse keeps the last member of a name: so does this.
      metadata_open = c == b'{';
      out.metadata_start = if metadata_open { pos as i32 } else { -1 };
      out.metadata_end = -1;
    }
    match c {
      b'{' | b'[' => {
        if stack.len() >= MAX_DEPTH {
          return Err(err(&format!("Nesting deeper than {MAX_DEPTH}"), pos));
        }
        let is_obj = c == b'{';
        stack.push(is_obj);
        pos = skip_ws(b, pos + 1);
        let close = if is_obj { b'}' } else { b']' };
        if b.get(pos) == Some(&close) {
          stack.pop();
          pos += 1;
          if metadata_open && stack.len() == 1 {
            metadata_open = false;
            out.metadata_end = pos as i32;
          }
        } else if is_obj {
          pos = read_key(b, pos, stack.len() == 1, &mut key)?;
          continue 'value;
        } else {
          continue 'value;
        }
      }
      b'"' => {
        let s = scan_string(b, pos)?;
        if at_top && key == Key::Model {
          out.model_type = ModelType::String;
          out.model_start = pos as i32;
          out.model_end = s.end as i32;
          out.model = Some(if s.escaped { Model::Decoded(decode_utf16(&b[pos..s.end])) } else { Model::Raw(pos + 1, s.end - 1) });
        }
        pos = s.end;
      }
      b'-' | b'0'..=b'9' => pos = scan_number(b, pos)?,
      b't' => pos = scan_literal(b, pos, b"true")?,
      b'f' => pos = scan_literal(b, pos, b"false")?,
      b'n' => pos = scan_literal(b, pos, b"null")?,
      _ => return Err(unexpected(b, pos)),
    }
    // After a value: close containers or move to the next member/element.
    loop {
      pos = skip_ws(b, pos);
      let Some(&is_obj) = stack.last() else {
        if pos != len {
          return Err(err("Unexpected data after JSON", pos));
        }
        return Ok(out);
      };
      match b.get(pos) {
        None => return Err(eof(len)),
        Some(b',') => {
          pos = skip_ws(b, pos + 1);
          if is_obj {
            pos = read_key(b, pos, stack.len() == 1, &mut key)?;
          }
          continue 'value;
        }
        Some(b'}') if is_obj => {
          stack.pop();
          pos += 1;
          if metadata_open && stack.len() == 1 {
            metadata_open = false;
            out.metadata_end = pos as i32;
          }
        }
        Some(b']') if !is_obj => {
          stack.pop();
          pos += 1;
        }
        Some(_) => return Err(unexpected(b, pos)),
      }
    }
  }
}

/// `pos` is at the expected opening quote of a key; returns the position of the value.
fn read_key(b: &[u8], pos: usize, top: bool, key: &mut Key) -> Result<usize, ScanError> {
  if b.get(pos) != Some(&b'"') {
    return Err(unexpected(b, pos));
  }
  let s = scan_string(b, pos)?;
  if top {
    *key = classify_key(b, &s, pos);
  }
  let p = skip_ws(b, s.end);
  if b.get(p) != Some(&b':') {
    return Err(unexpected(b, p));
  }
  Ok(skip_ws(b, p + 1))
}
