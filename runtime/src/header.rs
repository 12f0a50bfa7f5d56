//! What a model is, apart from how it is stored: the [`Header`] (task,
//! shapes, normalisation, solver, time), its layers and their order in the
//! weights, the [`ModelKind`], the channel and class [`Names`], and every
//! check that decides whether a header, its weights and its names make a
//! model the runtime can run.
//!
//! The loader ([`crate::format`]) runs these checks on every file it
//! decodes, and the encoder runs the very same ones before it writes, so the
//! trainer cannot write a file the runtime refuses. Nothing here reads or
//! writes a byte of the file: versions, wire layouts and the CRC live in
//! [`crate::format`] (the [`Header`]'s serde form is the one wire detail
//! here, its field order being the file's).
//!
//! # The model
//!
//! Per-sample normalisation ([`crate::normalise::input`], relative to the
//! window's [`Reference`]) -> encoder (per sample, `channels -> E`) ->
//! state `y in R^state_dim`, starting at 0, integrated over each gap
//! between samples (converted to solver time by
//! [`crate::solver::model_gap`]) with the field
//! `f([y, e_n]) : R^(state_dim + E) -> R^state_dim` (input held over the
//! gap) -> after the last sample of the window, decoder `state_dim -> out`.
//! Forecast: `out = horizon * channels` values ordered `[k][c]`,
//! de-normalised ([`crate::normalise::output`]). Classify: `out = classes`
//! logits.
//!
//! The weights are one flat run of `f32`, in this order (`placed`):
//! encoder layers, field layers, decoder layers; for each layer the weight
//! matrix `[outputs][inputs]` row-major, then the bias `[outputs]`.
//!
//! A continuous normalising flow ([`ModelKind::Flow`], [`crate::flow`])
//! needs no field beyond the header's: its interval is `[0, sample_dt]`
//! (data at 0, the standard normal at `sample_dt`) and its steps are
//! [`substeps`]`(sample_dt, max_step)`, the rule the trainer uses, so no
//! second step count can disagree with `max_step`. Its shape is fixed: one
//! input channel, the time, fed unscaled (mean 0, std 1) to the field
//! `[z, t] -> state_dim`; window 1; no encoder or decoder; a forecast of
//! `state_dim` values (`z` at the end); the global reference. A streaming
//! model must use [`Reference::Global`] too: a stream has no window whose
//! last value could be the reference. Anything else is refused with
//! [`LoadError::WrongKind`].
//!
//! A static-input model ([`ModelKind::Static`], [`crate::classify`])
//! classifies one feature vector: `channels` is its feature count (up to
//! [`MAX_WIDTH`]), the window is 1, and the file stores no normalisation
//! (`mean` and `std` empty: the trainer folds its feature scaling into the
//! first encoder layer). The encoder maps the features to the initial state
//! `h(0)` (it ends at `state_dim`); the field takes `[h, t]`
//! (`state_dim + 1 -> state_dim`) and is integrated over `[0, sample_dt]`,
//! `sample_dt = 1`, in [`substeps`]`(1, max_step)` steps of the file's
//! solver; the decoder maps `h(1)` to the class logits. Time unit 1, the
//! global reference.
//!
//! # Checks
//!
//! `validate` checks, in order: weight bytes against the layer shapes
//! (checked arithmetic, so absurd dimensions give
//! [`LoadError::SizeOverflow`] instead of wrapping), layer chaining, finite
//! weights, normalisation, solver/time parameters, format limits; then
//! `validate_names` checks the names and `check_kind` the kind. They live
//! here, below the format, so the loader, the encoder and the quantised
//! section's checks share one definition.

use crate::error::{Block, LoadError, NameList};
use crate::normalise::Reference;
use crate::solver::{model_gap, substeps};
/// The solver's own types, re-exported where the header uses them.
pub use crate::solver::{SolverKind, SolverSpec, Startup};
use heapless::Vec;
use serde::{Deserialize, Serialize};

/// Longest channel or class name, in UTF-8 bytes.
pub const MAX_NAME_LEN: usize = 64;
/// Most input channels a model may have.
pub const MAX_CHANNELS: usize = 8;
/// Most dense layers in one block (encoder, field or decoder).
pub const MAX_LAYERS: usize = 4;
/// Widest layer (inputs or outputs) a model may have.
pub const MAX_WIDTH: usize = 1024;
/// Longest window, in samples.
pub const MAX_WINDOW: usize = 4096;

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

/// How the training data gave time, so a user knows the units of the gaps
/// a model takes ([`crate::Session::push`]'s `dt`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// No `t` column: gaps count samples (1 = the next row).
    Index,
    /// A numeric `t` column: gaps in its own units.
    Number,
    /// ISO-8601 dates or date-times: gaps in seconds.
    DateTime,
}

/// Everything about a model except its weights and names.
///
/// Its serde form is the wire header of versions 2 to 5: the field order below is
/// the file layout, so it changes only with a new
/// [`FORMAT_VERSION`](crate::format::FORMAT_VERSION).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Header {
    /// What the outputs mean.
    pub task: Task,
    /// Input channels per sample.
    pub channels: u16,
    /// Samples per prediction window.
    pub window: u16,
    /// Nominal gap between samples, in solver time units (the window's first
    /// step; [`Header::time_unit`] converts it to the user's units).
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
    /// User time units per unit of solver time (the training data's nominal
    /// gap in the user's units): a gap `g` given to a session is integrated
    /// over `g / time_unit` ([`crate::solver::model_gap`]). Version 1: 1.0.
    pub time_unit: f32,
    /// How the training data gave time, i.e. the units of the user's gaps.
    /// Version 1: [`Clock::Number`].
    pub clock: Clock,
    /// What a window's values are measured from before scaling.
    /// Version 1: [`Reference::Global`].
    pub reference: Reference,
}

/// How a model runs over a series (version 5; older files are all
/// [`ModelKind::Window`]).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// Every prediction integrates a window from a zero state
    /// ([`crate::Session`], [`crate::Runner`]).
    Window,
    /// The state is carried from sample to sample ([`crate::stream`]).
    Streaming {
        /// Samples after a reset before a prediction is meaningful (the
        /// part of each training sequence that was not scored).
        warmup: u32,
    },
    /// A continuous normalising flow ([`crate::flow`]): a sample is the
    /// state at `t = 0`, integrated with its log-density change over
    /// `[0, sample_dt]` to the standard normal (see the module docs).
    Flow,
    /// A static input (one feature vector) classified through an ODE block
    /// ([`crate::classify`], format 6): encoder, state integrated over
    /// `[0, 1]`, decoder (see the module docs).
    Static,
}

/// The checks a kind adds to a header: a stream needs the global
/// reference; a flow and a static-input model have the fixed shapes of the
/// module docs.
pub(crate) fn check_kind(header: &Header, kind: ModelKind) -> Result<(), LoadError> {
    match kind {
        ModelKind::Static if !is_static_shape(header) => Err(LoadError::WrongKind {
            reason: "a static-input model has window 1, sample_dt 1, time unit 1, no \
                     normalisation (folded into its encoder), an encoder ending at state_dim, \
                     class logits and the global reference",
        }),
        ModelKind::Streaming { .. } if header.reference != Reference::Global => {
            Err(LoadError::WrongKind {
                reason: "a streaming model must use the global reference",
            })
        }
        ModelKind::Flow if !is_flow_shape(header) => Err(LoadError::WrongKind {
            reason: "a flow has one unscaled time channel, window 1, no encoder or decoder, \
                     a forecast of state_dim values and the global reference",
        }),
        _ => Ok(()),
    }
}

/// What a flow file of version 7 adds for a device reading raw sensor
/// values ([`crate::flow::Flow::score`]): a point is `window` consecutive
/// samples of `offset.len()` channels, ordered `[k][c]`, and coordinate
/// `(k, c)` enters the flow as `(x - offset[c]) / scale[c]`; a score
/// (`-log p` of the scaled point) above `threshold` is an anomaly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowMeta {
    /// Samples per point.
    pub window: u16,
    /// Per channel: the value subtracted (the training samples' mean).
    pub offset: Vec<f32, MAX_CHANNELS>,
    /// Per channel: the divisor after it (the training samples' std).
    pub scale: Vec<f32, MAX_CHANNELS>,
    /// The anomaly threshold on the score.
    pub threshold: f32,
    /// The share of validation points scoring at or below `threshold` when
    /// it was chosen (for the record; the runtime uses `threshold`).
    pub quantile: f32,
}

/// A flow's [`FlowMeta`] against its header: as many scales as offsets,
/// `window * channels = state_dim`, finite offsets, finite positive scales,
/// a finite threshold and a quantile in `[0, 1]`.
pub(crate) fn check_flow_meta(header: &Header, meta: &FlowMeta) -> Result<(), LoadError> {
    let channels = meta.offset.len();
    let dim = usize::from(meta.window).checked_mul(channels);
    if meta.scale.len() != channels || channels == 0 || dim != Some(usize::from(header.state_dim)) {
        return Err(LoadError::WrongKind {
            reason: "a flow's scaling needs one offset and scale per channel and \
                     window * channels = state_dim",
        });
    }
    let bad = |(o, s): (&f32, &f32)| !(o.is_finite() && s.is_finite() && *s > 0.0);
    if let Some(channel) = meta.offset.iter().zip(&meta.scale).position(bad) {
        return Err(LoadError::BadNormalisation { channel });
    }
    if !meta.threshold.is_finite() {
        return Err(LoadError::BadParameter {
            what: "flow threshold",
            value: meta.threshold,
            range: "finite",
        });
    }
    if !(0.0..=1.0).contains(&meta.quantile) {
        return Err(LoadError::BadParameter {
            what: "flow quantile",
            value: meta.quantile,
            range: "[0, 1]",
        });
    }
    Ok(())
}

/// Whether a header has a flow's shape (see the module docs).
fn is_flow_shape(header: &Header) -> bool {
    header.channels == 1
        && header.window == 1
        && header.mean.as_slice() == [0.0]
        && header.std.as_slice() == [1.0]
        && header.encoder.is_empty()
        && header.decoder.is_empty()
        && header.task
            == (Task::Forecast {
                horizon: header.state_dim,
            })
        && header.reference == Reference::Global
}

/// Whether a header has a static-input model's shape (see the module docs).
fn is_static_shape(header: &Header) -> bool {
    header.window == 1
        && header.sample_dt == 1.0
        && header.time_unit == 1.0
        && header.mean.is_empty()
        && header.std.is_empty()
        && !header.encoder.is_empty()
        && encoded_dim(header) == usize::from(header.state_dim)
        && matches!(header.task, Task::Classify { .. })
        && header.reference == Reference::Global
}

/// Channel and class names to write with a model (each list empty, or one
/// name per channel / class). Names stay in the file and cost no RAM when
/// loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Names<'n> {
    /// One name per input channel, or none.
    pub channels: &'n [&'n str],
    /// One name per class of a classifier, or none (always none for a forecaster).
    pub classes: &'n [&'n str],
}

impl Names<'_> {
    /// No names at all.
    pub const NONE: Names<'static> = Names {
        channels: &[],
        classes: &[],
    };
}

/// The names of a newline-joined list as stored in a file (`""` = none).
pub(crate) fn split_names(joined: &str) -> impl Iterator<Item = &str> + Clone {
    let names = if joined.is_empty() {
        None
    } else {
        Some(joined)
    };
    names.into_iter().flat_map(|n| n.split('\n'))
}

/// Checks one name list: empty or exactly `expected` names, each non-empty,
/// at most [`MAX_NAME_LEN`] bytes, without control characters, all distinct.
fn check_names<'n>(
    list: NameList,
    names: impl Iterator<Item = &'n str> + Clone,
    expected: usize,
) -> Result<(), LoadError> {
    let found = names.clone().count();
    if found != 0 && found != expected {
        return Err(LoadError::NameCount {
            list,
            expected,
            found,
        });
    }
    for (index, name) in names.clone().enumerate() {
        let reason = if name.is_empty() {
            Some("is empty")
        } else if name.len() > MAX_NAME_LEN {
            Some("is longer than 64 bytes")
        } else if name.chars().any(char::is_control) {
            Some("contains a newline or another control character")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(LoadError::BadName {
                list,
                index,
                reason,
            });
        }
        if let Some(first) = names.clone().take(index).position(|other| other == name) {
            return Err(LoadError::DuplicateName { list, index, first });
        }
    }
    Ok(())
}

/// Both name lists against the header: channel names for `channels`, class
/// names for a classifier's `classes` (none for a forecaster).
pub(crate) fn validate_names<'n>(
    header: &Header,
    channels: impl Iterator<Item = &'n str> + Clone,
    classes: impl Iterator<Item = &'n str> + Clone,
) -> Result<(), LoadError> {
    check_names(NameList::Channels, channels, usize::from(header.channels))?;
    let classes_expected = match header.task {
        Task::Classify { classes } => usize::from(classes),
        Task::Forecast { .. } => 0,
    };
    check_names(NameList::Classes, classes, classes_expected)
}

/// One layer placed in the flat weight run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Placed {
    pub block: Block,
    pub index: usize,
    pub layer: Layer,
    /// First weight (in f32s) of this layer in the flat run.
    pub offset: usize,
    /// `outputs * (inputs + 1)`.
    pub count: usize,
}

/// Every layer of a header in weight order, with its offset.
pub(crate) fn placed(header: &Header) -> impl Iterator<Item = Result<Placed, LoadError>> + '_ {
    let blocks = [
        (Block::Encoder, &header.encoder),
        (Block::Field, &header.field),
        (Block::Decoder, &header.decoder),
    ];
    let mut offset = Some(0usize);
    blocks
        .into_iter()
        .flat_map(|(block, layers)| {
            layers
                .iter()
                .enumerate()
                .map(move |(index, layer)| (block, index, *layer))
        })
        .map(move |(block, index, layer)| {
            let count = usize::from(layer.outputs)
                .checked_mul(
                    usize::from(layer.inputs)
                        .checked_add(1)
                        .ok_or(LoadError::SizeOverflow)?,
                )
                .ok_or(LoadError::SizeOverflow)?;
            let start = offset.ok_or(LoadError::SizeOverflow)?;
            offset = start.checked_add(count);
            Ok(Placed {
                block,
                index,
                layer,
                offset: start,
                count,
            })
        })
}

/// Number of f32 weights (and biases) the header's layers need.
pub fn weight_count(header: &Header) -> Result<usize, LoadError> {
    placed(header).try_fold(0usize, |sum, p| {
        sum.checked_add(p?.count).ok_or(LoadError::SizeOverflow)
    })
}

/// Width of the encoder's output `E` (= channels when the encoder is empty).
pub fn encoded_dim(header: &Header) -> usize {
    header
        .encoder
        .last()
        .map_or(usize::from(header.channels), |l| usize::from(l.outputs))
}

/// Number of values the decoder writes: `horizon * channels` or `classes`.
pub fn output_len(header: &Header) -> Result<usize, LoadError> {
    match header.task {
        Task::Forecast { horizon } => usize::from(horizon)
            .checked_mul(usize::from(header.channels))
            .ok_or(LoadError::SizeOverflow),
        Task::Classify { classes } => Ok(usize::from(classes)),
    }
}

fn nonzero(value: usize, what: &'static str) -> Result<(), LoadError> {
    if value == 0 {
        Err(LoadError::ZeroDimension { what })
    } else {
        Ok(())
    }
}

/// Checks that each block's layers chain: widths agree and end where they
/// must. A static-input model stores no normalisation and its field takes
/// `[state, t]`.
fn check_chaining(header: &Header, kind: ModelKind) -> Result<(), LoadError> {
    let is_static = kind == ModelKind::Static;
    let channels = usize::from(header.channels);
    let state = usize::from(header.state_dim);
    nonzero(channels, "channels")?;
    nonzero(usize::from(header.window), "window")?;
    nonzero(state, "state_dim")?;
    let out = output_len(header)?;
    nonzero(out, "output length (horizon or classes)")?;
    let stats = if is_static { 0 } else { channels };
    for (what, len) in [("mean", header.mean.len()), ("std", header.std.len())] {
        if len != stats {
            return Err(LoadError::NormalisationLength {
                what,
                expected: stats,
                found: len,
            });
        }
    }
    if header.field.is_empty() {
        return Err(LoadError::EmptyField);
    }
    let e = encoded_dim(header);
    let field_extra = if is_static { 1 } else { e };
    let field_in = state
        .checked_add(field_extra)
        .ok_or(LoadError::SizeOverflow)?;
    for (block, layers, input, output) in [
        (Block::Encoder, &header.encoder, channels, e),
        (Block::Field, &header.field, field_in, state),
        (Block::Decoder, &header.decoder, state, out),
    ] {
        let mut width = input;
        for (index, layer) in layers.iter().enumerate() {
            if usize::from(layer.inputs) != width {
                return Err(LoadError::LayerInputs {
                    block,
                    layer: index,
                    expected: width,
                    found: usize::from(layer.inputs),
                });
            }
            width = usize::from(layer.outputs);
            nonzero(width, "a layer's outputs")?;
        }
        if width != output {
            return Err(LoadError::BlockOutputs {
                block,
                expected: output,
                found: width,
            });
        }
    }
    Ok(())
}

/// Checks every layer's weights and biases are finite.
fn check_finite(header: &Header, weights: impl Iterator<Item = f32>) -> Result<(), LoadError> {
    let mut weights = weights;
    for p in placed(header) {
        let p = p?;
        if let Some(index) = weights.by_ref().take(p.count).position(|w| !w.is_finite()) {
            return Err(LoadError::NonFiniteWeight {
                block: p.block,
                layer: p.index,
                index,
            });
        }
    }
    Ok(())
}

fn param(what: &'static str, value: f32, ok: bool, range: &'static str) -> Result<(), LoadError> {
    if ok {
        Ok(())
    } else {
        Err(LoadError::BadParameter { what, value, range })
    }
}

fn positive(what: &'static str, value: f32) -> Result<(), LoadError> {
    param(
        what,
        value,
        value.is_finite() && value > 0.0,
        "finite and > 0",
    )
}

/// Normalisation, solver and time parameters, then the format limits (a
/// static-input model's features are as wide as a layer may be).
fn check_parameters(header: &Header, kind: ModelKind) -> Result<(), LoadError> {
    let channel_limit = if kind == ModelKind::Static {
        MAX_WIDTH
    } else {
        MAX_CHANNELS
    };
    for (channel, (m, s)) in header.mean.iter().zip(&header.std).enumerate() {
        if !(m.is_finite() && s.is_finite() && *s > 0.0) {
            return Err(LoadError::BadNormalisation { channel });
        }
    }
    let solver = &header.solver;
    param(
        "mu",
        solver.mu,
        (0.0..1.0).contains(&solver.mu),
        "in [0, 1)",
    )?;
    let max_step = solver.max_step;
    positive("max_step", max_step)?;
    let dt = header.sample_dt;
    positive("sample_dt", dt)?;
    param(
        "sample_dt",
        dt,
        substeps(dt, max_step).is_ok(),
        "at most MAX_SUBSTEPS * max_step",
    )?;
    let unit = header.time_unit;
    positive("time_unit", unit)?;
    // Subnormal units would lose precision in every gap conversion.
    param(
        "time_unit",
        unit,
        unit.is_normal(),
        "finite, > 0 and not subnormal",
    )?;
    // The nominal gap a user passes (sample_dt * time_unit) must exist and
    // convert back to a gap the solver takes.
    let nominal = dt * unit;
    param(
        "time_unit",
        unit,
        nominal.is_normal() && substeps(model_gap(nominal, unit), max_step).is_ok(),
        "such that sample_dt * time_unit is a normal f32 that converts back to at most MAX_SUBSTEPS steps",
    )?;
    positive("state_bound", header.state_bound)?;
    let widths = placed(header)
        .filter_map(Result::ok)
        .flat_map(|p| [p.layer.inputs, p.layer.outputs])
        .map(usize::from);
    for (what, value, limit) in [
        ("window", usize::from(header.window), MAX_WINDOW),
        ("channels", usize::from(header.channels), channel_limit),
        ("state_dim", usize::from(header.state_dim), MAX_WIDTH),
        ("output length", output_len(header)?, MAX_WIDTH),
        ("layer width", widths.max().unwrap_or(0), MAX_WIDTH),
    ] {
        if value > limit {
            return Err(LoadError::Limit { what, value, limit });
        }
    }
    Ok(())
}

/// Every check of a header of `kind` against its weights, in the
/// documented order.
pub(crate) fn validate(
    header: &Header,
    kind: ModelKind,
    weight_bytes: usize,
    weights: impl Iterator<Item = f32>,
) -> Result<(), LoadError> {
    let expected = weight_count(header)?
        .checked_mul(4)
        .ok_or(LoadError::SizeOverflow)?;
    if expected != weight_bytes {
        return Err(LoadError::WeightBytes {
            expected,
            found: weight_bytes,
        });
    }
    check_chaining(header, kind)?;
    check_finite(header, weights)?;
    check_parameters(header, kind)
}
