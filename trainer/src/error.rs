//! [`AppError`]: anything that stops a command, in a module of its own
//! so that the modules that only report errors do not import the `train`
//! job (`app`).

use crate::data::DataError;
use crate::engine::train::TrainError;
use crate::export::host::HostError;
use crate::export::ExportError;
use crate::plot::PlotError;
use std::path::PathBuf;

/// Anything that can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// Export failed.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The runtime refused the model or a window.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A plot failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// Training diverged: the model file was not written (an existing one
    /// is untouched); the last good model went to `last_good`.
    #[error("training diverged ({why}); {} not written{}", .out.display(), .last_good.as_ref().map(|p| format!("; the last good model (epoch {}) is in {}", .epoch, p.display())).unwrap_or_default())]
    Diverged {
        /// What diverged.
        why: String,
        /// The model file that was not written.
        out: PathBuf,
        /// Where the last good model was written.
        last_good: Option<PathBuf>,
        /// Its epoch.
        epoch: usize,
    },
    /// A file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A bad combination of options.
    #[error("{0}")]
    Usage(String),
    /// `--require-beat-baseline` and the model lost to a baseline.
    #[error("the model loses to a baseline (--require-beat-baseline): {}; no model file written", .0.join("; "))]
    Baseline(Vec<String>),
    /// The runtime does not reproduce the trainer: the model file was not written.
    #[error("runtime parity failed: max |nagode - dfdx| = {abs:.3e} ({rel:.3e} relative to the largest output) over {windows} test windows, above the limit of {limit:.0e} relative; {} not written", .out.display())]
    Parity {
        /// Largest absolute difference.
        abs: f32,
        /// That relative to the largest |trainer output|.
        rel: f32,
        /// The limit.
        limit: f32,
        /// Windows compared.
        windows: usize,
        /// The model file that was not written.
        out: PathBuf,
    },
}
