//! Static inputs through an ODE block: `trainer static` (the built-in
//! digits, or `--csv` for a wide CSV of feature columns and a `label`),
//! what `trainer train --data digits` runs, and `eval` of a static-input
//! file on a feature CSV. Every figure printed for a file is the runtime's,
//! on the file's bytes; a file is written only after everything else
//! succeeded.

use crate::data::features::{self, FeatureSplit, Features};
use crate::engine::solver::SolverChoice;
use crate::error::AppError;
use crate::tasks::static_classify::{self as task, StaticCfg, StaticReport};
use crate::tasks::window::RunConfig;
use clap::Args;
use std::path::{Path, PathBuf};

/// Options of `trainer static`.
#[derive(Args, Debug)]
pub struct StaticArgs {
    /// A wide CSV: one example per row, numeric feature columns and a
    /// `label` column [default: the built-in 8×8 digits].
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Integrator (resnet: the baseline of the same width and depth; it
    /// has no model file).
    #[arg(long, value_enum, default_value = "nag")]
    solver: SolverChoice,
    /// Steps over [0, 1] (the ResNet's blocks).
    #[arg(long, default_value_t = 4)]
    steps: usize,
    /// State width (the encoder's output).
    #[arg(long, default_value_t = 64)]
    state: usize,
    /// The field's hidden width.
    #[arg(long, default_value_t = 32)]
    hidden: usize,
    /// NAG momentum.
    #[arg(long, default_value_t = 0.5)]
    mu: f32,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.01)]
    lr: f32,
    /// Passes over the training rows.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Seed: initial weights and batch order (the split is fixed).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the model file goes.
    #[arg(long, default_value = "out/static.nagode")]
    out: PathBuf,
    /// Train and report only.
    #[arg(long)]
    no_export: bool,
}

/// The data a run names, with its file name for messages.
fn load(csv: Option<&Path>) -> Result<(String, Features), AppError> {
    let usage = |e: features::FeatureError| AppError::Usage(e.to_string());
    match csv {
        None => Ok(("digits".into(), features::digits())),
        Some(p) => Ok((
            p.display().to_string(),
            features::load_features(p).map_err(usage)?,
        )),
    }
}

/// `trainer static`.
pub fn run(a: &StaticArgs) -> Result<(), AppError> {
    if a.steps == 0 || a.state == 0 || a.hidden == 0 || a.epochs == 0 {
        return Err(AppError::Usage(
            "static needs at least one step, epoch, state and hidden unit".into(),
        ));
    }
    let cfg = StaticCfg {
        solver: a.solver,
        state: a.state,
        hidden: a.hidden,
        steps: a.steps,
        mu: a.mu,
        lr: a.lr,
        epochs: a.epochs,
        seed: a.seed,
        ..StaticCfg::default()
    };
    let out = (!a.no_export).then_some(a.out.as_path());
    train_and_write(&cfg, a.csv.as_deref(), out)
}

/// `trainer train --data digits`: the static defaults with `train`'s
/// solver, momentum, seed and output (its series options do not apply).
pub fn train_digits(run: &RunConfig) -> Result<(), AppError> {
    let cfg = StaticCfg {
        solver: run.solver,
        mu: run.mu,
        seed: run.train.seed,
        ..StaticCfg::default()
    };
    train_and_write(&cfg, None, run.out.as_deref())
}

/// Trains, reports and (with `out`) writes the file.
fn train_and_write(
    cfg: &StaticCfg,
    csv: Option<&Path>,
    out: Option<&Path>,
) -> Result<(), AppError> {
    let (name, f) = load(csv)?;
    let split = features::split(&name, &f).map_err(|e| AppError::Usage(e.to_string()))?;
    if out.is_some() && cfg.solver == SolverChoice::Resnet {
        return Err(AppError::Usage(
            "the ResNet has no model file: add --no-export".into(),
        ));
    }
    let report = task::train_and_score(cfg, &f, &split).map_err(AppError::Usage)?;
    print_report(&name, &f, &split, cfg, &report);
    if let (Some(path), Some(bytes)) = (out, &report.file) {
        write(path, bytes)?;
        println!("wrote {} ({} bytes, format 6)", path.display(), bytes.len());
    }
    Ok(())
}

/// Writes `bytes` to `path`, creating its folder.
fn write(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let io = |source| AppError::Io {
        file: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}

/// The summary: data and split, accuracy, the depth dial.
fn print_report(name: &str, f: &Features, s: &FeatureSplit, cfg: &StaticCfg, r: &StaticReport) {
    println!(
        "data: {name}: {} rows of {} features, {} classes; split (seed {}): {} train, {} validation, {} test",
        f.rows(),
        f.width(),
        f.classes.len(),
        features::SPLIT_SEED,
        s.train.len(),
        s.validation.len(),
        s.test.len()
    );
    println!(
        "model: {} -> {} (tanh) -> field [{}+t] -> {} (tanh) -> {} over [0, 1] in {} {} steps -> {} logits",
        f.width(),
        cfg.state,
        cfg.state,
        cfg.hidden,
        cfg.state,
        cfg.steps,
        cfg.solver.name(),
        f.classes.len()
    );
    let last = r.trained.losses.last().copied().unwrap_or(f32::NAN);
    println!(
        "trained {} epochs ({:.1} s), last training loss {last:.4}, kept validation accuracy {:.4}",
        cfg.epochs,
        r.trained.seconds.last().copied().unwrap_or(0.0),
        r.trained.validation
    );
    let by = if r.file.is_some() {
        "runtime, model file"
    } else {
        "trainer"
    };
    println!("test accuracy: {:.4} ({by})", r.test);
    if !r.dial.is_empty() {
        println!("depth dial (the same file, other step counts; runtime):");
        println!("| steps | test accuracy | multiply-adds |");
        println!("|---:|---:|---:|");
        for (m, acc) in &r.dial {
            let macs = task::macs(cfg, f.width(), f.classes.len(), *m as usize);
            println!("| {m} | {acc:.4} | {macs} |");
        }
    }
}

/// `eval` of a static-input file on a feature CSV: the runtime's accuracy
/// on every row.
pub fn eval_file(model: &Path, bytes: &[u8], csv: &Path) -> Result<(), AppError> {
    let (_, f) = load(Some(csv))?;
    let rows: Vec<usize> = (0..f.rows()).collect();
    let acc = task::runtime_accuracy(bytes, &f, &rows, None)
        .map_err(|e| AppError::Usage(format!("{}: {e}", model.display())))?;
    println!("{} rows: accuracy {acc:.4} (runtime)", f.rows());
    Ok(())
}
