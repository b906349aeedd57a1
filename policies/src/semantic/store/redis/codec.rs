//! How an entry is written as a HASH, and how FT.SEARCH replies are read.
//!
//! Fields: `partition` (TAG), `vector` (little-endian f32 bytes, the
//! indexed VECTOR field), `status`, `headers` (JSON array of `[name,
//! value]`), `body` (bytes as they are), `text`, `stored_at` and
//! `expires_at` (ms since the Unix epoch, gateway clock).

use std::sync::Arc;

use ::redis::{Cmd, ErrorKind, RedisError, RedisResult, Value};
use bytes::Bytes;

use super::super::{CachedResponse, Entry, Nearest};

/// The fields a search returns besides the distance `dist`.
pub(super) const RETURNED: [&str; 6] = [
    "status",
    "headers",
    "body",
    "text",
    "stored_at",
    "expires_at",
];

pub(super) fn vector_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Appends the entry's field/value pairs to an `HSET`.
pub(super) fn write_fields(c: &mut Cmd, entry: &Entry) -> RedisResult<()> {
    let r = &entry.response;
    let headers = serde_json::to_vec(&r.headers)
        .map_err(|e| RedisError::from((ErrorKind::Client, "headers", e.to_string())))?;
    c.arg("partition")
        .arg(&entry.partition)
        .arg("vector")
        .arg(vector_bytes(&entry.vector))
        .arg("status")
        .arg(r.status)
        .arg("headers")
        .arg(headers)
        .arg("body")
        .arg(&r.body[..])
        .arg("text")
        .arg(&r.text)
        .arg("stored_at")
        .arg(r.stored_at_ms)
        .arg("expires_at")
        .arg(entry.expires_at_ms);
    Ok(())
}

/// The documents of an FT.SEARCH reply (RESP2: total, then key and field
/// list per document), in the server's order. A document missing a field
/// or with one malformed (written by someone else) is left out.
pub(super) fn hits(reply: Value) -> RedisResult<Vec<Nearest>> {
    let Value::Array(items) = reply else {
        return Err(unexpected("FT.SEARCH reply is not an array"));
    };
    let mut out = Vec::new();
    // items[0] is the total; then key, fields, key, fields, ...
    for pair in items.get(1..).unwrap_or_default().chunks(2) {
        if let [_, Value::Array(fields)] = pair
            && let Some(hit) = hit(fields)
        {
            out.push(hit);
        }
    }
    Ok(out)
}

fn hit(fields: &[Value]) -> Option<Nearest> {
    let mut f = Fields::default();
    for kv in fields.chunks_exact(2) {
        let (Value::BulkString(name), Value::BulkString(value)) = (&kv[0], &kv[1]) else {
            continue;
        };
        let value = value.as_slice();
        match name.as_slice() {
            b"dist" => f.dist = parse(value),
            b"status" => f.status = parse(value),
            b"headers" => f.headers = serde_json::from_slice(value).ok(),
            b"body" => f.body = Some(Bytes::copy_from_slice(value)),
            b"text" => f.text = std::str::from_utf8(value).ok().map(str::to_owned),
            b"stored_at" => f.stored_at = parse(value),
            b"expires_at" => f.expires_at = parse(value),
            _ => {}
        }
    }
    Some(Nearest {
        distance: f.dist?.clamp(0.0, 2.0),
        response: Arc::new(CachedResponse {
            status: f.status?,
            headers: f.headers?,
            body: f.body?,
            text: f.text?,
            stored_at_ms: f.stored_at?,
        }),
        expires_at_ms: f.expires_at?,
    })
}

#[derive(Default)]
struct Fields {
    dist: Option<f32>,
    status: Option<u16>,
    headers: Option<Vec<(String, String)>>,
    body: Option<Bytes>,
    text: Option<String>,
    stored_at: Option<i64>,
    expires_at: Option<i64>,
}

fn parse<T: std::str::FromStr>(v: &[u8]) -> Option<T> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn unexpected(what: &'static str) -> RedisError {
    RedisError::from((ErrorKind::UnexpectedReturnType, what))
}
