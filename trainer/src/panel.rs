//! `trainer panel`: the real-data panel (`data/panel/panel.csv`), each
//! series trained as a new user would train it — `trainer train --csv FILE
//! --task TASK` and nothing else — with NAG, Euler and RK4, against the
//! naive forecast or the majority class. A benchmark: it prints and writes
//! one table; it asserts nothing.

use crate::app::{self, AppError, Summary};
use crate::cli::TrainArgs;
use crate::data::TaskKind;
use crate::export::write_atomic;
use crate::solver::SolverChoice;
use clap::Args;
use std::path::{Path, PathBuf};

/// Options of `panel`.
#[derive(Args, Debug, Clone)]
pub struct PanelArgs {
    /// The manifest: `name,task,file,test_file,what`, paths relative to it.
    #[arg(long, default_value = "data/panel/panel.csv")]
    pub manifest: PathBuf,
    /// Solvers (comma-separated); the first is the one compared to the baseline.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "nag,euler,rk4"
    )]
    pub solvers: Vec<SolverChoice>,
    /// Seeds for classification sets (forecasts run seed 0: their split is in time).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Only these entries (comma-separated names); default all.
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Markdown report.
    #[arg(long, default_value = "trainer/PANEL.md")]
    pub markdown: PathBuf,
}

/// One manifest row.
struct Entry {
    name: String,
    task: TaskKind,
    file: PathBuf,
    test: Option<PathBuf>,
    what: String,
}

fn manifest(path: &Path) -> Result<Vec<Entry>, AppError> {
    let bad = |m: String| AppError::Usage(format!("{}: {m}", path.display()));
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let field = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
        let task = match field(1).as_str() {
            "forecast" => TaskKind::Forecast,
            "classify" => TaskKind::Classify,
            other => return Err(bad(format!("task `{other}` is not forecast or classify"))),
        };
        let test = field(3);
        out.push(Entry {
            name: field(0),
            task,
            file: dir.join(field(2)),
            test: (!test.is_empty()).then(|| dir.join(test)),
            what: field(4),
        });
    }
    Ok(out)
}

/// One run, built from the same options a user types.
fn run_one(e: &Entry, solver: SolverChoice, seed: u64, out: &Path) -> Result<Summary, AppError> {
    let mut argv: Vec<String> = ["train", "--csv"].map(String::from).to_vec();
    argv.push(e.file.display().to_string());
    if let Some(t) = &e.test {
        argv.extend(["--test".into(), t.display().to_string()]);
    }
    let task = match e.task {
        TaskKind::Forecast => "forecast",
        TaskKind::Classify => "classify",
    };
    argv.extend(["--task", task, "--solver", solver.name(), "--no-plots"].map(String::from));
    argv.extend(["--seed".into(), seed.to_string()]);
    argv.extend(["--out".into(), out.display().to_string()]);
    let mut cfg = TrainArgs::run_config(&argv).map_err(|err| AppError::Usage(err.to_string()))?;
    cfg.verbose = false;
    app::run(&cfg)
}

/// A run's cell: the metric, or what stopped it.
fn cell(r: &Result<Summary, AppError>) -> String {
    match r {
        Ok(s) => format!("{:.4}", s.test_metric),
        Err(e) => format!("failed: {}", e.to_string().replace('|', "/")),
    }
}

/// Runs per solver (outer) and seed (inner).
type Runs = Vec<Vec<Result<Summary, AppError>>>;

/// The baseline (naive MSE or majority accuracy) of the first run that worked.
fn baseline(runs: &Runs) -> Option<(f32, &Summary)> {
    runs.iter()
        .flatten()
        .find_map(|r| r.as_ref().ok())
        .map(|s| (s.naive_test, s))
}

/// A forecasting row: seed 0 of every solver, the baseline and the first
/// solver's ratio to it.
fn forecast_row(e: &Entry, runs: &Runs) -> String {
    let base = baseline(runs);
    let window = base.map_or("—".into(), |(_, s)| s.problem.window.to_string());
    let cells: Vec<String> = runs.iter().map(|r| cell(&r[0])).collect();
    let ratio = match (runs.first().and_then(|r| r[0].as_ref().ok()), base) {
        (Some(s), Some((n, _))) => format!("{:.3}", s.test_metric / n.max(f32::MIN_POSITIVE)),
        _ => "—".into(),
    };
    format!(
        "| {} | {} | {window} | {} | {} | {ratio} |\n",
        e.name,
        e.what,
        cells.join(" | "),
        base.map_or("—".into(), |(n, _)| format!("{n:.4}")),
    )
}

/// A classification row: per solver the mean and range over seeds.
fn classify_row(e: &Entry, runs: &Runs) -> String {
    let cells: Vec<String> = runs
        .iter()
        .map(|per_seed| {
            let ok: Vec<f32> = per_seed
                .iter()
                .filter_map(|r| r.as_ref().ok().map(|s| s.test_metric))
                .collect();
            if ok.len() < per_seed.len() {
                return per_seed
                    .iter()
                    .find(|r| r.is_err())
                    .map_or(String::new(), cell);
            }
            let mean = ok.iter().sum::<f32>() / ok.len().max(1) as f32;
            let lo = ok.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = ok.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            format!("{mean:.3} ({lo:.3}–{hi:.3})")
        })
        .collect();
    format!(
        "| {} | {} | {} | {} |\n",
        e.name,
        e.what,
        cells.join(" | "),
        baseline(runs).map_or("—".into(), |(n, _)| format!("{n:.3}")),
    )
}

/// Every solver on one series (classification: every seed), the model
/// files written under `scratch`.
fn entry_runs(a: &PanelArgs, e: &Entry, scratch: &Path) -> Runs {
    let seeds = match e.task {
        TaskKind::Forecast => 1,
        TaskKind::Classify => a.seeds.max(1),
    };
    let mut runs: Runs = Vec::new();
    for &solver in &a.solvers {
        let mut per_seed = Vec::new();
        for seed in 0..seeds {
            let out = scratch.join(format!("{}-{}-{seed}.nagode", e.name, solver.name()));
            let r = run_one(e, solver, seed, &out);
            eprintln!(
                "panel: {} {} seed {seed}: {}",
                e.name,
                solver.name(),
                cell(&r)
            );
            per_seed.push(r);
        }
        runs.push(per_seed);
    }
    runs
}

/// `trainer panel`.
pub fn run(a: &PanelArgs) -> Result<(), AppError> {
    let entries = manifest(&a.manifest)?;
    let scratch = std::env::temp_dir().join(format!("nagode-panel-{}", std::process::id()));
    let names: Vec<&str> = a.solvers.iter().map(|s| s.name()).collect();
    let mut fc = format!(
        "| series | what | window (chosen) | {} | naive | {} / naive |\n|---|---|---|{}---|---|\n",
        names.join(" | "),
        names.first().unwrap_or(&"model"),
        "---|".repeat(names.len())
    );
    let mut cl = format!(
        "| series | what | {} | majority |\n|---|---|{}---|\n",
        names.join(" | "),
        "---|".repeat(names.len())
    );
    for e in &entries {
        if a.only.as_ref().is_some_and(|o| !o.contains(&e.name)) {
            continue;
        }
        let runs = entry_runs(a, e, &scratch);
        match e.task {
            TaskKind::Forecast => fc.push_str(&forecast_row(e, &runs)),
            TaskKind::Classify => cl.push_str(&classify_row(e, &runs)),
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let md = format!(
        "# Real-data panel (generated by `trainer panel`)\n\n\
         Every series trained with `trainer train --csv FILE --task TASK` and no other \
         option (plus `--solver`, `--seed` and a scratch `--out`, so the runtime parity \
         check runs). Test metric: MSE in the data's units (forecast) or accuracy \
         (classification). Data and sources: `data/README.md`.\n\n\
         ## Forecasting (seed 0)\n\n{fc}\n## Classification\n\n\
         Test accuracy, mean (min–max) over seeds 0 to {}.\n\n{cl}",
        a.seeds.max(1) - 1
    );
    write_atomic(&a.markdown, md.as_bytes())?;
    println!("{md}");
    eprintln!("wrote {}", a.markdown.display());
    Ok(())
}
