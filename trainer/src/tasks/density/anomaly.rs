//! A flow as an anomaly detector on a user's sensor CSV: the points of
//! [`super::sensor`], scaled per channel, a flow trained on the normal
//! training points, a threshold at a quantile of the validation points'
//! scores, and the scores judged against labels beside the baselines of
//! [`super::detect`].

use super::detect::{at_threshold, first_difference_scores, gaussian_scores, judge, Judged};
use super::sensor::{fit_scaling, nominal_gap, raw_points, scaled, split, RawPoints};
use crate::data::{Points, Table};
use crate::error::AppError;
use nagode::flow::Flow;
use nagode::format::{FlowMeta, MAX_WIDTH};

/// Fewest training points a flow is trained on.
pub const MIN_TRAIN_POINTS: usize = 16;

/// A CSV's points, split and scaled for training.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Scaled training / validation / test points (the flow's units).
    pub points: Points,
    /// The same training, validation and test points, raw.
    pub raw: [RawPoints; 3],
    /// Per-channel offset and scale (the training points' mean and std).
    pub offset: Vec<f32>,
    /// See `offset`.
    pub scale: Vec<f32>,
    /// The nominal gap between samples (median of the training file).
    pub nominal_gap: f64,
}

/// The points of `train` (and of `test`, when given) with `window`
/// samples each, split in time and scaled by the training points' statistics.
pub fn prepare(train: &Table, test: Option<&Table>, window: usize) -> Result<Prepared, AppError> {
    if window == 0 {
        return Err(AppError::Usage("--window must be at least 1".into()));
    }
    let gap = nominal_gap(train);
    let all = raw_points(train, window, gap)?;
    let [tr, va, in_file_test] = split(&all, test.is_some());
    let te = match test {
        Some(t) if t.channels != train.channels => {
            return Err(AppError::Usage(format!(
                "{}: channels {:?}, the training file's are {:?}",
                t.source, t.channels, train.channels
            )))
        }
        Some(t) => raw_points(t, window, gap)?,
        None => in_file_test,
    };
    if tr.len() < MIN_TRAIN_POINTS || va.is_empty() {
        return Err(AppError::Usage(format!(
            "{}: {} training and {} validation points of {window} samples; a flow needs at \
             least {MIN_TRAIN_POINTS} and 1 (a longer file or a smaller --window)",
            train.source,
            tr.len(),
            va.len()
        )));
    }
    let (offset, scale) = fit_scaling(&tr, &train.channels)?;
    let points = Points {
        name: train.source.clone(),
        dim: all.dim,
        train: scaled(&tr, &offset, &scale),
        val: scaled(&va, &offset, &scale),
        test: scaled(&te, &offset, &scale),
    };
    Ok(Prepared {
        points,
        raw: [tr, va, te],
        offset,
        scale,
        nominal_gap: gap,
    })
}

/// The file's metadata: `window`, the scaling, and the threshold at the
/// `quantile` of the validation scores.
pub fn meta(
    p: &Prepared,
    window: usize,
    val_scores: &[f32],
    quantile: f64,
) -> Result<FlowMeta, AppError> {
    if !(0.0..=1.0).contains(&quantile) {
        return Err(AppError::Usage(format!(
            "--quantile {quantile} is not in [0, 1]"
        )));
    }
    let vec = |v: &[f32]| {
        heapless::Vec::from_slice(v).map_err(|_| {
            AppError::Usage(format!("at most {} channels", nagode::format::MAX_CHANNELS))
        })
    };
    Ok(FlowMeta {
        window: u16::try_from(window).map_err(|_| AppError::Usage("--window too large".into()))?,
        offset: vec(&p.offset)?,
        scale: vec(&p.scale)?,
        threshold: super::detect::quantile(val_scores, quantile),
        quantile: quantile as f32,
    })
}

/// The runtime's score (`Flow::score`, raw readings in) of every point.
pub fn runtime_scores(
    flow: &nagode::flow::FlowModel<'_>,
    points: &RawPoints,
) -> Result<Vec<f32>, AppError> {
    // Capacities for any flow the format allows; host memory, about 100 kB.
    let mut run = Box::new(
        Flow::<MAX_WIDTH, { MAX_WIDTH + 1 }>::new(flow)
            .map_err(|e| AppError::Usage(e.to_string()))?,
    );
    (0..points.len())
        .map(|i| {
            run.score(points.point(i))
                .map_err(|e| AppError::Usage(format!("point {i}: {e}")))
        })
        .collect()
}

/// A flow's scores against labels, beside the baselines on the same points.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Points judged.
    pub points: usize,
    /// Of them labelled 1.
    pub anomalies: usize,
    /// The flow.
    pub flow: Judged,
    /// The Gaussian density baseline.
    pub gaussian: Judged,
    /// The first-difference |z| baseline.
    pub difference: Judged,
    /// Precision and recall at the file's threshold.
    pub at_threshold: (f64, f64),
}

/// The comparison on `points` (with labels) of the flow's `scores`;
/// `None` without labels or without both classes.
pub fn compare(
    points: &RawPoints,
    channels: usize,
    scores: &[f32],
    threshold: f32,
) -> Option<Comparison> {
    let labels = points.labels.as_deref()?;
    let gaussian = gaussian_scores(&points.values, points.dim);
    let difference = first_difference_scores(&points.values, points.dim, channels);
    Some(Comparison {
        points: labels.len(),
        anomalies: labels.iter().filter(|&&l| l == 1).count(),
        flow: judge(scores, labels)?,
        gaussian: judge(&gaussian, labels)?,
        difference: judge(&difference, labels)?,
        at_threshold: at_threshold(scores, labels, threshold),
    })
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} points, {} labelled anomalous",
            self.points, self.anomalies
        )?;
        writeln!(f, "{:<34}{:>9}{:>9}", "score", "ROC AUC", "PR AUC")?;
        for (name, j) in [
            ("flow -log p", self.flow),
            ("baseline: Gaussian -log N", self.gaussian),
            ("baseline: |z| of first difference", self.difference),
        ] {
            writeln!(f, "{name:<34}{:>9.4}{:>9.4}", j.roc, j.pr)?;
        }
        let (p, r) = self.at_threshold;
        writeln!(
            f,
            "at the stored threshold: precision {p:.4}, recall {r:.4}"
        )
    }
}

/// The points a format-7 flow scores in `table`: its window, its channel
/// count, the gap rule of [`super::sensor`] against the table's own
/// nominal gap.
pub fn table_points(meta: &FlowMeta, table: &Table) -> Result<RawPoints, AppError> {
    if table.channels.len() != meta.offset.len() {
        return Err(AppError::Usage(format!(
            "{}: {} channel columns ({:?}), the flow reads {} (choose them with --columns)",
            table.source,
            table.channels.len(),
            table.channels,
            meta.offset.len()
        )));
    }
    raw_points(table, usize::from(meta.window), nominal_gap(table))
}
