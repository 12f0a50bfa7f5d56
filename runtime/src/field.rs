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
///
/// Each row sums its products in column order starting from its
/// accumulator (the order the parity tests pin down). Full rows are taken
/// four at a time so the four independent sums overlap in the pipeline
/// instead of waiting on one add chain, and each `x[i]` is read once per
/// four rows; the result is bit for bit that of one row at a time.
#[inline]
pub fn mat_vec_acc(w: &[u8], stride: usize, x: &[f32], out: &mut [f32]) {
    if stride == 0 {
        return;
    }
    let (w, _) = w.as_chunks::<4>();
    let x = x.get(..stride.min(x.len())).unwrap_or_default();
    let n = x.len();
    // One row at a time, for rows that are short or left over.
    let row_dot = |acc: &mut f32, row: &[[u8; 4]]| {
        let mut s = *acc;
        for (wb, xi) in row.iter().zip(x) {
            s += f32::from_le_bytes(*wb) * *xi;
        }
        *acc = s;
    };
    let mut rows = w.chunks(stride);
    let (quads, rest) = out.as_chunks_mut::<4>();
    for acc in quads {
        match (rows.next(), rows.next(), rows.next(), rows.next()) {
            (Some(r0), Some(r1), Some(r2), Some(r3))
                if r0.len() >= n && r1.len() >= n && r2.len() >= n && r3.len() >= n =>
            {
                let [mut s0, mut s1, mut s2, mut s3] = *acc;
                for ((((xi, w0), w1), w2), w3) in x.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
                    s0 += f32::from_le_bytes(*w0) * *xi;
                    s1 += f32::from_le_bytes(*w1) * *xi;
                    s2 += f32::from_le_bytes(*w2) * *xi;
                    s3 += f32::from_le_bytes(*w3) * *xi;
                }
                *acc = [s0, s1, s2, s3];
            }
            (r0, r1, r2, r3) => {
                for (a, row) in acc.iter_mut().zip([r0, r1, r2, r3].into_iter().flatten()) {
                    row_dot(a, row);
                }
            }
        }
    }
    for (a, row) in rest.iter_mut().zip(rows) {
        row_dot(a, row);
    }
}

/// Largest error of [`tanh`] against `f64::tanh`, checked over a dense grid
/// in the tests.
pub const TANH_MAX_ERROR: f32 = 1.0e-7;

/// Above this `|x|`, `tanh(x)` rounds to 1 in f32.
const TANH_SATURATE: f32 = 9.1;

/// Below this `|x|` the odd Taylor series is used (no cancellation).
const TANH_SERIES: f32 = 0.625;

/// Taylor coefficients of `tanh(x) / x` in powers of `x^2`, up to `x^18`
/// (the first dropped term is below 6e-9 at `|x| = 0.625`).
const TANH_TAYLOR: [f32; 10] = [
    1.0,
    -1.0 / 3.0,
    2.0 / 15.0,
    -17.0 / 315.0,
    62.0 / 2835.0,
    -1382.0 / 155_925.0,
    21844.0 / 6_081_075.0,
    -929_569.0 / 638_512_875.0,
    6_404_582.0 / 10_854_718_875.0,
    -443_861_162.0 / 1_856_156_927_625.0,
];

/// `e^v` for `0 <= v <= 2 * TANH_SATURATE`: `v = k ln2 + r` (Cody-Waite
/// split of ln 2), a degree-7 Taylor polynomial for `e^r`, `|r| <= ln2 / 2`,
/// then the exponent set directly. About 1 ulp.
#[inline]
fn exp_small(v: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let k = (v * core::f32::consts::LOG2_E + 0.5) as i32;
    let kf = k as f32;
    let r = (v - kf * LN2_HI) - kf * LN2_LO;
    let mut p = 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 0 <= k <= 27 here, so the biased exponent is in range.
    let scale = f32::from_bits(((k + 127) as u32) << 23);
    p * scale
}

/// `tanh(x)` in f32 with plain multiplies, adds and one divide (never a
/// fused multiply-add, so every target rounds alike).
///
/// micromath has no tanh, and `1 - 2 / (exp(2x) + 1)` on micromath's `exp`
/// (error ~1e-3) would be too coarse for the trainer's 1e-6 parity, so this
/// one is built from scratch: the odd Taylor series near 0, and
/// `1 - 2 / (e^{2|x|} + 1)` with an accurate range-reduced `exp` elsewhere.
/// Its error bound is [`TANH_MAX_ERROR`] (under 2 ulp of 1; 7.3e-8 measured).
#[inline]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    if a < TANH_SERIES {
        let x2 = x * x;
        let mut p = 0.0f32;
        for c in TANH_TAYLOR.iter().rev() {
            p = p * x2 + *c;
        }
        return x * p;
    }
    if a.is_nan() {
        return x;
    }
    let t = if a >= TANH_SATURATE {
        1.0
    } else {
        1.0 - 2.0 / (exp_small(2.0 * a) + 1.0)
    };
    if x < 0.0 {
        -t
    } else {
        t
    }
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
