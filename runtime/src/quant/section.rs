//! The quantised section of a format-4 file: its stored form
//! ([`QuantSection`]) and the checks that turn it into layers the integer
//! path can run without wrapping ([`layers`]).
//!
//! It lives apart from the rest of `quant` because the loader
//! ([`crate::format`]) decodes and checks it: this module reads only the
//! header, so the loader never imports the quantised model that is built on
//! top of it.

use super::dense::QDense;
use crate::error::{Block, LoadError};
use crate::header::{placed, Header, Layer, MAX_LAYERS};
use crate::solver::SolverKind;
use heapless::Vec;
use serde::{Deserialize, Serialize};

/// Most layers of a model (encoder, field and decoder together).
pub const MAX_ALL_LAYERS: usize = 3 * MAX_LAYERS;

/// Smallest and largest exponent the section may hold: shifts stay within
/// an `i32` and `2^e` is a normal `f32`.
pub const EXP_RANGE: core::ops::RangeInclusive<i8> = -16..=30;

/// The quantised section of a format-4 file, as stored: every layer in the
/// file's weight order (encoder, field, decoder).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct QuantSection<'a> {
    /// Exponent of the normalised samples entering the encoder (or the
    /// field, when there is no encoder).
    pub input_exp: i8,
    /// Each layer's output exponent.
    pub out_exps: Vec<i8, MAX_ALL_LAYERS>,
    /// Each layer's row exponents (`i8`), concatenated.
    pub row_exps: &'a [u8],
    /// Each layer's biases, little-endian `i32`, concatenated.
    pub biases: &'a [u8],
    /// Each layer's weights (`i8`, `[outputs][inputs]` row-major), concatenated.
    pub weights: &'a [u8],
}

fn bad(block: Block, layer: usize, what: &'static str) -> LoadError {
    LoadError::BadQuant { block, layer, what }
}

/// Splits `n` items off the front of `rest`.
fn take<'a>(
    rest: &mut &'a [u8],
    n: usize,
    block: Block,
    layer: usize,
) -> Result<&'a [u8], LoadError> {
    let (head, tail) = rest.split_at_checked(n).ok_or(bad(
        block,
        layer,
        "section shorter than the layers need",
    ))?;
    *rest = tail;
    Ok(head)
}

/// [`layers`] for its checks alone.
pub fn check(header: &Header, section: &QuantSection<'_>) -> Result<(), LoadError> {
    layers(header, section).map(drop)
}

/// Every layer of the section in weight order, checked against the header:
/// lengths, exponent ranges, the solver, and
/// the accumulator bound that keeps the kernel from wrapping.
pub fn layers<'a>(
    header: &Header,
    section: &QuantSection<'a>,
) -> Result<impl Iterator<Item = (Block, QDense<'a>)>, LoadError> {
    if !matches!(header.solver.kind, SolverKind::Nag | SolverKind::Euler) {
        return Err(bad(Block::Field, 0, "integer path runs NAG and Euler only"));
    }
    if !EXP_RANGE.contains(&section.input_exp) {
        return Err(bad(Block::Encoder, 0, "input exponent out of range"));
    }
    let (mut rows, mut biases, mut weights) = (section.row_exps, section.biases, section.weights);
    let mut exps = section.out_exps.iter();
    let mut out: Vec<(Block, QDense<'a>), MAX_ALL_LAYERS> = Vec::new();
    let mut in_exp = section.input_exp;
    for p in placed(header) {
        let p = p?;
        let (block, index, Layer { activation, .. }) = (p.block, p.index, p.layer);
        let (inputs, outputs) = (usize::from(p.layer.inputs), usize::from(p.layer.outputs));
        let out_exp = *exps
            .next()
            .ok_or(bad(block, index, "missing output exponent"))?;
        if block == Block::Field && index == 0 {
            // The state: the encoder's output exponent (or the input's).
            if let Some((_, enc)) = out.last() {
                in_exp = enc.out_exp;
            }
        }
        if block == Block::Decoder && index == 0 {
            in_exp = out
                .iter()
                .find(|(b, _)| *b == Block::Field)
                .map_or(in_exp, |(_, l)| l.in_exp);
        }
        let row_exp: &[i8] = bytemuck::cast_slice(take(&mut rows, outputs, block, index)?);
        let bias = take(&mut biases, outputs.saturating_mul(4), block, index)?;
        let w: &[i8] = bytemuck::cast_slice(take(
            &mut weights,
            inputs.saturating_mul(outputs),
            block,
            index,
        )?);
        if !EXP_RANGE.contains(&out_exp) || !row_exp.iter().all(|e| EXP_RANGE.contains(e)) {
            return Err(bad(block, index, "exponent out of range"));
        }
        let layer = QDense {
            inputs,
            outputs,
            activation,
            in_exp,
            out_exp,
            row_exp,
            bias,
            weights: w,
        };
        for (o, row) in w.chunks(inputs.max(1)).enumerate() {
            let sum: i64 = row.iter().map(|v| i64::from(v.unsigned_abs())).sum::<i64>() * 32768
                + i64::from(layer.bias(o)).abs();
            if sum > i64::from(i32::MAX) {
                return Err(bad(block, index, "a row's accumulator could overflow i32"));
            }
        }
        in_exp = out_exp;
        out.push((block, layer))
            .map_err(|_| bad(block, index, "too many layers"))?;
    }
    if exps.next().is_some() || !(rows.is_empty() && biases.is_empty() && weights.is_empty()) {
        return Err(bad(
            Block::Decoder,
            0,
            "section longer than the layers need",
        ));
    }
    Ok(out.into_iter())
}
