//! Normalisation statistics for a [`Reference`]: the per-channel mean and
//! std of what the model is given before scaling (see
//! `nagode::normalise`: the model sees `((x - r) - mean) / std`).

use super::Windows;
use nagode::normalise::Reference;

/// Per-channel `(mean, std)` over every input sample of `w` (windows of
/// `window` samples, `channels` channels), in f64: of the raw values for
/// [`Reference::Global`], of `x - x_last` (the last sample of the same
/// window and channel) for [`Reference::LastValue`]. Population std (the
/// mean of the squared deviations, two passes). Empty `w` gives NaNs.
pub fn statistics(
    w: &Windows,
    window: usize,
    channels: usize,
    reference: Reference,
) -> (Vec<f64>, Vec<f64>) {
    let per_window = window * channels;
    // Every input value as the model's normalisation sees it.
    let values = |c: usize| {
        w.x.chunks_exact(per_window).flat_map(move |win| {
            let r = match reference {
                Reference::Global => 0.0,
                Reference::LastValue => f64::from(win[(window - 1) * channels + c]),
            };
            win.iter()
                .skip(c)
                .step_by(channels)
                .map(move |&x| f64::from(x) - r)
        })
    };
    let count = (w.len * window) as f64;
    let mut mean = vec![0f64; channels];
    let mut std = vec![0f64; channels];
    for c in 0..channels {
        mean[c] = values(c).sum::<f64>() / count;
        let m = mean[c];
        std[c] = (values(c).map(|v| (v - m) * (v - m)).sum::<f64>() / count).sqrt();
    }
    (mean, std)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_value_statistics_of_a_trend() {
        // Two windows of 3 samples of a linear trend x = 10 n (one channel)
        // and a constant second channel: raw values 0..50 have a large mean;
        // relative to the last value every window is (-20, -10, 0).
        let x: Vec<f32> = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
            .iter()
            .flat_map(|&v| [v, 7.0])
            .collect();
        let w = Windows {
            x,
            len: 2,
            ..Windows::default()
        };
        let (m, s) = statistics(&w, 3, 2, Reference::Global);
        assert!((m[0] - 25.0).abs() < 1e-12 && (m[1] - 7.0).abs() < 1e-12);
        assert!((s[0] - (17.5f64 * 50.0 / 3.0).sqrt()).abs() < 1e-9, "{s:?}");
        assert_eq!(s[1], 0.0);
        let (m, s) = statistics(&w, 3, 2, Reference::LastValue);
        assert!((m[0] + 10.0).abs() < 1e-12, "{m:?}");
        // Deviations -10, 0, 10 (twice): variance 200 / 3.
        assert!((s[0] - (200.0f64 / 3.0).sqrt()).abs() < 1e-12, "{s:?}");
        assert_eq!((m[1], s[1]), (0.0, 0.0));
    }
}
