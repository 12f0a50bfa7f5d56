//! `trainer compare`: the seed paper's claim (NAG trains faster with
//! comparable or better accuracy than fixed-step explicit solvers and a
//! ResNet) re-run on the same data, model size and budget over several
//! seeds; and `trainer irregular`, the irregular-sampling demonstration.

use crate::app::{self, AppError, RunConfig, Source};
use crate::data::{self, Builtin, Problem, TaskKind};
use crate::export::write_atomic;
use crate::plot::{self, Line};
use crate::solver::SolverChoice;
use crate::train::{self, EpochLog, TrainCfg};
use clap::Args;
use dfdx::prelude::Cpu;
use std::fmt::Write as _;
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
    /// Task for `--csv`.
    #[arg(long, value_enum, requires = "csv", default_value = "forecast")]
    pub task: TaskKind,
    /// Channel columns for `--csv` (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "csv")]
    pub columns: Option<Vec<String>>,
    /// Learning rates tried for every solver (comma-separated); each solver
    /// keeps the one with the best validation loss on seed 0.
    #[arg(long, value_delimiter = ',', default_value = "0.002,0.005,0.01")]
    pub lrs: Vec<f32>,
    /// Seeds per solver (0..N); each seed draws its own split, weights and batch order.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Epochs per run (the shared budget; no early stopping).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Markdown report.
    #[arg(long, default_value = "trainer/COMPARE.md")]
    pub markdown: PathBuf,
    /// Folder for the PNG plots (linked from the report by a path relative to it).
    #[arg(long, default_value = "trainer/compare")]
    pub plots: PathBuf,
}

/// The settings for `--csv`: `train`'s data-derived defaults, no early
/// stopping, a fixed epoch budget.
fn setup_csv(a: &CompareArgs, path: &std::path::Path) -> RunConfig {
    let d = RunConfig::default();
    let source = Source::Csv {
        path: path.to_path_buf(),
        test: a.test.clone(),
        columns: a.columns.clone(),
    };
    RunConfig {
        task: a.task,
        reference: crate::cli::default_reference(a.task, &source),
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

/// A fixed epoch budget: no early stopping, no time limit, one pass per
/// epoch, no cross-validation (the built-in sets' settings).
fn budget(epochs: usize) -> TrainCfg {
    TrainCfg {
        epochs,
        patience: usize::MAX,
        time_budget: None,
        min_batches_per_epoch: 1,
        cv_folds: 0,
        ..RunConfig::default().train
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
        let app::Setup { solver, net, .. } = app::setup(&run_cfg, p, &dev, 0);
        let adam = train::Adam::new(&net, cfg.train.lr);
        setups.push((solver, net, adam));
    }
    let rounds = 23;
    let mut times = vec![Vec::new(); solvers.len()];
    for round in 0..rounds {
        for ((s, net, adam), t) in setups.iter_mut().zip(times.iter_mut()) {
            let start = std::time::Instant::now();
            train::step(net, adam, s, p, &idx, &dev, cfg.train.clip)?;
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

/// One run's record.
struct RunRecord {
    history: Vec<EpochLog>,
    /// Best validation loss (the kept model's).
    best_val: f32,
    test_metric: f32,
    seconds: f64,
    params: usize,
    evals: usize,
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

fn one_run(
    cfg: &RunConfig,
    p: &Problem,
    solver: SolverChoice,
    seed: u64,
) -> Result<RunRecord, AppError> {
    let dev: Cpu = Default::default();
    let run_cfg = RunConfig {
        solver,
        train: TrainCfg {
            seed,
            ..cfg.train.clone()
        },
        ..cfg.clone()
    };
    let app::Setup {
        solver: s,
        arch,
        net,
    } = app::setup(&run_cfg, p, &dev, seed);
    let params = net.param_count();
    // As `train` does: a small classification set is cross-validated.
    let t = if crate::crossval::applies(p, &run_cfg.train) {
        crate::crossval::train(&net, &s, p, &run_cfg.train, &dev, false)?
    } else {
        train::train(net, &s, p, &run_cfg.train, &dev, |_| {})?
    };
    let test = train::evaluate(&t.net, &s, p, &p.test, &dev)?;
    let evals = app::evals_per_prediction(&s, p, arch.state_dim, &dev);
    let best_val = t
        .history
        .iter()
        .map(|l| l.val_loss)
        .fold(f32::INFINITY, f32::min);
    Ok(RunRecord {
        history: t.history,
        best_val,
        test_metric: test.metric,
        seconds: t.seconds,
        params,
        evals,
    })
}

/// The learning rate from `lrs` with the best validation loss for `solver`
/// on seed 0, and that run.
fn pick_lr(
    cfg: &RunConfig,
    p: &Problem,
    solver: SolverChoice,
    lrs: &[f32],
) -> Result<(f32, RunRecord), AppError> {
    let mut best: Option<(f32, RunRecord)> = None;
    for &lr in lrs {
        let cfg = RunConfig {
            train: TrainCfg {
                lr,
                ..cfg.train.clone()
            },
            ..cfg.clone()
        };
        let r = one_run(&cfg, p, solver, 0)?;
        if best.as_ref().is_none_or(|(_, b)| r.best_val < b.best_val) {
            best = Some((lr, r));
        }
    }
    best.ok_or_else(|| AppError::Usage("--lrs needs at least one learning rate".into()))
}

/// `trainer compare`.
pub fn run(a: &CompareArgs) -> Result<(), AppError> {
    if a.seeds == 0 || a.solvers.is_empty() || a.data.is_empty() || a.epochs == Some(0) {
        return Err(AppError::Usage(
            "compare needs at least one data set, solver, seed and epoch".into(),
        ));
    }
    let mut md = String::new();
    let _ = writeln!(md, "# Solver comparison (generated by `trainer compare`)\n");
    let _ = writeln!(md, "Regenerate with:\n\n```\n{}\n```\n", command_line(a));
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
    let sets: Vec<(String, RunConfig)> = match &a.csv {
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
    };
    for (stem, cfg) in &sets {
        compare_set(a, stem, cfg, &mut md)?;
    }
    write_atomic(&a.markdown, md.as_bytes())?;
    println!("{md}");
    eprintln!("wrote {}", a.markdown.display());
    Ok(())
}

/// The command that regenerates the report.
fn command_line(a: &CompareArgs) -> String {
    let what = match &a.csv {
        Some(path) => format!(
            "--csv {}{} --task {}",
            path.display(),
            a.test
                .as_ref()
                .map(|t| format!(" --test {}", t.display()))
                .unwrap_or_default(),
            format!("{:?}", a.task).to_lowercase()
        ),
        None => format!(
            "--data {}",
            a.data
                .iter()
                .map(|d| format!("{d:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(",")
        ),
    };
    format!(
        "cargo run -p trainer -- compare {what} --solvers {} --lrs {} --seeds {}{}",
        a.solvers
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(","),
        a.lrs
            .iter()
            .map(f32::to_string)
            .collect::<Vec<_>>()
            .join(","),
        a.seeds,
        a.epochs
            .map(|e| format!(" --epochs {e}"))
            .unwrap_or_default()
    )
}

/// One solver's runs over the seeds, with the learning rate it kept.
type SolverRuns = (SolverChoice, f32, Vec<RunRecord>);

/// A solver's validation-loss curve: (x, mean over seeds).
type Curve = (&'static str, Vec<(f64, f64)>);

/// Validation-loss curves per solver.
type Curves = Vec<Curve>;

/// One data set's section of the report: every solver over every seed,
/// the table and the plots.
fn compare_set(
    a: &CompareArgs,
    stem: &str,
    cfg: &RunConfig,
    md: &mut String,
) -> Result<(), AppError> {
    // Each seed draws its own split (and its own synthetic data).
    let problems = (0..a.seeds)
        .map(|seed| {
            app::load_problem(&RunConfig {
                train: TrainCfg {
                    seed,
                    ..cfg.train.clone()
                },
                ..cfg.clone()
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let p = &problems[0];
    eprintln!(
        "compare: {} ({} train windows), {} epochs",
        p.name, p.train.len, cfg.train.epochs
    );
    let results = a
        .solvers
        .iter()
        .map(|&solver| solver_runs(a, cfg, &problems, solver))
        .collect::<Result<Vec<_>, _>>()?;
    let target = target_loss(&results);
    let metric = match p.task {
        TaskKind::Forecast => "test MSE",
        TaskKind::Classify => "test accuracy",
    };
    let _ = writeln!(
        md,
        "## {} ({}, {} epochs, target validation loss {:.4})\n",
        p.name, metric, cfg.train.epochs, target
    );
    let _ = writeln!(
        md,
        "Naive baseline on test: {:.5} ({}).\n",
        train::naive(p, &p.test),
        match p.task {
            TaskKind::Forecast => "last value repeated, MSE",
            TaskKind::Classify => "majority class, accuracy",
        }
    );
    let _ = writeln!(md, "| solver | lr (by validation) | parameters | f evals / forward | s / epoch | epochs to target | s to target (modelled) | {metric} (mean ± std) |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    let iteration = iteration_times(cfg, p, &a.solvers)?;
    let batches = p
        .train
        .len
        .div_ceil(cfg.train.batch)
        .max(cfg.train.min_batches_per_epoch);
    let per_epoch_batches = if cfg.train.batches_per_epoch == 0 {
        batches
    } else {
        batches.min(cfg.train.batches_per_epoch)
    };
    let (mut by_epoch, mut by_time) = (Vec::new(), Vec::new());
    for (runs, it) in results.iter().zip(&iteration) {
        let per_epoch = it * per_epoch_batches as f64;
        table_row(md, runs, per_epoch, target);
        let (epoch, time) = curves(runs, per_epoch);
        by_epoch.push(epoch);
        by_time.push(time);
    }
    plots(a, stem, p, [&by_epoch, &by_time], md)?;
    let _ = writeln!(md);
    Ok(())
}

/// One solver's mean validation loss per epoch over seeds, against epoch
/// and against modelled time (`per_epoch` seconds per epoch).
fn curves((solver, _, runs): &SolverRuns, per_epoch: f64) -> (Curve, Curve) {
    let n = runs.iter().map(|r| r.history.len()).min().unwrap_or(0);
    let mean_at = |k: usize| {
        runs.iter()
            .map(|r| r.history[k].val_loss as f64)
            .sum::<f64>()
            / runs.len() as f64
    };
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

/// `solver` on every seed's problem, with the learning rate it picks on
/// seed 0.
fn solver_runs(
    a: &CompareArgs,
    cfg: &RunConfig,
    problems: &[Problem],
    solver: SolverChoice,
) -> Result<SolverRuns, AppError> {
    let (lr, first) = pick_lr(cfg, &problems[0], solver, &a.lrs)?;
    let mut runs = vec![first];
    let cfg = RunConfig {
        train: TrainCfg {
            lr,
            ..cfg.train.clone()
        },
        ..cfg.clone()
    };
    for (seed, p) in problems.iter().enumerate().skip(1) {
        runs.push(one_run(&cfg, p, solver, seed as u64)?);
    }
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

/// The target validation loss: 1.1 x the median over all runs of the best
/// validation loss.
fn target_loss(results: &[SolverRuns]) -> f64 {
    let mut bests: Vec<f64> = results
        .iter()
        .flat_map(|(_, _, rs)| {
            rs.iter().map(|r| {
                r.history
                    .iter()
                    .map(|l| l.val_loss as f64)
                    .fold(f64::INFINITY, f64::min)
            })
        })
        .collect();
    bests.sort_by(f64::total_cmp);
    1.1 * bests.get(bests.len() / 2).copied().unwrap_or(f64::INFINITY)
}

/// One solver's row of the table; `per_epoch` is its modelled seconds per
/// epoch.
fn table_row(md: &mut String, (solver, lr, runs): &SolverRuns, per_epoch: f64, target: f64) {
    let reach: Vec<(f64, f64)> = runs
        .iter()
        .filter_map(|r| {
            r.history
                .iter()
                .find(|l| (l.val_loss as f64) <= target)
                .map(|l| (l.epoch as f64, l.epoch as f64 * per_epoch))
        })
        .collect();
    let to_target = if reach.is_empty() {
        ("not reached".to_string(), "—".to_string())
    } else {
        let e = mean_std(&reach.iter().map(|x| x.0).collect::<Vec<_>>()).0;
        let s = mean_std(&reach.iter().map(|x| x.1).collect::<Vec<_>>()).0;
        let of = if reach.len() < runs.len() {
            format!(" ({}/{} seeds)", reach.len(), runs.len())
        } else {
            String::new()
        };
        (format!("{e:.1}{of}"), format!("{s:.2}"))
    };
    let (m, sd) = mean_std(
        &runs
            .iter()
            .map(|r| r.test_metric as f64)
            .collect::<Vec<_>>(),
    );
    let r0 = &runs[0];
    let _ = writeln!(
        md,
        "| {} | {lr} | {} | {} | {:.3} | {} | {} | {:.5} ± {:.5} |",
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
    p: &Problem,
    [by_epoch, by_time]: [&Curves; 2],
    md: &mut String,
) -> Result<(), AppError> {
    for (suffix, x_label, series) in [
        ("epoch", "epoch", by_epoch),
        ("time", "training time (s)", by_time),
    ] {
        let file = a.plots.join(format!("{stem}_loss_vs_{suffix}.png"));
        std::fs::create_dir_all(&a.plots).map_err(|source| AppError::Io {
            file: a.plots.display().to_string(),
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
            &format!("{}: validation loss (mean of {} seeds)", p.name, a.seeds),
            x_label,
            "validation loss",
            &lines,
            true,
        )?;
        let rel = relative_to(
            &file,
            a.markdown.parent().unwrap_or(std::path::Path::new("")),
        );
        let _ = writeln!(md, "\n![{stem} loss vs {suffix}]({rel})");
    }
    Ok(())
}

/// Options of `irregular`.
#[derive(Args, Debug, Clone)]
pub struct IrregularArgs {
    /// Seeds (0..N).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Epochs per run.
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    /// Oscillators generated per seed (70 / 15 / 15 % train / validation / test).
    #[arg(long, default_value_t = 300)]
    pub series: usize,
}

/// `trainer irregular`: oscillators classified slow/fast (frequency below
/// or above `data::OSC_SPLIT`) from a 32-sample window; regular sampling vs
/// 35 % of the samples dropped (real gaps given to the solver, sub-stepped)
/// vs the same dropped data with the gaps ignored. Same oscillators, NAG,
/// same model and budget.
pub fn irregular(a: &IrregularArgs) -> Result<(), AppError> {
    if a.seeds == 0 || a.epochs == 0 || a.series < 10 {
        return Err(AppError::Usage(
            "irregular needs --seeds >= 1, --epochs >= 1 and --series >= 10".into(),
        ));
    }
    let cfg = RunConfig {
        task: TaskKind::Classify,
        window: Some(32),
        stride: Some(32),
        reference: nagode::normalise::Reference::Global,
        train: budget(a.epochs),
        ..RunConfig::quiet()
    };
    let mut md = String::from(
        "| sampling | gaps given to the model | test accuracy (mean ± std) |\n|---|---|---|\n",
    );
    for (name, drop, ignore_gaps) in [
        ("regular (every 0.1)", 0.0, false),
        ("35 % of samples dropped", data::OSC_DROP, false),
        ("35 % of samples dropped", data::OSC_DROP, true),
    ] {
        let mut accs = Vec::new();
        for seed in 0..a.seeds {
            let table = data::oscillators(seed, drop, a.series);
            let spec = data::WindowSpec {
                task: cfg.task,
                window: cfg.window,
                horizon: 0,
                stride: cfg.stride,
                seed,
                reference: nagode::normalise::Reference::Global,
            };
            let mut p = data::make_problem(&table, None, spec)?;
            if ignore_gaps {
                let dt = p.time_unit;
                for w in [&mut p.train, &mut p.val, &mut p.test] {
                    w.gaps.fill(dt);
                }
            }
            accs.push(one_run(&cfg, &p, SolverChoice::Nag, seed)?.test_metric as f64);
        }
        let (m, s) = mean_std(&accs);
        let gaps = if drop == 0.0 {
            "regular"
        } else if ignore_gaps {
            "no: every gap taken as 0.1"
        } else {
            "yes: real gaps, sub-stepped"
        };
        eprintln!("{name}, {gaps}: {m:.4} ± {s:.4}");
        let _ = writeln!(md, "| {name} | {gaps} | {m:.4} ± {s:.4} |");
    }
    println!("{md}");
    println!(
        "command: cargo run -p trainer -- irregular --seeds {} --epochs {} --series {}",
        a.seeds, a.epochs, a.series
    );
    Ok(())
}

/// `file` as a link from a document in `dir` (both relative to the current
/// folder, or both absolute).
fn relative_to(file: &std::path::Path, dir: &std::path::Path) -> String {
    match file.strip_prefix(dir) {
        Ok(rest) => rest.display().to_string(),
        Err(_) => {
            let ups = dir.components().count();
            format!("{}{}", "../".repeat(ups), file.display())
        }
    }
}
