//! Dense layers whose widths are constants: what the compile-time path's
//! generated code calls (see [`crate::net::Layers`]). They run the one dense
//! kernel, [`mat_vec_acc`], with a constant stride and constant lengths, so
//! a compiled model gives the loaded file's bits while the compiler drops
//! the width checks and, at `opt-level = 3`, unrolls the loops.

use crate::field::{activate, mat_vec_acc, Weights};
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
    mat_vec_acc(Weights::F32(w.as_flattened()), I, x, out);
    activate(activation, out);
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
    let w_e = Weights::F32(w.as_flattened()).skip(D);
    mat_vec_acc(w_e, I, e.get(..I.saturating_sub(D)).unwrap_or(e), held);
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
    mat_vec_acc(Weights::F32(w.as_flattened()), I, y, out);
    activate(activation, out);
}
