//! Anomaly scores judged against 0/1 labels, and the two baselines a flow
//! must beat on the same points.
//!
//! * ROC AUC: the probability that an anomaly outscores a normal point
//!   (Mann-Whitney, ties counted half).
//! * PR AUC: average precision (precision at each anomaly's rank, averaged
//!   over the anomalies; tied scores enter together).
//! * Precision / recall at a threshold: a point is flagged when its score is
//!   above it.
//! * Baselines, fitted on the very points they score (so they see the test
//!   data, anomalies included; the flow saw only training data): a Gaussian
//!   density (mean and full covariance, score `-log N`), and the largest
//!   over channels of the |z-score| of a point's last first difference
//!   (`x_k - x_{k-1}` of its last two samples, z-scored over the points).

/// The metrics of one score against labels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judged {
    /// ROC AUC.
    pub roc: f64,
    /// Average precision.
    pub pr: f64,
}

/// ROC AUC and average precision of `scores` (higher = more anomalous)
/// against `labels`; `None` unless both classes occur.
pub fn judge(scores: &[f32], labels: &[u8]) -> Option<Judged> {
    let pos = labels.iter().filter(|&&l| l == 1).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Ranks from 1 with ties averaged: the Mann-Whitney U of the anomalies.
    let (mut rank_sum, mut i) = (0f64, 0usize);
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg * order[i..=j].iter().filter(|&&k| labels[k] == 1).count() as f64;
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    let roc = (rank_sum - p * (p + 1.0) / 2.0) / (p * n);
    // Average precision, highest scores first, tied scores as one group.
    let (mut seen, mut hits, mut ap) = (0usize, 0usize, 0f64);
    let mut k = order.len();
    while k > 0 {
        let mut m = k - 1;
        while m > 0 && scores[order[m - 1]] == scores[order[k - 1]] {
            m -= 1;
        }
        let group_hits = order[m..k].iter().filter(|&&q| labels[q] == 1).count();
        seen += k - m;
        hits += group_hits;
        ap += group_hits as f64 * hits as f64 / seen as f64;
        k = m;
    }
    Some(Judged { roc, pr: ap / p })
}

/// Precision and recall of flagging the points scoring above `threshold`
/// (precision 0 when nothing is flagged).
pub fn at_threshold(scores: &[f32], labels: &[u8], threshold: f32) -> (f64, f64) {
    let (mut tp, mut flagged, mut pos) = (0usize, 0usize, 0usize);
    for (&s, &l) in scores.iter().zip(labels) {
        let f = s > threshold;
        flagged += usize::from(f);
        pos += usize::from(l == 1);
        tp += usize::from(f && l == 1);
    }
    (
        tp as f64 / flagged.max(1) as f64,
        tp as f64 / pos.max(1) as f64,
    )
}

/// The `q` quantile of `scores` (the smallest value with at least a share
/// `q` of the scores at or below it).
pub fn quantile(scores: &[f32], q: f64) -> f32 {
    let mut s = scores.to_vec();
    s.sort_by(f32::total_cmp);
    let k = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len().max(1));
    s.get(k - 1).copied().unwrap_or(0.0)
}

/// `-log N(x; mean, cov)` of every point of `points` (`dim` per point),
/// the Gaussian fitted to those points (a small ridge keeps the covariance
/// positive definite).
pub fn gaussian_scores(points: &[f32], dim: usize) -> Vec<f32> {
    let n = (points.len() / dim).max(1) as f64;
    let mut mean = vec![0f64; dim];
    for x in points.chunks(dim) {
        mean.iter_mut()
            .zip(x)
            .for_each(|(m, &v)| *m += f64::from(v) / n);
    }
    let mut cov = vec![0f64; dim * dim];
    for x in points.chunks(dim) {
        for i in 0..dim {
            for j in 0..dim {
                cov[i * dim + j] += (f64::from(x[i]) - mean[i]) * (f64::from(x[j]) - mean[j]) / n;
            }
        }
    }
    let trace: f64 = (0..dim).map(|i| cov[i * dim + i]).sum();
    for i in 0..dim {
        cov[i * dim + i] += 1e-9 * trace.max(1e-30) / dim as f64 + 1e-12;
    }
    let l = cholesky(&cov, dim);
    let log_det: f64 = (0..dim).map(|i| 2.0 * l[i * dim + i].ln()).sum();
    let constant = 0.5 * (log_det + dim as f64 * (2.0 * std::f64::consts::PI).ln());
    points
        .chunks(dim)
        .map(|x| {
            // Solve L y = x - mean; the Mahalanobis distance is |y|².
            let mut y = vec![0f64; dim];
            for i in 0..dim {
                let s: f64 = (0..i).map(|k| l[i * dim + k] * y[k]).sum();
                y[i] = (f64::from(x[i]) - mean[i] - s) / l[i * dim + i];
            }
            (0.5 * y.iter().map(|v| v * v).sum::<f64>() + constant) as f32
        })
        .collect()
}

/// The lower Cholesky factor of a symmetric positive definite `dim x dim`
/// matrix (a non-positive pivot is floored, so a degenerate covariance
/// still gives finite scores).
fn cholesky(a: &[f64], dim: usize) -> Vec<f64> {
    let mut l = vec![0f64; dim * dim];
    for i in 0..dim {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * dim + k] * l[j * dim + k]).sum();
            if i == j {
                l[i * dim + i] = (a[i * dim + i] - s).max(1e-300).sqrt();
            } else {
                l[i * dim + j] = (a[i * dim + j] - s) / l[j * dim + j];
            }
        }
    }
    l
}

/// The largest over channels of the |z-score| of each point's last first
/// difference (`channels` per sample, at least two samples per point;
/// a 1-sample point scores 0).
pub fn first_difference_scores(points: &[f32], dim: usize, channels: usize) -> Vec<f32> {
    if dim < 2 * channels {
        return vec![0.0; points.len() / dim.max(1)];
    }
    let diffs: Vec<f64> = points
        .chunks(dim)
        .flat_map(|x| {
            (0..channels).map(move |c| f64::from(x[dim - channels + c] - x[dim - 2 * channels + c]))
        })
        .collect();
    let n = (diffs.len() / channels).max(1) as f64;
    let mut mean = vec![0f64; channels];
    let mut sq = vec![0f64; channels];
    for (j, d) in diffs.iter().enumerate() {
        mean[j % channels] += d / n;
        sq[j % channels] += d * d / n;
    }
    let std: Vec<f64> = (0..channels)
        .map(|c| (sq[c] - mean[c] * mean[c]).max(0.0).sqrt().max(1e-30))
        .collect();
    diffs
        .chunks(channels)
        .map(|d| {
            (0..channels)
                .map(|c| ((d[c] - mean[c]) / std[c]).abs())
                .fold(0.0, f64::max) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_and_average_precision_on_a_hand_counted_case() {
        // Anomalies at scores 0.9 and 0.4; normals 0.8, 0.3, 0.1.
        let scores = [0.9, 0.8, 0.4, 0.3, 0.1];
        let labels = [1, 0, 1, 0, 0];
        let j = judge(&scores, &labels).expect("both classes");
        // Pairs won: 0.9 beats 3, 0.4 beats 2: 5 of 6.
        assert!((j.roc - 5.0 / 6.0).abs() < 1e-12, "{j:?}");
        // Precision at the anomalies' ranks: 1/1 and 2/3.
        assert!((j.pr - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12, "{j:?}");
        assert_eq!(judge(&scores, &[0; 5]), None);
        // Ties count half.
        let tied = judge(&[1.0, 1.0], &[1, 0]).expect("both");
        assert!((tied.roc - 0.5).abs() < 1e-12);
        assert_eq!(at_threshold(&scores, &labels, 0.35), (2.0 / 3.0, 1.0));
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.5), 2.0);
    }

    #[test]
    fn baselines_flag_what_they_should() {
        // A ramp in two coordinates, one point off the line, one spike.
        let mut pts: Vec<f32> = (0..50).flat_map(|k| [k as f32, k as f32 + 1.0]).collect();
        pts[20 * 2 + 1] += 30.0;
        let g = gaussian_scores(&pts, 2);
        let top = (0..50).max_by(|&a, &b| g[a].total_cmp(&g[b]));
        assert_eq!(top, Some(20));
        let d = first_difference_scores(&pts, 2, 1);
        let top = (0..50).max_by(|&a, &b| d[a].total_cmp(&d[b]));
        assert_eq!(top, Some(20));
    }
}
