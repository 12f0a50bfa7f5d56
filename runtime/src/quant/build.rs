//! Quantisation on the host: a loaded `f32` [`Model`] and calibration
//! windows in, a format-4 file out.
//!
//! Calibration runs the `f32` model (its own layers and solver) over the
//! windows and records the largest magnitude of every quantity that becomes
//! an `i16`: the normalised input, each layer's output and the state (at
//! every point the field is evaluated, NAG's look-ahead included). Each
//! exponent is the largest that keeps `1.25 x` that maximum in range, so a
//! window a quarter beyond the calibration set still does not saturate.
//! Tanh outputs are Q15 without calibration. Row exponents come from the
//! weights alone, lowered where a row could overflow its accumulator.

use super::section::{QuantSection, EXP_RANGE, MAX_ALL_LAYERS};
use crate::error::{Block, EncodeError, LoadError};
use crate::field::Dense;
use crate::format;
use crate::header::{Activation, Names, MAX_WIDTH};
use crate::model::Model;
use crate::normalise::{self, Reference};
use crate::solver::{substeps, AnySolver, Solver, VectorField};
use alloc::vec::Vec;

/// Headroom over the calibration maximum.
const HEADROOM: f64 = 1.25;

/// A quantised section that owns its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantised {
    input_exp: i8,
    out_exps: heapless::Vec<i8, MAX_ALL_LAYERS>,
    row_exps: Vec<u8>,
    biases: Vec<u8>,
    weights: Vec<u8>,
}

impl Quantised {
    /// The section as the file stores it.
    pub fn section(&self) -> QuantSection<'_> {
        QuantSection {
            input_exp: self.input_exp,
            out_exps: self.out_exps.clone(),
            row_exps: &self.row_exps,
            biases: &self.biases,
            weights: &self.weights,
        }
    }
}

/// Largest magnitudes seen per quantity.
struct Ranges {
    input: f32,
    state: f32,
    /// Per layer in weight order, after the activation.
    layers: Vec<f32>,
}

fn widen(max: &mut f32, xs: &[f32]) {
    *max = xs.iter().fold(*max, |m, x| m.max(x.abs()));
}

/// Runs `layers` one by one from `x`, widening each layer's range.
fn run_recorded(layers: &[Dense<'_>], x: &[f32], ranges: &mut [f32]) -> Vec<f32> {
    let mut cur = x.to_vec();
    for (layer, max) in layers.iter().zip(ranges.iter_mut()) {
        let mut next = alloc::vec![0.0; layer.outputs];
        layer.apply(&cur, &mut next);
        widen(max, &next);
        cur = next;
    }
    cur
}

/// The field with every layer's range recorded.
struct Recorded<'r, 'a> {
    layers: &'r [Dense<'a>],
    e: &'r [f32],
    ranges: &'r mut [f32],
    state: &'r mut f32,
}

impl VectorField for Recorded<'_, '_> {
    fn dim(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }

    fn eval(&mut self, _t: f32, y: &[f32], out: &mut [f32]) {
        widen(self.state, y);
        let x: Vec<f32> = y.iter().chain(self.e).copied().collect();
        let f = run_recorded(self.layers, &x, self.ranges);
        out.iter_mut().zip(&f).for_each(|(o, v)| *o = *v);
    }
}

/// Records every range over `windows` (each `window * channels` values,
/// nominal gaps).
fn calibrate<'w>(
    model: &Model<'_>,
    windows: impl Iterator<Item = &'w [f32]>,
) -> Result<Ranges, EncodeError> {
    let net = model.net();
    let (ne, nf) = (net.encoder.len(), net.field.len());
    let mut r = Ranges {
        input: 0.0,
        state: 0.0,
        layers: alloc::vec![0.0; ne + nf + net.decoder.len()],
    };
    let (enc, rest) = r.layers.split_at_mut(ne);
    let (fld, dec) = rest.split_at_mut(nf);
    let (m, big) =
        substeps(net.sample_dt, net.solver.max_step).map_err(|_| LoadError::BadParameter {
            what: "sample_dt",
            value: net.sample_dt,
            range: "at most MAX_SUBSTEPS * max_step",
        })?;
    for window in windows {
        let c = net.channels;
        let last = window
            .get(window.len().saturating_sub(c)..)
            .unwrap_or_default();
        let mut solver = AnySolver::<{ MAX_WIDTH }>::from_spec(&net.solver);
        let mut y = alloc::vec![0.0f32; net.state_dim];
        let mut t = 0.0;
        for sample in window.chunks(c.max(1)) {
            let x: Vec<f32> = sample
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let reference = match net.reference {
                        Reference::LastValue => last.get(i).copied().unwrap_or(0.0),
                        Reference::Global => 0.0,
                    };
                    let (mean, std) = (net.mean.get(i), net.std.get(i));
                    normalise::input(*v, reference, *mean.unwrap_or(&0.0), *std.unwrap_or(&1.0))
                })
                .collect();
            widen(&mut r.input, &x);
            let e = run_recorded(net.encoder, &x, enc);
            let mut field = Recorded {
                layers: net.field,
                e: &e,
                ranges: fld,
                state: &mut r.state,
            };
            for _ in 0..m {
                solver
                    .step(&mut field, t, big, &mut y)
                    .map_err(|_| LoadError::BadQuant {
                        block: Block::Field,
                        layer: 0,
                        what: "the f32 model failed on a calibration window",
                    })?;
                t += big;
            }
            widen(&mut r.state, &y);
        }
        run_recorded(net.decoder, &y, dec);
    }
    Ok(r)
}

/// The largest exponent keeping `HEADROOM x max` within `±32767`.
fn exp_for(max: f32) -> i8 {
    let max = f64::from(max) * HEADROOM;
    let e = if max > 0.0 {
        (32767.0 / max).log2().floor()
    } else {
        14.0
    };
    e.clamp(f64::from(*EXP_RANGE.start()), f64::from(*EXP_RANGE.end())) as i8
}

/// `round(x * 2^e)` in `f64`.
fn scaled(x: f32, e: i32) -> f64 {
    (f64::from(x) * 2f64.powi(e)).round()
}

/// Quantises `model`, calibrated on `windows` (each `window * channels`
/// values, sampled at the nominal gap).
pub fn quantize<'w>(
    model: &Model<'_>,
    windows: impl Iterator<Item = &'w [f32]>,
) -> Result<Quantised, EncodeError> {
    let net = model.net();
    let ranges = calibrate(model, windows)?;
    let (ne, nf) = (net.encoder.len(), net.field.len());
    let state_max = ranges.state.max(match ne {
        0 => ranges.input,
        _ => ranges.layers.get(ne - 1).copied().unwrap_or(0.0),
    });
    let state_exp = exp_for(state_max);
    let input_exp = if ne == 0 {
        state_exp
    } else {
        exp_for(ranges.input)
    };
    let mut q = Quantised {
        input_exp,
        out_exps: heapless::Vec::new(),
        row_exps: Vec::new(),
        biases: Vec::new(),
        weights: Vec::new(),
    };
    let all = net.encoder.iter().chain(net.field).chain(net.decoder);
    let mut in_exp = input_exp;
    for (k, (layer, max)) in all.zip(&ranges.layers).enumerate() {
        if k == ne || k == ne + nf {
            in_exp = state_exp;
        }
        let out_exp = if k + 1 == ne {
            state_exp
        } else if layer.activation == Activation::Tanh {
            super::tanh::OUTPUT_EXP as i8
        } else {
            exp_for(*max)
        };
        let (block, index) = match k {
            k if k < ne => (Block::Encoder, k),
            k if k < ne + nf => (Block::Field, k - ne),
            k => (Block::Decoder, k - ne - nf),
        };
        let too_many = LoadError::BadQuant {
            block,
            layer: index,
            what: "too many layers",
        };
        q.out_exps.push(out_exp).map_err(|_| too_many)?;
        for o in 0..layer.outputs {
            let row: Vec<f32> = (0..layer.inputs)
                .map(|i| layer.weight(o, i).unwrap_or(0.0))
                .collect();
            let bias = layer.bias(o).unwrap_or(0.0);
            let (r, w, b) = quantize_row(&row, bias, in_exp).ok_or(LoadError::BadQuant {
                block,
                layer: index,
                what: "a row does not fit i8 weights with an i32 accumulator",
            })?;
            q.row_exps.push(r as u8);
            q.biases.extend_from_slice(&b.to_le_bytes());
            q.weights.extend(w.iter().map(|v| *v as u8));
        }
        in_exp = out_exp;
    }
    Ok(q)
}

/// A row's exponent, `i8` weights and `i32` bias: the largest exponent
/// whose weights fit `i8` and whose accumulator cannot overflow.
fn quantize_row(row: &[f32], bias: f32, in_exp: i8) -> Option<(i8, Vec<i8>, i32)> {
    let max = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
    let start = if max > 0.0 {
        (127.49 / f64::from(max)).log2().floor() as i32
    } else {
        0
    };
    let top = start.min(i32::from(*EXP_RANGE.end()));
    (i32::from(*EXP_RANGE.start())..=top).rev().find_map(|r| {
        let w: Vec<i8> = row
            .iter()
            .map(|w| scaled(*w, r).clamp(-127.0, 127.0) as i8)
            .collect();
        let b = scaled(bias, r + i32::from(in_exp));
        let sum = w.iter().map(|v| f64::from(v.unsigned_abs())).sum::<f64>() * 32768.0 + b.abs();
        (sum <= f64::from(i32::MAX)).then_some((r as i8, w, b as i32))
    })
}

/// [`quantize`], then the model written as a format-4 file with the section.
pub fn quantize_to_vec<'w>(
    model: &Model<'_>,
    windows: impl Iterator<Item = &'w [f32]>,
) -> Result<Vec<u8>, EncodeError> {
    let q = quantize(model, windows)?;
    let weights: Vec<f32> = format::le_f32s(model.weight_bytes()).collect();
    let channels: Vec<&str> = model.channel_names().collect();
    let classes: Vec<&str> = model.class_names().collect();
    let names = Names {
        channels: &channels,
        classes: &classes,
    };
    format::encode_quant_to_vec(model.header(), &weights, &names, &q.section())
}
