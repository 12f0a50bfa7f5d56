//! A user's sensor CSV as flow points: a point is `W` consecutive samples
//! of every chosen channel, ordered `[k][c]` (the runtime's
//! `nagode::flow::Flow::score` order), and takes the label of its last
//! sample.
//!
//! **Irregular gaps**: the nominal gap is the median gap between
//! consecutive samples of the file; a point is made only from `W` samples
//! whose `W - 1` gaps each lie within 25 % of it (so a stretch with a
//! dropped row or a pause yields no point across it, and the skipped points
//! are counted). A 1-sample window has no gap and always makes a point.
//!
//! **Split**: in time, per series, by `data::time_cuts` over the series'
//! points: train 70 %, validation 15 %, test 15 %; with a separate test
//! file train 85 %, validation 15 %. Points labelled 1 in a training file
//! are left out of training and validation (the flow models normal data).
//!
//! **Scaling**: per channel, the mean and standard deviation of the
//! training points' coordinates of that channel; a constant channel is
//! refused. The scaling goes into the flow file (`nagode::format::FlowMeta`)
//! and the runtime applies it, so a device passes raw readings.

use crate::data::{time_cuts, Table};
use crate::error::AppError;

/// Largest gap ratio to the nominal one a point's gaps may show.
pub const GAP_TOLERANCE: f64 = 0.25;

/// The points of one table, raw (unscaled), row-major `[n][W * C]`.
#[derive(Clone, Debug, Default)]
pub struct RawPoints {
    /// Values per point (`W * C`).
    pub dim: usize,
    /// The points.
    pub values: Vec<f32>,
    /// Per point: 0 or 1 when the table has a `label` column.
    pub labels: Option<Vec<u8>>,
    /// Per point: its series and the index of its last sample there.
    pub ends: Vec<(usize, usize)>,
    /// Windows skipped for a gap off the nominal one.
    pub skipped: usize,
}

impl RawPoints {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Point `i`.
    pub fn point(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// The points whose index passes `keep`, in order.
    pub fn select(&self, keep: impl Fn(usize) -> bool) -> RawPoints {
        let mut out = RawPoints {
            dim: self.dim,
            labels: self.labels.as_ref().map(|_| Vec::new()),
            ..RawPoints::default()
        };
        for i in (0..self.len()).filter(|&i| keep(i)) {
            out.values.extend_from_slice(self.point(i));
            out.ends.push(self.ends[i]);
            if let (Some(dst), Some(src)) = (&mut out.labels, &self.labels) {
                dst.push(src[i]);
            }
        }
        out
    }
}

/// The median gap between consecutive samples of `table` (1 with none).
pub fn nominal_gap(table: &Table) -> f64 {
    let mut gaps: Vec<f64> = table
        .series
        .iter()
        .flat_map(|s| s.times.windows(2).map(|w| w[1] - w[0]))
        .collect();
    if gaps.is_empty() {
        return 1.0;
    }
    gaps.sort_by(f64::total_cmp);
    gaps[gaps.len() / 2]
}

/// Each sample's label as 0 or 1; anything else is refused by value and line.
fn labels01(table: &Table) -> Result<Option<Vec<Vec<u8>>>, AppError> {
    let mut out = Vec::new();
    for s in &table.series {
        let Some(labels) = &s.labels else {
            return Ok(None);
        };
        let mut row = Vec::with_capacity(labels.len());
        for (k, l) in labels.iter().enumerate() {
            row.push(match l.trim() {
                "0" => 0,
                "1" => 1,
                other => {
                    let line = s.lines.get(k).map_or(String::new(), |l| format!(" (line {l})"));
                    return Err(AppError::Usage(format!(
                        "{}: label `{other}`{line} is not 0 or 1: an anomaly label column holds 0 (normal) or 1 (anomaly)",
                        table.source
                    )));
                }
            });
        }
        out.push(row);
    }
    Ok(Some(out))
}

/// Every point of `table` with `window` samples per point, gaps judged
/// against `nominal` (see the module docs). Refuses a table without one
/// full window.
pub fn raw_points(table: &Table, window: usize, nominal: f64) -> Result<RawPoints, AppError> {
    let channels = table.channels.len();
    let labels = labels01(table)?;
    let mut out = RawPoints {
        dim: window * channels,
        labels: labels.as_ref().map(|_| Vec::new()),
        ..RawPoints::default()
    };
    let ok = |g: f64| (g / nominal - 1.0).abs() <= GAP_TOLERANCE;
    for (si, s) in table.series.iter().enumerate() {
        for end in window.saturating_sub(1)..s.values.len() {
            let start = end + 1 - window;
            if !s.times[start..=end].windows(2).all(|w| ok(w[1] - w[0])) {
                out.skipped += 1;
                continue;
            }
            for v in &s.values[start..=end] {
                out.values.extend_from_slice(v);
            }
            out.ends.push((si, end));
            if let (Some(dst), Some(src)) = (&mut out.labels, &labels) {
                dst.push(src[si][end]);
            }
        }
    }
    if out.is_empty() {
        let longest = table.series.iter().map(|s| s.values.len()).max();
        return Err(AppError::Usage(format!(
            "{}: no point of {window} consecutive samples at the nominal gap \
             (longest series: {} samples); use a smaller --window or a longer file",
            table.source,
            longest.unwrap_or(0)
        )));
    }
    Ok(out)
}

/// Training, validation and (without a separate test file) test points,
/// cut in time per series (see the module docs); labelled anomalies are
/// left out of training and validation.
pub fn split(points: &RawPoints, separate_test: bool) -> [RawPoints; 3] {
    let series = points.ends.iter().map(|e| e.0).max().map_or(0, |m| m + 1);
    let mut part = vec![0u8; points.len()];
    for s in 0..series {
        let idx: Vec<usize> = (0..points.len())
            .filter(|&i| points.ends[i].0 == s)
            .collect();
        let (a, b) = time_cuts(idx.len(), separate_test);
        for (k, &i) in idx.iter().enumerate() {
            part[i] = u8::from(k >= a) + u8::from(k >= b);
        }
    }
    let normal = |i: usize| points.labels.as_ref().is_none_or(|l| l[i] == 0);
    [
        points.select(|i| part[i] == 0 && normal(i)),
        points.select(|i| part[i] == 1 && normal(i)),
        points.select(|i| part[i] == 2),
    ]
}

/// Per-channel offset (mean) and scale (standard deviation) of the
/// training points; a constant channel is refused by name.
pub fn fit_scaling(train: &RawPoints, names: &[String]) -> Result<(Vec<f32>, Vec<f32>), AppError> {
    let c = names.len().max(1);
    let (mut sum, mut sq, mut n) = (vec![0f64; c], vec![0f64; c], vec![0f64; c]);
    for (j, &v) in train.values.iter().enumerate() {
        let (ch, v) = (j % c, f64::from(v));
        sum[ch] += v;
        sq[ch] += v * v;
        n[ch] += 1.0;
    }
    let mut offset = Vec::with_capacity(c);
    let mut scale = Vec::with_capacity(c);
    for ch in 0..c {
        let mean = sum[ch] / n[ch].max(1.0);
        let var = (sq[ch] / n[ch].max(1.0) - mean * mean).max(0.0);
        let std = var.sqrt();
        // NaN-safe: a NaN std is refused too.
        let varies = std > 1e-9 * mean.abs().max(1e-30) && (std as f32) > 0.0;
        if !varies {
            return Err(AppError::Usage(format!(
                "channel `{}` is constant in the training points (zero scale): \
                 a flow cannot scale it; leave it out with --columns",
                names.get(ch).map_or("?", String::as_str)
            )));
        }
        offset.push(mean as f32);
        scale.push(std as f32);
    }
    Ok((offset, scale))
}

/// `points` scaled channel by channel, as the runtime scales them.
pub fn scaled(points: &RawPoints, offset: &[f32], scale: &[f32]) -> Vec<f32> {
    let c = offset.len().max(1);
    points
        .values
        .iter()
        .enumerate()
        .map(|(j, x)| (x - offset[j % c]) / scale[j % c])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_csv;

    fn table(text: &str) -> Table {
        parse_csv("t.csv", text.as_bytes(), None).expect("parses")
    }

    #[test]
    fn points_skip_gaps_off_the_nominal_one_and_take_the_last_label() {
        let t = table("t,x,label\n0,1,0\n1,2,0\n2,3,1\n4,4,0\n5,5,0\n");
        let p = raw_points(&t, 2, nominal_gap(&t)).expect("points");
        assert_eq!(p.values, vec![1.0, 2.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(p.labels, Some(vec![0, 1, 0]));
        assert_eq!(p.skipped, 1);
    }

    #[test]
    fn bad_labels_constant_channels_and_short_files_are_refused() {
        let bad = table("x,label\n1,0\n2,2\n");
        let err = raw_points(&bad, 2, 1.0).expect_err("label 2");
        assert!(err.to_string().contains("label `2`"), "{err}");
        let short = table("x\n1\n");
        let err = raw_points(&short, 2, 1.0).expect_err("one sample");
        assert!(err.to_string().contains("no point of 2"), "{err}");
        let flat = table("x,y\n1,5\n2,5\n3,5\n");
        let p = raw_points(&flat, 1, 1.0).expect("points");
        let err = fit_scaling(&p, &flat.channels).expect_err("constant y");
        assert!(err.to_string().contains("channel `y` is constant"), "{err}");
    }

    #[test]
    fn split_is_in_time_and_leaves_anomalies_out_of_training() {
        let rows: String = (0..100)
            .map(|k| format!("{k},{}\n", u8::from(k == 10)))
            .collect();
        let t = table(&format!("x,label\n{rows}"));
        let p = raw_points(&t, 1, 1.0).expect("points");
        let [train, val, test] = split(&p, false);
        assert_eq!((train.len(), val.len(), test.len()), (69, 15, 15));
        assert!(train.values.iter().all(|&v| v < 70.0 && v != 10.0));
        assert!(test.values.iter().all(|&v| v >= 85.0));
    }
}
