//! `trainer compare --data digits`: the seed paper's supervised
//! classification on the 8×8 digits — NAG, Euler, midpoint, RK4 and a
//! ResNet of the same width and depth, each solver's learning rate chosen
//! by validation accuracy on seed 0, then every seed; test accuracy (the
//! runtime's, on each exported file; the ResNet's own forward pass) and
//! the time to a target training loss, modelled (field evaluations) and
//! measured (seconds).
//!
//! Everything but the measured seconds is bit for bit the same on every
//! run (fixed split, seeded weights and batch order, no early stopping);
//! the seconds depend on the machine and on `--jobs`. The report goes
//! beside `--markdown` as `COMPARE_DIGITS.md`, its plots into `--plots`.

use super::common::CompareArgs;
use crate::data::features::{self, FeatureSplit, Features};
use crate::engine::solver::SolverChoice;
use crate::error::AppError;
use crate::plot::{self, Line};
use crate::studies::sweep::{self, Shard};
use crate::tasks::static_classify::{self as task, StaticCfg, StaticReport};

/// The training loss a run must reach (epoch mean cross-entropy).
pub const TARGET_LOSS: f32 = 0.05;

/// One finished run.
struct Outcome {
    solver: SolverChoice,
    lr: f32,
    seed: u64,
    report: StaticReport,
}

/// Trains one run of the comparison.
fn one(
    solver: SolverChoice,
    lr: f32,
    seed: u64,
    epochs: usize,
    f: &Features,
    s: &FeatureSplit,
) -> Result<Outcome, AppError> {
    let cfg = StaticCfg {
        solver,
        lr,
        seed,
        epochs,
        ..StaticCfg::default()
    };
    let report = task::train_and_score(&cfg, f, s)
        .map_err(|e| AppError::Usage(format!("{} lr {lr} seed {seed}: {e}", solver.name())))?;
    Ok(Outcome {
        solver,
        lr,
        seed,
        report,
    })
}

/// `compare --data digits`.
pub fn run(a: &CompareArgs) -> Result<(), AppError> {
    if a.seeds == 0 || a.solvers.is_empty() || a.lrs.is_empty() || a.epochs == Some(0) {
        return Err(AppError::Usage(
            "compare needs at least one solver, learning rate, seed and epoch".into(),
        ));
    }
    let epochs = a.epochs.unwrap_or(StaticCfg::default().epochs);
    let f = features::digits();
    let s = features::split("digits", &f).map_err(|e| AppError::Usage(e.to_string()))?;
    let trials: Vec<(SolverChoice, f32)> = a
        .solvers
        .iter()
        .flat_map(|&k| a.lrs.iter().map(move |&lr| (k, lr)))
        .collect();
    eprintln!("compare digits: {} learning-rate trials", trials.len());
    let tried = sweep::run_jobs(&trials, Shard::ALL, a.jobs, |&(k, lr)| {
        one(k, lr, 0, epochs, &f, &s)
    })?;
    // Per solver, the first rate with the best validation accuracy.
    let mut chosen: Vec<Outcome> = Vec::new();
    for (_, o) in tried {
        match chosen.iter_mut().find(|c| c.solver == o.solver) {
            Some(c) if o.report.trained.validation > c.report.trained.validation => *c = o,
            Some(_) => {}
            None => chosen.push(o),
        }
    }
    let rest: Vec<(SolverChoice, f32, u64)> = chosen
        .iter()
        .flat_map(|c| (1..a.seeds).map(move |seed| (c.solver, c.lr, seed)))
        .collect();
    let more = sweep::run_jobs(&rest, Shard::ALL, a.jobs, |&(k, lr, seed)| {
        one(k, lr, seed, epochs, &f, &s)
    })?;
    let mut runs = chosen;
    runs.extend(more.into_iter().map(|(_, o)| o));
    runs.sort_by_key(|o| (a.solvers.iter().position(|k| *k == o.solver), o.seed));
    let path = a.report.markdown.with_file_name("COMPARE_DIGITS.md");
    let plots = plot_runs(a, &runs)?;
    let text = report(a, epochs, &f, &s, &runs, &plots, &path);
    std::fs::write(&path, &text).map_err(|source| AppError::Io {
        file: path.display().to_string(),
        source,
    })?;
    print!("{text}");
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Mean and sample standard deviation.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

/// The first epoch (1-based) whose mean training loss is at most the target.
fn epochs_to_target(o: &Outcome) -> Option<usize> {
    o.report
        .trained
        .losses
        .iter()
        .position(|l| *l <= TARGET_LOSS)
        .map(|e| e + 1)
}

/// The mean over seeds of each epoch's training loss, per solver, against
/// the epoch and against the field evaluations per training row.
fn plot_runs(a: &CompareArgs, runs: &[Outcome]) -> Result<[String; 2], AppError> {
    std::fs::create_dir_all(&a.report.plots).map_err(|source| AppError::Io {
        file: a.report.plots.display().to_string(),
        source,
    })?;
    let names = ["digits_loss_epochs.png", "digits_loss_evals.png"];
    for (i, name) in names.iter().enumerate() {
        let lines: Vec<Line> = a
            .solvers
            .iter()
            .map(|k| {
                let mine: Vec<&Outcome> = runs.iter().filter(|o| o.solver == *k).collect();
                let epochs = mine.first().map_or(0, |o| o.report.trained.losses.len());
                let per_row = mine
                    .first()
                    .map_or(0, |o| o.report.trained.evals.first().copied().unwrap_or(0));
                let points = (0..epochs)
                    .map(|e| {
                        let l: Vec<f64> = mine
                            .iter()
                            .map(|o| f64::from(o.report.trained.losses[e]))
                            .collect();
                        let x = if i == 0 {
                            (e + 1) as f64
                        } else {
                            ((e + 1) as u64 * per_row) as f64
                        };
                        (x, mean_sd(&l).0)
                    })
                    .collect();
                Line {
                    label: k.name(),
                    points,
                }
            })
            .collect();
        let x = if i == 0 {
            "epoch"
        } else {
            "field evaluations (forward, all training rows)"
        };
        plot::lines(
            &a.report.plots.join(name),
            "digits: mean training loss over seeds",
            x,
            "cross-entropy (log10)",
            &lines,
            true,
        )?;
    }
    Ok(names.map(|n| a.report.plots.join(n).display().to_string()))
}

/// The Markdown report.
fn report(
    a: &CompareArgs,
    epochs: usize,
    f: &Features,
    s: &FeatureSplit,
    runs: &[Outcome],
    plots: &[String; 2],
    path: &std::path::Path,
) -> String {
    let d = StaticCfg::default();
    let mut t = format!(
        "# Static-input classification: the 8×8 digits\n\n\
         `trainer compare --data digits` (seeds {}, epochs {epochs}, learning rates {:?} tried on seed 0, \
         chosen by validation accuracy). Model: {} features -> {} (tanh) -> field [{} + t] -> {} (tanh) -> {} \
         over [0, 1] in {} steps -> {} logits; the ResNet has {} blocks of the field's shape. Split: {} train, \
         {} validation, {} test (seed {}). Test accuracy of an ODE model is the runtime's on its exported file.\n\n\
         | solver | lr | test accuracy per seed | mean ± sd | epochs to loss ≤ {TARGET_LOSS} | field evaluations per row to it | seconds to it (measured) |\n\
         |---|---:|---|---:|---:|---:|---:|\n",
        a.seeds, a.lrs, f.width(), d.state, d.state, d.hidden, d.state, d.steps, f.classes.len(), d.steps,
        s.train.len(), s.validation.len(), s.test.len(), features::SPLIT_SEED,
    );
    let mut means = Vec::new();
    for k in &a.solvers {
        let mine: Vec<&Outcome> = runs.iter().filter(|o| o.solver == *k).collect();
        let accs: Vec<f64> = mine.iter().map(|o| f64::from(o.report.test)).collect();
        let (m, sd) = mean_sd(&accs);
        let to: Vec<Option<usize>> = mine.iter().map(|o| epochs_to_target(o)).collect();
        let cell = |v: Vec<f64>| {
            if v.len() == to.len() {
                format!("{:.1}", mean_sd(&v).0)
            } else {
                "not reached".into()
            }
        };
        let e: Vec<f64> = to.iter().flatten().map(|&e| e as f64).collect();
        let per_epoch = (d.steps * k.evals_per_step()) as f64;
        let secs: Vec<f64> = mine
            .iter()
            .zip(&to)
            .filter_map(|(o, e)| e.map(|e| o.report.trained.seconds[e - 1]))
            .collect();
        let accs_text: Vec<String> = accs.iter().map(|x| format!("{x:.4}")).collect();
        t.push_str(&format!(
            "| {} | {} | {} | {m:.4} ± {sd:.4} | {} | {} | {} |\n",
            k.name(),
            mine.first().map_or(0.0, |o| o.lr),
            accs_text.join(", "),
            cell(e.clone()),
            cell(e.iter().map(|e| e * per_epoch).collect()),
            if secs.len() == to.len() {
                format!("{:.2}", mean_sd(&secs).0)
            } else {
                "not reached".into()
            },
        ));
        means.push((
            *k,
            m,
            (e.len() == to.len()).then(|| mean_sd(&e).0 * per_epoch),
        ));
    }
    t.push_str(&verdict(&means));
    t.push_str(&dial(runs));
    let rel = |p: &String| {
        let base = path.parent().unwrap_or(std::path::Path::new(""));
        std::path::Path::new(p)
            .strip_prefix(base)
            .map_or(p.clone(), |r| r.display().to_string())
    };
    t.push_str(&format!(
        "\n![loss by epoch]({})\n\n![loss by field evaluations]({})\n",
        rel(&plots[0]),
        rel(&plots[1])
    ));
    t
}

/// Whether the paper's claim holds: NAG reaches the target in no more
/// field evaluations than each explicit solver, with a mean test accuracy
/// within 0.005 of the best.
fn verdict(means: &[(SolverChoice, f64, Option<f64>)]) -> String {
    let Some(&(_, nag_acc, nag_cost)) = means.iter().find(|m| m.0 == SolverChoice::Nag) else {
        return "\nNAG was not run: no verdict.\n".into();
    };
    let best = means.iter().map(|m| m.1).fold(f64::MIN, f64::max);
    let cheaper = means
        .iter()
        .filter(|m| !matches!(m.0, SolverChoice::Nag | SolverChoice::Resnet))
        .all(|m| match (nag_cost, m.2) {
            (Some(n), Some(o)) => n <= o,
            (Some(_), None) => true,
            (None, _) => false,
        });
    let accurate = nag_acc >= best - 0.005;
    let holds = if cheaper && accurate {
        "holds"
    } else {
        "does not hold"
    };
    format!(
        "\nThe paper's claim (NAG reaches the target loss with no more field evaluations than the explicit \
         solvers, at comparable accuracy) **{holds}** here: NAG needs {} field evaluations per row \
         (mean over seeds), {} those of every explicit solver; its mean test accuracy {nag_acc:.4} is {} the \
         best mean {best:.4}.\n",
        nag_cost.map_or("—".into(), |c| format!("{c:.0}")),
        if cheaper { "at most" } else { "more than" },
        if accurate { "within 0.005 of" } else { "more than 0.005 below" },
    )
}

/// The depth dial of seed 0's file of each ODE solver.
fn dial(runs: &[Outcome]) -> String {
    let mut t = String::from(
        "\n## Depth as a dial\n\nThe same file run by the runtime with other step counts (seed 0; test accuracy):\n\n",
    );
    let firsts: Vec<&Outcome> = runs
        .iter()
        .filter(|o| o.seed == 0 && !o.report.dial.is_empty())
        .collect();
    let Some(head) = firsts.first() else {
        return String::new();
    };
    let steps: Vec<u32> = head.report.dial.iter().map(|d| d.0).collect();
    t.push_str(&format!(
        "| solver | {} |\n|---|{}\n",
        steps
            .iter()
            .map(|m| format!("{m} steps"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(steps.len())
    ));
    for o in firsts {
        let cells: Vec<String> = o
            .report
            .dial
            .iter()
            .map(|d| format!("{:.4}", d.1))
            .collect();
        t.push_str(&format!(
            "| {} | {} |\n",
            o.solver.name(),
            cells.join(" | ")
        ));
    }
    t
}
