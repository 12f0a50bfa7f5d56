//! The dense kernel on both weight paths (aligned `f32`s and little-endian
//! bytes at any alignment) against a plain product.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use nagode::build::{mat_vec_acc, Weights};

#[test]
fn kernel_matches_naive_product_and_column_offsets() {
    let (rows, cols) = (9usize, 7usize);
    let w: Vec<f32> = (0..rows * cols).map(|i| (i as f32 * 0.37).sin()).collect();
    let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    let x: Vec<f32> = (0..cols).map(|i| 1.0 - i as f32 * 0.3).collect();
    // One byte in front: the byte path on a misaligned slice.
    let mut shifted = vec![0u8; 1];
    shifted.extend_from_slice(&bytes);
    let paths = [Weights::F32(&w), Weights::Le(&shifted[1..])];
    assert!(matches!(
        Weights::from_le_bytes(&shifted[1..]),
        Weights::Le(_)
    ));
    for weights in paths {
        let mut out = vec![0.5f32; rows];
        mat_vec_acc(weights, cols, &x, &mut out);
        for r in 0..rows {
            let mut expected = 0.5f32;
            for c in 0..cols {
                expected += w[r * cols + c] * x[c];
            }
            assert_eq!(out[r].to_bits(), expected.to_bits(), "{weights:?} row {r}");
        }
        // Columns 3.. only (the held-input trick).
        let mut out = vec![0.0f32; rows];
        mat_vec_acc(weights.skip(3), cols, &x[3..], &mut out);
        for r in 0..rows {
            let expected: f32 = (3..cols).fold(0.0, |acc, c| acc + w[r * cols + c] * x[c]);
            assert_eq!(out[r].to_bits(), expected.to_bits());
        }
        // A zero stride writes nothing.
        let mut out = vec![1.0f32; 2];
        mat_vec_acc(weights, 0, &x, &mut out);
        assert_eq!(out, [1.0, 1.0]);
    }
}

#[test]
fn aligned_little_endian_bytes_take_the_f32_path() {
    let w = [1.5f32, -2.0, 0.25, 8.0];
    // An f32 array is 4-aligned, and so is its byte view.
    let bytes: &[u8] = bytemuck::cast_slice(&w);
    let weights = Weights::from_le_bytes(bytes);
    assert_eq!(
        matches!(weights, Weights::F32(_)),
        cfg!(target_endian = "little")
    );
    assert_eq!(weights.len(), 4);
    assert_eq!(weights.get(3), Some(8.0));
    assert_eq!(weights.get(4), None);
    let (a, b) = weights.split_at(1).unwrap();
    assert_eq!((a.len(), b.get(0)), (1, Some(-2.0)));
    assert!(weights.split_at(5).is_none());
}

#[test]
fn short_last_row_in_any_position_of_a_block_of_four() {
    // The last row may be cut anywhere; it lands in each slot of a block of
    // four rows (and after the blocks), longer and shorter than `x`.
    let stride = 5;
    for rows in 1..=9usize {
        for cut in 0..stride {
            let w: Vec<f32> = (0..rows * stride - cut)
                .map(|i| (i as f32 * 0.61).cos())
                .collect();
            for cols in [3usize, 5, 7] {
                let x: Vec<f32> = (0..cols).map(|i| 0.5 - i as f32 * 0.2).collect();
                let mut got = vec![0.25f32; 10];
                mat_vec_acc(Weights::F32(&w), stride, &x, &mut got);
                let mut expected = vec![0.25f32; 10];
                for (acc, row) in expected.iter_mut().zip(w.chunks(stride)) {
                    for (wi, xi) in row.iter().zip(&x) {
                        *acc += wi * xi;
                    }
                }
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got),
                    bits(&expected),
                    "rows {rows} cut {cut} cols {cols}"
                );
            }
        }
    }
}
