//! `inspect`, `predict` and `eval`: model files used through the runtime.

use crate::app::AppError;
use crate::data::{self, TaskKind};
use crate::export::write_atomic;
use crate::host::{self, HostError, HostSession};
use clap::Args;
use nagode::format::{Activation, Layer, SolverKind, Startup, Task};
use nagode::normalise::Reference;
use nagode::{Model, RunError, Session};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn read(path: &Path) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|source| AppError::Io {
        file: path.display().to_string(),
        source,
    })
}

fn load<'a>(path: &Path, bytes: &'a [u8]) -> Result<Model<'a>, AppError> {
    Model::from_bytes(bytes)
        .map_err(|e| AppError::Usage(format!("{}: {}", path.display(), HostError::from(e))))
}

fn layers(ls: &[Layer]) -> String {
    if ls.is_empty() {
        return "none".into();
    }
    ls.iter()
        .map(|l| {
            let a = match l.activation {
                Activation::Identity => "",
                Activation::Tanh => " tanh",
                Activation::Relu => " relu",
            };
            format!("{}→{}{a}", l.inputs, l.outputs)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The CSV must have exactly the model's channel count.
fn check_channels(csv: &Path, table: &data::Table, model: &Model<'_>) -> Result<(), AppError> {
    if table.channels.len() == model.channels() {
        return Ok(());
    }
    Err(AppError::Usage(format!(
        "{}: {} channel columns ({}), the model has {}",
        csv.display(),
        table.channels.len(),
        table.channels.join(","),
        model.channels()
    )))
}

/// `trainer inspect MODEL`.
pub fn inspect(model: &ModelArg) -> Result<(), AppError> {
    let path = model.path();
    let bytes = read(path)?;
    let model = load(path, &bytes)?;
    let h = model.header();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} bytes, format {}, checksum OK, loads",
        path.display(),
        bytes.len(),
        model.format_version()
    );
    let _ = match h.task {
        Task::Forecast { horizon } => writeln!(
            s,
            "task        forecast the next {horizon} samples of every channel"
        ),
        Task::Classify { classes } => {
            let names: Vec<&str> = model.class_names().collect();
            if names.is_empty() {
                writeln!(
                    s,
                    "task        classify a window into {classes} classes (unnamed)"
                )
            } else {
                writeln!(
                    s,
                    "task        classify a window into {classes} classes: {}",
                    names.join(", ")
                )
            }
        }
    };
    let channels: Vec<&str> = model.channel_names().collect();
    let _ = writeln!(
        s,
        "input       {} channels{}, window of {} samples",
        h.channels,
        if channels.is_empty() {
            String::new()
        } else {
            format!(" ({})", channels.join(", "))
        },
        h.window
    );
    let _ = writeln!(
        s,
        "time        gaps in {}; nominal gap {} = {} unit(s) of solver time",
        crate::app::clock_units(h.clock),
        model.nominal_gap(),
        h.sample_dt
    );
    let _ = writeln!(
        s,
        "normalise   {}, mean {:?}, std {:?}",
        match h.reference {
            Reference::Global => "absolute levels",
            Reference::LastValue => "changes from the window's last sample",
        },
        h.mean.as_slice(),
        h.std.as_slice()
    );
    let _ = writeln!(s, "encoder     {}", layers(&h.encoder));
    let _ = writeln!(
        s,
        "state       {} dimensions, diverged beyond |y| > {}",
        h.state_dim, h.state_bound
    );
    let _ = writeln!(s, "field       {}", layers(&h.field));
    let _ = writeln!(s, "decoder     {}", layers(&h.decoder));
    let sv = &h.solver;
    let kind = match sv.kind {
        SolverKind::Euler => "Euler".to_string(),
        SolverKind::Midpoint => "explicit midpoint".to_string(),
        SolverKind::Rk4 => "classic RK4".to_string(),
        SolverKind::Nag => format!(
            "NAG, mu {}, {}, start-up {}",
            sv.mu,
            if sv.consistency_scaling {
                "consistency scaling h = (1-mu)H"
            } else {
                "no consistency scaling"
            },
            match sv.startup {
                Startup::ZeroVelocity => "zero velocity",
                Startup::Euler => "Euler step",
            }
        ),
    };
    let _ = writeln!(
        s,
        "solver      {kind}; longest step {} of solver time ({} in the data's units)",
        sv.max_step,
        sv.max_step * h.time_unit
    );
    let weights = model.weight_bytes().len() / 4;
    let _ = writeln!(s, "weights     {weights} f32 ({} bytes)", weights * 4);
    let _ = writeln!(
        s,
        "cost        {} field evaluations per prediction (regular gaps)",
        model.evals_per_prediction()
    );
    let _ = writeln!(
        s,
        "session     needs STATE >= {}, WINDOW >= {}",
        model.state_capacity_needed(),
        model.window_capacity_needed()
    );
    print!("{s}");
    Ok(())
}

/// A model file, given either way: `trainer inspect m.nagode` or
/// `trainer inspect --model m.nagode` (the same for `eval` and `predict`).
#[derive(Args, Debug)]
pub struct ModelArg {
    /// The model file.
    #[arg(value_name = "MODEL", required_unless_present = "model_flag")]
    model_pos: Option<PathBuf>,
    /// The model file (the same as the positional MODEL).
    #[arg(long = "model", value_name = "MODEL", conflicts_with = "model_pos")]
    model_flag: Option<PathBuf>,
}

impl ModelArg {
    /// The path given, whichever form was used.
    pub fn path(&self) -> &Path {
        // clap guarantees one of the two.
        self.model_pos
            .as_deref()
            .or(self.model_flag.as_deref())
            .unwrap_or(Path::new(""))
    }
}

/// A model file and a CSV to run it on.
#[derive(Args, Debug)]
pub struct ModelCsv {
    #[command(flatten)]
    model: ModelArg,
    /// CSV with the model's channels (optionally `t`, `id`, `label`).
    #[arg(long)]
    pub csv: PathBuf,
    /// Channel columns, in the model's order (default: all but t, id, label).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
}

/// Options of `predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    io: ModelCsv,
    /// Write the predictions here (CSV, atomically) instead of printing them.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `trainer predict`: streams every series of the CSV through a session
/// with the real gaps (`push(sample, dt)`); one output row per full window.
pub fn predict(args: &PredictArgs) -> Result<(), AppError> {
    let a = &args.io;
    let bytes = read(a.model.path())?;
    let model = load(a.model.path(), &bytes)?;
    let table = data::load_csv(&a.csv, a.columns.as_deref())?;
    check_channels(&a.csv, &table, &model)?;
    let h = model.header();
    let mut out = String::from("series,t");
    match h.task {
        Task::Forecast { horizon } => {
            for k in 1..=horizon {
                for c in &table.channels {
                    let _ = write!(out, ",{c}_plus{k}");
                }
            }
        }
        Task::Classify { classes } => {
            for k in 0..usize::from(classes) {
                let _ = match model.class_name(k) {
                    Some(name) => write!(out, ",logit_{name}"),
                    None => write!(out, ",logit{k}"),
                };
            }
            out.push_str(",class");
        }
    }
    out.push('\n');
    let mut session: HostSession<'_> = Session::new(&model).map_err(HostError::from)?;
    let mut values = vec![0f32; model.output_len()];
    let run_err = |row: usize, source: RunError| {
        AppError::Host(HostError::Run {
            window: row,
            source,
        })
    };
    for s in &table.series {
        session.clear();
        for (n, sample) in s.values.iter().enumerate() {
            // Gaps in the user's units (the model converts them).
            let dt = if n == 0 {
                model.nominal_gap()
            } else {
                (s.times[n] - s.times[n - 1]) as f32
            };
            session.push(sample, dt).map_err(|e| run_err(n, e))?;
            if session.is_ready() {
                session.predict(&mut values).map_err(|e| run_err(n, e))?;
                let _ = write!(out, "{},{}", s.name, s.times[n]);
                for v in &values {
                    let _ = write!(out, ",{v}");
                }
                if let Task::Classify { .. } = h.task {
                    let best = argmax(&values);
                    match model.class_name(best) {
                        Some(name) => {
                            let _ = write!(out, ",{name}");
                        }
                        None => {
                            let _ = write!(out, ",{best}");
                        }
                    }
                }
                out.push('\n');
            }
        }
    }
    match &args.out {
        Some(path) => {
            write_atomic(path, out.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{out}"),
    }
    Ok(())
}

/// Options of `eval` (every window of the CSV is scored).
#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    io: ModelCsv,
}

/// What `eval` measured.
#[derive(Clone, Debug, PartialEq)]
pub enum Score {
    /// Forecast MSE in data units, and the naive last-value forecast's.
    Forecast {
        /// Windows scored.
        windows: usize,
        /// The model's MSE.
        mse: f64,
        /// The naive forecast's MSE.
        naive: f64,
    },
    /// Classification accuracy, labels mapped through the model's class names.
    Classify {
        /// Windows scored.
        windows: usize,
        /// Fraction right.
        accuracy: f64,
        /// The classes in the model's order.
        classes: Vec<String>,
        /// Whether the model file named its classes (format 1 files do not:
        /// then the CSV's sorted labels are assumed to be the model's order).
        named: bool,
    },
}

/// The model's class names; a format-1 file has none, and then the table's
/// sorted labels (numerically when they are numbers: the old trainer's order).
fn classes_for(model: &Model<'_>, table: &data::Table) -> (Vec<String>, bool) {
    let named: Vec<String> = model.class_names().map(str::to_string).collect();
    if !named.is_empty() {
        return (named, true);
    }
    let mut classes: Vec<String> = table
        .series
        .iter()
        .flat_map(|s| s.labels.iter().flatten().cloned())
        .collect();
    classes.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    classes.dedup();
    (classes, false)
}

/// Scores `model` with the runtime on every window of `table`.
pub fn score(model: &Model<'_>, table: &data::Table) -> Result<Score, AppError> {
    let h = model.header();
    let (task, horizon) = match h.task {
        Task::Forecast { horizon } => (TaskKind::Forecast, usize::from(horizon)),
        Task::Classify { .. } => (TaskKind::Classify, 0),
    };
    let (classes, named) = classes_for(model, table);
    let w = data::all_windows(
        table,
        task,
        model.window(),
        horizon,
        model.time_unit(),
        &classes,
    )?;
    let out = host::run_windows(model, &w)?;
    Ok(match task {
        TaskKind::Forecast => {
            let n = out.len().max(1) as f64;
            let mse = out
                .iter()
                .zip(&w.y)
                .map(|(o, y)| ((o - y) as f64).powi(2))
                .sum::<f64>()
                / n;
            let (c, win) = (model.channels(), model.window());
            let naive = (0..w.len)
                .flat_map(|i| (0..horizon * c).map(move |j| (i, j)))
                .map(|(i, j)| {
                    ((w.x[(i * win + win - 1) * c + j % c] - w.y[i * horizon * c + j]) as f64)
                        .powi(2)
                })
                .sum::<f64>()
                / n;
            Score::Forecast {
                windows: w.len,
                mse,
                naive,
            }
        }
        TaskKind::Classify => {
            let k = model.output_len();
            let right = out
                .chunks(k)
                .zip(&w.class)
                .filter(|(o, &c)| argmax(o) == c)
                .count();
            Score::Classify {
                windows: w.len,
                accuracy: right as f64 / w.len.max(1) as f64,
                classes,
                named,
            }
        }
    })
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|x, y| x.1.total_cmp(y.1))
        .map_or(0, |x| x.0)
}

/// `trainer eval`: the runtime on every window of a CSV.
pub fn eval(args: &EvalArgs) -> Result<(), AppError> {
    let a = &args.io;
    let bytes = read(a.model.path())?;
    let model = load(a.model.path(), &bytes)?;
    let table = data::load_csv(&a.csv, a.columns.as_deref())?;
    check_channels(&a.csv, &table, &model)?;
    match score(&model, &table)? {
        Score::Forecast {
            windows,
            mse,
            naive,
        } => println!("{windows} windows: MSE {mse:.6}, naive last value {naive:.6}"),
        Score::Classify {
            windows,
            accuracy,
            classes,
            named,
        } => {
            if !named {
                eprintln!(
                    "warning: {} names no classes (format 1); assuming the CSV's sorted labels {:?} are the model's class order",
                    a.model.path().display(),
                    classes
                );
            }
            println!("{windows} windows: accuracy {accuracy:.4} (classes {classes:?})");
        }
    }
    Ok(())
}
