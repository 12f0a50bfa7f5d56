//! The `train` job end to end: data, training with progress, summary,
//! atomic model export, runtime parity on the test windows, plots.

use crate::data::{self, Builtin, Problem, TaskKind, WindowSpec};
use crate::engine::params::{Arch, Net};
use crate::engine::solver::{SolverCfg, SolverChoice};
use crate::engine::train::{self, EpochLog, Stop, TrainCfg, Trained};
use crate::export;
use crate::export::host::{self, HostError};
use crate::plot::{self, Line};
use crate::tasks::baseline::Baseline;
use dfdx::prelude::Cpu;
use nagode::normalise::Reference;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use crate::error::AppError;

/// Warm-up iterations of `train` (`TrainCfg::warmup`).
pub const WARMUP: usize = 0;

/// Largest relative difference (to the largest |trainer output|) between the
/// runtime's and the trainer's outputs for which a model file is written.
pub const PARITY_LIMIT: f32 = 1e-5;

/// The runtime's outputs against the trainer's: `(abs, rel)` when within
/// [`PARITY_LIMIT`], else the error that stops the export of `out`.
pub fn check_parity(
    runtime: &[f32],
    trainer: &[f32],
    windows: usize,
    out: &Path,
) -> Result<(f32, f32), AppError> {
    let (abs, rel) = host::max_difference(runtime, trainer);
    // NaN compares false: a NaN difference fails the check too.
    if runtime.len() == trainer.len() && rel <= PARITY_LIMIT {
        Ok((abs, rel))
    } else {
        Err(AppError::Parity {
            abs,
            rel,
            limit: PARITY_LIMIT,
            windows,
            out: out.to_path_buf(),
        })
    }
}

/// Where the data comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A built-in set.
    Builtin(Builtin),
    /// A CSV file, optionally with its own test file and a column choice.
    Csv {
        /// Training file.
        path: PathBuf,
        /// Test file.
        test: Option<PathBuf>,
        /// Channel columns.
        columns: Option<Vec<String>>,
    },
}

/// Everything a training run needs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Data.
    pub source: Source,
    /// Forecast or classify.
    pub task: TaskKind,
    /// Samples per window; `None`: derived from the data (see the summary's notes).
    pub window: Option<usize>,
    /// Forecast horizon.
    pub horizon: usize,
    /// Step between window starts; `None`: derived from the data.
    pub stride: Option<usize>,
    /// What the model measures values from: absolute levels or the
    /// window's last value (see `commands::train::default_reference`).
    pub reference: Reference,
    /// Solver and knobs (`max_step` is derived: `1 / steps` of the nominal gap).
    pub solver: SolverChoice,
    /// NAG momentum.
    pub mu: f32,
    /// NAG consistency scaling.
    pub consistency: bool,
    /// NAG Euler start-up.
    pub startup_euler: bool,
    /// Solver steps per nominal sample gap.
    pub steps: usize,
    /// State dimension.
    pub state_dim: usize,
    /// Field hidden widths.
    pub hidden: Vec<usize>,
    /// Encoder widths.
    pub encoder: Vec<usize>,
    /// Unequal-length classification series are resampled to this many
    /// samples (`data::resample`); `None`: derived, `Some(0)`: never.
    pub resample: Option<usize>,
    /// Samples per ODE step (`data::patch`); `None`: derived from the
    /// window (`data::patch::derived`).
    pub patch: Option<usize>,
    /// Optimisation.
    pub train: TrainCfg,
    /// Learning rates to choose among by validation (`choose`); empty: the
    /// grid for the window (`choose::lr_grid`); one: that rate, no trials.
    pub lrs: Vec<f32>,
    /// Initial weights to choose among; `None`: `choose::default_restarts`.
    pub restarts: Option<usize>,
    /// Model file to write (`None`: do not export).
    pub out: Option<PathBuf>,
    /// Folder for plots (`None`: no plots).
    pub plots: Option<PathBuf>,
    /// Print progress and summary.
    pub verbose: bool,
    /// A model that loses to a baseline is an error and no file is written.
    pub require_beat_baseline: bool,
}

impl Default for RunConfig {
    /// The default job: the ECG forecaster with NAG (what `cargo run -p trainer` runs).
    fn default() -> Self {
        RunConfig {
            source: Source::Builtin(Builtin::Ecg),
            task: TaskKind::Forecast,
            window: None,
            horizon: 4,
            stride: None,
            // The ECG is stationary: absolute levels (test MSE 0.114 x naive
            // against 0.147 x from the last value).
            reference: Reference::Global,
            solver: SolverChoice::Nag,
            mu: 0.5,
            consistency: true,
            startup_euler: false,
            steps: 1,
            state_dim: 8,
            hidden: vec![32, 32],
            encoder: Vec::new(),
            patch: None,
            resample: None,
            train: TrainCfg {
                epochs: 200,
                batch: 32,
                lr: 5e-3,
                patience: 20,
                time_budget: Some(Duration::from_secs(70)),
                batches_per_epoch: 0,
                min_batches_per_epoch: 16,
                keep_last: false,
                cv_folds: 4,
                clip: 1.0,
                warmup: WARMUP,
                seed: 0,
            },
            lrs: Vec::new(),
            restarts: None,
            out: Some(PathBuf::from("out/model.nagode")),
            plots: Some(PathBuf::from("out")),
            verbose: true,
            require_beat_baseline: false,
        }
    }
}

impl RunConfig {
    /// The default run without export, plots or printing.
    pub fn quiet() -> Self {
        RunConfig {
            out: None,
            plots: None,
            verbose: false,
            ..RunConfig::default()
        }
    }
}

/// Settings that cannot work, refused before any data is read.
fn check(cfg: &RunConfig) -> Result<(), AppError> {
    let bad = |m: String| Err(AppError::Usage(m));
    let t = &cfg.train;
    if t.batch == 0 || t.epochs == 0 {
        return bad(format!(
            "--batch ({}) and --epochs ({}) must be at least 1",
            t.batch, t.epochs
        ));
    }
    if cfg.state_dim == 0 || cfg.hidden.contains(&0) || cfg.encoder.contains(&0) {
        return bad("--state, --hidden and --encoder widths must be at least 1".into());
    }
    if !(0.0..1.0).contains(&cfg.mu) {
        return bad(format!("--mu {} is outside [0, 1)", cfg.mu));
    }
    if !(t.lr.is_finite() && t.lr > 0.0) {
        return bad(format!("--lr {} must be a positive number", t.lr));
    }
    Ok(())
}

/// The loaded problem for a config.
pub fn load_problem(cfg: &RunConfig) -> Result<Problem, AppError> {
    let (table, test, resampled) = load_tables_noted(cfg)?;
    let spec = WindowSpec {
        task: cfg.task,
        window: cfg.window,
        horizon: cfg.horizon,
        stride: cfg.stride,
        seed: cfg.train.seed,
        reference: cfg.reference,
    };
    let mut p = data::make_problem(&table, test.as_ref(), spec)?;
    if let Some((m, note)) = resampled {
        p.notes.push(note);
        p.resampled = Some(m);
    }
    let k = cfg.patch.unwrap_or_else(|| data::patch::derived(&p));
    Ok(data::patch::patch(p, k))
}

/// The training table of a config and its separate test table, if any.
pub fn load_tables(cfg: &RunConfig) -> Result<(data::Table, Option<data::Table>), AppError> {
    load_tables_noted(cfg).map(|(t, test, _)| (t, test))
}

/// [`load_tables`], and the length and a note when unequal-length
/// classification series were resampled to one length (`data::resample`).
type Tables = (data::Table, Option<data::Table>, Option<(usize, String)>);
fn load_tables_noted(cfg: &RunConfig) -> Result<Tables, AppError> {
    let (t, test) = match &cfg.source {
        Source::Builtin(b) => data::builtin(*b, cfg.train.seed)?,
        Source::Csv {
            path,
            test,
            columns,
        } => {
            let t = data::load_csv(path, columns.as_deref())?;
            let test = test
                .as_ref()
                .map(|p| data::load_csv(p, columns.as_deref()))
                .transpose()?;
            (t, test)
        }
    };
    let m = match cfg.resample {
        _ if cfg.task != TaskKind::Classify => None,
        Some(0) => None,
        Some(m) => Some(m),
        None => data::resample::derived_length(&t, test.as_ref()),
    };
    let Some(m) = m else {
        return Ok((t, test, None));
    };
    // A derived length is one the patch divides: a device resamples a
    // series to exactly `window * patch` samples and nothing is dropped.
    // A length the user gave is kept.
    let c = t.channels.len();
    let mut m = m;
    while cfg.resample.is_none() {
        let k = cfg
            .patch
            .unwrap_or_else(|| data::patch::patch_for(m, c))
            .max(1);
        let cut = (m / k * k).max(k);
        if cut == m {
            break;
        }
        m = cut;
    }
    let note = data::resample::note(&t, m);
    let resample = |table: &data::Table| {
        data::resample::to_length(table, m).map_err(|e| {
            AppError::Usage(format!(
                "{}: cannot resample to {m} samples: {e}",
                table.source
            ))
        })
    };
    Ok((
        resample(&t)?,
        test.as_ref().map(resample).transpose()?,
        Some((m, note)),
    ))
}

/// Evaluations of f for one prediction over the first test window (its
/// real gaps decide the sub-steps); 0 when there is no plan for it.
pub fn evals_per_prediction(solver: &SolverCfg, p: &Problem, state_dim: usize, dev: &Cpu) -> usize {
    crate::engine::solver::plan(
        solver,
        &p.test.gaps[..p.window],
        1,
        p.window,
        state_dim,
        dev,
    )
    .map_or(0, |pl| pl.evals)
}

/// A model ready to train on a problem, as every run builds it.
pub struct Setup {
    /// The solver configuration.
    pub solver: SolverCfg,
    /// The architecture.
    pub arch: Arch,
    /// The initial weights.
    pub net: Net,
}

/// The solver, architecture and initial weights (drawn from `seed`) that
/// `cfg` gives on `p`.
pub fn setup(cfg: &RunConfig, p: &Problem, dev: &Cpu, seed: u64) -> Setup {
    let solver = solver_cfg(cfg, p);
    let arch = arch(cfg, p);
    let net = Net::new(dev, &arch, solver.kind, seed);
    Setup { solver, arch, net }
}

/// Initial weights drawn from `seed`; a forecaster measured from the
/// window's last value starts as exactly the naive forecast (a zero output
/// layer whose bias undoes the normalisation), so its epoch 0 is the naive
/// forecast and early stopping on validation can never end worse than it.
pub fn init_weights(dev: &Cpu, arch: &Arch, solver: &SolverCfg, p: &Problem, seed: u64) -> Net {
    let mut net = Net::new(dev, arch, solver.kind, seed);
    if p.task == TaskKind::Forecast && p.reference == Reference::LastValue {
        let c = p.channels();
        let bias: Vec<f32> = (0..p.outputs())
            .map(|j| -p.mean[j % c] / p.std[j % c])
            .collect();
        net.set_constant_output(&bias);
    }
    net
}

/// The solver configuration for a problem.
fn solver_cfg(cfg: &RunConfig, p: &Problem) -> SolverCfg {
    SolverCfg {
        kind: cfg.solver,
        mu: cfg.mu,
        consistency: cfg.consistency,
        startup_euler: cfg.startup_euler,
        // Solver time: one unit is the nominal gap (`time_unit`).
        max_step: 1.0 / cfg.steps.max(1) as f32,
        time_unit: p.time_unit,
    }
}

/// The architecture for a problem.
fn arch(cfg: &RunConfig, p: &Problem) -> Arch {
    Arch {
        channels: p.channels(),
        encoder: cfg.encoder.clone(),
        state_dim: cfg.state_dim,
        hidden: cfg.hidden.clone(),
        decoder: Vec::new(),
        outputs: p.outputs(),
        window: p.window,
    }
}

/// What a run produced.
pub struct Summary {
    /// The problem.
    pub problem: Problem,
    /// The solver used.
    pub solver: SolverCfg,
    /// Training outcome.
    pub trained: Trained,
    /// Test metric of the model (MSE in data units or accuracy) and of the naive baseline.
    pub test_metric: f32,
    /// Train metric of the model.
    pub train_metric: f32,
    /// Validation metric of the model.
    pub val_metric: f32,
    /// The baselines on the same windows (`baseline`).
    pub baselines: Vec<crate::tasks::baseline::Baseline>,
    /// One line per baseline the model loses to.
    pub warnings: Vec<String>,
    /// Classification accuracy per series by a vote of several windows.
    pub voted: bool,
    /// Naive baseline on test (last value MSE or majority accuracy).
    pub naive_test: f32,
    /// Naive baseline on train.
    pub naive_train: f32,
    /// dfdx test outputs (de-normalised forecasts or logits).
    pub test_outputs: Vec<f32>,
    /// Field evaluations per prediction.
    pub evals: usize,
    /// Parameter count.
    pub params: usize,
    /// Parity (max abs, max relative) of the runtime vs dfdx on the test windows.
    pub parity: Option<(f32, f32)>,
    /// Model file written.
    pub model_file: Option<PathBuf>,
    /// Plots written.
    pub plots: Vec<PathBuf>,
    /// Wall time of the whole run, seconds.
    pub wall: f64,
}

/// Progress display: an indicatif bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    verbose: bool,
    every: usize,
}

impl Progress {
    fn new(epochs: usize, verbose: bool) -> Self {
        let bar = (verbose && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(epochs as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed:>4} [{bar:30}] epoch {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        });
        Progress {
            bar,
            verbose,
            every: 10,
        }
    }
    fn epoch(&self, l: &EpochLog, task: TaskKind) {
        let metric = match task {
            TaskKind::Forecast => format!("val MSE {:.5}", l.val_metric),
            TaskKind::Classify => format!("val acc {:.3}", l.val_metric),
        };
        let msg = format!(
            "train loss {:.4}, val loss {:.4}, {metric}, {:.1}s",
            l.train_loss, l.val_loss, l.seconds
        );
        match &self.bar {
            Some(b) => {
                b.set_position(l.epoch as u64);
                b.set_message(msg);
            }
            None if self.verbose && (l.epoch == 1 || l.epoch.is_multiple_of(self.every)) => {
                eprintln!("epoch {:>4}: {msg}", l.epoch)
            }
            None => {}
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

/// A trained model with what it was trained on.
struct Fitted {
    problem: Problem,
    solver: SolverCfg,
    state_dim: usize,
    params: usize,
    trained: Trained,
    /// The naive-forecast start of a last-value forecaster (`init_weights`).
    naive_start: Option<Net>,
}

/// A last-value forecaster keeps its trained weights only when they beat
/// the naive forecast on validation by this factor; otherwise it keeps its
/// naive start. On a short series the validation part is a few windows:
/// the heart-rate series (150 samples, 19 validation windows) was 0.92x
/// naive on validation and 1.77x on test.
pub const NAIVE_MARGIN: f32 = 0.9;

/// Loads the data and trains. An unequal-length classification set is
/// trained both ways, its series resampled to one length and as windows
/// of the shortest series with a vote per series, and keeps the way with
/// the better validation score (accuracy, then loss; held-out or
/// cross-validated). Measured: resampling wins on gestures
/// (PickupGestureWiimoteZ 0.63 against 0.30 per window), windows on the
/// vowels (JapaneseVowels: 0.83 per window against 0.62 per series).
fn fit(cfg: &RunConfig, dev: &Cpu) -> Result<Fitted, AppError> {
    let first = fit_one(cfg, dev)?;
    let Some(m) = first.problem.resampled.filter(|_| cfg.resample.is_none()) else {
        return Ok(first);
    };
    if cfg.verbose {
        eprintln!("chosen: trying windows of the shortest series with a vote per series too");
    }
    let windows = fit_one(
        &RunConfig {
            resample: Some(0),
            ..cfg.clone()
        },
        dev,
    )?;
    let (a, b) = (
        first.trained.best_score(first.problem.task),
        windows.trained.best_score(windows.problem.task),
    );
    let (mut kept, why) = if b.beats(&a) {
        (
            windows,
            "windows of the shortest series with a vote per series",
        )
    } else {
        (first, "series resampled to one length")
    };
    kept.problem.notes.push(format!(
        "{why}, by validation: resampled to {m} acc {:.3} loss {:.4}; windows acc {:.3} loss {:.4}",
        a.accuracy, a.loss, b.accuracy, b.loss
    ));
    Ok(kept)
}

/// Loads the data and trains (cross-validated for a small classification set).
fn fit_one(cfg: &RunConfig, dev: &Cpu) -> Result<Fitted, AppError> {
    let p = load_problem(cfg)?;
    if cfg.out.is_some() && cfg.solver == SolverChoice::Resnet {
        return Err(AppError::Usage(
            "the ResNet baseline has no model file; use `--no-export` (or `compare`)".into(),
        ));
    }
    let Setup { solver, arch, net } = setup(cfg, &p, dev, cfg.train.seed);
    if cfg.out.is_some() {
        // Encode the untrained model: a size the format cannot hold fails
        // now, not after training.
        export::to_bytes(&net, &solver, &p)?;
    }
    let params = net.param_count();
    if cfg.verbose {
        print_setup(&p, &arch, &solver, params);
    }
    let lrs = if cfg.lrs.is_empty() {
        crate::tasks::choose::lr_grid(p.window)
    } else {
        cfg.lrs.clone()
    };
    let restarts = cfg
        .restarts
        .unwrap_or_else(|| crate::tasks::choose::default_restarts(p.task));
    let (trained, choices) = crate::tasks::choose::fit(
        p.task,
        &cfg.train,
        &lrs,
        restarts,
        |seed| init_weights(dev, &arch, &solver, &p, seed),
        |net, tcfg| {
            // Progress for the full runs only, not the short trials.
            let show = cfg.verbose && tcfg.epochs == cfg.train.epochs;
            if crate::tasks::crossval::applies(&p, tcfg) {
                crate::tasks::crossval::train(&net, &solver, &p, tcfg, dev, show)
            } else {
                let progress = Progress::new(tcfg.epochs, show);
                let task = p.task;
                let t = train::train(net, &solver, &p, tcfg, dev, |l| progress.epoch(l, task));
                progress.finish();
                t
            }
        },
    )?;
    let mut p = p;
    if cfg.verbose {
        for n in &choices.notes {
            eprintln!("chosen: {n}");
        }
    }
    p.notes.extend(choices.notes);
    let naive_start = (p.task == TaskKind::Forecast && p.reference == Reference::LastValue)
        .then(|| init_weights(dev, &arch, &solver, &p, choices.seed));
    Ok(Fitted {
        problem: p,
        solver,
        state_dim: arch.state_dim,
        params,
        trained,
        naive_start,
    })
}

fn print_setup(p: &Problem, arch: &Arch, solver: &SolverCfg, params: usize) {
    for note in &p.notes {
        eprintln!("chosen: {note}");
    }
    eprintln!(
        "data: {} ({} channels, window {}, {}), {} train / {} validation / {} test windows",
        p.name,
        p.channels(),
        p.window,
        match p.task {
            TaskKind::Forecast => format!("horizon {}", p.horizon),
            TaskKind::Classify => format!("{} classes", p.classes.len()),
        },
        p.train.len,
        p.val.len,
        p.test.len
    );
    eprintln!(
        "model: state {}, field {}x{:?} tanh, solver {} (mu {}, max step {}), {} reference, {params} parameters",
        arch.state_dim,
        arch.state_dim + arch.enc_dim(),
        arch.hidden,
        solver.kind.name(),
        solver.mu,
        solver.max_step,
        reference_name(p.reference),
    );
}

/// The reference in words.
pub fn reference_name(r: Reference) -> &'static str {
    match r {
        Reference::Global => "absolute-level",
        Reference::LastValue => "last-value",
    }
}

/// Trains per `cfg` and does everything the `train` command promises.
pub fn run(cfg: &RunConfig) -> Result<Summary, AppError> {
    let start = Instant::now();
    check(cfg)?;
    let dev: Cpu = Default::default();
    let Fitted {
        problem: p,
        solver,
        state_dim,
        params,
        mut trained,
        naive_start,
    } = fit(cfg, &dev)?;
    let mut p = p;
    let baselines = crate::tasks::baseline::baselines(&p);
    let val_eval = keep_naive_start(&mut trained, naive_start, &mut p, &solver, &baselines, &dev)?;
    let test = train::evaluate(&trained.net, &solver, &p, &p.test, &dev)?;
    let train_eval = train::evaluate(&trained.net, &solver, &p, &p.train, &dev)?;
    // Classifiers: accuracy per series where a series holds several windows.
    let series = |e: &train::Eval, w: &data::Windows| match p.task {
        TaskKind::Classify => train::series_accuracy(&e.outputs, p.classes.len(), w),
        TaskKind::Forecast => None,
    };
    let test_series = series(&test, &p.test);
    let voted = test_series.is_some();
    let test_metric = test_series.unwrap_or(test.metric);
    let train_metric = series(&train_eval, &p.train).unwrap_or(train_eval.metric);
    let val_metric = series(&val_eval, &p.val).unwrap_or(val_eval.metric);
    if voted {
        p.notes.push(format!(
            "accuracy per series: a vote of its windows (summed logits, `nagode::vote`); \
             per window the test accuracy is {:.4}",
            test.metric
        ));
    }
    let warnings = crate::tasks::baseline::warnings(p.task, val_metric, test_metric, &baselines);
    let evals = evals_per_prediction(&solver, &p, state_dim, &dev);
    let mut summary = Summary {
        naive_test: train::naive(&p, &p.test),
        naive_train: train::naive(&p, &p.train),
        test_metric,
        train_metric,
        val_metric,
        baselines,
        warnings,
        voted,
        test_outputs: test.outputs,
        evals,
        params,
        parity: None,
        model_file: None,
        plots: Vec::new(),
        wall: 0.0,
        problem: p,
        solver,
        trained,
    };
    if cfg.require_beat_baseline && !summary.warnings.is_empty() {
        return Err(AppError::Baseline(summary.warnings.clone()));
    }
    if let Some(out) = &cfg.out {
        write_checked(out, &mut summary)?;
    }
    if let Some(dir) = &cfg.plots {
        summary.plots = plots(dir, &summary)?;
    }
    summary.wall = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// A forecaster that started from the naive forecast (epoch 0) keeps that
/// start unless training beat it on validation by [`NAIVE_MARGIN`]; returns
/// the kept model's validation evaluation.
fn keep_naive_start(
    trained: &mut Trained,
    naive_start: Option<Net>,
    p: &mut Problem,
    solver: &SolverCfg,
    baselines: &[Baseline],
    dev: &Cpu,
) -> Result<train::Eval, AppError> {
    let mut val_eval = train::evaluate(&trained.net, solver, p, &p.val, dev)?;
    if let Some(start) = naive_start {
        // The first baseline of a forecaster is the naive forecast.
        let naive = baselines[0].val;
        if val_eval.metric.is_nan() || val_eval.metric > NAIVE_MARGIN * naive {
            p.notes.push(format!(
                "the naive start (epoch 0): the trained model's validation MSE is {:.2}x the \
                 naive forecast's, above the {NAIVE_MARGIN} needed to trust it on {} windows",
                val_eval.metric / naive.max(f32::MIN_POSITIVE),
                p.val.len
            ));
            trained.net = start;
            trained.best_epoch = 0;
            val_eval = train::evaluate(&trained.net, solver, p, &p.val, dev)?;
        }
    }
    Ok(val_eval)
}

/// Writes the trained model to `out` once the runtime accepts it and
/// reproduces the training forward pass; a diverged run writes its last
/// good model beside `out` and fails.
fn write_checked(out: &Path, summary: &mut Summary) -> Result<(), AppError> {
    let bytes = export::to_bytes(&summary.trained.net, &summary.solver, &summary.problem)?;
    if let Stop::Diverged(why) = &summary.trained.stop {
        // Keep the last good model beside, never in place of, the requested file.
        let mut name = out.file_stem().unwrap_or_default().to_owned();
        name.push(".last-good.nagode");
        let last_good = out.with_file_name(name);
        let written = export::write_atomic(&last_good, &bytes).is_ok();
        return Err(AppError::Diverged {
            why: why.clone(),
            out: out.to_path_buf(),
            last_good: written.then_some(last_good),
            epoch: summary.trained.best_epoch,
        });
    }
    // Parity before writing: the file is only written when the runtime
    // accepts it and reproduces the training forward pass.
    let model = nagode::Model::from_bytes(&bytes).map_err(HostError::from)?;
    let rt = host::run_windows(&model, &summary.problem.test)?;
    summary.parity = Some(check_parity(
        &rt,
        &summary.test_outputs,
        summary.problem.test.len,
        out,
    )?);
    export::write_atomic(out, &bytes)?;
    // Reload from disk: what a user (or the firmware build) will read.
    let on_disk = std::fs::read(out).map_err(|source| AppError::Io {
        file: out.display().to_string(),
        source,
    })?;
    nagode::Model::from_bytes(&on_disk).map_err(HostError::from)?;
    summary.model_file = Some(out.to_path_buf());
    Ok(())
}

fn plots(dir: &Path, s: &Summary) -> Result<Vec<PathBuf>, AppError> {
    std::fs::create_dir_all(dir).map_err(|source| AppError::Io {
        file: dir.display().to_string(),
        source,
    })?;
    let mut written = Vec::new();
    let h = &s.trained.history;
    let loss = dir.join("loss.png");
    plot::lines(
        &loss,
        &format!("{} — {} training", s.problem.name, s.solver.kind.name()),
        "epoch",
        "loss",
        &[
            Line {
                label: "train loss",
                points: h
                    .iter()
                    .map(|l| (l.epoch as f64, l.train_loss as f64))
                    .collect(),
            },
            Line {
                label: "validation loss",
                points: h
                    .iter()
                    .map(|l| (l.epoch as f64, l.val_loss as f64))
                    .collect(),
            },
        ],
        true,
    )?;
    written.push(loss);
    if s.problem.task == TaskKind::Forecast {
        // A stretch of consecutive test windows, channel 0: the truth `k`
        // samples past each window, the model's forecast of it, and the
        // naive forecast (the window's last value).
        let p = &s.problem;
        let (c, win, k, out) = (p.channels(), p.window, p.horizon, p.outputs());
        let n_win = p.test.len.min(250);
        let mut truth = Vec::new();
        let mut pred = Vec::new();
        let mut naive = Vec::new();
        for i in 0..n_win {
            let x = i as f64;
            // The last horizon step of channel 0: where forecasts differ most.
            let j = i * out + (k - 1) * c;
            truth.push((x, p.test.y[j] as f64));
            pred.push((x, s.test_outputs[j] as f64));
            naive.push((x, p.test.x[(i * win + win - 1) * c] as f64));
        }
        let fc = dir.join("forecast.png");
        plot::lines(
            &fc,
            &format!(
                "{}: {k}-samples-ahead forecast, consecutive test windows",
                p.channel_names[0]
            ),
            "test window",
            &p.channel_names[0],
            &[
                Line {
                    label: "truth",
                    points: truth,
                },
                Line {
                    label: "model (dfdx)",
                    points: pred,
                },
                Line {
                    label: "naive (last value)",
                    points: naive,
                },
            ],
            false,
        )?;
        written.push(fc);
    }
    Ok(written)
}

/// The units of the user's gaps, in words.
pub fn clock_units(clock: nagode::format::Clock) -> &'static str {
    match clock {
        nagode::format::Clock::Index => "samples (no t column)",
        nagode::format::Clock::Number => "the t column's own units",
        nagode::format::Clock::DateTime => "seconds (t as date-times)",
    }
}

/// Prints the summary table.
pub fn print_summary(s: &Summary) {
    let p = &s.problem;
    let t = &s.trained;
    println!();
    println!(
        "== nagode trainer: {} ({}) ==",
        p.name,
        s.solver.kind.name()
    );
    let stop = match &t.stop {
        Stop::Epochs => "all epochs ran".to_string(),
        Stop::EarlyStop => "early stop on validation".to_string(),
        Stop::Budget => "time budget reached".to_string(),
        Stop::Diverged(w) => format!("DIVERGED ({w}); last good model kept"),
        Stop::CrossValidated { folds } => format!(
            "epoch count by {folds}-fold cross-validation (validation columns: the folds' mean), \
             then refit on every training series"
        ),
    };
    println!(
        "epochs             {} (best {}; {stop})",
        t.history.len(),
        t.best_epoch
    );
    println!(
        "iterations         {} ({:.2} ms each)",
        t.iterations,
        1e3 * t.seconds / t.iterations.max(1) as f64
    );
    for note in &p.notes {
        println!("chosen             {note}");
    }
    println!(
        "time               one unit of solver time = {} (gaps in {})",
        p.time_unit,
        clock_units(p.clock)
    );
    println!(
        "reference          {} (set with `--reference global|last-value`)",
        reference_name(p.reference)
    );
    println!("parameters         {}", s.params);
    println!("f evaluations      {} per prediction", s.evals);
    print_metrics(s);
    if p.task == TaskKind::Forecast {
        println!(
            "test MSE / naive   {:.3}",
            s.test_metric / s.naive_test.max(f32::MIN_POSITIVE)
        );
    }
    for w in &s.warnings {
        println!("WARNING            {w}");
    }
    if let Some((abs, rel)) = s.parity {
        println!("runtime parity     max |nagode - dfdx| = {abs:.3e} ({rel:.3e} relative) over {} test windows", p.test.len);
    }
    if let Some(f) = &s.model_file {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        println!("model file         {} ({size} bytes)", f.display());
        // How the series were cut decides how `eval` must read a CSV.
        let how = match p.resampled {
            Some(m) if p.task == TaskKind::Classify => format!(" --resample {m}"),
            _ if s.voted => " --vote".into(),
            _ => String::new(),
        };
        println!(
            "check with         trainer eval {} --csv TEST.csv{how}",
            f.display()
        );
    }
    for f in &s.plots {
        println!("plot               {}", f.display());
    }
    println!("training time      {:.1} s", t.seconds);
    println!("wall time          {:.1} s", s.wall);
}

/// The metric table: the model and every baseline on train, validation
/// and test.
fn print_metrics(s: &Summary) {
    let p = &s.problem;
    let what = match p.task {
        TaskKind::Forecast => "MSE (data units)",
        TaskKind::Classify => "accuracy",
    };
    let width = s
        .baselines
        .iter()
        .map(|b| b.name.len())
        .max()
        .unwrap_or(0)
        .max(18);
    println!(
        "{what:<width$} {:>12} {:>12} {:>12}",
        "train", "validation", "test"
    );
    println!(
        "{:<width$} {:>12.6} {:>12.6} {:>12.6}",
        "model", s.train_metric, s.val_metric, s.test_metric
    );
    for (k, b) in s.baselines.iter().enumerate() {
        // Only the first (naive / majority) baseline has a training figure.
        let train = if k == 0 {
            format!("{:.6}", s.naive_train)
        } else {
            "-".into()
        };
        println!(
            "{:<width$} {train:>12} {:>12.6} {:>12.6}",
            b.name, b.val, b.test
        );
    }
}
