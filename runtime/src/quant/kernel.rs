//! The integer dense kernel: `i8` weights times `i16` activations, summed in
//! `i32`.
//!
//! Each product is below `2^22` in magnitude, and the loader
//! ([`crate::quant::layers`]) refuses a row whose `sum |w| * 32768 + |b|`
//! reaches `2^31`, so no sum can leave `i32` for any input. The adds are
//! written `wrapping_add` only so that a debug build has no overflow check
//! (a panic path) in the inner loop; they never wrap.
//!
//! Shape: rows two at a time, so each `x[i]` is loaded once per two rows,
//! walked from the last column down by one index (LLVM then keeps both
//! sums, both row bases, `x` and the index in the Cortex-M0's eight low
//! registers: 6 instructions per MAC there, against 10.5 for four rows at a
//! time, whose sums and row pointers spill to the stack). Integer addition
//! is associative, so the order only matters for speed.

/// `out[o] += sum_i W[o][i] * x[i]` for `o < out.len()`, `i < x.len()`,
/// where row `o` of `W` starts at `o * stride` of `w`.
#[inline]
pub fn mat_vec_acc(w: &[i8], stride: usize, x: &[i16], out: &mut [i32]) {
    if stride == 0 {
        return;
    }
    let x = x.get(..stride.min(x.len())).unwrap_or_default();
    let n = x.len();
    let mut rows = w.chunks(stride);
    let (pairs, rest) = out.as_chunks_mut::<2>();
    for [a0, a1] in pairs {
        let (r0, r1) = (
            rows.next().unwrap_or_default(),
            rows.next().unwrap_or_default(),
        );
        match (r0.get(..n), r1.get(..n)) {
            (Some(r0), Some(r1)) => two_rows(r0, r1, x, a0, a1),
            // Only the weights' last row can be short.
            _ => {
                row_dot(a0, r0, x);
                row_dot(a1, r1, x);
            }
        }
    }
    for (a, row) in rest.iter_mut().zip(rows) {
        row_dot(a, row, x);
    }
}

/// `a0 += r0 . x`, `a1 += r1 . x` (all three of one length).
#[inline(always)]
fn two_rows(r0: &[i8], r1: &[i8], x: &[i16], a0: &mut i32, a1: &mut i32) {
    let (mut s0, mut s1) = (*a0, *a1);
    let mut i = x.len();
    while i > 0 {
        i -= 1;
        let (Some(w0), Some(w1), Some(xi)) = (r0.get(i), r1.get(i), x.get(i)) else {
            break;
        };
        let xi = i32::from(*xi);
        s0 = s0.wrapping_add(i32::from(*w0).wrapping_mul(xi));
        s1 = s1.wrapping_add(i32::from(*w1).wrapping_mul(xi));
    }
    (*a0, *a1) = (s0, s1);
}

/// `acc += row . x` over their common length.
#[inline(always)]
fn row_dot(acc: &mut i32, row: &[i8], x: &[i16]) {
    let mut s = *acc;
    for (w, xi) in row.iter().zip(x) {
        s = s.wrapping_add(i32::from(*w).wrapping_mul(i32::from(*xi)));
    }
    *acc = s;
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    proptest! {
        /// Against a plain `i64` reference, for every shape up to 11 x 9,
        /// the extreme values included.
        #[test]
        fn matches_i64_reference(
            rows in 0usize..11,
            cols in 1usize..9,
            seed in proptest::collection::vec(any::<i8>(), 99),
            xs in proptest::collection::vec(any::<i16>(), 9),
            bias in proptest::collection::vec(-1_000_000i32..1_000_000, 11),
        ) {
            let w: Vec<i8> = seed.iter().copied().cycle().take(rows * cols).collect();
            let x = &xs[..cols];
            let mut out = bias[..rows].to_vec();
            mat_vec_acc(&w, cols, x, &mut out);
            for (o, got) in out.iter().enumerate() {
                let want: i64 = i64::from(bias[o])
                    + (0..cols).map(|i| i64::from(w[o * cols + i]) * i64::from(x[i])).sum::<i64>();
                prop_assert_eq!(i64::from(*got), want);
            }
        }
    }

    #[test]
    fn columns_from_an_offset_and_a_short_last_row() {
        // 3 rows of stride 4; read columns 1.. (as the held part does) and
        // cut the weights so the last row is short.
        let w: Vec<i8> = (1..=12).collect();
        let mut out = [0i32; 3];
        mat_vec_acc(&w[1..11], 4, &[1, 10, 100], &mut out);
        // Rows: [2,3,4], [6,7,8], [10,11] (short).
        assert_eq!(out, [2 + 30 + 400, 6 + 70 + 800, 10 + 110]);
    }
}
