//! Model rewrite: splice a JSON-encoded string into the body. The encoding matches
//! JSON.stringify byte for byte, including lone surrogates written as \uXXXX.

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_u_escape(out: &mut Vec<u8>, unit: u16) {
  out.extend_from_slice(b"\\u");
  for shift in [12, 8, 4, 0] {
    out.push(HEX[((unit >> shift) & 0xf) as usize]);
  }
}

fn push_char(out: &mut Vec<u8>, cp: u32) {
  let mut buf = [0u8; 4];
  // Callers pass only scalar values (pairs already combined, lone surrogates escaped).
  let c = char::from_u32(cp).unwrap_or('\u{fffd}');
  out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

pub fn encode_json_string(out: &mut Vec<u8>, s: &[u16]) {
  out.push(b'"');
  let mut i = 0;
  while i < s.len() {
    let u = s[i];
    i += 1;
    match u {
      0x22 => out.extend_from_slice(b"\\\""),
      0x5c => out.extend_from_slice(b"\\\\"),
      0x08 => out.extend_from_slice(b"\\b"),
      0x0c => out.extend_from_slice(b"\\f"),
      0x0a => out.extend_from_slice(b"\\n"),
      0x0d => out.extend_from_slice(b"\\r"),
      0x09 => out.extend_from_slice(b"\\t"),
      0..=0x1f => push_u_escape(out, u),
      0x20..=0x7f => out.push(u as u8),
      0xd800..=0xdbff => match s.get(i) {
        Some(&lo) if (0xdc00..=0xdfff).contains(&lo) => {
          i += 1;
          push_char(out, 0x10000 + (((u as u32) - 0xd800) << 10) + ((lo as u32) - 0xdc00));
        }
        _ => push_u_escape(out, u),
      },
      0xdc00..=0xdfff => push_u_escape(out, u),
      _ => push_char(out, u as u32),
    }
  }
  out.push(b'"');
}

fn check_offset(v: f64, name: &str) -> Result<usize, String> {
  if v.fract() != 0.0 || v < 0.0 || !v.is_finite() {
    return Err(format!("{name} must be a non-negative integer"));
  }
  Ok(v as usize)
}

pub fn rewrite(body: &[u8], start: f64, end: f64, new_model: &[u16]) -> Result<Vec<u8>, String> {
  let s = check_offset(start, "modelStart")?;
  let e = check_offset(end, "modelEnd")?;
  if e > body.len() || s + 2 > e || body[s] != b'"' || body[e - 1] != b'"' {
    return Err("modelStart/modelEnd do not delimit a string token".to_string());
  }
  let mut out = Vec::with_capacity(body.len() - (e - s) + new_model.len() + 2);
  out.extend_from_slice(&body[..s]);
  encode_json_string(&mut out, new_model);
  out.extend_from_slice(&body[e..]);
  Ok(out)
}
