//! The integer inference path, for cores without an FPU (Cortex-M0/M0+/M3,
//! where every `f32` operation is a soft-float call).
//!
//! # Number formats
//!
//! Every scale is a power of two, written as an exponent `e`: a stored
//! integer `q` means `q * 2^-e`. Rescaling is then a rounding shift, never a
//! multiply by a scale or a divide, and everything fits the Cortex-M0's
//! 32x32->32 `MULS`.
//!
//! | what | type | exponent |
//! |---|---|---|
//! | weights | `i8` | per output row `r_o` ([`QDense::row_exp`]): the largest with `max_i |W[o][i]| 2^r_o <= 127`, so a row of small weights keeps its bits |
//! | layer inputs (activations) | `i16` | per layer, [`QDense::in_exp`] (= the previous layer's [`QDense::out_exp`]) |
//! | accumulator, bias | `i32` | `r_o + in_exp` of the row |
//! | tanh output | `i16` | 15 (Q15, saturating at `±32767`), unless it feeds the state |
//! | identity / ReLU outputs | `i16` | per layer, calibrated: the largest keeping `1.25 x` the calibration maximum in range |
//! | ODE state `y`, NAG velocity `v` | `i32` | state exponent `s + STATE_FRAC` |
//! | gaps, `h`, `mu`, rescale factors | [`Fx`]: 15-bit mantissa, exponent | taken from the `f32` bits once per gap |
//!
//! Why `i8 x i16`: 8-bit activations lose too much in the state the ODE
//! carries over 48 steps, while `i16 x i16` products (up to 2^30) overflow an
//! `i32` sum after two terms. `i8 x i16` products are below 2^22, and the
//! loader refuses a row unless `sum |W[o][i]| * 32768 + |b[o]| < 2^31`, so no
//! accumulator can wrap for any input ([`kernel`]); the kernel then uses plain
//! wrapping adds that never wrap.
//!
//! The state is `i32` with [`STATE_FRAC`] bits below the field's input
//! exponent `s`: a sub-step's increment `h f` is often far below one `i16`
//! step of the state, and rounding it to zero every step would stop slow
//! dynamics. Entering the field the state is rounded to `i16` at `s`
//! (saturating). The field's input `[y, e]` has one exponent, so the
//! encoder's last layer writes at the state exponent too.
//!
//! The field's and the decoder's last layers are never rounded to `i16`:
//! `f` enters `h f` as the `i32` accumulator with its row exponent, and the
//! forecast leaves as `acc * 2^-(r_o + in_exp)` in `f32`.
//!
//! # Saturation
//!
//! Every narrowing is saturating ([`sat16`]), state updates use saturating
//! adds, shifts and [`Fx::mul`] saturate. Nothing wraps. A state beyond the
//! model's `state_bound` is [`crate::RunError::Diverged`], as in `f32`.
//!
//! # tanh
//!
//! [`tanh`]: a 385-entry Q15 table of `tanh(k/64)`, `k = 0..=384` (770 bytes
//! of flash), linear interpolation on a Q16 input, odd by symmetry,
//! `32767` from 6 on. Maximum error [`tanh::TANH_Q15_MAX_ERROR`].
//!
//! # Solver
//!
//! NAG and Euler (Euler is NAG with `mu = 0`, `h = H`, as in `f32`); the
//! loader refuses a quantised section on a midpoint or RK4 model. The `f32`
//! rules stay the one definition: each gap goes through
//! [`crate::solver::model_gap`] and [`crate::solver::substeps`] once (a few
//! soft-float calls per sample, not per multiply), and NAG's `h`
//! ([`crate::solver::nag_h`]) and velocity rescale factor
//! ([`crate::solver::velocity_rescale`]) are computed in `f32` and turned into
//! an [`Fx`]. A step is then
//!
//! ```text
//! z = y +sat mu*v;  f = field(z);  v = mu*v +sat h*f;  y = y +sat v
//! ```
//!
//! with every product an [`Fx::mul`] (an `i64` product and shift: one
//! library call on the M0, per state component, not per multiply-add).
//!
//! # Where it lives
//!
//! A format-4 file appends a [`QuantSection`] to the version-3 layout (see
//! [`crate::format`]); [`QuantModel::from_bytes`] loads both, [`QuantNet`]
//! is what a prediction reads (borrowed, like [`crate::Net`]), and
//! [`QuantRunner`] runs a window with fixed buffers ([`QuantSession`] streams
//! samples into one through a ring, as [`crate::Session`] does). The section
//! is written by [`build::quantize`] on the host, calibrated on windows the
//! caller gives.

#[cfg(feature = "std")]
pub mod build;
pub mod kernel;
pub mod runner;
pub mod session;
pub mod tanh;

pub use runner::QuantRunner;
pub use session::QuantSession;

use crate::error::{Block, LoadError};
use crate::format::{self, Activation, Header, Layer, MAX_LAYERS};
use crate::model::Model;
use crate::net::Net;
use crate::solver::SolverKind;
use heapless::Vec;
use serde::{Deserialize, Serialize};

/// Fraction bits the `i32` state keeps below the field's input exponent.
pub const STATE_FRAC: i32 = 8;

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

/// One quantised dense layer, borrowed (from a file, or arrays generated by
/// a build script).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QDense<'a> {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Activation after the affine map.
    pub activation: Activation,
    /// Exponent of the inputs.
    pub in_exp: i8,
    /// Exponent of the `i16` outputs.
    pub out_exp: i8,
    /// Per-row weight exponent `r_o`.
    pub row_exp: &'a [i8],
    /// Biases as little-endian `i32` at exponent `r_o + in_exp`.
    pub bias: &'a [u8],
    /// Weights, `[outputs][inputs]` row-major.
    pub weights: &'a [i8],
}

impl QDense<'_> {
    /// `b[o]` (0 past the end).
    pub fn bias(&self, o: usize) -> i32 {
        self.bias
            .as_chunks::<4>()
            .0
            .get(o)
            .map_or(0, |b| i32::from_le_bytes(*b))
    }

    /// Exponent of row `o`'s accumulator.
    pub fn acc_exp(&self, o: usize) -> i32 {
        i32::from(self.row_exp.get(o).copied().unwrap_or(0)) + i32::from(self.in_exp)
    }

    /// `acc = b + W x` over the columns `x` covers.
    pub fn acc(&self, x: &[i16], acc: &mut [i32]) {
        kernel::mat_vec_bias(self.weights, self.inputs, x, self.bias, acc);
    }

    /// Row `o`'s activated value and its exponent, from its accumulator.
    pub fn value(&self, o: usize, acc: i32) -> (i32, i32) {
        activate(self.activation, acc, self.acc_exp(o))
    }

    /// Activates `acc` and narrows it to `i16` at [`Self::out_exp`].
    pub fn finish(&self, acc: &[i32], out: &mut [i16]) {
        let out_exp = i32::from(self.out_exp);
        let narrow = |activation| {
            move |a, e| {
                let (v, e) = activate(activation, a, e);
                sat16(shift_round(v, e - out_exp))
            }
        };
        // One loop per activation: the match and the calls stay out of the
        // per-output work.
        match self.activation {
            // Kept in Q15 (the usual case), a tanh is its own `i16`.
            Activation::Tanh if out_exp == tanh::OUTPUT_EXP => self.each_row(acc, out, |a, e| {
                tanh::tanh_q16(shift_round(a, e - tanh::INPUT_EXP))
            }),
            Activation::Tanh => self.each_row(acc, out, narrow(Activation::Tanh)),
            Activation::Identity => self.each_row(acc, out, narrow(Activation::Identity)),
            Activation::Relu => self.each_row(acc, out, narrow(Activation::Relu)),
        }
    }

    /// `out[o] = f(acc[o], acc_exp(o))` (inlined per activation).
    #[inline(always)]
    fn each_row(&self, acc: &[i32], out: &mut [i16], f: impl Fn(i32, i32) -> i16) {
        let in_exp = i32::from(self.in_exp);
        for (o, (q, a)) in out.iter_mut().zip(acc).enumerate() {
            let r = self.row_exp.get(o).copied().unwrap_or(0);
            *q = f(*a, i32::from(r) + in_exp);
        }
    }

    /// `out = finish(b + W x)`; `acc` is scratch of `outputs` values.
    pub fn apply(&self, x: &[i16], acc: &mut [i32], out: &mut [i16]) {
        let acc = acc.get_mut(..self.outputs).unwrap_or_default();
        self.acc(x, acc);
        self.finish(acc, out);
    }
}

/// Runs `layers` on `a[..width]`, alternating between the two buffers;
/// returns the last output (`a[..width]` itself if there is no layer).
pub fn run_layers<'s>(
    layers: &[QDense<'_>],
    width: usize,
    a: &'s mut [i16],
    b: &'s mut [i16],
    acc: &mut [i32],
) -> &'s [i16] {
    crate::field::chain(
        layers,
        width,
        a,
        b,
        |l| (l.inputs, l.outputs),
        |l, x, out| l.apply(x, acc, out),
    )
}

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
    for p in format::placed(header) {
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

/// Row activation: `acc` at exponent `e` to the activated value and its
/// exponent.
#[inline(always)]
fn activate(activation: Activation, acc: i32, e: i32) -> (i32, i32) {
    match activation {
        Activation::Identity => (acc, e),
        Activation::Relu => (acc.max(0), e),
        Activation::Tanh => (
            i32::from(tanh::tanh_q16(shift_round(acc, e - tanh::INPUT_EXP))),
            tanh::OUTPUT_EXP,
        ),
    }
}

/// `round(a * 2^-s)` for `s > 0` (half up), `a * 2^-s` saturating for
/// `s <= 0`.
#[inline]
pub fn shift_round(a: i32, s: i32) -> i32 {
    match s {
        // Common (a tanh output kept in Q15).
        0 => a,
        // Shifting by s - 1 first keeps the rounding add in range.
        1..=31 => (a >> (s - 1)).saturating_add(1) >> 1,
        32.. => 0,
        _ => {
            // In i32 (no 64-bit shift call on the M0): `a << k` fits iff
            // `a` is within `i32::MIN >> k ..= i32::MAX >> k`; k = 31 also
            // gives every larger shift's result (0, or saturated).
            let k = s.unsigned_abs().min(31);
            if a > i32::MAX >> k {
                i32::MAX
            } else if a < i32::MIN >> k {
                i32::MIN
            } else {
                a << k
            }
        }
    }
}

/// `a` clamped to `±32767` (symmetric, so negation never overflows).
#[inline]
pub fn sat16(a: i32) -> i16 {
    a.clamp(-32767, 32767) as i16
}

/// `2^k` as an `f32` for `k` in `-126..=127` (from its bits: no soft-float
/// call), 0 or infinity outside.
#[inline]
pub fn pow2(k: i32) -> f32 {
    match k {
        -126..=127 => f32::from_bits(((k + 127) as u32) << 23),
        k if k < 0 => 0.0,
        _ => f32::INFINITY,
    }
}

/// A non-negative real as `m * 2^-e` with a 15-bit mantissa `m`: how `h`,
/// `mu` and NAG's rescale factors enter the integer step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fx {
    /// Mantissa in `[2^14, 2^15)`, or 0.
    pub m: i32,
    /// Exponent.
    pub e: i32,
}

impl Fx {
    /// Zero.
    pub const ZERO: Fx = Fx { m: 0, e: 0 };

    /// `x` rounded to 15 significant bits, read from its bits (no
    /// soft-float call). Zero, negative, subnormal and NaN give [`Fx::ZERO`];
    /// infinity gives the largest value.
    pub fn from_f32(x: f32) -> Self {
        let bits = x.to_bits();
        let biased = ((bits >> 23) & 0xff) as i32;
        if bits >> 31 != 0 || biased == 0 || x.is_nan() {
            return Self::ZERO;
        }
        let full = ((bits & 0x7f_ffff) | 0x80_0000) as i32;
        let (mut m, mut e) = ((full + 256) >> 9, 141 - biased);
        if m == 1 << 15 {
            m = 1 << 14;
            e -= 1;
        }
        Self { m, e }
    }

    /// `round(a * self * 2^-extra)`, saturating.
    #[inline]
    pub fn mul(self, a: i32, extra: i32) -> i32 {
        let p = i64::from(a) * i64::from(self.m);
        let s = self.e.saturating_add(extra);
        let r = match s {
            1..=62 => ((p >> (s - 1)) + 1) >> 1,
            s if s > 62 => 0,
            s => p.saturating_mul(1i64 << s.unsigned_abs().min(62)),
        };
        r.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `i32` left shift saturates exactly as an `i64` shift clamped to
    /// `i32` would, for every shift and the values around each limit.
    #[test]
    fn left_shifts_saturate_like_a_wide_shift() {
        for s in -40i32..=0 {
            let k = s.unsigned_abs().min(32);
            let edges = [i32::MAX >> k.min(31), i32::MIN >> k.min(31)];
            let values = edges
                .iter()
                .flat_map(|e| [e.saturating_sub(1), *e, e.saturating_add(1)])
                .chain([0, 1, -1, 2, -2, 12345, -12345, i32::MAX, i32::MIN]);
            for a in values {
                let wide = (i64::from(a) << k).clamp(i64::from(i32::MIN), i64::from(i32::MAX));
                assert_eq!(i64::from(shift_round(a, s)), wide, "{a} << {}", -s);
            }
        }
    }
}
