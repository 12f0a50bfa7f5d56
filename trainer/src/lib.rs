//! nagode's trainer: learns neural-ODE time-series models with dfdx through
//! the same discrete solver the `nagode` runtime runs, and exports them in
//! the runtime's model format.

pub mod app;
pub mod baseline;
pub mod bench;
pub mod choose;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod crossval;
pub mod data;
pub mod density;
pub mod density_compare;
pub mod error;
pub mod export;
pub mod forward;
pub mod fused;
pub mod host;
pub mod panel;
pub mod params;
pub mod plot;
pub mod solver;
pub mod streaming;
pub mod study;
pub mod sweep;
pub mod tensor;
pub mod train;

/// The dfdx version the trainer is built on (for callers that need its types).
pub use dfdx;
