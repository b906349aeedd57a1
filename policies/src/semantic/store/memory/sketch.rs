//! SimHash sketches: the approximate index of large partitions.
//!
//! A unit vector is turned by a fixed pseudo-random rotation (two rounds of
//! random signs and a Walsh–Hadamard transform, on the vector padded to a
//! power of two) and keeps one bit per coordinate, its sign: 512 bits for
//! all-MiniLM-L6-v2's 384 dimensions, at most 1,024 bits. The Hamming
//! distance of two sketches estimates the angle between the vectors
//! (Charikar's SimHash: each bit differs with probability angle / π), so a
//! scan of the sketches, 64 bytes a row, finds the few rows worth an exact
//! look far faster than a scan of the vectors themselves, 1.5 KB a row.

use pulp::{Simd, WithSimd};

/// Sketches have at most this many bits (the first ones of the rotated
/// vector: any subset of a random rotation's coordinates is a SimHash).
const MAX_BITS: usize = 1024;

/// The fixed rotation of vectors of one length.
#[derive(Debug)]
pub(super) struct Sketcher {
    /// The padded length: a power of two, at least 64.
    padded: usize,
    /// 64-bit words per sketch.
    words: usize,
    /// ±1 per padded coordinate, for each of the two rounds.
    signs: [Vec<f32>; 2],
}

impl Sketcher {
    pub(super) fn new(dim: usize) -> Self {
        let padded = dim.next_power_of_two().max(64);
        // splitmix64 with a fixed seed: the same rotation in every process,
        // so figures and tests repeat.
        let mut state = 0x5eed_0f5e_ed0f_5eedu64;
        let mut sign = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            if (z ^ (z >> 31)) & 1 == 0 { 1.0 } else { -1.0 }
        };
        let first = (0..padded).map(|_| sign()).collect();
        let second = (0..padded).map(|_| sign()).collect();
        Self {
            padded,
            words: padded.min(MAX_BITS) / 64,
            signs: [first, second],
        }
    }

    pub(super) fn words(&self) -> usize {
        self.words
    }

    /// Appends the sketch of `v` (of the length this sketcher was made for)
    /// to `out`: `words()` words.
    pub(super) fn sketch_into(&self, v: &[f32], out: &mut Vec<u64>) {
        let mut x = vec![0f32; self.padded];
        x[..v.len()].copy_from_slice(v);
        for signs in &self.signs {
            for (a, s) in x.iter_mut().zip(signs) {
                *a *= s;
            }
            hadamard(&mut x);
        }
        for bits in x.chunks_exact(64).take(self.words) {
            let mut w = 0u64;
            for (i, b) in bits.iter().enumerate() {
                w |= u64::from(*b > 0.0) << i;
            }
            out.push(w);
        }
    }
}

/// The (unnormalised) Walsh–Hadamard transform, in place; `x.len()` is a
/// power of two.
fn hadamard(x: &mut [f32]) {
    let mut h = 1;
    while h < x.len() {
        for block in x.chunks_exact_mut(2 * h) {
            let (lo, hi) = block.split_at_mut(h);
            for (a, b) in lo.iter_mut().zip(hi) {
                (*a, *b) = (*a + *b, *a - *b);
            }
        }
        h *= 2;
    }
}

/// The Hamming distance of each row's sketch to `query`, `u16::MAX` for
/// rows with `expires[row] <= now_ms`; `sketches` holds `query.len()` words
/// per row. A `pulp` operation (`Arch::dispatch`), so that its one tight
/// loop gets AVX2 and `popcnt` where the processor has them (the crate's
/// baseline, x86-64, has neither): 3× faster at 100k rows. The selection of
/// the nearest rows stays out of it (`nearest_rows`).
pub(super) struct Distances<'a> {
    pub(super) sketches: &'a [u64],
    pub(super) query: &'a [u64],
    pub(super) expires: &'a [i64],
    pub(super) now_ms: i64,
}

impl WithSimd for Distances<'_> {
    type Output = Vec<u16>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> Vec<u16> {
        let Self {
            sketches,
            query,
            expires,
            now_ms,
        } = self;
        match query.len() {
            1 => distances_of::<1>(sketches, query, expires, now_ms),
            2 => distances_of::<2>(sketches, query, expires, now_ms),
            4 => distances_of::<4>(sketches, query, expires, now_ms),
            8 => distances_of::<8>(sketches, query, expires, now_ms),
            _ => distances_of::<16>(sketches, query, expires, now_ms),
        }
    }
}

#[inline(always)]
fn distances_of<const W: usize>(
    sketches: &[u64],
    query: &[u64],
    expires: &[i64],
    now_ms: i64,
) -> Vec<u16> {
    let mut q = [0u64; W];
    q.copy_from_slice(&query[..W]);
    let mut out = Vec::with_capacity(expires.len());
    for (s, e) in sketches.chunks_exact(W).zip(expires) {
        let mut d = 0u32;
        for w in 0..W {
            d += (s[w] ^ q[w]).count_ones();
        }
        out.push(if *e > now_ms { d as u16 } else { u16::MAX });
    }
    out
}

/// The `k` rows of smallest distance (all rows when fewer), never a row at
/// `u16::MAX`; in row order.
pub(super) fn nearest_rows(distances: &[u16], k: usize) -> Vec<usize> {
    let mut histogram = [0usize; MAX_BITS + 1];
    for d in distances {
        if let Some(n) = histogram.get_mut(usize::from(*d)) {
            *n += 1;
        }
    }
    // The smallest distance `cut` with at least `k` rows at or below it.
    let (mut cut, mut below) = (0, 0);
    while cut < histogram.len() && below + histogram[cut] < k {
        below += histogram[cut];
        cut += 1;
    }
    let mut at_cut = k - below;
    let mut rows = Vec::with_capacity(k);
    for (row, d) in distances.iter().enumerate() {
        let d = usize::from(*d);
        if d < cut {
            rows.push(row);
        } else if d == cut && at_cut > 0 {
            at_cut -= 1;
            rows.push(row);
        }
    }
    rows
}
