//! Dense layers whose widths are constants: what the compile-time path's
//! generated code calls (see [`crate::net::Layers`]).
//!
//! The same arithmetic as [`crate::field::mat_vec_acc`] (each output starts
//! from its bias, or the held part, and adds its products in column order,
//! a plain multiply then add), so a compiled model gives the loaded file's
//! bits; the tests check both on the same weights. With the widths known
//! the loops have constant trip counts, and rows are taken four at a time
//! so each input is loaded once per four outputs, without the run-time
//! kernel's per-block length checks.

use crate::field::activate;
use crate::format::Activation;

/// `out[..O] = activation(W x[..I] + b)`; does nothing when `x` or `out` is
/// shorter than the layer.
#[inline(always)]
pub fn dense<const I: usize, const O: usize>(
    w: &[[f32; I]; O],
    b: &[f32; O],
    activation: Activation,
    x: &[f32],
    out: &mut [f32],
) {
    let (Some(x), Some(out)) = (x.first_chunk::<I>(), out.first_chunk_mut::<O>()) else {
        return;
    };
    *out = *b;
    rows::<I, I, O>(w, x, out);
    activate(activation, out);
}

/// `out[o] += sum_{i < N} w[o][i] x[i]` for the first `N` columns of every
/// row: four rows and four columns per step (16 multiply-adds on 4 + 16
/// loads), then the leftover columns and rows; each row still adds its
/// products in column order.
#[inline(always)]
fn rows<const N: usize, const I: usize, const O: usize>(
    w: &[[f32; I]; O],
    x: &[f32; N],
    out: &mut [f32; O],
) {
    let (x4, x_rest) = x.as_chunks::<4>();
    let (quads, rest) = w.as_chunks::<4>();
    let (out_quads, out_rest) = out.as_chunks_mut::<4>();
    for (quad, acc) in quads.iter().zip(out_quads) {
        let [r0, r1, r2, r3] = quad;
        let (r0, r1, r2, r3) = (
            r0.as_chunks::<4>().0,
            r1.as_chunks::<4>().0,
            r2.as_chunks::<4>().0,
            r3.as_chunks::<4>().0,
        );
        let mut s = *acc;
        for ((((x, w0), w1), w2), w3) in x4.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
            let [x0, x1, x2, x3] = *x;
            let ([a0, a1, a2, a3], [b0, b1, b2, b3]) = (*w0, *w1);
            let ([c0, c1, c2, c3], [d0, d1, d2, d3]) = (*w2, *w3);
            let [mut s0, mut s1, mut s2, mut s3] = s;
            s0 += a0 * x0;
            s1 += b0 * x0;
            s2 += c0 * x0;
            s3 += d0 * x0;
            s0 += a1 * x1;
            s1 += b1 * x1;
            s2 += c1 * x1;
            s3 += d1 * x1;
            s0 += a2 * x2;
            s1 += b2 * x2;
            s2 += c2 * x2;
            s3 += d2 * x2;
            s0 += a3 * x3;
            s1 += b3 * x3;
            s2 += c3 * x3;
            s3 += d3 * x3;
            s = [s0, s1, s2, s3];
        }
        let tail = 4 * x4.len();
        for ((a, row), _) in s.iter_mut().zip(quad).zip(0..4) {
            for (wi, xi) in row.iter().skip(tail).zip(x_rest) {
                *a += *wi * *xi;
            }
        }
        *acc = s;
    }
    for (row, acc) in rest.iter().zip(out_rest) {
        let mut s = *acc;
        for (wi, xi) in row.iter().zip(x) {
            s += *wi * *xi;
        }
        *acc = s;
    }
}

/// The field's first layer over `[y, e]` split at `D` (the state width):
/// [`hold`] computes `b + W_e e` once per sample, [`first`] adds `W_y y` and
/// activates at every evaluation.
#[inline(always)]
pub fn hold<const D: usize, const I: usize, const O: usize>(
    w: &[[f32; I]; O],
    b: &[f32; O],
    e: &[f32],
    held: &mut [f32],
) -> usize {
    let Some(held) = held.first_chunk_mut::<O>() else {
        return 0;
    };
    *held = *b;
    for (row, h) in w.iter().zip(held.iter_mut()) {
        let mut s = *h;
        for (wi, ei) in row.iter().skip(D).zip(e) {
            s += *wi * *ei;
        }
        *h = s;
    }
    O
}

/// `out[..O] = activation(held + W_y y)` (see [`hold`]).
#[inline(always)]
pub fn first<const D: usize, const I: usize, const O: usize>(
    w: &[[f32; I]; O],
    held: &[f32],
    activation: Activation,
    y: &[f32],
    out: &mut [f32],
) {
    let (Some(held), Some(y), Some(out)) = (
        held.first_chunk::<O>(),
        y.first_chunk::<D>(),
        out.first_chunk_mut::<O>(),
    ) else {
        return;
    };
    *out = *held;
    rows::<D, I, O>(w, y, out);
    activate(activation, out);
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::field::{Dense, Weights};
    use crate::format::Layer;

    /// Deterministic weights in [-1, 1).
    fn values<const N: usize>(seed: u32) -> [f32; N] {
        core::array::from_fn(|i| {
            let v = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8;
            v as f32 / (1u32 << 23) as f32 - 1.0
        })
    }

    fn matrix<const I: usize, const O: usize>(seed: u32) -> [[f32; I]; O] {
        core::array::from_fn(|o| values::<I>(seed.wrapping_add(o as u32 * 7919)))
    }

    /// `fixed::dense` and the run-time `Dense::apply` give the same bits.
    fn same_as_runtime<const I: usize, const O: usize>(activation: Activation) {
        let w = matrix::<I, O>(1);
        let b = values::<O>(2);
        let x = values::<I>(3);
        let mut flat: std::vec::Vec<f32> = w.as_flattened().to_vec();
        flat.extend_from_slice(&b);
        let layer = Layer {
            inputs: I as u16,
            outputs: O as u16,
            activation,
        };
        let runtime = Dense::new(layer, Weights::F32(&flat)).unwrap_or_else(|| unreachable!());
        let mut expected = [0.0f32; O];
        runtime.apply(&x, &mut expected);
        let mut got = [0.0f32; O];
        dense(&w, &b, activation, &x, &mut got);
        assert_eq!(got.map(f32::to_bits), expected.map(f32::to_bits), "{I}x{O}");
    }

    #[test]
    fn constant_width_layers_match_the_runtime_kernel() {
        same_as_runtime::<1, 16>(Activation::Tanh);
        same_as_runtime::<16, 16>(Activation::Tanh);
        same_as_runtime::<16, 1>(Activation::Identity);
        same_as_runtime::<9, 7>(Activation::Relu);
        same_as_runtime::<32, 32>(Activation::Tanh);
    }

    #[test]
    fn split_first_layer_matches_the_runtime_field() {
        use crate::field::MlpField;
        use crate::solver::VectorField;
        const D: usize = 3;
        let w = matrix::<7, 5>(4);
        let b = values::<5>(5);
        let (y, e) = (values::<D>(6), values::<4>(7));
        let mut flat: std::vec::Vec<f32> = w.as_flattened().to_vec();
        flat.extend_from_slice(&b);
        let first_layer = Layer {
            inputs: 7,
            outputs: 5,
            activation: Activation::Tanh,
        };
        let identity = Layer {
            inputs: 5,
            outputs: 5,
            activation: Activation::Identity,
        };
        let mut eye = [0.0f32; 30];
        for k in 0..5 {
            eye[k * 6] = 1.0;
        }
        let layers = [
            Dense::new(first_layer, Weights::F32(&flat)).unwrap_or_else(|| unreachable!()),
            Dense::new(identity, Weights::F32(&eye)).unwrap_or_else(|| unreachable!()),
        ];
        let mut held_rt = [0.0f32; 5];
        MlpField::hold(&layers, D, &e, &mut held_rt);
        let (mut a, mut bb) = ([0.0f32; 5], [0.0f32; 5]);
        let mut expected = [0.0f32; 5];
        // The identity layer passes the first layer's output through exactly.
        MlpField::new(&layers, &held_rt, D, &mut a, &mut bb).eval(0.0, &y, &mut expected[..D]);
        let mut held = [0.0f32; 5];
        assert_eq!(hold::<D, 7, 5>(&w, &b, &e, &mut held), 5);
        assert_eq!(held.map(f32::to_bits), held_rt.map(f32::to_bits));
        let mut got = [0.0f32; 5];
        first::<D, 7, 5>(&w, &held, Activation::Tanh, &y, &mut got);
        assert_eq!(
            got[..D]
                .iter()
                .map(|v| v.to_bits())
                .collect::<std::vec::Vec<_>>(),
            expected[..D]
                .iter()
                .map(|v| v.to_bits())
                .collect::<std::vec::Vec<_>>()
        );
    }
}
