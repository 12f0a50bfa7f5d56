//! `trainer compare --task density`: the seed paper's claim on its density
//! estimation task. Every solver trains the same flow (field `[z, t]` →
//! 32 → 32 → D tanh, 8 equal steps over `[0, 1]`) with the same optimiser,
//! epochs and learning-rate choice as the other tasks' comparison; the
//! report gives test NLL (nats per point) over seeds, epochs and modelled
//! seconds to a target validation NLL, and for the 2-D sets the learned
//! density beside the data. Jobs, shards and merge as `compare`'s
//! (`crate::studies::sweep`).

use crate::data::{points, PointSet, Points};
use crate::engine::solver::SolverChoice;
use crate::engine::train::Adam;
use crate::error::AppError;
use crate::export::write_atomic;
use crate::plot::PlotError;
use crate::studies::compare::common::{
    job_list, mean_std, relative_to, round_robin_medians, to_target_cells, CompareArgs, Job,
};
use crate::studies::sweep::{self, Shard};
use crate::tasks::density::{self, DensityCfg};
use clap::ValueEnum;
use dfdx::prelude::Cpu;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// The results files' `format`.
pub const FORMAT: &str = "trainer compare density 1";

/// Steps over `[0, 1]`, for every solver.
const STEPS: usize = 8;
/// RK4 steps of the fine re-integration: far below the 8 steps' error.
const FINE: usize = 64;
/// Hidden widths of the field.
const HIDDEN: [usize; 2] = [32, 32];
/// Points per batch.
const BATCH: usize = 256;
/// Default epochs.
const EPOCHS: usize = 30;
/// The target: this many nats above the median best validation NLL.
const TARGET_MARGIN: f64 = 0.05;
/// The 2-D plots' square `[-R, R]²` and its grid.
const R: f32 = 3.5;
const GRID: usize = 64;

/// One run's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Run {
    /// Validation NLL after each epoch (null once diverged).
    val: Vec<Option<f64>>,
    /// Test NLL of the best-validation epoch.
    test: Option<f64>,
    /// The same model's test NLL with its field integrated finely
    /// ([`FINE`] RK4 steps): what the learned continuous flow gives.
    test_fine: Option<f64>,
    /// Training wall time (a measurement).
    seconds: f64,
    params: usize,
    /// `log p` on the plot grid (2-D sets, seed 0 only), row-major from `(-R, -R)`.
    grid: Vec<f32>,
}

impl Run {
    fn best_val(&self) -> f64 {
        self.val
            .iter()
            .flatten()
            .copied()
            .fold(f64::INFINITY, f64::min)
    }
}

/// What a set's timing job measures.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SetInfo {
    name: String,
    dim: usize,
    train_points: usize,
    batches: usize,
    /// Median seconds per iteration, per solver.
    iteration: Vec<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Outcome {
    Set(SetInfo),
    Run(Run),
}

fn cfg(a: &CompareArgs, solver: SolverChoice, lr: f32, seed: u64) -> DensityCfg {
    DensityCfg {
        solver: density::flow_solver(solver, STEPS),
        hidden: HIDDEN.to_vec(),
        epochs: a.epochs.unwrap_or(EPOCHS),
        batch: BATCH,
        lr,
        clip: 1.0,
        seed,
    }
}

/// Median seconds of one training step per solver, timed round-robin on the
/// same batch so that a busy machine slows them alike.
fn iteration_times(a: &CompareArgs, p: &Points) -> Result<Vec<f64>, AppError> {
    let dev: Cpu = Default::default();
    let idx: Vec<usize> = (0..BATCH.min(p.count(&p.train))).collect();
    let mut setups: Vec<_> = a
        .solvers
        .iter()
        .map(|&s| {
            let c = cfg(a, s, a.lrs[0], 0);
            let net = density::flow_net(&dev, p.dim, &c.hidden, 0);
            let adam = Adam::new(&net, c.lr);
            (c, net, adam)
        })
        .collect();
    round_robin_medians(&mut setups, 13, |(c, net, adam)| {
        density::step(net, adam, c, &p.train, p.dim, &idx, &dev).map(|_| ())
    })
}

fn run_job(a: &CompareArgs, job: &Job) -> Result<Outcome, AppError> {
    match *job {
        Job::Timing { set } => {
            let p = points(a.points[set], 0)?;
            let info = SetInfo {
                name: p.name.clone(),
                dim: p.dim,
                train_points: p.count(&p.train),
                batches: p.count(&p.train).div_ceil(BATCH),
                iteration: iteration_times(a, &p)?,
            };
            eprintln!("compare density: {} timed", info.name);
            Ok(Outcome::Set(info))
        }
        Job::Run {
            set,
            solver,
            lr,
            seed,
        } => {
            let (solver, lr) = (a.solvers[solver], a.lrs[lr]);
            let p = points(a.points[set], seed)?;
            let c = cfg(a, solver, lr, seed);
            let t = density::train(&p, &c)?;
            let test = density::mean_nll(&t.net, &c.solver, &p.test, p.dim)?;
            let fine = density::flow_solver(SolverChoice::Rk4, FINE);
            let test_fine = density::mean_nll(&t.net, &fine, &p.test, p.dim)?;
            let grid = if p.dim == 2 && seed == 0 {
                density::log_density(&t.net, &c.solver, &grid_points(), 2)?
            } else {
                Vec::new()
            };
            eprintln!(
                "compare density: {} {:<8} lr {lr} seed {seed}: test NLL {test:.4}, {:.1}s",
                p.name,
                solver.name(),
                t.seconds
            );
            Ok(Outcome::Run(Run {
                val: t
                    .val_nll
                    .iter()
                    .map(|v| v.is_finite().then_some(*v))
                    .collect(),
                test: test.is_finite().then_some(test),
                test_fine: test_fine.is_finite().then_some(test_fine),
                seconds: t.seconds,
                params: t.net.param_count(),
                grid,
            }))
        }
    }
}

/// Cell centres of the plot grid, row-major from `(-R, -R)`.
fn grid_points() -> Vec<f32> {
    let cell = 2.0 * R / GRID as f32;
    (0..GRID * GRID)
        .flat_map(|k| {
            let (i, j) = (k / GRID, k % GRID);
            [-R + (j as f32 + 0.5) * cell, -R + (i as f32 + 0.5) * cell]
        })
        .collect()
}

/// The sweep's defining options, as `compare` takes them.
fn sweep_argv(a: &CompareArgs) -> Vec<String> {
    fn names<E: ValueEnum>(v: &[E]) -> String {
        v.iter()
            .filter_map(|e| e.to_possible_value().map(|p| p.get_name().to_string()))
            .collect::<Vec<_>>()
            .join(",")
    }
    let lrs: Vec<String> = a.lrs.iter().map(f32::to_string).collect();
    let mut v: Vec<String> = [
        ("task", "density".to_string()),
        ("points", names(&a.points)),
        ("solvers", names(&a.solvers)),
        ("lrs", lrs.join(",")),
        ("seeds", a.seeds.to_string()),
    ]
    .into_iter()
    .flat_map(|(k, v)| [format!("--{k}"), v])
    .collect();
    if let Some(e) = a.epochs {
        v.extend(["--epochs".into(), e.to_string()]);
    }
    v
}

/// `trainer compare --task density`.
pub fn run(a: &CompareArgs) -> Result<(), AppError> {
    let mut a = a.clone();
    // A flow is an ODE: the ResNet baseline has no density.
    a.solvers.retain(|&s| s != SolverChoice::Resnet);
    if a.solvers.is_empty() || a.points.is_empty() || a.lrs.is_empty() || a.seeds == 0 {
        return Err(AppError::Usage(
            "compare --task density needs --points, an ODE solver, a learning rate and a seed"
                .into(),
        ));
    }
    let jobs = job_list(&a, a.points.len());
    let shard = a.shard.unwrap_or(Shard::ALL);
    eprintln!("compare density: {} jobs", jobs.len());
    let done = sweep::run_jobs(&jobs, shard, a.jobs, |job| run_job(&a, job))?;
    if let Some(path) = &a.results {
        sweep::write_shard(path, FORMAT, &sweep_argv(&a), jobs.len(), shard, &done)?;
        eprintln!("wrote {}", path.display());
    }
    if a.shard.is_none() {
        write_report(&a, done.into_iter().map(|(_, o)| o).collect())?;
    }
    Ok(())
}

/// `trainer merge` of a density sweep's shards.
pub fn merge(m: &crate::studies::compare::common::MergeArgs) -> Result<(), AppError> {
    let (argv, outcomes) = sweep::merge::<Outcome>(&m.files, FORMAT)?;
    let mut a = crate::studies::compare::common::parse(argv)
        .map_err(|e| AppError::Usage(format!("merge: the shards' sweep: {e}")))?;
    a.report = m.report.clone();
    write_report(&a, outcomes)
}

fn write_report(a: &CompareArgs, outcomes: Vec<Outcome>) -> Result<(), AppError> {
    let md = report(a, outcomes)?;
    write_atomic(&a.report.markdown, md.as_bytes())?;
    println!("{md}");
    eprintln!("wrote {}", a.report.markdown.display());
    Ok(())
}

/// One solver's runs at its chosen learning rate.
type SolverRuns = (SolverChoice, f32, Vec<Run>);

fn report(a: &CompareArgs, outcomes: Vec<Outcome>) -> Result<String, AppError> {
    let jobs = job_list(a, a.points.len());
    let mismatch = || AppError::Usage("compare: the results do not match the job list".into());
    if jobs.len() != outcomes.len() {
        return Err(mismatch());
    }
    let sets = a.points.len();
    let mut info: Vec<Option<SetInfo>> = vec![None; sets];
    let mut runs = vec![vec![vec![Vec::new(); a.lrs.len()]; a.solvers.len()]; sets];
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
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Density estimation (generated by `trainer compare --task density`)\n\n\
         Regenerate with:\n\n```\ncargo run -p trainer --release -- compare {}\n```\n\n\
         A continuous normalising flow: data at t = 0, standard normal at t = 1, field \
         `[z, t]` → {} → D tanh, {STEPS} equal steps over [0, 1] for every solver (so RK4 \
         makes 4x NAG's evaluations), exact trace by forward mode, maximum likelihood with \
         Adam (batch {BATCH}, gradient clip 1) for the same epochs; each solver's learning \
         rate is the one of {:?} with the best validation NLL on seed 0; seeds 0 to {} \
         (weights, batch order; the toys' points and BasicMotions' validation series are \
         drawn per seed). No early stopping: the kept model is the best-validation epoch. \
         *Target* = the median over all runs of the best validation NLL + {TARGET_MARGIN} \
         nats; *epochs to target* is the mean over the seeds that reached it, *s to target* = \
         epochs x iterations per epoch x the median time of one training iteration, the \
         solvers timed round-robin on the same batch. A fixed-step flow's NLL is that of \
         its discretisation; the RK4 x {FINE} column integrates the same learned field finely, \
         which shows how much of a coarse solver's NLL is the solver's error rather than the \
         learned density, and the rows are ranked by it (the honest NLL, best first); the 2-D grid mass (exp log p summed over the plot's 64 x 64 cells) \
         is 1 for a normalised density with its mass inside the square.\n",
        sweep_argv(a).join(" "),
        HIDDEN.map(|h| h.to_string()).join(" → "),
        a.lrs,
        a.seeds.saturating_sub(1)
    );
    for ((set, info), by_solver) in a.points.iter().zip(info).zip(runs) {
        let info = info.ok_or_else(mismatch)?;
        let results: Vec<SolverRuns> = by_solver
            .into_iter()
            .zip(&a.solvers)
            .map(|(by_lr, &s)| pick_lr(a, s, by_lr))
            .collect::<Result<_, _>>()?;
        section(a, *set, &info, &results, &mut md)?;
    }
    Ok(md)
}

fn pick_lr(
    a: &CompareArgs,
    solver: SolverChoice,
    by_lr: Vec<Vec<Run>>,
) -> Result<SolverRuns, AppError> {
    let val = |r: &[Run]| r.first().map_or(f64::INFINITY, Run::best_val);
    a.lrs
        .iter()
        .zip(by_lr)
        .min_by(|x, y| val(&x.1).total_cmp(&val(&y.1)))
        .map(|(&lr, runs)| (solver, lr, runs))
        .ok_or_else(|| AppError::Usage("--lrs needs at least one learning rate".into()))
}

fn section(
    a: &CompareArgs,
    set: PointSet,
    info: &SetInfo,
    results: &[SolverRuns],
    md: &mut String,
) -> Result<(), AppError> {
    let mut bests: Vec<f64> = results
        .iter()
        .flat_map(|(_, _, rs)| rs.iter().map(Run::best_val))
        .collect();
    bests.sort_by(f64::total_cmp);
    let target = bests.get(bests.len() / 2).copied().unwrap_or(f64::INFINITY) + TARGET_MARGIN;
    let epochs = a.epochs.unwrap_or(EPOCHS);
    let _ = writeln!(
        md,
        "### {} (D = {}, {} training points, {epochs} epochs, target validation NLL {target:.3})\n",
        info.name, info.dim, info.train_points
    );
    let _ = writeln!(
        md,
        "| solver | lr | parameters | f evals / point | s / epoch | epochs to target | s to target (modelled) | test NLL, nats (mean ± std) | same models' test NLL, field integrated by RK4 x {FINE} | mass on the plot grid (seed 0) |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    // Ranked by the honest NLL (the field integrated finely), best first.
    let honest = |(_, _, runs): &SolverRuns| {
        let fine: Vec<f64> = runs.iter().filter_map(|r| r.test_fine).collect();
        if fine.is_empty() {
            f64::INFINITY
        } else {
            mean_std(&fine).0
        }
    };
    let mut rows: Vec<(&SolverRuns, &f64)> = results.iter().zip(&info.iteration).collect();
    rows.sort_by(|a, b| honest(a.0).total_cmp(&honest(b.0)));
    for (solver_runs, it) in rows {
        table_row(md, solver_runs, it * info.batches as f64, target);
    }
    if info.dim == 2 {
        let stem = format!("density_{}", format!("{set:?}").to_lowercase());
        let file = a.report.plots.join(format!("{stem}.png"));
        let data = points(set, 0)?;
        draw(&file, &data.test, results)?;
        let rel = relative_to(&file, a.report.markdown.parent().unwrap_or(Path::new("")));
        let order: Vec<&str> = results.iter().map(|(s, _, _)| s.name()).collect();
        let _ = writeln!(
            md,
            "\n![{stem}]({rel})\n\nLeft to right: the test points (seed 0), then the learned density \
             (seed 0, chosen lr) of {} on [-{R}, {R}]², each scaled to its own maximum.",
            order.join(", ")
        );
    }
    let _ = writeln!(md);
    Ok(())
}

/// One solver's row of a set's table.
fn table_row(md: &mut String, (solver, lr, runs): &SolverRuns, per_epoch: f64, target: f64) {
    let reached: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.val.iter().position(|v| v.is_some_and(|v| v <= target)))
        .map(|k| (k + 1) as f64)
        .collect();
    let (to_e, to_s) = to_target_cells(&reached, runs.len(), per_epoch);
    let tests: Vec<f64> = runs.iter().filter_map(|r| r.test).collect();
    let (m, sd) = mean_std(&tests);
    let fine: Vec<f64> = runs.iter().filter_map(|r| r.test_fine).collect();
    let (fm, fsd) = mean_std(&fine);
    let diverged = runs.len() - tests.len();
    let note = if diverged > 0 {
        format!(" ({diverged} diverged)")
    } else {
        String::new()
    };
    let mass = runs
        .first()
        .filter(|r| !r.grid.is_empty())
        .map_or("—".into(), |r| {
            let cell = (2.0 * R as f64 / GRID as f64).powi(2);
            format!(
                "{:.3}",
                r.grid.iter().map(|&l| (l as f64).exp()).sum::<f64>() * cell
            )
        });
    let _ = writeln!(
        md,
        "| {} | {lr} | {} | {} | {per_epoch:.3} | {to_e} | {to_s} | {m:.4} ± {sd:.4}{note} | {fm:.4} ± {fsd:.4} | {mass} |",
        solver.name(),
        runs.first().map_or(0, |r| r.params),
        STEPS * solver.evals_per_step(),
    );
}

/// The data and each solver's learned density, side by side (no text:
/// the report's caption names the panels).
fn draw(file: &Path, data: &[f32], results: &[SolverRuns]) -> Result<(), AppError> {
    let err = |e: &dyn std::fmt::Display| {
        AppError::Plot(PlotError {
            file: file.display().to_string(),
            message: e.to_string(),
        })
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|source| AppError::Io {
            file: dir.display().to_string(),
            source,
        })?;
    }
    let side = 256u32;
    let panels = 1 + results.len();
    let root = BitMapBackend::new(file, (side * panels as u32, side)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let areas = root.split_evenly((1, panels));
    let to_px = |x: f32| (((x + R) / (2.0 * R)) * side as f32) as i32;
    for p in data.chunks(2) {
        let (x, y) = (to_px(p[0]), side as i32 - to_px(p[1]));
        areas[0]
            .draw(&Circle::new((x, y), 1, BLACK.filled()))
            .map_err(|e| err(&e))?;
    }
    for (area, (_, _, runs)) in areas.iter().skip(1).zip(results) {
        let Some(grid) = runs.first().map(|r| &r.grid) else {
            continue;
        };
        let max = grid.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let cell = side as f32 / GRID as f32;
        for (k, &l) in grid.iter().enumerate() {
            let (i, j) = (k / GRID, k % GRID);
            let v = if l.is_finite() { (l - max).exp() } else { 0.0 };
            let shade = (255.0 * (1.0 - v)).clamp(0.0, 255.0) as u8;
            let x0 = (j as f32 * cell) as i32;
            let y1 = side as i32 - (i as f32 * cell) as i32;
            let rect = [(x0, y1 - cell.ceil() as i32), (x0 + cell.ceil() as i32, y1)];
            area.draw(&Rectangle::new(rect, RGBColor(shade, shade, 255).filled()))
                .map_err(|e| err(&e))?;
        }
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every figure of the outcomes except the measured times.
    fn figures(outcomes: &[Outcome]) -> Vec<String> {
        outcomes
            .iter()
            .map(|o| match o {
                Outcome::Set(s) => format!("{} {} {} {}", s.name, s.dim, s.train_points, s.batches),
                Outcome::Run(r) => format!(
                    "{:?} {:?} {:?} {} {:?}",
                    r.val, r.test, r.test_fine, r.params, r.grid
                ),
            })
            .collect()
    }

    #[test]
    fn density_shards_merge_to_the_unsharded_numbers_and_report() {
        let dir = std::env::temp_dir().join(format!("nagode-density-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let argv = |extra: &[String]| {
            let mut v: Vec<String> = [
                "--task",
                "density",
                "--points",
                "moons",
                "--solvers",
                "nag,euler,resnet",
                "--lrs",
                "0.01",
                "--seeds",
                "2",
                "--epochs",
                "1",
            ]
            .map(String::from)
            .to_vec();
            v.extend(["--markdown".into(), dir.join("d.md").display().to_string()]);
            v.extend(["--plots".into(), dir.join("plots").display().to_string()]);
            v.extend(extra.iter().cloned());
            crate::studies::compare::common::parse(v).expect("options")
        };
        let mut a = argv(&[]);
        a.solvers.retain(|&s| s != SolverChoice::Resnet);
        let jobs = job_list(&a, a.points.len());
        assert_eq!(jobs.len(), 1 + 2 * 2, "the ResNet has no density");
        let whole: Vec<Outcome> = sweep::run_jobs(&jobs, Shard::ALL, 1, |j| run_job(&a, j))
            .expect("sweep")
            .into_iter()
            .map(|(_, o)| o)
            .collect();
        let files: Vec<std::path::PathBuf> = (0..2)
            .map(|i| {
                let f = dir.join(format!("s{i}.json"));
                let extra = ["--shard".into(), format!("{i}/2"), "--results".into()];
                let mut extra = extra.to_vec();
                extra.push(f.display().to_string());
                crate::studies::compare::run(&argv(&extra)).expect("shard");
                f
            })
            .collect();
        assert_eq!(sweep::format_of(&files[0]).expect("format"), FORMAT);
        let (_, merged) = sweep::merge::<Outcome>(&files, FORMAT).expect("merge");
        assert_eq!(figures(&merged), figures(&whole));
        crate::studies::compare::merge(&crate::studies::compare::MergeArgs {
            files,
            report: a.report.clone(),
        })
        .expect("merge report");
        let md = std::fs::read_to_string(dir.join("d.md")).expect("report");
        assert!(
            md.contains("| nag | 0.01 |") && md.contains("| euler | 0.01 |"),
            "{md}"
        );
        assert!(dir.join("plots/density_moons.png").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_density_task_refuses_a_csv_and_other_tasks_need_one() {
        let refuse = |v: &[&str]| {
            let a =
                crate::studies::compare::common::parse(v.iter().map(|s| s.to_string()).collect())
                    .expect("parse");
            crate::studies::compare::run(&a)
                .expect_err("refused")
                .to_string()
        };
        assert!(refuse(&["--task", "density", "--csv", "x.csv"]).contains("not --csv"));
        assert!(refuse(&["--task", "classify"]).contains("needs --csv"));
        assert!(refuse(&["--task", "density", "--solvers", "resnet"]).contains("ODE solver"));
    }
}
