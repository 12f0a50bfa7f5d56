//! The forward pass: unrolls the very solver recurrence the runtime runs
//! (discretise-then-optimise) on the model's parameters.
//!
//! One tape is threaded through the forward pass by hand ([`Tr`]): every
//! operand except the one carrying the tape is a plain tensor, and dfdx
//! still accumulates its gradient by id. This lets a tensor (the state, the
//! velocity, a pre-broadcast bias) be used many times without cloning tapes,
//! and keeps the op count per solver step minimal, which is what costs time
//! at these sizes.

use crate::data::TaskKind;
use crate::engine::fused::{self, FusedField, InputTerm};
use crate::engine::params::{Dense, Field, Net};
use crate::engine::solver::{Coef, Plan, SolverCfg, SolverChoice, Stage};
use crate::engine::tensor::{M, V};
use dfdx::prelude::*;
use nagode::format::Activation;
use std::rc::Rc;

/// Threads one tape through the forward pass; see the module doc.
pub struct Tr<T> {
    tape: T,
}

impl<T: Tape<f32, Cpu>> Tr<T> {
    /// Starts with `tape`.
    pub fn new(tape: T) -> Self {
        Tr { tape }
    }
    fn take(&mut self) -> T {
        std::mem::take(&mut self.tape)
    }
    fn keep<S: Shape>(&mut self, x: Tensor<S, f32, Cpu, T>) -> Tensor<S, f32, Cpu> {
        let (x, t) = x.split_tape();
        self.tape = t;
        x
    }
    /// Puts the tape back on a tensor (for the loss).
    pub fn attach<S: Shape>(&mut self, x: Tensor<S, f32, Cpu>) -> Tensor<S, f32, Cpu, T> {
        x.put_tape(self.take())
    }
    /// `a + b`.
    pub fn add(&mut self, a: &M, b: &M) -> M {
        let t = self.take();
        self.keep(a.clone().put_tape(t) + b.clone())
    }
    /// `a * b` elementwise.
    pub fn mul(&mut self, a: &M, b: &M) -> M {
        let t = self.take();
        self.keep(a.clone().put_tape(t) * b.clone())
    }
    /// `a * a` (dfdx's binary ops refuse one tensor on both sides).
    pub fn square(&mut self, a: &M) -> M {
        let t = self.take();
        self.keep(a.clone().put_tape(t).square())
    }
    /// `s a`.
    pub fn scale(&mut self, a: &M, s: f32) -> M {
        let t = self.take();
        self.keep(a.clone().put_tape(t) * s)
    }
    /// `c a` for a scalar or per-row coefficient.
    pub fn coef(&mut self, a: &M, c: &Coef) -> M {
        match c {
            Coef::Scalar(s) => self.scale(a, *s),
            Coef::Rows(r) => self.mul(a, r),
        }
    }
    /// `a b` (matrix product).
    pub fn mm(&mut self, a: &M, b: &M) -> M {
        let t = self.take();
        self.keep(a.clone().put_tape(t).matmul(b.clone()))
    }
    /// The activation (identity records nothing).
    pub fn act(&mut self, a: M, act: Activation) -> M {
        match act {
            Activation::Identity => a,
            Activation::Tanh => {
                let t = self.take();
                self.keep(a.put_tape(t).tanh())
            }
            Activation::Relu => {
                let t = self.take();
                self.keep(a.put_tape(t).relu())
            }
        }
    }
    /// Rows `r0..r1`.
    pub fn rows(&mut self, a: &M, r0: usize, r1: usize) -> M {
        let t = self.take();
        self.keep(a.clone().put_tape(t).slice((r0..r1, ..)))
    }
    /// The bias repeated on `rows` rows.
    pub fn bcast(&mut self, b: &V, rows: usize) -> M {
        let t = self.take();
        let n = b.shape().0;
        self.keep(
            b.clone()
                .put_tape(t)
                .broadcast_like::<_, Axis<0>>(&(rows, n)),
        )
    }
    /// A dense layer on `x` (rows = batch).
    pub fn dense(&mut self, x: &M, d: &Dense) -> M {
        let rows = x.shape().0;
        let xw = self.mm(x, &d.wt);
        let b = self.bcast(&d.b, rows);
        let s = self.add(&xw, &b);
        self.act(s, d.act)
    }
}

/// How the field is evaluated on the tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldImpl {
    /// One fused op with a hand-written backward ([`crate::engine::fused`]); the default.
    Fused,
    /// Plain dfdx ops (matmul, add, tanh per layer): the reference the fused
    /// op is tested against.
    Ops,
}

/// A field ready for one forward pass.
enum ReadyField<'a> {
    /// Biases pre-broadcast to the batch (one op each per forward pass
    /// instead of one per evaluation) and the input term for all samples.
    ///
    /// `e_rows[n]` is sample n's slice of the input term, cut once: dfdx
    /// 0.13's slice backward assigns instead of adding, so a slice taken
    /// twice (several sub-steps of one gap) would lose gradient.
    Ops {
        f: &'a Field,
        biases: Vec<M>,
        e_rows: Vec<M>,
    },
    Fused(Rc<FusedField>),
}

impl<'a> ReadyField<'a> {
    fn new<T: Tape<f32, Cpu>>(
        tr: &mut Tr<T>,
        f: &'a Field,
        e_all: &M,
        batch: usize,
        how: FieldImpl,
    ) -> Self {
        // `e W_e + b_1` for every sample at once.
        let ebias = {
            let ew = tr.mm(e_all, &f.first.wt);
            let b = tr.bcast(&f.first.b, e_all.shape().0);
            tr.add(&ew, &b)
        };
        Self::with_input_term(tr, f, ebias, batch, how)
    }

    /// The field given its first layer's input term `(W*B, H1)` directly.
    fn with_input_term<T: Tape<f32, Cpu>>(
        tr: &mut Tr<T>,
        f: &'a Field,
        ebias: M,
        batch: usize,
        how: FieldImpl,
    ) -> Self {
        match how {
            FieldImpl::Ops => {
                let biases = f.rest.iter().map(|d| tr.bcast(&d.b, batch)).collect();
                let samples = ebias.shape().0 / batch.max(1);
                let e_rows = if samples == 1 {
                    vec![ebias]
                } else {
                    (0..samples)
                        .map(|n| tr.rows(&ebias, n * batch, (n + 1) * batch))
                        .collect()
                };
                ReadyField::Ops { f, biases, e_rows }
            }
            FieldImpl::Fused => {
                ReadyField::Fused(Rc::new(FusedField::new(f, InputTerm::Rows(ebias))))
            }
        }
    }

    /// `f(y; e_n)` for sample `n` of a batch of `batch` rows.
    fn eval<T: Tape<f32, Cpu>>(&self, tr: &mut Tr<T>, y: &M, n: usize, batch: usize) -> M {
        match self {
            ReadyField::Fused(ff) => fused::eval(ff, y, n * batch, &mut tr.tape),
            ReadyField::Ops { f, biases, e_rows } => {
                let _ = batch;
                let a = tr.mm(y, &f.wy);
                let a = tr.add(&a, &e_rows[n]);
                let mut h = tr.act(a, f.first.act);
                for (d, b) in f.rest.iter().zip(biases) {
                    let a = tr.mm(&h, &d.wt);
                    let a = tr.add(&a, b);
                    h = tr.act(a, d.act);
                }
                h
            }
        }
    }
}

/// A batch ready for the forward pass.
pub struct Batch {
    /// Normalised inputs, sample-major `[n][b][c]`, shape `(W*B, C)`.
    pub x: M,
    /// Batch size.
    pub size: usize,
    /// The integration plan (step sizes per sample and sub-step).
    pub plan: Plan,
}

/// Runs the model on a batch; returns the decoder outputs `(B, out)` in
/// normalised units (forecast) or logits (classify), and the tape.
///
/// `bound`: when `Some`, the state is read back after every sample and the
/// pass stops with `Err(step)` if any component exceeds it or is not finite
/// (the runtime's divergence rule; only used without gradients).
pub fn forward<T: Tape<f32, Cpu>>(
    net: &Net,
    cfg: &SolverCfg,
    batch: &Batch,
    tape: T,
    bound: Option<f32>,
    how: FieldImpl,
) -> Result<(M, Tr<T>), usize> {
    let dev = batch.x.device().clone();
    let mut tr = Tr::new(tape);
    let mut st = OdeState::new(dev.zeros_like(&(batch.size, net.arch.state_dim)));
    unroll(net, cfg, batch, &mut tr, &mut st, bound, how, |_, _, _| {})?;
    let out = decode(&mut tr, net, &st.y);
    Ok((out, tr))
}

/// A stream's state and NAG velocity between two chunks, detached from
/// any tape: truncated backpropagation starts each chunk from it.
#[derive(Clone, Debug)]
pub struct Carry {
    /// The state `(B, D)`.
    pub y: M,
    /// The NAG velocity `(B, D)` (zero for the other solvers).
    pub v: M,
}

/// What [`forward_stream`] gives back.
pub struct Streamed<T> {
    /// The decoder's read-out `(B, out)` after every sample with a target.
    pub outputs: Vec<M>,
    /// The sum over those samples of the per-element loss `(B, out)` (on
    /// the tape): the squared error for a forecast, `-target * log
    /// softmax` for a classifier's one-hot target (a row sums to its
    /// cross-entropy); `None` when no sample had a target.
    pub sum_loss: Option<M>,
    /// The state after the chunk, detached.
    pub carry: Carry,
    /// The tape.
    pub tr: Tr<T>,
}

/// Runs a chunk of `B` streams (the runtime's `Stream`): from `start` (a
/// zero state and a fresh solver when `None`, as after a reset) through
/// every sample of the batch; after sample `n` with `targets[n]` the
/// decoder reads the state out and its loss for `task` is summed. The
/// batch plan must come from [`crate::engine::solver::plan_after`] with the previous
/// chunk's steps when `start` is carried.
#[allow(clippy::too_many_arguments)]
pub fn forward_stream<T: Tape<f32, Cpu>>(
    net: &Net,
    cfg: &SolverCfg,
    batch: &Batch,
    start: Option<&Carry>,
    targets: &[Option<M>],
    task: TaskKind,
    tape: T,
    bound: Option<f32>,
    how: FieldImpl,
) -> Result<Streamed<T>, usize> {
    let dev = batch.x.device().clone();
    let mut tr = Tr::new(tape);
    let mut st = match start {
        Some(c) => OdeState {
            y: c.y.clone(),
            v: c.v.clone(),
            first: false,
        },
        None => OdeState::new(dev.zeros_like(&(batch.size, net.arch.state_dim))),
    };
    let mut outputs = Vec::new();
    let mut sum_loss: Option<M> = None;
    unroll(net, cfg, batch, &mut tr, &mut st, bound, how, |tr, n, y| {
        if let Some(Some(target)) = targets.get(n) {
            let out = decode(tr, net, y);
            let term = match task {
                TaskKind::Forecast => {
                    let diff = tr.add(&out, &(target.clone() * -1.0));
                    tr.square(&diff)
                }
                TaskKind::Classify => {
                    let t = tr.take();
                    let log_p = tr.keep(out.clone().put_tape(t).log_softmax::<Axis<1>>());
                    tr.mul(&log_p, &(target.clone() * -1.0))
                }
            };
            sum_loss = Some(match &sum_loss {
                Some(s) => tr.add(s, &term),
                None => term,
            });
            outputs.push(out);
        }
    })?;
    let detach = |m: &M| dev.tensor_from_vec(m.as_vec(), *m.shape());
    let carry = Carry {
        y: detach(&st.y),
        v: detach(&st.v),
    };
    Ok(Streamed {
        outputs,
        sum_loss,
        carry,
        tr,
    })
}

/// The decoder on a state `(B, D)`.
fn decode<T: Tape<f32, Cpu>>(tr: &mut Tr<T>, net: &Net, y: &M) -> M {
    let mut out = y.clone();
    for layer in &net.decoder {
        out = tr.dense(&out, layer);
    }
    out
}

/// The encoder, then every sample's gap integrated from `st` (the window
/// loop and the stream share it); `after(tr, n, y)` sees the state after
/// sample `n`. `bound`: see [`forward`].
#[allow(clippy::too_many_arguments)]
fn unroll<T: Tape<f32, Cpu>>(
    net: &Net,
    cfg: &SolverCfg,
    batch: &Batch,
    tr: &mut Tr<T>,
    st: &mut OdeState,
    bound: Option<f32>,
    how: FieldImpl,
    mut after: impl FnMut(&mut Tr<T>, usize, &M),
) -> Result<(), usize> {
    let b = batch.size;
    let mut e = batch.x.clone();
    for layer in &net.encoder {
        e = tr.dense(&e, layer);
    }
    let window = batch.x.shape().0 / b;
    let ready: Vec<ReadyField> = if cfg.kind == SolverChoice::Resnet && window > 1 {
        // One field per sample: each needs only its own sample's input rows.
        let fields = net.fields.iter().enumerate();
        fields
            .map(|(n, f)| {
                let e_n = tr.rows(&e, n * b, (n + 1) * b);
                ReadyField::new(tr, f, &e_n, b, how)
            })
            .collect()
    } else {
        net.fields
            .iter()
            .map(|f| ReadyField::new(tr, f, &e, b, how))
            .collect()
    };
    for n in 0..window {
        if cfg.kind == SolverChoice::Resnet {
            let f = ready[n].eval(tr, &st.y, 0, b);
            st.y = tr.add(&st.y, &f);
        } else {
            integrate(tr, cfg, &ready[0], st, &batch.plan.samples[n], n, b);
        }
        if let Some(bound) = bound {
            if st
                .y
                .as_vec()
                .iter()
                .any(|x| !x.is_finite() || x.abs() > bound)
            {
                return Err(n);
            }
        }
        after(tr, n, &st.y);
    }
    Ok(())
}

/// The ODE state during a pass: `y`, the NAG velocity, and whether the
/// next step is the window's first (NAG start-up).
struct OdeState {
    y: M,
    v: M,
    first: bool,
}

impl OdeState {
    fn new(y0: M) -> Self {
        let v = y0.device().zeros_like(y0.shape());
        OdeState {
            y: y0,
            v,
            first: true,
        }
    }
}

/// Integrates over one sample gap: the plan's steps for sample `n`.
#[allow(clippy::too_many_arguments)]
fn integrate<T: Tape<f32, Cpu>>(
    tr: &mut Tr<T>,
    cfg: &SolverCfg,
    field: &ReadyField,
    st: &mut OdeState,
    stages: &[Stage],
    n: usize,
    b: usize,
) {
    for step in stages {
        match step {
            Stage::Nag {
                rescale,
                vcoef,
                h,
                active,
            } => {
                if let Some(r) = rescale {
                    st.v = tr.coef(&st.v, r);
                }
                if st.first && cfg.startup_euler {
                    // y1 = y0 + H f(y0), v1 = y1 - y0.
                    let f = field.eval(tr, &st.y, n, b);
                    st.v = tr.coef(&f, h);
                    st.y = tr.add(&st.y, &st.v);
                } else if let (ReadyField::Fused(ff), Coef::Scalar(hs), None, None) =
                    (field, h, vcoef, active)
                {
                    // Every row steps alike: the whole step is one op.
                    (st.y, st.v) =
                        fused::nag_step(ff, &st.y, &st.v, cfg.mu, *hs, n * b, &mut tr.tape);
                } else {
                    let mv = tr.scale(&st.v, cfg.mu);
                    let hf = match (field, h) {
                        // One op for the look-ahead, the field and the step.
                        (ReadyField::Fused(ff), Coef::Scalar(hs)) => {
                            fused::eval_nag(ff, &st.y, &st.v, cfg.mu, *hs, n * b, &mut tr.tape)
                        }
                        _ => {
                            let z = tr.add(&st.y, &mv);
                            let f = field.eval(tr, &z, n, b);
                            tr.coef(&f, h)
                        }
                    };
                    let kept = match vcoef {
                        None => mv,
                        Some(c) => tr.coef(&st.v, c),
                    };
                    st.v = tr.add(&kept, &hf);
                    let dy = match active {
                        None => st.v.clone(),
                        Some(a) => tr.mul(&st.v, a),
                    };
                    st.y = tr.add(&st.y, &dy);
                }
            }
            Stage::Rk { tableau, h } => {
                // The runtime's order of operations: y + h * (sum_j c_j k_j),
                // zero coefficients skipped.
                let fused = matches!(field, ReadyField::Fused(_));
                let mut ks: Vec<M> = Vec::with_capacity(tableau.stages());
                for i in 0..tableau.stages() {
                    let coefs: Vec<f32> = (0..i).map(|j| tableau.a(i, j)).collect();
                    let arg = combine(tr, &st.y, h, &coefs, &ks, fused);
                    ks.push(field.eval(tr, &arg, n, b));
                }
                let coefs: Vec<f32> = (0..tableau.stages()).map(|i| tableau.b(i)).collect();
                st.y = combine(tr, &st.y, h, &coefs, &ks, fused);
            }
        }
        st.first = false;
    }
}

/// The benchmark's training problem (the neural-ODE literature's standard
/// one): from the initial states `y0` `(B, D)`, integrate the field with no
/// input over the plan's samples and return the mean squared error against
/// `truth[n]` `(B, D)` over the whole trajectory, on the tape.
pub fn trajectory_loss<T: Tape<f32, Cpu>>(
    field: &Field,
    cfg: &SolverCfg,
    plan: &Plan,
    y0: &M,
    truth: &[M],
    tape: T,
    how: FieldImpl,
) -> Tensor<(), f32, Cpu, T> {
    let dev = y0.device().clone();
    let mut tr = Tr::new(tape);
    let (b, d) = *y0.shape();
    // No input: the first layer's input term is just its bias (the field is
    // y -> 32 -> 32 -> D; the unused `W_e` gets no gradient).
    let ready = match how {
        FieldImpl::Fused => ReadyField::Fused(Rc::new(FusedField::new(
            field,
            InputTerm::Bias(field.first.b.clone()),
        ))),
        FieldImpl::Ops => {
            let rows = b * truth.len();
            let bias = tr.bcast(&field.first.b, rows);
            // Materialised: the per-sample slices need row-major data.
            let ebias = tr.add(&dev.zeros_like(&(rows, bias.shape().1)), &bias);
            ReadyField::with_input_term(&mut tr, field, ebias, b, how)
        }
    };
    let mut st = OdeState::new(y0.clone());
    // The fused loss is one op over every state; plain ops sum as they go.
    let mut ys = Vec::with_capacity(truth.len());
    let mut sum: Option<M> = None;
    for (n, target) in truth.iter().enumerate() {
        integrate(&mut tr, cfg, &ready, &mut st, &plan.samples[n], n, b);
        if how == FieldImpl::Fused {
            ys.push(st.y.clone());
            continue;
        }
        let neg = target.clone() * -1.0;
        let diff = tr.add(&st.y, &neg);
        let sq = tr.square(&diff);
        sum = Some(match sum {
            None => sq,
            Some(s) => tr.add(&s, &sq),
        });
    }
    let total = match sum {
        Some(s) => s,
        // Fused (or no samples: zeros).
        None => fused::sum_sq_err(&dev, &ys, truth, (b, d), &mut tr.tape),
    };
    let scale = 1.0 / (truth.len() * b * d).max(1) as f32;
    tr.attach(total).sum() * scale
}

/// `y + h * sum_j coefs[j] k[j]` skipping zero coefficients (the runtime's `combine`).
/// `fused`: as one op when the step is the same for every row.
pub fn combine<T: Tape<f32, Cpu>>(
    tr: &mut Tr<T>,
    y: &M,
    h: &Coef,
    coefs: &[f32],
    ks: &[M],
    fused: bool,
) -> M {
    if let (true, Coef::Scalar(hs)) = (fused, h) {
        return fused::combine(y, *hs, coefs, ks, &mut tr.tape);
    }
    let mut acc: Option<M> = None;
    for (&c, k) in coefs.iter().zip(ks) {
        if c != 0.0 {
            let term = tr.scale(k, c);
            acc = Some(match acc {
                None => term,
                Some(a) => tr.add(&a, &term),
            });
        }
    }
    match acc {
        None => y.clone(),
        Some(a) => {
            let ha = tr.coef(&a, h);
            tr.add(y, &ha)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::params::Arch;
    use crate::engine::solver::plan;

    /// Layer widths of the test models. The fused op multiplies differently
    /// for outputs narrower than 8 (dot products) and wider (row updates in
    /// blocks of 16, 8, 4, 1); every real model takes the wide path.
    #[derive(Clone, Copy, Debug)]
    enum Width {
        /// D = 2, field (2 + 3)→5→5→2: every fused product on the narrow path.
        Narrow,
        /// D = 8, field (8 + 3)→16→13→8: every fused product on the wide
        /// path, 13 = 8 + 4 + 1 taking each block width.
        Wide,
    }

    /// A small model and batch: one channel, encoder 1→3, window 6, batch 3,
    /// with irregular gaps when `irregular`.
    fn tiny(width: Width, irregular: bool, kind: SolverChoice) -> (Net, SolverCfg, Batch, M) {
        let dev: Cpu = Default::default();
        let (state_dim, hidden) = match width {
            Width::Narrow => (2, vec![5, 5]),
            Width::Wide => (8, vec![16, 13]),
        };
        let arch = Arch {
            channels: 1,
            encoder: vec![3],
            state_dim,
            hidden,
            decoder: vec![],
            outputs: 2,
            window: 6,
        };
        let net = Net::new(&dev, &arch, kind, 3);
        let cfg = SolverCfg {
            kind,
            mu: 0.6,
            consistency: true,
            startup_euler: false,
            max_step: 1.0,
            time_unit: 1.0,
        };
        let (b, w) = (3, 6);
        let gaps: Vec<f32> = (0..b * w)
            .map(|i| if irregular && i % 4 == 1 { 2.5 } else { 1.0 })
            .collect();
        let x: Vec<f32> = (0..b * w).map(|i| (i as f32 * 0.7).sin()).collect();
        let pl = plan(&cfg, &gaps, b, w, arch.state_dim, &dev).expect("plan");
        let batch = Batch {
            x: dev.tensor_from_vec(x, (w * b, 1)),
            size: b,
            plan: pl,
        };
        let target = dev.tensor_from_vec(vec![0.3, -0.2, 0.1, 0.5, -0.4, 0.2], (b, 2));
        (net, cfg, batch, target)
    }

    fn loss_grads(
        net: &Net,
        cfg: &SolverCfg,
        batch: &Batch,
        target: &M,
        how: FieldImpl,
    ) -> (f32, Vec<Vec<f32>>) {
        // The training loss (MSE) on the tape, as `train::loss_and_grads`
        // takes it, without importing the training loop back into here.
        let tape = OwnedTape::<f32, Cpu>::default();
        let (out, mut tr) = forward(net, cfg, batch, tape, None, how).expect("no bound");
        let l = mse_loss(tr.attach(out), target.clone());
        let value = l.array();
        let mut grads = l.backward();
        let g = net.params().iter().map(|p| p.grad(&mut grads)).collect();
        (value, g)
    }

    fn loss_only(net: &Net, cfg: &SolverCfg, batch: &Batch, target: &M) -> f64 {
        let (out, _) =
            forward(net, cfg, batch, NoneTape, None, FieldImpl::Fused).expect("no bound");
        let (o, t) = (out.as_vec(), target.as_vec());
        o.iter()
            .zip(&t)
            .map(|(a, b)| ((a - b) as f64).powi(2))
            .sum::<f64>()
            / o.len() as f64
    }

    /// Central finite differences through the whole unrolled solver (encoder,
    /// field, NAG recurrence, decoder) agree with the backward pass.
    fn gradient_check(width: Width, irregular: bool, kind: SolverChoice) {
        let (net, cfg, batch, target) = tiny(width, irregular, kind);
        let (_, grads) = loss_grads(&net, &cfg, &batch, &target, FieldImpl::Fused);
        let eps = 1e-2f32;
        let mut checked = 0;
        let mut worst = 0f64;
        for (k, g) in grads.iter().enumerate() {
            for (i, &gi) in g.iter().enumerate() {
                let fd = net.central_difference(k, i, eps, |n| loss_only(n, &cfg, &batch, &target));
                let err = (fd - gi as f64).abs() / (fd.abs().max(gi.abs() as f64) + 1e-3);
                worst = worst.max(err);
                assert!(
                    err < 2e-2,
                    "param {k}[{i}]: finite difference {fd:.6}, backward {gi:.6}"
                );
                checked += 1;
            }
        }
        assert!(checked > 80, "checked {checked} parameters");
        eprintln!("{width:?} {kind:?} irregular={irregular}: {checked} partial derivatives, worst relative error {worst:.2e}");
    }

    #[test]
    fn gradient_through_unrolled_nag_matches_finite_differences() {
        gradient_check(Width::Narrow, false, SolverChoice::Nag);
        gradient_check(Width::Narrow, false, SolverChoice::Resnet);
    }

    #[test]
    fn gradient_with_irregular_gaps_matches_finite_differences() {
        gradient_check(Width::Narrow, true, SolverChoice::Nag);
        gradient_check(Width::Narrow, true, SolverChoice::Rk4);
    }

    /// The same check on the fused op's wide path (fused NAG step, and the
    /// plain fused field through RK4), regular and irregular gaps.
    #[test]
    fn gradient_through_wide_fused_field_matches_finite_differences() {
        for irregular in [false, true] {
            gradient_check(Width::Wide, irregular, SolverChoice::Nag);
        }
        gradient_check(Width::Wide, true, SolverChoice::Rk4);
    }

    /// The fused field op and the plain dfdx ops give the same loss and gradients.
    #[test]
    fn fused_field_matches_plain_dfdx_ops() {
        let kinds = [
            SolverChoice::Nag,
            SolverChoice::Midpoint,
            SolverChoice::Resnet,
        ];
        for (width, kind) in [Width::Narrow, Width::Wide]
            .into_iter()
            .flat_map(|w| kinds.map(|k| (w, k)))
        {
            for irregular in [false, true] {
                if kind == SolverChoice::Resnet && irregular {
                    continue;
                }
                let (net, cfg, batch, target) = tiny(width, irregular, kind);
                let (la, ga) = loss_grads(&net, &cfg, &batch, &target, FieldImpl::Fused);
                let (lb, gb) = loss_grads(&net, &cfg, &batch, &target, FieldImpl::Ops);
                assert!(
                    (la - lb).abs() <= 1e-5 * la.abs().max(1.0),
                    "{width:?} {kind:?}: loss {la} vs {lb}"
                );
                for (k, (pa, pb)) in ga.iter().zip(&gb).enumerate() {
                    for (i, (a, b)) in pa.iter().zip(pb).enumerate() {
                        assert!(
                            (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1e-2),
                            "{width:?} {kind:?} irregular {irregular}: param {k}[{i}] grad {a} vs {b}"
                        );
                    }
                }
            }
        }
    }

    /// NAG with mu = 0 is Euler: same outputs from the two plans.
    #[test]
    fn nag_with_zero_momentum_is_euler() {
        let (net, mut cfg, _, _) = tiny(Width::Narrow, true, SolverChoice::Nag);
        cfg.mu = 0.0;
        let dev: Cpu = Default::default();
        let (b, w) = (3, 6);
        let gaps: Vec<f32> = (0..b * w)
            .map(|i| if i % 4 == 1 { 2.5 } else { 1.0 })
            .collect();
        let x: Vec<f32> = (0..b * w).map(|i| (i as f32 * 0.3).cos()).collect();
        let run = |cfg: &SolverCfg| {
            let pl = plan(cfg, &gaps, b, w, 2, &dev).expect("plan");
            let batch = Batch {
                x: dev.tensor_from_vec(x.clone(), (w * b, 1)),
                size: b,
                plan: pl,
            };
            forward(&net, cfg, &batch, NoneTape, None, FieldImpl::Fused)
                .expect("finite")
                .0
                .as_vec()
        };
        let nag = run(&cfg);
        let euler = run(&SolverCfg {
            kind: SolverChoice::Euler,
            ..cfg
        });
        for (a, e) in nag.iter().zip(&euler) {
            assert!((a - e).abs() <= 1e-6 * e.abs().max(1.0), "{a} vs {e}");
        }
    }
}
