//! What a comparison (`trainer compare`, any task) is made of, shared by
//! its children (windows, density, irregular) so that none imports
//! another: the options, the job list, the round-robin timer, one seeded
//! run and its record, and the small statistics.

use crate::data::{Builtin, PointSet, Problem, TaskKind};
use crate::engine::solver::SolverChoice;
use crate::engine::train::{self, TrainCfg};
use crate::error::AppError;
use crate::studies::sweep::Shard;
use crate::tasks::window::{self, RunConfig};
use clap::{Args, ValueEnum};
use dfdx::prelude::Cpu;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::PathBuf;

/// Options of `compare`.
#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    /// Data sets (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "ecg,italy,oscillator"
    )]
    pub data: Vec<Builtin>,
    /// Solvers (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "nag,euler,midpoint,rk4,resnet"
    )]
    pub solvers: Vec<SolverChoice>,
    /// Your own data instead of the built-ins: a CSV as `train --csv` takes it.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Separate test CSV for `--csv`.
    #[arg(long, requires = "csv")]
    pub test: Option<PathBuf>,
    /// Task: `forecast` or `classify` for `--csv` (forecast when not
    /// given); `density` compares the solvers on density estimation with a
    /// continuous normalising flow on `--points` instead of `--data`.
    #[arg(long, value_enum)]
    pub task: Option<CompareTask>,
    /// Point sets for `--task density` (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "moons,rings,mixture,motions"
    )]
    pub points: Vec<PointSet>,
    /// Channel columns for `--csv` (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "csv")]
    pub columns: Option<Vec<String>>,
    /// Learning rates tried for every solver (comma-separated), scaled by
    /// sqrt(100 / window) for windows longer than 100 (as `train` scales its
    /// grid); each solver keeps the one with the best validation loss on
    /// seed 0.
    #[arg(long, value_delimiter = ',', default_value = "0.001,0.002,0.005,0.01")]
    pub lrs: Vec<f32>,
    /// Seeds per solver (0..N); each seed draws its own split, weights and batch order.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Epochs per run (the shared budget; no early stopping).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Runs at once (0: one per core; 1: one after the other). The numbers
    /// do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Run only shard I of N (0-based: the jobs whose index mod N is I) and
    /// write its results to `--results` instead of a report; `trainer merge`
    /// makes the report from all N files.
    #[arg(long, value_name = "I/N", requires = "results")]
    pub shard: Option<Shard>,
    /// Results file (JSON) of this run or shard, for `trainer merge`.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Where the report and its plots go.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// What `compare` compares the solvers on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompareTask {
    /// Forecasting (`--csv`).
    Forecast,
    /// Classification (`--csv`).
    Classify,
    /// Density estimation on `--points`.
    Density,
}

impl CompareTask {
    /// The windowed task, `None` for density estimation.
    pub(crate) fn kind(self) -> Option<TaskKind> {
        match self {
            CompareTask::Forecast => Some(TaskKind::Forecast),
            CompareTask::Classify => Some(TaskKind::Classify),
            CompareTask::Density => None,
        }
    }
}

/// Where a comparison's report goes.
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Markdown report.
    #[arg(long, default_value = "trainer/COMPARE.md")]
    pub markdown: PathBuf,
    /// Folder for the PNG plots (linked from the report by a path relative to it).
    #[arg(long, default_value = "trainer/compare")]
    pub plots: PathBuf,
}

/// Options of `merge`.
#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// The results files of every shard of one `compare --shard I/N` sweep.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where the report and its plots go.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `--csv`'s task: forecast unless `--task` says otherwise.
/// Median seconds of `step` per setup over `rounds` rounds, the setups
/// taken round-robin (so a busy shared machine slows them alike) and the
/// first 3 rounds left out as warm-up.
pub(crate) fn round_robin_medians<S>(
    setups: &mut [S],
    rounds: usize,
    mut step: impl FnMut(&mut S) -> Result<(), AppError>,
) -> Result<Vec<f64>, AppError> {
    let mut times = vec![Vec::new(); setups.len()];
    for round in 0..rounds {
        for (setup, t) in setups.iter_mut().zip(times.iter_mut()) {
            let start = std::time::Instant::now();
            step(setup)?;
            if round >= 3 {
                t.push(start.elapsed().as_secs_f64());
            }
        }
    }
    Ok(times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t.get(t.len() / 2).copied().unwrap_or(f64::NAN)
        })
        .collect())
}

/// One independent unit of a comparison (any task); indices into the data
/// sets, `--solvers` and `--lrs`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Job {
    /// Time an iteration of every solver on a data set (and describe it).
    Timing { set: usize },
    /// Train one solver at one learning rate on one seed.
    Run {
        set: usize,
        solver: usize,
        lr: usize,
        seed: u64,
    },
}

/// Every job of the comparison, in the order of the report. Every
/// learning rate runs on every seed although the report keeps one per
/// solver (the best on seed 0): so no job waits for another.
pub(crate) fn job_list(a: &CompareArgs, sets: usize) -> Vec<Job> {
    let mut jobs = Vec::new();
    for set in 0..sets {
        jobs.push(Job::Timing { set });
        for solver in 0..a.solvers.len() {
            for lr in 0..a.lrs.len() {
                jobs.extend((0..a.seeds).map(|seed| Job::Run {
                    set,
                    solver,
                    lr,
                    seed,
                }));
            }
        }
    }
    jobs
}

/// Mean and sample standard deviation.
pub(crate) fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

/// `compare`'s options as a command of their own, to parse an argv.
#[derive(clap::Parser)]
struct Compare {
    #[command(flatten)]
    args: CompareArgs,
}

/// `trainer compare ARGV`'s options.
pub(crate) fn parse(argv: Vec<String>) -> Result<CompareArgs, clap::Error> {
    let argv = std::iter::once("compare".to_string()).chain(argv);
    Ok(<Compare as clap::Parser>::try_parse_from(argv)?.args)
}

/// `file` as a link from a document in `dir` (both relative to the current
/// folder, or both absolute).
pub(crate) fn relative_to(file: &std::path::Path, dir: &std::path::Path) -> String {
    match file.strip_prefix(dir) {
        Ok(rest) => rest.display().to_string(),
        Err(_) => {
            let ups = dir.components().count();
            format!("{}{}", "../".repeat(ups), file.display())
        }
    }
}

/// A fixed epoch budget: no early stopping, no time limit, one pass per
/// epoch, no cross-validation (the built-in sets' settings).
pub(crate) fn budget(epochs: usize) -> TrainCfg {
    TrainCfg {
        epochs,
        patience: usize::MAX,
        time_budget: None,
        min_batches_per_epoch: 1,
        cv_folds: 0,
        ..RunConfig::default().train
    }
}

/// One run's record (f32 figures widened to f64, exactly).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    /// Validation loss after each epoch (epoch k + 1 at index k).
    pub(crate) val_loss: Vec<f64>,
    #[serde(deserialize_with = "nan_as_null")]
    pub(crate) test_metric: f64,
    /// Training wall time: a measurement, not a result.
    pub(crate) seconds: f64,
    pub(crate) params: usize,
    pub(crate) evals: usize,
    /// Why the run diverged before any finite validation loss (a result,
    /// shown in the table; its metric is NaN).
    #[serde(default)]
    pub(crate) diverged: Option<String>,
}

impl RunRecord {
    /// Best validation loss (the kept model's).
    pub(crate) fn best_val(&self) -> f64 {
        self.val_loss.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// JSON has no NaN: serde_json writes null, read back as NaN.
pub(crate) fn nan_as_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// `cfg` with the seed that draws the split and the synthetic data.
pub(crate) fn seeded(cfg: &RunConfig, seed: u64) -> RunConfig {
    RunConfig {
        train: TrainCfg {
            seed,
            ..cfg.train.clone()
        },
        ..cfg.clone()
    }
}

/// One seeded run of `solver` on `p`: trained as `train` trains (cross-
/// validated when small), scored on the test part; a divergence is a record.
pub(crate) fn one_run(
    cfg: &RunConfig,
    p: &Problem,
    solver: SolverChoice,
    seed: u64,
) -> Result<RunRecord, AppError> {
    let dev: Cpu = Default::default();
    let run_cfg = RunConfig {
        solver,
        ..seeded(cfg, seed)
    };
    let window::Setup {
        solver: s,
        arch,
        net,
    } = window::setup(&run_cfg, p, &dev, seed);
    let params = net.param_count();
    // As `train` does: a small classification set is cross-validated.
    let t = if crate::tasks::crossval::applies(p, &run_cfg.train) {
        crate::tasks::crossval::train(&net, &s, p, &run_cfg.train, &dev, false)
    } else {
        train::train(net, &s, p, &run_cfg.train, &dev, |_| {})
    };
    let evals = window::evals_per_prediction(&s, p, arch.state_dim, &dev);
    // A run that diverges is a result of the comparison, not its end.
    let t = match t {
        Err(train::TrainError::Diverged(why)) => {
            return Ok(RunRecord {
                val_loss: Vec::new(),
                test_metric: f64::NAN,
                seconds: 0.0,
                params,
                evals,
                diverged: Some(why),
            })
        }
        t => t?,
    };
    let test = train::evaluate(&t.net, &s, p, &p.test, &dev)?;
    Ok(RunRecord {
        val_loss: t.history.iter().map(|l| l.val_loss as f64).collect(),
        test_metric: test.metric as f64,
        seconds: t.seconds,
        params,
        evals,
        diverged: None,
    })
}

/// The "epochs to target" and "seconds to target (modelled)" cells: the
/// mean epoch over the runs that reached the target (`reached`: each one's
/// epoch, counted from 1), and how many of the `runs` did.
pub(crate) fn to_target_cells(reached: &[f64], runs: usize, per_epoch: f64) -> (String, String) {
    if reached.is_empty() {
        return ("not reached".to_string(), "—".to_string());
    }
    let e = mean_std(reached).0;
    let of = if reached.len() < runs {
        format!(" ({}/{runs} seeds)", reached.len())
    } else {
        String::new()
    };
    (format!("{e:.1}{of}"), format!("{:.2}", e * per_epoch))
}
