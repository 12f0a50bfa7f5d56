//! nagode's trainer: learns neural-ODE time-series models with dfdx through
//! the same discrete solver the `nagode` runtime runs, and exports them in
//! the runtime's model format.
//!
//! The folders read as the table of contents, each importing only those
//! listed before it:
//! - [`data`]: CSV tables, built-in sets, windows, splits and their errors;
//! - [`engine`]: the differentiable model: tensors, parameters, the solver
//!   plan, the forward pass (plain and fused) and the training loop;
//! - [`export`]: model files (encode), the runtime on the host, parity;
//! - [`tasks`]: what is trained: window models, streaming models, density
//!   flows, the learning-rate choice, cross-validation, baselines;
//! - [`commands`]: the subcommands that use one model file or train one
//!   model (`train`'s options, `inspect`, `predict`, `eval`, `quantize`,
//!   `flow`);
//! - [`studies`]: comparisons, sweeps, the panel (which runs `train` as a
//!   user would) and the benchmarks.

#![deny(missing_docs)]

pub mod commands;
pub mod data;
pub mod engine;
pub mod error;
pub mod export;
pub mod plot;
pub mod studies;
pub mod tasks;

/// The dfdx version the trainer is built on (for callers that need its types).
pub use dfdx;
