//! Everything one prediction reads, borrowed and plain: the meeting point of
//! the two ways a model reaches the chip.
//!
//! * Loaded: [`crate::Model::from_bytes`] checks a file (in a flash
//!   partition, replaceable without rebuilding) and [`crate::Model::net`]
//!   borrows a [`Net`] from it.
//! * Compiled: a build script validates the file on the host and writes a
//!   `static` [`Net`] over `f32` arrays (see `firmware/build.rs`): no CRC,
//!   decode, validation or [`crate::Model`] at run time, and the weights are
//!   aligned `f32`s in flash.
//!
//! [`crate::Session`] and [`Runner`](crate::session::Runner) run either the
//! same way, bit for bit.

use crate::field::{run_layers, Dense, MlpField};
use crate::normalise::Reference;
use crate::solver::{evals_per_step, substeps, SolverSpec, VectorField};

/// A model as the engine sees it. Its fields are public so generated code
/// can build one in a `const`; the engine reads them through checked
/// accessors, so an inconsistent `Net` gives wrong numbers or an error,
/// never a panic.
#[derive(Clone, Copy, Debug)]
pub struct Net<'a> {
    /// Input channels per sample.
    pub channels: usize,
    /// Samples per window.
    pub window: usize,
    /// ODE state dimension `D`.
    pub state_dim: usize,
    /// Values a prediction writes: `horizon * channels` or `classes`.
    pub output_len: usize,
    /// Whether outputs are de-normalised forecasts (else class logits).
    pub forecast: bool,
    /// Nominal gap between samples, in solver time.
    pub sample_dt: f32,
    /// User time units per unit of solver time.
    pub time_unit: f32,
    /// A state component beyond this magnitude means divergence.
    pub state_bound: f32,
    /// The solver and its knobs.
    pub solver: SolverSpec,
    /// What each window's values are measured from.
    pub reference: Reference,
    /// Per-channel normalisation mean.
    pub mean: &'a [f32],
    /// Per-channel normalisation standard deviation.
    pub std: &'a [f32],
    /// Encoder layers (per sample).
    pub encoder: &'a [Dense<'a>],
    /// Vector-field layers.
    pub field: &'a [Dense<'a>],
    /// Decoder layers.
    pub decoder: &'a [Dense<'a>],
}

impl Net<'_> {
    /// Encoder output width `E` (= channels when there is no encoder).
    pub fn encoded_dim(&self) -> usize {
        self.encoder.last().map_or(self.channels, |l| l.outputs)
    }

    /// The gap between regularly spaced samples in the user's units.
    pub fn nominal_gap(&self) -> f32 {
        self.sample_dt * self.time_unit
    }

    /// Evaluations of the field for one prediction on regularly sampled data.
    pub fn evals_per_prediction(&self) -> u64 {
        let steps = substeps(self.sample_dt, self.solver.max_step).map_or(0, |(m, _)| u64::from(m));
        (self.window as u64)
            .saturating_mul(steps)
            .saturating_mul(u64::from(evals_per_step(self.solver.kind)))
    }

    /// The `STATE` capacity a session needs: the widest vector.
    pub fn state_capacity_needed(&self) -> usize {
        self.encoder
            .iter()
            .chain(self.field)
            .chain(self.decoder)
            .flat_map(|l| [l.inputs, l.outputs])
            .chain([
                self.channels,
                self.state_dim,
                self.encoded_dim(),
                self.output_len,
            ])
            .max()
            .unwrap_or(0)
    }

    /// The `WINDOW` capacity a session needs: `window * channels`.
    pub fn window_capacity_needed(&self) -> usize {
        self.window.saturating_mul(self.channels)
    }
}

/// The layer work of a model, whatever holds its weights: [`Net`] runs its
/// layers from slices with run-time widths; a build script's generated type
/// runs fixed-size arrays through [`crate::build::fixed`], so every width is a
/// constant the compiler unrolls. Both compute the same sums in the same
/// order, so both give the same bits.
pub trait Layers<'m> {
    /// The model's scalar facts (and its layers as slices).
    fn net(&self) -> &Net<'m>;
    /// Runs the encoder on the normalised sample in `a[..channels]`;
    /// returns the encoding (a prefix of `a` or `b`).
    fn encode<'s>(&self, a: &'s mut [f32], b: &'s mut [f32]) -> &'s [f32];
    /// Writes `W_e e + bias` of the field's first layer into `held` (the
    /// part that stays fixed over a gap); returns the values written.
    fn hold(&self, e: &[f32], held: &mut [f32]) -> usize;
    /// Writes `f(y)` into `out` with the held part; `a` and `b` are scratch.
    fn field(&self, held: &[f32], y: &[f32], a: &mut [f32], b: &mut [f32], out: &mut [f32]);
    /// Runs the decoder on the state in `a[..state_dim]`; returns the
    /// outputs (a prefix of `a` or `b`).
    fn decode<'s>(&self, a: &'s mut [f32], b: &'s mut [f32]) -> &'s [f32];
}

impl<'m> Layers<'m> for Net<'m> {
    fn net(&self) -> &Net<'m> {
        self
    }

    fn encode<'s>(&self, a: &'s mut [f32], b: &'s mut [f32]) -> &'s [f32] {
        run_layers(self.encoder, self.channels, a, b)
    }

    fn hold(&self, e: &[f32], held: &mut [f32]) -> usize {
        MlpField::hold(self.field, self.state_dim, e, held)
    }

    fn field(&self, held: &[f32], y: &[f32], a: &mut [f32], b: &mut [f32], out: &mut [f32]) {
        MlpField::new(self.field, held, self.state_dim, a, b).eval(0.0, y, out);
    }

    fn decode<'s>(&self, a: &'s mut [f32], b: &'s mut [f32]) -> &'s [f32] {
        run_layers(self.decoder, self.state_dim, a, b)
    }
}
