//! `trainer predict`: a model's outputs on every full window of a CSV.

use super::eval::argmax;
use super::files::{load, read, table_for, ModelCsv};
use super::work;
use crate::app::AppError;
use crate::data::Table;
use crate::export::write_atomic;
use crate::host::HostError;
use clap::Args;
use nagode::format::Task;
use nagode::Model;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Options of `predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    io: ModelCsv,
    /// Write the predictions here (CSV, atomically) instead of printing them.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `trainer predict`: one output row per full window of every series of
/// the CSV (see [`predictions`]).
pub fn predict(args: &PredictArgs) -> Result<(), AppError> {
    let a = &args.io;
    let bytes = read(a.model.path())?;
    let model = load(a.model.path(), &bytes)?;
    let table = table_for(a, &model)?;
    work::check(a.model.path(), work::of_stream(&model, &table), a.max_work)?;
    let (windows, values) = predictions(&model, &table)?;
    let (win, len) = (model.window(), model.output_len());
    let mut out = header(&model, &table);
    for (&(i, n), values) in windows.iter().zip(values.chunks(len.max(1))) {
        let s = &table.series[i];
        let t = crate::data::format_time(table.clock, s.times[n + win - 1]);
        let _ = write!(out, "{},{t}", s.name);
        row(&model, values, &mut out);
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
    let mut out = String::from("series,t");
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
    use crate::bench::InferenceSetup;
    use crate::host::HostSession;
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
