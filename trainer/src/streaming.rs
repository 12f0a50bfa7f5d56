//! Streaming models (`train --streaming`): the ODE state is carried across
//! the whole series, as the runtime's `nagode::stream::Stream` carries it,
//! and a forecast is the decoder's read-out after each sample.
//!
//! Training is truncated backpropagation through the unrolled solver: the
//! training part of the series is cut into `lanes` contiguous stretches run
//! side by side (one batch row each, from a zero state), each in chunks of
//! `chunk` samples; the detached state and NAG velocity after chunk `k`
//! ([`Carry`]) start chunk `k + 1`. The first `warmup` samples of a lane are
//! not scored (the state still remembers its zero start); every later
//! sample is scored on the next `horizon` samples. Each epoch shifts the
//! lanes by a random offset, so chunk boundaries move.
//!
//! Validation and test stream the series from its first sample, as a device
//! would, and score the samples whose targets lie in the validation or the
//! test part (the window model's split). Forecasting on one series
//! (wide layout, time split) only; the gaps are the data's own.

use crate::app::{self, check_parity, AppError, RunConfig};
use crate::data::{time_cuts, Problem, TaskKind};
use crate::export;
use crate::forward::{forward_stream, Batch, Carry, FieldImpl};
use crate::host::HostError;
use crate::params::Net;
use crate::solver::{plan_after, SolverCfg, SolverChoice};
use crate::tensor::M;
use crate::train::{Adam, STATE_BOUND};
use dfdx::prelude::*;
use nagode::format::ModelKind;
use nagode::normalise::{self, Reference};
use nagode::solver::{model_gap, substeps};
use nagode::stream::{Stream, StreamModel};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::time::Instant;

/// Streaming options of `train`.
#[derive(Clone, Debug)]
pub struct StreamCfg {
    /// Samples per chunk of truncated backpropagation.
    pub chunk: usize,
    /// Stretches of the training part run side by side (the batch).
    pub lanes: usize,
    /// Unscored samples after a reset; `None`: the problem's window.
    pub warmup: Option<usize>,
    /// A window model to score at the same test samples.
    pub baseline: Option<PathBuf>,
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

/// What a streaming run produced.
pub struct StreamSummary {
    /// Test MSE (data units) over every sample whose targets are in the test part.
    pub test_mse: f32,
    /// The same samples' naive (last value) MSE.
    pub naive_mse: f32,
    /// The baseline window model's MSE at the same samples, and its
    /// evaluations of f per prediction.
    pub baseline: Option<(f32, u64)>,
    /// Test samples scored.
    pub scored: usize,
    /// Field evaluations per sample (regular gaps).
    pub evals_per_sample: u64,
    /// Best epoch, epochs run, training seconds.
    pub epochs: (usize, usize, f64),
    /// Parity of the runtime's stream against dfdx over the whole series.
    pub parity: Option<(f32, f32)>,
    /// Samples replayed through the runtime without divergence, and the
    /// largest |forecast| seen.
    pub replay: Option<(usize, f32)>,
    /// The model file written.
    pub model_file: Option<PathBuf>,
}

fn usage(m: &str) -> AppError {
    AppError::Usage(m.into())
}

/// Trains a streaming forecaster per `cfg` and `s`, checks parity and
/// writes the model file (format 5).
pub fn run(cfg: &RunConfig, s: &StreamCfg) -> Result<StreamSummary, AppError> {
    if cfg.task != TaskKind::Forecast || cfg.solver == SolverChoice::Resnet {
        return Err(usage(
            "--streaming trains ODE forecasters (not classification or the ResNet)",
        ));
    }
    if cfg.reference != Reference::Global {
        return Err(usage("--streaming needs --reference global"));
    }
    let dev: Cpu = Default::default();
    let p = app::load_problem(cfg)?;
    let series = load_series(cfg)?;
    let warmup = s.warmup.unwrap_or(p.window);
    if s.chunk == 0 || s.lanes == 0 || series.cuts.0 < s.lanes * (warmup + s.chunk) {
        return Err(usage(
            "--streaming: the training part needs lanes * (warmup + chunk) samples",
        ));
    }
    let setup = app::setup(cfg, &p, &dev, cfg.train.seed);
    let solver = setup.solver;
    let mut net = setup.net;
    let start = Instant::now();
    let mut adam = Adam::new(&net, cfg.train.lr);
    let mut rng = StdRng::seed_from_u64(cfg.train.seed);
    let (val_from, val_to) = (series.cuts.0, series.cuts.1);
    let mut best = (f32::INFINITY, net.clone(), 0usize);
    let mut epochs = 0;
    for epoch in 1..=cfg.train.epochs {
        epochs = epoch;
        let offset = rng.gen_range(0..s.chunk);
        let loss = train_epoch(
            &mut net, &mut adam, &solver, &p, &series, s, warmup, offset, &dev,
        )?;
        let val = stream_eval(&net, &solver, &p, &series, val_from, val_to, &dev)
            .map(|(_, mse)| mse)
            .unwrap_or(f32::INFINITY);
        if cfg.verbose {
            println!("epoch {epoch:4}  train {loss:.5}  val MSE {val:.6}");
        }
        if val < best.0 {
            best = (val, net.clone(), epoch);
        }
        let since = epoch - best.2;
        if since > 0 && since % (cfg.train.patience / 3).max(2) == 0 {
            adam.lr *= 0.5;
        }
        let over = cfg.train.time_budget.is_some_and(|b| start.elapsed() > b);
        if since >= cfg.train.patience || over || !loss.is_finite() {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let net = best.1;
    let len = series.len();
    let (outputs, test_mse) = stream_eval(&net, &solver, &p, &series, series.cuts.1, len, &dev)
        .map_err(|sample| crate::train::TrainError::StateDiverged {
            sample,
            bound: STATE_BOUND,
        })?;
    let kind = ModelKind::Streaming {
        warmup: u32::try_from(warmup).unwrap_or(u32::MAX),
    };
    let bytes = export::to_bytes_with_kind(&net, &solver, &p, kind)?;
    let model = StreamModel::from_bytes(&bytes).map_err(HostError::from)?;
    let runtime = runtime_stream(&model, &series, series.cuts.1)?;
    let mut summary = StreamSummary {
        test_mse,
        naive_mse: naive(&p, &series),
        baseline: s
            .baseline
            .as_ref()
            .map(|path| window_baseline(path, &p, &series))
            .transpose()?,
        scored: outputs.len() / p.outputs().max(1),
        evals_per_sample: evals_per_sample(&solver, model.model()),
        epochs: (best.2, epochs, seconds),
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

/// The one series of a wide-layout table, with its time split.
fn load_series(cfg: &RunConfig) -> Result<Series, AppError> {
    let (table, test) = app::load_tables(cfg)?;
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
    let plan =
        plan_after(cfg, &gaps, b, k, d, dev, previous).map_err(crate::train::TrainError::from)?;
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

/// One epoch of truncated backpropagation; returns the mean chunk loss.
#[allow(clippy::too_many_arguments)]
fn train_epoch(
    net: &mut Net,
    adam: &mut Adam,
    solver: &SolverCfg,
    p: &Problem,
    s: &Series,
    sc: &StreamCfg,
    warmup: usize,
    offset: usize,
    dev: &Cpu,
) -> Result<f32, AppError> {
    // Each lane's targets stay inside the training part.
    let usable = s.cuts.0 - p.horizon - offset;
    let lane = usable / sc.lanes;
    let starts: Vec<usize> = (0..sc.lanes).map(|b| offset + b * lane).collect();
    let (mut carry, mut last_h): (Option<Carry>, Option<Vec<Option<f32>>>) = (None, None);
    let (mut sum, mut count) = (0f64, 0usize);
    let mut from = 0;
    while from < lane {
        let to = (from + sc.chunk).min(lane);
        let ch = chunk(
            solver,
            p,
            s,
            &starts,
            from,
            to,
            warmup,
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
            tape,
            None,
            FieldImpl::Fused,
        )
        .map_err(|_| usage("unreachable: no bound"))?;
        if let Some(sum_sq) = out.sum_sq {
            let mut tr = out.tr;
            let scale = 1.0 / ch.scored as f32;
            let l = tr.attach(sum_sq).mean() * scale;
            let value = l.array();
            let mut grads = l.backward();
            let g: Vec<Vec<f32>> = net.params().iter().map(|q| q.grad(&mut grads)).collect();
            if !value.is_finite() || g.iter().flatten().any(|x| !x.is_finite()) {
                return Ok(f32::NAN);
            }
            adam.step(net, g, 1.0);
            sum += f64::from(value);
            count += 1;
        }
        carry = Some(out.carry);
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
fn window_baseline(path: &PathBuf, p: &Problem, s: &Series) -> Result<(f32, u64), AppError> {
    let bytes = std::fs::read(path).map_err(|source| AppError::Io {
        file: path.display().to_string(),
        source,
    })?;
    let model = nagode::Model::from_bytes(&bytes).map_err(HostError::from)?;
    let (w, c) = (model.window(), s.channels);
    let mut runner = nagode::Runner::<64>::new(&model.net()).map_err(HostError::from)?;
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
    Ok((
        (err / count.max(1) as f64) as f32,
        model.evals_per_prediction(),
    ))
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
    println!("== nagode trainer: streaming forecaster ==");
    println!(
        "test MSE {:.6} over {} samples (naive last value {:.6}); best epoch {} of {}, {:.1} s",
        s.test_mse, s.scored, s.naive_mse, s.epochs.0, s.epochs.1, s.epochs.2
    );
    println!("field evaluations per sample: {}", s.evals_per_sample);
    if let Some((mse, evals)) = s.baseline {
        println!(
            "window model at the same samples: MSE {mse:.6}, {evals} evaluations per prediction; streaming/window MSE {:.3}, evaluations {:.4}",
            s.test_mse / mse,
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
