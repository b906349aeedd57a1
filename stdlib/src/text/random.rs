//! `System.Random`. A seeded `Random` runs .NET's own algorithm (Knuth's
//! subtractive generator, kept by .NET for seeded instances), so
//! `new Random(42).Next(100)` is the number .NET gives; an unseeded one is
//! the same generator with a random seed.

use std::sync::{Arc, Mutex};

use rhai::{Blob, Engine, FLOAT, INT};

use crate::core::{RhaiResult, throw};

const MSEED: i32 = 161_803_398;

struct Prng {
    seed_array: [i32; 56],
    inext: usize,
    inextp: usize,
}

impl Prng {
    fn new(seed: i32) -> Self {
        let mut a = [0i32; 56];
        let subtraction = if seed == i32::MIN {
            i32::MAX
        } else {
            seed.abs()
        };
        let mut mj = MSEED - subtraction;
        a[55] = mj;
        let mut mk = 1i32;
        let mut ii = 0usize;
        for _ in 1..55 {
            ii += 21;
            if ii >= 55 {
                ii -= 55;
            }
            a[ii] = mk;
            mk = mj.wrapping_sub(mk);
            if mk < 0 {
                mk = mk.wrapping_add(i32::MAX);
            }
            mj = a[ii];
        }
        for _ in 1..5 {
            for i in 1..56 {
                let mut n = i + 30;
                if n >= 55 {
                    n -= 55;
                }
                a[i] = a[i].wrapping_sub(a[1 + n]);
                if a[i] < 0 {
                    a[i] = a[i].wrapping_add(i32::MAX);
                }
            }
        }
        Prng {
            seed_array: a,
            inext: 0,
            inextp: 21,
        }
    }

    fn internal_sample(&mut self) -> i32 {
        let mut inext = self.inext + 1;
        if inext >= 56 {
            inext = 1;
        }
        let mut inextp = self.inextp + 1;
        if inextp >= 56 {
            inextp = 1;
        }
        let mut ret = self.seed_array[inext].wrapping_sub(self.seed_array[inextp]);
        if ret == i32::MAX {
            ret -= 1;
        }
        if ret < 0 {
            ret = ret.wrapping_add(i32::MAX);
        }
        self.seed_array[inext] = ret;
        self.inext = inext;
        self.inextp = inextp;
        ret
    }

    fn sample(&mut self) -> f64 {
        f64::from(self.internal_sample()) * (1.0 / f64::from(i32::MAX))
    }

    fn large_range_sample(&mut self) -> f64 {
        let mut result = self.internal_sample();
        if self.internal_sample() % 2 == 0 {
            result = -result;
        }
        (f64::from(result) + f64::from(i32::MAX - 1)) / (2.0 * f64::from(i32::MAX) - 1.0)
    }

    fn next_range(&mut self, min: i64, max: i64) -> i64 {
        let range = i128::from(max) - i128::from(min);
        let sample = if range <= i128::from(i32::MAX) {
            self.sample()
        } else {
            self.large_range_sample()
        };
        let v = (sample * range as f64) as i128 + i128::from(min);
        i64::try_from(v).unwrap_or(max)
    }
}

/// A `System.Random` (a reference type: copies share the generator).
#[derive(Clone)]
pub struct Random(Arc<Mutex<Prng>>);

impl Random {
    fn seeded(seed: INT) -> Self {
        Random(Arc::new(Mutex::new(Prng::new(seed as i32))))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Prng) -> T) -> T {
        let mut g = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }
}

fn check_max(max: INT) -> RhaiResult<()> {
    if max < 0 {
        return throw(
            "ArgumentOutOfRangeException",
            format!(
                "maxValue ('{max}') must be a non-negative value. (Parameter 'maxValue')\nActual value was {max}."
            ),
        );
    }
    Ok(())
}

fn check_min_max(min: INT, max: INT) -> RhaiResult<()> {
    if min > max {
        return throw(
            "ArgumentOutOfRangeException",
            format!("'{min}' cannot be greater than {max}. (Parameter 'minValue')"),
        );
    }
    Ok(())
}

pub(super) fn register(e: &mut Engine) {
    e.register_type_with_name::<Random>("Random")
        .register_fn("Random__new", || {
            Random::seeded(INT::from(rand::random::<i32>()))
        })
        .register_fn("Random__new", Random::seeded)
        .register_fn("Random__Shared", || {
            Random::seeded(INT::from(rand::random::<i32>()))
        })
        .register_fn("Next", |r: &mut Random| {
            INT::from(r.with(Prng::internal_sample))
        })
        .register_fn("Next", |r: &mut Random, max: INT| -> RhaiResult<INT> {
            check_max(max)?;
            Ok(r.with(|p| (p.sample() * max as f64) as INT))
        })
        .register_fn(
            "Next",
            |r: &mut Random, min: INT, max: INT| -> RhaiResult<INT> {
                check_min_max(min, max)?;
                Ok(r.with(|p| p.next_range(min, max)))
            },
        )
        .register_fn("NextInt64", |r: &mut Random| {
            r.with(|p| p.next_range(0, i64::MAX))
        })
        .register_fn("NextInt64", |r: &mut Random, max: INT| -> RhaiResult<INT> {
            check_max(max)?;
            Ok(r.with(|p| p.next_range(0, max)))
        })
        .register_fn(
            "NextInt64",
            |r: &mut Random, min: INT, max: INT| -> RhaiResult<INT> {
                check_min_max(min, max)?;
                Ok(r.with(|p| p.next_range(min, max)))
            },
        )
        .register_fn("NextDouble", |r: &mut Random| -> FLOAT {
            r.with(Prng::sample)
        })
        .register_fn("NextSingle", |r: &mut Random| -> FLOAT {
            f64::from(r.with(Prng::sample) as f32)
        })
        // `NextBytes(buffer)` fills the caller's array in .NET; a rhai Blob is a
        // value, so this returns a filled copy of the same length.
        .register_fn("NextBytes", |r: &mut Random, b: Blob| -> Blob {
            r.with(|p| b.iter().map(|_| p.internal_sample() as u8).collect())
        })
        .register_fn("ToString", |_: &mut Random| "System.Random");
}
