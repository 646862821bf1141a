//! Anthropic Messages reply → OpenAI chat.completion JSON text, bytes in and bytes out.
//!
//! The output is byte for byte what the TypeScript path writes (`chatResponse` in
//! src/providers/anthropic/response.ts, then `openAIFormat.fromCanonical`). Whatever this module cannot
//! reproduce exactly it declines (`None`), and the caller runs the TypeScript path: invalid UTF-8, lone
//! surrogates, bodies the TypeScript path rejects or would render with `undefined`/NaN, non-integer or
//! unsafe token counts, tool inputs with duplicate or array-index keys (JavaScript reorders those).

use std::borrow::Cow;
use std::collections::HashSet;

use serde::Deserialize;
use serde_json::value::RawValue;

/// The tool that carries `response_format: json_object` (JSON_TOOL in request.ts).
const JSON_TOOL: &str = "json_output";
/// Integers up to 2^53 are exact as JavaScript numbers.
const MAX_SAFE: u64 = (1 << 53) - 1;

#[derive(Deserialize)]
struct Message<'a> {
  #[serde(rename = "type", borrow)]
  kind: Cow<'a, str>,
  #[serde(borrow)]
  id: Cow<'a, str>,
  #[serde(borrow)]
  content: Vec<Block<'a>>,
  #[serde(borrow, default)]
  stop_reason: Option<Cow<'a, str>>,
  #[serde(borrow)]
  usage: Usage<'a>,
}

#[derive(Deserialize)]
struct Usage<'a> {
  input_tokens: u64,
  output_tokens: u64,
  #[serde(default)]
  cache_creation_input_tokens: Option<u64>,
  #[serde(default)]
  cache_read_input_tokens: Option<u64>,
  #[serde(borrow, default)]
  output_tokens_details: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Details<'a> {
  #[serde(borrow, default)]
  thinking_tokens: Option<&'a RawValue>,
}

/// The fields the converter reads; one of the wrong type makes serde fail and the module decline.
#[derive(Deserialize)]
struct Block<'a> {
  #[serde(rename = "type", borrow, default)]
  kind: Option<Cow<'a, str>>,
  #[serde(borrow, default)]
  text: Option<Cow<'a, str>>,
  #[serde(borrow, default)]
  thinking: Option<Cow<'a, str>>,
  #[serde(borrow, default)]
  signature: Option<Cow<'a, str>>,
  #[serde(borrow, default)]
  data: Option<Cow<'a, str>>,
  #[serde(borrow, default)]
  id: Option<Cow<'a, str>>,
  #[serde(borrow, default)]
  name: Option<Cow<'a, str>>,
  #[serde(borrow, default)]
  input: Option<&'a RawValue>,
}

/// Appends `s` as JSON.stringify writes a string without lone surrogates.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
  const HEX: &[u8; 16] = b"0123456789abcdef";
  const ONES: u64 = 0x0101_0101_0101_0101;
  const HIGHS: u64 = 0x8080_8080_8080_8080;
  out.reserve(s.len() + 2);
  out.push(b'"');
  let bytes = s.as_bytes();
  let mut run = 0;
  let mut i = 0;
  while i < bytes.len() {
    // Eight bytes at a time while none is a control character, a quote or a backslash.
    if let Some(chunk) = bytes.get(i..i + 8) {
      let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
      let quote = w ^ (ONES * b'"' as u64);
      let slash = w ^ (ONES * b'\\' as u64);
      let hit = (w.wrapping_sub(ONES * 0x20) & !w)
        | (quote.wrapping_sub(ONES) & !quote)
        | (slash.wrapping_sub(ONES) & !slash);
      if hit & HIGHS == 0 {
        i += 8;
        continue;
      }
    }
    let b = bytes[i];
    let escape: &[u8] = match b {
      b'"' => b"\\\"",
      b'\\' => b"\\\\",
      b'\n' => b"\\n",
      b'\r' => b"\\r",
      b'\t' => b"\\t",
      0x08 => b"\\b",
      0x0c => b"\\f",
      0..=0x1f => b"",
      _ => {
        i += 1;
        continue;
      }
    };
    out.extend_from_slice(&bytes[run..i]);
    if escape.is_empty() {
      out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
    } else {
      out.extend_from_slice(escape);
    }
    i += 1;
    run = i;
  }
  out.extend_from_slice(&bytes[run..]);
  out.push(b'"');
}

fn push_uint(out: &mut Vec<u8>, n: u64) {
  out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends JSON.stringify(JSON.parse(raw)) for a value serde_json has already validated; None to decline.
pub fn push_restringified(out: &mut Vec<u8>, raw: &str) -> Option<()> {
  let mut pos = 0;
  value(out, raw.as_bytes(), &mut pos)?;
  Some(())
}

fn skip_ws(b: &[u8], pos: &mut usize) {
  while *pos < b.len() && matches!(b[*pos], b' ' | b'\t' | b'\n' | b'\r') {
    *pos += 1;
  }
}

fn value(out: &mut Vec<u8>, b: &[u8], pos: &mut usize) -> Option<()> {
  skip_ws(b, pos);
  match *b.get(*pos)? {
    b'{' => {
      *pos += 1;
      out.push(b'{');
      let mut keys: Vec<Cow<str>> = Vec::new();
      let mut many: Option<HashSet<Cow<str>>> = None;
      let mut first = true;
      skip_ws(b, pos);
      if b.get(*pos) == Some(&b'}') {
        *pos += 1;
        out.push(b'}');
        return Some(());
      }
      loop {
        skip_ws(b, pos);
        let key = string_token(b, pos)?;
        // JavaScript objects list array-index keys first and keep a repeated key at its first place.
        if is_array_index(&key) {
          return None;
        }
        if !first {
          out.push(b',');
        }
        first = false;
        push_str(out, &key);
        out.push(b':');
        let repeated = match &mut many {
          Some(set) => !set.insert(key),
          None if keys.len() >= 32 => {
            let mut set: HashSet<Cow<str>> = keys.drain(..).collect();
            let repeated = !set.insert(key);
            many = Some(set);
            repeated
          }
          None => {
            let repeated = keys.iter().any(|k| *k == key);
            keys.push(key);
            repeated
          }
        };
        if repeated {
          return None;
        }
        skip_ws(b, pos);
        *pos += 1; // ':'
        value(out, b, pos)?;
        skip_ws(b, pos);
        let c = *b.get(*pos)?;
        *pos += 1;
        if c == b'}' {
          out.push(b'}');
          return Some(());
        }
      }
    }
    b'[' => {
      *pos += 1;
      out.push(b'[');
      skip_ws(b, pos);
      if b.get(*pos) == Some(&b']') {
        *pos += 1;
        out.push(b']');
        return Some(());
      }
      let mut first = true;
      loop {
        if !first {
          out.push(b',');
        }
        first = false;
        value(out, b, pos)?;
        skip_ws(b, pos);
        let c = *b.get(*pos)?;
        *pos += 1;
        if c == b']' {
          out.push(b']');
          return Some(());
        }
      }
    }
    b'"' => {
      let s = string_token(b, pos)?;
      push_str(out, &s);
      Some(())
    }
    b't' => literal(out, pos, b"true"),
    b'f' => literal(out, pos, b"false"),
    b'n' => literal(out, pos, b"null"),
    _ => number(out, b, pos),
  }
}

fn literal(out: &mut Vec<u8>, pos: &mut usize, word: &[u8]) -> Option<()> {
  *pos += word.len();
  out.extend_from_slice(word);
  Some(())
}

fn number(out: &mut Vec<u8>, b: &[u8], pos: &mut usize) -> Option<()> {
  let start = *pos;
  while *pos < b.len() && matches!(b[*pos], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
    *pos += 1;
  }
  let text = &b[start..*pos];
  let digits = if text.first() == Some(&b'-') { &text[1..] } else { text };
  // Short integers print as they are written (15 digits are always exact), except -0.
  if !digits.is_empty() && digits.len() <= 15 && digits.iter().all(u8::is_ascii_digit) && text != b"-0" {
    out.extend_from_slice(text);
    return Some(());
  }
  let v: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
  if !v.is_finite() {
    // JSON.parse makes 1e400 Infinity, which JSON.stringify writes as null.
    out.extend_from_slice(b"null");
  } else if v == 0.0 {
    out.push(b'0');
  } else {
    out.extend_from_slice(ryu_js::Buffer::new().format(v).as_bytes());
  }
  Some(())
}

/// Decodes the string token at `pos` (validated JSON); None for lone surrogates.
fn string_token<'a>(b: &'a [u8], pos: &mut usize) -> Option<Cow<'a, str>> {
  let start = *pos + 1;
  let mut i = start;
  let mut escaped = false;
  loop {
    i += memchr::memchr2(b'"', b'\\', &b[i..])?;
    if b[i] == b'"' {
      break;
    }
    escaped = true;
    i += 2;
  }
  *pos = i + 1;
  let body = &b[start..i];
  if !escaped {
    // SAFETY: a slice of a &str between two ASCII quotes is valid UTF-8.
    return Some(Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(body) }));
  }
  serde_json::from_slice::<String>(&b[start - 1..=i]).ok().map(Cow::Owned)
}

/// A canonical array index ("0" … "4294967294"), which JavaScript orders before other keys.
fn is_array_index(key: &str) -> bool {
  let k = key.as_bytes();
  if k.is_empty() || k.len() > 10 || !k.iter().all(u8::is_ascii_digit) || (k.len() > 1 && k[0] == b'0') {
    return false;
  }
  key.parse::<u64>().map(|n| n < u32::MAX as u64).unwrap_or(false)
}

struct Call<'a> {
  id: Cow<'a, str>,
  name: Cow<'a, str>,
  input: &'a RawValue,
}

enum Thinking<'a> {
  Signed(Cow<'a, str>, Cow<'a, str>),
  Redacted(Cow<'a, str>),
}

/// The converted reply and [prompt_tokens, completion_tokens]; None to decline.
pub fn anthropic_to_openai(body: &[u8], model_json: &str, created: f64) -> Option<(Vec<u8>, [f64; 2])> {
  if !(created.is_finite() && created.fract() == 0.0 && created >= 0.0 && created <= MAX_SAFE as f64) {
    return None;
  }
  let text = std::str::from_utf8(body).ok()?;
  let message: Message = serde_json::from_str(text).ok()?;
  if message.kind != "message" {
    return None;
  }

  // Built as the TypeScript converter builds it; `out` gets the JSON tool's text directly.
  let mut content: Option<Vec<u8>> = None;
  let mut reasoning: Option<String> = None;
  let mut thinking: Vec<Thinking> = Vec::new();
  let mut calls: Vec<Call> = Vec::new();
  let mut json_tool = false;
  for block in message.content {
    let Some(kind) = block.kind else { continue };
    match &*kind {
      "text" => {
        let t = block.text?;
        content.get_or_insert_with(Vec::new).extend_from_slice(t.as_bytes());
      }
      "thinking" => {
        let t = block.thinking?;
        let sig = block.signature?;
        reasoning.get_or_insert_with(String::new).push_str(&t);
        thinking.push(Thinking::Signed(t, sig));
      }
      "redacted_thinking" => thinking.push(Thinking::Redacted(block.data?)),
      "tool_use" => {
        let name = block.name?;
        let input = block.input?;
        if name == JSON_TOOL {
          json_tool = true;
          push_restringified(content.get_or_insert_with(Vec::new), input.get())?;
        } else {
          calls.push(Call { id: block.id?, name, input });
        }
      }
      _ => {}
    }
  }

  let u = &message.usage;
  let cache_read = u.cache_read_input_tokens.unwrap_or(0);
  let cache_write = u.cache_creation_input_tokens.unwrap_or(0);
  let prompt = u.input_tokens.checked_add(cache_read)?.checked_add(cache_write)?;
  let total = prompt.checked_add(u.output_tokens)?;
  if total > MAX_SAFE {
    return None;
  }
  let reasoning_tokens = match u.output_tokens_details {
    None => None,
    Some(d) if d.get() == "null" => None,
    Some(d) if d.get().starts_with('{') => {
      let details: Details = serde_json::from_str(d.get()).ok()?;
      // TypeScript keeps thinking_tokens only when it is a number.
      details.thinking_tokens.filter(|t| !t.get().starts_with(['"', '{', '[', 't', 'f', 'n']))
    }
    Some(_) => return None,
  };

  let finish: &[u8] = match message.stop_reason.as_deref() {
    Some("end_turn" | "stop_sequence" | "pause_turn") => b"\"stop\"",
    Some("max_tokens" | "model_context_window_exceeded") => b"\"length\"",
    Some("tool_use") if json_tool => b"\"stop\"",
    Some("tool_use") => b"\"tool_calls\"",
    Some("refusal") => b"\"content_filter\"",
    _ => b"null",
  };

  let mut out = Vec::with_capacity(body.len() + 256);
  out.extend_from_slice(b"{\"id\":");
  push_str(&mut out, &message.id);
  out.extend_from_slice(b",\"object\":\"chat.completion\",\"created\":");
  push_uint(&mut out, created as u64);
  out.extend_from_slice(b",\"model\":");
  out.extend_from_slice(model_json.as_bytes());
  out.extend_from_slice(b",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
  match &content {
    // SAFETY: built from &str pieces and restringified JSON, all UTF-8.
    Some(c) => push_str(&mut out, unsafe { std::str::from_utf8_unchecked(c) }),
    None => out.extend_from_slice(b"null"),
  }
  if !calls.is_empty() {
    out.extend_from_slice(b",\"tool_calls\":[");
    let mut args = Vec::new();
    for (i, call) in calls.iter().enumerate() {
      if i > 0 {
        out.push(b',');
      }
      out.extend_from_slice(b"{\"id\":");
      push_str(&mut out, &call.id);
      out.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
      push_str(&mut out, &call.name);
      out.extend_from_slice(b",\"arguments\":");
      args.clear();
      push_restringified(&mut args, call.input.get())?;
      // SAFETY: push_restringified writes only UTF-8.
      push_str(&mut out, unsafe { std::str::from_utf8_unchecked(&args) });
      out.extend_from_slice(b"}}");
    }
    out.push(b']');
  }
  if let Some(r) = &reasoning {
    out.extend_from_slice(b",\"reasoning_content\":");
    push_str(&mut out, r);
  }
  if !thinking.is_empty() {
    out.extend_from_slice(b",\"thinking_blocks\":[");
    for (i, t) in thinking.iter().enumerate() {
      if i > 0 {
        out.push(b',');
      }
      match t {
        Thinking::Signed(text, sig) => {
          out.extend_from_slice(b"{\"type\":\"thinking\",\"thinking\":");
          push_str(&mut out, text);
          out.extend_from_slice(b",\"signature\":");
          push_str(&mut out, sig);
        }
        Thinking::Redacted(data) => {
          out.extend_from_slice(b"{\"type\":\"redacted_thinking\",\"data\":");
          push_str(&mut out, data);
        }
      }
      out.push(b'}');
    }
    out.push(b']');
  }
  out.extend_from_slice(b"},\"finish_reason\":");
  out.extend_from_slice(finish);
  out.extend_from_slice(b"}],\"usage\":{\"prompt_tokens\":");
  push_uint(&mut out, prompt);
  out.extend_from_slice(b",\"completion_tokens\":");
  push_uint(&mut out, u.output_tokens);
  out.extend_from_slice(b",\"total_tokens\":");
  push_uint(&mut out, total);
  out.extend_from_slice(b",\"prompt_tokens_details\":{\"cached_tokens\":");
  push_uint(&mut out, cache_read);
  out.push(b'}');
  if cache_write > 0 {
    out.extend_from_slice(b",\"cache_creation_input_tokens\":");
    push_uint(&mut out, cache_write);
  }
  if let Some(t) = reasoning_tokens {
    out.extend_from_slice(b",\"completion_tokens_details\":{\"reasoning_tokens\":");
    push_restringified(&mut out, t.get())?;
    out.push(b'}');
  }
  out.extend_from_slice(b"}}");
  Some((out, [prompt as f64, u.output_tokens as f64]))
}
