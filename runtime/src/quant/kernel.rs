//! The integer dense kernel: `i8` weights times `i16` activations, summed in
//! `i32`.
//!
//! Each product is below `2^22` in magnitude, and the loader
//! ([`crate::quant::section::layers`]) refuses a row whose `sum |w| * 32768 + |b|`
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
    mat_vec(w, stride, x, out, |a| a);
}

/// [`mat_vec_acc`] from `out[o] = b[o]`, `b` little-endian `i32` bytes (0
/// past their end). The bias is read as each row starts: the bytes sit at
/// any alignment, and copying them out first costs a `memcpy` byte by byte.
#[inline]
pub fn mat_vec_bias(w: &[i8], stride: usize, x: &[i16], bias: &[u8], out: &mut [i32]) {
    let mut biases = bias.as_chunks::<4>().0.iter();
    mat_vec(w, stride, x, out, |_| {
        biases.next().map_or(0, |b| i32::from_le_bytes(*b))
    });
}

/// The kernel: `out[o] = start(out[o]) + sum_i W[o][i] * x[i]`, `start`
/// called once per row in row order.
#[inline(always)]
fn mat_vec(w: &[i8], stride: usize, x: &[i16], out: &mut [i32], mut start: impl FnMut(i32) -> i32) {
    if stride == 0 {
        out.iter_mut().for_each(|a| *a = start(*a));
        return;
    }
    let x = x.get(..stride.min(x.len())).unwrap_or_default();
    let n = x.len();
    // Rows as `w.chunks(stride)` gives them (empty once `w` runs out), cut
    // off by hand: the iterator's bookkeeping (and a division for its
    // length) cost more than a short row's multiply-adds.
    let mut w = w;
    let mut next_row = || {
        let (row, tail) = w.split_at(stride.min(w.len()));
        w = tail;
        row
    };
    let (pairs, rest) = out.as_chunks_mut::<2>();
    for [a0, a1] in pairs {
        (*a0, *a1) = (start(*a0), start(*a1));
        let (r0, r1) = (next_row(), next_row());
        match (r0.get(..n), r1.get(..n)) {
            (Some(r0), Some(r1)) => two_rows(r0, r1, x, a0, a1),
            // Only the weights' last row can be short.
            _ => {
                row_dot(a0, r0, x);
                row_dot(a1, r1, x);
            }
        }
    }
    for a in rest {
        *a = start(*a);
        row_dot(a, next_row(), x);
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
    fn bias_bytes_start_the_rows_and_zero_past_their_end() {
        let w: Vec<i8> = (1..=6).collect();
        let bias: Vec<u8> = [-70_000i32, 123_456]
            .iter()
            .flat_map(|b| b.to_le_bytes())
            .collect();
        // Three rows of two; the third row has no bias (0); the output's
        // old values are ignored. Unaligned bias bytes read the same.
        let mut padded: Vec<u8> = Vec::from([0xaa]);
        padded.extend(&bias);
        for bias in [&bias[..], &padded[1..]] {
            let mut out = [7i32; 3];
            mat_vec_bias(&w, 2, &[10, -1], bias, &mut out);
            assert_eq!(out, [-70_000 + 10 - 2, 123_456 + 30 - 4, 50 - 6]);
        }
        // No columns: the biases alone.
        let mut out = [7i32; 3];
        mat_vec_bias(&[], 0, &[], &bias, &mut out);
        assert_eq!(out, [-70_000, 123_456, 0]);
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
