//! `trainer predict`: a model's outputs on every full window of a CSV, or
//! with `--vote` a classifier's vote per series; a flow's score per point
//! (`scores`).
//!
//! A patched classifier (channels `NAME@j`, `data::patch`) reads the CSV's
//! `NAME` columns grouped into its patches; series of unequal lengths need
//! `--resample N` or `--vote` (see `files::prepare`).

use super::eval::argmax;
use super::files::{load, read, table_for, ModelCsv, SeriesArgs};
use super::scores::{load_flow, predict_scores, refuse_series_options};
use super::work;
use crate::data::Table;
use crate::error::AppError;
use crate::export::host::HostError;
use crate::export::write_atomic;
use clap::Args;
use nagode::format::{model_kind, ModelKind, Task};
use nagode::Model;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Options of `predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    io: ModelCsv,
    #[command(flatten)]
    series: SeriesArgs,
    /// Write the predictions here (CSV, atomically) instead of printing them.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `trainer predict`: one output row per full window of every series of
/// the CSV (see [`predictions`]); with `--vote`, instead, one row per
/// series: its windows' summed logits and the class they vote for
/// ([`votes`]).
pub fn predict(args: &PredictArgs) -> Result<(), AppError> {
    let a = &args.io;
    let bytes = read(a.model.path())?;
    if model_kind(&bytes) == Ok(ModelKind::Flow) {
        refuse_series_options(&args.series)?;
        let flow = load_flow(a.model.path(), &bytes)?;
        return predict_scores(&flow, a, args.out.as_deref());
    }
    let model = load(a.model.path(), &bytes)?;
    let prepared = table_for(a, &args.series, &model)?;
    for n in &prepared.notes {
        eprintln!("{n}");
    }
    let table = &prepared.table;
    work::check(a.model.path(), work::of_stream(&model, table), a.max_work)?;
    let (windows, values) = predictions(&model, table)?;
    let out = if args.series.vote {
        let (out, unvoted) = votes(&model, table, &windows, &values)?;
        for name in unvoted {
            eprintln!(
                "series `{name}`: shorter than one window of {} {}, no vote",
                model.window(),
                if prepared.layout.is_some() {
                    "patches"
                } else {
                    "samples"
                }
            );
        }
        out
    } else {
        per_window(&model, table, &windows, &values)
    };
    match &args.out {
        Some(path) => {
            write_atomic(path, out.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{out}"),
    }
    Ok(())
}

/// The CSV of one row per window: series, the time of its last sample,
/// outputs (and the class).
fn per_window(model: &Model<'_>, table: &Table, windows: &[Start], values: &[f32]) -> String {
    let (win, len) = (model.window(), model.output_len());
    let mut out = header(model, table);
    let named = has_series_names(table);
    for (&(i, n), values) in windows.iter().zip(values.chunks(len.max(1))) {
        let s = &table.series[i];
        let t = crate::data::format_time(table.clock, s.times[n + win - 1]);
        let _ = if named {
            write!(out, "{},{t}", s.name)
        } else {
            write!(out, "{t}")
        };
        row(model, values, &mut out);
    }
    out
}

/// Whether the table names its series (long layout): a one-series CSV has
/// no `series` column to fill.
fn has_series_names(table: &Table) -> bool {
    table.series.iter().any(|s| !s.name.is_empty())
}

/// The CSV of one row per series (`--vote`), in file order: `series`,
/// `windows` (how many voted), the summed logits per class
/// (`nagode::vote::add`, in window order) and the `class` they vote for
/// (`nagode::vote::winner`; empty for a non-finite sum). Series shorter
/// than a window have no row: their names are returned.
fn votes(
    model: &Model<'_>,
    table: &Table,
    windows: &[Start],
    values: &[f32],
) -> Result<(String, Vec<String>), HostError> {
    let len = model.output_len();
    let mut out = String::from("series,windows");
    for k in 0..len {
        let _ = match model.class_name(k) {
            Some(name) => write!(out, ",sum_logit_{name}"),
            None => write!(out, ",sum_logit{k}"),
        };
    }
    out.push_str(",class\n");
    let mut sums = vec![vec![0f32; len]; table.series.len()];
    let mut count = vec![0usize; table.series.len()];
    for (w, (&(i, _), logits)) in windows.iter().zip(values.chunks(len.max(1))).enumerate() {
        nagode::vote::add(&mut sums[i], logits)
            .map_err(|source| HostError::Run { window: w, source })?;
        count[i] += 1;
    }
    let mut unvoted = Vec::new();
    for (i, s) in table.series.iter().enumerate() {
        if count[i] == 0 {
            unvoted.push(s.name.clone());
            continue;
        }
        let _ = write!(out, "{},{}", s.name, count[i]);
        for v in &sums[i] {
            let _ = write!(out, ",{v}");
        }
        let class = nagode::vote::winner(&sums[i]).map(|k| match model.class_name(k) {
            Some(name) => name.to_string(),
            None => k.to_string(),
        });
        let _ = writeln!(out, ",{}", class.unwrap_or_default());
    }
    Ok((out, unvoted))
}

/// Where a window starts: its series and first sample.
type Start = (usize, usize);

/// Every full window of every series of `table` with the real gaps, as a
/// session streaming the series sees it (`push(sample, dt)`, then
/// `predict`), run as one batch: each window's (series, first sample) in
/// file order, and its outputs `[window][output_len]`.
fn predictions(model: &Model<'_>, table: &Table) -> Result<(Vec<Start>, Vec<f32>), HostError> {
    let (win, c, len) = (model.window(), model.channels(), model.output_len());
    // Per series: samples `[n][c]` and the gap before each sample.
    let series: Vec<(Vec<f32>, Vec<f32>)> = table
        .series
        .iter()
        .map(|s| {
            let gaps = (0..s.times.len())
                .map(|n| work::stream_gap(model, &s.times, n))
                .collect();
            (s.values.concat(), gaps)
        })
        .collect();
    let windows: Vec<Start> = table
        .series
        .iter()
        .enumerate()
        .flat_map(|(i, s)| (0..(s.values.len() + 1).saturating_sub(win)).map(move |n| (i, n)))
        .collect();
    let mut values = vec![0f32; windows.len() * len];
    nagode::batch::run_each(
        &model.net(),
        windows.len(),
        |k| {
            let (i, n) = windows[k];
            let (samples, gaps) = &series[i];
            (&samples[n * c..(n + win) * c], Some(&gaps[n..n + win]))
        },
        &mut values,
    )?;
    Ok((windows, values))
}

/// The output CSV's header line: forecasts per step and channel, or logits
/// per class and the class.
fn header(model: &Model<'_>, table: &Table) -> String {
    let mut out = String::from(if has_series_names(table) {
        "series,t"
    } else {
        "t"
    });
    match model.header().task {
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
    out
}

/// One window's outputs (and, classifying, the best class) ending a row.
fn row(model: &Model<'_>, values: &[f32], out: &mut String) {
    for v in values {
        let _ = write!(out, ",{v}");
    }
    if !model.is_forecast() {
        let best = argmax(values);
        let _ = match model.class_name(best) {
            Some(name) => write!(out, ",{name}"),
            None => write!(out, ",{best}"),
        };
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::host::HostSession;
    use crate::studies::bench::InferenceSetup;
    use nagode::Session;

    /// The batch gives every window a session streaming the series
    /// predicts, in that order and bit for bit: irregular gaps (some cut
    /// into sub-steps), several series, one too short for a window.
    #[test]
    fn batch_predictions_equal_a_streaming_session() {
        let setup = InferenceSetup::default_model().expect("set-up");
        let model = Model::from_bytes(&setup.bytes).expect("loads");
        let mut csv = String::from("id,t,x\n");
        for (id, rows) in [("a", 70), ("b", 20), ("c", 60)] {
            let mut t = 0.0f64;
            for n in 0..rows {
                t += [1.0, 0.5, 2.5, 1.0, 1.25][n % 5];
                csv.push_str(&format!("{id},{t},{:.4}\n", (t * 0.3).sin()));
            }
        }
        let table = crate::data::parse_csv("test", csv.as_bytes(), None).expect("parses");
        let (windows, values) = predictions(&model, &table).expect("runs");
        let len = model.output_len();
        let mut session: HostSession<'_> = Session::new(&model).expect("fits");
        let mut one = vec![0f32; len];
        let mut k = 0;
        for (i, s) in table.series.iter().enumerate() {
            session.clear();
            for (n, sample) in s.values.iter().enumerate() {
                session
                    .push(sample, work::stream_gap(&model, &s.times, n))
                    .expect("pushes");
                if session.is_ready() {
                    session.predict(&mut one).expect("predicts");
                    assert_eq!(windows[k], (i, n + 1 - model.window()));
                    let batch = &values[k * len..(k + 1) * len];
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(batch), bits(&one), "window {k}");
                    k += 1;
                }
            }
        }
        assert_eq!(k, windows.len());
        assert_eq!(k, (70 - 47) + (60 - 47));
    }
}

#[cfg(test)]
mod patched_tests {
    use super::super::files::fixtures::{self, Trained, K, M};
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: PredictArgs,
    }

    /// `predict` on `f`'s CSV with `extra` options.
    fn args(f: &Trained, extra: &[&str]) -> PredictArgs {
        let (m, c) = (
            f.model.to_str().expect("utf-8"),
            f.csv.to_str().expect("utf-8"),
        );
        let argv = ["predict", m, "--csv", c]
            .into_iter()
            .chain(extra.iter().copied());
        Cmd::try_parse_from(argv).expect("predict options").args
    }

    /// `predict` on `f`'s CSV with `extra` options, written to a file: its
    /// lines, or the error.
    fn run(f: &Trained, name: &str, extra: &[&str]) -> Result<Vec<String>, AppError> {
        let mut a = args(f, extra);
        let out = f.csv.with_file_name(format!("{name}.csv"));
        a.out = Some(out.clone());
        predict(&a)?;
        let text = std::fs::read_to_string(&out).expect("written");
        Ok(text.lines().map(str::to_string).collect())
    }

    /// The logits of the windows `predict` streams from the CSV (patched
    /// by the command), by their inputs: every trainer test window is
    /// among them with the runtime's bits on the trainer's window.
    fn assert_trainer_windows(f: &Trained, extra: &[&str]) {
        let bytes = std::fs::read(&f.model).expect("model");
        let model = Model::from_bytes(&bytes).expect("loads");
        let a = args(f, extra);
        let table = table_for(&a.io, &a.series, &model).expect("fits").table;
        let (windows, values) = predictions(&model, &table).expect("runs");
        let theirs = crate::export::host::run_windows(&model, &f.test).expect("runs");
        let (win, c, n) = (model.window(), model.channels(), model.output_len());
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for i in 0..f.test.len {
            let x = &f.test.x[i * win * c..(i + 1) * win * c];
            let k = windows
                .iter()
                .position(|&(s, start)| {
                    bits(&table.series[s].values[start..start + win].concat()) == bits(x)
                })
                .expect("the trainer's test window among predict's");
            assert_eq!(
                bits(&values[k * n..(k + 1) * n]),
                bits(&theirs[i * n..(i + 1) * n])
            );
        }
    }

    /// A patched model: one row per series (one window each), stamped with
    /// the time of the series' last sample, the trainer's logits.
    #[test]
    fn a_patched_model_predicts_the_trainers_test_windows() {
        let f = fixtures::equal();
        let lines = run(f, "equal", &[]).expect("predicts");
        assert_eq!(lines[0], "series,t,logit_c0,logit_c1,class");
        assert_eq!(lines.len(), 1 + 24);
        assert!(lines[1].starts_with("s0,12,"), "{}", lines[1]);
        assert_trainer_windows(f, &[]);
    }

    /// Unequal lengths: refused without `--resample` or `--vote`; one row
    /// per series with `--resample 14` (the trainer's windows), one vote
    /// row per series with `--vote`.
    #[test]
    fn unequal_lengths_predict_resampled_or_by_vote() {
        let f = fixtures::unequal();
        let e = run(f, "bare", &[]).expect_err("unequal").to_string();
        assert!(e.contains("--resample N") && e.contains("--vote"), "{e}");
        let lines = run(f, "resampled", &["--resample", &M.to_string()]).expect("predicts");
        assert_eq!(lines.len(), 1 + 24);
        assert_trainer_windows(f, &["--resample", &M.to_string()]);

        let f = fixtures::voted();
        let rows = run(f, "windows", &["--resample", "0"]);
        assert!(rows.is_err(), "--resample 0 is refused");
        let lines = run(f, "votes", &["--vote"]).expect("predicts");
        assert_eq!(lines[0], "series,windows,sum_logit_c0,sum_logit_c1,class");
        assert_eq!(lines.len(), 1 + 24);
        // The vote by hand from the rows per window (the same run without
        // the vote: unequal lengths need a flag, `--vote` is the one).
        let bytes = std::fs::read(&f.model).expect("model");
        let model = Model::from_bytes(&bytes).expect("loads");
        let table = crate::data::load_csv(&f.csv, None).expect("csv");
        let table = crate::data::patch::patch_table(&table, K);
        let (windows, values) = predictions(&model, &table).expect("runs");
        for (i, (s, line)) in table.series.iter().zip(&lines[1..]).enumerate() {
            let mut sums = [0f32; 2];
            let mut count = 0;
            for (&(series, _), logits) in windows.iter().zip(values.chunks(2)) {
                if series == i {
                    nagode::vote::add(&mut sums, logits).expect("adds");
                    count += 1;
                }
            }
            assert_eq!(count, s.values.len() - 3);
            let best = nagode::vote::winner(&sums).expect("finite");
            let want = format!("{},{count},{},{},c{best}", s.name, sums[0], sums[1]);
            assert_eq!(line, &want);
        }
    }
}
