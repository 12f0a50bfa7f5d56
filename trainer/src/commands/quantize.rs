//! `trainer quantize` (and `train --quantize`): a model file's integer twin
//! (format 4, [`nagode::quant`]) calibrated on the training windows, and
//! what quantising costs: the `f32` and the integer path scored on the same
//! test windows, against a stated bound.
//!
//! The windows are those `trainer train` cut from the same data with the
//! model's window, horizon and reference (and the same `--seed` and
//! `--stride`), so the test part is the one training never saw.

use super::eval::{score_outputs, task_of, Score};
use super::files::{load, read, DataArgs, ModelArg};
use super::work;
use crate::data::{Problem, Windows};
use crate::export::host::{self, HostError, HOST_STATE};
use crate::export::{self, ExportError};
use crate::tasks::window::{self, AppError, RunConfig};
use clap::Args;
use nagode::quant::{build, QuantModel, QuantRunner};
use nagode::Model;
use std::path::{Path, PathBuf};

/// Training windows the quantiser calibrates on by default: enough to see
/// every range the data reaches (the exponents are powers of two with 25 %
/// headroom), few enough to take well under a second.
pub const DEFAULT_CALIBRATION: usize = 256;

/// How far the integer metric may move from the `f32` one (issue 12's goal).
#[derive(Args, Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    /// Largest relative change of test MSE from f32 (0.05 = 5 %), either way.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.05)]
    pub max_mse_change: f64,
    /// Largest change of test accuracy from f32, in points, either way.
    #[arg(long, value_name = "POINTS", default_value_t = 1.0)]
    pub max_accuracy_change: f64,
}

impl Default for Bound {
    fn default() -> Self {
        Bound {
            max_mse_change: 0.05,
            max_accuracy_change: 1.0,
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} % relative MSE / {} accuracy point{}",
            self.max_mse_change * 100.0,
            self.max_accuracy_change,
            if self.max_accuracy_change == 1.0 {
                ""
            } else {
                "s"
            }
        )
    }
}

/// Options of `quantize`.
#[derive(Args, Debug)]
pub struct QuantizeArgs {
    #[command(flatten)]
    model: ModelArg,
    /// The data the model was trained on, as given to `train`.
    #[command(flatten)]
    source: DataArgs,
    /// Stride, as given to `train` [default: derived, as `train` does].
    #[arg(long)]
    stride: Option<usize>,
    /// Seed, as given to `train` (the split, the synthetic data).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Training windows to calibrate on (evenly spaced; fewer if there are fewer).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CALIBRATION)]
    calibration: usize,
    /// The quantised (format 4) file [default: MODEL's name with `.quant.nagode`].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    bound: Bound,
    /// Most multiply-adds the test run may take, as for `eval`.
    #[arg(long, value_name = "N", default_value_t = work::DEFAULT_MAX_WORK, value_parser = work::parse_limit)]
    max_work: u64,
}

/// What a quantisation is asked to do besides which model and data.
#[derive(Clone, Debug)]
pub struct Options {
    /// Training windows to calibrate on, at most.
    pub calibration: usize,
    /// Where the format-4 file goes.
    pub out: PathBuf,
    /// The stated bound.
    pub bound: Bound,
    /// Most multiply-adds the test run may take.
    pub max_work: u64,
}

/// What quantising cost.
#[derive(Clone, Debug)]
pub struct Report {
    /// The format-4 file written.
    pub file: PathBuf,
    /// Its size.
    pub bytes: usize,
    /// Training windows calibrated on, and of how many.
    pub calibration: (usize, usize),
    /// The `f32` runtime path on the test windows.
    pub f32: Score,
    /// The integer path on the same windows.
    pub int: Score,
    /// The bound checked.
    pub bound: Bound,
}

impl Report {
    /// The integer metric's change from `f32`: relative MSE (a fraction) or
    /// accuracy points; NaN if the two cannot be compared.
    pub fn change(&self) -> f64 {
        match (&self.f32, &self.int) {
            (Score::Forecast { mse: f, .. }, Score::Forecast { mse: q, .. }) => (q - f) / f,
            (Score::Classify { accuracy: f, .. }, Score::Classify { accuracy: q, .. }) => {
                (q - f) * 100.0
            }
            _ => f64::NAN,
        }
    }

    /// Whether the change is within the bound, either way: a quantised
    /// model far *better* than its `f32` original no longer behaves like
    /// the model that was validated.
    pub fn within(&self) -> bool {
        let limit = match self.f32 {
            Score::Forecast { .. } => self.bound.max_mse_change,
            Score::Classify { .. } => self.bound.max_accuracy_change,
        };
        self.change().abs() <= limit
    }

    /// The report in words.
    pub fn print(&self) {
        let (used, of) = self.calibration;
        println!(
            "wrote {} ({} bytes, format 4), calibrated on {used} of {of} training windows",
            self.file.display(),
            self.bytes
        );
        let change = self.change();
        let (Score::Forecast { windows, .. } | Score::Classify { windows, .. }) = &self.f32;
        println!(
            "{windows:>5} test windows {:>10} {:>10} {:>10}",
            "f32", "integer", "change"
        );
        match (&self.f32, &self.int) {
            (Score::Forecast { mse: f, naive, .. }, Score::Forecast { mse: q, .. }) => {
                println!(
                    "  MSE              {f:>10.4e} {q:>10.4e} {:>+8.2} %",
                    change * 100.0
                );
                println!("  MSE / naive      {:>10.4} {:>10.4}", f / naive, q / naive);
            }
            (Score::Classify { accuracy: f, .. }, Score::Classify { accuracy: q, .. }) => {
                println!("  accuracy         {f:>10.4} {q:>10.4} {change:>+6.2} pt");
            }
            _ => println!("the two paths gave different kinds of score"),
        }
        if self.within() {
            println!("within bound ({})", self.bound);
        } else {
            println!("EXCEEDS the bound ({})", self.bound);
        }
    }
}

/// The default name of the quantised file: `m.nagode` -> `m.quant.nagode`.
pub fn default_out(model: &Path) -> PathBuf {
    let mut name = model.file_stem().unwrap_or_default().to_owned();
    name.push(".quant.nagode");
    model.with_file_name(name)
}

/// The run that cuts the data as `trainer train` did for `model`.
fn problem_config(model: &Model<'_>, a: &QuantizeArgs) -> RunConfig {
    let source = a.source.clone().source();
    let (task, horizon) = task_of(model);
    let mut cfg = RunConfig {
        source,
        task,
        window: Some(model.window()),
        horizon,
        stride: a.stride,
        reference: model.net().reference,
        ..RunConfig::quiet()
    };
    cfg.train.seed = a.seed;
    cfg
}

/// Refuses data the model cannot have been trained on; warns when its
/// normalisation differs from the data's training part (other data, seed
/// or stride: the test part may then overlap what it was trained on).
fn check_match(path: &Path, model: &Model<'_>, p: &Problem) -> Result<(), AppError> {
    let named: Vec<&str> = model.class_names().collect();
    let mismatch = if p.channels() != model.channels() {
        Some(format!(
            "{} channels ({}), the model has {}",
            p.channels(),
            p.channel_names.join(","),
            model.channels()
        ))
    } else if !named.is_empty() && named != p.classes {
        Some(format!(
            "classes {:?}, the model's are {named:?}",
            p.classes
        ))
    } else if p.time_unit != model.time_unit() {
        Some(format!(
            "time unit {}, the model's is {}",
            p.time_unit,
            model.time_unit()
        ))
    } else {
        None
    };
    if let Some(m) = mismatch {
        return Err(AppError::Usage(format!(
            "{}: not trained on {}: it has {m}",
            path.display(),
            p.name
        )));
    }
    let net = model.net();
    let near = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-4 * (x.abs().max(y.abs()) + 1e-6))
    };
    if !(near(net.mean, &p.mean) && near(net.std, &p.std)) {
        eprintln!(
            "warning: {}'s normalisation differs from the training part of {} (other data, --seed or --stride?); its test windows may include some it was trained on",
            path.display(),
            p.name
        );
    }
    Ok(())
}

/// Up to `k` training windows, evenly spaced.
fn calibration_windows(p: &Problem, k: usize) -> Vec<&[f32]> {
    let n = p.train.len;
    let size = p.window * p.channels();
    let k = k.min(n);
    (0..k)
        .filter_map(|j| p.train.x.get(j * n / k * size..(j * n / k + 1) * size))
        .collect()
}

/// Every window of `w` through the integer path; outputs `[i][out]`.
pub fn run_integer(q: &QuantModel<'_>, w: &Windows) -> Result<Vec<f32>, HostError> {
    let net = q.net();
    let model = q.model();
    let (size, len) = (model.window_capacity_needed(), model.output_len().max(1));
    let mut runner = QuantRunner::<HOST_STATE>::new(&net)?;
    let mut out = vec![0f32; w.len * len];
    let windows = w.x.chunks(size).zip(w.gaps.chunks(model.window()));
    for (window, (o, (x, gaps))) in out.chunks_mut(len).zip(windows).enumerate() {
        runner
            .run_window(&net, x, Some(gaps), o)
            .map_err(|source| HostError::Run { window, source })?;
    }
    Ok(out)
}

/// Quantises the model in `path` on the training windows of `cfg`'s data,
/// writes the format-4 file and scores both paths on the test windows.
pub fn quantize_file(path: &Path, cfg: &RunConfig, o: &Options) -> Result<Report, AppError> {
    let bytes = read(path)?;
    let model = load(path, &bytes)?;
    let p = window::load_problem(cfg)?;
    check_match(path, &model, &p)?;
    work::check(path, work::of_windows(&model, &p.test), o.max_work)?;
    let cal = calibration_windows(&p, o.calibration);
    let quantised = build::quantize_to_vec(&model, cal.iter().copied())
        .map_err(|e| ExportError::Encode(e.to_string()))?;
    export::write_atomic(&o.out, &quantised)?;
    // Reload from disk: what a user (or the firmware build) will read.
    let on_disk = read(&o.out)?;
    let q = QuantModel::from_bytes(&on_disk).map_err(HostError::from)?;
    let score = |out: &[f32]| score_outputs(&model, &p.test, out, p.classes.clone(), true);
    Ok(Report {
        file: o.out.clone(),
        bytes: on_disk.len(),
        calibration: (cal.len(), p.train.len),
        f32: score(&host::run_windows(&model, &p.test)?),
        int: score(&run_integer(&q, &p.test)?),
        bound: o.bound,
    })
}

/// `trainer quantize`.
pub fn quantize(a: &QuantizeArgs) -> Result<(), AppError> {
    let path = a.model.path();
    let bytes = read(path)?;
    let cfg = problem_config(&load(path, &bytes)?, a);
    let o = Options {
        calibration: a.calibration,
        out: a.out.clone().unwrap_or_else(|| default_out(path)),
        bound: a.bound,
        max_work: a.max_work,
    };
    quantize_file(path, &cfg, &o)?.print();
    Ok(())
}

/// `train --quantize`: the model the run `cfg` just wrote to `path`, on
/// its own windows.
pub fn after_training(path: &Path, cfg: &RunConfig, bound: Bound) -> Result<(), AppError> {
    let o = Options {
        calibration: DEFAULT_CALIBRATION,
        out: default_out(path),
        bound,
        max_work: work::DEFAULT_MAX_WORK,
    };
    println!();
    quantize_file(path, cfg, &o)?.print();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::train::TrainArgs;
    use crate::data::Builtin;
    use crate::tasks::window::Source;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: QuantizeArgs,
    }

    /// A small oscillator forecaster trained and exported into `dir`.
    fn trained(dir: &Path) -> (PathBuf, RunConfig) {
        let path = dir.join("m.nagode");
        let argv = [
            "train",
            "--data",
            "oscillator",
            "--window",
            "12",
            "--state",
            "4",
            "--hidden",
            "8",
            "--epochs",
            "3",
            "--no-plots",
            "--seed",
            "3",
            "--out",
        ];
        let mut cfg = TrainArgs::run_config(argv.iter().copied().chain(path.to_str()))
            .expect("train options");
        cfg.verbose = false;
        window::run(&cfg).expect("trains");
        (path, cfg)
    }

    /// The command writes a format-4 file that the integer loader accepts,
    /// scores both paths on the training run's own test windows (rebuilt
    /// from the model file and the data options alone), and the bound
    /// check fires when the integer metric moves past it.
    #[test]
    fn quantize_writes_a_loadable_file_scores_both_paths_and_checks_the_bound() {
        let dir = std::env::temp_dir().join(format!("nagode-quantize-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let (path, cfg) = trained(&dir);
        let o = Options {
            calibration: 64,
            out: default_out(&path),
            bound: Bound::default(),
            max_work: work::DEFAULT_MAX_WORK,
        };
        let r = quantize_file(&path, &cfg, &o).expect("quantises");
        assert_eq!(r.file, dir.join("m.quant.nagode"));
        let bytes = std::fs::read(&r.file).expect("written");
        assert_eq!(bytes.len(), r.bytes);
        let q = QuantModel::from_bytes(&bytes).expect("loads as format 4");
        assert_eq!(q.model().format_version(), 4);
        let test = window::load_problem(&cfg).expect("data").test;
        assert_eq!(r.calibration.0, 64);
        let (
            Score::Forecast {
                windows, mse: f, ..
            },
            Score::Forecast { mse: i, .. },
        ) = (&r.f32, &r.int)
        else {
            panic!("a forecaster scored as {:?} / {:?}", r.f32, r.int);
        };
        assert_eq!(*windows, test.len);
        assert!(f.is_finite() && *f > 0.0 && i.is_finite(), "{f} {i}");
        // The integer path ran: its outputs are close to, not the bits of, f32's.
        assert_ne!(f, i);
        assert!(r.change().abs() < 0.5, "{r:?}");

        // The command rebuilds the same windows from the file and the
        // options `train` was given.
        let argv = [
            "quantize",
            "--data",
            "oscillator",
            "--seed",
            "3",
            "--calibration",
            "64",
        ];
        let cmd = Cmd::parse_from(argv.iter().copied().chain(path.to_str()));
        let model_bytes = std::fs::read(&path).expect("model");
        let model = Model::from_bytes(&model_bytes).expect("loads");
        let again = quantize_file(&path, &problem_config(&model, &cmd.args), &o).expect("again");
        assert_eq!((again.f32, again.int), (r.f32.clone(), r.int.clone()));

        // Bound 0: any change exceeds it; a bound just above it holds.
        let strict = Bound {
            max_mse_change: 0.0,
            max_accuracy_change: 0.0,
        };
        assert!(!Report {
            bound: strict,
            ..r.clone()
        }
        .within());
        let loose = Bound {
            max_mse_change: r.change().abs() * 1.01,
            ..strict
        };
        assert!(Report {
            bound: loose,
            ..r.clone()
        }
        .within());

        // Data the model was not trained on is refused by name.
        let ecg = RunConfig {
            source: Source::Builtin(Builtin::Ecg),
            ..cfg
        };
        let e = quantize_file(&path, &ecg, &o).expect_err("wrong data");
        assert!(e.to_string().contains("channels"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
