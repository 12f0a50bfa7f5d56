//! What build scripts and the code they generate build on: the engine's
//! view of a model ([`Net`]), where its layers come from ([`Layers`],
//! [`Dense`], [`Weights`]), the kernels with run-time widths
//! ([`mat_vec_acc`], [`activate`]) and with constant ones ([`fixed`]).
//!
//! An application that loads or runs models needs none of this: the crate
//! root has that API. Code written by `nagode::codegen` (feature `codegen`)
//! names only this module and the root.

pub use crate::field::{activate, mat_vec_acc, run_layers, Dense, Weights};
pub use crate::format::Activation;
pub use crate::net::{Layers, Net};
pub use crate::normalise::Reference;
pub use crate::solver::{SolverKind, SolverSpec, Startup};

/// Dense layers whose widths are constants, for a generated [`Layers`]
/// type: the same arithmetic as [`mat_vec_acc`] (each output starts from
/// its bias, or the held part, and adds its products in column order), so
/// a compiled model gives the loaded file's bits, with loops the compiler
/// unrolls.
pub mod fixed {
    pub use crate::fixed::{dense, first, hold};
}
