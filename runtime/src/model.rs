//! A validated, zero-copy view over a model file.

use crate::error::{Block, LoadError};
use crate::field::{Dense, Weights};
use crate::format::{self, Decoded};
use crate::header::{encoded_dim, output_len, placed, split_names, Header, Task, MAX_LAYERS};
use crate::net::Net;
use crate::solver;
use heapless::Vec;

/// A model checked end to end by [`Model::from_bytes`]; its weights stay in
/// the caller's bytes (flash on a chip), read as `f32`s in place when the
/// file pads them (formats 3 to 5) and is stored 4-aligned ([`Weights`]).
#[derive(Clone, Debug)]
pub struct Model<'a> {
    header: Header,
    weights: &'a [u8],
    /// Channel names joined by `\n`, borrowed from the file (`""` = none).
    channel_names: &'a str,
    /// Class names joined by `\n`, borrowed from the file (`""` = none).
    class_names: &'a str,
    version: u16,
    encoder: Vec<Dense<'a>, MAX_LAYERS>,
    field: Vec<Dense<'a>, MAX_LAYERS>,
    decoder: Vec<Dense<'a>, MAX_LAYERS>,
    output_len: usize,
}

impl<'a> Model<'a> {
    /// Checks magic, CRC, version, header, every shape against the weight
    /// bytes, finite weights, parameter ranges and names; see
    /// [`crate::format`] and [`crate::header`].
    ///
    /// Reads every format version from 1 to [`format::NEWEST_VERSION`]:
    /// versions 1 to 3 as they are; version 4 as its `f32` model (with the
    /// `quant` feature its quantised section is checked too, without it the
    /// section is skipped); versions 5 and 7 as their window model (a
    /// streaming model or a flow: [`crate::stream::StreamModel`] and
    /// [`crate::flow::FlowModel`] read its kind). A version-6 file, a
    /// static-input classifier, is refused with [`LoadError::WrongKind`]:
    /// [`crate::StaticModel`] loads it.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, LoadError> {
        let model = Self::from_bytes_any(bytes)?;
        if model.version == format::STATIC_VERSION {
            // Its field reads [h, t] and its state starts at the encoded
            // input: a window session would compute something else.
            return Err(LoadError::WrongKind {
                reason: "a static-input classifier: load it with nagode::StaticModel",
            });
        }
        Ok(model)
    }

    /// [`Self::from_bytes`] for a file of any kind, a static-input
    /// classifier too ([`crate::classify`] runs it).
    pub(crate) fn from_bytes_any(bytes: &'a [u8]) -> Result<Self, LoadError> {
        let Decoded {
            header,
            weights,
            channel_names,
            class_names,
            version,
        } = format::decode(bytes)?;
        let mut encoder = Vec::new();
        let mut field = Vec::new();
        let mut decoder = Vec::new();
        let all = Weights::from_le_bytes(weights);
        for p in placed(&header) {
            let p = p?;
            let mismatch = LoadError::WeightBytes {
                expected: p.offset.saturating_add(p.count).saturating_mul(4),
                found: weights.len(),
            };
            let (layer, _) = all
                .skip(p.offset)
                .split_at(p.count)
                .ok_or(mismatch.clone())?;
            let dense = Dense::new(p.layer, layer).ok_or(mismatch)?;
            let block = match p.block {
                Block::Encoder => &mut encoder,
                Block::Field => &mut field,
                Block::Decoder => &mut decoder,
            };
            // Cannot fail: the header's own Vec has the same capacity.
            block.push(dense).map_err(|_| LoadError::Limit {
                what: "layers per block",
                value: MAX_LAYERS + 1,
                limit: MAX_LAYERS,
            })?;
        }
        let output_len = output_len(&header)?;
        Ok(Self {
            header,
            weights,
            channel_names,
            class_names,
            version,
            encoder,
            field,
            decoder,
            output_len,
        })
    }

    /// The decoded header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// What a prediction reads, borrowed from this model.
    pub fn net(&self) -> Net<'_> {
        let h = &self.header;
        Net {
            channels: usize::from(h.channels),
            window: usize::from(h.window),
            state_dim: usize::from(h.state_dim),
            output_len: self.output_len,
            forecast: matches!(h.task, Task::Forecast { .. }),
            sample_dt: h.sample_dt,
            time_unit: h.time_unit,
            state_bound: h.state_bound,
            solver: h.solver,
            reference: h.reference,
            mean: &h.mean,
            std: &h.std,
            encoder: &self.encoder,
            field: &self.field,
            decoder: &self.decoder,
        }
    }

    /// The format version of the file the model was loaded from.
    pub fn format_version(&self) -> u16 {
        self.version
    }

    /// User time units per unit of solver time ([`Header::time_unit`]; 1.0
    /// for version-1 files).
    pub fn time_unit(&self) -> f32 {
        self.header.time_unit
    }

    /// The gap between regularly spaced samples in the user's units
    /// (`sample_dt * time_unit`): what to pass to [`crate::Session::push`]
    /// for data sampled like the training data.
    pub fn nominal_gap(&self) -> f32 {
        self.net().nominal_gap()
    }

    /// Name of class `i`, if the file names its classes.
    pub fn class_name(&self, i: usize) -> Option<&'a str> {
        split_names(self.class_names).nth(i)
    }

    /// Every class name in order (empty when the file names none).
    pub fn class_names(&self) -> impl Iterator<Item = &'a str> + Clone + 'a {
        split_names(self.class_names)
    }

    /// Name of input channel `i`, if the file names its channels.
    pub fn channel_name(&self, i: usize) -> Option<&'a str> {
        split_names(self.channel_names).nth(i)
    }

    /// Every channel name in order (empty when the file names none).
    pub fn channel_names(&self) -> impl Iterator<Item = &'a str> + Clone + 'a {
        split_names(self.channel_names)
    }

    /// The raw little-endian weight bytes.
    pub fn weight_bytes(&self) -> &'a [u8] {
        self.weights
    }

    /// Input channels per sample.
    pub fn channels(&self) -> usize {
        usize::from(self.header.channels)
    }

    /// Samples per window.
    pub fn window(&self) -> usize {
        usize::from(self.header.window)
    }

    /// ODE state dimension `D`.
    pub fn state_dim(&self) -> usize {
        usize::from(self.header.state_dim)
    }

    /// Encoder output width `E`.
    pub fn encoded_dim(&self) -> usize {
        encoded_dim(&self.header)
    }

    /// Values a prediction writes: `horizon * channels` or `classes`.
    pub fn output_len(&self) -> usize {
        self.output_len
    }

    /// Whether outputs are de-normalised forecasts (else class logits).
    pub fn is_forecast(&self) -> bool {
        matches!(self.header.task, Task::Forecast { .. })
    }

    /// Encoder layers.
    pub fn encoder(&self) -> &[Dense<'a>] {
        &self.encoder
    }

    /// Vector-field layers.
    pub fn field(&self) -> &[Dense<'a>] {
        &self.field
    }

    /// Decoder layers.
    pub fn decoder(&self) -> &[Dense<'a>] {
        &self.decoder
    }

    /// Evaluations of the field per solver step.
    pub fn evals_per_step(&self) -> u32 {
        solver::evals_per_step(self.header.solver.kind)
    }

    /// Evaluations of the field for one prediction on regularly sampled data
    /// (every gap = `sample_dt`).
    pub fn evals_per_prediction(&self) -> u64 {
        self.net().evals_per_prediction()
    }

    /// The `STATE` capacity a [`crate::Session`] needs: the widest vector.
    pub fn state_capacity_needed(&self) -> usize {
        self.net().state_capacity_needed()
    }

    /// The `WINDOW` capacity a [`crate::Session`] needs: `window * channels`.
    pub fn window_capacity_needed(&self) -> usize {
        self.net().window_capacity_needed()
    }
}
