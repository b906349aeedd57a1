//! How entries are kept as bytes: a value of `cache-store-value` (its type
//! kept for the simple ones), a response of `cache-store`, and, in the
//! external cache, the gateway-clock time an entry expires.

use bytes::{BufMut, Bytes, BytesMut};

/// `expires_ms` (8 bytes, big-endian) then `value`.
pub fn wrap_expiring(value: &[u8], expires_ms: i64) -> Bytes {
    let mut b = BytesMut::with_capacity(8 + value.len());
    b.put_i64(expires_ms);
    b.extend_from_slice(value);
    b.freeze()
}

/// The value of [`wrap_expiring`]'s bytes if it has not expired at `now_ms`
/// (`None` too for bytes too short to be one).
pub fn unwrap_expiring(b: Bytes, now_ms: i64) -> Option<Bytes> {
    let head: [u8; 8] = b.get(..8)?.try_into().ok()?;
    if now_ms >= i64::from_be_bytes(head) {
        return None;
    }
    Some(b.slice(8..))
}

/// A cached value: what `cache-lookup-value` gives back.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl Value {
    pub fn encode(&self) -> Bytes {
        let (tag, text) = match self {
            Value::Null => (b'n', String::new()),
            Value::Bool(v) => (b'b', v.to_string()),
            Value::Int(v) => (b'i', v.to_string()),
            Value::Float(v) => (b'f', v.to_string()),
            Value::Text(v) => (b's', v.clone()),
        };
        let mut b = BytesMut::with_capacity(1 + text.len());
        b.put_u8(tag);
        b.extend_from_slice(text.as_bytes());
        b.freeze()
    }

    /// `None` for bytes no [`Value::encode`] made (another program's key).
    pub fn decode(b: &[u8]) -> Option<Value> {
        let (&tag, rest) = b.split_first()?;
        let text = std::str::from_utf8(rest).ok()?;
        Some(match tag {
            b'n' => Value::Null,
            b'b' => Value::Bool(text.parse().ok()?),
            b'i' => Value::Int(text.parse().ok()?),
            b'f' => Value::Float(text.parse().ok()?),
            b's' => Value::Text(text.to_owned()),
            _ => return None,
        })
    }
}

/// A cached response: status, reason, headers, body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Response {
    /// A JSON line (status, reason, headers, and the gateway-clock time
    /// it expires, for the `max-age` of a hit), then the body as it is.
    pub fn encode_expiring(&self, expires_ms: i64) -> Bytes {
        let head = serde_json::json!({
            "s": self.status,
            "r": self.reason,
            "h": self.headers,
            "e": expires_ms,
        });
        let head = head.to_string();
        let mut b = BytesMut::with_capacity(head.len() + 1 + self.body.len());
        b.extend_from_slice(head.as_bytes());
        b.put_u8(b'\n');
        b.extend_from_slice(&self.body);
        b.freeze()
    }

    /// The response and the time it expires.
    pub fn decode_expiring(b: &Bytes) -> Option<(Response, i64)> {
        let nl = b.iter().position(|&c| c == b'\n')?;
        let head: serde_json::Value = serde_json::from_slice(&b[..nl]).ok()?;
        let status = u16::try_from(head.get("s")?.as_u64()?).ok()?;
        let reason = head.get("r")?.as_str()?.to_owned();
        let mut headers = Vec::new();
        for h in head.get("h")?.as_array()? {
            let pair = h.as_array()?;
            headers.push((
                pair.first()?.as_str()?.to_owned(),
                pair.get(1)?.as_str()?.to_owned(),
            ));
        }
        let expires = head.get("e")?.as_i64()?;
        Some((
            Response {
                status,
                reason,
                headers,
                body: b.slice(nl + 1..),
            },
            expires,
        ))
    }
}
