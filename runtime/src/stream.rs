//! Streaming models: the ODE state is carried from sample to sample, so a
//! sample costs one integration over its gap and a prediction is a read-out
//! of the state, whatever the history length (no window ring).
//!
//! Semantics (the trainer unrolls exactly these):
//!
//! * [`Stream::push`] runs the window loop's per-sample step (encoder, the
//!   encoding held over the gap, the model's sub-steps, the divergence
//!   guard) on the carried state.
//! * The first sample after a reset has no previous sample: its gap is the
//!   model's `sample_dt` and the `dt` given is only checked, as a window's
//!   first gap is. So `n` samples pushed after a reset give the same bits
//!   as a window of those `n` samples run from a zero state.
//! * The solver's history (NAG's velocity and last step) is carried across
//!   samples too; a gap of another length rescales the velocity as inside a
//!   window ([`crate::solver::velocity_rescale`]).
//! * [`Stream::predict`] refuses until `warmup` samples (from the file's
//!   [`ModelKind::Streaming`]) have been pushed since the reset: before that
//!   the state has not forgotten its zero start, and training never scored it.
//! * A [`RunError::Diverged`] leaves the state meaningless: every later call
//!   gives [`RunError::NeedsReset`] until [`Stream::reset`] restarts from a
//!   zero state. Any other error changes nothing.
//! * Inputs are normalised with the global reference only (the encoder
//!   refuses a streaming model with a per-window reference).

use crate::error::{LoadError, RunError};
use crate::format;
use crate::header::{ModelKind, MAX_CHANNELS};
use crate::model::Model;
use crate::net::{Layers, Net};
use crate::normalise::Reference;
use crate::session::{check_out, check_sample, solver_gap, Runner};

/// A streaming model file: the [`Model`] and its warm-up.
#[derive(Clone, Debug)]
pub struct StreamModel<'a> {
    model: Model<'a>,
    warmup: u32,
}

impl<'a> StreamModel<'a> {
    /// Loads a version-5 streaming model with every check of
    /// [`Model::from_bytes`]; refuses a window model with
    /// [`LoadError::WrongKind`].
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, LoadError> {
        match format::model_kind(bytes)? {
            ModelKind::Streaming { warmup } => Ok(Self {
                model: Model::from_bytes(bytes)?,
                warmup,
            }),
            ModelKind::Window => Err(LoadError::WrongKind {
                reason: "a window model cannot be streamed",
            }),
            ModelKind::Flow => Err(LoadError::WrongKind {
                reason: "a flow cannot be streamed",
            }),
            ModelKind::Static => Err(LoadError::WrongKind {
                reason: "a static-input classifier cannot be streamed",
            }),
        }
    }

    /// The model.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }

    /// Samples after a reset before predictions are meaningful.
    pub fn warmup(&self) -> u32 {
        self.warmup
    }
}

/// A model whose state is carried across samples (see the module docs).
///
/// `STATE` and `DIM` are [`crate::Session`]'s capacities; there is no
/// `WINDOW`. RAM is about `(4 * STATE + 6 * DIM) * 4` bytes.
pub struct Stream<'m, const STATE: usize, const DIM: usize = STATE, L: Layers<'m> = Net<'m>> {
    model: L,
    _net: core::marker::PhantomData<Net<'m>>,
    runner: Runner<STATE, DIM>,
    warmup: u32,
    /// Samples pushed since the reset (saturating).
    pushed: u32,
    /// Solver time since the reset (the field does not read it).
    t: f32,
    diverged: bool,
}

impl<'m, const STATE: usize, const DIM: usize> Stream<'m, STATE, DIM> {
    /// A stream for a loaded streaming model.
    pub fn new(model: &'m StreamModel<'m>) -> Result<Self, LoadError> {
        Self::with_layers(model.model.net(), model.warmup)
    }
}

impl<'m, const STATE: usize, const DIM: usize, L: Layers<'m>> Stream<'m, STATE, DIM, L> {
    /// A stream running `model`'s layers (a [`Net`] or a generated
    /// [`Layers`] type) with the file's `warmup`; refuses a model wider
    /// than the capacities or with a per-window reference.
    pub fn with_layers(model: L, warmup: u32) -> Result<Self, LoadError> {
        if model.net().reference != Reference::Global {
            return Err(LoadError::WrongKind {
                reason: "a streaming model must use the global reference",
            });
        }
        Ok(Self {
            runner: Runner::new(model.net())?,
            model,
            _net: core::marker::PhantomData,
            warmup,
            pushed: 0,
            t: 0.0,
            diverged: false,
        })
    }

    /// The model this stream runs.
    pub fn net(&self) -> &Net<'m> {
        self.model.net()
    }

    /// Samples pushed since the last reset (saturating at `u32::MAX`).
    pub fn pushed(&self) -> u32 {
        self.pushed
    }

    /// Whether the warm-up is over, so [`Self::predict`] answers.
    pub fn is_ready(&self) -> bool {
        !self.diverged && self.pushed >= self.warmup
    }

    /// Restarts from a zero state and a fresh solver (after
    /// [`RunError::Diverged`], or at a break in the series).
    pub fn reset(&mut self) {
        self.runner.start();
        self.pushed = 0;
        self.t = 0.0;
        self.diverged = false;
    }

    /// Integrates the state over the gap `dt` (user units; ignored but
    /// checked for the first sample after a reset) with `sample`'s encoding
    /// held. A refused sample or gap changes nothing; a divergence needs a
    /// [`Self::reset`].
    pub fn push(&mut self, sample: &[f32], dt: f32) -> Result<(), RunError> {
        if self.diverged {
            return Err(RunError::NeedsReset);
        }
        let net = self.model.net();
        let index = usize::try_from(self.pushed).unwrap_or(usize::MAX);
        check_sample(net, sample, index)?;
        let dt = solver_gap(net, dt)?;
        let gap = if self.pushed == 0 { net.sample_dt } else { dt };
        let global = [0.0f32; MAX_CHANNELS];
        let values = sample.iter().copied();
        match self
            .runner
            .advance(&self.model, values, gap, &global, self.t, index)
        {
            Ok(t) => {
                self.t = t;
                self.pushed = self.pushed.saturating_add(1);
                Ok(())
            }
            Err(e) => {
                self.diverged = matches!(e, RunError::Diverged { .. });
                Err(e)
            }
        }
    }

    /// The decoder's read-out of the current state into `out` (a forecast
    /// of the next `horizon` samples, or class logits); returns the values
    /// written. O(1): no sample is re-run.
    pub fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        if self.diverged {
            return Err(RunError::NeedsReset);
        }
        if self.pushed < self.warmup {
            let usize_of = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
            return Err(RunError::NotReady {
                have: usize_of(self.pushed),
                need: usize_of(self.warmup),
            });
        }
        check_out(self.model.net(), out)?;
        let global = [0.0f32; MAX_CHANNELS];
        self.runner.read_out(&self.model, &global, out)
    }
}
