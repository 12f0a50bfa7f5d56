//! A recorded series of any length mapped onto the fixed number of samples
//! a model's window takes, by linear interpolation over the sample index.
//!
//! Why: a window model reads a fixed number of samples, but a gesture or a
//! spoken vowel lasts as long as it lasts. The trainer maps every series of
//! an unequal-length classification set onto one length with this very
//! function (`trainer train` notes the length), so a device that records a
//! series of `n` samples and resamples it here feeds the model the same
//! bits the trainer did.
//!
//! Output sample `j` of `m` sits at source position `j (n - 1) / (m - 1)`:
//! its integer part `i` and remainder `r` are computed exactly in integers,
//! then `a + (b - a) * (r / (m - 1))` in `f32` (no fused multiply-add, so
//! every target gives the same bits). The first and last samples are kept
//! exactly.

use crate::error::RunError;

/// Resamples `src` (`n` samples of `channels` values, sample-major) into
/// `dst` (`dst.len() / channels` samples). A single source sample is
/// repeated. Refused: a length that is not a whole number of samples, an
/// empty source or destination, a non-finite value.
pub fn linear(src: &[f32], channels: usize, dst: &mut [f32]) -> Result<(), RunError> {
    let whole = |len: usize, what| {
        if channels == 0 || len == 0 || !len.is_multiple_of(channels) {
            Err(RunError::WindowLength {
                what,
                expected: channels.max(1),
                found: len,
            })
        } else {
            Ok(len / channels)
        }
    };
    let n = whole(src.len(), "samples")?;
    let m = whole(dst.len(), "samples")?;
    if let Some(k) = src.iter().position(|v| !v.is_finite()) {
        return Err(RunError::NonFiniteSample {
            sample: k / channels,
            channel: k % channels,
        });
    }
    let sample = |i: usize| {
        src.get(i * channels..(i + 1) * channels)
            .ok_or(RunError::WindowLength {
                what: "samples",
                expected: (i + 1) * channels,
                found: src.len(),
            })
    };
    for (j, out) in dst.chunks_exact_mut(channels).enumerate() {
        let (i, r) = if m == 1 || n == 1 {
            (0, 0)
        } else {
            // In u64: `j (n - 1)` of two long recordings can pass a 32-bit
            // core's usize; the quotient is below n and the remainder below m.
            let pos = j as u64 * (n as u64 - 1);
            let d = m as u64 - 1;
            (
                usize::try_from(pos / d).unwrap_or(usize::MAX),
                usize::try_from(pos % d).unwrap_or(usize::MAX),
            )
        };
        let a = sample(i)?;
        if r == 0 {
            out.copy_from_slice(a);
        } else {
            let frac = r as f32 / (m - 1) as f32;
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(sample(i + 1)?) {
                *o = a + (b - a) * frac;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn endpoints_are_kept_and_a_line_stays_a_line() {
        let src: [f32; 5] = [0.0, 1.0, 2.0, 3.0, 4.0];
        let mut dst = [0f32; 9];
        linear(&src, 1, &mut dst).expect("resamples");
        assert_eq!(dst, [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]);
        let mut down = [0f32; 3];
        linear(&src, 1, &mut down).expect("resamples");
        assert_eq!(down, [0.0, 2.0, 4.0]);
    }

    #[test]
    fn channels_are_interpolated_apart_and_one_sample_is_repeated() {
        let src = [0.0, 10.0, 2.0, 30.0];
        let mut dst = [0f32; 6];
        linear(&src, 2, &mut dst).expect("resamples");
        assert_eq!(dst, [0.0, 10.0, 1.0, 20.0, 2.0, 30.0]);
        let mut rep = [0f32; 4];
        linear(&[7.0, 8.0], 2, &mut rep).expect("resamples");
        assert_eq!(rep, [7.0, 8.0, 7.0, 8.0]);
    }

    #[test]
    fn bad_input_is_refused() {
        let mut dst = [0f32; 4];
        assert!(matches!(
            linear(&[1.0, 2.0, 3.0], 2, &mut dst),
            Err(RunError::WindowLength { found: 3, .. })
        ));
        assert!(linear(&[], 1, &mut dst).is_err());
        assert!(linear(&[1.0], 1, &mut []).is_err());
        assert!(matches!(
            linear(&[1.0, f32::NAN], 1, &mut dst),
            Err(RunError::NonFiniteSample {
                sample: 1,
                channel: 0
            })
        ));
    }
}
