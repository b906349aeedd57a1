//! The entries of one partition with vectors of one length, and their search.
//!
//! Vectors are kept normalised in one contiguous array, so the cosine
//! distance of a row is 1 − a dot product. Up to `SKETCH_FROM` rows a search
//! is exact: one pass of dot products. From then on the rows also have
//! SimHash sketches (`sketch.rs`) and a search scans those, then computes the
//! exact distance of the `RERANK` rows whose sketches are nearest and answers
//! the best of them: approximate, recall@1 measured by the vector store
//! benchmark and checked by `tests.rs`.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use pulp::{Arch, Simd, WithSimd};

use super::sketch::{Distances, Sketcher, nearest_rows};
use crate::semantic::store::CachedResponse;

/// The processor's best vector instructions (AVX2, `popcnt`), detected once.
static ARCH: LazyLock<Arch> = LazyLock::new(Arch::new);

/// Partitions with more rows than this are searched through sketches.
/// Below, an exact pass (at most 3 MB of vectors of 384 dimensions, tens of
/// microseconds) costs about what a sketched search does, and is exact.
pub(super) const SKETCH_FROM: usize = 2048;

/// Rows whose exact distance a sketched search computes. With 64, recall@1
/// was already 1.0 on the vector store benchmark's 2,000 queries at 100k
/// entries (with 32, 0.98); twice that for margin on data less clustered
/// than the benchmark's, at about 200 KB of reads.
pub(super) const RERANK: usize = 128;

#[derive(Debug)]
pub(super) struct Rows {
    dim: usize,
    /// `dim` floats per row, each row of length 1.
    vectors: Vec<f32>,
    /// Per row: when it expires (apart from `meta`, for a tight scan).
    expires: Vec<i64>,
    meta: Vec<Row>,
    /// Row index of an id.
    index: HashMap<u64, usize>,
    /// Id of a prompt text.
    by_text: HashMap<TextKey, u64>,
    /// Present once the rows have reached `SKETCH_FROM`.
    sketches: Option<Sketches>,
}

#[derive(Debug)]
pub(super) struct Row {
    pub(super) id: u64,
    pub(super) response: Arc<CachedResponse>,
}

#[derive(Debug)]
struct Sketches {
    sketcher: Sketcher,
    /// `sketcher.words()` words per row.
    bits: Vec<u64>,
}

/// A response, hashed and compared by its prompt text (which it already
/// holds: no second copy of the text).
#[derive(Debug)]
struct TextKey(Arc<CachedResponse>);

impl Hash for TextKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.text.as_str().hash(state);
    }
}

impl PartialEq for TextKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.text == other.0.text
    }
}

impl Eq for TextKey {}

impl Borrow<str> for TextKey {
    fn borrow(&self) -> &str {
        &self.0.text
    }
}

impl Rows {
    pub(super) fn new(dim: usize) -> Self {
        Self {
            dim,
            vectors: Vec::new(),
            expires: Vec::new(),
            meta: Vec::new(),
            index: HashMap::new(),
            by_text: HashMap::new(),
            sketches: None,
        }
    }

    pub(super) fn dim(&self) -> usize {
        self.dim
    }

    pub(super) fn len(&self) -> usize {
        self.meta.len()
    }

    pub(super) fn contains(&self, id: u64) -> bool {
        self.index.contains_key(&id)
    }

    /// The id of the entry with this prompt text.
    pub(super) fn id_of_text(&self, text: &str) -> Option<u64> {
        self.by_text.get(text).copied()
    }

    pub(super) fn row(&self, i: usize) -> (&Row, i64) {
        (&self.meta[i], self.expires[i])
    }

    /// Adds a row; `vector` is normalised, of length `dim`, and its text is
    /// not in the rows yet.
    pub(super) fn push(
        &mut self,
        id: u64,
        vector: &[f32],
        response: Arc<CachedResponse>,
        expires_at_ms: i64,
    ) {
        self.index.insert(id, self.meta.len());
        self.by_text.insert(TextKey(Arc::clone(&response)), id);
        self.vectors.extend_from_slice(vector);
        self.expires.push(expires_at_ms);
        self.meta.push(Row { id, response });
        match &mut self.sketches {
            Some(s) => s.sketcher.sketch_into(vector, &mut s.bits),
            None if self.meta.len() >= SKETCH_FROM => {
                let sketcher = Sketcher::new(self.dim);
                let mut bits = Vec::with_capacity(self.meta.len() * sketcher.words());
                for v in self.vectors.chunks_exact(self.dim) {
                    sketcher.sketch_into(v, &mut bits);
                }
                self.sketches = Some(Sketches { sketcher, bits });
            }
            None => {}
        }
    }

    /// Removes a row (the last row takes its place).
    pub(super) fn remove(&mut self, id: u64) -> bool {
        let Some(i) = self.index.remove(&id) else {
            return false;
        };
        self.by_text.remove(self.meta[i].response.text.as_str());
        let last = self.meta.len() - 1;
        self.meta.swap_remove(i);
        self.expires.swap_remove(i);
        swap_remove_chunk(&mut self.vectors, self.dim, i, last);
        if let Some(s) = &mut self.sketches {
            swap_remove_chunk(&mut s.bits, s.sketcher.words(), i, last);
        }
        if i != last {
            self.index.insert(self.meta[i].id, i);
        }
        true
    }

    /// The ids of the rows expired at `now_ms`.
    pub(super) fn expired(&self, now_ms: i64) -> Vec<u64> {
        self.expires
            .iter()
            .zip(&self.meta)
            .filter(|(e, _)| **e <= now_ms)
            .map(|(_, r)| r.id)
            .collect()
    }

    /// The nearest unexpired row of `q` (normalised, of length `dim`):
    /// (cosine distance, row index).
    pub(super) fn nearest(&self, q: &[f32], now_ms: i64) -> Option<(f32, usize)> {
        match &self.sketches {
            Some(s) if self.len() > SKETCH_FROM => {
                let mut query = Vec::with_capacity(s.sketcher.words());
                s.sketcher.sketch_into(q, &mut query);
                let d = ARCH.dispatch(Distances {
                    sketches: &s.bits,
                    query: &query,
                    expires: &self.expires,
                    now_ms,
                });
                let rows = nearest_rows(&d, RERANK);
                ARCH.dispatch(BestOf {
                    rows: self,
                    q,
                    candidates: rows,
                })
            }
            _ => self.nearest_exact(q, now_ms),
        }
    }

    /// The nearest unexpired row by an exact pass over every row.
    pub(super) fn nearest_exact(&self, q: &[f32], now_ms: i64) -> Option<(f32, usize)> {
        let live = self
            .expires
            .iter()
            .enumerate()
            .filter(|(_, e)| **e > now_ms);
        ARCH.dispatch(BestOf {
            rows: self,
            q,
            candidates: live.map(|(i, _)| i),
        })
    }
}

/// The nearest of some rows: (cosine distance, row index). A `pulp`
/// operation: its `#[inline(always)]` body is compiled for each instruction
/// set (a closure is not inlined reliably, and would miss them).
struct BestOf<'a, I> {
    rows: &'a Rows,
    q: &'a [f32],
    candidates: I,
}

impl<I: IntoIterator<Item = usize>> WithSimd for BestOf<'_, I> {
    type Output = Option<(f32, usize)>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> Self::Output {
        let (dim, vectors) = (self.rows.dim, &self.rows.vectors);
        let mut best: Option<(f32, usize)> = None;
        for i in self.candidates {
            let d = 1.0 - dot(self.q, &vectors[i * dim..(i + 1) * dim]);
            if best.is_none_or(|(b, _)| d < b) {
                best = Some((d, i));
            }
        }
        best
    }
}

/// Moves chunk `last` (the last one) of `v` onto chunk `i`, and drops it.
fn swap_remove_chunk<T: Copy>(v: &mut Vec<T>, size: usize, i: usize, last: usize) {
    if i != last {
        let (head, tail) = v.split_at_mut(last * size);
        head[i * size..(i + 1) * size].copy_from_slice(&tail[..size]);
    }
    v.truncate(last * size);
}

/// Dot product in lanes of eight, which the compiler turns into SIMD
/// (written out, so that debug builds, the tests', are not slow).
#[inline(always)]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
        acc[4] += x[4] * y[4];
        acc[5] += x[5] * y[5];
        acc[6] += x[6] * y[6];
        acc[7] += x[7] * y[7];
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}
