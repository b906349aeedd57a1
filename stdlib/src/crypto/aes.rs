//! APIM's `byte[].Encrypt("Aes", key, iv)` / `Decrypt(...)` extension
//! methods: AES (128/192/256-bit keys) in CBC mode with PKCS7 padding, the
//! defaults of .NET's `Aes`. The block cipher follows FIPS-197; the S-box is
//! computed rather than typed in.

use std::sync::OnceLock;

use rhai::{Blob, Engine, ImmutableString};

use crate::core::{RhaiResult, throw};

struct Tables {
    sbox: [u8; 256],
    inv: [u8; 256],
}

fn xtime(a: u8) -> u8 {
    (a << 1) ^ if a & 0x80 != 0 { 0x1b } else { 0 }
}

fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        a = xtime(a);
        b >>= 1;
    }
    p
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut sbox = [0u8; 256];
        let mut inv = [0u8; 256];
        for x in 0..=255u8 {
            let i = if x == 0 {
                0
            } else {
                (1..=255u8).find(|&y| mul(x, y) == 1).unwrap_or(0)
            };
            let s = i
                ^ i.rotate_left(1)
                ^ i.rotate_left(2)
                ^ i.rotate_left(3)
                ^ i.rotate_left(4)
                ^ 0x63;
            sbox[usize::from(x)] = s;
            inv[usize::from(s)] = x;
        }
        Tables { sbox, inv }
    })
}

/// The expanded key: `4 * (rounds + 1)` words as round keys of 16 bytes.
fn expand(key: &[u8]) -> Vec<[u8; 16]> {
    let t = tables();
    let nk = key.len() / 4;
    let rounds = nk + 6;
    let mut w: Vec<[u8; 4]> = key
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect();
    let mut rcon = 1u8;
    for i in nk..4 * (rounds + 1) {
        let mut temp = w[i - 1];
        if i % nk == 0 {
            temp = [
                t.sbox[usize::from(temp[1])] ^ rcon,
                t.sbox[usize::from(temp[2])],
                t.sbox[usize::from(temp[3])],
                t.sbox[usize::from(temp[0])],
            ];
            rcon = xtime(rcon);
        } else if nk > 6 && i % nk == 4 {
            temp = temp.map(|b| t.sbox[usize::from(b)]);
        }
        let prev = w[i - nk];
        w.push([
            prev[0] ^ temp[0],
            prev[1] ^ temp[1],
            prev[2] ^ temp[2],
            prev[3] ^ temp[3],
        ]);
    }
    w.chunks_exact(4)
        .map(|c| {
            let mut k = [0u8; 16];
            for (j, word) in c.iter().enumerate() {
                k[4 * j..4 * j + 4].copy_from_slice(word);
            }
            k
        })
        .collect()
}

fn add_round_key(s: &mut [u8; 16], k: &[u8; 16]) {
    for (a, b) in s.iter_mut().zip(k) {
        *a ^= b;
    }
}

fn shift_rows(s: &mut [u8; 16], inverse: bool) {
    let old = *s;
    for r in 1..4 {
        for c in 0..4 {
            let from = if inverse {
                (c + 4 - r) % 4
            } else {
                (c + r) % 4
            };
            s[r + 4 * c] = old[r + 4 * from];
        }
    }
}

fn mix_columns(s: &mut [u8; 16], inverse: bool) {
    let m: [u8; 4] = if inverse {
        [14, 11, 13, 9]
    } else {
        [2, 3, 1, 1]
    };
    for c in 0..4 {
        let a = [s[4 * c], s[4 * c + 1], s[4 * c + 2], s[4 * c + 3]];
        for r in 0..4 {
            s[4 * c + r] = (0..4).fold(0, |acc, k| acc ^ mul(m[(k + 4 - r) % 4], a[k]));
        }
    }
}

fn encrypt_block(block: &mut [u8; 16], keys: &[[u8; 16]]) {
    let t = tables();
    let last = keys.len() - 1;
    add_round_key(block, &keys[0]);
    for (round, key) in keys.iter().enumerate().skip(1) {
        *block = block.map(|b| t.sbox[usize::from(b)]);
        shift_rows(block, false);
        if round != last {
            mix_columns(block, false);
        }
        add_round_key(block, key);
    }
}

fn decrypt_block(block: &mut [u8; 16], keys: &[[u8; 16]]) {
    let t = tables();
    let last = keys.len() - 1;
    add_round_key(block, &keys[last]);
    for round in (0..last).rev() {
        shift_rows(block, true);
        *block = block.map(|b| t.inv[usize::from(b)]);
        add_round_key(block, &keys[round]);
        if round != 0 {
            mix_columns(block, true);
        }
    }
}

fn check(alg: &str, key: &[u8], iv: &[u8]) -> RhaiResult<Vec<[u8; 16]>> {
    if !matches!(
        alg,
        "Aes" | "AES" | "aes" | "Rijndael" | "System.Security.Cryptography.Aes"
    ) {
        return throw(
            "NotSupportedException",
            format!("The algorithm '{alg}' is not supported."),
        );
    }
    if !matches!(key.len(), 16 | 24 | 32) {
        return throw(
            "CryptographicException",
            "Specified key is not a valid size for this algorithm.",
        );
    }
    if iv.len() != 16 {
        return throw(
            "CryptographicException",
            "Specified initialization vector (IV) does not match the block size for this algorithm.",
        );
    }
    Ok(expand(key))
}

fn to_block(b: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(b);
    out
}

/// AES-CBC with PKCS7 padding.
pub(crate) fn encrypt(input: &[u8], alg: &str, key: &[u8], iv: &[u8]) -> RhaiResult<Blob> {
    let keys = check(alg, key, iv)?;
    let pad = 16 - input.len() % 16;
    let mut data = input.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    let mut prev = to_block(iv);
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks_exact(16) {
        let mut block = to_block(chunk);
        add_round_key(&mut block, &prev);
        encrypt_block(&mut block, &keys);
        out.extend_from_slice(&block);
        prev = block;
    }
    Ok(out)
}

pub(crate) fn decrypt(input: &[u8], alg: &str, key: &[u8], iv: &[u8]) -> RhaiResult<Blob> {
    let keys = check(alg, key, iv)?;
    if input.is_empty() || !input.len().is_multiple_of(16) {
        return throw(
            "CryptographicException",
            "The input data is not a complete block.",
        );
    }
    let mut prev = to_block(iv);
    let mut out = Vec::with_capacity(input.len());
    for chunk in input.chunks_exact(16) {
        let cipher = to_block(chunk);
        let mut block = cipher;
        decrypt_block(&mut block, &keys);
        add_round_key(&mut block, &prev);
        out.extend_from_slice(&block);
        prev = cipher;
    }
    let pad = usize::from(out.last().copied().unwrap_or(0));
    let valid =
        (1..=16).contains(&pad) && out.iter().rev().take(pad).all(|&b| usize::from(b) == pad);
    if !valid {
        return throw(
            "CryptographicException",
            "Padding is invalid and cannot be removed.",
        );
    }
    out.truncate(out.len() - pad);
    Ok(out)
}

pub(super) fn register(e: &mut Engine) {
    e.register_fn(
        "Encrypt",
        |input: &mut Blob, alg: ImmutableString, key: Blob, iv: Blob| {
            encrypt(input, &alg, &key, &iv)
        },
    )
    .register_fn(
        "Decrypt",
        |input: &mut Blob, alg: ImmutableString, key: Blob, iv: Blob| {
            decrypt(input, &alg, &key, &iv)
        },
    );
}
