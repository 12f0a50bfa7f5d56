//! Unequal-length classification sets: every series mapped onto one length
//! with the runtime's own [`nagode::resample::linear`], so each series is
//! one window and is classified once (accuracy per series).
//!
//! Without it a set whose series run from 29 to 361 samples was cut into
//! windows of the shortest length and scored per window: 0.29–0.32 test
//! accuracy on PickupGestureWiimoteZ (seeds 0–2), against 0.56 for the
//! archive's 1-NN.

use super::{Series, Table};
use nagode::format::Clock;

/// The longest derived length; a longer median is capped (patches then
/// cut the solver steps, `super::patch`).
pub const MAX_LENGTH: usize = 256;

/// The length unequal series are resampled to, or `None` when every
/// series of both tables has the same length: the median length of the
/// training table's series, at most [`MAX_LENGTH`] and at least 2.
pub fn derived_length(table: &Table, test: Option<&Table>) -> Option<usize> {
    let lens: Vec<usize> = std::iter::once(table)
        .chain(test)
        .flat_map(|t| t.series.iter().map(|s| s.values.len()))
        .collect();
    if lens.windows(2).all(|w| w[0] == w[1]) {
        return None;
    }
    let mut train: Vec<usize> = table.series.iter().map(|s| s.values.len()).collect();
    train.sort_unstable();
    Some(train[train.len() / 2].clamp(2, MAX_LENGTH))
}

/// `table` with every series resampled to `m` samples over its sample
/// index: times `0..m` ([`Clock::Index`]), each series' first label.
pub fn to_length(table: &Table, m: usize) -> Result<Table, nagode::RunError> {
    let c = table.channels.len();
    let mut series = Vec::with_capacity(table.series.len());
    for s in &table.series {
        let flat: Vec<f32> = s.values.iter().flatten().copied().collect();
        let mut out = vec![0f32; m * c];
        nagode::resample::linear(&flat, c, &mut out)?;
        series.push(Series {
            name: s.name.clone(),
            times: (0..m).map(|j| j as f64).collect(),
            values: out.chunks_exact(c).map(<[f32]>::to_vec).collect(),
            labels: s
                .labels
                .as_ref()
                .map(|l| vec![l.first().cloned().unwrap_or_default(); m]),
            lines: Vec::new(),
        });
    }
    Ok(Table {
        series,
        clock: Clock::Index,
        ..table.clone()
    })
}

/// The note for the summary.
pub fn note(table: &Table, m: usize) -> String {
    let lens = table.series.iter().map(|s| s.values.len());
    let (lo, hi) = (lens.clone().min().unwrap_or(0), lens.max().unwrap_or(0));
    format!(
        "every series resampled to {m} samples (lengths {lo}–{hi}; the training median, at \
         most {MAX_LENGTH}, cut to a multiple of the patch): one window and one class per series; a device resamples a \
         recorded series with `nagode::resample::linear` (`--resample 0`: windows of the \
         shortest series instead)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(lens: &[usize]) -> Table {
        Table {
            source: "t".into(),
            channels: vec!["x".into()],
            clock: Clock::Number,
            series: lens
                .iter()
                .enumerate()
                .map(|(i, &n)| Series {
                    name: i.to_string(),
                    times: (0..n).map(|t| t as f64).collect(),
                    values: (0..n).map(|t| vec![t as f32]).collect(),
                    labels: Some(vec!["a".into(); n]),
                    lines: Vec::new(),
                })
                .collect(),
            missing: Default::default(),
        }
    }

    #[test]
    fn unequal_series_take_the_median_length() {
        assert_eq!(derived_length(&table(&[5, 5, 5]), None), None);
        assert_eq!(derived_length(&table(&[3, 9, 5]), None), Some(5));
        let t = to_length(&table(&[3, 9]), 5).expect("resamples");
        assert!(t.series.iter().all(|s| s.values.len() == 5));
        assert_eq!(t.series[1].values[4], vec![8.0]);
        assert_eq!(t.clock, Clock::Index);
    }
}
