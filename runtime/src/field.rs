//! Dense layers read straight from the model's weight bytes, activations,
//! and the MLP vector field `f(y; e) = MLP([y, e])`.
//!
//! The field's first layer is `W [y, e] + b = W_y y + (W_e e + b)`; the part
//! in brackets depends only on the sample, so [`MlpField::hold`] computes it
//! once per sample and every evaluation of `f` only does `W_y y`.

use crate::header::{Activation, Layer};
use crate::solver::VectorField;
use crate::tanh::tanh;

/// Where a layer's numbers live.
///
/// `F32` is the fast path: a format-3 file in place (its weights start on a
/// 4-byte boundary of the file, so a file stored 4-aligned is read through a
/// checked cast) or arrays a build script generated. `Le` reads
/// little-endian bytes at any alignment: formats 1 and 2, a format-3 file
/// placed off a 4-byte boundary, and big-endian hosts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Weights<'a> {
    /// Native `f32`s.
    F32(&'a [f32]),
    /// Little-endian `f32` bytes, any alignment.
    Le(&'a [u8]),
}

impl<'a> Weights<'a> {
    /// `bytes` as `F32` when they are aligned and the target is
    /// little-endian, else as `Le`.
    pub fn from_le_bytes(bytes: &'a [u8]) -> Self {
        match bytemuck::try_cast_slice::<u8, f32>(bytes) {
            Ok(floats) if cfg!(target_endian = "little") => Self::F32(floats),
            _ => Self::Le(bytes),
        }
    }

    /// Number of `f32`s.
    pub fn len(&self) -> usize {
        match self {
            Self::F32(w) => w.len(),
            Self::Le(b) => b.len() / 4,
        }
    }

    /// Whether there is no `f32`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th `f32`.
    pub fn get(&self, i: usize) -> Option<f32> {
        match self {
            Self::F32(w) => w.get(i).copied(),
            Self::Le(b) => b.as_chunks::<4>().0.get(i).map(|b| f32::from_le_bytes(*b)),
        }
    }

    /// The `f32`s from the `k`-th on (empty past the end).
    pub fn skip(self, k: usize) -> Self {
        match self {
            Self::F32(w) => Self::F32(w.get(k..).unwrap_or_default()),
            Self::Le(b) => Self::Le(b.get(k.saturating_mul(4)..).unwrap_or_default()),
        }
    }

    /// Splits after `k` `f32`s; `None` if there are fewer.
    pub fn split_at(self, k: usize) -> Option<(Self, Self)> {
        Some(match self {
            Self::F32(w) => {
                let (a, b) = w.split_at_checked(k)?;
                (Self::F32(a), Self::F32(b))
            }
            Self::Le(b) => {
                let (a, b) = b.split_at_checked(k.checked_mul(4)?)?;
                (Self::Le(a), Self::Le(b))
            }
        })
    }

    /// `out[i] = self[i]` for the shorter of the two.
    fn copy_to(self, out: &mut [f32]) {
        match self {
            Self::F32(w) => out.iter_mut().zip(w).for_each(|(o, w)| *o = *w),
            Self::Le(b) => out
                .iter_mut()
                .zip(b.as_chunks::<4>().0)
                .for_each(|(o, b)| *o = f32::from_le_bytes(*b)),
        }
    }
}

/// One stored weight.
trait Element: Copy {
    fn value(self) -> f32;
}

impl Element for f32 {
    #[inline(always)]
    fn value(self) -> f32 {
        self
    }
}

impl Element for [u8; 4] {
    #[inline(always)]
    fn value(self) -> f32 {
        f32::from_le_bytes(self)
    }
}

/// The one dense kernel: `out[o] += sum_i W[o][i] * x[i]` for `o < out.len()`,
/// `i < x.len()`, where row `o` of `W` starts at float `o * stride` of `w`.
/// Passing `w.skip(k)` reads columns `k..`. Plain multiply then add (never a
/// fused multiply-add) so every target rounds the same way.
///
/// Each row sums its products in column order starting from its
/// accumulator (the order the parity tests pin down). Full rows are taken
/// four at a time so the four independent sums overlap in the pipeline
/// instead of waiting on one add chain, and each `x[i]` is read once per
/// four rows; the result is bit for bit that of one row at a time.
#[inline]
pub fn mat_vec_acc(w: Weights<'_>, stride: usize, x: &[f32], out: &mut [f32]) {
    match w {
        Weights::F32(w) => rows_acc(w, stride, x, out),
        Weights::Le(b) => rows_acc(b.as_chunks::<4>().0, stride, x, out),
    }
}

#[inline]
fn rows_acc<W: Element>(w: &[W], stride: usize, x: &[f32], out: &mut [f32]) {
    if stride == 0 {
        return;
    }
    let x = x.get(..stride.min(x.len())).unwrap_or_default();
    let n = x.len();
    // One row at a time, for rows that are short or left over.
    let row_dot = |acc: &mut f32, row: &[W]| {
        let mut s = *acc;
        for (w, xi) in row.iter().zip(x) {
            s += w.value() * *xi;
        }
        *acc = s;
    };
    let rows = w.chunks_exact(stride);
    let short = rows.remainder();
    let mut rows = rows.chain(core::iter::once(short));
    let (quads, rest) = out.as_chunks_mut::<4>();
    for acc in quads {
        match (rows.next(), rows.next(), rows.next(), rows.next()) {
            // Only the last row (the remainder) can be shorter than `n`.
            (Some(r0), Some(r1), Some(r2), Some(r3)) if r3.len() >= n => {
                let [mut s0, mut s1, mut s2, mut s3] = *acc;
                for ((((xi, w0), w1), w2), w3) in x.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
                    s0 += w0.value() * *xi;
                    s1 += w1.value() * *xi;
                    s2 += w2.value() * *xi;
                    s3 += w3.value() * *xi;
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

/// Applies an activation in place.
#[inline]
pub fn activate(activation: Activation, xs: &mut [f32]) {
    match activation {
        Activation::Identity => {}
        Activation::Tanh => xs.iter_mut().for_each(|x| *x = tanh(*x)),
        Activation::Relu => xs.iter_mut().for_each(|x| *x = x.max(0.0)),
    }
}

/// A dense layer whose weights stay where they are (flash).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dense<'a> {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Activation after the affine map.
    pub activation: Activation,
    weights: Weights<'a>,
    bias: Weights<'a>,
}

impl<'a> Dense<'a> {
    /// A view over exactly `outputs * (inputs + 1)` floats (the weight
    /// matrix row-major, then the bias); `None` if the length is wrong.
    pub fn new(layer: Layer, all: Weights<'a>) -> Option<Self> {
        let inputs = usize::from(layer.inputs);
        let outputs = usize::from(layer.outputs);
        let (weights, bias) = all.split_at(inputs.checked_mul(outputs)?)?;
        if bias.len() != outputs {
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

    /// A layer over arrays known at compile time (a build script's
    /// generated model, evaluated in a `const`); `None` when `weights` is not
    /// `bias.len() x inputs`.
    pub const fn from_arrays(
        activation: Activation,
        inputs: usize,
        weights: &'a [f32],
        bias: &'a [f32],
    ) -> Option<Self> {
        let outputs = bias.len();
        match inputs.checked_mul(outputs) {
            Some(n) if n == weights.len() => Some(Self {
                inputs,
                outputs,
                activation,
                weights: Weights::F32(weights),
                bias: Weights::F32(bias),
            }),
            _ => None,
        }
    }

    /// `W[o][i]`.
    pub fn weight(&self, o: usize, i: usize) -> Option<f32> {
        if i >= self.inputs {
            return None;
        }
        self.weights
            .get(o.checked_mul(self.inputs)?.checked_add(i)?)
    }

    /// `b[o]`.
    pub fn bias(&self, o: usize) -> Option<f32> {
        self.bias.get(o)
    }

    /// Whether the weights are read as native `f32`s (the fast path).
    pub fn is_aligned(&self) -> bool {
        matches!(self.weights, Weights::F32(_))
    }

    /// The weight matrix, `[outputs][inputs]` row-major.
    pub fn weights(&self) -> Weights<'a> {
        self.weights
    }

    /// `out = activation(W x + b)`; `x` has `inputs`, `out` `outputs` values.
    pub fn apply(&self, x: &[f32], out: &mut [f32]) {
        self.bias.copy_to(out);
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
    chain(layers, width, a, b, |l| (l.inputs, l.outputs), Dense::apply)
}

/// The ping-pong of [`run_layers`] for any layer and value type (the
/// integer path's layers use it too): `shape` gives a layer's
/// `(inputs, outputs)`, `apply` runs it from one buffer into the other.
pub(crate) fn chain<'s, L, T>(
    layers: &[L],
    width: usize,
    a: &'s mut [T],
    b: &'s mut [T],
    shape: impl Fn(&L) -> (usize, usize),
    mut apply: impl FnMut(&L, &[T], &mut [T]),
) -> &'s [T] {
    let mut cur = a;
    let mut next = b;
    let mut width = width;
    for layer in layers {
        let (inputs, outputs) = shape(layer);
        let (Some(src), Some(dst)) = (cur.get(..inputs), next.get_mut(..outputs)) else {
            break;
        };
        apply(layer, src, dst);
        width = outputs;
        core::mem::swap(&mut cur, &mut next);
    }
    let cur: &'s [T] = cur;
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
        // Only the layer's outputs: a wider buffer's rest is never read.
        let n = first.outputs.min(held.len());
        let held = held.get_mut(..n).unwrap_or_default();
        first.bias.copy_to(held);
        mat_vec_acc(first.weights.skip(state_dim), first.inputs, e, held);
        n
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
