//! The solver comparison on windows (forecasting and classification): the
//! built-in sets or a CSV, every solver and learning rate over seeds, one
//! timing job per set; the report's tables and plots.

use super::common::{
    budget, job_list, mean_std, nan_as_null, one_run, parse, relative_to, round_robin_medians,
    seeded, to_target_cells, CompareArgs, CompareTask, Job, MergeArgs, RunRecord,
};
use crate::data::{Builtin, Problem, TaskKind};
use crate::engine::solver::SolverChoice;
use crate::engine::train::{self, TrainCfg};
use crate::error::AppError;
use crate::export::write_atomic;
use crate::plot::{self, Line};
use crate::studies::sweep::{self, Shard};
use crate::tasks::window::{self, RunConfig, Source};
use clap::ValueEnum;
use dfdx::prelude::Cpu;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

fn csv_task(a: &CompareArgs) -> TaskKind {
    a.task
        .and_then(CompareTask::kind)
        .unwrap_or(TaskKind::Forecast)
}

/// The settings for `--csv`: `train`'s data-derived defaults, no early
/// stopping, a fixed epoch budget.
fn setup_csv(a: &CompareArgs, path: &std::path::Path) -> RunConfig {
    let d = RunConfig::default();
    let task = csv_task(a);
    let source = Source::Csv {
        path: path.to_path_buf(),
        test: a.test.clone(),
        columns: a.columns.clone(),
    };
    RunConfig {
        task,
        reference: crate::commands::train::default_reference(task, &source),
        source,
        train: TrainCfg {
            min_batches_per_epoch: d.train.min_batches_per_epoch,
            cv_folds: d.train.cv_folds,
            ..budget(a.epochs.unwrap_or(60))
        },
        ..RunConfig::quiet()
    }
}

/// One data set's settings for the comparison.
fn setup(data: Builtin, epochs: Option<usize>) -> RunConfig {
    let (task, window, e, bpe, lr) = match data {
        Builtin::Ecg => (TaskKind::Forecast, 48, 15, 40, 5e-3),
        Builtin::Italy => (TaskKind::Classify, 0, 150, 0, 5e-3),
        Builtin::Oscillator | Builtin::OscillatorIrregular => (TaskKind::Forecast, 24, 40, 0, 5e-3),
        // Routed to the static comparison before this (compare/mod.rs).
        Builtin::Digits => (TaskKind::Classify, 0, 0, 0, 5e-3),
    };
    RunConfig {
        source: Source::Builtin(data),
        task,
        window: (window > 0).then_some(window),
        stride: Some(if data == Builtin::Ecg { 4 } else { 2 }),
        // The figures in the README were measured with absolute levels.
        reference: nagode::normalise::Reference::Global,
        train: TrainCfg {
            batches_per_epoch: bpe,
            lr,
            ..budget(epochs.unwrap_or(e))
        },
        ..RunConfig::quiet()
    }
}

/// Median time of one training iteration (batch, forward, backward, Adam
/// step) per solver on this data, the solvers timed round-robin so that a
/// busy shared machine slows them alike.
fn iteration_times(
    cfg: &RunConfig,
    p: &Problem,
    solvers: &[SolverChoice],
) -> Result<Vec<f64>, AppError> {
    let dev: Cpu = Default::default();
    let idx: Vec<usize> = (0..cfg.train.batch.min(p.train.len)).collect();
    let mut setups = Vec::new();
    for &solver in solvers {
        let run_cfg = RunConfig {
            solver,
            ..cfg.clone()
        };
        let window::Setup { solver, net, .. } = window::setup(&run_cfg, p, &dev, 0);
        let adam = train::Adam::new(&net, cfg.train.lr);
        setups.push((solver, net, adam));
    }
    round_robin_medians(&mut setups, 23, |(s, net, adam)| {
        train::step(net, adam, s, p, &idx, &dev, cfg.train.clip)?;
        Ok(())
    })
}

/// What the report needs of a data set besides its runs: the timing job's
/// result.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SetInfo {
    /// The problem's name (seed 0).
    name: String,
    train_windows: usize,
    /// The naive baseline on seed 0's test part.
    #[serde(deserialize_with = "nan_as_null")]
    naive: f64,
    /// Iterations per epoch.
    batches: usize,
    /// Median seconds per training iteration, per solver (a measurement).
    iteration: Vec<f64>,
}

/// A job's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Outcome {
    Set(SetInfo),
    Run(RunRecord),
}

/// The results files' `format`.
const FORMAT: &str = "trainer compare 1";

fn run_job(a: &CompareArgs, sets: &[(String, RunConfig)], job: &Job) -> Result<Outcome, AppError> {
    match *job {
        Job::Timing { set } => {
            let cfg = &sets[set].1;
            let p = window::load_problem(&seeded(cfg, 0))?;
            let batches = p
                .train
                .len
                .div_ceil(cfg.train.batch)
                .max(cfg.train.min_batches_per_epoch);
            let info = SetInfo {
                name: p.name.clone(),
                train_windows: p.train.len,
                naive: train::naive(&p, &p.test) as f64,
                batches: match cfg.train.batches_per_epoch {
                    0 => batches,
                    n => batches.min(n),
                },
                iteration: iteration_times(cfg, &p, &a.solvers)?,
            };
            eprintln!("compare: {} timed", info.name);
            Ok(Outcome::Set(info))
        }
        Job::Run {
            set,
            solver,
            lr,
            seed,
        } => {
            let (solver, lr) = (a.solvers[solver], a.lrs[lr]);
            let mut cfg = seeded(&sets[set].1, seed);
            let p = window::load_problem(&cfg)?;
            // As `train` does: long windows take proportionally smaller rates.
            let lr = lr * crate::tasks::choose::lr_scale(p.window);
            cfg.train.lr = lr;
            let r = one_run(&cfg, &p, solver, seed)?;
            eprintln!(
                "compare: {} {:<8} lr {lr} seed {seed}: test {:.5}, {:.1}s",
                sets[set].0,
                solver.name(),
                r.test_metric,
                r.seconds
            );
            Ok(Outcome::Run(r))
        }
    }
}

/// The data sets compared: a file stem (for the plots) and the settings.
fn sets(a: &CompareArgs) -> Vec<(String, RunConfig)> {
    match &a.csv {
        Some(path) => vec![(
            path.file_stem()
                .map_or("csv".into(), |s| s.to_string_lossy().into_owned()),
            setup_csv(a, path),
        )],
        None => a
            .data
            .iter()
            .map(|&d| (format!("{d:?}").to_lowercase(), setup(d, a.epochs)))
            .collect(),
    }
}

/// The solver comparison on windows: every job (or one shard's), then the
/// report (or the shard's results file).
pub(super) fn run(a: &CompareArgs) -> Result<(), AppError> {
    if a.seeds == 0
        || a.solvers.is_empty()
        || a.data.is_empty()
        || a.lrs.is_empty()
        || a.epochs == Some(0)
    {
        return Err(AppError::Usage(
            "compare needs at least one data set, solver, learning rate, seed and epoch".into(),
        ));
    }
    let sets = sets(a);
    let jobs = job_list(a, sets.len());
    let shard = a.shard.unwrap_or(Shard::ALL);
    eprintln!(
        "compare: {} jobs{}",
        jobs.len(),
        a.shard.map(|s| format!(", shard {s}")).unwrap_or_default()
    );
    let done = sweep::run_jobs(&jobs, shard, a.jobs, |job| run_job(a, &sets, job))?;
    if let Some(path) = &a.results {
        sweep::write_shard(path, FORMAT, &sweep_argv(a), jobs.len(), shard, &done)?;
        eprintln!("wrote {}", path.display());
    }
    if a.shard.is_none() {
        let outcomes = done.into_iter().map(|(_, o)| o).collect();
        write_report(a, &sets, &jobs, outcomes)?;
    }
    Ok(())
}

/// The report of a sharded window comparison from its shards' results.
pub(super) fn merge(m: &MergeArgs) -> Result<(), AppError> {
    let (argv, outcomes) = sweep::merge::<Outcome>(&m.files, FORMAT)?;
    let mut a =
        parse(argv).map_err(|e| AppError::Usage(format!("merge: the shards' sweep: {e}")))?;
    a.report = m.report.clone();
    let sets = sets(&a);
    let jobs = job_list(&a, sets.len());
    write_report(&a, &sets, &jobs, outcomes)
}

/// The options that define the sweep, as `compare` takes them: what a
/// results file records and the report's "regenerate with" line shows.
fn sweep_argv(a: &CompareArgs) -> Vec<String> {
    fn names<E: ValueEnum>(v: &[E]) -> String {
        v.iter()
            .filter_map(|e| e.to_possible_value().map(|p| p.get_name().to_string()))
            .collect::<Vec<_>>()
            .join(",")
    }
    let mut v: Vec<String> = Vec::new();
    let mut opt = |name: &str, value: String| v.extend([format!("--{name}"), value]);
    match &a.csv {
        Some(path) => {
            opt("csv", path.display().to_string());
            if let Some(t) = &a.test {
                opt("test", t.display().to_string());
            }
            opt("task", names(&[csv_task(a)]));
            if let Some(c) = &a.columns {
                opt("columns", c.join(","));
            }
        }
        None => opt("data", names(&a.data)),
    }
    opt("solvers", names(&a.solvers));
    let lrs: Vec<String> = a.lrs.iter().map(f32::to_string).collect();
    opt("lrs", lrs.join(","));
    opt("seeds", a.seeds.to_string());
    if let Some(e) = a.epochs {
        opt("epochs", e.to_string());
    }
    v
}

/// The report from every job's outcome (in job order): printed and
/// written with its plots.
fn write_report(
    a: &CompareArgs,
    sets: &[(String, RunConfig)],
    jobs: &[Job],
    outcomes: Vec<Outcome>,
) -> Result<(), AppError> {
    let md = report(a, sets, jobs, outcomes)?;
    write_atomic(&a.report.markdown, md.as_bytes())?;
    println!("{md}");
    eprintln!("wrote {}", a.report.markdown.display());
    Ok(())
}

/// The Markdown report (plots drawn on the way).
fn report(
    a: &CompareArgs,
    sets: &[(String, RunConfig)],
    jobs: &[Job],
    outcomes: Vec<Outcome>,
) -> Result<String, AppError> {
    let mut md = String::new();
    let _ = writeln!(md, "# Solver comparison (generated by `trainer compare`)\n");
    let _ = writeln!(
        md,
        "Regenerate with:\n\n```\ncargo run -p trainer -- compare {}\n```\n",
        sweep_argv(a).join(" ")
    );
    let _ = writeln!(
        md,
        "Same data, model (state 8, field 32-32 tanh, linear decoder), optimiser (Adam, batch 32, \
         gradient clip 1) and epoch budget for every solver; each solver's learning rate is the \
         one of {:?} with the best validation loss on seed 0; seeds 0 to {} (weights, batch \
         order and, for classification, the split: each seed draws its own; forecasting splits \
         in time). No early stopping: the kept model is the best-validation epoch; the test \
         metric is that model's. *Target* = 1.1 x the median over all runs of the best validation \
         loss; *epochs to target* is the mean over the seeds that reached it, *s to target* = \
         epochs to target x s / epoch, where *s / epoch* = iterations per epoch x the median time \
         of one training iteration (batch 32: forward, backward, Adam step), the solvers timed \
         round-robin on the same batch so that the shared 2-core machine slows them alike; the \
         loss-vs-time plots use the same time axis.\n",
        a.lrs,
        a.seeds.saturating_sub(1)
    );
    let mismatch = || AppError::Usage("compare: the results do not match the job list".into());
    if jobs.len() != outcomes.len() {
        return Err(mismatch());
    }
    // [set] -> timing, and [set][solver][lr][seed] -> run.
    let mut info: Vec<Option<SetInfo>> = vec![None; sets.len()];
    let mut runs = vec![vec![vec![Vec::new(); a.lrs.len()]; a.solvers.len()]; sets.len()];
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match (*job, outcome) {
            (Job::Timing { set }, Outcome::Set(s)) => info[set] = Some(s),
            (
                Job::Run {
                    set, solver, lr, ..
                },
                Outcome::Run(r),
            ) => runs[set][solver][lr].push(r),
            _ => return Err(mismatch()),
        }
    }
    for (((stem, cfg), info), by_solver) in sets.iter().zip(info).zip(runs) {
        let info = info.ok_or_else(mismatch)?;
        let results = by_solver
            .into_iter()
            .zip(&a.solvers)
            .map(|(by_lr, &solver)| pick_lr(a, solver, by_lr))
            .collect::<Result<Vec<_>, _>>()?;
        compare_set(a, stem, cfg, &info, &results, &mut md)?;
    }
    Ok(md)
}

/// One solver's runs over the seeds, with the learning rate it kept.
type SolverRuns = (SolverChoice, f32, Vec<RunRecord>);

/// `solver`'s runs at the learning rate (of `--lrs`) with the best
/// validation loss on seed 0; `by_lr` holds the runs per rate, by seed.
fn pick_lr(
    a: &CompareArgs,
    solver: SolverChoice,
    by_lr: Vec<Vec<RunRecord>>,
) -> Result<SolverRuns, AppError> {
    let mut best: Option<(f32, Vec<RunRecord>)> = None;
    for (&lr, runs) in a.lrs.iter().zip(by_lr) {
        let val = |r: &[RunRecord]| r.first().map_or(f64::INFINITY, RunRecord::best_val);
        if best.as_ref().is_none_or(|(_, b)| val(&runs) < val(b)) {
            best = Some((lr, runs));
        }
    }
    let (lr, runs) =
        best.ok_or_else(|| AppError::Usage("--lrs needs at least one learning rate".into()))?;
    for (seed, r) in runs.iter().enumerate() {
        eprintln!(
            "  {:<8} lr {lr} seed {seed}: test {:.5}, {:.1}s",
            solver.name(),
            r.test_metric,
            r.seconds
        );
    }
    Ok((solver, lr, runs))
}

/// A solver's validation-loss curve: (name, (x, mean over seeds)).
type Curve = (&'static str, Vec<(f64, f64)>);

/// Validation-loss curves per solver.
type Curves = Vec<Curve>;

/// One data set's section of the report: the table and the plots.
fn compare_set(
    a: &CompareArgs,
    stem: &str,
    cfg: &RunConfig,
    info: &SetInfo,
    results: &[SolverRuns],
    md: &mut String,
) -> Result<(), AppError> {
    eprintln!(
        "compare: {} ({} train windows), {} epochs",
        info.name, info.train_windows, cfg.train.epochs
    );
    let target = target_loss(results);
    let metric = match cfg.task {
        TaskKind::Forecast => "test MSE",
        TaskKind::Classify => "test accuracy",
    };
    let _ = writeln!(
        md,
        "## {} ({}, {} epochs, target validation loss {:.4})\n",
        info.name, metric, cfg.train.epochs, target
    );
    let _ = writeln!(
        md,
        "Naive baseline on test: {:.5} ({}).\n",
        info.naive,
        match cfg.task {
            TaskKind::Forecast => "last value repeated, MSE",
            TaskKind::Classify => "majority class, accuracy",
        }
    );
    let _ = writeln!(md, "| solver | lr (by validation) | parameters | f evals / forward | s / epoch | epochs to target | s to target (modelled) | {metric} (mean ± std) |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    let (mut by_epoch, mut by_time) = (Vec::new(), Vec::new());
    for (runs, it) in results.iter().zip(&info.iteration) {
        let per_epoch = it * info.batches as f64;
        table_row(md, runs, per_epoch, target);
        let (epoch, time) = curves(runs, per_epoch);
        by_epoch.push(epoch);
        by_time.push(time);
    }
    plots(a, stem, &info.name, [&by_epoch, &by_time], md)?;
    let _ = writeln!(md);
    Ok(())
}

/// One solver's mean validation loss per epoch over seeds, against epoch
/// and against modelled time (`per_epoch` seconds per epoch).
fn curves((solver, _, runs): &SolverRuns, per_epoch: f64) -> (Curve, Curve) {
    let n = runs.iter().map(|r| r.val_loss.len()).min().unwrap_or(0);
    let mean_at = |k: usize| runs.iter().map(|r| r.val_loss[k]).sum::<f64>() / runs.len() as f64;
    (
        (
            solver.name(),
            (0..n).map(|k| ((k + 1) as f64, mean_at(k))).collect(),
        ),
        (
            solver.name(),
            (0..n)
                .map(|k| ((k + 1) as f64 * per_epoch, mean_at(k)))
                .collect(),
        ),
    )
}

/// The target validation loss: 1.1 x the median over all runs of the best
/// validation loss.
fn target_loss(results: &[SolverRuns]) -> f64 {
    let mut bests: Vec<f64> = results
        .iter()
        .flat_map(|(_, _, rs)| rs.iter().map(RunRecord::best_val))
        .collect();
    bests.sort_by(f64::total_cmp);
    1.1 * bests.get(bests.len() / 2).copied().unwrap_or(f64::INFINITY)
}

/// One solver's row of the table; `per_epoch` is its modelled seconds per
/// epoch.
fn table_row(md: &mut String, (solver, lr, runs): &SolverRuns, per_epoch: f64, target: f64) {
    let reached: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.val_loss.iter().position(|&l| l <= target))
        .map(|k| (k + 1) as f64)
        .collect();
    let to_target = to_target_cells(&reached, runs.len(), per_epoch);
    let finite: Vec<f64> = runs
        .iter()
        .filter(|r| r.diverged.is_none())
        .map(|r| r.test_metric)
        .collect();
    let (m, sd) = mean_std(&finite);
    let diverged = runs.len() - finite.len();
    let diverged = if diverged > 0 {
        format!(" ({diverged} of {} diverged)", runs.len())
    } else {
        String::new()
    };
    let r0 = &runs[0];
    let _ = writeln!(
        md,
        "| {} | {lr} | {} | {} | {:.3} | {} | {} | {:.5} ± {:.5}{diverged} |",
        solver.name(),
        r0.params,
        r0.evals,
        per_epoch,
        to_target.0,
        to_target.1,
        m,
        sd
    );
}

/// The loss-vs-epoch and loss-vs-time plots, linked from the report.
fn plots(
    a: &CompareArgs,
    stem: &str,
    name: &str,
    [by_epoch, by_time]: [&Curves; 2],
    md: &mut String,
) -> Result<(), AppError> {
    let (dir, markdown) = (&a.report.plots, &a.report.markdown);
    for (suffix, x_label, series) in [
        ("epoch", "epoch", by_epoch),
        ("time", "training time (s)", by_time),
    ] {
        let file = dir.join(format!("{stem}_loss_vs_{suffix}.png"));
        std::fs::create_dir_all(dir).map_err(|source| AppError::Io {
            file: dir.display().to_string(),
            source,
        })?;
        let lines: Vec<Line<'_>> = series
            .iter()
            .map(|(name, pts)| Line {
                label: name,
                points: pts.clone(),
            })
            .collect();
        plot::lines(
            &file,
            // The file's name, not its path: a path runs off the image.
            &format!(
                "{}: validation loss (mean of {} seeds)",
                std::path::Path::new(name)
                    .file_stem()
                    .map_or(name.into(), |s| s.to_string_lossy()),
                a.seeds
            ),
            x_label,
            "validation loss",
            &lines,
            true,
        )?;
        let rel = relative_to(&file, markdown.parent().unwrap_or(std::path::Path::new("")));
        let _ = writeln!(md, "\n![{stem} loss vs {suffix}]({rel})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// A sweep of seconds: 2 solvers x 2 learning rates x 2 seeds, 2 epochs
    /// of the generated oscillators, plus the timing job.
    const SWEEP: [&str; 10] = [
        "--data",
        "oscillator",
        "--solvers",
        "nag,euler",
        "--lrs",
        "0.005,0.01",
        "--seeds",
        "2",
        "--epochs",
        "2",
    ];

    /// The options of SWEEP and `extra`, the report under `dir`.
    fn args(dir: &Path, extra: &[String]) -> CompareArgs {
        // SWEEP, but an option of `extra` in place of SWEEP's.
        let mut argv: Vec<String> = SWEEP
            .chunks(2)
            .filter(|opt| !extra.iter().any(|e| e == opt[0]))
            .flatten()
            .map(|s| s.to_string())
            .collect();
        argv.extend(["--markdown".into(), dir.join("c.md").display().to_string()]);
        argv.extend(["--plots".into(), dir.join("plots").display().to_string()]);
        argv.extend(extra.iter().cloned());
        parse(argv).expect("compare options")
    }

    /// Every figure of the outcomes except the measured times, bit for bit.
    fn results(outcomes: &[Outcome]) -> Vec<String> {
        outcomes
            .iter()
            .map(|o| match o {
                Outcome::Set(s) => format!(
                    "{} {} {:x} {}",
                    s.name,
                    s.train_windows,
                    s.naive.to_bits(),
                    s.batches
                ),
                Outcome::Run(r) => format!(
                    "{:x?} {:x} {} {}",
                    r.val_loss.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    r.test_metric.to_bits(),
                    r.params,
                    r.evals
                ),
            })
            .collect()
    }

    fn unsharded(a: &CompareArgs, threads: usize) -> Vec<Outcome> {
        let sets = sets(a);
        let jobs = job_list(a, sets.len());
        sweep::run_jobs(&jobs, Shard::ALL, threads, |j| run_job(a, &sets, j))
            .expect("sweep")
            .into_iter()
            .map(|(_, o)| o)
            .collect()
    }

    /// `compare --shard I/N --results DIR/NAME` of `a`'s sweep.
    fn shard(dir: &Path, extra: &[&str], name: &str, i: usize, n: usize) -> PathBuf {
        let file = dir.join(name);
        let mut more: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        more.extend(["--shard".into(), format!("{i}/{n}"), "--results".into()]);
        more.push(file.display().to_string());
        run(&args(dir, &more)).expect("shard");
        file
    }

    fn refused(files: &[PathBuf]) -> String {
        match sweep::merge::<Outcome>(files, FORMAT) {
            Ok(_) => panic!("merged {files:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn compare_shards_merge_to_the_unsharded_numbers_and_report() {
        let dir = std::env::temp_dir().join(format!("nagode-compare-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let a = args(&dir, &[]);
        let whole = unsharded(&a, 2);
        assert_eq!(whole.len(), 1 + 2 * 2 * 2);
        assert_eq!(
            results(&whole),
            results(&unsharded(&a, 1)),
            "one thread or two: the same numbers"
        );

        let files: Vec<PathBuf> = (0..3)
            .map(|i| shard(&dir, &[], &format!("s{i}.json"), i, 3))
            .collect();
        let (argv, mut merged) = sweep::merge::<Outcome>(&files, FORMAT).expect("merge");
        assert_eq!(argv, sweep_argv(&a));
        assert_eq!(results(&merged), results(&whole));

        // The same report once the measured times agree.
        for (m, w) in merged.iter_mut().zip(&whole) {
            if let (Outcome::Set(m), Outcome::Set(w)) = (m, w) {
                m.iteration.clone_from(&w.iteration);
            }
        }
        let jobs = job_list(&a, 1);
        let report_of = |o: Vec<Outcome>| report(&a, &sets(&a), &jobs, o).expect("report");
        let whole_md = report_of(whole);
        assert!(whole_md.contains("| nag | "), "{whole_md}");
        assert_eq!(report_of(merged), whole_md);

        let missing = refused(&files[..2]);
        assert!(missing.contains("no results for shard(s) 2/3"), "{missing}");
        let twice = refused(&[
            files[0].clone(),
            files[1].clone(),
            files[2].clone(),
            files[1].clone(),
        ]);
        assert!(twice.contains("given twice"), "{twice}");
        let other = shard(&dir, &["--epochs", "1"], "other.json", 2, 3);
        let foreign = refused(&[files[0].clone(), files[1].clone(), other]);
        assert!(foreign.contains("another sweep"), "{foreign}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
