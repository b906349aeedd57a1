//! The cache benchmark's embeddings backend: an OpenAI-compatible
//! `/embeddings` endpoint with no model and no latency. Each input text gets
//! a deterministic 384-d vector: the direction of its *topic* (the number
//! after the first `topic ` in the text) plus a little noise derived from a
//! hash of the whole text. Two texts of one topic are therefore near (cosine
//! distance about 0.013) and texts of different topics far apart (about
//! 1.0), so a paraphrase of a stored prompt ("topic 7: ..." worded anew)
//! finds it, while the search still compares against every stored vector.
//! A text without a topic gets a direction of its own.
//!
//! `embeddings_stub ADDR` (e.g. `127.0.0.1:18084`); see `benches/cache.sh`.
//! Request `{"input": "text"}` or `{"input": ["text", ...]}`; answer
//! `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[...]}],...}`.

use std::convert::Infallible;
use std::error::Error;
use std::fmt::Write as _;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

/// Length of every vector (all-MiniLM-L6-v2's).
const DIM: usize = 384;

/// Largest noise per component, against a unit topic direction: the
/// distance of two texts of one topic is about 128 · NOISE² (≈ 0.013).
const NOISE: f32 = 0.01;

/// splitmix64: a small, good, deterministic generator.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        // 24 random bits: exact in an f32.
        ((self.next() >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }
}

/// FNV-1a, 64 bits.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The number after the first `topic ` in the text.
fn topic(text: &str) -> Option<u64> {
    let (_, rest) = text.split_once("topic ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest.get(..digits)?.parse().ok()
}

/// The vector of one text: its topic's unit direction plus the text's noise.
fn embed(text: &str) -> Vec<f32> {
    let h = hash(text);
    // Topics and topic-less texts draw their directions from separate seeds.
    let seed = topic(text).map_or(h ^ 0x5EED_0000_0000_0001, |t| t.wrapping_mul(0x9E37_79B9));
    let mut direction = Mix(seed);
    let mut v: Vec<f32> = (0..DIM).map(|_| direction.unit()).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let mut noise = Mix(h);
    for x in &mut v {
        *x = *x / norm + NOISE * noise.unit();
    }
    v
}

fn respond(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// The answer to one request body, or why it is refused.
fn embeddings(body: &[u8]) -> Result<String, String> {
    let request: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let texts: Vec<&str> = match request.get("input") {
        Some(serde_json::Value::String(s)) => vec![s.as_str()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().ok_or("input: an array of strings"))
            .collect::<Result<_, _>>()?,
        _ => return Err("input: a string or an array of strings".into()),
    };
    let mut out = String::with_capacity(64 + texts.len() * DIM * 12);
    out.push_str(r#"{"object":"list","data":["#);
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, r#"{{"object":"embedding","index":{i},"embedding":["#);
        for (j, x) in embed(text).iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(out, "{x}");
        }
        out.push_str("]}");
    }
    out.push_str(r#"],"model":"bench-stub","usage":{"prompt_tokens":0,"total_tokens":0}}"#);
    Ok(out)
}

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let Ok(body) = req.into_body().collect().await else {
        return Ok(respond(StatusCode::BAD_REQUEST, String::new()));
    };
    Ok(match embeddings(&body.to_bytes()) {
        Ok(json) => respond(StatusCode::OK, json),
        Err(e) => respond(
            StatusCode::BAD_REQUEST,
            serde_json::json!({ "error": { "message": e } }).to_string(),
        ),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    sluice_benches::serve_http1("embeddings_stub", "127.0.0.1:18084", answer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: &[f32], b: &[f32]) -> f32 {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
        1.0 - dot / (na * nb)
    }

    #[test]
    fn paraphrases_of_a_topic_are_near_and_other_topics_far() {
        let stored = embed("topic 42: what do we know about subject 42?");
        let paraphrase = embed("Tell me, regarding topic 42, all you know (variant 9001).");
        let other = embed("topic 43: what do we know about subject 43?");
        let near = distance(&stored, &paraphrase);
        assert!(near > 0.001 && near < 0.03, "{near}");
        assert!(distance(&stored, &other) > 0.8);
        assert_eq!(stored.len(), DIM);
        assert_eq!(stored, embed("topic 42: what do we know about subject 42?"));
    }

    #[test]
    fn topic_is_the_number_after_the_word() {
        assert_eq!(topic("a topic 17: b"), Some(17));
        assert_eq!(topic("topic x"), None);
        assert_eq!(topic("no subject"), None);
    }

    #[test]
    fn answers_the_openai_shape() {
        let body = embeddings(br#"{"input":["topic 1","topic 2"]}"#).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let data = v["data"].as_array().map_or(0, Vec::len);
        assert_eq!(data, 2);
        assert_eq!(
            v["data"][1]["embedding"].as_array().map_or(0, Vec::len),
            DIM
        );
        assert!(embeddings(b"{}").is_err());
    }
}
