//! `trainer panel`: the real-data panel (`data/panel/panel.csv`), each
//! series trained as a new user would train it — `trainer train --csv FILE
//! --task TASK` and nothing else — with NAG, Euler and RK4, against the
//! naive forecast or the majority class. A benchmark: it prints and writes
//! one table; it asserts nothing.

use crate::commands::train::TrainArgs;
use crate::data::TaskKind;
use crate::engine::solver::SolverChoice;
use crate::export::write_atomic;
use crate::tasks::window::{self, AppError, Summary};
use clap::Args;
use std::path::{Path, PathBuf};

/// Options of `panel`.
#[derive(Args, Debug, Clone)]
pub struct PanelArgs {
    /// The manifest: `name,task,file,test_file,what`, paths relative to it.
    #[arg(long, default_value = "data/panel/panel.csv")]
    pub manifest: PathBuf,
    /// Solvers (comma-separated); the first is the one compared to the baseline.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "nag")]
    pub solvers: Vec<SolverChoice>,
    /// Seeds (initial weights; classification: also the split).
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
    /// Published 1-NN Euclidean and DTW test accuracies (classification).
    published: [Option<f32>; 2],
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
            published: [field(5).parse().ok(), field(6).parse().ok()],
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
    window::run(&cfg)
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

/// Mean (min–max) of the runs' metric, or the first failure.
fn stats_cell(per_seed: &[Result<Summary, AppError>], digits: usize) -> String {
    if let Some(bad) = per_seed.iter().find(|r| r.is_err()) {
        return cell(bad);
    }
    let ok: Vec<f32> = per_seed.iter().flatten().map(|s| s.test_metric).collect();
    let mean = ok.iter().sum::<f32>() / ok.len().max(1) as f32;
    let lo = ok.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = ok.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    format!("{mean:.digits$} ({lo:.digits$}–{hi:.digits$})")
}

/// One row: every solver's mean (min–max) over seeds, every baseline of
/// the first run that worked (they do not depend on the seed for
/// forecasts; for classification they are seed 0's split), the published
/// 1-NN figures, and whether the first solver's mean beats them all.
fn row(e: &Entry, runs: &Runs) -> String {
    let first = runs.iter().flatten().find_map(|r| r.as_ref().ok());
    let digits = if e.task == TaskKind::Forecast { 4 } else { 3 };
    let cells: Vec<String> = runs.iter().map(|r| stats_cell(r, digits)).collect();
    let mean = runs.first().and_then(|r| {
        let ok: Vec<f32> = r.iter().flatten().map(|s| s.test_metric).collect();
        (ok.len() == r.len() && !ok.is_empty()).then(|| ok.iter().sum::<f32>() / ok.len() as f32)
    });
    let mut bases: Vec<(String, f32)> = first
        .map(|s| {
            s.baselines
                .iter()
                .map(|b| (b.name.clone(), b.test))
                .collect()
        })
        .unwrap_or_default();
    for (name, v) in ["published 1-NN ED", "published 1-NN DTW"]
        .iter()
        .zip(e.published)
    {
        if let Some(v) = v {
            bases.push((name.to_string(), v));
        }
    }
    let base_cells: Vec<String> = bases
        .iter()
        .map(|(n, v)| format!("{n}: {v:.digits$}"))
        .collect();
    let lost: Vec<String> = bases
        .iter()
        .filter(|(_, v)| mean.is_none_or(|m| crate::tasks::baseline::loses(e.task, m, *v)))
        .map(|(n, v)| match (e.task, mean) {
            (TaskKind::Forecast, Some(m)) => format!("{:.2}x {n}", m / v.max(f32::MIN_POSITIVE)),
            _ => n.clone(),
        })
        .collect();
    let tied: Vec<&str> = bases
        .iter()
        .filter(|(_, v)| mean.is_some_and(|m| (m - v).abs() <= 1e-6 * v.abs().max(1e-12)))
        .map(|(n, _)| n.as_str())
        .collect();
    let verdict = match (mean, lost.is_empty(), tied.is_empty()) {
        (None, _, _) => "failed".to_string(),
        (Some(_), true, true) => "beats all".to_string(),
        (Some(_), true, false) => format!("ties {}, beats the rest", tied.join(", ")),
        (Some(_), false, _) => format!("loses: {}", lost.join(", ")),
    };
    let shape = first.map_or("—".into(), |s| {
        let p = &s.problem;
        if p.patch > 1 {
            format!("{} x {}", p.window, p.patch)
        } else {
            p.window.to_string()
        }
    });
    let wall = runs
        .iter()
        .flatten()
        .flatten()
        .map(|s| s.wall)
        .fold(0.0, f64::max);
    format!(
        "| {} | {} | {shape} | {} | {} | {verdict} | {wall:.0} |\n",
        e.name,
        e.what,
        cells.join(" | "),
        base_cells.join("<br>"),
    )
}

/// Every solver on one series (classification: every seed), the model
/// files written under `scratch`.
fn entry_runs(a: &PanelArgs, e: &Entry, scratch: &Path) -> Runs {
    let seeds = a.seeds.max(1);
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
    let header = format!(
        "| series | what | window (x patch) | {} | baselines (test) | {} vs every baseline | max wall s |\n|---|---|---|{}---|---|---|\n",
        names.join(" | "),
        names.first().unwrap_or(&"model"),
        "---|".repeat(names.len())
    );
    let (mut fc, mut cl) = (header.clone(), header);
    for e in &entries {
        if a.only.as_ref().is_some_and(|o| !o.contains(&e.name)) {
            continue;
        }
        let runs = entry_runs(a, e, &scratch);
        match e.task {
            TaskKind::Forecast => fc.push_str(&row(e, &runs)),
            TaskKind::Classify => cl.push_str(&row(e, &runs)),
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let md = format!(
        "# Real-data panel (generated by `trainer panel`)\n\n\
         Every series trained with `trainer train --csv FILE --task TASK` and no other \
         option (plus `--solver`, `--seed` and a scratch `--out`, so the runtime parity \
         check runs). Test metric, mean (min–max) over seeds 0 to {}: MSE in the data's \
         units (forecast) or accuracy (classification). The baselines are computed by the \
         trainer on the same test windows (seed 0's split); the published 1-NN figures are \
         the archives' (sources in `data/README.md`). Data and sources: `data/README.md`.\n\n\
         ## Forecasting\n\n{fc}\n## Classification\n\n{cl}",
        a.seeds.max(1) - 1
    );
    write_atomic(&a.markdown, md.as_bytes())?;
    println!("{md}");
    eprintln!("wrote {}", a.markdown.display());
    Ok(())
}
