//! The vector field as one dfdx operation with a hand-written backward pass.
//!
//! Profiling the plain dfdx version (one op per matrix product, bias add and
//! activation) at the benchmark size (batch 32, field 2→32→32→2) showed the
//! time going to per-op overhead and to `f32::tanh` (about 18 µs for a 32×32
//! tanh, more than the 32×32×32 product): a field evaluation was ~9 ops and
//! ~60 µs forward. Here the whole MLP is one op on the tape: plain loops in
//! the order that vectorises, the runtime's own `tanh` (so trainer and
//! runtime apply the same activation), and one backward closure that adds
//! into the dfdx gradients of the state, of the per-sample input term and of
//! every weight and bias. `tests` checks it against the plain-op version.

use crate::params::Field;
use crate::tensor::{M, V};
use dfdx::prelude::*;
use nagode::format::Activation;
use std::rc::Rc;

/// One layer's data copied out of the tensors once per forward pass.
struct LayerData {
    /// `W^T`, `[in][out]` (the stored layout).
    wt: Vec<f32>,
    /// `W`, `[out][in]` (for the input gradient).
    w: Vec<f32>,
    b: Vec<f32>,
    inputs: usize,
    outputs: usize,
    act: Activation,
    /// The parameter tensors (their ids receive the gradients).
    wt_t: M,
    b_t: V,
}

/// A field ready to be evaluated many times in one forward pass.
pub struct FusedField {
    d: usize,
    h1: usize,
    wy: Vec<f32>,
    wy_rows: Vec<f32>,
    wy_t: M,
    first_act: Activation,
    layers: Vec<LayerData>,
    /// `e W_e + b_1` for every sample, rows `[n][b]`.
    ebias: Vec<f32>,
    ebias_t: M,
}

fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; x.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = x[r * cols + c];
        }
    }
    t
}

/// `out[..W] += sum_k c_k row_k[o0..o0+W]` with `W` accumulators held in
/// registers: independent add chains and no bounds checks inside (the loop
/// shape LLVM vectorises without target flags).
#[inline(always)]
fn block<const W: usize>(out: &mut [f32], o0: usize, coefs: &[f32], rows: &[f32], stride: usize) {
    let mut acc = [0f32; W];
    acc.copy_from_slice(&out[o0..o0 + W]);
    for (&c, row) in coefs.iter().zip(rows.chunks_exact(stride)) {
        let r: &[f32; W] = match row[o0..o0 + W].try_into() {
            Ok(r) => r,
            Err(_) => continue,
        };
        for k in 0..W {
            acc[k] += c * r[k];
        }
    }
    out[o0..o0 + W].copy_from_slice(&acc);
}

/// `out[o] += sum_k coefs[k] * rows[k * stride + o]` for `o < out.len()`.
fn axpy_rows(out: &mut [f32], coefs: &[f32], rows: &[f32], stride: usize) {
    let n = out.len();
    let mut o0 = 0;
    while o0 + 16 <= n {
        block::<16>(out, o0, coefs, rows, stride);
        o0 += 16;
    }
    while o0 + 8 <= n {
        block::<8>(out, o0, coefs, rows, stride);
        o0 += 8;
    }
    while o0 + 4 <= n {
        block::<4>(out, o0, coefs, rows, stride);
        o0 += 4;
    }
    while o0 < n {
        block::<1>(out, o0, coefs, rows, stride);
        o0 += 1;
    }
}

/// Outputs narrower than this use dot products instead of row updates.
const NARROW: usize = 8;

/// `sum_k a[k] b[k]` with eight independent partial sums (vectorises).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// `out[b][o] += sum_i x[b][i] * W[o][i]`, given the weight in both
/// layouts: `wt` `[in][out]` (row updates, for wide outputs) and `w`
/// `[out][in]` (dot products, for narrow ones).
#[allow(clippy::too_many_arguments)]
fn matmul_acc(
    x: &[f32],
    wt: &[f32],
    w: &[f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
    out: &mut [f32],
) {
    let rows_of = x
        .chunks_exact(inputs)
        .zip(out.chunks_exact_mut(outputs))
        .take(rows);
    if outputs >= NARROW {
        for (xs, o) in rows_of {
            axpy_rows(o, xs, wt, outputs);
        }
    } else {
        for (xs, o) in rows_of {
            for (ov, w_row) in o.iter_mut().zip(w.chunks_exact(inputs)) {
                *ov += dot(xs, w_row);
            }
        }
    }
}

/// `dw[i][o] += sum_b x[b][i] * g[b][o]` (via the transposes).
fn outer_acc(x: &[f32], g: &[f32], rows: usize, inputs: usize, outputs: usize, dw: &mut [f32]) {
    let xt = transpose(&x[..rows * inputs], rows, inputs);
    if outputs >= NARROW {
        for (xs, d) in xt.chunks_exact(rows).zip(dw.chunks_exact_mut(outputs)) {
            axpy_rows(d, xs, g, outputs);
        }
    } else {
        let gt = transpose(&g[..rows * outputs], rows, outputs);
        for (xs, d) in xt.chunks_exact(rows).zip(dw.chunks_exact_mut(outputs)) {
            for (dv, gs) in d.iter_mut().zip(gt.chunks_exact(rows)) {
                *dv += dot(xs, gs);
            }
        }
    }
}

fn activate(act: Activation, xs: &mut [f32]) {
    nagode::field::activate(act, xs);
}

/// `g *= act'(a)` given the activation's output `h = act(a)`.
fn act_backward(act: Activation, h: &[f32], g: &mut [f32]) {
    match act {
        Activation::Identity => {}
        Activation::Tanh => g.iter_mut().zip(h).for_each(|(g, h)| *g *= 1.0 - h * h),
        Activation::Relu => g.iter_mut().zip(h).for_each(|(g, h)| {
            if *h <= 0.0 {
                *g = 0.0
            }
        }),
    }
}

impl FusedField {
    /// Copies the field's weights and the precomputed input term `ebias`
    /// (a tensor on the tape, `(W*B, H1)`).
    pub fn new(f: &Field, ebias_t: M) -> Self {
        let (d, h1) = *f.wy.shape();
        let wy = f.wy.as_vec();
        let layers = f
            .rest
            .iter()
            .map(|l| {
                let wt = l.wt.as_vec();
                let (i, o) = (l.inputs(), l.outputs());
                LayerData {
                    w: transpose(&wt, i, o),
                    wt,
                    b: l.b.as_vec(),
                    inputs: i,
                    outputs: o,
                    act: l.act,
                    wt_t: l.wt.clone(),
                    b_t: l.b.clone(),
                }
            })
            .collect();
        FusedField {
            d,
            h1,
            wy_rows: transpose(&wy, d, h1),
            wy,
            wy_t: f.wy.clone(),
            first_act: f.first.act,
            layers,
            ebias: ebias_t.as_vec(),
            ebias_t,
        }
    }

    /// Output width (the state dimension, or the first layer's width for a
    /// one-layer field).
    fn out_dim(&self) -> usize {
        self.layers.last().map_or(self.h1, |l| l.outputs)
    }

    /// Forward through all layers; returns every layer's output (post-activation).
    fn run(&self, z: &[f32], rows: usize, row0: usize) -> Vec<Vec<f32>> {
        let mut a = self.ebias[row0 * self.h1..(row0 + rows) * self.h1].to_vec();
        matmul_acc(z, &self.wy, &self.wy_rows, rows, self.d, self.h1, &mut a);
        activate(self.first_act, &mut a);
        let mut hs = vec![a];
        for l in &self.layers {
            let mut a = Vec::with_capacity(rows * l.outputs);
            for _ in 0..rows {
                a.extend_from_slice(&l.b);
            }
            matmul_acc(
                hs.last().map_or(&[][..], |h| &h[..]),
                &l.wt,
                &l.w,
                rows,
                l.inputs,
                l.outputs,
                &mut a,
            );
            activate(l.act, &mut a);
            hs.push(a);
        }
        hs
    }

    /// Adds one evaluation's parameter and input-term gradients given `g`,
    /// the gradient of its output, `hs`, every layer's output, and `z`, its
    /// `rows` input rows (rows `row0..` of the input term); returns the
    /// gradient of `z`.
    fn backward(
        &self,
        grads: &mut Gradients<f32, Cpu>,
        hs: &[Vec<f32>],
        z: &[f32],
        mut g: Vec<f32>,
        rows: usize,
        row0: usize,
    ) -> Result<Vec<f32>, CpuError> {
        for (k, l) in self.layers.iter().enumerate().rev() {
            act_backward(l.act, &hs[k + 1], &mut g);
            outer_acc(
                &hs[k],
                &g,
                rows,
                l.inputs,
                l.outputs,
                grads.get_or_alloc_mut(&l.wt_t)?,
            );
            let db = grads.get_or_alloc_mut(&l.b_t)?;
            for g_row in g.chunks_exact(l.outputs).take(rows) {
                for (d, &gv) in db.iter_mut().zip(g_row) {
                    *d += gv;
                }
            }
            let mut gp = vec![0.0; rows * l.inputs];
            matmul_acc(&g, &l.w, &l.wt, rows, l.outputs, l.inputs, &mut gp);
            g = gp;
        }
        act_backward(self.first_act, &hs[0], &mut g);
        let de = grads.get_or_alloc_mut(&self.ebias_t)?;
        for (d, &gv) in de[row0 * self.h1..(row0 + rows) * self.h1]
            .iter_mut()
            .zip(&g)
        {
            *d += gv;
        }
        outer_acc(
            z,
            &g,
            rows,
            self.d,
            self.h1,
            grads.get_or_alloc_mut(&self.wy_t)?,
        );
        let mut dz = vec![0.0; rows * self.d];
        matmul_acc(&g, &self.wy_rows, &self.wy, rows, self.h1, self.d, &mut dz);
        Ok(dz)
    }
}

/// `f(z; e_n)` for the batch rows `row0..row0+B` of the input term, as one
/// op on `tape`'s tape.
pub fn eval<T: Tape<f32, Cpu>>(field: &Rc<FusedField>, z: &M, row0: usize, tape: &mut T) -> M {
    eval_with(field, z, None, 1.0, row0, tape)
}

/// NAG's gradient term `h f(y + mu v; e_n)` as one op: the look-ahead and
/// the step scaling ride along with the field, two dfdx ops fewer per step.
/// Same f32 operations as the runtime: `z = y + mu * v`, then `h * f`.
#[allow(clippy::too_many_arguments)]
pub fn eval_nag<T: Tape<f32, Cpu>>(
    field: &Rc<FusedField>,
    y: &M,
    v: &M,
    mu: f32,
    h: f32,
    row0: usize,
    tape: &mut T,
) -> M {
    eval_with(field, y, Some((v, mu)), h, row0, tape)
}

/// `scale * f(y + mu v)` (`look_ahead = Some((v, mu))`) or `scale * f(y)`.
fn eval_with<T: Tape<f32, Cpu>>(
    field: &Rc<FusedField>,
    y: &M,
    look_ahead: Option<(&M, f32)>,
    scale: f32,
    row0: usize,
    tape: &mut T,
) -> M {
    let rows = y.shape().0;
    let mut zv = y.as_vec();
    if let Some((v, mu)) = look_ahead {
        for (z, vi) in zv.iter_mut().zip(v.as_vec()) {
            *z += mu * vi;
        }
    }
    let mut hs = field.run(&zv, rows, row0);
    let f_data = hs.pop().unwrap_or_default();
    let out_data: Vec<f32> = if scale == 1.0 {
        f_data.clone()
    } else {
        f_data.iter().map(|x| x * scale).collect()
    };
    let out: M = y
        .device()
        .tensor_from_vec(out_data, (rows, field.out_dim()));
    if T::OWNS_TAPE {
        hs.push(f_data);
        let field = Rc::clone(field);
        let y_t = y.clone();
        let v_t = look_ahead.map(|(v, mu)| (v.clone(), mu));
        let out_t = out.clone();
        tape.add_backward_op(move |grads| {
            let g: Vec<f32> = grads
                .get_or_alloc_mut(&out_t)?
                .iter()
                .map(|x| x * scale)
                .collect();
            let dz = field.backward(grads, &hs, &zv, g, rows, row0)?;
            for (d, &gz) in grads.get_or_alloc_mut(&y_t)?.iter_mut().zip(&dz) {
                *d += gz;
            }
            if let Some((v_t, mu)) = &v_t {
                for (d, &gz) in grads.get_or_alloc_mut(v_t)?.iter_mut().zip(&dz) {
                    *d += mu * gz;
                }
            }
            Ok(())
        });
    }
    out
}
