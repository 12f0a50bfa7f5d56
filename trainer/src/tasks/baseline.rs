//! The baselines every `train` summary prints beside the model, computed on
//! the same windows: forecasts against the naive last value and the
//! seasonal naive forecast, classifiers against the majority class and
//! 1-nearest-neighbour with Euclidean distance on z-normalised windows. A
//! model that loses to one of them on validation or test gets a `WARNING`
//! line (`--require-beat-baseline`: an error, no file written).

use crate::data::{Problem, TaskKind, Windows};
use crate::engine::train;

/// Smallest autocorrelation at which a lag counts as the data's period.
pub const MIN_SEASON_ACF: f64 = 0.3;

/// One baseline's metric on the validation and test windows.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// What it is, for the summary.
    pub name: String,
    /// Validation metric (MSE in data units, or accuracy).
    pub val: f32,
    /// Test metric.
    pub test: f32,
}

/// Every baseline for `p` (the naive or majority one first).
pub fn baselines(p: &Problem) -> Vec<Baseline> {
    let naive = Baseline {
        name: match p.task {
            TaskKind::Forecast => "naive last value".into(),
            TaskKind::Classify => "majority class".into(),
        },
        val: train::naive(p, &p.val),
        test: train::naive(p, &p.test),
    };
    let mut out = vec![naive];
    match p.task {
        TaskKind::Forecast => {
            if let Some((m, r)) = season(p) {
                out.push(Baseline {
                    name: format!("seasonal naive (period {m}, autocorrelation {r:.2})"),
                    val: seasonal_naive(p, &p.val, m),
                    test: seasonal_naive(p, &p.test, m),
                });
            }
        }
        TaskKind::Classify => {
            let refs = p.train.concat(&p.val);
            out.push(Baseline {
                name: "1-NN Euclidean (z-normalised)".into(),
                val: nearest_neighbour(p, &p.train, &p.val),
                test: nearest_neighbour(p, &refs, &p.test),
            });
        }
    }
    out
}

/// Whether `model` is worse than `base` for `task`.
pub fn loses(task: TaskKind, model: f32, base: f32) -> bool {
    match task {
        // NaN loses.
        TaskKind::Forecast => model.is_nan() || model > base,
        TaskKind::Classify => model.is_nan() || model < base,
    }
}

/// One plain line per baseline the model loses to, on validation or test.
pub fn warnings(task: TaskKind, val: f32, test: f32, bases: &[Baseline]) -> Vec<String> {
    let mut out = Vec::new();
    for b in bases {
        for (part, model, base) in [("validation", val, b.val), ("test", test, b.test)] {
            if loses(task, model, base) {
                out.push(match task {
                    TaskKind::Forecast => format!(
                        "the model's {part} MSE is {:.2}x the {}'s ({model:.6} vs {base:.6})",
                        model / base.max(f32::MIN_POSITIVE),
                        b.name
                    ),
                    TaskKind::Classify => format!(
                        "the model's {part} accuracy {model:.3} is below the {}'s {base:.3}",
                        b.name
                    ),
                });
            }
        }
    }
    out
}

/// The period of the training windows' channel 0: the lag in `2..=window/2`
/// with the highest autocorrelation that is a local peak, when that is at
/// least [`MIN_SEASON_ACF`]. Each window is centred on its own mean, so a
/// trend does not count as a season.
pub fn season(p: &Problem) -> Option<(usize, f64)> {
    let (c, win, w) = (p.channels(), p.window, &p.train);
    if win < 4 || w.len == 0 {
        return None;
    }
    let acf: Vec<f64> = (0..=win / 2 + 1)
        .map(|m| {
            let (mut num, mut den) = (0f64, 0f64);
            for i in 0..w.len {
                let v = |n: usize| f64::from(w.x[(i * win + n) * c]);
                let mean = (0..win).map(v).sum::<f64>() / win as f64;
                for n in 0..win {
                    den += (v(n) - mean).powi(2);
                    if n >= m {
                        num += (v(n) - mean) * (v(n - m) - mean);
                    }
                }
            }
            if den > 0.0 {
                num / den
            } else {
                0.0
            }
        })
        .collect();
    (2..=win / 2)
        .filter(|&m| acf[m] >= acf[m - 1] && acf[m] >= acf[m + 1] && acf[m] >= MIN_SEASON_ACF)
        .max_by(|&a, &b| acf[a].total_cmp(&acf[b]))
        .map(|m| (m, acf[m]))
}

/// MSE of the seasonal naive forecast with period `m`: step `h` ahead
/// repeats the sample `m * ceil(h / m)` before it (within the window).
pub fn seasonal_naive(p: &Problem, w: &Windows, m: usize) -> f32 {
    let (c, win, out) = (p.channels(), p.window, p.outputs());
    let mut s = 0f64;
    for i in 0..w.len {
        for j in 0..out {
            let h = j / c + 1;
            let back = m * h.div_ceil(m);
            let n = (win - 1 + h).saturating_sub(back).min(win - 1);
            let e = f64::from(w.x[(i * win + n) * c + j % c] - w.y[i * out + j]);
            s += e * e;
        }
    }
    (s / (w.len * out).max(1) as f64) as f32
}

/// Each window's values z-normalised per data channel (a patched problem's
/// values are still sample-major, so channel = index mod the data's
/// channels); a constant channel becomes zeros.
fn z_normalised(p: &Problem, w: &Windows) -> Vec<f32> {
    let per = p.window * p.channels();
    let c0 = (p.channels() / p.patch.max(1)).max(1);
    let mut out = w.x.clone();
    for win in out.chunks_exact_mut(per) {
        for ch in 0..c0 {
            let vals: Vec<f64> = win.iter().skip(ch).step_by(c0).map(|&v| v.into()).collect();
            let n = vals.len() as f64;
            let mean = vals.iter().sum::<f64>() / n;
            let sd = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            for v in win.iter_mut().skip(ch).step_by(c0) {
                *v = if sd > 1e-12 {
                    ((f64::from(*v) - mean) / sd) as f32
                } else {
                    0.0
                };
            }
        }
    }
    out
}

/// Accuracy of 1-NN (Euclidean, z-normalised windows) on `query` with the
/// labelled windows `refs`; per series (a vote of its windows' neighbours'
/// classes, as the model's windows vote) when a series holds several.
pub fn nearest_neighbour(p: &Problem, refs: &Windows, query: &Windows) -> f32 {
    let per = p.window * p.channels();
    let classes = p.classes.len().max(1);
    let (r, q) = (z_normalised(p, refs), z_normalised(p, query));
    // One-hot "logits" of each query window's neighbour.
    let mut votes = vec![0f32; query.len * classes];
    for (i, qw) in q.chunks_exact(per).enumerate() {
        let best = r
            .chunks_exact(per)
            .map(|rw| {
                rw.iter()
                    .zip(qw)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
            })
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| refs.class[k]);
        if let Some(c) = best {
            votes[i * classes + c] = 1.0;
        }
    }
    train::series_accuracy(&votes, classes, query).unwrap_or_else(|| {
        let right = (0..query.len)
            .filter(|&i| votes[i * classes + query.class[i]] == 1.0)
            .count();
        right as f32 / query.len.max(1) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Clock, Reference};

    fn problem(task: TaskKind, window: usize, train: Windows) -> Problem {
        Problem {
            name: "t".into(),
            task,
            channel_names: vec!["x".into()],
            window,
            horizon: if task == TaskKind::Forecast { 2 } else { 0 },
            stride: 1,
            classes: vec!["a".into(), "b".into()],
            time_unit: 1.0,
            clock: Clock::Index,
            reference: Reference::Global,
            mean: vec![0.0],
            std: vec![1.0],
            notes: Vec::new(),
            patch: 1,
            resampled: None,
            train,
            val: Windows::default(),
            test: Windows::default(),
        }
    }

    #[test]
    fn season_finds_the_period_and_seasonal_naive_is_exact_on_it() {
        // A period-4 pattern, windows of 12, forecasts 2 ahead.
        let pat = [0.0, 1.0, 3.0, -2.0];
        let at = |n: usize| pat[n % 4];
        let mut w = Windows::default();
        for i in 0..6 {
            w.x.extend((0..12).map(|n| at(i + n)));
            w.gaps.extend([1.0; 12]);
            w.y.extend([at(i + 12), at(i + 13)]);
            w.len += 1;
        }
        let p = problem(TaskKind::Forecast, 12, w.clone());
        let (m, r) = season(&p).expect("a period");
        assert_eq!(m, 4, "acf {r}");
        assert_eq!(seasonal_naive(&p, &w, 4), 0.0);
        assert!(seasonal_naive(&p, &w, 3) > 0.1);
    }

    #[test]
    fn nearest_neighbour_ignores_scale_and_offset() {
        // Class a rises, class b falls; the query is a scaled, shifted rise.
        let refs = Windows {
            x: vec![0.0, 1.0, 2.0, 2.0, 1.0, 0.0],
            gaps: vec![1.0; 6],
            y: Vec::new(),
            class: vec![0, 1],
            series: vec![0, 1],
            len: 2,
        };
        let query = Windows {
            x: vec![10.0, 30.0, 50.0, 5.0, 4.0, 3.0],
            gaps: vec![1.0; 6],
            y: Vec::new(),
            class: vec![0, 0],
            series: vec![0, 1],
            len: 2,
        };
        let p = problem(TaskKind::Classify, 3, refs.clone());
        assert_eq!(nearest_neighbour(&p, &refs, &query), 0.5);
    }

    #[test]
    fn a_loss_names_the_baseline_and_the_ratio() {
        let b = [Baseline {
            name: "naive last value".into(),
            val: 1.0,
            test: 2.0,
        }];
        let w = warnings(TaskKind::Forecast, 0.5, 3.0, &b);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("1.50x the naive last value"), "{}", w[0]);
        assert!(warnings(TaskKind::Classify, 0.9, 0.9, &b[..0]).is_empty());
        assert!(loses(TaskKind::Forecast, f32::NAN, 1.0));
    }
}
