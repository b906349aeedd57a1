//! `System.Math`, `MidpointRounding`, and the numeric statics
//! (`int.MaxValue`, `double.NaN`, `double.IsNaN(x)`, ...).
//!
//! Integer arguments keep integer results where C# picks the integer overload
//! (`Abs`, `Max`, `Min`, `Sign`, `Clamp`); everything else computes in
//! double. `Math.Round` rounds half to even unless told otherwise, like .NET.

use rhai::{Dynamic, Engine, FLOAT, INT};

use crate::core::{RhaiResult, dotnet_type, format_double, throw};

/// `System.MidpointRounding`: a custom type, so `Math.Round(x, mode)` and
/// `Math.Round(x, digits)` stay apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MidpointRounding {
    ToEven,
    AwayFromZero,
    ToZero,
    ToNegativeInfinity,
    ToPositiveInfinity,
}

const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

fn num(v: &Dynamic) -> RhaiResult<f64> {
    if let Ok(n) = v.as_int() {
        Ok(n as f64)
    } else if let Ok(x) = v.as_float() {
        Ok(x)
    } else if let Ok(c) = v.as_char() {
        Ok(f64::from(u32::from(c)))
    } else {
        throw(
            "InvalidCastException",
            format!(
                "Unable to cast object of type 'System.{}' to type 'System.Double'.",
                dotnet_type(v)
            ),
        )
    }
}

fn round_mode(x: f64, mode: MidpointRounding) -> f64 {
    match mode {
        MidpointRounding::ToEven => x.round_ties_even(),
        MidpointRounding::AwayFromZero => {
            let (t, f) = (x.trunc(), x.fract());
            if f.abs() >= 0.5 { t + f.signum() } else { t }
        }
        MidpointRounding::ToZero => x.trunc(),
        MidpointRounding::ToNegativeInfinity => x.floor(),
        MidpointRounding::ToPositiveInfinity => x.ceil(),
    }
}

/// `Math.Round(value, digits, mode)` as .NET computes it: scale by a power
/// of ten, round, scale back (values beyond 1e16 are already integral).
fn round(x: f64, digits: INT, mode: MidpointRounding) -> RhaiResult<f64> {
    let Some(&p) = usize::try_from(digits).ok().and_then(|d| POW10.get(d)) else {
        return throw(
            "ArgumentOutOfRangeException",
            "Rounding digits must be between 0 and 15, inclusive. (Parameter 'digits')",
        );
    };
    if x.abs() >= 1e16 || !x.is_finite() {
        return Ok(x);
    }
    Ok(round_mode(x * p, mode) / p)
}

/// .NET's `Math.Max`/`Min` for doubles: NaN wins; +0 is above -0.
fn max_f(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_negative() { b } else { a }
    } else if a > b {
        a
    } else {
        b
    }
}

fn min_f(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

fn log_base(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        a
    } else if b.is_nan() {
        b
    } else if b == 1.0 || (a != 1.0 && (b == 0.0 || b == f64::INFINITY)) {
        f64::NAN
    } else {
        a.ln() / b.ln()
    }
}

fn clamp_error<T>(min: &str, max: &str) -> RhaiResult<T> {
    throw(
        "ArgumentException",
        format!("'{min}' cannot be greater than {max}."),
    )
}

type Unary = fn(f64) -> f64;
type Binary = fn(f64, f64) -> f64;
type Test = fn(f64) -> bool;

fn register_math(e: &mut Engine) {
    let unary: [(&str, Unary); 20] = [
        ("Sqrt", f64::sqrt),
        ("Floor", f64::floor),
        ("Ceiling", f64::ceil),
        ("Truncate", f64::trunc),
        ("Exp", f64::exp),
        ("Log", f64::ln),
        ("Log10", f64::log10),
        ("Log2", f64::log2),
        ("Sin", f64::sin),
        ("Cos", f64::cos),
        ("Tan", f64::tan),
        ("Asin", f64::asin),
        ("Acos", f64::acos),
        ("Atan", f64::atan),
        ("Sinh", f64::sinh),
        ("Cosh", f64::cosh),
        ("Tanh", f64::tanh),
        ("Cbrt", f64::cbrt),
        ("Round", f64::round_ties_even),
        ("ReciprocalEstimate", f64::recip),
    ];
    for (name, f) in unary {
        e.register_fn(format!("Math__{name}"), move |x: Dynamic| num(&x).map(f));
    }
    let binary: [(&str, Binary); 6] = [
        ("Pow", f64::powf),
        ("Atan2", f64::atan2),
        ("Log", log_base),
        ("CopySign", f64::copysign),
        ("IEEERemainder", |x, y| x - y * (x / y).round_ties_even()),
        ("ScaleB", |x, n| x * 2f64.powf(n)),
    ];
    for (name, f) in binary {
        e.register_fn(
            format!("Math__{name}"),
            move |x: Dynamic, y: Dynamic| -> RhaiResult<f64> { Ok(f(num(&x)?, num(&y)?)) },
        );
    }
    e.register_fn("Math__PI", || std::f64::consts::PI)
        .register_fn("Math__E", || std::f64::consts::E)
        .register_fn("Math__Tau", || std::f64::consts::TAU)
        .register_fn("Math__Abs", |n: INT| -> RhaiResult<INT> {
            match n.checked_abs() {
                Some(a) => Ok(a),
                None => throw(
                    "OverflowException",
                    "Negating the minimum value of a twos complement number is invalid.",
                ),
            }
        })
        .register_fn("Math__Abs", |x: FLOAT| x.abs())
        .register_fn("Math__Max", |a: INT, b: INT| a.max(b))
        .register_fn("Math__Min", |a: INT, b: INT| a.min(b))
        .register_fn("Math__Max", |a: Dynamic, b: Dynamic| -> RhaiResult<f64> {
            Ok(max_f(num(&a)?, num(&b)?))
        })
        .register_fn("Math__Min", |a: Dynamic, b: Dynamic| -> RhaiResult<f64> {
            Ok(min_f(num(&a)?, num(&b)?))
        })
        .register_fn("Math__Sign", |n: INT| n.signum())
        .register_fn("Math__Sign", |x: FLOAT| -> RhaiResult<INT> {
            if x.is_nan() {
                return throw(
                    "ArithmeticException",
                    "Function does not accept floating point Not-a-Number values.",
                );
            }
            Ok(if x > 0.0 {
                1
            } else if x < 0.0 {
                -1
            } else {
                0
            })
        })
        .register_fn(
            "Math__Clamp",
            |v: INT, min: INT, max: INT| -> RhaiResult<INT> {
                if min > max {
                    return clamp_error(&min.to_string(), &max.to_string());
                }
                Ok(v.clamp(min, max))
            },
        )
        .register_fn(
            "Math__Clamp",
            |v: Dynamic, min: Dynamic, max: Dynamic| -> RhaiResult<f64> {
                let (v, lo, hi) = (num(&v)?, num(&min)?, num(&max)?);
                if lo > hi {
                    return clamp_error(&format_double(lo), &format_double(hi));
                }
                Ok(if v < lo {
                    lo
                } else if v > hi {
                    hi
                } else {
                    v
                })
            },
        )
        .register_fn("Math__BigMul", |a: INT, b: INT| a.wrapping_mul(b))
        .register_fn(
            "Math__FusedMultiplyAdd",
            |a: Dynamic, b: Dynamic, c: Dynamic| -> RhaiResult<f64> {
                Ok(num(&a)?.mul_add(num(&b)?, num(&c)?))
            },
        )
        .register_fn("Math__Round", |x: Dynamic, digits: INT| {
            round(num(&x)?, digits, MidpointRounding::ToEven)
        })
        .register_fn("Math__Round", |x: Dynamic, mode: MidpointRounding| {
            round(num(&x)?, 0, mode)
        })
        .register_fn(
            "Math__Round",
            |x: Dynamic, digits: INT, mode: MidpointRounding| round(num(&x)?, digits, mode),
        );
}

fn register_midpoint(e: &mut Engine) {
    use MidpointRounding as M;
    let name = |m: M| match m {
        M::ToEven => "ToEven",
        M::AwayFromZero => "AwayFromZero",
        M::ToZero => "ToZero",
        M::ToNegativeInfinity => "ToNegativeInfinity",
        M::ToPositiveInfinity => "ToPositiveInfinity",
    };
    e.register_type_with_name::<M>("MidpointRounding")
        .register_fn("ToString", move |m: &mut M| name(*m))
        .register_fn("==", |a: M, b: M| a == b)
        .register_fn("!=", |a: M, b: M| a != b);
    for m in [
        M::ToEven,
        M::AwayFromZero,
        M::ToZero,
        M::ToNegativeInfinity,
        M::ToPositiveInfinity,
    ] {
        e.register_fn(format!("MidpointRounding__{}", name(m)), move || m);
    }
}

/// `int.MaxValue`, `Int32.MaxValue`, ...: both spellings of each type.
fn register_limits(e: &mut Engine) {
    let ints: [(&[&str], i64, i64); 7] = [
        (&["int", "Int32"], i32::MIN.into(), i32::MAX.into()),
        (&["long", "Int64"], i64::MIN, i64::MAX),
        (&["short", "Int16"], i16::MIN.into(), i16::MAX.into()),
        (&["byte", "Byte"], 0, u8::MAX.into()),
        (&["sbyte", "SByte"], i8::MIN.into(), i8::MAX.into()),
        (&["ushort", "UInt16"], 0, u16::MAX.into()),
        (&["uint", "UInt32"], 0, u32::MAX.into()),
    ];
    for (names, lo, hi) in ints {
        for name in names {
            e.register_fn(format!("{name}__MinValue"), move || lo)
                .register_fn(format!("{name}__MaxValue"), move || hi);
        }
    }
    e.register_fn("ulong__MinValue", || 0 as INT)
        .register_fn("UInt64__MinValue", || 0 as INT);
    let floats: [(&[&str], f64, f64); 3] = [
        (&["double", "Double"], f64::MAX, f64::from_bits(1)),
        (
            &["float", "Single"],
            f64::from(f32::MAX),
            f64::from(f32::from_bits(1)),
        ),
        (
            &["decimal", "Decimal"],
            79_228_162_514_264_337_593_543_950_335.0,
            0.0,
        ),
    ];
    for (names, max, epsilon) in floats {
        for name in names {
            e.register_fn(format!("{name}__MaxValue"), move || max)
                .register_fn(format!("{name}__MinValue"), move || -max);
            if epsilon > 0.0 {
                e.register_fn(format!("{name}__Epsilon"), move || epsilon)
                    .register_fn(format!("{name}__NaN"), || f64::NAN)
                    .register_fn(format!("{name}__PositiveInfinity"), || f64::INFINITY)
                    .register_fn(format!("{name}__NegativeInfinity"), || f64::NEG_INFINITY);
                let tests: [(&str, Test); 8] = [
                    ("IsNaN", f64::is_nan),
                    ("IsInfinity", f64::is_infinite),
                    ("IsPositiveInfinity", |x| x == f64::INFINITY),
                    ("IsNegativeInfinity", |x| x == f64::NEG_INFINITY),
                    ("IsFinite", f64::is_finite),
                    ("IsNormal", f64::is_normal),
                    ("IsNegative", f64::is_sign_negative),
                    ("IsInteger", |x| x.is_finite() && x.trunc() == x),
                ];
                for (test, f) in tests {
                    e.register_fn(format!("{name}__{test}"), move |x: FLOAT| f(x))
                        .register_fn(format!("{name}__{test}"), move |n: INT| f(n as f64));
                }
            } else {
                e.register_fn(format!("{name}__Zero"), || 0.0 as FLOAT)
                    .register_fn(format!("{name}__One"), || 1.0 as FLOAT)
                    .register_fn(format!("{name}__MinusOne"), || -1.0 as FLOAT);
            }
        }
    }
}

pub(crate) fn register(e: &mut Engine) {
    register_math(e);
    register_midpoint(e);
    register_limits(e);
}

#[cfg(test)]
mod tests;
