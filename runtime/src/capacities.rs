//! The capacities a model needs: the numbers a session's type is written
//! with, read from the model so nobody guesses them.

use core::fmt;

use crate::error::LoadError;
use crate::format::{self, ModelKind};
use crate::model::Model;

/// What a model needs of the type that runs it: `nagode::Session<'_,
/// STATE, WINDOW, DIM>` for a window model, `nagode::Stream<'_, STATE,
/// DIM>` for a streaming one, `nagode::Flow<'_, STATE, DIM>` for a flow,
/// `nagode::Classifier<'_, STATE, DIM>` for a static-input classifier.
/// `Display` writes that type, ready to paste.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacities {
    /// How the file runs, which decides the type.
    pub kind: ModelKind,
    /// `STATE`: the widest vector.
    pub state: usize,
    /// `WINDOW`: sample values in a window (`window * channels`).
    pub window: usize,
    /// `DIM`: the ODE state and the solver's stages (a flow's state carries
    /// its log-density trace too: `state_dim + 1`).
    pub dim: usize,
    /// Values one prediction writes: the length of the `out` slice.
    pub outputs: usize,
    /// Values one sample holds.
    pub channels: usize,
}

impl Capacities {
    /// The capacities of a model file, by its kind; refuses what the
    /// kind's loader refuses, with the same [`LoadError`].
    pub fn of(bytes: &[u8]) -> Result<Self, LoadError> {
        let kind = format::model_kind(bytes)?;
        let window = Model::from_bytes_any(bytes)?.capacities();
        Ok(Self {
            kind,
            dim: match kind {
                ModelKind::Flow => window.dim.saturating_add(1),
                ModelKind::Window | ModelKind::Streaming { .. } | ModelKind::Static => window.dim,
            },
            ..window
        })
    }
}

impl Model<'_> {
    /// The capacities of a [`crate::Session`] or [`crate::Runner`] for this
    /// model (its kind is not known here: [`Capacities::of`] reads it).
    pub fn capacities(&self) -> Capacities {
        Capacities {
            kind: ModelKind::Window,
            state: self.state_capacity_needed(),
            window: self.window_capacity_needed(),
            dim: self.state_dim(),
            outputs: self.output_len(),
            channels: self.channels(),
        }
    }
}

impl fmt::Display for Capacities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (state, dim) = (self.state, self.dim);
        match self.kind {
            ModelKind::Window => write!(f, "nagode::Session<'_, {state}, {}, {dim}>", self.window),
            ModelKind::Streaming { .. } => write!(f, "nagode::Stream<'_, {state}, {dim}>"),
            ModelKind::Flow => write!(f, "nagode::Flow<'_, {state}, {dim}>"),
            ModelKind::Static => write!(f, "nagode::Classifier<'_, {state}, {dim}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_is_the_type_to_paste() {
        let window = include_bytes!("../tests/fixtures/v3_forecast_last_value.nagode");
        let model = Model::from_bytes(window).unwrap();
        let c = Capacities::of(window).unwrap();
        assert_eq!(c, model.capacities());
        let (s, w, d) = (
            model.state_capacity_needed(),
            model.window_capacity_needed(),
            model.state_dim(),
        );
        assert_eq!(
            c.to_string(),
            std::format!("nagode::Session<'_, {s}, {w}, {d}>")
        );

        let flow = include_bytes!("../tests/fixtures/v5_flow.nagode");
        let c = Capacities::of(flow).unwrap();
        assert_eq!(c.dim, Model::from_bytes(flow).unwrap().state_dim() + 1);
        assert_eq!(
            c.to_string(),
            std::format!("nagode::Flow<'_, {}, {}>", c.state, c.dim)
        );

        let stream = include_bytes!("../tests/fixtures/v5_streaming.nagode");
        let c = Capacities::of(stream).unwrap();
        assert!(matches!(c.kind, ModelKind::Streaming { .. }));
        assert_eq!(
            c.to_string(),
            std::format!("nagode::Stream<'_, {}, {}>", c.state, c.dim)
        );
        assert_eq!(
            Capacities::of(&stream[1..]),
            Err(Model::from_bytes(&stream[1..]).unwrap_err())
        );
    }
}
