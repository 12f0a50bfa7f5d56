//! Density estimation with a continuous normalising flow (FFJORD's
//! change of variables, integrated by the trainer's discrete solvers).
//!
//! A data point `x` sits at `t = 0`; the flow `dz/dt = f(z, t)` carries it
//! to `z(1)`, where the base density is the standard normal. Along the way
//! `d log p(z(t)) / dt = -tr(∂f/∂z)`, so
//! `log p(x) = log N(z(1); 0, I) + ∫₀¹ tr(∂f/∂z) dt`: the solver integrates
//! the augmented state `[z, a]` with `da/dt = tr(∂f/∂z)`, `a(0) = 0`, using
//! the very plan (NAG, Euler, midpoint, RK4 steps from `nagode::solver`)
//! the other tasks train with, and training minimises the mean negative
//! log-likelihood by backpropagation through the unrolled steps.
//!
//! The field is the trainer's [`Field`] with the time as its one input
//! channel: `f(z, t) = MLP([z, t])`. The trace is exact, by forward mode:
//! for each direction `e_i` the tangent goes through the layers
//! (`d tanh = 1 - tanh²`) and `(J e_i)_i` is kept. That is `D` extra passes
//! of about the field's own multiply count (the first layer's time column
//! aside), so one evaluation with its trace costs about `(1 + D)` field
//! evaluations: 3x for the 2-D toys, 7x for six sensor channels. The trace
//! is written as dfdx ops on the batch, so its dependence on the weights is
//! on the tape and trained.
//!
//! The log-density is that of the discrete flow's continuous model, not the
//! exact log-determinant of the discrete map; with few steps the two differ
//! (the compare report measures the 2-D densities' mass on a grid).

pub mod anomaly;
pub mod detect;
pub mod sensor;

use crate::data::Points;
use crate::engine::forward::Tr;
use crate::engine::params::{Arch, Field, Net};
use crate::engine::solver::{plan, Coef, SolverCfg, SolverChoice, Stage};
use crate::engine::tensor::M;
use crate::engine::train::Adam;
use crate::error::AppError;
use dfdx::prelude::*;
use nagode::flow::HALF_LOG_TAU;
use nagode::format::Activation;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How a flow is trained.
#[derive(Clone, Debug)]
pub struct DensityCfg {
    /// The solver (its `max_step` sets the steps over `[0, 1]`).
    pub solver: SolverCfg,
    /// Hidden widths of the field (tanh).
    pub hidden: Vec<usize>,
    /// Epochs (the whole budget; the best-validation epoch is kept).
    pub epochs: usize,
    /// Points per batch.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Global gradient-norm clip.
    pub clip: f32,
    /// Seed of the weights and the batch order.
    pub seed: u64,
}

pub use crate::export::FLOW_END;

/// The solver settings of a flow: `steps` equal steps over `[0, FLOW_END]`, NAG
/// with the other tasks' defaults (mu 0.5, consistency scaling).
pub fn flow_solver(kind: SolverChoice, steps: usize) -> SolverCfg {
    SolverCfg {
        kind,
        mu: 0.5,
        consistency: true,
        startup_euler: false,
        max_step: FLOW_END / steps.max(1) as f32,
        time_unit: 1.0,
    }
}

/// A flow's parameters: the trainer's [`Net`] with no encoder, the time as
/// the field's one input channel, and no decoder (the flow reads `z(1)`).
pub fn flow_net(dev: &Cpu, dim: usize, hidden: &[usize], seed: u64) -> Net {
    let arch = Arch {
        channels: 1,
        encoder: Vec::new(),
        state_dim: dim,
        hidden: hidden.to_vec(),
        decoder: Vec::new(),
        outputs: dim,
        window: 1,
    };
    let mut net = Net::new(dev, &arch, SolverChoice::Nag, seed);
    net.decoder.clear();
    net
}

/// Constants of one pass over a batch of `b` points, and the biases on the tape.
struct Ready {
    /// `(B, 1)` ones: the time column.
    ones_b1: M,
    /// Per layer: its bias on `B` rows (on the tape) and `(B, width)` ones.
    biases: Vec<M>,
    ones: Vec<M>,
    /// `(B, D)` masks with column `i` ones: the direction `e_i` on every row.
    masks: Vec<M>,
    /// `(D, 1)` ones: the row sum of the diagonal terms.
    ones_d1: M,
}

impl Ready {
    fn new<T: Tape<f32, Cpu>>(tr: &mut Tr<T>, f: &Field, b: usize, dev: &Cpu) -> Self {
        let d = f.wy.shape().0;
        let layers = std::iter::once(&f.first).chain(&f.rest);
        let (biases, ones) = layers
            .map(|l| (tr.bcast(&l.b, b), dev.ones_like(&(b, l.outputs()))))
            .unzip();
        let masks = (0..d)
            .map(|i| {
                let m = (0..b * d)
                    .map(|k| f32::from(u8::from(k % d == i)))
                    .collect();
                dev.tensor_from_vec(m, (b, d))
            })
            .collect();
        Ready {
            ones_b1: dev.ones_like(&(b, 1)),
            biases,
            ones,
            masks,
            ones_d1: dev.ones_like(&(d, 1)),
        }
    }
}

/// The activation's slope at the output `h`, `None` for the identity.
fn slope<T: Tape<f32, Cpu>>(tr: &mut Tr<T>, h: &M, act: Activation, ones: &M) -> Option<M> {
    match act {
        Activation::Identity => None,
        Activation::Tanh => {
            let sq = tr.square(h);
            let neg = tr.scale(&sq, -1.0);
            Some(tr.add(&neg, ones))
        }
        // Piecewise constant: no gradient to carry.
        Activation::Relu => {
            let m = h
                .as_vec()
                .iter()
                .map(|&x| f32::from(u8::from(x > 0.0)))
                .collect();
            Some(h.device().tensor_from_vec(m, *h.shape()))
        }
    }
}

/// The augmented state: `z (B, D)` and the integrated trace `a (B, 1)`.
#[derive(Clone)]
struct Aug {
    z: M,
    a: M,
}

impl Aug {
    /// `self + c k`, per component.
    fn axpy<T: Tape<f32, Cpu>>(&self, tr: &mut Tr<T>, c: f32, k: &Aug) -> Aug {
        let (cz, ca) = (tr.scale(&k.z, c), tr.scale(&k.a, c));
        Aug {
            z: tr.add(&self.z, &cz),
            a: tr.add(&self.a, &ca),
        }
    }
    /// `c self`.
    fn scale<T: Tape<f32, Cpu>>(&self, tr: &mut Tr<T>, c: f32) -> Aug {
        Aug {
            z: tr.scale(&self.z, c),
            a: tr.scale(&self.a, c),
        }
    }
}

/// `[f(z, t), tr(∂f/∂z)]` on a batch.
fn eval<T: Tape<f32, Cpu>>(tr: &mut Tr<T>, f: &Field, r: &Ready, z: &M, t: f32) -> Aug {
    let zw = tr.mm(z, &f.wy);
    let tw = tr.mm(&(r.ones_b1.clone() * t), &f.first.wt);
    let pre = tr.add(&zw, &tw);
    let pre = tr.add(&pre, &r.biases[0]);
    let mut h = tr.act(pre, f.first.act);
    let mut slopes = vec![slope(tr, &h, f.first.act, &r.ones[0])];
    for ((l, b), ones) in f.rest.iter().zip(&r.biases[1..]).zip(&r.ones[1..]) {
        let pre = tr.mm(&h, &l.wt);
        let pre = tr.add(&pre, b);
        h = tr.act(pre, l.act);
        slopes.push(slope(tr, &h, l.act, ones));
    }
    // Forward mode, one direction at a time: the tangent of every layer's
    // output, then the i-th component of `J e_i`.
    let weights = std::iter::once(&f.wy).chain(f.rest.iter().map(|l| &l.wt));
    let weights: Vec<&M> = weights.collect();
    let mut diag: Option<M> = None;
    for mask in &r.masks {
        let mut u = mask.clone();
        for (w, s) in weights.iter().zip(&slopes) {
            u = tr.mm(&u, w);
            if let Some(s) = s {
                u = tr.mul(&u, s);
            }
        }
        let term = tr.mul(&u, mask);
        diag = Some(match diag {
            None => term,
            Some(acc) => tr.add(&acc, &term),
        });
    }
    let diag = diag.unwrap_or_else(|| z.device().zeros_like(z.shape()));
    Aug {
        a: tr.mm(&diag, &r.ones_d1),
        z: h,
    }
}

/// Why a stage cannot be used here: every point integrates the same `[0, 1]`.
fn scalar(c: &Coef) -> Result<f32, AppError> {
    match c {
        Coef::Scalar(s) => Ok(*s),
        Coef::Rows(_) => Err(AppError::Usage(
            "density: a flow's plan has one step size for every point".into(),
        )),
    }
}

/// `z(1)` and `a(1)` of the flow from the points `x (B, D)`.
fn integrate<T: Tape<f32, Cpu>>(
    tr: &mut Tr<T>,
    net: &Net,
    cfg: &SolverCfg,
    x: &M,
) -> Result<Aug, AppError> {
    let dev = x.device().clone();
    let (b, d) = *x.shape();
    let field = net
        .fields
        .first()
        .ok_or_else(|| AppError::Usage("density: the flow has no field".into()))?;
    let steps = plan(cfg, &vec![FLOW_END; b], b, 1, d, &dev)
        .map_err(|e| AppError::Usage(format!("density: {e}")))?;
    let (_, big_h) = nagode::solver::substeps(FLOW_END, cfg.max_step)
        .map_err(|e| AppError::Usage(format!("density: {e}")))?;
    let r = Ready::new(tr, field, b, &dev);
    let mut y = Aug {
        z: x.clone(),
        a: dev.zeros_like(&(b, 1)),
    };
    let mut v = Aug {
        z: dev.zeros_like(&(b, d)),
        a: dev.zeros_like(&(b, 1)),
    };
    let stages = steps.samples.first().map_or(&[][..], Vec::as_slice);
    for (j, stage) in stages.iter().enumerate() {
        let t = j as f32 * big_h;
        match stage {
            Stage::Nag { h, .. } if j == 0 && cfg.startup_euler => {
                let k = eval(tr, field, &r, &y.z, t);
                v = k.scale(tr, scalar(h)?);
                y = y.axpy(tr, 1.0, &v);
            }
            Stage::Nag { h, .. } => {
                let mv = v.scale(tr, cfg.mu);
                let look = y.axpy(tr, 1.0, &mv);
                let k = eval(tr, field, &r, &look.z, t);
                v = mv.axpy(tr, scalar(h)?, &k);
                y = y.axpy(tr, 1.0, &v);
            }
            Stage::Rk { tableau, h } => {
                let h = scalar(h)?;
                let mut ks: Vec<Aug> = Vec::with_capacity(tableau.stages());
                for i in 0..tableau.stages() {
                    let arg = combine(tr, &y, h, &ks, |j| tableau.a(i, j));
                    let ti = t + tableau.0.f32.c[i] * h;
                    ks.push(eval(tr, field, &r, &arg.z, ti));
                }
                y = combine(tr, &y, h, &ks, |i| tableau.b(i));
            }
        }
    }
    Ok(y)
}

/// `y + h (sum_j c(j) k_j)`, zero coefficients skipped (the runtime's order).
fn combine<T: Tape<f32, Cpu>>(
    tr: &mut Tr<T>,
    y: &Aug,
    h: f32,
    ks: &[Aug],
    c: impl Fn(usize) -> f32,
) -> Aug {
    let mut acc: Option<Aug> = None;
    for (j, k) in ks.iter().enumerate() {
        let cj = c(j);
        if cj != 0.0 {
            acc = Some(match acc {
                None => k.scale(tr, cj),
                Some(a) => a.axpy(tr, cj, k),
            });
        }
    }
    match acc {
        None => y.clone(),
        Some(a) => y.axpy(tr, h, &a),
    }
}

/// Per-point negative log-likelihood `(B, 1)` from the flow's end state.
fn nll_rows<T: Tape<f32, Cpu>>(tr: &mut Tr<T>, end: &Aug) -> M {
    let (b, d) = *end.z.shape();
    let dev = end.z.device().clone();
    let sq = tr.square(&end.z);
    let half = tr.mm(&sq, &dev.ones_like(&(d, 1)));
    let half = tr.scale(&half, 0.5);
    let minus_a = tr.scale(&end.a, -1.0);
    let rows = tr.add(&half, &minus_a);
    tr.add(
        &rows,
        &dev.tensor_from_vec(vec![d as f32 * HALF_LOG_TAU; b], (b, 1)),
    )
}

/// Mean negative log-likelihood (nats per point) of the rows of `x` and its
/// gradient with respect to every parameter of `net`.
pub fn nll_and_grads(net: &Net, cfg: &SolverCfg, x: &M) -> Result<(f32, Vec<Vec<f32>>), AppError> {
    let mut tr = Tr::new(OwnedTape::<f32, Cpu>::default());
    let end = integrate(&mut tr, net, cfg, x)?;
    let rows = nll_rows(&mut tr, &end);
    let b = x.shape().0.max(1) as f32;
    let loss = tr.attach(rows).sum() / b;
    let value = loss.array();
    let mut grads = loss.backward();
    Ok((
        value,
        net.params().iter().map(|p| p.grad(&mut grads)).collect(),
    ))
}

/// `log p(x)` of every point of `points` (row-major, `dim` per point), in
/// chunks of 512 points without a tape.
pub fn log_density(
    net: &Net,
    cfg: &SolverCfg,
    points: &[f32],
    dim: usize,
) -> Result<Vec<f32>, AppError> {
    let dev: Cpu = Default::default();
    let mut out = Vec::with_capacity(points.len() / dim.max(1));
    for chunk in points.chunks(512 * dim.max(1)) {
        let x = dev.tensor_from_vec(chunk.to_vec(), (chunk.len() / dim.max(1), dim));
        let mut tr = Tr::new(NoneTape);
        let end = integrate(&mut tr, net, cfg, &x)?;
        out.extend(nll_rows(&mut tr, &end).as_vec().iter().map(|v| -v));
    }
    Ok(out)
}

/// Mean negative log-likelihood, nats per point (NaN if the flow diverges).
pub fn mean_nll(net: &Net, cfg: &SolverCfg, points: &[f32], dim: usize) -> Result<f64, AppError> {
    let lp = log_density(net, cfg, points, dim)?;
    Ok(-lp.iter().map(|&v| v as f64).sum::<f64>() / lp.len().max(1) as f64)
}

/// A trained flow.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The best-validation parameters.
    pub net: Net,
    /// Validation NLL after each epoch (NaN once diverged).
    pub val_nll: Vec<f64>,
    /// Wall-clock seconds of training (validation included).
    pub seconds: f64,
}

/// One optimiser step on the batch of rows `idx` of `train`.
pub fn step(
    net: &mut Net,
    adam: &mut Adam,
    cfg: &DensityCfg,
    train: &[f32],
    dim: usize,
    idx: &[usize],
    dev: &Cpu,
) -> Result<f32, AppError> {
    let rows: Vec<f32> = idx
        .iter()
        .flat_map(|&i| train[i * dim..(i + 1) * dim].iter().copied())
        .collect();
    let x = dev.tensor_from_vec(rows, (idx.len(), dim));
    let (loss, g) = nll_and_grads(net, &cfg.solver, &x)?;
    if loss.is_finite() {
        adam.step(net, g, cfg.clip);
    }
    Ok(loss)
}

/// Trains a flow on `p.train` by maximum likelihood, validating on `p.val`
/// after every epoch and keeping the best epoch's parameters; stops early
/// only when a batch's loss is not finite (the rest of the curve is NaN).
pub fn train(p: &Points, cfg: &DensityCfg) -> Result<Trained, AppError> {
    let dev: Cpu = Default::default();
    let start = std::time::Instant::now();
    let mut net = flow_net(&dev, p.dim, &cfg.hidden, cfg.seed);
    let mut adam = Adam::new(&net, cfg.lr);
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0x5eed_f10e);
    let mut order: Vec<usize> = (0..p.count(&p.train)).collect();
    let (mut best, mut best_val) = (net.clone(), f64::INFINITY);
    let mut val_nll = Vec::with_capacity(cfg.epochs);
    for _ in 0..cfg.epochs {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.gen_range(0..=i));
        }
        let mut finite = true;
        for idx in order.chunks(cfg.batch.max(1)) {
            finite &= step(&mut net, &mut adam, cfg, &p.train, p.dim, idx, &dev)?.is_finite();
            if !finite {
                break;
            }
        }
        let val = if finite {
            mean_nll(&net, &cfg.solver, &p.val, p.dim)?
        } else {
            f64::NAN
        };
        val_nll.push(val);
        if !val.is_finite() {
            break;
        }
        if val < best_val {
            (best, best_val) = (net.clone(), val);
        }
    }
    val_nll.resize(cfg.epochs, f64::NAN);
    Ok(Trained {
        net: best,
        val_nll,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{points, PointSet};

    /// The augmented state's trace is the Jacobian's, by central finite
    /// differences of the field itself.
    #[test]
    fn forward_mode_trace_is_the_jacobians() {
        let dev: Cpu = Default::default();
        for (dim, hidden) in [(2, vec![16, 16]), (6, vec![12, 9]), (3, vec![7])] {
            let mut net = flow_net(&dev, dim, &hidden, 7);
            // Larger last layer than the gentle initial one, so the trace is not tiny.
            for l in &mut net.fields[0].rest {
                let w: Vec<f32> = l.wt.as_vec().iter().map(|v| v * 10.0).collect();
                l.wt.copy_from(&w);
            }
            let f = &net.fields[0];
            let b = 4;
            let xs: Vec<f32> = (0..b * dim).map(|k| (k as f32 * 0.77).sin()).collect();
            let field = |x: &[f32], t: f32| -> (Vec<f32>, Vec<f32>) {
                let mut tr = Tr::new(NoneTape);
                let r = Ready::new(&mut tr, f, b, &dev);
                let x = dev.tensor_from_vec(x.to_vec(), (b, dim));
                let out = eval(&mut tr, f, &r, &x, t);
                (out.z.as_vec(), out.a.as_vec())
            };
            let t = 0.3;
            let (_, trace) = field(&xs, t);
            for row in 0..b {
                let mut fd = 0.0f64;
                for i in 0..dim {
                    let eps = 1e-2f32;
                    let mut p = xs.clone();
                    p[row * dim + i] += eps;
                    let mut m = xs.clone();
                    m[row * dim + i] -= eps;
                    let (fp, fm) = (field(&p, t).0, field(&m, t).0);
                    fd += ((fp[row * dim + i] - fm[row * dim + i]) / (2.0 * eps)) as f64;
                }
                let got = trace[row] as f64;
                assert!(
                    (fd - got).abs() < 2e-3 * fd.abs().max(1.0),
                    "dim {dim} row {row}: trace {got}, finite differences {fd}"
                );
                assert!(
                    got.abs() > 1e-2,
                    "dim {dim} row {row}: trace {got} too small to test"
                );
            }
        }
    }

    fn tiny_cfg(kind: SolverChoice) -> DensityCfg {
        DensityCfg {
            solver: flow_solver(kind, 4),
            hidden: vec![8, 8],
            epochs: 1,
            batch: 16,
            lr: 1e-2,
            clip: 1.0,
            seed: 1,
        }
    }

    /// The gradient of the NLL (trace term included) matches central
    /// finite differences, for NAG and RK4.
    #[test]
    fn nll_gradient_matches_finite_differences() {
        let dev: Cpu = Default::default();
        let p = points(PointSet::Moons, 0).expect("moons");
        let x = dev.tensor_from_vec(p.train[..12 * 2].to_vec(), (12, 2));
        for kind in [SolverChoice::Nag, SolverChoice::Rk4] {
            let cfg = tiny_cfg(kind);
            let mut net = flow_net(&dev, 2, &cfg.hidden, 3);
            for l in &mut net.fields[0].rest {
                let w: Vec<f32> = l.wt.as_vec().iter().map(|v| v * 8.0).collect();
                l.wt.copy_from(&w);
            }
            let (_, grads) = nll_and_grads(&net, &cfg.solver, &x).expect("grads");
            let (mut checked, mut worst) = (0, 0f64);
            for (k, g) in grads.iter().enumerate() {
                for i in (0..g.len()).step_by(3) {
                    let fd = net.central_difference(k, i, 1e-2, |n| {
                        mean_nll(n, &cfg.solver, &x.as_vec(), 2).expect("nll")
                    });
                    let err = (fd - g[i] as f64).abs() / (fd.abs().max(g[i].abs() as f64) + 1e-2);
                    worst = worst.max(err);
                    assert!(
                        err < 3e-2,
                        "{kind:?} param {k}[{i}]: fd {fd}, backward {}",
                        g[i]
                    );
                    checked += 1;
                }
            }
            assert!(checked > 40, "{checked}");
            eprintln!("{kind:?}: {checked} partial derivatives, worst relative error {worst:.2e}");
        }
    }

    /// A few epochs on the two moons lower the validation NLL well below
    /// the untrained flow's, for every solver.
    #[test]
    fn training_lowers_the_nll() {
        let p = points(PointSet::Moons, 0).expect("moons");
        for kind in [
            SolverChoice::Nag,
            SolverChoice::Euler,
            SolverChoice::Midpoint,
        ] {
            let cfg = DensityCfg {
                epochs: 6,
                batch: 128,
                hidden: vec![16, 16],
                ..tiny_cfg(kind)
            };
            let dev: Cpu = Default::default();
            let before = mean_nll(
                &flow_net(&dev, 2, &cfg.hidden, cfg.seed),
                &cfg.solver,
                &p.val,
                2,
            )
            .expect("nll");
            let t = train(&p, &cfg).expect("train");
            let after = t.val_nll.iter().copied().fold(f64::INFINITY, f64::min);
            eprintln!("{kind:?}: validation NLL {before:.3} -> {after:.3}");
            assert!(after < before - 0.2, "{kind:?}: {before} -> {after}");
        }
    }
}
