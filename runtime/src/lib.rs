#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "std", feature = "codegen"))]
extern crate std;

#[cfg(feature = "std")]
pub mod batch;
pub mod build;
mod capacities;
pub mod classify;
#[cfg(feature = "codegen")]
pub mod codegen;
mod error;
mod field;
mod fixed;
pub mod flow;
pub mod format;
pub mod header;
mod include;
mod model;
mod net;
pub mod normalise;
#[cfg(feature = "quant")]
pub mod quant;
pub mod resample;
mod session;
pub mod solver;
pub mod stream;
pub mod tanh;
pub mod text;
pub mod vote;

pub use capacities::Capacities;
pub use classify::{Classifier, StaticModel};
pub use error::{Block, EncodeError, LoadError, NameList, RunError};
pub use flow::{Flow, FlowModel};
pub use header::Header;
pub use model::Model;
#[cfg(feature = "quant")]
pub use quant::{QuantModel, QuantSession};
pub use session::{Runner, Session};
pub use stream::{Stream, StreamModel};
