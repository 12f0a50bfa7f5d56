//! The hand-built tanh and the dense kernel against f64 references.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nagode::field::{mat_vec_acc, tanh, TANH_MAX_ERROR};

/// Max |tanh(x) - f64::tanh(x)| over every f32 in [-10, 10] spaced by 2^-14,
/// plus the tails and special values.
#[test]
fn tanh_max_error_is_bounded() {
    let mut worst = (0.0f64, 0.0f32);
    let mut check = |x: f32| {
        let err = (f64::from(tanh(x)) - f64::from(x).tanh()).abs();
        if err > worst.0 {
            worst = (err, x);
        }
    };
    let step = 1.0 / 16384.0;
    for i in -(10 * 16384)..=(10 * 16384) {
        check(i as f32 * step);
    }
    for x in [
        1e-30,
        1e-8,
        3.9e-4,
        4.1e-4,
        7.9,
        8.5,
        9.0,
        20.0,
        1e10,
        f32::MAX,
        f32::MIN_POSITIVE,
    ] {
        check(x);
        check(-x);
    }
    println!("tanh max error {:.3e} at x = {}", worst.0, worst.1);
    assert!(worst.0 <= f64::from(TANH_MAX_ERROR), "{worst:?}");
    // The bound is tight, not decorative.
    assert!(worst.0 >= f64::from(TANH_MAX_ERROR) / 8.0, "{worst:?}");
}

#[test]
fn tanh_special_values() {
    assert!(tanh(f32::NAN).is_nan());
    assert_eq!(tanh(f32::INFINITY), 1.0);
    assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
    assert_eq!(tanh(0.0).to_bits(), 0.0f32.to_bits());
    assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
    // Odd and monotone on a grid.
    let mut prev = -1.0f32;
    for i in -4000..=4000 {
        let x = i as f32 * 0.0025;
        assert_eq!(tanh(-x), -tanh(x));
        assert!(tanh(x) >= prev, "not monotone at {x}");
        assert!(tanh(x).abs() <= 1.0);
        prev = tanh(x);
    }
}

#[test]
fn kernel_matches_naive_product_and_column_offsets() {
    let (rows, cols) = (5usize, 7usize);
    let w: Vec<f32> = (0..rows * cols).map(|i| (i as f32 * 0.37).sin()).collect();
    let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    let x: Vec<f32> = (0..cols).map(|i| 1.0 - i as f32 * 0.3).collect();
    let mut out = vec![0.5f32; rows];
    mat_vec_acc(&bytes, cols, &x, &mut out);
    for r in 0..rows {
        let mut expected = 0.5f32;
        for c in 0..cols {
            expected += w[r * cols + c] * x[c];
        }
        assert_eq!(out[r], expected);
    }
    // Columns 3.. only (the held-input trick), with a misaligned byte slice.
    let mut shifted = vec![0u8; 1];
    shifted.extend_from_slice(&bytes);
    let mut out = vec![0.0f32; rows];
    mat_vec_acc(&shifted[1 + 3 * 4..], cols, &x[3..], &mut out);
    for r in 0..rows {
        let expected: f32 = (3..cols).fold(0.0, |acc, c| acc + w[r * cols + c] * x[c]);
        assert_eq!(out[r], expected);
    }
    // A zero stride writes nothing.
    let mut out = vec![1.0f32; 2];
    mat_vec_acc(&bytes, 0, &x, &mut out);
    assert_eq!(out, [1.0, 1.0]);
}
