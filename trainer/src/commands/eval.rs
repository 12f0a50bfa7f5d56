//! `trainer eval`: a model scored by the runtime on every window of a CSV;
//! a flow file (format 5, `nagode::flow`) by its mean negative
//! log-likelihood over the CSV's rows, each row a point.

use super::files::{load, read, table_for, ModelCsv};
use super::work;
use crate::app::AppError;
use crate::data::{self, TaskKind, Windows};
use crate::host;
use clap::Args;
use nagode::flow::{Flow, FlowModel};
use nagode::format::{model_kind, ModelKind, Task, MAX_WIDTH};
use nagode::Model;

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
    (data::sorted_labels(table), false)
}

/// Every window of `table` cut for `model`, with the classes in the model's
/// order and whether the file named them.
struct Cut {
    w: Windows,
    classes: Vec<String>,
    named: bool,
}

impl Cut {
    fn new(model: &Model<'_>, table: &data::Table) -> Result<Self, AppError> {
        let (task, horizon) = task_of(model);
        let (classes, named) = classes_for(model, table);
        let w = data::all_windows(
            table,
            task,
            model.window(),
            horizon,
            model.time_unit(),
            &classes,
        )?;
        Ok(Self { w, classes, named })
    }
}

/// The model's task and horizon (0 for a classifier).
pub(super) fn task_of(model: &Model<'_>) -> (TaskKind, usize) {
    match model.header().task {
        Task::Forecast { horizon } => (TaskKind::Forecast, usize::from(horizon)),
        Task::Classify { .. } => (TaskKind::Classify, 0),
    }
}

/// Scores `model` with the runtime on every window of `table`.
pub fn score(model: &Model<'_>, table: &data::Table) -> Result<Score, AppError> {
    score_cut(model, Cut::new(model, table)?)
}

fn score_cut(model: &Model<'_>, cut: Cut) -> Result<Score, AppError> {
    let Cut { w, classes, named } = cut;
    let out = host::run_windows(model, &w)?;
    Ok(score_outputs(model, &w, &out, classes, named))
}

/// Scores `out` (`[i][out]`, from any inference path) against the targets
/// of `w`.
pub(super) fn score_outputs(
    model: &Model<'_>,
    w: &Windows,
    out: &[f32],
    classes: Vec<String>,
    named: bool,
) -> Score {
    match task_of(model) {
        (TaskKind::Forecast, horizon) => {
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
        (TaskKind::Classify, _) => {
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
    }
}

/// Index of the largest value (the predicted class).
pub(super) fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|x, y| x.1.total_cmp(y.1))
        .map_or(0, |x| x.0)
}

/// The runtime's mean negative log-likelihood (nats per point) of every
/// row of `table` under `flow`, and the number of points. The rows are
/// taken in the units the flow was trained on (the file stores no scaling).
pub fn flow_nll(flow: &FlowModel<'_>, table: &data::Table) -> Result<(usize, f64), AppError> {
    let dim = flow.model().state_dim();
    if table.channels.len() != dim {
        return Err(AppError::Usage(format!(
            "{}: {} channel columns, the flow's points have {dim}",
            table.source,
            table.channels.len()
        )));
    }
    // Capacities for any flow the format allows; host memory, about 100 kB.
    let mut run = Box::new(
        Flow::<MAX_WIDTH, { MAX_WIDTH + 1 }>::new(flow)
            .map_err(|e| AppError::Usage(format!("{}: {e}", table.source)))?,
    );
    let (mut n, mut sum) = (0usize, 0f64);
    for s in &table.series {
        for (row, x) in s.values.iter().enumerate() {
            let lp = run.log_density(x).map_err(|e| {
                AppError::Usage(format!(
                    "{}: series {} row {row}: {e}",
                    table.source, s.name
                ))
            })?;
            sum -= f64::from(lp);
            n += 1;
        }
    }
    Ok((n, sum / n.max(1) as f64))
}

/// `eval` of a flow file: its NLL over the CSV's rows.
fn eval_flow(a: &ModelCsv, bytes: &[u8]) -> Result<(), AppError> {
    let path = a.model.path();
    let flow = FlowModel::from_bytes(bytes)
        .map_err(|e| AppError::Usage(format!("{}: {e}", path.display())))?;
    let table = data::load_csv(&a.csv, a.columns.as_deref())?;
    let points: usize = table.series.iter().map(|s| s.values.len()).sum();
    let per = Flow::<MAX_WIDTH, { MAX_WIDTH + 1 }>::new(&flow)
        .map_err(|e| AppError::Usage(format!("{}: {e}", path.display())))?
        .macs_per_sample();
    let work = work::Work {
        windows: points as u64,
        macs: per.saturating_mul(points as u64),
        worst: per,
    };
    work::check(path, work, a.max_work)?;
    let (n, nll) = flow_nll(&flow, &table)?;
    println!("{n} points: NLL {nll:.6} nats per point (runtime log-density, {per} multiply-adds per point)");
    Ok(())
}

/// `trainer eval`: the runtime on every window of a CSV (every row of it
/// for a flow).
pub fn eval(args: &EvalArgs) -> Result<(), AppError> {
    let a = &args.io;
    let bytes = read(a.model.path())?;
    if model_kind(&bytes) == Ok(ModelKind::Flow) {
        return eval_flow(a, &bytes);
    }
    let model = load(a.model.path(), &bytes)?;
    let table = table_for(a, &model)?;
    let cut = Cut::new(&model, &table)?;
    work::check(a.model.path(), work::of_windows(&model, &cut.w), a.max_work)?;
    match score_cut(&model, cut)? {
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
