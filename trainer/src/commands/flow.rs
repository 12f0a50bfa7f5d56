//! `trainer flow`: trains a continuous normalising flow on a point set (the
//! density task of `compare --task density`) or, with `--csv`, on a user's
//! sensor data as an anomaly detector (`tasks::density::anomaly`); checks
//! that the runtime's `nagode::flow` gives the trainer's log-density on the
//! test points, and only then writes the flow file that `trainer eval`,
//! `trainer predict` and the firmware's feature `flow` read: format 5 for a
//! point set, format 7 (with the data scaling and the anomaly threshold)
//! from a CSV.
//!
//! Every run also re-integrates the trained field finely (RK4,
//! [`FINE_STEPS`] steps) and prints that NLL beside the one the flow's own
//! steps give: the change of variables holds for the continuous flow, so
//! the two agree only when the steps resolve it.

use crate::data::{load_csv, points, PointSet, Points};
use crate::engine::solver::SolverChoice;
use crate::error::AppError;
use crate::export::{flow_to_bytes, flow_with_meta_to_bytes};
use crate::tasks::density::anomaly::{compare, meta, prepare, runtime_scores};
use crate::tasks::density::{flow_solver, log_density, mean_nll, train, DensityCfg, Trained};
use crate::tasks::window::check_parity;
use clap::Args;
use nagode::flow::{Flow, FlowModel};
use std::path::{Path, PathBuf};

/// Steps of the fine re-integration (RK4) the reported NLL is checked against.
pub const FINE_STEPS: usize = 64;

/// A point set's default solver and steps (the paper's setting).
pub const POINTS_SOLVER: (SolverChoice, usize) = (SolverChoice::Nag, 8);

/// A sensor CSV's default solver and steps: RK4 x 4, whose NLL agrees with
/// the fine re-integration within about 1 % on the labelled series of
/// `data/anomaly` (NAG x 8 to x 32 is 40 % to 600 % off there: maximum
/// likelihood exploits its discretisation, and the scores suffer when it
/// trains longer).
pub const CSV_SOLVER: (SolverChoice, usize) = (SolverChoice::Rk4, 4);

/// Options of `trainer flow`.
#[derive(Args, Debug, Clone)]
pub struct FlowArgs {
    /// The point set (default: moons; not with --csv).
    #[arg(long, value_enum, conflicts_with = "csv")]
    pub data: Option<PointSet>,
    /// Train on this sensor CSV instead: a point is --window consecutive
    /// samples of the chosen channels.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Channel columns of --csv (default: all but t, id, label).
    #[arg(long, value_delimiter = ',', requires = "csv")]
    pub columns: Option<Vec<String>>,
    /// Samples per point (with --csv).
    #[arg(long, default_value_t = 2)]
    pub window: usize,
    /// A separate test CSV (with --csv; default: the last 15 % of each series).
    #[arg(long, requires = "csv")]
    pub test: Option<PathBuf>,
    /// The anomaly threshold is this quantile of the validation points' scores.
    #[arg(long, default_value_t = 0.99)]
    pub quantile: f64,
    /// The solver integrating the flow over [0, 1] (default: nag for a
    /// point set, rk4 with --csv, whose NLL the re-integration confirms).
    #[arg(long, value_enum)]
    pub solver: Option<SolverChoice>,
    /// Equal solver steps over [0, 1] (default: 8 for a point set, 4 with --csv).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Hidden widths of the field (tanh).
    #[arg(long, value_delimiter = ',', default_value = "32,32")]
    pub hidden: Vec<usize>,
    /// Epochs (the best-validation epoch is kept).
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 5e-3)]
    pub lr: f32,
    /// Points per batch.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Seed of the points (toys), the split (BasicMotions) and the weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where the flow file goes.
    #[arg(long, default_value = "out/flow.nagode")]
    pub out: PathBuf,
}

/// Trains, checks runtime parity on the test points, writes the file and
/// prints the NLLs (and, from a labelled CSV, the detection figures).
pub fn flow(args: &FlowArgs) -> Result<(), AppError> {
    let (solver, steps) = match &args.csv {
        Some(_) => CSV_SOLVER,
        None => POINTS_SOLVER,
    };
    let (solver, steps) = (args.solver.unwrap_or(solver), args.steps.unwrap_or(steps));
    if steps == 0 || args.hidden.is_empty() {
        return Err(AppError::Usage(
            "a flow needs --steps >= 1 and at least one hidden width".into(),
        ));
    }
    let cfg = DensityCfg {
        solver: flow_solver(solver, steps),
        hidden: args.hidden.clone(),
        epochs: args.epochs,
        batch: args.batch,
        lr: args.lr,
        clip: 1.0,
        seed: args.seed,
    };
    match &args.csv {
        Some(csv) => flow_csv(args, &cfg, csv),
        None => flow_points(args, &cfg),
    }
}

/// A flow on a built-in point set: format 5, the points as drawn.
fn flow_points(args: &FlowArgs, cfg: &DensityCfg) -> Result<(), AppError> {
    let p = points(args.data.unwrap_or(PointSet::Moons), args.seed).map_err(AppError::from)?;
    let trained = train(&p, cfg)?;
    let bytes = flow_to_bytes(&trained.net, &cfg.solver)?;
    let model = FlowModel::from_bytes(&bytes).map_err(|e| AppError::Usage(e.to_string()))?;
    let mut runtime =
        Box::new(Flow::<1024>::new(&model).map_err(|e| AppError::Usage(e.to_string()))?);
    let got = p
        .test
        .chunks(p.dim)
        .map(|x| runtime.score(x))
        .collect::<Result<Vec<f32>, _>>()
        .map_err(|e| AppError::Usage(format!("runtime log-density: {e}")))?;
    let parity = check_and_write(&trained, cfg, &p, &got, &bytes, &args.out)?;
    let file = (bytes.len(), runtime.macs_per_sample());
    print_summary(args, cfg, &p, &trained, parity, file)
}

/// A flow on a sensor CSV: format 7 with its scaling and threshold.
fn flow_csv(args: &FlowArgs, cfg: &DensityCfg, csv: &Path) -> Result<(), AppError> {
    let table = load_csv(csv, args.columns.as_deref())?;
    let test = match &args.test {
        Some(path) => Some(load_csv(path, args.columns.as_deref())?),
        None => None,
    };
    let prep = prepare(&table, test.as_ref(), args.window)?;
    let p = &prep.points;
    let trained = train(p, cfg)?;
    let val: Vec<f32> = log_density(&trained.net, &cfg.solver, &p.val, p.dim)?
        .iter()
        .map(|v| -v)
        .collect();
    let meta = meta(&prep, args.window, &val, args.quantile)?;
    let bytes = flow_with_meta_to_bytes(&trained.net, &cfg.solver, &meta)?;
    let model = FlowModel::from_bytes(&bytes).map_err(|e| AppError::Usage(e.to_string()))?;
    let got = runtime_scores(&model, &prep.raw[2])?;
    let parity = check_and_write(&trained, cfg, p, &got, &bytes, &args.out)?;
    let macs = Flow::<1024>::new(&model)
        .map_err(|e| AppError::Usage(e.to_string()))?
        .macs_per_sample();
    print_summary(args, cfg, p, &trained, parity, (bytes.len(), macs))?;
    println!(
        "points             {} train, {} validation, {} test ({} windows skipped at gaps off the nominal {})",
        prep.raw[0].len(),
        prep.raw[1].len(),
        prep.raw[2].len(),
        prep.raw.iter().map(|r| r.skipped).sum::<usize>(),
        prep.nominal_gap
    );
    println!(
        "threshold          score {:.4} (the {} quantile of the validation scores)",
        meta.threshold, meta.quantile
    );
    if let Some(c) = compare(&prep.raw[2], table.channels.len(), &got, meta.threshold) {
        print!("test points: {c}");
    }
    Ok(())
}

/// The runtime's test scores `got` against the trainer's `-log p`; within
/// the parity limit the file is written. Returns `(abs, rel)`.
fn check_and_write(
    trained: &Trained,
    cfg: &DensityCfg,
    p: &Points,
    got: &[f32],
    bytes: &[u8],
    out: &Path,
) -> Result<(f32, f32), AppError> {
    let want: Vec<f32> = log_density(&trained.net, &cfg.solver, &p.test, p.dim)?
        .iter()
        .map(|v| -v)
        .collect();
    let parity = check_parity(got, &want, want.len(), out)?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| AppError::Io {
            file: dir.display().to_string(),
            source,
        })?;
    }
    crate::export::write_atomic(out, bytes)?;
    Ok(parity)
}

/// The summary every flow prints; `file` is its size in bytes and its
/// multiply-adds per point.
fn print_summary(
    args: &FlowArgs,
    cfg: &DensityCfg,
    p: &Points,
    trained: &Trained,
    (abs, rel): (f32, f32),
    (bytes, macs): (usize, u64),
) -> Result<(), AppError> {
    let val = mean_nll(&trained.net, &cfg.solver, &p.val, p.dim)?;
    let test = mean_nll(&trained.net, &cfg.solver, &p.test, p.dim)?;
    let fine = mean_nll(
        &trained.net,
        &flow_solver(SolverChoice::Rk4, FINE_STEPS),
        &p.val,
        p.dim,
    )?;
    println!(
        "== nagode trainer: flow on {} ({:?}, {} steps) ==",
        p.name,
        cfg.solver.kind,
        nagode::solver::substeps(crate::tasks::density::FLOW_END, cfg.solver.max_step)
            .map_or(0, |s| s.0)
    );
    println!("dimension          {}", p.dim);
    println!("epochs             {}", args.epochs);
    println!("validation NLL     {val:.4} nats per point");
    println!("test NLL           {test:.4} nats per point");
    println!(
        "re-integrated      {fine:.4} nats per validation point (RK4, {FINE_STEPS} steps): the flow's own is {:+.2} % off",
        100.0 * (val - fine) / fine.abs()
    );
    println!(
        "runtime parity     max |nagode - dfdx| = {abs:.3e} ({rel:.3e} relative) over {} test points",
        p.count(&p.test)
    );
    println!("cost               {macs} MACs per point");
    println!("model file         {} ({bytes} bytes)", args.out.display());
    println!("training time      {:.1} s", trained.seconds);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(out: PathBuf) -> FlowArgs {
        FlowArgs {
            data: Some(PointSet::Moons),
            csv: None,
            columns: None,
            window: 2,
            test: None,
            quantile: 0.99,
            solver: Some(SolverChoice::Nag),
            steps: Some(4),
            hidden: vec![8],
            epochs: 1,
            lr: 1e-2,
            batch: 256,
            seed: 0,
            out,
        }
    }

    #[test]
    fn writes_a_flow_file_the_runtime_loads_and_refuses_no_steps() {
        let dir = std::env::temp_dir().join(format!("nagode-flow-{}", std::process::id()));
        let out = dir.join("moons.nagode");
        flow(&args(out.clone())).expect("trains and writes");
        let bytes = std::fs::read(&out).expect("written");
        let model = FlowModel::from_bytes(&bytes).expect("a flow file");
        assert_eq!(model.model().state_dim(), 2);
        let mut no_steps = args(dir.join("none.nagode"));
        no_steps.steps = Some(0);
        assert!(matches!(flow(&no_steps), Err(AppError::Usage(_))));
        assert!(!dir.join("none.nagode").exists());
        let _ = std::fs::remove_dir_all(dir);
    }

    /// From a labelled CSV: a format-7 file whose scaling and threshold
    /// the runtime applies; a constant channel writes no file.
    #[test]
    fn a_csv_flow_stores_its_scaling_and_threshold() {
        let dir = std::env::temp_dir().join(format!("nagode-flow-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let csv = dir.join("s.csv");
        let rows: String = (0..400)
            .map(|k| {
                let spike = k % 97 == 50;
                let x = 100.0 + 5.0 * (0.3 * k as f32).sin() + if spike { 40.0 } else { 0.0 };
                format!("{x},7,{}\n", u8::from(spike))
            })
            .collect();
        std::fs::write(&csv, format!("x,flat,label\n{rows}")).expect("csv");
        let mut a = args(dir.join("s.nagode"));
        (a.data, a.csv, a.epochs) = (None, Some(csv.clone()), 3);
        let err = flow(&a).expect_err("flat is constant");
        assert!(err.to_string().contains("`flat` is constant"), "{err}");
        assert!(!a.out.exists());
        a.columns = Some(vec!["x".into()]);
        flow(&a).expect("trains on x");
        let bytes = std::fs::read(&a.out).expect("written");
        let model = FlowModel::from_bytes(&bytes).expect("a flow file");
        assert_eq!(model.model().format_version(), 7);
        let meta = model.meta().expect("scaling and threshold");
        assert_eq!((meta.window, meta.offset.len()), (2, 1));
        assert!(
            (meta.offset[0] - 100.0).abs() < 2.0 && meta.scale[0] > 3.0,
            "{meta:?}"
        );
        let mut run = Flow::<64>::new(&model).expect("evaluator");
        let calm = run.score(&[100.0, 101.0]).expect("score");
        let spike = run.score(&[100.0, 160.0]).expect("score");
        assert!(spike > calm, "{spike} vs {calm}");
        assert_eq!(run.is_anomaly(spike), Some(true));
        predict_writes_one_score_per_point(&a.out, &csv, &dir);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// `trainer predict FLOW --csv` through its own argument parser: one row
    /// per point (399 of 400 samples, window 2) with the score and verdict;
    /// `--vote` is refused and writes nothing.
    fn predict_writes_one_score_per_point(flow: &Path, csv: &Path, dir: &Path) {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            p: crate::commands::PredictArgs,
        }
        let out = dir.join("scores.csv");
        let argv = |extra: &[&str]| {
            let mut v = vec!["predict".to_string(), flow.display().to_string()];
            v.extend(["--csv", &csv.display().to_string(), "--columns", "x"].map(String::from));
            v.extend(["--out", &out.display().to_string()].map(String::from));
            v.extend(extra.iter().map(|s| s.to_string()));
            Cli::try_parse_from(v).expect("parses").p
        };
        let err = crate::commands::predict(&argv(&["--vote"])).expect_err("--vote");
        assert!(err.to_string().contains("this file is a flow"), "{err}");
        assert!(!out.exists());
        crate::commands::predict(&argv(&[])).expect("scores");
        let text = std::fs::read_to_string(&out).expect("written");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("t,score,anomaly"));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 399);
        // The spike at sample 50 (k % 97 == 50) is flagged.
        assert!(
            rows[49].starts_with("50,") && rows[49].ends_with(",1"),
            "{}",
            rows[49]
        );
    }
}
