//! Running exported models with the `nagode` runtime on the host: the
//! reference inference path used for parity, `predict` and `eval`, every
//! window through [`nagode::batch`] (parallel over the cores, the same bits
//! as one window at a time).

use crate::data::Windows;
use nagode::batch::{self, BatchError};
use nagode::{LoadError, Model, RunError, Session};

/// Widest vector the host sessions hold (the format allows layers up to
/// 1024 wide; the trainer's models stay far below this).
pub const HOST_STATE: usize = 512;
/// Sample values a host session holds (`window * channels`).
pub const HOST_WINDOW: usize = 16384;

/// A host session with the capacities above.
pub type HostSession<'m> = Session<'m, HOST_STATE, HOST_WINDOW>;

/// Why the runtime could not produce outputs.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The model file was refused.
    #[error("model file refused: {0}")]
    Load(#[from] LoadError),
    /// A window could not be run.
    #[error("window {window}: {source}")]
    Run {
        /// Window index.
        window: usize,
        /// The runtime's error.
        source: RunError,
    },
    /// The windows' buffers do not match the model.
    #[error("{0}")]
    Batch(BatchError),
}

impl From<BatchError> for HostError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Load(e) => HostError::Load(e),
            BatchError::Run { window, error } => HostError::Run {
                window,
                source: error,
            },
            // `Length`, and any reason a later runtime adds (non-exhaustive).
            _ => HostError::Batch(e),
        }
    }
}

/// Runs every window of `w` through the runtime; outputs `[i][out]`.
pub fn run_windows(model: &Model<'_>, w: &Windows) -> Result<Vec<f32>, HostError> {
    let mut outputs = vec![0f32; w.len * model.output_len()];
    batch::run_windows(&model.net(), &w.x, Some(&w.gaps), &mut outputs)?;
    Ok(outputs)
}

/// Largest absolute difference (NaN if any is), and that relative to the
/// largest |reference|.
pub fn max_difference(a: &[f32], reference: &[f32]) -> (f32, f32) {
    // A NaN difference wins (f32::max would drop it and hide a broken run).
    let abs = a
        .iter()
        .zip(reference)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, |m, d| if d > m || d.is_nan() { d } else { m });
    let scale = reference
        .iter()
        .map(|y| y.abs())
        .fold(0f32, f32::max)
        .max(f32::MIN_POSITIVE);
    (abs, abs / scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::studies::bench::InferenceSetup;

    /// `run_windows` (the batch) gives each window the bits a session
    /// running it alone gives, in order; a bad window is named.
    #[test]
    fn batch_equals_one_session_per_window() {
        let setup = InferenceSetup::default_model().expect("set-up");
        let model = Model::from_bytes(&setup.bytes).expect("loads");
        let (win, len, count) = (model.window(), model.output_len(), 100);
        let mut w = Windows {
            x: (0..count * win).map(|k| (k as f32 * 0.37).sin()).collect(),
            gaps: (0..count * win).map(|k| [1.0, 0.5, 2.5][k % 3]).collect(),
            len: count,
            ..Windows::default()
        };
        let batch = run_windows(&model, &w).expect("runs");
        let mut session: HostSession<'_> = Session::new(&model).expect("fits");
        let mut one = vec![0f32; len];
        for i in 0..count {
            session
                .run_window(
                    &w.x[i * win..(i + 1) * win],
                    Some(&w.gaps[i * win..(i + 1) * win]),
                    &mut one,
                )
                .expect("runs");
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&batch[i * len..(i + 1) * len]),
                bits(&one),
                "window {i}"
            );
        }
        w.x[61 * win + 3] = f32::INFINITY;
        assert!(matches!(
            run_windows(&model, &w),
            Err(HostError::Run { window: 61, .. })
        ));
    }
}
