//! `trainer irregular`: the irregular-sampling demonstration, the same
//! model trained on regular samples, on randomly dropped samples with their
//! real gaps, and on the dropped samples with the gaps ignored.

use super::common::{budget, mean_std, one_run};
use crate::data::{self, TaskKind};
use crate::engine::solver::SolverChoice;
use crate::error::AppError;
use crate::tasks::window::RunConfig;
use clap::Args;
use std::fmt::Write as _;

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
            accs.push(one_run(&cfg, &p, SolverChoice::Nag, seed)?.test_metric);
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
