//! The vector field as one dfdx operation with a hand-written backward pass.
//!
//! Profiling the plain dfdx version (one op per matrix product, bias add and
//! activation) at the benchmark size (batch 32, field 2→32→32→2) showed the
//! time going to per-op overhead and to `f32::tanh` (about 18 µs for a 32×32
//! tanh, more than the 32×32×32 product): a field evaluation was ~9 ops and
//! ~60 µs forward. Here the whole MLP is one op on the tape: register-tiled
//! loops compiled for the CPU's widest vector unit at run time (`widest`),
//! the runtime's own `tanh` (so trainer and runtime apply the same
//! activation), and one backward closure that adds into the dfdx gradients
//! of the state, of the input term and of every weight and bias, with
//! buffers reused across evaluations. A whole regular NAG step
//! ([`nag_step`]), an RK stage's combination ([`combine`]) and the
//! trajectory loss ([`sum_sq_err`]) are single ops too: at these sizes
//! each dfdx op (allocation, tape entry, gradient buffer) costs about as
//! much as the arithmetic. Every forward output is summed in the order of
//! the plain ops (the same bits); the tests here and in `forward` check
//! values and gradients against plain dfdx ops.

use crate::engine::params::Field;
use crate::engine::tensor::{M, V};
use dfdx::prelude::*;
use nagode::format::Activation;
use std::cell::RefCell;
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

/// The backward pass's buffers, reused by every evaluation of a pass (the
/// tape runs its closures one at a time).
#[derive(Default)]
struct Scratch {
    g: Vec<f32>,
    gp: Vec<f32>,
    dz: Vec<f32>,
}

/// The first layer's input term, a tensor on the tape.
pub enum InputTerm {
    /// `e W_e + b_1` for every sample, `(W*B, H1)`, rows `[n][b]`.
    Rows(M),
    /// Only the bias `b_1`, the same on every row (a field without input):
    /// no `(W*B, H1)` broadcast to build, copy and reduce each pass.
    Bias(V),
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
    /// The input term's data: `(W*B, H1)` rows, or the one bias row.
    input: Vec<f32>,
    input_t: InputTerm,
    /// Sum of all layer widths (one row of an evaluation's saved outputs).
    width_sum: usize,
    scratch: RefCell<Scratch>,
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

/// Runs `f` compiled for the widest vector unit the CPU has, found at run
/// time: the kernels below are `inline(always)`, so they are generated
/// again inside `f` with those features, without target flags at build
/// time. Each output keeps its summation order (no FMA contraction), so the
/// results are the same bits on every path.
#[inline(always)]
fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// A product's left operand: element `(r, k)` at `data[r * rs + k * ks]`
/// (a row-major matrix or, with the strides swapped, its transpose).
#[derive(Clone, Copy)]
struct Lhs<'a> {
    data: &'a [f32],
    rs: usize,
    ks: usize,
}

/// `acc[j] += c * row[j]` (one add chain per output).
#[inline(always)]
fn fma_row<const W: usize>(acc: &mut [f32; W], c: f32, row: &[f32; W]) {
    for j in 0..W {
        acc[j] += c * row[j];
    }
}

/// `out[r][o0..o0+W] += sum_k a(r, k) b[k][o0..o0+W]` for the four rows
/// from `r0` (`ROWS4`) or the one row `r0`: `W` accumulators per row in
/// registers, each summed over `k` in order (so every output gets the same
/// bits whatever the tiling), each loaded row of `b` shared by the rows'
/// independent add chains.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<const ROWS4: bool, const W: usize>(
    out: &mut [f32],
    n: usize,
    r0: usize,
    o0: usize,
    a: Lhs,
    kn: usize,
    b: &[f32],
) {
    let rows = if ROWS4 { 4 } else { 1 };
    let load = |out: &[f32], r: usize| -> [f32; W] {
        let mut acc = [0f32; W];
        acc.copy_from_slice(&out[(r0 + r) * n + o0..][..W]);
        acc
    };
    let (mut a0, mut a1, mut a2, mut a3) = (load(out, 0), [0f32; W], [0f32; W], [0f32; W]);
    if ROWS4 {
        (a1, a2, a3) = (load(out, 1), load(out, 2), load(out, 3));
    }
    let base = r0 * a.rs;
    for (k, row) in b.chunks_exact(n).take(kn).enumerate() {
        let row: &[f32; W] = match row[o0..o0 + W].try_into() {
            Ok(row) => row,
            Err(_) => continue,
        };
        let c = &a.data[base + k * a.ks..];
        fma_row(&mut a0, c[0], row);
        if ROWS4 {
            fma_row(&mut a1, c[a.rs], row);
            fma_row(&mut a2, c[2 * a.rs], row);
            fma_row(&mut a3, c[3 * a.rs], row);
        }
    }
    for (r, acc) in [a0, a1, a2, a3].iter().enumerate().take(rows) {
        out[(r0 + r) * n + o0..][..W].copy_from_slice(acc);
    }
}

/// The columns of rows `r0..` (four or one) in tiles of 16, 8, 4 and 1.
#[inline(always)]
fn tile_row<const ROWS4: bool>(out: &mut [f32], n: usize, r0: usize, a: Lhs, kn: usize, b: &[f32]) {
    let mut o0 = 0;
    while o0 + 16 <= n {
        tile::<ROWS4, 16>(out, n, r0, o0, a, kn, b);
        o0 += 16;
    }
    while o0 + 8 <= n {
        tile::<ROWS4, 8>(out, n, r0, o0, a, kn, b);
        o0 += 8;
    }
    while o0 + 4 <= n {
        tile::<ROWS4, 4>(out, n, r0, o0, a, kn, b);
        o0 += 4;
    }
    while o0 < n {
        tile::<ROWS4, 1>(out, n, r0, o0, a, kn, b);
        o0 += 1;
    }
}

/// `out[r][o] += sum_k a(r, k) b[k][o]` for `r < m`, `o < n`, `k < kn`
/// (`out` is `[m][n]`, `b` is `[kn][n]`), summed over `k` in order.
#[inline(always)]
fn gemm_acc(out: &mut [f32], m: usize, n: usize, a: Lhs, kn: usize, b: &[f32]) {
    let mut r0 = 0;
    while r0 + 4 <= m {
        tile_row::<true>(out, n, r0, a, kn, b);
        r0 += 4;
    }
    while r0 < m {
        tile_row::<false>(out, n, r0, a, kn, b);
        r0 += 1;
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
#[inline(always)]
fn matmul_acc(
    x: &[f32],
    wt: &[f32],
    w: &[f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
    out: &mut [f32],
) {
    if outputs >= NARROW {
        let a = Lhs {
            data: x,
            rs: inputs,
            ks: 1,
        };
        gemm_acc(out, rows, outputs, a, inputs, wt);
    } else {
        let rows_of = x
            .chunks_exact(inputs)
            .zip(out.chunks_exact_mut(outputs))
            .take(rows);
        for (xs, o) in rows_of {
            for (ov, w_row) in o.iter_mut().zip(w.chunks_exact(inputs)) {
                *ov += dot(xs, w_row);
            }
        }
    }
}

/// `dw[i][o] += sum_b x[b][i] * g[b][o]`, summed over `b` in order: column
/// `i` of `x` read with a stride, no transposed copy.
#[inline(always)]
fn outer_acc(x: &[f32], g: &[f32], rows: usize, inputs: usize, outputs: usize, dw: &mut [f32]) {
    let a = Lhs {
        data: x,
        rs: 1,
        ks: inputs,
    };
    gemm_acc(dw, inputs, outputs, a, rows, g);
}

/// `g *= act'(a)` given the activation's output `h = act(a)`.
#[inline(always)]
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

/// `dst[i] += s * src[i]`, or `dst[i] += src[i]` when `s` is 1 (the same
/// bits as dfdx's add and scale ops).
#[inline(always)]
fn add_scaled(dst: &mut [f32], src: &[f32], s: f32) {
    if s == 1.0 {
        dst.iter_mut().zip(src).for_each(|(d, x)| *d += x);
    } else {
        dst.iter_mut().zip(src).for_each(|(d, x)| *d += s * x);
    }
}

impl FusedField {
    /// Copies the field's weights and the first layer's input term.
    pub fn new(f: &Field, input_t: InputTerm) -> Self {
        let (d, h1) = *f.wy.shape();
        let wy = f.wy.as_vec();
        let layers: Vec<LayerData> = f
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
            width_sum: h1 + layers.iter().map(|l| l.outputs).sum::<usize>(),
            layers,
            input: match &input_t {
                InputTerm::Rows(t) => t.as_vec(),
                InputTerm::Bias(t) => t.as_vec(),
            },
            input_t,
            scratch: RefCell::default(),
        }
    }

    /// Output width (the state dimension, or the first layer's width for a
    /// one-layer field).
    fn out_dim(&self) -> usize {
        self.layers.last().map_or(self.h1, |l| l.outputs)
    }

    /// Forward through all layers; returns every layer's output
    /// (post-activation) end to end, `rows` rows of each, in one buffer.
    fn run(&self, z: &[f32], rows: usize, row0: usize) -> Vec<f32> {
        widest(
            #[inline(always)]
            || {
                let mut hs = vec![0.0; rows * self.width_sum];
                let (first, mut rest) = hs.split_at_mut(rows * self.h1);
                match self.input_t {
                    InputTerm::Rows(_) => {
                        first.copy_from_slice(&self.input[row0 * self.h1..(row0 + rows) * self.h1])
                    }
                    InputTerm::Bias(_) => first
                        .chunks_exact_mut(self.h1)
                        .for_each(|row| row.copy_from_slice(&self.input)),
                }
                matmul_acc(z, &self.wy, &self.wy_rows, rows, self.d, self.h1, first);
                nagode::build::activate(self.first_act, first);
                let mut prev: &[f32] = first;
                for l in &self.layers {
                    let (a, r) = std::mem::take(&mut rest).split_at_mut(rows * l.outputs);
                    for row in a.chunks_exact_mut(l.outputs) {
                        row.copy_from_slice(&l.b);
                    }
                    matmul_acc(prev, &l.wt, &l.w, rows, l.inputs, l.outputs, a);
                    nagode::build::activate(l.act, a);
                    prev = a;
                    rest = r;
                }
                hs
            },
        )
    }

    /// Adds one evaluation's parameter and input-term gradients given
    /// `scale` times `g_out`, the gradient of its output, `hs`, every
    /// layer's output ([`Self::run`]), and `z`, its `rows` input rows (rows
    /// `row0..` of the input term); then adds the gradient of `z` to each
    /// `(tensor, coefficient)` of `into`.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        grads: &mut Gradients<f32, Cpu>,
        hs: &[f32],
        z: &[f32],
        g_out: &M,
        scale: f32,
        rows: usize,
        row0: usize,
        into: &[(&M, f32)],
    ) -> Result<(), CpuError> {
        let mut scratch = self.scratch.borrow_mut();
        let Scratch { g, gp, dz } = &mut *scratch;
        widest(
            #[inline(always)]
            || {
                g.clear();
                g.extend(grads.get_or_alloc_mut(g_out)?.iter().map(|x| x * scale));
                // Where each layer's output starts in `hs`.
                let mut end = rows * self.width_sum;
                for l in self.layers.iter().rev() {
                    let start = end - rows * l.outputs;
                    let h_in = &hs[start - rows * l.inputs..start];
                    act_backward(l.act, &hs[start..end], g);
                    outer_acc(
                        h_in,
                        g,
                        rows,
                        l.inputs,
                        l.outputs,
                        grads.get_or_alloc_mut(&l.wt_t)?,
                    );
                    let db = grads.get_or_alloc_mut(&l.b_t)?;
                    for g_row in g.chunks_exact(l.outputs).take(rows) {
                        add_scaled(db, g_row, 1.0);
                    }
                    gp.clear();
                    gp.resize(rows * l.inputs, 0.0);
                    matmul_acc(g, &l.w, &l.wt, rows, l.outputs, l.inputs, gp);
                    std::mem::swap(g, gp);
                    end = start;
                }
                act_backward(self.first_act, &hs[..rows * self.h1], g);
                match &self.input_t {
                    InputTerm::Rows(t) => {
                        let de = grads.get_or_alloc_mut(t)?;
                        add_scaled(&mut de[row0 * self.h1..(row0 + rows) * self.h1], g, 1.0);
                    }
                    InputTerm::Bias(t) => {
                        let db = grads.get_or_alloc_mut(t)?;
                        for g_row in g.chunks_exact(self.h1).take(rows) {
                            add_scaled(db, g_row, 1.0);
                        }
                    }
                }
                outer_acc(
                    z,
                    g,
                    rows,
                    self.d,
                    self.h1,
                    grads.get_or_alloc_mut(&self.wy_t)?,
                );
                dz.clear();
                dz.resize(rows * self.d, 0.0);
                matmul_acc(g, &self.wy_rows, &self.wy, rows, self.h1, self.d, dz);
                for (t, c) in into {
                    add_scaled(grads.get_or_alloc_mut(*t)?, dz, *c);
                }
                Ok(())
            },
        )
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

/// `y + mu v` (the look-ahead) or `y`, as plain data.
fn look_ahead_point(y: &[f32], look_ahead: Option<(&[f32], f32)>) -> Vec<f32> {
    match look_ahead {
        Some((v, mu)) => y.iter().zip(v).map(|(y, v)| y + mu * v).collect(),
        None => y.to_vec(),
    }
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
    let vd = look_ahead.map(|(v, mu)| (v.as_vec(), mu));
    let zv = look_ahead_point(&y.as_vec(), vd.as_ref().map(|(v, mu)| (&v[..], *mu)));
    let hs = field.run(&zv, rows, row0);
    let f_data = &hs[hs.len() - rows * field.out_dim()..];
    let out_data: Vec<f32> = if scale == 1.0 {
        f_data.to_vec()
    } else {
        f_data.iter().map(|x| x * scale).collect()
    };
    let out: M = y
        .device()
        .tensor_from_vec(out_data, (rows, field.out_dim()));
    if T::OWNS_TAPE {
        let field = Rc::clone(field);
        let y_t = y.clone();
        let v_t = look_ahead.map(|(v, mu)| (v.clone(), mu));
        let out_t = out.clone();
        tape.add_backward_op(move |grads| {
            let mut into = vec![(&y_t, 1.0)];
            into.extend(v_t.as_ref().map(|(v, mu)| (v, *mu)));
            field.backward(grads, &hs, &zv, &out_t, scale, rows, row0, &into)
        });
    }
    out
}

/// One whole NAG step as one op: `v' = mu v + h f(y + mu v; e_n)` and
/// `y' = y + v'`, returned as `(y', v')`. The same f32 operations as the
/// step in dfdx ops (and the runtime): `mu * v`, `h * f`, their sum, then
/// `y + v'`; one tape entry and two output buffers instead of four ops.
#[allow(clippy::too_many_arguments)]
pub fn nag_step<T: Tape<f32, Cpu>>(
    field: &Rc<FusedField>,
    y: &M,
    v: &M,
    mu: f32,
    h: f32,
    row0: usize,
    tape: &mut T,
) -> (M, M) {
    let rows = y.shape().0;
    let (mut y_new, mut v_new) = (y.as_vec(), v.as_vec());
    let zv = look_ahead_point(&y_new, Some((&v_new, mu)));
    let hs = field.run(&zv, rows, row0);
    let f_data = &hs[hs.len() - rows * field.out_dim()..];
    for ((y, v), f) in y_new.iter_mut().zip(&mut v_new).zip(f_data) {
        *v = *v * mu + f * h;
        *y += *v;
    }
    let dev = y.device();
    let shape = *y.shape();
    let (y_out, v_out): (M, M) = (
        dev.tensor_from_vec(y_new, shape),
        dev.tensor_from_vec(v_new, shape),
    );
    if T::OWNS_TAPE {
        let field = Rc::clone(field);
        let (y_t, v_t) = (y.clone(), v.clone());
        let (yo, vo) = (y_out.clone(), v_out.clone());
        tape.add_backward_op(move |grads| {
            // dL/dv' in full (v' also feeds y'), kept in `vo`'s gradient.
            let gy = grads.get_or_alloc_mut(&yo)?.to_vec();
            add_scaled(grads.get_or_alloc_mut(&vo)?, &gy, 1.0);
            let gv = grads.get_or_alloc_mut(&vo)?.to_vec();
            add_scaled(grads.get_or_alloc_mut(&y_t)?, &gy, 1.0);
            add_scaled(grads.get_or_alloc_mut(&v_t)?, &gv, mu);
            field.backward(
                grads,
                &hs,
                &zv,
                &vo,
                h,
                rows,
                row0,
                &[(&y_t, 1.0), (&v_t, mu)],
            )
        });
    }
    (y_out, v_out)
}

/// `sum_n (ys[n] - targets[n])^2` elementwise, as one op: a trajectory
/// loss in one tape entry instead of three ops per sample. Summed over `n`
/// in order, as the ops would.
pub fn sum_sq_err<T: Tape<f32, Cpu>>(
    dev: &Cpu,
    ys: &[M],
    targets: &[M],
    out_shape: (usize, usize),
    tape: &mut T,
) -> M {
    let len = out_shape.0 * out_shape.1;
    let diffs: Vec<Vec<f32>> = ys
        .iter()
        .zip(targets)
        .map(|(y, t)| {
            let mut d = y.as_vec();
            d.iter_mut().zip(t.as_vec()).for_each(|(d, t)| *d -= t);
            d
        })
        .collect();
    let mut sum = vec![0.0; len];
    for d in &diffs {
        sum.iter_mut().zip(d).for_each(|(s, d)| *s += d * d);
    }
    let out: M = dev.tensor_from_vec(sum, out_shape);
    if T::OWNS_TAPE {
        let ys: Vec<M> = ys.to_vec();
        let out_t = out.clone();
        tape.add_backward_op(move |grads| {
            let g = grads.get_or_alloc_mut(&out_t)?.to_vec();
            for (y, d) in ys.iter().zip(&diffs) {
                let gy = grads.get_or_alloc_mut(y)?;
                for ((gy, g), d) in gy.iter_mut().zip(&g).zip(d) {
                    *gy += 2.0 * d * g;
                }
            }
            Ok(())
        });
    }
    out
}

/// An RK combination `y + h * sum_j coefs[j] ks[j]` (zero coefficients
/// skipped; `y` itself when all are) as one op instead of two per term and
/// two more: the same f32 operations in the same order as the plain ops
/// (and the runtime's `combine`).
pub fn combine<T: Tape<f32, Cpu>>(y: &M, h: f32, coefs: &[f32], ks: &[M], tape: &mut T) -> M {
    let terms: Vec<(f32, &M)> = coefs
        .iter()
        .zip(ks)
        .filter(|(c, _)| **c != 0.0)
        .map(|(c, k)| (*c, k))
        .collect();
    let Some(((c0, k0), rest)) = terms.split_first() else {
        return y.clone();
    };
    let mut acc: Vec<f32> = k0.as_vec().iter().map(|x| x * c0).collect();
    for (c, k) in rest {
        acc.iter_mut()
            .zip(k.as_vec())
            .for_each(|(a, x)| *a += x * c);
    }
    let mut out = y.as_vec();
    out.iter_mut().zip(&acc).for_each(|(o, a)| *o += a * h);
    let out: M = y.device().tensor_from_vec(out, *y.shape());
    if T::OWNS_TAPE {
        let y_t = y.clone();
        let terms: Vec<(f32, M)> = terms.into_iter().map(|(c, k)| (c, k.clone())).collect();
        let out_t = out.clone();
        tape.add_backward_op(move |grads| {
            let g = grads.get_or_alloc_mut(&out_t)?.to_vec();
            add_scaled(grads.get_or_alloc_mut(&y_t)?, &g, 1.0);
            let ga: Vec<f32> = g.iter().map(|g| g * h).collect();
            for (c, k) in &terms {
                add_scaled(grads.get_or_alloc_mut(k)?, &ga, *c);
            }
            Ok(())
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::engine::forward::{trajectory_loss, FieldImpl};
    use crate::engine::params::{Arch, Net};
    use crate::engine::solver::{plan, SolverCfg, SolverChoice};
    use crate::engine::tensor::M;
    use dfdx::prelude::*;

    /// The trajectory loss with whole NAG steps and the loss as single ops
    /// (and with the fused field and combinations under RK4) gives the loss
    /// and gradients of plain dfdx ops; batch 5 takes the kernels' 4-row
    /// and 1-row tiles.
    #[test]
    fn fused_trajectory_loss_matches_plain_dfdx_ops() {
        let dev: Cpu = Default::default();
        let (b, d, steps) = (5, 2, 6);
        let arch = Arch {
            channels: 1,
            encoder: vec![],
            state_dim: d,
            hidden: vec![24, 13],
            decoder: vec![],
            outputs: 1,
            window: steps,
        };
        let y0: M =
            dev.tensor_from_vec((0..b * d).map(|i| (i as f32 * 0.9).sin()).collect(), (b, d));
        let truth: Vec<M> = (0..steps)
            .map(|n| {
                let t = (0..b * d)
                    .map(|i| (0.3 * n as f32 + i as f32).cos())
                    .collect();
                dev.tensor_from_vec(t, (b, d))
            })
            .collect();
        for kind in [SolverChoice::Nag, SolverChoice::Rk4] {
            let net = Net::new(&dev, &arch, kind, 2);
            let cfg = SolverCfg {
                kind,
                mu: 0.6,
                consistency: true,
                startup_euler: false,
                max_step: 0.5,
                time_unit: 1.0,
            };
            // Gaps of 0.7 with steps of at most 0.5: two sub-steps each.
            let pl = plan(&cfg, &vec![0.7; b * steps], b, steps, d, &dev).expect("plan");
            let run = |how| {
                let tape = OwnedTape::<f32, Cpu>::default();
                let loss = trajectory_loss(&net.fields[0], &cfg, &pl, &y0, &truth, tape, how);
                let value = loss.array();
                let mut grads = loss.backward();
                let g: Vec<Vec<f32>> = net.params().iter().map(|p| p.grad(&mut grads)).collect();
                (value, g)
            };
            let ((la, ga), (lb, gb)) = (run(FieldImpl::Fused), run(FieldImpl::Ops));
            assert!(
                (la - lb).abs() <= 1e-6 * la.abs(),
                "{kind:?}: loss {la} vs {lb}"
            );
            let mut nonzero = 0;
            for (k, (pa, pb)) in ga.iter().zip(&gb).enumerate() {
                for (i, (a, b)) in pa.iter().zip(pb).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1e-2),
                        "{kind:?}: param {k}[{i}] grad {a} vs {b}"
                    );
                    nonzero += usize::from(*a != 0.0);
                }
            }
            assert!(
                nonzero > 400,
                "{kind:?}: {nonzero} nonzero partial derivatives"
            );
        }
    }
}
