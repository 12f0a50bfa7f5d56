//! A format-4 file loaded with its quantised section ([`QuantModel`]) and
//! what an integer prediction reads from it ([`QuantNet`]): the integer
//! counterparts of [`crate::Model`] and [`crate::build::Net`].

use super::dense::QDense;
use super::section::layers;
use crate::error::{Block, LoadError};
use crate::format;
use crate::header::MAX_LAYERS;
use crate::model::Model;
use crate::net::Net;
use heapless::Vec;

/// Everything an integer prediction reads: the `f32` model's scalar facts
/// (normalisation, solver, gaps) and the quantised layers.
#[derive(Clone, Copy, Debug)]
pub struct QuantNet<'a> {
    /// The `f32` model (its layers are not read by the integer path).
    pub net: Net<'a>,
    /// Exponent of the normalised input samples.
    pub input_exp: i8,
    /// Encoder layers.
    pub encoder: &'a [QDense<'a>],
    /// Field layers.
    pub field: &'a [QDense<'a>],
    /// Decoder layers.
    pub decoder: &'a [QDense<'a>],
}

impl QuantNet<'_> {
    /// Exponent of the state as the field reads it (`i16`).
    pub fn state_exp(&self) -> i32 {
        self.field
            .first()
            .map_or(i32::from(self.input_exp), |l| i32::from(l.in_exp))
    }
}

/// A model file with its quantised section, both checked.
#[derive(Clone, Debug)]
pub struct QuantModel<'a> {
    model: Model<'a>,
    input_exp: i8,
    encoder: Vec<QDense<'a>, MAX_LAYERS>,
    field: Vec<QDense<'a>, MAX_LAYERS>,
    decoder: Vec<QDense<'a>, MAX_LAYERS>,
}

impl<'a> QuantModel<'a> {
    /// Loads a format-4 file: every check of [`Model::from_bytes`], then the
    /// section's ([`layers`]). A file without a section is
    /// [`LoadError::BadQuant`].
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, LoadError> {
        let model = Model::from_bytes(bytes)?;
        let section = format::quant_section(bytes)?.ok_or(LoadError::BadQuant {
            block: Block::Field,
            layer: 0,
            what: "the file has no quantised section (format 4)",
        })?;
        let mut out = Self {
            model,
            input_exp: section.input_exp,
            encoder: Vec::new(),
            field: Vec::new(),
            decoder: Vec::new(),
        };
        for (block, layer) in layers(out.model.header(), &section)? {
            let list = match block {
                Block::Encoder => &mut out.encoder,
                Block::Field => &mut out.field,
                Block::Decoder => &mut out.decoder,
            };
            // Cannot fail: the header holds at most MAX_LAYERS per block.
            list.push(layer).map_err(|_| LoadError::SizeOverflow)?;
        }
        Ok(out)
    }

    /// The `f32` model of the same file.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }

    /// What an integer prediction reads.
    pub fn net(&self) -> QuantNet<'_> {
        QuantNet {
            net: self.model.net(),
            input_exp: self.input_exp,
            encoder: &self.encoder,
            field: &self.field,
            decoder: &self.decoder,
        }
    }
}
