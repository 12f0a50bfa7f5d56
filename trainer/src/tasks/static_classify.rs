//! Static inputs through an ODE block (the seed paper's supervised
//! classification, the ODE-Net setting): `h(0) = tanh(W_e x + b_e)`, the
//! field `f([h, t])` integrated over `[0, 1]` in `steps` steps of the
//! chosen solver, `logits = W_d h(1) + b_d`; cross-entropy, Adam.
//!
//! The forward pass unrolls the runtime's recurrences
//! ([`nagode::classify`]): the same tableaux and NAG rule from
//! `nagode::solver`, step `j` at `t = j H`, NAG's look-ahead evaluated at
//! `t`, the Runge–Kutta stages at `t + c_i H`. The features are
//! standardised with the training rows' statistics; the export folds that
//! scaling into the encoder, so the file takes raw features. The ResNet
//! baseline has `steps` blocks of the field's shape with their own
//! weights, `h += f_k(h)`, and no file.
//!
//! Every number a report shows for a solver with a file (test accuracy,
//! the depth dial) is the runtime's, on the exported bytes.

use crate::data::features::{FeatureSplit, Features};
use crate::engine::forward::{combine, Tr};
use crate::engine::solver::{Coef, SolverCfg, SolverChoice};
use crate::engine::tensor::M;
use dfdx::prelude::*;
use nagode::format::{
    encode_with_kind_to_vec, Activation, Clock, Header, Layer, ModelKind, Names, Task,
};
use nagode::solver::{nag_h, tableau};
use nagode::{Classifier, StaticModel};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// Widest model the host classifier runs (features, layers).
const HOST_WIDTH: usize = 256;

/// The model and its training, with the defaults `train --data digits` uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StaticCfg {
    /// The solver (or the ResNet).
    pub solver: SolverChoice,
    /// State width (the encoder's output and the field's).
    pub state: usize,
    /// The field's hidden width.
    pub hidden: usize,
    /// Steps over `[0, 1]` (ResNet: blocks).
    pub steps: usize,
    /// NAG momentum.
    pub mu: f32,
    /// Adam's learning rate.
    pub lr: f32,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per Adam step.
    pub batch: usize,
    /// Initial weights and batch order.
    pub seed: u64,
}

impl Default for StaticCfg {
    fn default() -> Self {
        StaticCfg {
            solver: SolverChoice::Nag,
            state: 64,
            hidden: 32,
            steps: 4,
            mu: 0.5,
            lr: 0.01,
            epochs: 30,
            batch: 32,
            seed: 0,
        }
    }
}

impl StaticCfg {
    /// The runtime's solver spec (`None` for the ResNet).
    pub fn solver_cfg(&self) -> SolverCfg {
        SolverCfg {
            kind: self.solver,
            mu: self.mu,
            consistency: true,
            startup_euler: false,
            max_step: 1.0 / self.steps as f32,
            time_unit: 1.0,
        }
    }
}

/// Parameters, every one a matrix (biases `(1, n)`), in export order:
/// encoder `W (F, S)`, `b`; per field block `W_y (S, H)`, `W_t (1, H)`,
/// `b_1`, `W_2 (H, S)`, `b_2`; decoder `W (S, C)`, `b`.
#[derive(Clone, Debug)]
pub struct StaticNet {
    /// The tensors, in the order above.
    pub p: Vec<M>,
    /// Field blocks (1, or `steps` for the ResNet).
    pub blocks: usize,
}

/// Glorot-uniform `(rows, cols)` scaled by `gain`.
fn glorot(dev: &Cpu, rng: &mut StdRng, rows: usize, cols: usize, gain: f32) -> M {
    let limit = gain * (6.0 / (rows + cols) as f32).sqrt();
    let w = (0..rows * cols)
        .map(|_| rng.gen_range(-limit..limit))
        .collect();
    dev.tensor_from_vec(w, (rows, cols))
}

impl StaticNet {
    /// Fresh weights for `features -> classes` (zero biases; the field's
    /// last layer small, so the first dynamics are gentle).
    pub fn new(cfg: &StaticCfg, features: usize, classes: usize, dev: &Cpu) -> Self {
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let (s, h) = (cfg.state, cfg.hidden);
        let zeros = |n: usize| dev.zeros_like(&(1, n));
        let mut p = vec![glorot(dev, &mut rng, features, s, 1.0), zeros(s)];
        let blocks = if cfg.solver == SolverChoice::Resnet {
            cfg.steps
        } else {
            1
        };
        for _ in 0..blocks {
            p.push(glorot(dev, &mut rng, s, h, 1.0));
            p.push(glorot(dev, &mut rng, 1, h, 1.0));
            p.push(zeros(h));
            p.push(glorot(dev, &mut rng, h, s, 0.1));
            p.push(zeros(s));
        }
        p.push(glorot(dev, &mut rng, s, classes, 1.0));
        p.push(zeros(classes));
        StaticNet { p, blocks }
    }

    /// The decoder's two tensors.
    fn decoder(&self) -> (&M, &M) {
        let n = self.p.len();
        (&self.p[n - 2], &self.p[n - 1])
    }
}

/// `x W + b` (then the activation), the bias through a column of ones.
fn affine<T: Tape<f32, Cpu>>(tr: &mut Tr<T>, x: &M, w: &M, b: &M, ones: &M, act: Activation) -> M {
    let xw = tr.mm(x, w);
    let bias = tr.mm(ones, b);
    let s = tr.add(&xw, &bias);
    tr.act(s, act)
}

/// The field block `k` at time `t` on the state `y` `(B, S)`.
fn field<T: Tape<f32, Cpu>>(
    tr: &mut Tr<T>,
    net: &StaticNet,
    k: usize,
    t: f32,
    y: &M,
    ones: &M,
) -> M {
    let q = &net.p[2 + 5 * k..7 + 5 * k];
    let time = ones.clone() * t;
    let yw = tr.mm(y, &q[0]);
    let tw = tr.mm(&time, &q[1]);
    let b = tr.mm(ones, &q[2]);
    let s = tr.add(&yw, &tw);
    let s = tr.add(&s, &b);
    let h = tr.act(s, Activation::Tanh);
    affine(tr, &h, &q[3], &q[4], ones, Activation::Identity)
}

/// The state after `[0, 1]` from `y0` with the configured solver.
fn integrate<T: Tape<f32, Cpu>>(
    tr: &mut Tr<T>,
    net: &StaticNet,
    cfg: &StaticCfg,
    y0: M,
    ones: &M,
) -> M {
    let big_h = 1.0 / cfg.steps as f32;
    let mut y = y0;
    let mut v: Option<M> = None;
    for j in 0..cfg.steps {
        let t = j as f32 * big_h;
        let rk = cfg.solver.kind().and_then(tableau);
        match (cfg.solver, rk) {
            (_, Some(tab)) => {
                let c = &tab.f32;
                let mut ks: Vec<M> = Vec::with_capacity(tab.stages);
                for i in 0..tab.stages {
                    let arg = combine(tr, &y, &Coef::Scalar(big_h), &c.a[i][..i], &ks, false);
                    ks.push(field(tr, net, 0, t + c.c[i] * big_h, &arg, ones));
                }
                y = combine(tr, &y, &Coef::Scalar(big_h), &c.b[..tab.stages], &ks, false);
            }
            (SolverChoice::Resnet, None) => {
                let f = field(tr, net, j, 0.0, &y, ones);
                y = tr.add(&y, &f);
            }
            (_, None) => {
                let h = nag_h(cfg.mu, true, big_h);
                let (z, kept) = match &v {
                    None => (y.clone(), None),
                    Some(v) => {
                        let mv = tr.scale(v, cfg.mu);
                        (tr.add(&y, &mv), Some(mv))
                    }
                };
                let f = field(tr, net, 0, t, &z, ones);
                let hf = tr.scale(&f, h);
                let vel = match kept {
                    None => hf,
                    Some(mv) => tr.add(&mv, &hf),
                };
                y = tr.add(&y, &vel);
                v = Some(vel);
            }
        }
    }
    y
}

/// Logits `(B, C)` for standardised rows `x` `(B, F)`.
pub fn forward<T: Tape<f32, Cpu>>(tr: &mut Tr<T>, net: &StaticNet, cfg: &StaticCfg, x: &M) -> M {
    let ones = x.device().ones_like(&(x.shape().0, 1));
    let y0 = affine(tr, x, &net.p[0], &net.p[1], &ones, Activation::Tanh);
    let y1 = integrate(tr, net, cfg, y0, &ones);
    let (w, b) = net.decoder();
    affine(tr, &y1, w, b, &ones, Activation::Identity)
}

/// Per-feature mean and standard deviation of the training rows, the
/// deviation floored (see [`Scaling::of`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    /// Means.
    pub mean: Vec<f32>,
    /// Standard deviations.
    pub std: Vec<f32>,
}

impl Scaling {
    /// The statistics of `rows` of `f`.
    pub fn of(f: &Features, rows: &[usize]) -> Scaling {
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0.0f64; f.width()];
        let mut sq = vec![0.0f64; f.width()];
        for &r in rows {
            for (i, v) in f.row(r).iter().enumerate() {
                mean[i] += f64::from(*v) / n;
            }
        }
        for &r in rows {
            for (i, v) in f.row(r).iter().enumerate() {
                sq[i] += (f64::from(*v) - mean[i]).powi(2) / n;
            }
        }
        // A nearly constant feature (a corner pixel that is rarely on)
        // would be blown up by its own tiny deviation: every deviation is
        // at least half the features' mean one (1 if all are constant).
        let sds: Vec<f64> = sq.iter().map(|s| s.sqrt()).collect();
        let floor = 0.5 * sds.iter().sum::<f64>() / sds.len().max(1) as f64;
        let floor = if floor > 0.0 { floor } else { 1.0 };
        let std = sds.iter().map(|s| s.max(floor) as f32).collect();
        Scaling {
            mean: mean.iter().map(|m| *m as f32).collect(),
            std,
        }
    }

    /// `rows` of `f` standardised, as a `(rows, F)` tensor.
    fn tensor(&self, f: &Features, rows: &[usize], dev: &Cpu) -> M {
        let x = rows
            .iter()
            .flat_map(|&r| {
                f.row(r)
                    .iter()
                    .zip(self.mean.iter().zip(&self.std))
                    .map(|(v, (m, s))| (v - m) / s)
            })
            .collect();
        dev.tensor_from_vec(x, (rows.len(), f.width()))
    }
}

/// One-hot targets `(rows, C)`.
fn one_hot(f: &Features, rows: &[usize], dev: &Cpu) -> M {
    let c = f.classes.len();
    let mut t = vec![0.0; rows.len() * c];
    for (i, &r) in rows.iter().enumerate() {
        t[i * c + f.y[r]] = 1.0;
    }
    dev.tensor_from_vec(t, (rows.len(), c))
}

/// A trained model and what its training took.
#[derive(Clone, Debug)]
pub struct StaticTrained {
    /// The kept weights (best validation accuracy, then loss).
    pub net: StaticNet,
    /// The training rows' scaling.
    pub scaling: Scaling,
    /// Mean training loss of each epoch.
    pub losses: Vec<f32>,
    /// Validation accuracy of the kept epoch.
    pub validation: f32,
    /// Wall seconds at the end of each epoch.
    pub seconds: Vec<f64>,
    /// Field evaluations per row at the end of each epoch (forward only).
    pub evals: Vec<u64>,
}

/// Adam's state over a parameter list.
struct Adam {
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
}

impl Adam {
    fn new(net: &StaticNet) -> Self {
        let zeros: Vec<Vec<f32>> = net.p.iter().map(|p| vec![0.0; p.as_vec().len()]).collect();
        Adam {
            m: zeros.clone(),
            v: zeros,
            t: 0,
        }
    }

    /// One step with gradients clipped to global norm 5.
    fn step(&mut self, net: &mut StaticNet, mut g: Vec<Vec<f32>>, lr: f32) {
        let norm = g.iter().flatten().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 5.0 {
            g.iter_mut().flatten().for_each(|x| *x *= 5.0 / norm);
        }
        self.t += 1;
        let (b1, b2) = (0.9f32, 0.999f32);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for (k, p) in net.p.iter_mut().enumerate() {
            let mut w = p.as_vec();
            for (i, w) in w.iter_mut().enumerate() {
                let gi = g[k][i];
                self.m[k][i] = b1 * self.m[k][i] + (1.0 - b1) * gi;
                self.v[k][i] = b2 * self.v[k][i] + (1.0 - b2) * gi * gi;
                *w -= lr * (self.m[k][i] / c1) / ((self.v[k][i] / c2).sqrt() + 1e-8);
            }
            p.copy_from(&w);
        }
    }
}

/// Loss and gradients of one batch.
fn loss_and_grads(net: &StaticNet, cfg: &StaticCfg, x: &M, target: &M) -> (f32, Vec<Vec<f32>>) {
    let mut tr = Tr::new(OwnedTape::<f32, Cpu>::default());
    let logits = forward(&mut tr, net, cfg, x);
    let l = cross_entropy_with_logits_loss(tr.attach(logits), target.clone());
    let value = l.array();
    let mut grads = l.backward();
    let g = net
        .p
        .iter()
        .map(|p| {
            grads
                .get_or_alloc_mut(p)
                .map(|g| g.to_vec())
                .unwrap_or_else(|_| vec![0.0; p.as_vec().len()])
        })
        .collect();
    (value, g)
}

/// Accuracy and mean loss of the trainer's forward pass on `rows`.
pub fn score(
    net: &StaticNet,
    cfg: &StaticCfg,
    f: &Features,
    sc: &Scaling,
    rows: &[usize],
) -> (f32, f32) {
    let dev = Cpu::default();
    let x = sc.tensor(f, rows, &dev);
    let mut tr = Tr::new(NoneTape);
    let logits = forward(&mut tr, net, cfg, &x);
    let loss = cross_entropy_with_logits_loss(logits.clone(), one_hot(f, rows, &dev)).array();
    let c = f.classes.len();
    let out = logits.as_vec();
    let right = rows
        .iter()
        .enumerate()
        .filter(|(i, &r)| nagode::classify::argmax(&out[i * c..(i + 1) * c]) == f.y[r])
        .count();
    (right as f32 / rows.len().max(1) as f32, loss)
}

/// Trains per `cfg` on the split's training rows; keeps the epoch with the
/// best validation accuracy (then loss). `None` when the loss diverged.
pub fn train(cfg: &StaticCfg, f: &Features, split: &FeatureSplit) -> Option<StaticTrained> {
    let dev = Cpu::default();
    let scaling = Scaling::of(f, &split.train);
    let mut net = StaticNet::new(cfg, f.width(), f.classes.len(), &dev);
    let mut adam = Adam::new(&net);
    let mut rng = StdRng::seed_from_u64(cfg.seed.wrapping_add(1));
    let mut order = split.train.clone();
    let evals_per_row = (cfg.steps * cfg.solver.evals_per_step()) as u64;
    let start = Instant::now();
    let mut best: Option<(StaticNet, (f32, f32))> = None;
    let (mut losses, mut seconds, mut evals) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..cfg.epochs {
        order.shuffle(&mut rng);
        let mut sum = 0.0;
        for rows in order.chunks(cfg.batch) {
            let x = scaling.tensor(f, rows, &dev);
            let (l, g) = loss_and_grads(&net, cfg, &x, &one_hot(f, rows, &dev));
            if !l.is_finite() || g.iter().flatten().any(|v| !v.is_finite()) {
                return None;
            }
            sum += l * rows.len() as f32;
            adam.step(&mut net, g, cfg.lr);
        }
        losses.push(sum / order.len() as f32);
        seconds.push(start.elapsed().as_secs_f64());
        evals.push(evals.last().copied().unwrap_or(0) + evals_per_row * order.len() as u64);
        let (acc, loss) = score(&net, cfg, f, &scaling, &split.validation);
        let better = best
            .as_ref()
            .is_none_or(|(_, (a, l))| acc > *a || (acc == *a && loss < *l));
        if better {
            best = Some((net.clone(), (acc, loss)));
        }
    }
    let (net, (validation, _)) = best?;
    Some(StaticTrained {
        net,
        scaling,
        losses,
        validation,
        seconds,
        evals,
    })
}

/// `W (in, out)` as the file's rows `[out][in]`, then the bias.
fn layer_rows(w: &M, b: &M) -> Vec<f32> {
    let (inputs, outputs) = *w.shape();
    let (w, b) = (w.as_vec(), b.as_vec());
    let mut out = Vec::with_capacity(outputs * (inputs + 1));
    for o in 0..outputs {
        out.extend((0..inputs).map(|i| w[i * outputs + o]));
    }
    out.extend(b);
    out
}

/// The encoder's rows with the scaling folded in: `W / std` and
/// `b - W (mean / std)`, so the file takes raw features.
fn folded_encoder(w: &M, b: &M, sc: &Scaling) -> Vec<f32> {
    let (inputs, outputs) = *w.shape();
    let (w, b) = (w.as_vec(), b.as_vec());
    let mut rows = Vec::with_capacity(outputs * (inputs + 1));
    let mut bias = Vec::with_capacity(outputs);
    for o in 0..outputs {
        let mut shift = f64::from(b[o]);
        for i in 0..inputs {
            let wi = f64::from(w[i * outputs + o]) / f64::from(sc.std[i]);
            rows.push(wi as f32);
            shift -= wi * f64::from(sc.mean[i]);
        }
        bias.push(shift as f32);
    }
    rows.extend(bias);
    rows
}

/// The model file (format 6) of a trained ODE model; `None` for the
/// ResNet, which has no file.
pub fn export(
    t: &StaticTrained,
    cfg: &StaticCfg,
    f: &Features,
) -> Option<Result<Vec<u8>, nagode::EncodeError>> {
    let spec = cfg.solver_cfg().spec()?;
    let (s, h, c, n) = (cfg.state, cfg.hidden, f.classes.len(), f.width());
    let layer = |inputs: usize, outputs: usize, activation| Layer {
        inputs: inputs as u16,
        outputs: outputs as u16,
        activation,
    };
    let p = &t.net.p;
    let mut first = Vec::with_capacity(h * (s + 2));
    let (wy, wt, b1) = (p[2].as_vec(), p[3].as_vec(), p[4].as_vec());
    for o in 0..h {
        first.extend((0..s).map(|i| wy[i * h + o]));
        first.push(wt[o]);
    }
    first.extend(b1);
    let weights = [
        folded_encoder(&p[0], &p[1], &t.scaling),
        first,
        layer_rows(&p[5], &p[6]),
        layer_rows(&p[7], &p[8]),
    ]
    .concat();
    let header = Header {
        task: Task::Classify { classes: c as u16 },
        channels: n as u16,
        window: 1,
        sample_dt: 1.0,
        mean: Default::default(),
        std: Default::default(),
        state_dim: s as u16,
        encoder: [layer(n, s, Activation::Tanh)].into_iter().collect(),
        field: [
            layer(s + 1, h, Activation::Tanh),
            layer(h, s, Activation::Identity),
        ]
        .into_iter()
        .collect(),
        decoder: [layer(s, c, Activation::Identity)].into_iter().collect(),
        solver: spec,
        state_bound: crate::engine::train::STATE_BOUND,
        time_unit: 1.0,
        clock: Clock::Index,
        reference: nagode::normalise::Reference::Global,
    };
    let channels: Vec<&str> = f.names.iter().map(String::as_str).collect();
    let classes: Vec<&str> = f.classes.iter().map(String::as_str).collect();
    let names = Names {
        channels: &channels,
        classes: &classes,
    };
    Some(encode_with_kind_to_vec(
        &header,
        ModelKind::Static,
        &weights,
        &names,
    ))
}

/// Why the runtime could not classify.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The file does not load as a static-input classifier.
    #[error("the model file does not load: {0}")]
    Load(#[from] nagode::LoadError),
    /// A row the runtime refused.
    #[error("row {row}: {error}")]
    Run {
        /// The row.
        row: usize,
        /// The runtime's error.
        error: nagode::RunError,
    },
    /// The file's feature count is not the data's.
    #[error("the model takes {model} features, the data has {data}")]
    Width {
        /// The model's.
        model: usize,
        /// The data's.
        data: usize,
    },
    /// A data class the model does not know.
    #[error("class `{0}` is not one of the model's classes")]
    UnknownClass(String),
}

/// The runtime's accuracy on `rows` of `f` from the file `bytes`, with
/// `steps` steps (`None`: the file's).
pub fn runtime_accuracy(
    bytes: &[u8],
    f: &Features,
    rows: &[usize],
    steps: Option<u32>,
) -> Result<f32, HostError> {
    let model = StaticModel::from_bytes(bytes)?;
    let mut cl = Classifier::<HOST_WIDTH, HOST_WIDTH>::new(&model)?;
    if cl.net().channels != f.width() {
        return Err(HostError::Width {
            model: cl.net().channels,
            data: f.width(),
        });
    }
    let names: Vec<&str> = model.model().class_names().collect();
    let index: Vec<usize> = f
        .classes
        .iter()
        .map(|c| {
            names
                .iter()
                .position(|n| n == c)
                .ok_or_else(|| HostError::UnknownClass(c.clone()))
        })
        .collect::<Result<_, _>>()?;
    let mut logits = [0.0f32; HOST_WIDTH];
    let mut right = 0usize;
    for &r in rows {
        let got = match steps {
            None => cl.classify(f.row(r), &mut logits),
            Some(m) => cl.classify_steps(f.row(r), m, &mut logits),
        }
        .map_err(|error| HostError::Run { row: r, error })?;
        right += usize::from(got == index[f.y[r]]);
    }
    Ok(right as f32 / rows.len().max(1) as f32)
}

/// What `train` on static data reports.
#[derive(Clone, Debug)]
pub struct StaticReport {
    /// The trained model.
    pub trained: StaticTrained,
    /// Test accuracy: the runtime's on the file, the ResNet's own forward.
    pub test: f32,
    /// The file (none for the ResNet).
    pub file: Option<Vec<u8>>,
    /// The depth dial: `(steps, runtime test accuracy)`.
    pub dial: Vec<(u32, f32)>,
}

/// Trains, exports and scores one model; the dial runs the file with
/// 1 ..= `steps` steps and twice the file's.
pub fn train_and_score(
    cfg: &StaticCfg,
    f: &Features,
    split: &FeatureSplit,
) -> Result<StaticReport, String> {
    let trained = train(cfg, f, split).ok_or("the training loss diverged")?;
    let file = export(&trained, cfg, f)
        .transpose()
        .map_err(|e| format!("export: {e}"))?;
    let (test, dial) = match &file {
        None => (
            score(&trained.net, cfg, f, &trained.scaling, &split.test).0,
            Vec::new(),
        ),
        Some(bytes) => {
            let acc =
                |steps| runtime_accuracy(bytes, f, &split.test, steps).map_err(|e| e.to_string());
            let n = cfg.steps as u32;
            let dial = (1..=n)
                .chain([2 * n])
                .map(|m| acc(Some(m)).map(|a| (m, a)))
                .collect::<Result<_, _>>()?;
            (acc(None)?, dial)
        }
    };
    Ok(StaticReport {
        trained,
        test,
        file,
        dial,
    })
}

/// Multiply-adds of one classification with `steps` steps: the encoder,
/// each field evaluation (`[h, t]` through both layers), the decoder.
pub fn macs(cfg: &StaticCfg, features: usize, classes: usize, steps: usize) -> u64 {
    let (s, h) = (cfg.state, cfg.hidden);
    let field = (s + 1) * h + h * s;
    let evals = steps * cfg.solver.evals_per_step();
    (features * s + evals * field + s * classes) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::features::{digits, split};

    /// The runtime on the exported file computes the trainer's logits
    /// (up to the folded scaling's rounding) for every solver: the trainer
    /// unrolls the runtime's recurrences.
    #[test]
    fn the_file_computes_the_trainers_logits_for_every_solver() {
        let f = digits();
        let s = split("digits", &f).unwrap();
        let rows = &s.test[..40];
        for solver in [
            SolverChoice::Nag,
            SolverChoice::Euler,
            SolverChoice::Midpoint,
            SolverChoice::Rk4,
        ] {
            let cfg = StaticCfg {
                solver,
                state: 8,
                hidden: 8,
                steps: 3,
                epochs: 2,
                ..StaticCfg::default()
            };
            let t = train(&cfg, &f, &s).unwrap();
            let bytes = export(&t, &cfg, &f).unwrap().unwrap();
            let dev = Cpu::default();
            let x = t.scaling.tensor(&f, rows, &dev);
            let want = forward(&mut Tr::new(NoneTape), &t.net, &cfg, &x).as_vec();
            let model = StaticModel::from_bytes(&bytes).unwrap();
            let mut cl = Classifier::<64, 8>::new(&model).unwrap();
            assert_eq!(cl.steps(), 3);
            let mut got = [0.0f32; 10];
            for (i, &r) in rows.iter().enumerate() {
                cl.classify(f.row(r), &mut got).unwrap();
                for (g, w) in got.iter().zip(&want[i * 10..(i + 1) * 10]) {
                    assert!((g - w).abs() < 2e-4, "{solver:?} row {r}: {g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn the_resnet_has_no_file_and_macs_count_the_dial() {
        let f = digits();
        let s = split("digits", &f).unwrap();
        let cfg = StaticCfg {
            solver: SolverChoice::Resnet,
            state: 8,
            hidden: 8,
            epochs: 1,
            ..StaticCfg::default()
        };
        let t = train(&cfg, &f, &s).unwrap();
        assert_eq!(t.net.blocks, 4);
        assert!(export(&t, &cfg, &f).is_none());
        let nag = StaticCfg::default();
        // 64*64 + steps * (65*32 + 32*64) + 64*10.
        assert_eq!(macs(&nag, 64, 10, 4), 4096 + 4 * 4128 + 640);
    }
}
