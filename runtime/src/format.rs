//! The model file: a postcard + serde header and borrowed little-endian f32
//! weights, guarded by postcard's CRC-32.
//!
//! CONTRACT (written by the lead; the runtime helper completes the encoder,
//! the decoder and the validation, and may rewrite this comment):
//!
//! * Weights are one flat run of little-endian f32, in this order: encoder
//!   layers, field layers, decoder layers; for each layer the weight matrix
//!   `[outputs][inputs]` row-major, then the bias `[outputs]`.
//! * Model = per-sample normalisation `(x - mean) / std` -> encoder (per
//!   sample, `channels -> E`) -> state `y in R^state_dim`, starting at 0,
//!   integrated over each gap between samples with the field
//!   `f([y, e_n]) : R^(state_dim + E) -> R^state_dim` (input held over the
//!   gap) -> after the last sample of the window, decoder `state_dim -> out`.
//!   Forecast: `out = horizon * channels` values ordered `[k][c]`,
//!   de-normalised. Classify: `out = classes` logits.

use heapless::Vec;
use serde::{Deserialize, Serialize};

/// First four bytes of every model file.
pub const MAGIC: [u8; 4] = *b"NAGO";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;
/// Most input channels a model may have.
pub const MAX_CHANNELS: usize = 8;
/// Most dense layers in one block (encoder, field or decoder).
pub const MAX_LAYERS: usize = 4;

/// Activation applied after a dense layer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `x`
    Identity,
    /// `tanh(x)`
    Tanh,
    /// `max(x, 0)`
    Relu,
}

/// One dense layer: `outputs = activation(W x + b)`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layer {
    /// Width of the layer's input.
    pub inputs: u16,
    /// Width of the layer's output.
    pub outputs: u16,
    /// Activation after the affine map.
    pub activation: Activation,
}

/// What the decoder's outputs mean.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// The next `horizon` samples of every channel, de-normalised.
    Forecast {
        /// Samples predicted past the window.
        horizon: u16,
    },
    /// One logit per class.
    Classify {
        /// Number of classes.
        classes: u16,
    },
}

/// Which fixed-step method integrates the field.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SolverKind {
    /// Forward Euler, 1 evaluation per step.
    Euler,
    /// Explicit midpoint, 2 evaluations per step.
    Midpoint,
    /// Classic fourth-order Runge-Kutta, 4 evaluations per step.
    Rk4,
    /// Nesterov-accelerated first-order method, 1 evaluation per step.
    Nag,
}

/// How NAG starts: the velocity before the first step.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Startup {
    /// `v_0 = 0`.
    ZeroVelocity,
    /// The first step is a plain Euler step; its displacement is `v_1`.
    Euler,
}

/// The solver and its tuning knobs, stored with the model.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct SolverSpec {
    /// The method.
    pub kind: SolverKind,
    /// NAG momentum in `[0, 1)`; ignored by the other methods.
    pub mu: f32,
    /// NAG consistency scaling `h = (1 - mu) H`.
    pub consistency_scaling: bool,
    /// NAG start-up.
    pub startup: Startup,
    /// Longest step `H` (data time units): a gap is cut into
    /// `ceil(gap / max_step)` equal sub-steps.
    pub max_step: f32,
}

/// Everything about a model except its weights.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Header {
    /// What the outputs mean.
    pub task: Task,
    /// Input channels per sample.
    pub channels: u16,
    /// Samples per prediction window.
    pub window: u16,
    /// Nominal gap between samples, in the data's time units.
    pub sample_dt: f32,
    /// Per-channel normalisation mean (training split).
    pub mean: Vec<f32, MAX_CHANNELS>,
    /// Per-channel normalisation standard deviation (training split).
    pub std: Vec<f32, MAX_CHANNELS>,
    /// Dimension of the ODE state.
    pub state_dim: u16,
    /// Per-sample encoder, `channels -> E`; empty means `E = channels`.
    pub encoder: Vec<Layer, MAX_LAYERS>,
    /// Vector field, `state_dim + E -> state_dim`.
    pub field: Vec<Layer, MAX_LAYERS>,
    /// Decoder, `state_dim -> outputs`.
    pub decoder: Vec<Layer, MAX_LAYERS>,
    /// Integrator.
    pub solver: SolverSpec,
    /// A state component beyond this magnitude counts as diverged.
    pub state_bound: f32,
}
