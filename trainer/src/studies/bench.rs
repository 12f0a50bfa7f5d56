//! Benchmark set-ups shared by `trainer bench` (a quick report) and the
//! criterion benches in `benches/` (the careful figures).
//!
//! Training iteration (issue 4): batch 32 of damped-oscillator trajectories
//! (256 of them, 64 steps of dt = 0.1), field 2→32→32→2 tanh, loss = MSE over
//! the whole trajectory, backprop through the unrolled solver, one Adam step.
//! The trajectory problem has no input, so the field's input part is left
//! out (only the first layer's bias remains): the arithmetic is 2→32→32→2.
//!
//! Inference (issue 6): one window through the `nagode` runtime vs the dfdx
//! forward pass of the same model at batch 1.
//!
//! Batch scoring (issue 13): [`BATCH_WINDOWS`] windows of the benchmark
//! field through [`nagode::batch`], against the same windows one after
//! another on one thread (diffrax's figure is a vmapped batch of 256).

use crate::data::{Problem, TaskKind, Windows};
use crate::engine::forward::{forward, trajectory_loss, Batch, FieldImpl};
use crate::engine::params::{Arch, Net};
use crate::engine::solver::{plan, Plan, SolverCfg, SolverChoice};
use crate::engine::tensor::M;
use crate::engine::train::Adam;
use crate::error::AppError;
use crate::export::host::HostError;
use clap::Args;
use dfdx::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Steps per trajectory.
pub const STEPS: usize = 64;
/// Trajectories in the data set.
pub const TRAJECTORIES: usize = 256;
/// Batch size.
pub const BATCH: usize = 32;
/// Time step.
pub const DT: f32 = 0.1;
/// Windows in a batch-scoring row (the anchor's batch of trajectories).
pub const BATCH_WINDOWS: usize = 256;
/// The one-window rows' `STATE` capacity: the benchmark models' widest
/// vector, as firmware sizes it (a much wider runner, like the trainer's
/// [`crate::export::host::HostSession`], walks its spare width on every sample).
const BENCH_STATE: usize = 32;

/// One training iteration's inputs for a solver.
pub struct IterationSetup {
    net: Net,
    cfg: SolverCfg,
    plan: Plan,
    y0: M,
    truth: Vec<M>,
    adam: Adam,
    how: FieldImpl,
}

/// State 2, field (2 + 1 input)→32→32→2 tanh, one output, window [`STEPS`].
fn bench_arch() -> Arch {
    Arch {
        channels: 1,
        encoder: vec![],
        state_dim: 2,
        hidden: vec![32, 32],
        decoder: vec![],
        outputs: 1,
        window: STEPS,
    }
}

fn solver_cfg(kind: SolverChoice) -> SolverCfg {
    SolverCfg {
        kind,
        mu: 0.5,
        consistency: true,
        startup_euler: false,
        max_step: DT,
        time_unit: 1.0,
    }
}

impl IterationSetup {
    /// Builds the data (damped oscillators x'' + 0.2 x' + x = 0 from random
    /// initial states) and the model.
    pub fn new(kind: SolverChoice, how: FieldImpl) -> Self {
        let dev: Cpu = Default::default();
        let mut rng = StdRng::seed_from_u64(7);
        let mut traj = vec![[0f32; 2]; TRAJECTORIES * (STEPS + 1)];
        for i in 0..TRAJECTORIES {
            let (mut x, mut v) = (rng.gen_range(-2.0f64..2.0), rng.gen_range(-2.0f64..2.0));
            for n in 0..=STEPS {
                traj[i * (STEPS + 1) + n] = [x as f32, v as f32];
                // Fine RK4 sub-steps for the reference data.
                for _ in 0..10 {
                    let h = DT as f64 / 10.0;
                    let f = |x: f64, v: f64| (v, -x - 0.2 * v);
                    let k1 = f(x, v);
                    let k2 = f(x + 0.5 * h * k1.0, v + 0.5 * h * k1.1);
                    let k3 = f(x + 0.5 * h * k2.0, v + 0.5 * h * k2.1);
                    let k4 = f(x + h * k3.0, v + h * k3.1);
                    x += h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
                    v += h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
                }
            }
        }
        let batch: Vec<usize> = (0..BATCH).collect();
        let y0: Vec<f32> = batch.iter().flat_map(|&i| traj[i * (STEPS + 1)]).collect();
        let truth = (1..=STEPS)
            .map(|n| {
                dev.tensor_from_vec(
                    batch
                        .iter()
                        .flat_map(|&i| traj[i * (STEPS + 1) + n])
                        .collect(),
                    (BATCH, 2),
                )
            })
            .collect();
        let arch = bench_arch();
        let net = Net::new(&dev, &arch, kind, 0);
        let cfg = solver_cfg(kind);
        let gaps = vec![DT; BATCH * STEPS];
        let plan = plan(&cfg, &gaps, BATCH, STEPS, 2, &dev).unwrap_or_default();
        let adam = Adam::new(&net, 1e-2);
        IterationSetup {
            net,
            cfg,
            plan,
            y0: dev.tensor_from_vec(y0, (BATCH, 2)),
            truth,
            adam,
            how,
        }
    }

    /// One iteration: forward, backward, Adam step. Returns the loss.
    pub fn iteration(&mut self) -> f32 {
        let loss = trajectory_loss(
            &self.net.fields[0],
            &self.cfg,
            &self.plan,
            &self.y0,
            &self.truth,
            OwnedTape::<f32, Cpu>::default(),
            self.how,
        );
        let value = loss.array();
        let mut grads = loss.backward();
        let g = self
            .net
            .params()
            .iter()
            .map(|p| p.grad(&mut grads))
            .collect();
        self.adam.step(&mut self.net, g, f32::INFINITY);
        value
    }
}

/// A 1-channel forecaster whose field is 2→32→32→2 tanh (plus the input
/// column), window 64, NAG: the runtime and dfdx run the same window.
pub struct InferenceSetup {
    /// The model file bytes.
    pub bytes: Vec<u8>,
    net: Net,
    cfg: SolverCfg,
    batch: Batch,
    /// The window's samples.
    pub samples: Vec<f32>,
}

impl InferenceSetup {
    /// The benchmark field (2→32→32→2 tanh), 64 steps, randomly initialised
    /// (timing does not depend on the weights).
    pub fn new(kind: SolverChoice) -> Result<Self, AppError> {
        Self::with_arch(kind, bench_arch(), DT)
    }

    /// The default job's model (`trainer` with no arguments): state 8,
    /// field 9→32→32→8 tanh, window 48, horizon 4, NAG, step 1.
    pub fn default_model() -> Result<Self, AppError> {
        let d = crate::tasks::window::RunConfig::default();
        let arch = Arch {
            channels: 1,
            encoder: d.encoder,
            state_dim: d.state_dim,
            hidden: d.hidden,
            decoder: vec![],
            outputs: d.horizon,
            window: 48,
        };
        Self::with_arch(d.solver, arch, 1.0)
    }

    fn with_arch(kind: SolverChoice, arch: Arch, dt: f32) -> Result<Self, AppError> {
        let dev: Cpu = Default::default();
        let net = Net::new(&dev, &arch, kind, 1);
        // Gaps of `dt` in the data's units are one unit of solver time, as
        // `trainer train` maps them.
        let cfg = SolverCfg {
            max_step: 1.0,
            time_unit: dt,
            ..solver_cfg(kind)
        };
        let window = arch.window;
        let samples = wave(window, 0.0);
        let p = Problem {
            name: "bench".into(),
            task: TaskKind::Forecast,
            channel_names: vec!["x".into()],
            window,
            horizon: arch.outputs,
            stride: 1,
            classes: vec![],
            time_unit: dt,
            clock: crate::data::Clock::Index,
            reference: crate::data::Reference::Global,
            mean: vec![0.0],
            std: vec![1.0],
            notes: Vec::new(),
            patch: 1,
            resampled: None,
            train: Windows::default(),
            val: Windows::default(),
            test: Windows::default(),
        };
        let bytes = crate::export::to_bytes(&net, &cfg, &p)?;
        let plan = plan(&cfg, &vec![dt; window], 1, window, arch.state_dim, &dev)
            .map_err(crate::engine::train::TrainError::from)?;
        let batch = Batch {
            x: dev.tensor_from_vec(samples.clone(), (window, 1)),
            size: 1,
            plan,
        };
        Ok(InferenceSetup {
            bytes,
            net,
            cfg,
            batch,
            samples,
        })
    }

    /// The dfdx forward pass (no tape) at batch 1.
    pub fn dfdx(&self, how: FieldImpl) -> f32 {
        match forward(&self.net, &self.cfg, &self.batch, NoneTape, None, how) {
            Ok((out, _)) => out.as_vec()[0],
            Err(_) => f32::NAN,
        }
    }
}

/// A one-channel window of `len` samples of a sine starting at `phase`.
fn wave(len: usize, phase: f32) -> Vec<f32> {
    (0..len).map(|n| (phase + n as f32 * 0.1).sin()).collect()
}

impl InferenceSetup {
    /// `windows` windows like [`Self::samples`], each at its own phase,
    /// laid end to end.
    pub fn batch_samples(&self, windows: usize) -> Vec<f32> {
        (0..windows)
            .flat_map(|i| wave(self.samples.len(), i as f32 * 0.05))
            .collect()
    }
}

/// The four ODE solvers.
pub const SOLVERS: [SolverChoice; 4] = [
    SolverChoice::Nag,
    SolverChoice::Euler,
    SolverChoice::Midpoint,
    SolverChoice::Rk4,
];

/// The inference set-ups: the benchmark field per solver, then the default model.
pub fn inference_setups() -> Vec<(&'static str, Result<InferenceSetup, AppError>)> {
    let mut rows: Vec<_> = SOLVERS
        .iter()
        .map(|&k| (k.name(), InferenceSetup::new(k)))
        .collect();
    rows.push(("default", InferenceSetup::default_model()));
    rows
}

/// Options of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Timed iterations per solver (after 3 warm-up ones).
    #[arg(long, default_value_t = 40)]
    pub iters: usize,
    /// Also write the figures to this file as JSON (`bench/compare.sh`
    /// reads it).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// What `trainer bench` measured (medians; `--json` writes it).
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Training iteration per solver.
    pub training: Vec<TrainingRow>,
    /// One window at batch 1 per set-up.
    pub inference: Vec<InferenceRow>,
    /// [`BATCH_WINDOWS`] windows per solver.
    pub batch: Vec<BatchRow>,
    /// `Model::from_bytes` of the NAG benchmark model, µs.
    pub load_us: f64,
    /// Threads the batch rows ran on.
    pub threads: usize,
}

/// One training iteration, ms.
#[derive(Debug, Serialize)]
pub struct TrainingRow {
    /// Solver name.
    pub solver: &'static str,
    /// With the fused field op (what `trainer train` uses).
    pub fused_ms: f64,
    /// With plain dfdx ops.
    pub ops_ms: f64,
}

/// One window at batch 1, µs.
#[derive(Debug, Serialize)]
pub struct InferenceRow {
    /// Solver name, or `default` for the default job's model.
    pub model: &'static str,
    /// Samples in the window (one solver step each).
    pub steps: usize,
    /// The `nagode` runtime on the model's `Net` (the chip's code path).
    pub runtime_us: f64,
    /// The runtime on `nagode::batch::HostLayers` (the host's panels).
    pub host_layers_us: f64,
    /// dfdx forward pass with the fused field op.
    pub dfdx_fused_us: f64,
    /// dfdx forward pass with plain ops.
    pub dfdx_ops_us: f64,
}

/// [`BATCH_WINDOWS`] windows of the benchmark field, ms.
#[derive(Debug, Serialize)]
pub struct BatchRow {
    /// Solver name.
    pub solver: &'static str,
    /// Windows in the batch.
    pub windows: usize,
    /// Solver steps per window.
    pub steps: usize,
    /// Through `nagode::batch` (all cores).
    pub batch_ms: f64,
    /// The same windows one after another on one thread (on the same `HostLayers`).
    pub sequential_ms: f64,
}

impl BatchRow {
    /// Batch time per step per window, µs.
    pub fn per_step_us(&self) -> f64 {
        self.batch_ms * 1e3 / (self.windows * self.steps) as f64
    }
}

/// Runs each closure `n` times, round-robin after 3 warm-up rounds; the
/// median time of each.
fn interleaved<F: FnMut()>(n: usize, fs: &mut [F]) -> Vec<f64> {
    let n = n.max(1);
    let mut times = vec![Vec::with_capacity(n); fs.len()];
    for round in 0..n + 3 {
        for (f, t) in fs.iter_mut().zip(times.iter_mut()) {
            let start = Instant::now();
            f();
            if round >= 3 {
                t.push(start.elapsed().as_secs_f64());
            }
        }
    }
    times.into_iter().map(median).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `trainer bench`: a quick report (median of `iters`); the criterion
/// benches (`cargo bench -p trainer`, `cargo bench -p nagode`) give the
/// careful figures.
pub fn run(a: &BenchArgs) -> Result<(), AppError> {
    // The variants of one row are timed interleaved (A B A B ...), so a
    // busy shared machine slows them alike and the ratios stay meaningful.
    let mut report = Report {
        threads: rayon::current_num_threads(),
        ..Report::default()
    };
    training_table(&mut report, a.iters);
    inference_table(&mut report, a.iters * 10)?;
    batch_table(&mut report, a.iters)?;
    let s = InferenceSetup::new(SolverChoice::Nag)?;
    let load = interleaved(
        a.iters * 10,
        &mut [|| {
            std::hint::black_box(nagode::Model::from_bytes(&s.bytes).is_ok());
        }],
    );
    report.load_us = load[0] * 1e6;
    println!(
        "\nmodel load (Model::from_bytes, {} bytes, CRC + validation): {:.2} µs",
        s.bytes.len(),
        report.load_us
    );
    if let Some(path) = &a.json {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        crate::export::write_atomic(path, json.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Prints (and records) the training-iteration rows.
fn training_table(report: &mut Report, iters: usize) {
    println!(
        "training iteration: batch {BATCH}, {STEPS} steps, field 2→32→32→2 tanh, damped oscillator"
    );
    println!("(median of {} interleaved iterations)", iters);
    println!(
        "{:<10} {:>16} {:>18} {:>8}",
        "solver", "fused field op", "plain dfdx ops", "ratio"
    );
    for r in training_rows(iters) {
        println!(
            "{:<10} {:>13.3} ms {:>15.3} ms {:>7.1}x",
            r.solver,
            r.fused_ms,
            r.ops_ms,
            r.ops_ms / r.fused_ms
        );
        report.training.push(r);
    }
}

/// Prints (and records) the one-window inference rows, `iters` runs each.
fn inference_table(report: &mut Report, iters: usize) -> Result<(), AppError> {
    println!();
    println!(
        "inference, one window at batch 1: the 2→32→32→2 field with 64 steps per solver, and the"
    );
    println!(
        "default model (window 48, field 9→32→32→8, NAG); median of {} interleaved runs",
        iters
    );
    println!("(runtime: on the model's Net, the chip's code; host: on nagode::batch::HostLayers)");
    println!(
        "{:<10} {:>10} {:>10} {:>13} {:>12} {:>9} {:>9} {:>14}",
        "solver",
        "runtime",
        "host",
        "dfdx fused",
        "dfdx ops",
        "ops/rt",
        "ops/host",
        "per step rt/host"
    );
    for r in inference_rows(iters)? {
        println!(
            "{:<10} {:>7.1} µs {:>7.1} µs {:>10.1} µs {:>9.1} µs {:>8.1}x {:>8.1}x {:>6.3}/{:.3} µs",
            r.model,
            r.runtime_us,
            r.host_layers_us,
            r.dfdx_fused_us,
            r.dfdx_ops_us,
            r.dfdx_ops_us / r.runtime_us,
            r.dfdx_ops_us / r.host_layers_us,
            r.runtime_us / r.steps as f64,
            r.host_layers_us / r.steps as f64
        );
        report.inference.push(r);
    }
    Ok(())
}

/// Prints (and records) the batch-scoring rows.
fn batch_table(report: &mut Report, iters: usize) -> Result<(), AppError> {
    println!();
    println!(
        "batch scoring: {BATCH_WINDOWS} windows of the 2→32→32→2 field, {STEPS} steps each, through nagode::batch on {} threads",
        report.threads
    );
    println!(
        "vs one after another on one thread (same HostLayers); median of {} interleaved runs",
        iters
    );
    println!(
        "{:<10} {:>12} {:>14} {:>10} {:>22}",
        "solver", "batch", "sequential", "speed-up", "per step per window"
    );
    for r in batch_rows(iters)? {
        println!(
            "{:<10} {:>9.3} ms {:>11.3} ms {:>9.2}x {:>19.3} µs",
            r.solver,
            r.batch_ms,
            r.sequential_ms,
            r.sequential_ms / r.batch_ms,
            r.per_step_us()
        );
        report.batch.push(r);
    }
    Ok(())
}

/// One training-iteration row per solver: fused field against plain dfdx
/// ops, `iters` interleaved iterations each.
fn training_rows(iters: usize) -> Vec<TrainingRow> {
    SOLVERS
        .iter()
        .map(|&kind| {
            let mut setups = [
                IterationSetup::new(kind, FieldImpl::Fused),
                IterationSetup::new(kind, FieldImpl::Ops),
            ];
            let times = interleaved(
                iters,
                &mut setups
                    .iter_mut()
                    .map(|s| {
                        move || {
                            std::hint::black_box(s.iteration());
                        }
                    })
                    .collect::<Vec<_>>(),
            );
            TrainingRow {
                solver: kind.name(),
                fused_ms: times[0] * 1e3,
                ops_ms: times[1] * 1e3,
            }
        })
        .collect()
}

/// One inference row per set-up: the runtime (on the model's [`nagode::build::Net`]
/// and on [`nagode::batch::HostLayers`]) against the dfdx forward pass
/// (fused and plain), `iters` interleaved runs each.
fn inference_rows(iters: usize) -> Result<Vec<InferenceRow>, AppError> {
    let mut rows = Vec::new();
    for (name, s) in inference_setups() {
        let s = s?;
        let model = nagode::Model::from_bytes(&s.bytes).map_err(HostError::from)?;
        let net = model.net();
        let host = nagode::batch::HostLayers::new(net);
        let runner = || nagode::Runner::<BENCH_STATE>::new(&net).map_err(HostError::from);
        let (mut on_net, mut on_host) = (runner()?, runner()?);
        let mut out = [0f32; 16];
        let mut runtime = || {
            let _ = std::hint::black_box(on_net.run_window(&net, &s.samples, None, &mut out));
        };
        let mut out_host = [0f32; 16];
        let mut host_run = || {
            let _ =
                std::hint::black_box(on_host.run_window(&host, &s.samples, None, &mut out_host));
        };
        let mut fused = || {
            std::hint::black_box(s.dfdx(FieldImpl::Fused));
        };
        let mut ops = || {
            std::hint::black_box(s.dfdx(FieldImpl::Ops));
        };
        let t = interleaved(
            iters,
            &mut [
                &mut runtime as &mut dyn FnMut(),
                &mut host_run,
                &mut fused,
                &mut ops,
            ],
        );
        rows.push(InferenceRow {
            model: name,
            steps: s.samples.len(),
            runtime_us: t[0] * 1e6,
            host_layers_us: t[1] * 1e6,
            dfdx_fused_us: t[2] * 1e6,
            dfdx_ops_us: t[3] * 1e6,
        });
    }
    Ok(rows)
}

/// One batch-scoring row per solver: [`BATCH_WINDOWS`] windows through
/// `nagode::batch` against the same windows on one thread (on the same
/// `HostLayers`), interleaved.
fn batch_rows(iters: usize) -> Result<Vec<BatchRow>, AppError> {
    let mut rows = Vec::new();
    for kind in SOLVERS {
        let s = InferenceSetup::new(kind)?;
        let model = nagode::Model::from_bytes(&s.bytes).map_err(HostError::from)?;
        let net = model.net();
        let samples = s.batch_samples(BATCH_WINDOWS);
        let mut batch_out = vec![0f32; BATCH_WINDOWS * model.output_len()];
        let mut one_out = batch_out.clone();
        // The same layers as the batch's, so the ratio is the threads' alone.
        let host = nagode::batch::HostLayers::new(net);
        let mut runner = nagode::Runner::<BENCH_STATE>::new(&net).map_err(HostError::from)?;
        let per = s.samples.len();
        let mut batch = || {
            let r = nagode::batch::run_windows(&net, &samples, None, &mut batch_out);
            std::hint::black_box(r.is_ok());
        };
        let mut sequential = || {
            for (x, o) in samples
                .chunks(per)
                .zip(one_out.chunks_mut(model.output_len()))
            {
                let _ = std::hint::black_box(runner.run_window(&host, x, None, o));
            }
        };
        let t = interleaved(
            iters,
            &mut [&mut batch as &mut dyn FnMut(), &mut sequential],
        );
        rows.push(BatchRow {
            solver: kind.name(),
            windows: BATCH_WINDOWS,
            steps: per,
            batch_ms: t[0] * 1e3,
            sequential_ms: t[1] * 1e3,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The benchmark does real work: fused and plain-op passes agree, and
    /// the trajectory loss falls under training.
    #[test]
    fn benchmark_iteration_learns() {
        let mut fused = IterationSetup::new(SolverChoice::Nag, FieldImpl::Fused);
        let mut ops = IterationSetup::new(SolverChoice::Nag, FieldImpl::Ops);
        let (a, b) = (fused.iteration(), ops.iteration());
        assert!((a - b).abs() <= 1e-4 * a, "fused {a} vs ops {b}");
        let last = (0..40)
            .map(|_| fused.iteration())
            .last()
            .unwrap_or(f32::NAN);
        assert!(last < 0.5 * a, "loss {a} -> {last}");
    }

    /// The runtime and dfdx compute the same benchmark window.
    #[test]
    fn benchmark_inference_agrees() {
        for s in [
            InferenceSetup::new(SolverChoice::Rk4),
            InferenceSetup::default_model(),
        ] {
            let s = s.expect("set-up");
            let model = nagode::Model::from_bytes(&s.bytes).expect("loads");
            let mut session: crate::export::host::HostSession<'_> =
                nagode::Session::new(&model).expect("fits");
            let mut out = [0f32; 16];
            session
                .run_window(&s.samples, None, &mut out)
                .expect("runs");
            let d = s.dfdx(FieldImpl::Fused);
            assert!(
                (out[0] - d).abs() <= 1e-5 * d.abs().max(1.0),
                "runtime {} vs dfdx {d}",
                out[0]
            );
        }
    }
}
