//! `trainer eval`: a model scored by the runtime on every window of a CSV
//! (a classifier also per series, by a vote of its windows, when a series
//! holds several); a flow file (format 5, `nagode::flow`) by its mean
//! negative log-likelihood over the CSV's rows, each row a point; a
//! format-7 flow by its anomaly scores (`scores`: ROC and PR AUC against a
//! 0/1 `label` column, beside two baselines).
//!
//! A patched classifier (channels `NAME@j`, `data::patch`) reads the CSV's
//! `NAME` columns grouped into its patches; series of unequal lengths need
//! `--resample N` or `--vote` (see `files::prepare`).

use super::files::{load, patch_layout, read, table_for, ModelCsv, SeriesArgs};
use super::scores::{eval_scores, load_flow, refuse_series_options, table_points_v5};
use super::work;
use crate::data::{self, TaskKind, Windows};
use crate::error::AppError;
use crate::export::host;
use crate::tasks::density::anomaly::runtime_scores;
use clap::Args;
use nagode::flow::{Flow, FlowModel};
use nagode::format::{model_kind, ModelKind, Task, MAX_WIDTH};
use nagode::Model;

/// Options of `eval` (every window of the CSV is scored).
#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    io: ModelCsv,
    #[command(flatten)]
    series: SeriesArgs,
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
        /// When some series holds several windows: the series and the
        /// fraction of them right by a vote of their windows
        /// (`crate::engine::train::series_accuracy`: summed logits, `nagode::vote`).
        series: Option<(usize, f64)>,
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

/// Scores `model` with the runtime on every window of `table`. A patched
/// classifier (`data::patch`) given a table of its channels' bases reads
/// it grouped into its patches (`data::patch::patch_table`).
pub fn score(model: &Model<'_>, table: &data::Table) -> Result<Score, AppError> {
    match patch_layout(model) {
        Some(l) if table.channels == l.bases => {
            let patched = data::patch::patch_table(table, l.k);
            score_cut(model, Cut::new(model, &patched)?)
        }
        _ => score_cut(model, Cut::new(model, table)?),
    }
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
            let series = crate::engine::train::series_accuracy(out, k, w).map(|a| {
                let ids: std::collections::BTreeSet<usize> = w.series.iter().copied().collect();
                (ids.len(), f64::from(a))
            });
            Score::Classify {
                windows: w.len,
                accuracy: right as f64 / w.len.max(1) as f64,
                classes,
                named,
                series,
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
    let points = table_points_v5(flow, table)?;
    let scores = runtime_scores(flow, &points)
        .map_err(|e| AppError::Usage(format!("{}: {e}", table.source)))?;
    let sum: f64 = scores.iter().map(|&s| f64::from(s)).sum();
    Ok((scores.len(), sum / scores.len().max(1) as f64))
}

/// `eval` of a flow file: its NLL over the CSV's rows.
fn eval_flow(a: &ModelCsv, bytes: &[u8]) -> Result<(), AppError> {
    let path = a.model.path();
    let flow = load_flow(path, bytes)?;
    if eval_scores(&flow, a)? {
        return Ok(());
    }
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
        refuse_series_options(&args.series)?;
        return eval_flow(a, &bytes);
    }
    if model_kind(&bytes) == Ok(ModelKind::Static) {
        refuse_series_options(&args.series)?;
        return super::static_input::eval_file(a.model.path(), &bytes, &a.csv);
    }
    let model = load(a.model.path(), &bytes)?;
    let prepared = table_for(a, &args.series, &model)?;
    for n in &prepared.notes {
        eprintln!("{n}");
    }
    let cut = Cut::new(&model, &prepared.table)?;
    work::check(a.model.path(), work::of_windows(&model, &cut.w), a.max_work)?;
    let score = score_cut(&model, cut)?;
    if let Score::Classify {
        named: false,
        classes,
        ..
    } = &score
    {
        eprintln!(
            "warning: {} names no classes (format 1); assuming the CSV's sorted labels {:?} are the model's class order",
            a.model.path().display(),
            classes
        );
    }
    print!("{}", report(&score, args.series.vote));
    Ok(())
}

/// What `eval` prints: per window, and per series when a series holds
/// several windows (or `--vote` asks: then one window per series is its
/// own vote).
fn report(score: &Score, vote: bool) -> String {
    match score {
        Score::Forecast {
            windows,
            mse,
            naive,
        } => format!("{windows} windows: MSE {mse:.6}, naive last value {naive:.6}\n"),
        Score::Classify {
            windows,
            accuracy,
            classes,
            series,
            ..
        } => {
            let mut s =
                format!("{windows} windows: accuracy {accuracy:.4} (classes {classes:?})\n");
            match series {
                Some((n, a)) => s.push_str(&format!(
                    "{n} series: accuracy {a:.4} by a vote of each series' windows (summed \
                     logits, `nagode::vote`)\n"
                )),
                None if vote => s.push_str(&format!(
                    "{windows} series: accuracy {accuracy:.4} (one window each: its vote)\n"
                )),
                None => {}
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::files::fixtures::{self, find, Trained, K, M};
    use super::super::files::{prepare, SeriesArgs};
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: EvalArgs,
    }

    fn args(f: &Trained, extra: &[&str]) -> EvalArgs {
        let (m, c) = (
            f.model.to_str().expect("utf-8"),
            f.csv.to_str().expect("utf-8"),
        );
        let argv = ["eval", m, "--csv", c]
            .into_iter()
            .chain(extra.iter().copied());
        Cmd::try_parse_from(argv).expect("eval options").args
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// The model's logits on every trainer test window of `f` equal, bit
    /// for bit, the logits `out` of the window of `w` with the same inputs
    /// (and the trainer's own logits within the export's parity).
    fn assert_trainer_windows(model: &Model<'_>, f: &Trained, w: &Windows, out: &[f32]) {
        let (win, c, n) = (model.window(), model.channels(), model.output_len());
        let theirs = host::run_windows(model, &f.test).expect("runs");
        assert!(f.test.len > 0);
        for i in 0..f.test.len {
            let x = &f.test.x[i * win * c..(i + 1) * win * c];
            let j = find(w, win, c, x).expect("the trainer's test window among eval's");
            assert_eq!(
                bits(&out[j * n..(j + 1) * n]),
                bits(&theirs[i * n..(i + 1) * n])
            );
            assert_eq!(w.class[j], f.test.class[i]);
            for (o, t) in out[j * n..(j + 1) * n].iter().zip(&f.outputs[i * n..]) {
                assert!(
                    (o - t).abs() <= 1e-3 * (1.0 + t.abs()),
                    "{o} vs trainer {t}"
                );
            }
        }
    }

    /// A patched model (channels a@0, b@0, ..., b@2) reads the CSV's `a`
    /// and `b` grouped into its patches: its windows are the trainer's and
    /// its logits the same bits; `score` patches a table of the bases too.
    #[test]
    fn a_patched_model_scores_the_trainers_test_windows() {
        let f = fixtures::equal();
        let bytes = std::fs::read(&f.model).expect("model");
        let model = Model::from_bytes(&bytes).expect("loads");
        let l = patch_layout(&model).expect("patched");
        assert_eq!((l.k, l.bases.clone()), (K, vec!["a".into(), "b".into()]));
        let a = args(f, &[]);
        let prepared = table_for(&a.io, &a.series, &model).expect("fits");
        let names: Vec<&str> = model.channel_names().collect();
        assert_eq!(prepared.table.channels, names);
        let cut = Cut::new(&model, &prepared.table).expect("windows");
        assert_eq!(cut.w.len, 24, "one window per series");
        let out = host::run_windows(&model, &cut.w).expect("runs");
        assert_trainer_windows(&model, f, &cut.w, &out);
        let by_command = score_outputs(&model, &cut.w, &out, cut.classes.clone(), true);
        assert!(
            matches!(
                by_command,
                Score::Classify {
                    windows: 24,
                    series: None,
                    ..
                }
            ),
            "{by_command:?}"
        );
        let raw = data::load_csv(&f.csv, None).expect("csv");
        assert_eq!(score(&model, &raw).expect("scores"), by_command);
        eval(&a).expect("eval runs");
        // `--columns` names the bases' columns in another file's terms.
        assert!(
            table_for(&args(f, &["--columns", "a"]).io, &a.series, &model)
                .expect_err("one column")
                .to_string()
                .contains("the model reads 2: a, b, 3 samples at a time (its channels a@0..b@2)")
        );
    }

    /// Unequal lengths: refused without a word on how the model was
    /// trained; `--resample 14` reproduces the trainer's test windows.
    #[test]
    fn unequal_lengths_need_resample_or_vote() {
        let f = fixtures::unequal();
        assert!(
            f.notes
                .iter()
                .any(|n| n.starts_with("every series resampled to 14 samples")),
            "{:?}",
            f.notes
        );
        let bytes = std::fs::read(&f.model).expect("model");
        let model = Model::from_bytes(&bytes).expect("loads");
        let a = args(f, &[]);
        let e = table_for(&a.io, &a.series, &model)
            .expect_err("unequal")
            .to_string();
        for part in [
            "unequal lengths (13 to 21 samples)",
            "windows of 4 patches of 3 samples",
            "\"every series resampled to N samples\": pass `--resample N` (for this model N is 12 to 14 samples)",
            "pass `--vote`",
        ] {
            assert!(e.contains(part), "{part}: {e}");
        }
        assert!(eval(&a).is_err());
        let a = args(f, &["--resample", &M.to_string()]);
        let prepared = table_for(&a.io, &a.series, &model).expect("resampled");
        assert!(
            prepared.notes.iter().all(|n| !n.starts_with("warning")),
            "{:?}",
            prepared.notes
        );
        let cut = Cut::new(&model, &prepared.table).expect("windows");
        assert_eq!(cut.w.len, 24);
        let out = host::run_windows(&model, &cut.w).expect("runs");
        assert_trainer_windows(&model, f, &cut.w, &out);
        eval(&a).expect("eval runs");
        // Another length runs, with a warning naming the trained one.
        let a = args(f, &["--resample", "20"]);
        let prepared = table_for(&a.io, &a.series, &model).expect("resampled");
        assert!(
            prepared.notes[0].contains("6 patches per series, the model's window is 4")
                && prepared.notes[0].contains("12 to 14 samples"),
            "{:?}",
            prepared.notes
        );
    }

    /// A model trained on windows of the shortest series with a vote:
    /// `--vote` cuts every window of every series and reports the vote.
    #[test]
    fn vote_reports_the_accuracy_per_series() {
        let f = fixtures::voted();
        assert!(
            f.notes
                .iter()
                .all(|n| !n.starts_with("every series resampled")),
            "{:?}",
            f.notes
        );
        let bytes = std::fs::read(&f.model).expect("model");
        let model = Model::from_bytes(&bytes).expect("loads");
        let a = args(f, &["--vote"]);
        let prepared = table_for(&a.io, &a.series, &model).expect("fits");
        let cut = Cut::new(&model, &prepared.table).expect("windows");
        // A series of `len` samples: `len / 3` patches, `len / 3 - 3` windows of 4.
        let expected: usize = fixtures::unequal_lens().iter().map(|l| l / K - 3).sum();
        assert_eq!(cut.w.len, expected);
        let out = host::run_windows(&model, &cut.w).expect("runs");
        let s = score_outputs(&model, &cut.w, &out, cut.classes.clone(), true);
        // The vote by hand: summed logits per series.
        let n = model.output_len();
        let mut sums = vec![vec![0f32; n]; 24];
        let mut class = [0; 24];
        for i in 0..cut.w.len {
            nagode::vote::add(&mut sums[cut.w.series[i]], &out[i * n..(i + 1) * n]).expect("adds");
            class[cut.w.series[i]] = cut.w.class[i];
        }
        let right = (0..24)
            .filter(|&i| nagode::vote::winner(&sums[i]) == Some(class[i]))
            .count();
        match &s {
            Score::Classify { series, .. } => {
                assert_eq!(*series, Some((24, f64::from(right as f32 / 24.0))));
            }
            other => panic!("{other:?}"),
        }
        assert!(report(&s, true).contains("24 series: accuracy"));
        eval(&a).expect("eval runs");
        assert!(
            Cmd::try_parse_from(["eval", "m", "--csv", "c", "--vote", "--resample", "3"]).is_err()
        );
    }

    /// The flags are refused where they mean nothing, and the report shows
    /// the vote when asked even with one window per series.
    #[test]
    fn flags_are_for_classifiers_and_the_report_names_the_vote() {
        let setup = crate::studies::bench::InferenceSetup::default_model().expect("set-up");
        let model = Model::from_bytes(&setup.bytes).expect("loads");
        let table = data::parse_csv("x.csv", b"x\n1\n2\n", None).expect("parses");
        for s in [
            SeriesArgs {
                resample: Some(5),
                vote: false,
            },
            SeriesArgs {
                resample: None,
                vote: true,
            },
        ] {
            let e = prepare(table.clone(), &s, &model, None).expect_err("forecaster");
            assert!(e.to_string().contains("for classifiers"), "{e}");
        }
        let f = fixtures::equal();
        let bytes = std::fs::read(&f.model).expect("model");
        let patched = Model::from_bytes(&bytes).expect("loads");
        let a = args(f, &["--resample", "0"]);
        let e = table_for(&a.io, &a.series, &patched).expect_err("0");
        assert!(e.to_string().contains("--vote"), "{e}");
        let one = Score::Classify {
            windows: 4,
            accuracy: 0.5,
            classes: vec!["a".into(), "b".into()],
            named: true,
            series: None,
        };
        assert_eq!(report(&one, false).lines().count(), 1);
        assert!(report(&one, true).contains("4 series: accuracy 0.5000 (one window each"));
    }
}
