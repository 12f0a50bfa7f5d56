//! Dense layers read straight from the model's weight bytes, activations,
//! and the MLP vector field `f(y; e) = MLP([y, e])`.
//!
//! The field's first layer is `W [y, e] + b = W_y y + (W_e e + b)`; the part
//! in brackets depends only on the sample, so [`MlpField::hold`] computes it
//! once per sample and every evaluation of `f` only does `W_y y`.

use crate::format::{Activation, Layer};
use crate::solver::VectorField;

/// The one dense kernel: `out[o] += sum_i W[o][i] * x[i]` for `o < out.len()`,
/// `i < x.len()`, where row `o` of `W` starts at float `o * stride` of `w`
/// (little-endian f32 bytes, any alignment). Passing `w` offset by `4 * k`
/// bytes reads columns `k..`. Plain multiply then add (never a fused
/// multiply-add) so every target rounds the same way.
#[inline]
pub fn mat_vec_acc(w: &[u8], stride: usize, x: &[f32], out: &mut [f32]) {
    if stride == 0 {
        return;
    }
    let (w, _) = w.as_chunks::<4>();
    for (acc, row) in out.iter_mut().zip(w.chunks(stride)) {
        let mut s = *acc;
        for (wb, xi) in row.iter().zip(x) {
            s += f32::from_le_bytes(*wb) * *xi;
        }
        *acc = s;
    }
}

/// Largest error of [`tanh`] against `f64::tanh`, checked over a dense grid
/// in the tests.
pub const TANH_MAX_ERROR: f32 = 2.5e-7;

/// Where `tanh` is 1 to within half an f32 ulp at 1.
const TANH_CLAMP: f32 = 9.0;

/// `tanh(x)` in f32 from a 13/6 rational minimax fit (the coefficients of
/// Eigen's `generic_fast_tanh_float`), plain multiplies, adds and one divide.
///
/// micromath has no tanh, and `1 - 2 / (exp(2x) + 1)` on micromath's `exp`
/// (error ~1e-3) would be too coarse for the trainer's 1e-6 parity, so this
/// one is built from scratch; its error bound is [`TANH_MAX_ERROR`].
#[inline]
pub fn tanh(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    if x.abs() < 0.0004 {
        return x;
    }
    if x >= TANH_CLAMP {
        return 1.0;
    }
    if x <= -TANH_CLAMP {
        return -1.0;
    }
    let x = x.clamp(-7.905_311, 7.905_311);
    let x2 = x * x;
    let mut p = -2.760_768_5e-16_f32;
    p = p * x2 + 2.000_188e-13;
    p = p * x2 - 8.604_672e-11;
    p = p * x2 + 5.122_297e-8;
    p = p * x2 + 1.485_722_4e-5;
    p = p * x2 + 6.372_619_3e-4;
    p = p * x2 + 4.893_524_6e-3;
    p *= x;
    let mut q = 1.198_258_4e-6_f32;
    q = q * x2 + 1.185_347_1e-4;
    q = q * x2 + 2.268_434_6e-3;
    q = q * x2 + 4.893_525e-3;
    p / q
}

/// Applies an activation in place.
#[inline]
pub fn activate(activation: Activation, xs: &mut [f32]) {
    match activation {
        Activation::Identity => {}
        Activation::Tanh => xs.iter_mut().for_each(|x| *x = tanh(*x)),
        Activation::Relu => xs.iter_mut().for_each(|x| *x = x.max(0.0)),
    }
}

/// A dense layer whose weights stay in the model bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dense<'a> {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Activation after the affine map.
    pub activation: Activation,
    weights: &'a [u8],
    bias: &'a [u8],
}

impl<'a> Dense<'a> {
    /// A view over exactly `4 * outputs * (inputs + 1)` bytes; `None` if the
    /// length is wrong.
    pub fn new(layer: Layer, bytes: &'a [u8]) -> Option<Self> {
        let inputs = usize::from(layer.inputs);
        let outputs = usize::from(layer.outputs);
        let w_len = inputs.checked_mul(outputs)?.checked_mul(4)?;
        let (weights, bias) = bytes.split_at_checked(w_len)?;
        if bias.len() != outputs.checked_mul(4)? {
            return None;
        }
        Some(Self {
            inputs,
            outputs,
            activation: layer.activation,
            weights,
            bias,
        })
    }

    /// `W[o][i]`.
    pub fn weight(&self, o: usize, i: usize) -> Option<f32> {
        if i >= self.inputs {
            return None;
        }
        let at = o.checked_mul(self.inputs)?.checked_add(i)?;
        self.weights
            .as_chunks::<4>()
            .0
            .get(at)
            .map(|b| f32::from_le_bytes(*b))
    }

    /// `b[o]`.
    pub fn bias(&self, o: usize) -> Option<f32> {
        self.bias
            .as_chunks::<4>()
            .0
            .get(o)
            .map(|b| f32::from_le_bytes(*b))
    }

    /// `out = b` (first `outputs` entries).
    fn load_bias(&self, out: &mut [f32]) {
        for (o, b) in out.iter_mut().zip(self.bias.as_chunks::<4>().0) {
            *o = f32::from_le_bytes(*b);
        }
    }

    /// `out = activation(W x + b)`; `x` has `inputs`, `out` `outputs` values.
    pub fn apply(&self, x: &[f32], out: &mut [f32]) {
        self.load_bias(out);
        mat_vec_acc(self.weights, self.inputs, x, out);
        activate(self.activation, out);
    }
}

/// Runs `layers` on `a[..width]`, alternating between the two buffers;
/// returns the last layer's output (`a[..width]` itself if there is no layer).
pub fn run_layers<'s>(
    layers: &[Dense<'_>],
    width: usize,
    a: &'s mut [f32],
    b: &'s mut [f32],
) -> &'s [f32] {
    let mut cur = a;
    let mut next = b;
    let mut width = width;
    for layer in layers {
        let (Some(src), Some(dst)) = (cur.get(..layer.inputs), next.get_mut(..layer.outputs))
        else {
            break;
        };
        layer.apply(src, dst);
        width = layer.outputs;
        core::mem::swap(&mut cur, &mut next);
    }
    let cur: &'s [f32] = cur;
    cur.get(..width).unwrap_or_default()
}

/// The MLP vector field with the sample's encoding `e` held constant.
pub struct MlpField<'s, 'a> {
    layers: &'s [Dense<'a>],
    held: &'s [f32],
    state_dim: usize,
    a: &'s mut [f32],
    b: &'s mut [f32],
}

impl<'s, 'a> MlpField<'s, 'a> {
    /// Computes `held = W_e e + b` of the first field layer (the part that
    /// does not change over a gap). Returns the values written.
    pub fn hold(layers: &[Dense<'_>], state_dim: usize, e: &[f32], held: &mut [f32]) -> usize {
        let Some(first) = layers.first() else {
            return 0;
        };
        first.load_bias(held);
        let w_e = first
            .weights
            .get(state_dim.saturating_mul(4)..)
            .unwrap_or_default();
        mat_vec_acc(w_e, first.inputs, e, held);
        first.outputs.min(held.len())
    }

    /// The field over `layers` with `held` from [`Self::hold`]; `a` and `b`
    /// are scratch at least as wide as the widest field layer.
    pub fn new(
        layers: &'s [Dense<'a>],
        held: &'s [f32],
        state_dim: usize,
        a: &'s mut [f32],
        b: &'s mut [f32],
    ) -> Self {
        Self {
            layers,
            held,
            state_dim,
            a,
            b,
        }
    }
}

impl VectorField for MlpField<'_, '_> {
    fn dim(&self) -> usize {
        self.state_dim
    }

    fn eval(&mut self, _t: f32, y: &[f32], out: &mut [f32]) {
        let Some((first, rest)) = self.layers.split_first() else {
            return;
        };
        let (Some(a), Some(held)) = (
            self.a.get_mut(..first.outputs),
            self.held.get(..first.outputs),
        ) else {
            return;
        };
        a.copy_from_slice(held);
        mat_vec_acc(first.weights, first.inputs, y, a);
        activate(first.activation, a);
        let result = run_layers(rest, first.outputs, self.a, self.b);
        for (o, r) in out.iter_mut().zip(result) {
            *o = *r;
        }
    }
}
