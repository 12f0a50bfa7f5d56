//! Running exported models with the `nagode` runtime on the host: the
//! reference inference path used for parity, `predict` and `eval`.

use crate::data::Windows;
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
}

/// Runs every window of `w` through the runtime; outputs `[i][out]`.
pub fn run_windows(model: &Model<'_>, w: &Windows) -> Result<Vec<f32>, HostError> {
    let mut session: HostSession<'_> = Session::new(model)?;
    let (win, c, out_len) = (model.window(), model.channels(), model.output_len());
    let mut outputs = vec![0f32; w.len * out_len];
    for i in 0..w.len {
        let samples = &w.x[i * win * c..(i + 1) * win * c];
        let gaps = &w.gaps[i * win..(i + 1) * win];
        session
            .run_window(
                samples,
                Some(gaps),
                &mut outputs[i * out_len..(i + 1) * out_len],
            )
            .map_err(|source| HostError::Run { window: i, source })?;
    }
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
