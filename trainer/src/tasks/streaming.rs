//! Streaming models (`train --streaming`): the ODE state is carried across
//! a stream, as the runtime's `nagode::stream::Stream` carries it, and a
//! prediction is the decoder's read-out after a sample.
//!
//! Forecasters: the stream is the whole series. Training is truncated
//! backpropagation through the unrolled solver: the training part of the
//! series is cut into `lanes` contiguous stretches run side by side (one
//! batch row each, from a zero state), each in chunks of `chunk` samples;
//! the detached state and NAG velocity after chunk `k` ([`Carry`]) start
//! chunk `k + 1`. The first `warmup` samples of a lane are not scored (the
//! state still remembers its zero start); every later sample is scored on
//! the next `horizon` samples. Each epoch shifts the lanes by a random
//! offset, so chunk boundaries move. Validation and test stream the series
//! from its first sample, as a device would, and score the samples whose
//! targets lie in the validation or the test part (the window model's
//! split). One series (wide layout, time split); the gaps are the data's
//! own.
//!
//! Classifiers: each series is one stream from a zero state (the device
//! resets at a series' start), so the whole series is unrolled with exact
//! gradients. After the warm-up, `Stream::predict` gives the logits of the
//! class of the series seen so far; training scores the cross-entropy of
//! every sample from the warm-up on (default warm-up: the series length,
//! so only its last sample), and the test metric is the accuracy at each
//! series' last sample (the window classifier's question), with the
//! accuracy over every ready sample beside it.

use crate::data::{time_cuts, Problem, TaskKind, Windows};
use crate::engine::forward::{forward_stream, Batch, Carry, FieldImpl, Streamed};
use crate::engine::params::Net;
use crate::engine::solver::{plan_after, SolverCfg, SolverChoice};
use crate::engine::tensor::M;
use crate::engine::train::{make_batch, Adam, TrainError, STATE_BOUND};
use crate::export;
use crate::export::host::HostError;
use crate::tasks::window::{self, check_parity, AppError, RunConfig};
use dfdx::prelude::*;
use nagode::format::ModelKind;
use nagode::normalise::{self, Reference};
use nagode::solver::{model_gap, substeps};
use nagode::stream::{Stream, StreamModel};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Streaming options of `train`.
#[derive(Clone, Debug, Default)]
pub struct StreamCfg {
    /// Samples per chunk of truncated backpropagation (forecasters).
    pub chunk: usize,
    /// Stretches of the training part run side by side (forecasters).
    pub lanes: usize,
    /// Unscored samples after a reset; `None`: the problem's window.
    pub warmup: Option<usize>,
    /// A window model to score at the same test samples.
    pub baseline: Option<PathBuf>,
    /// A window model of the same shape whose weights start training.
    pub init: Option<PathBuf>,
}

/// One series: raw samples `[n][c]`, the gap before each (user units; the
/// first is the time unit) and the time split.
struct Series {
    x: Vec<f32>,
    gaps: Vec<f32>,
    channels: usize,
    /// Training part `0..cuts.0`, validation `cuts.0..cuts.1`, test after.
    cuts: (usize, usize),
}

impl Series {
    fn len(&self) -> usize {
        self.gaps.len()
    }
}

/// The test metric of a streaming run.
#[derive(Clone, Copy, Debug)]
pub enum TestScore {
    /// Forecasts: the MSE (data units) over every sample whose targets are
    /// in the test part, and the same samples' naive (last value) MSE.
    Forecast {
        /// Test MSE.
        mse: f32,
        /// Naive MSE.
        naive: f32,
    },
    /// Classifiers: accuracy at each test series' last sample, over every
    /// sample after the warm-up, and the majority class's.
    Classify {
        /// Accuracy at the last sample.
        last: f32,
        /// Accuracy over every ready sample.
        anytime: f32,
        /// Majority-class accuracy.
        majority: f32,
    },
}

/// What a streaming run produced.
pub struct StreamSummary {
    /// The test metric.
    pub test: TestScore,
    /// The baseline window model's metric (MSE, or accuracy at the last
    /// sample) on the same test samples, and its evaluations of f per
    /// prediction.
    pub baseline: Option<(f32, u64)>,
    /// Test read-outs scored.
    pub scored: usize,
    /// Field evaluations per sample (regular gaps).
    pub evals_per_sample: u64,
    /// Best epoch, epochs run, training seconds.
    pub epochs: (usize, usize, f64),
    /// Parity of the runtime's stream against dfdx over the test samples.
    pub parity: Option<(f32, f32)>,
    /// Samples replayed through the runtime without divergence, and the
    /// largest |forecast| seen (forecasters).
    pub replay: Option<(usize, f32)>,
    /// The model file written.
    pub model_file: Option<PathBuf>,
}

fn usage(m: &str) -> AppError {
    AppError::Usage(m.into())
}

fn diverged(sample: usize) -> AppError {
    AppError::Train(TrainError::StateDiverged {
        sample,
        bound: STATE_BOUND,
    })
}

/// Trains a streaming forecaster or classifier per `cfg` and `s`, checks
/// parity and writes the model file (format 5).
pub fn run(cfg: &RunConfig, s: &StreamCfg) -> Result<StreamSummary, AppError> {
    if cfg.solver == SolverChoice::Resnet {
        return Err(usage("--streaming trains ODE models (not the ResNet)"));
    }
    if cfg.reference != Reference::Global {
        return Err(usage("--streaming needs --reference global"));
    }
    let dev: Cpu = Default::default();
    // A stream takes one sample at a time: no patches.
    let mut cfg = RunConfig {
        patch: Some(cfg.patch.unwrap_or(1)),
        ..cfg.clone()
    };
    let p = window::load_problem(&cfg)?;
    if cfg.lrs.is_empty() {
        // `train`'s rate for this window (without its trials).
        cfg.train.lr = crate::tasks::choose::lr_grid(p.window)[0];
    }
    let cfg = &cfg;
    let warmup = s.warmup.unwrap_or(p.window);
    let setup = window::setup(cfg, &p, &dev, cfg.train.seed);
    let mut net = setup.net;
    if let Some(path) = &s.init {
        init_from(&mut net, &p, path)?;
    }
    match p.task {
        TaskKind::Forecast => forecast(cfg, s, &p, &setup.solver, net, warmup, &dev),
        TaskKind::Classify => classify(cfg, s, &p, &setup.solver, net, warmup, &dev),
    }
}

/// A model file's bytes.
fn read(path: &Path) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|source| AppError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// Starts from a window model's weights: the architectures are the same,
/// only the state's history differs, so training fine-tunes a model that
/// already reads the data.
fn init_from(net: &mut Net, p: &Problem, path: &Path) -> Result<(), AppError> {
    let bytes = read(path)?;
    let model = nagode::Model::from_bytes(&bytes).map_err(HostError::from)?;
    let m = model.net();
    if m.mean != p.mean.as_slice() || m.std != p.std.as_slice() {
        return Err(usage(
            "--init: the model was normalised differently (other data or split)",
        ));
    }
    let d = net.arch.state_dim;
    // The trainer's layout: `wt[input][output]`, then the bias.
    let wt = |l: &nagode::build::Dense<'_>, cols: std::ops::Range<usize>| -> Vec<f32> {
        cols.flat_map(|i| (0..l.outputs).map(move |o| l.weight(o, i).unwrap_or(f32::NAN)))
            .collect()
    };
    let bias = |l: &nagode::build::Dense<'_>| -> Vec<f32> {
        (0..l.outputs)
            .map(|o| l.bias(o).unwrap_or(f32::NAN))
            .collect()
    };
    let mut values = Vec::new();
    for l in m.encoder {
        values.extend([wt(l, 0..l.inputs), bias(l)]);
    }
    if let [first, rest @ ..] = m.field {
        // The field's first layer reads `[y, e]`: the trainer splits it.
        values.extend([wt(first, 0..d), wt(first, d..first.inputs), bias(first)]);
        for l in rest {
            values.extend([wt(l, 0..l.inputs), bias(l)]);
        }
    }
    for l in m.decoder {
        values.extend([wt(l, 0..l.inputs), bias(l)]);
    }
    let sizes: Vec<usize> = net.params().iter().map(|q| q.len()).collect();
    let same = sizes == values.iter().map(Vec::len).collect::<Vec<_>>()
        && values.iter().flatten().all(|v| v.is_finite());
    if !same || m.state_dim != d {
        return Err(usage("--init: the model's layers differ from this run's"));
    }
    for (mut q, v) in net.params_mut().into_iter().zip(&values) {
        q.set(v);
    }
    Ok(())
}

/// A validation result: a key (lower is better, compared in order) and
/// its text for the progress line.
type Val = ((f32, f32), String);

/// The epoch loop both kinds share: `epoch` trains once and returns the
/// mean loss, `val` scores the model; the best-validation model is kept
/// (the starting weights included), the learning rate halves every third
/// of the patience without a better one.
fn fit(
    cfg: &RunConfig,
    mut net: Net,
    mut epoch: impl FnMut(&mut Net, &mut Adam, &mut StdRng) -> Result<f32, AppError>,
    val: impl Fn(&Net) -> Val,
) -> Result<(Net, (usize, usize, f64)), AppError> {
    let start = Instant::now();
    let mut adam = Adam::new(&net, cfg.train.lr);
    let mut rng = StdRng::seed_from_u64(cfg.train.seed);
    let (key, text) = val(&net);
    if cfg.verbose {
        println!("epoch    0  (start)  {text}");
    }
    let mut best = (key, net.clone(), 0usize);
    let mut epochs = 0;
    for e in 1..=cfg.train.epochs {
        epochs = e;
        let loss = epoch(&mut net, &mut adam, &mut rng)?;
        let (key, text) = val(&net);
        if cfg.verbose {
            println!("epoch {e:4}  train {loss:.5}  {text}");
        }
        if key < best.0 {
            best = (key, net.clone(), e);
        }
        let since = e - best.2;
        if since > 0 && since.is_multiple_of((cfg.train.patience / 3).max(2)) {
            adam.lr *= 0.5;
        }
        let over = cfg.train.time_budget.is_some_and(|b| start.elapsed() > b);
        if since >= cfg.train.patience || over || !loss.is_finite() {
            break;
        }
    }
    Ok((best.1, (best.2, epochs, start.elapsed().as_secs_f64())))
}

/// One optimiser step on a chunk's summed loss divided by `count`: the
/// loss (`None` when no sample was scored); a loss or gradient that is not
/// finite is returned without a step.
fn learn(
    net: &mut Net,
    adam: &mut Adam,
    out: Streamed<OwnedTape<f32, Cpu>>,
    count: usize,
    clip: f32,
) -> Option<f32> {
    let sum = out.sum_loss?;
    let mut tr = out.tr;
    let l = tr.attach(sum).sum() * (1.0 / count.max(1) as f32);
    let value = l.array();
    let mut grads = l.backward();
    let g: Vec<Vec<f32>> = net.params().iter().map(|q| q.grad(&mut grads)).collect();
    if !value.is_finite() || g.iter().flatten().any(|x| !x.is_finite()) {
        return Some(f32::NAN);
    }
    adam.step(net, g, clip);
    Some(value)
}

/// The index of the largest logit.
fn argmax(logits: &[f32]) -> usize {
    logits
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(c, _)| c)
}

/// The format-5 bytes of `net`.
fn export_stream(
    net: &Net,
    solver: &SolverCfg,
    p: &Problem,
    warmup: usize,
) -> Result<Vec<u8>, AppError> {
    let kind = ModelKind::Streaming {
        warmup: u32::try_from(warmup).unwrap_or(u32::MAX),
    };
    Ok(export::to_bytes_with_kind(net, solver, p, kind)?)
}

/// The streaming forecaster (see the module docs).
fn forecast(
    cfg: &RunConfig,
    s: &StreamCfg,
    p: &Problem,
    solver: &SolverCfg,
    net: Net,
    warmup: usize,
    dev: &Cpu,
) -> Result<StreamSummary, AppError> {
    let series = load_series(cfg)?;
    if s.chunk == 0 || s.lanes == 0 || series.cuts.0 < s.lanes * (warmup + s.chunk) {
        return Err(usage(
            "--streaming: the training part needs lanes * (warmup + chunk) samples",
        ));
    }
    let (val_from, val_to) = series.cuts;
    let (net, epochs) = fit(
        cfg,
        net,
        |net, adam, rng| {
            let offset = rng.gen_range(0..s.chunk);
            let lanes = Lanes {
                sc: s,
                warmup,
                offset,
                clip: cfg.train.clip,
            };
            train_epoch(net, adam, solver, p, &series, &lanes, dev)
        },
        |net| {
            let mse = stream_eval(net, solver, p, &series, val_from, val_to, dev)
                .map_or(f32::INFINITY, |(_, mse)| mse);
            ((mse, 0.0), format!("val MSE {mse:.6}"))
        },
    )?;
    let len = series.len();
    let (outputs, mse) =
        stream_eval(&net, solver, p, &series, series.cuts.1, len, dev).map_err(diverged)?;
    let bytes = export_stream(&net, solver, p, warmup)?;
    let model = StreamModel::from_bytes(&bytes).map_err(HostError::from)?;
    let runtime = runtime_stream(&model, &series, series.cuts.1)?;
    let mut summary = StreamSummary {
        test: TestScore::Forecast {
            mse,
            naive: naive(p, &series),
        },
        baseline: s
            .baseline
            .as_deref()
            .map(|path| window_baseline(path, p, &series))
            .transpose()?,
        scored: outputs.len() / p.outputs().max(1),
        evals_per_sample: evals_per_sample(solver, model.model()),
        epochs,
        parity: None,
        replay: None,
        model_file: None,
    };
    if let Some(out) = &cfg.out {
        summary.parity = Some(check_parity(&runtime, &outputs, summary.scored, out)?);
        summary.replay = Some(replay(&model, &series, 1_000_000)?);
        export::write_atomic(out, &bytes)?;
        summary.model_file = Some(out.clone());
    }
    Ok(summary)
}

/// The streaming classifier (see the module docs).
fn classify(
    cfg: &RunConfig,
    s: &StreamCfg,
    p: &Problem,
    solver: &SolverCfg,
    net: Net,
    warmup: usize,
    dev: &Cpu,
) -> Result<StreamSummary, AppError> {
    let (table, test) = window::load_tables(cfg)?;
    let whole = table
        .series
        .iter()
        .chain(test.iter().flat_map(|t| &t.series));
    if p.stride != p.window || whole.into_iter().any(|x| x.values.len() != p.window) {
        return Err(usage(
            "--streaming classifies series of one length, each one stream (no --window)",
        ));
    }
    if warmup == 0 || warmup > p.window {
        return Err(usage(
            "--streaming: a classifier's warm-up ends within its series (1 ..= length)",
        ));
    }
    let (net, epochs) = fit(
        cfg,
        net,
        |net, adam, rng| class_epoch(net, adam, solver, p, warmup, cfg, rng, dev),
        |net| match class_eval(net, solver, p, &p.val, warmup, dev) {
            Ok(e) => (
                (-e.last, e.loss),
                format!("val accuracy {:.4}  loss {:.5}", e.last, e.loss),
            ),
            Err(_) => ((f32::INFINITY, f32::INFINITY), "val diverged".into()),
        },
    )?;
    let e = class_eval(&net, solver, p, &p.test, warmup, dev)?;
    let bytes = export_stream(&net, solver, p, warmup)?;
    let model = StreamModel::from_bytes(&bytes).map_err(HostError::from)?;
    let runtime = runtime_classes(&model, p, &p.test)?;
    let mut summary = StreamSummary {
        test: TestScore::Classify {
            last: e.last,
            anytime: e.anytime,
            majority: crate::engine::train::naive(p, &p.test),
        },
        baseline: s
            .baseline
            .as_deref()
            .map(|path| window_classes(path, p))
            .transpose()?,
        scored: e.logits.len() / p.outputs().max(1),
        evals_per_sample: evals_per_sample(solver, model.model()),
        epochs,
        parity: None,
        replay: None,
        model_file: None,
    };
    if let Some(out) = &cfg.out {
        summary.parity = Some(check_parity(&runtime, &e.logits, summary.scored, out)?);
        export::write_atomic(out, &bytes)?;
        summary.model_file = Some(out.clone());
    }
    Ok(summary)
}

/// Per sample of a series, the one-hot `target` from the warm-up on.
fn class_targets(window: usize, warmup: usize, target: &M) -> Vec<Option<M>> {
    (0..window)
        .map(|n| (n + 1 >= warmup).then(|| target.clone()))
        .collect()
}

/// One epoch of a classifier: the reshuffled training series in batches,
/// passed over until the epoch has `min_batches_per_epoch` steps (as the
/// window trainer does on small sets); returns the mean loss.
#[allow(clippy::too_many_arguments)]
fn class_epoch(
    net: &mut Net,
    adam: &mut Adam,
    solver: &SolverCfg,
    p: &Problem,
    warmup: usize,
    cfg: &RunConfig,
    rng: &mut StdRng,
    dev: &Cpu,
) -> Result<f32, AppError> {
    let t = &cfg.train;
    let per_pass = p.train.len.div_ceil(t.batch.max(1)).max(1);
    let passes = t.min_batches_per_epoch.div_ceil(per_pass).max(1);
    let scored = p.window + 1 - warmup;
    let (mut sum, mut count) = (0f64, 0usize);
    for _ in 0..passes {
        let mut order: Vec<usize> = (0..p.train.len).collect();
        order.shuffle(rng);
        for idx in order.chunks(t.batch.max(1)) {
            let (batch, target) = make_batch(p, solver, &p.train, idx, dev, net.arch.state_dim)?;
            let targets = class_targets(p.window, warmup, &target);
            let tape = OwnedTape::<f32, Cpu>::default();
            let how = FieldImpl::Fused;
            let task = TaskKind::Classify;
            let out = forward_stream(net, solver, &batch, None, &targets, task, tape, None, how)
                .map_err(|_| usage("unreachable: no bound"))?;
            if let Some(v) = learn(net, adam, out, idx.len() * scored, t.clip) {
                if !v.is_finite() {
                    return Ok(f32::NAN);
                }
                sum += f64::from(v);
                count += 1;
            }
        }
    }
    Ok((sum / count.max(1) as f64) as f32)
}

/// A classifier's scores on a set of series.
struct ClassEval {
    /// Accuracy at each series' last sample.
    last: f32,
    /// Accuracy over every sample from the warm-up on.
    anytime: f32,
    /// Mean cross-entropy over those samples.
    loss: f32,
    /// The logits `[series][ready sample][class]`, the runtime's order.
    logits: Vec<f32>,
}

/// Streams every series of `w` from a zero state (batches of 256, no
/// tape, the runtime's divergence rule) and scores the read-outs.
fn class_eval(
    net: &Net,
    solver: &SolverCfg,
    p: &Problem,
    w: &Windows,
    warmup: usize,
    dev: &Cpu,
) -> Result<ClassEval, AppError> {
    let k = p.outputs();
    let (mut last, mut right, mut ce, mut reads) = (0usize, 0usize, 0f64, 0usize);
    let mut logits = Vec::new();
    let all: Vec<usize> = (0..w.len).collect();
    for idx in all.chunks(256) {
        let (batch, target) = make_batch(p, solver, w, idx, dev, net.arch.state_dim)?;
        let targets = class_targets(p.window, warmup, &target);
        let task = TaskKind::Classify;
        let bound = Some(STATE_BOUND);
        let out = forward_stream(
            net,
            solver,
            &batch,
            None,
            &targets,
            task,
            NoneTape,
            bound,
            FieldImpl::Fused,
        )
        .map_err(diverged)?;
        let rows: Vec<Vec<f32>> = out.outputs.iter().map(|o| o.as_vec()).collect();
        for (r, &i) in idx.iter().enumerate() {
            for (j, row) in rows.iter().enumerate() {
                let l = &row[r * k..(r + 1) * k];
                let hit = usize::from(argmax(l) == w.class[i]);
                right += hit;
                if j + 1 == rows.len() {
                    last += hit;
                }
                let top = l.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let lse = top + l.iter().map(|v| (v - top).exp()).sum::<f32>().ln();
                ce += f64::from(lse - l[w.class[i]]);
                reads += 1;
                logits.extend_from_slice(l);
            }
        }
    }
    Ok(ClassEval {
        last: last as f32 / w.len.max(1) as f32,
        anytime: right as f32 / reads.max(1) as f32,
        loss: (ce / reads.max(1) as f64) as f32,
        logits,
    })
}

/// The runtime's stream over every series of `w` (a reset at each): the
/// logits of every ready sample, [`class_eval`]'s order.
fn runtime_classes(
    model: &StreamModel<'_>,
    p: &Problem,
    w: &Windows,
) -> Result<Vec<f32>, AppError> {
    let mut stream = Stream::<64>::new(model).map_err(HostError::from)?;
    let (win, c) = (p.window, p.channels());
    let mut out = vec![0f32; model.model().output_len()];
    let mut all = Vec::new();
    for i in 0..w.len {
        stream.reset();
        for n in i * win..(i + 1) * win {
            stream
                .push(&w.x[n * c..(n + 1) * c], w.gaps[n])
                .map_err(|e| run_error(n, e))?;
            if stream.is_ready() {
                let k = stream.predict(&mut out).map_err(|e| run_error(n, e))?;
                all.extend_from_slice(&out[..k]);
            }
        }
    }
    Ok(all)
}

/// Loads a window model and runs `f` with it and a runner; also returns
/// its evaluations of f per prediction.
fn with_window_model<R>(
    path: &Path,
    f: impl FnOnce(&nagode::Model<'_>, &mut nagode::Runner<64>) -> Result<R, AppError>,
) -> Result<(R, u64), AppError> {
    let bytes = read(path)?;
    let model = nagode::Model::from_bytes(&bytes).map_err(HostError::from)?;
    let mut runner = nagode::Runner::<64>::new(&model.net()).map_err(HostError::from)?;
    Ok((f(&model, &mut runner)?, model.evals_per_prediction()))
}

/// A window classifier's accuracy on the test series, through the runtime.
fn window_classes(path: &Path, p: &Problem) -> Result<(f32, u64), AppError> {
    with_window_model(path, |model, runner| {
        let (w, c, t) = (model.window(), p.channels(), &p.test);
        if w != p.window {
            return Err(usage(
                "--baseline: the window model's window is not the series length",
            ));
        }
        let mut out = vec![0f32; model.output_len()];
        let mut right = 0usize;
        for i in 0..t.len {
            let (x, gaps) = (
                &t.x[i * w * c..(i + 1) * w * c],
                &t.gaps[i * w..(i + 1) * w],
            );
            let k = runner
                .run_window(&model.net(), x, Some(gaps), &mut out)
                .map_err(|e| run_error(i, e))?;
            right += usize::from(argmax(&out[..k]) == t.class[i]);
        }
        Ok(right as f32 / t.len.max(1) as f32)
    })
}

/// The one series of a wide-layout table, with its time split.
fn load_series(cfg: &RunConfig) -> Result<Series, AppError> {
    let (table, test) = window::load_tables(cfg)?;
    if table.series.len() != 1 || test.is_some() {
        return Err(usage(
            "--streaming trains on one series (wide layout, no --test file)",
        ));
    }
    let time_unit = crate::data::time_unit(&table)?;
    let one = &table.series[0];
    let gaps = std::iter::once(time_unit)
        .chain(one.times.windows(2).map(|t| (t[1] - t[0]) as f32))
        .collect::<Vec<f32>>();
    Ok(Series {
        x: one.values.iter().flatten().copied().collect(),
        channels: table.channels.len(),
        cuts: time_cuts(gaps.len(), false),
        gaps,
    })
}

/// The normalised value of sample `n`, channel `ch`.
fn norm(p: &Problem, s: &Series, n: usize, ch: usize) -> f32 {
    normalise::input(s.x[n * s.channels + ch], 0.0, p.mean[ch], p.std[ch])
}

/// The targets of sample `n` (the next `horizon` samples, `[k][c]`),
/// normalised.
fn target(p: &Problem, s: &Series, n: usize) -> Vec<f32> {
    (0..p.outputs())
        .map(|j| norm(p, s, n + 1 + j / s.channels, j % s.channels))
        .collect()
}

/// One chunk of `lanes` streams: samples `starts[b] + from .. + to`.
struct Chunk {
    batch: Batch,
    targets: Vec<Option<M>>,
    scored: usize,
}

/// Builds a chunk: inputs `[n][b][c]`, the lanes' gaps (the first sample
/// after a reset takes the time unit, as the runtime's first push), and the
/// targets of samples at or after `score_from` within their lane.
#[allow(clippy::too_many_arguments)]
fn chunk(
    cfg: &SolverCfg,
    p: &Problem,
    s: &Series,
    starts: &[usize],
    from: usize,
    to: usize,
    score_from: usize,
    previous: Option<&[Option<f32>]>,
    d: usize,
    dev: &Cpu,
) -> Result<Chunk, AppError> {
    let (b, c, k) = (starts.len(), s.channels, to - from);
    let mut x = vec![0f32; k * b * c];
    let mut gaps = Vec::with_capacity(b * k);
    for (r, &st) in starts.iter().enumerate() {
        for n in 0..k {
            for ch in 0..c {
                x[(n * b + r) * c + ch] = norm(p, s, st + from + n, ch);
            }
            let first = from + n == 0;
            gaps.push(if first {
                p.time_unit
            } else {
                s.gaps[st + from + n]
            });
        }
    }
    let mut scored = 0;
    let targets = (from..to)
        .map(|n| {
            (n >= score_from).then(|| {
                scored += 1;
                let t: Vec<f32> = starts.iter().flat_map(|&st| target(p, s, st + n)).collect();
                dev.tensor_from_vec(t, (b, p.outputs()))
            })
        })
        .collect();
    let plan = plan_after(cfg, &gaps, b, k, d, dev, previous)
        .map_err(crate::engine::train::TrainError::from)?;
    Ok(Chunk {
        batch: Batch {
            x: dev.tensor_from_vec(x, (k * b, c)),
            size: b,
            plan,
        },
        targets,
        scored,
    })
}

/// How an epoch cuts the training part: the options, the warm-up, this
/// epoch's offset of the lanes, and the gradient clip.
struct Lanes<'a> {
    sc: &'a StreamCfg,
    warmup: usize,
    offset: usize,
    clip: f32,
}

/// One epoch of truncated backpropagation; returns the mean chunk loss.
fn train_epoch(
    net: &mut Net,
    adam: &mut Adam,
    solver: &SolverCfg,
    p: &Problem,
    s: &Series,
    l: &Lanes<'_>,
    dev: &Cpu,
) -> Result<f32, AppError> {
    // Each lane's targets stay inside the training part.
    let usable = s.cuts.0 - p.horizon - l.offset;
    let lane = usable / l.sc.lanes;
    let starts: Vec<usize> = (0..l.sc.lanes).map(|b| l.offset + b * lane).collect();
    let (mut carry, mut last_h): (Option<Carry>, Option<Vec<Option<f32>>>) = (None, None);
    let (mut sum, mut count) = (0f64, 0usize);
    let mut from = 0;
    while from < lane {
        let to = (from + l.sc.chunk).min(lane);
        let ch = chunk(
            solver,
            p,
            s,
            &starts,
            from,
            to,
            l.warmup,
            last_h.as_deref(),
            net.arch.state_dim,
            dev,
        )?;
        let tape = OwnedTape::<f32, Cpu>::default();
        let out = forward_stream(
            net,
            solver,
            &ch.batch,
            carry.as_ref(),
            &ch.targets,
            TaskKind::Forecast,
            tape,
            None,
            FieldImpl::Fused,
        )
        .map_err(|_| usage("unreachable: no bound"))?;
        let next = out.carry.clone();
        let elements = starts.len() * p.outputs() * ch.scored;
        if let Some(v) = learn(net, adam, out, elements, l.clip) {
            if !v.is_finite() {
                return Ok(f32::NAN);
            }
            sum += f64::from(v);
            count += 1;
        }
        carry = Some(next);
        last_h = Some(ch.batch.plan.last_h);
        from = to;
    }
    Ok((sum / count.max(1) as f64) as f32)
}

/// Streams the series from its first sample (one row, chunks of 512, no
/// tape) and reads out every sample `n` with `from <= n + 1` and
/// `n + horizon < to`: the de-normalised forecasts `[n][k][c]` and their
/// MSE in data units; `Err(sample)` when the state leaves the bound.
fn stream_eval(
    net: &Net,
    solver: &SolverCfg,
    p: &Problem,
    s: &Series,
    from: usize,
    to: usize,
    dev: &Cpu,
) -> Result<(Vec<f32>, f32), usize> {
    let first = from - 1;
    let last = to - p.horizon;
    let mut outputs = Vec::new();
    let mut err = 0f64;
    let (mut carry, mut last_h): (Option<Carry>, Option<Vec<Option<f32>>>) = (None, None);
    let mut at = 0;
    while at < last {
        let end = (at + 512).min(last);
        let Ok(ch) = chunk(
            solver,
            p,
            s,
            &[0],
            at,
            end,
            first,
            last_h.as_deref(),
            net.arch.state_dim,
            dev,
        ) else {
            return Err(at);
        };
        let out = forward_stream(
            net,
            solver,
            &ch.batch,
            carry.as_ref(),
            &ch.targets,
            TaskKind::Forecast,
            NoneTape,
            Some(STATE_BOUND),
            FieldImpl::Fused,
        )
        .map_err(|n| at + n)?;
        let scored_from = first.max(at);
        for (i, o) in out.outputs.iter().enumerate() {
            let n = scored_from + i;
            for (j, v) in o.as_vec().into_iter().enumerate() {
                let ch = j % s.channels;
                let raw = normalise::output(v, 0.0, p.mean[ch], p.std[ch]);
                let e = f64::from(raw - s.x[(n + 1 + j / s.channels) * s.channels + ch]);
                err += e * e;
                outputs.push(raw);
            }
        }
        carry = Some(out.carry);
        last_h = Some(ch.batch.plan.last_h);
        at = end;
    }
    let mse = (err / outputs.len().max(1) as f64) as f32;
    Ok((outputs, mse))
}

/// The runtime's stream over the series from its first sample: the
/// forecasts of the samples [`stream_eval`] scores from `from` on.
fn runtime_stream(model: &StreamModel<'_>, s: &Series, from: usize) -> Result<Vec<f32>, AppError> {
    let mut stream = Stream::<64>::new(model).map_err(HostError::from)?;
    let horizon = model.model().output_len() / s.channels.max(1);
    let mut out = vec![0f32; model.model().output_len()];
    let mut all = Vec::new();
    for n in 0..s.len() - horizon {
        stream
            .push(&s.x[n * s.channels..(n + 1) * s.channels], s.gaps[n])
            .map_err(|e| run_error(n, e))?;
        if n + 1 >= from {
            let k = stream.predict(&mut out).map_err(|e| run_error(n, e))?;
            all.extend_from_slice(&out[..k]);
        }
    }
    Ok(all)
}

fn run_error(sample: usize, e: nagode::RunError) -> AppError {
    AppError::Host(HostError::Run {
        window: sample,
        source: e,
    })
}

/// The series replayed through the runtime until `total` samples: no
/// divergence, and the largest |forecast|.
fn replay(model: &StreamModel<'_>, s: &Series, total: usize) -> Result<(usize, f32), AppError> {
    let mut stream = Stream::<64>::new(model).map_err(HostError::from)?;
    let mut out = vec![0f32; model.model().output_len()];
    let mut largest = 0f32;
    for i in 0..total {
        let n = i % s.len();
        // Where the series wraps, the gap is the nominal one.
        let gap = if n == 0 {
            model.model().nominal_gap()
        } else {
            s.gaps[n]
        };
        stream
            .push(&s.x[n * s.channels..(n + 1) * s.channels], gap)
            .map_err(|e| run_error(i, e))?;
        if stream.is_ready() {
            let k = stream.predict(&mut out).map_err(|e| run_error(i, e))?;
            largest = out[..k].iter().fold(largest, |m, v| m.max(v.abs()));
        }
    }
    Ok((total, largest))
}

/// The last-value forecast's MSE over the scored test samples.
fn naive(p: &Problem, s: &Series) -> f32 {
    let c = s.channels;
    let (mut err, mut count) = (0f64, 0usize);
    for n in s.cuts.1 - 1..s.len() - p.horizon {
        for j in 0..p.outputs() {
            let e = f64::from(s.x[n * c + j % c] - s.x[(n + 1 + j / c) * c + j % c]);
            err += e * e;
            count += 1;
        }
    }
    (err / count.max(1) as f64) as f32
}

/// A window model's MSE at the same test samples (the window ending at
/// each), through the runtime, and its evaluations per prediction.
fn window_baseline(path: &Path, p: &Problem, s: &Series) -> Result<(f32, u64), AppError> {
    with_window_model(path, |model, runner| {
        let (w, c) = (model.window(), s.channels);
        let mut out = vec![0f32; model.output_len()];
        let (mut err, mut count) = (0f64, 0usize);
        for n in s.cuts.1 - 1..s.len() - p.horizon {
            let first = n + 1 - w;
            let x = &s.x[first * c..(n + 1) * c];
            let gaps = &s.gaps[first..=n];
            let k = runner
                .run_window(&model.net(), x, Some(gaps), &mut out)
                .map_err(|e| run_error(n, e))?;
            for (j, v) in out[..k].iter().enumerate() {
                let e = f64::from(v - s.x[(n + 1 + j / c) * c + j % c]);
                err += e * e;
                count += 1;
            }
        }
        Ok((err / count.max(1) as f64) as f32)
    })
}

/// Field evaluations a regular sample costs the stream: its gap's sub-steps
/// times the evaluations per step.
fn evals_per_sample(solver: &SolverCfg, model: &nagode::Model<'_>) -> u64 {
    let gap = model_gap(model.nominal_gap(), model.time_unit());
    substeps(gap, solver.max_step).map_or(0, |(m, _)| u64::from(m))
        * u64::from(model.evals_per_step())
}

/// Prints the summary.
pub fn print(s: &StreamSummary) {
    println!();
    let (what, ratio) = match s.test {
        TestScore::Forecast { mse, naive } => {
            println!("== nagode trainer: streaming forecaster ==");
            println!(
                "test MSE {mse:.6} over {} samples (naive last value {naive:.6})",
                s.scored
            );
            ("MSE", mse)
        }
        TestScore::Classify {
            last,
            anytime,
            majority,
        } => {
            println!("== nagode trainer: streaming classifier ==");
            println!(
                "test accuracy at each series' last sample {last:.4} (majority class {majority:.4}); over all {} ready samples {anytime:.4}",
                s.scored
            );
            ("accuracy", last)
        }
    };
    println!(
        "best epoch {} of {}, {:.1} s; field evaluations per sample: {}",
        s.epochs.0, s.epochs.1, s.epochs.2, s.evals_per_sample
    );
    if let Some((metric, evals)) = s.baseline {
        println!(
            "window model on the same test samples: {what} {metric:.6}, {evals} evaluations per prediction; streaming/window {what} {:.3}, evaluations per prediction {:.4}",
            ratio / metric,
            s.evals_per_sample as f64 / evals.max(1) as f64
        );
    }
    if let Some((abs, rel)) = s.parity {
        println!("runtime stream parity over the test samples: max |nagode - dfdx| {abs:.2e} ({rel:.2e} relative)");
    }
    if let Some((n, largest)) = s.replay {
        println!("runtime replay: {n} samples, no divergence, largest |forecast| {largest:.3}");
    }
    if let Some(f) = &s.model_file {
        println!("model file (format 5): {}", f.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(net: &Net) -> Vec<Vec<f32>> {
        net.params().iter().map(|q| q.values()).collect()
    }

    #[test]
    fn init_reads_back_the_weights_of_an_exported_window_model() {
        // An encoder makes the field's first layer read `[y, e]` with e != c.
        let cfg = RunConfig {
            encoder: vec![3],
            ..RunConfig::quiet()
        };
        let dev: Cpu = Default::default();
        let p = window::load_problem(&cfg).expect("problem");
        let window = window::setup(&cfg, &p, &dev, 1);
        let bytes = export::to_bytes(&window.net, &window.solver, &p).expect("export");
        let path = std::env::temp_dir().join(format!("nagode-init-{}.nagode", std::process::id()));
        std::fs::write(&path, bytes).expect("write");
        let mut net = window::setup(&cfg, &p, &dev, 2).net;
        assert_ne!(values(&net), values(&window.net));
        init_from(&mut net, &p, &path).expect("same layers");
        assert_eq!(values(&net), values(&window.net));
        let wider = RunConfig {
            state_dim: 6,
            ..cfg
        };
        let mut other = window::setup(&wider, &p, &dev, 2).net;
        let err = init_from(&mut other, &p, &path).expect_err("other layers");
        assert!(err.to_string().contains("--init"), "{err}");
        let _ = std::fs::remove_file(&path);
    }
}
