//! `tanh` in integers: Q16 input, Q15 output, from a table of `tanh(k/64)`
//! with linear interpolation; no divide, one multiply.
//!
//! The table holds `round(tanh(k / 64) * 32768)` for `k = 0..=384` (the last
//! entries saturate at `32767`), computed at compile time from an `f64`
//! evaluation ([`tanh_f64`]). From 6 on the output is `32767`
//! (`tanh(6) * 32768 = 32767.6`). Odd by symmetry: `tanh(-x) = -tanh(x)`
//! exactly.
//!
//! Error: linear interpolation on a step of `1/64` is off by at most
//! `(1/64)^2 / 8 * max|tanh''| = 2.4e-5`, the table's and the interpolation's
//! rounding add half an output step each (`2^-16` each): bound
//! [`TANH_Q15_MAX_ERROR`], checked exhaustively over every Q16 input in
//! `[-8, 8]` by the tests.

/// Exponent of the input (Q16).
pub const INPUT_EXP: i32 = 16;
/// Exponent of the output (Q15).
pub const OUTPUT_EXP: i32 = 15;

/// Largest `|tanh_q16(q) / 2^15 - tanh(q / 2^16)|` over every Q16 input:
/// 4.7e-5 measured (at -47629 / 2^16, 1.5 output steps), stated with margin.
pub const TANH_Q15_MAX_ERROR: f64 = 5.5e-5;

/// Table steps per unit of input.
const STEPS_LOG2: u32 = 6;
/// Entries: `tanh(k / 64)` for `k` in `0..=LAST`.
const LAST: usize = 384;
/// Input bits below one table step.
const FRAC_BITS: u32 = INPUT_EXP as u32 - STEPS_LOG2;

/// `tanh` in `f64` for the table: `1 - 2 / (exp(2x) + 1)` with `exp` from
/// `exp(x / 2^10)`'s Taylor series squared ten times; accurate to about
/// `1e-13` on `[0, 6]`, far below the `2^-16` rounding of the table.
pub const fn tanh_f64(x: f64) -> f64 {
    let r = 2.0 * x / 1024.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1;
    while k < 12 {
        term = term * r / k as f64;
        sum += term;
        k += 1;
    }
    let mut i = 0;
    while i < 10 {
        sum *= sum;
        i += 1;
    }
    1.0 - 2.0 / (sum + 1.0)
}

// Evaluated at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
const TABLE: [i16; LAST + 1] = {
    let mut t = [0i16; LAST + 1];
    let mut k = 0;
    while k <= LAST {
        let v = tanh_f64(k as f64 / (1 << STEPS_LOG2) as f64) * 32768.0 + 0.5;
        t[k] = if v >= 32767.0 { 32767 } else { v as i16 };
        k += 1;
    }
    t
};

/// `tanh(q / 2^16)` in Q15, within [`TANH_Q15_MAX_ERROR`].
#[inline]
pub fn tanh_q16(q: i32) -> i16 {
    let a = q.unsigned_abs();
    let k = (a >> FRAC_BITS) as usize;
    let t = match (TABLE.get(k), TABLE.get(k + 1)) {
        (Some(&lo), Some(&hi)) => {
            let frac = (a & ((1 << FRAC_BITS) - 1)) as i32;
            let step = i32::from(hi) - i32::from(lo);
            i32::from(lo) + ((step * frac + (1 << (FRAC_BITS - 1))) >> FRAC_BITS)
        }
        _ => 32767,
    };
    let t = t as i16;
    if q < 0 {
        -t
    } else {
        t
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn err(q: i32) -> f64 {
        (f64::from(tanh_q16(q)) / 32768.0 - (f64::from(q) / 65536.0).tanh()).abs()
    }

    #[test]
    fn table_generator_matches_std_tanh() {
        for k in 0..=4000 {
            let x = f64::from(k) / 500.0;
            assert!((tanh_f64(x) - x.tanh()).abs() < 1e-12, "{x}");
        }
    }

    #[test]
    fn every_q16_input_in_range_is_within_the_bound() {
        let (worst, at) = (-(8 << 16)..=(8 << 16))
            .map(|q| (err(q), q))
            .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
        assert!(worst <= TANH_Q15_MAX_ERROR, "{worst} at {at}");
        // The bound is tight: stated within 25 % of the measured worst.
        assert!(worst > TANH_Q15_MAX_ERROR * 0.75, "{worst}");
    }

    #[test]
    fn odd_monotone_and_saturated() {
        let mut prev = tanh_q16(-(9 << 16));
        for q in (-(9 << 16)..=(9 << 16)).step_by(7) {
            let t = tanh_q16(q);
            assert_eq!(tanh_q16(-q), -t);
            assert!(t >= prev, "not monotone at {q}");
            prev = t;
        }
        assert_eq!(tanh_q16(0), 0);
        assert_eq!(tanh_q16(i32::MAX), 32767);
        assert_eq!(tanh_q16(i32::MIN), -32767);
        assert_eq!(tanh_q16(6 << 16), 32767);
    }
}
