//! Flow files in `eval` and `predict`: a format-7 flow (with its scaling
//! and threshold) scores the points of a sensor CSV (`window` consecutive
//! samples, raw readings, `tasks::density::anomaly`); `eval` judges the
//! scores against a 0/1 `label` column beside the two baselines, `predict`
//! writes one score per point. A format-5 flow takes each CSV row as a
//! point in its own units.

use super::files::{ModelCsv, SeriesArgs};
use crate::data::{format_time, load_csv, Table};
use crate::error::AppError;
use crate::export::write_atomic;
use crate::tasks::density::anomaly::{compare, runtime_scores, table_points};
use crate::tasks::density::sensor::RawPoints;
use nagode::flow::FlowModel;
use std::fmt::Write as _;
use std::path::Path;

/// Refuses the classifier-only options for a flow file.
pub(super) fn refuse_series_options(series: &SeriesArgs) -> Result<(), AppError> {
    if series.resample.is_some() || series.vote {
        return Err(AppError::Usage(
            "--resample and --vote are for classifiers; this file is a flow".into(),
        ));
    }
    Ok(())
}

/// The flow in `bytes`, refusals named by `path`.
pub(super) fn load_flow<'a>(path: &Path, bytes: &'a [u8]) -> Result<FlowModel<'a>, AppError> {
    FlowModel::from_bytes(bytes).map_err(|e| AppError::Usage(format!("{}: {e}", path.display())))
}

/// A format-7 flow's points of the CSV and the runtime's score of each.
fn scored(
    flow: &FlowModel<'_>,
    a: &ModelCsv,
) -> Result<Option<(Table, RawPoints, Vec<f32>)>, AppError> {
    let Some(meta) = flow.meta() else {
        return Ok(None);
    };
    let table = load_csv(&a.csv, a.columns.as_deref())?;
    let points = table_points(meta, &table)?;
    let scores = runtime_scores(flow, &points)?;
    Ok(Some((table, points, scores)))
}

/// `eval` of a format-7 flow: the scores judged against the labels (when
/// the CSV has them) beside the baselines; `false` for a format-5 flow.
pub(super) fn eval_scores(flow: &FlowModel<'_>, a: &ModelCsv) -> Result<bool, AppError> {
    let Some((table, points, scores)) = scored(flow, a)? else {
        return Ok(false);
    };
    let threshold = flow.meta().map_or(f32::INFINITY, |m| m.threshold);
    let flagged = scores.iter().filter(|&&s| s > threshold).count();
    let mean = scores.iter().map(|&s| f64::from(s)).sum::<f64>() / scores.len().max(1) as f64;
    println!(
        "{} points ({} windows skipped at gaps off the nominal one): mean score {mean:.4}, {flagged} above the threshold {threshold:.4}",
        points.len(),
        points.skipped
    );
    match compare(&points, table.channels.len(), &scores, threshold) {
        Some(c) => print!("{c}"),
        None if points.labels.is_some() => {
            println!("the labels hold one class only: no ROC or PR AUC")
        }
        None => println!("no label column: no ROC or PR AUC"),
    }
    Ok(true)
}

/// `predict` of a flow: per point the series, the time of its last
/// sample, the score and (format 7) the verdict; format 5 scores every row.
pub(super) fn predict_scores(
    flow: &FlowModel<'_>,
    a: &ModelCsv,
    out: Option<&Path>,
) -> Result<(), AppError> {
    let (table, points, scores) = match scored(flow, a)? {
        Some(s) => s,
        None => {
            let table = load_csv(&a.csv, a.columns.as_deref())?;
            let points = table_points_v5(flow, &table)?;
            let scores = runtime_scores(flow, &points)?;
            (table, points, scores)
        }
    };
    let named = table.series.iter().any(|s| !s.name.is_empty());
    let mut text = String::from(if named { "series,t,score" } else { "t,score" });
    let threshold = flow.meta().map(|m| m.threshold);
    text.push_str(if threshold.is_some() {
        ",anomaly\n"
    } else {
        "\n"
    });
    for (&(si, end), s) in points.ends.iter().zip(&scores) {
        let series = &table.series[si];
        if named {
            let _ = write!(text, "{},", series.name);
        }
        let _ = write!(text, "{},{s}", format_time(table.clock, series.times[end]));
        if let Some(t) = threshold {
            let _ = write!(text, ",{}", u8::from(*s > t));
        }
        text.push('\n');
    }
    if points.skipped > 0 {
        eprintln!(
            "{} windows skipped at gaps off the nominal one: no score",
            points.skipped
        );
    }
    match out {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// A format-5 flow's points: every row of the table, in the flow's units.
pub(super) fn table_points_v5(flow: &FlowModel<'_>, table: &Table) -> Result<RawPoints, AppError> {
    let dim = flow.model().state_dim();
    if table.channels.len() != dim {
        return Err(AppError::Usage(format!(
            "{}: {} channel columns, the flow's points have {dim}",
            table.source,
            table.channels.len()
        )));
    }
    let mut p = RawPoints {
        dim,
        ..RawPoints::default()
    };
    for (si, s) in table.series.iter().enumerate() {
        for (k, v) in s.values.iter().enumerate() {
            p.values.extend_from_slice(v);
            p.ends.push((si, k));
        }
    }
    Ok(p)
}
