//! `BitConverter`: bytes to hex text (`ToString`) and little-endian reads
//! and writes of the primitives.

use rhai::{Blob, Engine, FLOAT, INT};

use crate::core::{RhaiResult, throw};

const INDEX: &str =
    "Index was out of range. Must be non-negative and less than the size of the collection.";
const TOO_SMALL: &str = "Destination array is not long enough to copy all the items in the collection. Check array index and length. (Parameter 'value')";

/// `BitConverter.ToString(value, startIndex, length)`: "01-AB-FF".
fn hex_dashed(b: &[u8], start: INT, length: INT) -> RhaiResult<String> {
    let len = b.len() as INT;
    if start < 0 || (start >= len && start > 0) {
        return throw(
            "ArgumentOutOfRangeException",
            format!("{INDEX} (Parameter 'startIndex')"),
        );
    }
    if length < 0 {
        return throw(
            "ArgumentOutOfRangeException",
            "Value must be positive. (Parameter 'length')",
        );
    }
    if start > len - length {
        return throw("ArgumentException", TOO_SMALL);
    }
    let part = b
        .get(start as usize..(start + length) as usize)
        .unwrap_or_default();
    let hex: Vec<String> = part.iter().map(|x| format!("{x:02X}")).collect();
    Ok(hex.join("-"))
}

/// The `N` bytes at `start`, checked like `BitConverter.ToInt32(value, startIndex)`.
fn read<const N: usize>(b: &[u8], start: INT) -> RhaiResult<[u8; N]> {
    let Some(i) = usize::try_from(start).ok().filter(|&i| i < b.len()) else {
        return throw(
            "ArgumentOutOfRangeException",
            format!("{INDEX} (Parameter 'startIndex')"),
        );
    };
    match b
        .get(i..)
        .and_then(|rest| rest.get(..N))
        .and_then(|s| <[u8; N]>::try_from(s).ok())
    {
        Some(a) => Ok(a),
        None => throw("ArgumentException", TOO_SMALL),
    }
}

fn null<T>() -> RhaiResult<T> {
    crate::convert::null_arg("value")
}

pub(super) fn register(e: &mut Engine) {
    e.register_fn("BitConverter__ToString", |b: Blob| {
        hex_dashed(&b, 0, b.len() as INT)
    })
    .register_fn("BitConverter__ToString", |b: Blob, start: INT| {
        hex_dashed(&b, start, b.len() as INT - start)
    })
    .register_fn(
        "BitConverter__ToString",
        |b: Blob, start: INT, length: INT| hex_dashed(&b, start, length),
    )
    .register_fn("BitConverter__ToString", |_: ()| -> RhaiResult<String> {
        null()
    })
    .register_fn("BitConverter__ToInt16", |b: Blob, i: INT| {
        read::<2>(&b, i).map(|a| INT::from(i16::from_le_bytes(a)))
    })
    .register_fn("BitConverter__ToUInt16", |b: Blob, i: INT| {
        read::<2>(&b, i).map(|a| INT::from(u16::from_le_bytes(a)))
    })
    .register_fn("BitConverter__ToInt32", |b: Blob, i: INT| {
        read::<4>(&b, i).map(|a| INT::from(i32::from_le_bytes(a)))
    })
    .register_fn("BitConverter__ToUInt32", |b: Blob, i: INT| {
        read::<4>(&b, i).map(|a| INT::from(u32::from_le_bytes(a)))
    })
    .register_fn("BitConverter__ToInt64", |b: Blob, i: INT| {
        read::<8>(&b, i).map(i64::from_le_bytes)
    })
    // UInt64 above Int64.MaxValue wraps: a rhai INT is an i64.
    .register_fn("BitConverter__ToUInt64", |b: Blob, i: INT| {
        read::<8>(&b, i).map(i64::from_le_bytes)
    })
    .register_fn("BitConverter__ToDouble", |b: Blob, i: INT| {
        read::<8>(&b, i).map(f64::from_le_bytes)
    })
    .register_fn("BitConverter__ToSingle", |b: Blob, i: INT| {
        read::<4>(&b, i).map(|a| f64::from(f32::from_le_bytes(a)))
    })
    .register_fn("BitConverter__ToBoolean", |b: Blob, i: INT| {
        read::<1>(&b, i).map(|a| a != [0])
    })
    .register_fn("BitConverter__ToChar", |b: Blob, i: INT| {
        read::<2>(&b, i)
            .map(|a| char::from_u32(u32::from(u16::from_le_bytes(a))).unwrap_or('\u{FFFD}'))
    })
    // An INT is an Int32 when it fits one (4 bytes), else an Int64 (8 bytes).
    .register_fn("BitConverter__GetBytes", |n: INT| match i32::try_from(n) {
        Ok(small) => small.to_le_bytes().to_vec(),
        Err(_) => n.to_le_bytes().to_vec(),
    })
    .register_fn("BitConverter__GetBytes", |x: FLOAT| {
        x.to_le_bytes().to_vec()
    })
    .register_fn("BitConverter__GetBytes", |b: bool| vec![u8::from(b)])
    .register_fn("BitConverter__GetBytes", |c: char| {
        let mut units = [0u16; 2];
        c.encode_utf16(&mut units);
        units[0].to_le_bytes().to_vec()
    })
    .register_fn("BitConverter__IsLittleEndian", || true)
    .register_fn("BitConverter__DoubleToInt64Bits", |x: FLOAT| {
        x.to_bits() as INT
    })
    .register_fn("BitConverter__Int64BitsToDouble", |n: INT| {
        f64::from_bits(n as u64)
    });
}
