//! `trainer predict`: a model's outputs on every full window of a CSV.

use super::eval::argmax;
use super::files::{load, read, table_for, ModelCsv};
use super::work;
use crate::app::AppError;
use crate::data::Table;
use crate::export::write_atomic;
use crate::host::{HostError, HostSession};
use clap::Args;
use nagode::format::Task;
use nagode::{Model, RunError, Session};
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

/// `trainer predict`: streams every series of the CSV through a session
/// with the real gaps (`push(sample, dt)`); one output row per full window.
pub fn predict(args: &PredictArgs) -> Result<(), AppError> {
    let a = &args.io;
    let bytes = read(a.model.path())?;
    let model = load(a.model.path(), &bytes)?;
    let table = table_for(a, &model)?;
    work::check(a.model.path(), work::of_stream(&model, &table), a.max_work)?;
    let mut out = header(&model, &table);
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
            let dt = work::stream_gap(&model, &s.times, n);
            session.push(sample, dt).map_err(|e| run_err(n, e))?;
            if session.is_ready() {
                session.predict(&mut values).map_err(|e| run_err(n, e))?;
                let t = crate::data::format_time(table.clock, s.times[n]);
                let _ = write!(out, "{},{t}", s.name);
                row(&model, &values, &mut out);
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
