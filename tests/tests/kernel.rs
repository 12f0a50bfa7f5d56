//! The runtime's dense kernel (`nagode::build::mat_vec_acc`, tuned for
//! Cortex-M) gives bit for bit what the plain row-by-row definition gives,
//! for any shape: short last rows, `x` longer or shorter than a row, more
//! outputs than rows, on both weight paths (native `f32`s and little-endian
//! bytes at any alignment). The firmware's parity tests rely on its
//! summation order.

use nagode::build::{mat_vec_acc, Weights};
use proptest::prelude::*;

/// The whole floats of little-endian bytes.
fn floats(w: &[u8]) -> Vec<f32> {
    w.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// `mat_vec_acc` on the byte path and on the `f32` path; both results.
fn both_paths(w: &[u8], stride: usize, x: &[f32], acc: &[f32]) -> [Vec<f32>; 2] {
    let mut le = acc.to_vec();
    mat_vec_acc(Weights::Le(w), stride, x, &mut le);
    let mut native = acc.to_vec();
    mat_vec_acc(Weights::F32(&floats(w)), stride, x, &mut native);
    [le, native]
}

/// The definition: row `o` starts at float `o * stride`; each row sums its
/// products in column order, starting from the accumulator.
fn reference(w: &[u8], stride: usize, x: &[f32], out: &mut [f32]) {
    if stride == 0 {
        return;
    }
    for (acc, row) in out.iter_mut().zip(floats(w).chunks(stride)) {
        let mut s = *acc;
        for (wi, xi) in row.iter().zip(x) {
            s += wi * xi;
        }
        *acc = s;
    }
}

fn value() -> impl Strategy<Value = f32> {
    (-1000i32..1000).prop_map(|v| v as f32 / 97.0)
}

proptest! {
    #[test]
    fn kernel_matches_the_row_by_row_definition(
        rows in 0usize..11,
        stride in 0usize..13,
        extra_bytes in 0usize..9,
        x in prop::collection::vec(value(), 0..15),
        acc in prop::collection::vec(value(), 0..14),
        seed in prop::collection::vec(value(), 0..160),
    ) {
        let floats = rows * stride;
        let mut w: Vec<u8> = (0..floats)
            .flat_map(|i| seed.get(i % seed.len().max(1)).copied().unwrap_or(0.5).to_le_bytes())
            .collect();
        // A ragged tail (a short last row and stray bytes).
        w.extend(std::iter::repeat_n(0x3f, extra_bytes));
        let mut expected = acc.clone();
        reference(&w, stride, &x, &mut expected);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        for got in both_paths(&w, stride, &x, &acc) {
            prop_assert_eq!(bits(&got), bits(&expected));
        }
    }

    #[test]
    fn kernel_reads_weights_at_any_byte_offset(offset in 0usize..4, n in 1usize..20) {
        let floats: Vec<f32> = (0..n * n).map(|i| (i as f32).sin()).collect();
        let mut w = vec![0u8; offset];
        w.extend(floats.iter().flat_map(|f| f.to_le_bytes()));
        let x: Vec<f32> = (0..n).map(|i| 1.0 / (i as f32 + 1.0)).collect();
        let mut expected = vec![0.25; n];
        reference(&w[offset..], n, &x, &mut expected);
        let mut got = vec![0.25; n];
        mat_vec_acc(Weights::from_le_bytes(&w[offset..]), n, &x, &mut got);
        prop_assert_eq!(&got, &expected);
        for got in both_paths(&w[offset..], n, &x, &[0.25; 20][..n]) {
            prop_assert_eq!(&got, &expected);
        }
    }
}
