//! The activation `tanh`, shared by the runtime and the trainer's forward
//! pass so both round alike.
//!
//! It is an odd rational `x P(x²) / Q(x²)` (`P` of degree 3, `Q` of degree
//! 4 in `x²`, `Q` monic): a minimax (Remez) fit for absolute error on
//! `[0, 7.9]`, rounded to f32, from `python3 runtime/tools/fit_tanh.py 3 4
//! 7.9` (standard library only). The input is clamped at 7.718591, where the
//! f32 evaluation peaks at `1 - 2^-23`, so the saturated end is flat rather
//! than dipping with the fit's last ripple. Lower degrees miss the bound:
//! `P`, `Q` both of degree 3 level at 2.2e-6.
//!
//! Not monotone at the ulp level: rounding in `P` and `Q` (a few ulp of the
//! result) makes neighbouring inputs dip by up to 8 ulp (4.8e-7) where
//! `tanh` itself rises by less than that, which the tests bound.
//!
//! Cost on the Cortex-M4F: 16 float ops (`x²`, Horner for `P` and `Q`, one
//! multiply, one divide) and 8 instructions of clamp (two compares with
//! conditional moves); no branch, no table, no call.
//!
//! micromath (2.1) has no `tanh`. Its `exp` is off by up to 2.4e-3
//! relative on [-12, 12], and `1 - 2 / (exp(2x) + 1)` on it by 1.1e-3
//! absolute (measured against f64 on a 2^-12 grid): 100 times the 1e-5
//! trainer/runtime parity budget, so the runtime does not use micromath here.

/// Largest absolute error of [`tanh`] against the exact `tanh` over every
/// f32: 4.34e-7 measured exhaustively (at x = 4.193668); the tests check a
/// dense grid, the special values and random f32 against `f64::tanh`.
pub const TANH_MAX_ERROR: f32 = 5.0e-7;

/// The input is clamped to `±CLAMP`, the peak of the f32 evaluation.
const CLAMP: f32 = 7.718_591;

/// `P`, highest power of `x²` first.
const P: [f32; 4] = [46.45323, 11999.276, 525902.2, 4069602.2];

/// `Q` below its leading 1, highest power of `x²` first.
const Q: [f32; 4] = [970.1751, 96870.88, 1882428.4, 4069604.5];

/// `tanh(x)` in f32 within [`TANH_MAX_ERROR`], with plain multiplies and
/// adds and one divide (never a fused multiply-add, so the host and the
/// Cortex-M round alike). Odd exactly (`-0.0` gives `-0.0`), `±inf` gives
/// `±(1 - 2^-23)`, NaN gives NaN.
#[inline]
pub fn tanh(x: f32) -> f32 {
    // `clamp` is two compares and keeps NaN.
    let x = x.clamp(-CLAMP, CLAMP);
    let s = x * x;
    let [p3, p2, p1, p0] = P;
    let [q3, q2, q1, q0] = Q;
    let p = ((p3 * s + p2) * s + p1) * s + p0;
    let q = (((s + q3) * s + q2) * s + q1) * s + q0;
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `|tanh(x) - tanh_f64(x)|`.
    fn error(x: f32) -> f64 {
        (f64::from(tanh(x)) - f64::from(x).tanh()).abs()
    }

    /// `[-12, 12]` in steps of 2^-14 (393,217 points, exact in f32).
    fn grid() -> impl Iterator<Item = f32> {
        (-(12 << 14)..=(12 << 14)).map(|k: i32| k as f32 / 16384.0)
    }

    #[test]
    fn tanh_error_bound_holds_and_is_tight() {
        let worst = grid().map(error).fold(0.0, f64::max);
        assert!(worst <= f64::from(TANH_MAX_ERROR), "max error {worst:e}");
        // The stated bound is not loose: the grid reaches half of it.
        assert!(
            worst >= f64::from(TANH_MAX_ERROR) / 2.0,
            "max error {worst:e}"
        );
    }

    #[test]
    fn tanh_special_values() {
        assert_eq!(tanh(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
        assert!(tanh(f32::NAN).is_nan());
        let near_one = 1.0 - f64::from(TANH_MAX_ERROR);
        for x in [f32::INFINITY, f32::MAX, 1.0e10, 100.0, 9.0, CLAMP] {
            assert!(f64::from(tanh(x)) >= near_one && tanh(x) <= 1.0, "{x}");
            assert_eq!(tanh(-x), -tanh(x), "{x}");
        }
        // Tiny and subnormal inputs: tanh(x) = x to within the coefficient
        // rounding of P(0) / Q(0).
        for x in [1.0e-3f32, 1.0e-20, f32::MIN_POSITIVE, 1.0e-40, 1.0e-45] {
            assert!(x > 0.0 && error(x) <= f64::from(x) * 1.0e-6, "{x:e}");
            assert!(tanh(x) > 0.0, "{x:e}");
        }
    }

    /// Up to this `|x|` the grid is exactly monotone; beyond it `tanh`
    /// rises by less than 1.5e-3 in all and rounding may dip (module doc).
    const MONOTONE_TO: f32 = 3.5;

    #[test]
    fn tanh_is_odd_bounded_and_monotone_on_the_grid() {
        let mut last = -1.0f32;
        for x in grid() {
            let y = tanh(x);
            assert_eq!(tanh(-x).to_bits(), (-y).to_bits(), "{x}");
            assert!(y.abs() <= 1.0, "{x}");
            if x.abs() <= MONOTONE_TO {
                assert!(y >= last, "{x}: {y} < {last}");
            } else {
                assert!(last - y <= TANH_MAX_ERROR, "{x}: {y} < {last}");
            }
            last = y;
        }
        assert_eq!(tanh(f32::INFINITY), 1.0 - f32::EPSILON);
    }

    proptest! {
        #[test]
        fn tanh_within_bound_for_any_f32(bits in any::<u32>()) {
            let x = f32::from_bits(bits);
            if x.is_nan() {
                prop_assert!(tanh(x).is_nan());
            } else {
                prop_assert!(error(x) <= f64::from(TANH_MAX_ERROR), "{:e}", x);
                prop_assert_eq!(tanh(-x).to_bits(), (-tanh(x)).to_bits());
            }
        }
    }
}
