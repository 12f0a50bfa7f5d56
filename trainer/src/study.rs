//! What a comparison (`trainer compare`, any task) is made of, shared by
//! the solver comparison (`compare`) and the density one
//! (`density_compare`): the options, the job list, the round-robin timer and
//! the small statistics, so neither of the two imports the other for them.

use crate::data::{Builtin, PointSet, TaskKind};
use crate::error::AppError;
use crate::solver::SolverChoice;
use crate::sweep::Shard;
use clap::{Args, ValueEnum};
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
    /// Density estimation on `--points` (`crate::density_compare`).
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
