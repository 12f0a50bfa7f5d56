//! Time series in, training windows out: CSV loading (wide and long layout)
//! with numeric or ISO-8601 times, the built-in data sets, the splits,
//! settings derived from the data, normalisation statistics and windowing.
//!
//! Every malformed input is a [`DataError`] naming the file, the line and the
//! column, so a user can find the bad cell without reading code.
//!
//! Modules: `error` ([`DataError`]), `table` (CSV into [`Table`]), `time`
//! (the `t` column and the time unit), `builtin` (the built-in sets),
//! `windows` ([`Windows`], [`all_windows`]), `split` (which series or
//! samples go to which part), `stats` (normalisation statistics for a
//! [`Reference`]), `problem` ([`make_problem`], derived settings) and
//! `points` ([`points`]: point clouds for density estimation).

mod builtin;
mod error;
pub mod features;
pub mod patch;
mod points;
mod problem;
pub mod resample;
mod split;
mod stats;
mod table;
pub(crate) mod time;
mod windows;

pub use builtin::{builtin, oscillators, Builtin, OSC_DROP, OSC_DT, OSC_SERIES, OSC_SPLIT};
pub use error::DataError;
pub use nagode::format::Clock;
pub use nagode::normalise::Reference;
pub use points::{points, PointSet, Points, TOY_POINTS};
pub use problem::{
    make_problem, sorted_labels, Problem, WindowSpec, DEFAULT_WINDOW, MIN_WINDOW,
    WINDOWS_PER_STRIDE,
};
pub use split::time_cuts;
pub use table::{load_csv, parse_csv, Series, Table};
pub use time::{datetime_seconds, format_time, parse_time, time_unit};
pub use windows::{all_windows, Windows};

/// Most channels a model file can carry.
pub const MAX_CHANNELS: usize = nagode::format::MAX_CHANNELS;

/// What the model predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskKind {
    /// The next `horizon` samples of every channel.
    Forecast,
    /// The class of a window (`label` column).
    Classify,
}
