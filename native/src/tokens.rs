//! Token counting over the rank tables tiktoken-rs embeds in the binary.

use tiktoken_rs::{cl100k_base_singleton, o200k_base_singleton};

pub fn count(text: &str, encoding: &str) -> Result<u32, String> {
  let bpe = match encoding {
    "o200k_base" => o200k_base_singleton(),
    "cl100k_base" => cl100k_base_singleton(),
    other => return Err(format!("Unknown encoding: {other}")),
  };
  Ok(bpe.encode_ordinary(text).len() as u32)
}
