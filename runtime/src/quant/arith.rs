//! The integer arithmetic of the quantised path: rounding shifts,
//! saturation, powers of two and the 15-bit factors ([`Fx`]) that carry
//! `h`, `mu` and NAG's rescale factors. Every scale is a power of two, so
//! these are all the path needs (see the number formats in [`crate::quant`]).

/// `round(a * 2^-s)` for `s > 0` (half up), `a * 2^-s` saturating for
/// `s <= 0`.
#[inline]
pub fn shift_round(a: i32, s: i32) -> i32 {
    match s {
        // Common (a tanh output kept in Q15).
        0 => a,
        // Shifting by s - 1 first keeps the rounding add in range.
        1..=31 => (a >> (s - 1)).saturating_add(1) >> 1,
        32.. => 0,
        _ => {
            // In i32 (no 64-bit shift call on the M0): `a << k` fits iff
            // `a` is within `i32::MIN >> k ..= i32::MAX >> k`; k = 31 also
            // gives every larger shift's result (0, or saturated).
            let k = s.unsigned_abs().min(31);
            if a > i32::MAX >> k {
                i32::MAX
            } else if a < i32::MIN >> k {
                i32::MIN
            } else {
                a << k
            }
        }
    }
}

/// `a` clamped to `±32767` (symmetric, so negation never overflows).
#[inline]
pub fn sat16(a: i32) -> i16 {
    a.clamp(-32767, 32767) as i16
}

/// `2^k` as an `f32` for `k` in `-126..=127` (from its bits: no soft-float
/// call), 0 or infinity outside.
#[inline]
pub fn pow2(k: i32) -> f32 {
    match k {
        -126..=127 => f32::from_bits(((k + 127) as u32) << 23),
        k if k < 0 => 0.0,
        _ => f32::INFINITY,
    }
}

/// A non-negative real as `m * 2^-e` with a 15-bit mantissa `m`: how `h`,
/// `mu` and NAG's rescale factors enter the integer step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fx {
    /// Mantissa in `[2^14, 2^15)`, or 0.
    pub m: i32,
    /// Exponent.
    pub e: i32,
}

impl Fx {
    /// Zero.
    pub const ZERO: Fx = Fx { m: 0, e: 0 };

    /// `x` rounded to 15 significant bits, read from its bits (no
    /// soft-float call). Zero, negative, subnormal and NaN give [`Fx::ZERO`];
    /// infinity gives the largest value.
    pub fn from_f32(x: f32) -> Self {
        let bits = x.to_bits();
        let biased = ((bits >> 23) & 0xff) as i32;
        if bits >> 31 != 0 || biased == 0 || x.is_nan() {
            return Self::ZERO;
        }
        let full = ((bits & 0x7f_ffff) | 0x80_0000) as i32;
        let (mut m, mut e) = ((full + 256) >> 9, 141 - biased);
        if m == 1 << 15 {
            m = 1 << 14;
            e -= 1;
        }
        Self { m, e }
    }

    /// `round(a * self * 2^-extra)`, saturating.
    #[inline]
    pub fn mul(self, a: i32, extra: i32) -> i32 {
        let p = i64::from(a) * i64::from(self.m);
        let s = self.e.saturating_add(extra);
        let r = match s {
            1..=62 => ((p >> (s - 1)) + 1) >> 1,
            s if s > 62 => 0,
            s => p.saturating_mul(1i64 << s.unsigned_abs().min(62)),
        };
        r.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `i32` left shift saturates exactly as an `i64` shift clamped to
    /// `i32` would, for every shift and the values around each limit.
    #[test]
    fn left_shifts_saturate_like_a_wide_shift() {
        for s in -40i32..=0 {
            let k = s.unsigned_abs().min(32);
            let edges = [i32::MAX >> k.min(31), i32::MIN >> k.min(31)];
            let values = edges
                .iter()
                .flat_map(|e| [e.saturating_sub(1), *e, e.saturating_add(1)])
                .chain([0, 1, -1, 2, -2, 12345, -12345, i32::MAX, i32::MIN]);
            for a in values {
                let wide = (i64::from(a) << k).clamp(i64::from(i32::MIN), i64::from(i32::MAX));
                assert_eq!(i64::from(shift_round(a, s)), wide, "{a} << {}", -s);
            }
        }
    }
}
