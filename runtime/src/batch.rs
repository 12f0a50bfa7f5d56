//! Many windows at once on the host (feature `std`): scoring a data set,
//! checking an export, serving a queue of requests.
//!
//! The windows are spread over the cores with rayon, one [`Runner`] per
//! worker (its buffers are a few kB on the stack, so making one is cheap).
//! A runner starts every window from a zero state, so each window's outputs
//! are the bits [`Runner::run_window`] gives it alone, whatever thread runs
//! it, and they come back in input order.
//!
//! The windows run on [`HostLayers`]: the model's weights copied once into
//! column panels, so the dense kernel reads contiguous weights and the
//! compiler vectorises it across outputs, while each output still sums its
//! products in column order from the same start: the bits of [`Net`].
//!
//! Windows that share their gaps (regular sampling, or one gap list) run
//! four at a time as one model whose vectors interleave theirs
//! (`Lanes`): each weight loaded serves every lane and the lanes' sums run
//! side by side, the step that lets a batch beat one window per core. The
//! bits stay one window's; a group with a failing window reruns one window
//! at a time, so the error names the right one.
//!
//! The runners' `STATE` capacity is picked from the model (the next power
//! of two up from [`Net::state_capacity_needed`]): some of a
//! runner's per-sample work walks its whole buffers, so a runner sized for
//! the widest model the format allows runs a 32-wide model at half speed.

use crate::error::{LoadError, RunError};
use crate::field::{activate, Dense, Weights};
use crate::format::{self, Activation, MAX_CHANNELS, MAX_WIDTH};
use crate::net::{Layers, Net};
use crate::session::Runner;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;
use rayon::prelude::*;

/// Why a batch stopped.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum BatchError {
    /// The model does not fit the runners' `STATE` capacity.
    Load(LoadError),
    /// A buffer's length does not match the number of windows.
    Length {
        /// Which buffer (`"samples"`, `"gaps"` or `"outputs"`).
        what: &'static str,
        /// Values needed.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// The first window, in input order, that failed.
    Run {
        /// Its index.
        window: usize,
        /// The runtime's error for it.
        error: RunError,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Load(e) => e.fmt(f),
            BatchError::Length {
                what,
                expected,
                found,
            } => write!(f, "batch needs {expected} {what}, got {found}"),
            BatchError::Run { window, error } => write!(f, "window {window}: {error}"),
        }
    }
}

impl core::error::Error for BatchError {}

/// Runs `count` windows of `model` in parallel: `window(i)` gives window
/// `i`'s samples and gaps as [`Runner::run_window`] takes them (a closure,
/// so overlapping windows of one series need no copies). Outputs go to
/// `out` as `[i][output_len]`; a longer `out` keeps its tail. On error the
/// first failing window is named and the outputs are unspecified.
pub fn run_each<'w>(
    net: &Net<'_>,
    count: usize,
    window: impl Fn(usize) -> (&'w [f32], Option<&'w [f32]>) + Sync,
    out: &mut [f32],
) -> Result<(), BatchError> {
    let model = &HostLayers::new(*net);
    let need = net.state_capacity_needed();
    // One instance per capacity (a group's runner holds four lanes);
    // the last refuses what no file can ask for.
    match need {
        0..=16 => run_with::<16, 64>(model, count, &window, out),
        17..=32 => run_with::<32, 128>(model, count, &window, out),
        33..=64 => run_with::<64, 256>(model, count, &window, out),
        65..=128 => run_with::<128, 512>(model, count, &window, out),
        129..=256 => run_with::<256, 1024>(model, count, &window, out),
        257..=512 => run_with::<512, 512>(model, count, &window, out),
        _ => run_with::<MAX_WIDTH, MAX_WIDTH>(model, count, &window, out),
    }
}

/// [`run_each`] with runners of capacity `STATE`, and `GROUP_STATE` for
/// a group's runner (no groups when the lanes do not fit it).
fn run_with<'w, const STATE: usize, const GROUP_STATE: usize>(
    model: &HostLayers<'_>,
    count: usize,
    window: &(impl Fn(usize) -> (&'w [f32], Option<&'w [f32]>) + Sync),
    out: &mut [f32],
) -> Result<(), BatchError> {
    let net = &model.net;
    // Refused here, not only in the workers (which a batch of none never starts).
    Runner::<STATE>::new(net).map_err(BatchError::Load)?;
    let len = net.output_len;
    let expected = count.saturating_mul(len);
    let found = out.len();
    let out = out.get_mut(..expected).ok_or(BatchError::Length {
        what: "outputs",
        expected,
        found,
    })?;
    // One slot per window, even for a (hand-built, inconsistent) model
    // that writes nothing: every window still runs and is checked.
    let slots: Vec<&mut [f32]> = match len {
        0 => core::iter::repeat_with(|| &mut [][..])
            .take(count)
            .collect(),
        _ => out.chunks_mut(len).collect(),
    };
    let shape = LaneShape::new(net);
    let encoder = shape.encoder();
    let lanes = Lanes::new(model, &shape, encoder.as_slice());
    let grouped = lanes
        .as_ref()
        .filter(|l| Runner::<GROUP_STATE>::new(&l.net).is_ok());
    let size = grouped.map_or(1, |_| LANES);
    let failed = slots
        .into_par_iter()
        .enumerate()
        .chunks(size)
        .map_init(
            || {
                let group = grouped.and_then(|l| Runner::<GROUP_STATE>::new(&l.net).ok());
                (Runner::<STATE>::new(net), group, Vec::new(), Vec::new())
            },
            |(runner, group, samples, outs), mut chunk| {
                if let (Some(lanes), Some(group)) = (grouped, group.as_mut()) {
                    if lanes.run(group, window, &mut chunk, samples, outs) {
                        return Ok(());
                    }
                }
                let runner = runner.as_mut().map_err(|e| BatchError::Load(e.clone()))?;
                for (i, out) in chunk {
                    let (samples, gaps) = window(i);
                    if let Err(error) = runner.run_window(model, samples, gaps, out) {
                        return Err(BatchError::Run { window: i, error });
                    }
                }
                Ok(())
            },
        )
        .find_first(Result::is_err);
    failed.unwrap_or(Ok(()))
}

/// [`run_each`] over windows laid end to end: `samples` as `[i][n][c]`,
/// `gaps` as `[i][n]` (`None`: every gap nominal), `out` as
/// `[i][output_len]`. Returns the number of windows.
pub fn run_windows(
    net: &Net<'_>,
    samples: &[f32],
    gaps: Option<&[f32]>,
    out: &mut [f32],
) -> Result<usize, BatchError> {
    let per = net.window_capacity_needed();
    let count = samples.len().checked_div(per).unwrap_or(0);
    let lengths = [
        ("samples", count.saturating_mul(per), Some(samples)),
        ("gaps", count.saturating_mul(net.window), gaps),
    ];
    for (what, expected, given) in lengths {
        match given {
            Some(given) if given.len() != expected => {
                return Err(BatchError::Length {
                    what,
                    expected,
                    found: given.len(),
                })
            }
            _ => {}
        }
    }
    run_each(
        net,
        count,
        |i| {
            (
                slice(samples, per, i),
                gaps.map(|g| slice(g, net.window, i)),
            )
        },
        out,
    )?;
    Ok(count)
}

/// A model's layers for the host: each dense layer's weights copied into
/// panels of up to 32 outputs, column by column, so one column of a panel
/// is a contiguous vector that multiplies one input. Each output still
/// starts from its bias (or held part) and adds its products in column
/// order, plain multiply then add, so the results are [`Net`]'s bits.
pub struct HostLayers<'m> {
    net: Net<'m>,
    encoder: Vec<Layer>,
    /// The field's first layer over the state columns, then the others.
    field: Vec<Layer>,
    /// The field's first layer over the encoding columns (for `hold`).
    held: Panels,
    decoder: Vec<Layer>,
}

impl<'m> HostLayers<'m> {
    /// Copies `net`'s weights into panels (once per model, not per window).
    pub fn new(net: Net<'m>) -> Self {
        let all =
            |layers: &[Dense<'_>]| layers.iter().map(|l| Layer::new(l, 0..l.inputs)).collect();
        let d = net.state_dim;
        let mut field: Vec<Layer> = all(net.field);
        let held = match (net.field.first(), field.first_mut()) {
            (Some(first), Some(panels)) => {
                *panels = Layer::new(first, 0..d.min(first.inputs));
                Panels::new(first, d.min(first.inputs)..first.inputs)
            }
            _ => Panels::default(),
        };
        Self {
            encoder: all(net.encoder),
            decoder: all(net.decoder),
            field,
            held,
            net,
        }
    }
}

impl<'m> Layers<'m> for HostLayers<'m> {
    fn net(&self) -> &Net<'m> {
        &self.net
    }

    fn encode<'s>(&self, a: &'s mut [f32], b: &'s mut [f32]) -> &'s [f32] {
        run_layers(&self.encoder, self.net.channels, a, b)
    }

    fn hold(&self, e: &[f32], held: &mut [f32]) -> usize {
        let Some(first) = self.field.first() else {
            return 0;
        };
        let n = first.bias.len().min(held.len());
        self.held
            .acc_from(&first.bias, e, held.get_mut(..n).unwrap_or_default());
        n
    }

    fn field(&self, held: &[f32], y: &[f32], a: &mut [f32], b: &mut [f32], out: &mut [f32]) {
        let Some((first, rest)) = self.field.split_first() else {
            return;
        };
        let width = first.bias.len();
        let (Some(start), Some(held)) = (a.get_mut(..width), held.get(..width)) else {
            return;
        };
        first.panels.acc_from(held, y, start);
        activate(first.activation, start);
        let result = run_layers(rest, width, a, b);
        for (o, r) in out.iter_mut().zip(result) {
            *o = *r;
        }
    }

    fn decode<'s>(&self, a: &'s mut [f32], b: &'s mut [f32]) -> &'s [f32] {
        run_layers(&self.decoder, self.net.state_dim, a, b)
    }
}

/// A dense layer in panels.
struct Layer {
    inputs: usize,
    activation: Activation,
    bias: Vec<f32>,
    panels: Panels,
}

impl Layer {
    fn new(layer: &Dense<'_>, columns: Range<usize>) -> Self {
        Self {
            inputs: layer.inputs,
            activation: layer.activation,
            bias: (0..layer.outputs)
                .map(|o| layer.bias(o).unwrap_or(0.0))
                .collect(),
            panels: Panels::new(layer, columns),
        }
    }

    /// `out = activation(W x + b)`, as [`Dense::apply`].
    fn apply(&self, x: &[f32], out: &mut [f32]) {
        self.panels.acc_from(&self.bias, x, out);
        activate(self.activation, out);
    }
}

/// As [`crate::field::run_layers`]: `layers` on `a[..width]`, alternating
/// between the two buffers; the last output.
fn run_layers<'s>(layers: &[Layer], width: usize, a: &'s mut [f32], b: &'s mut [f32]) -> &'s [f32] {
    let mut cur = a;
    let mut next = b;
    let mut width = width;
    for layer in layers {
        let outputs = layer.bias.len();
        let (Some(src), Some(dst)) = (cur.get(..layer.inputs), next.get_mut(..outputs)) else {
            break;
        };
        layer.apply(src, dst);
        width = outputs;
        core::mem::swap(&mut cur, &mut next);
    }
    let cur: &'s [f32] = cur;
    cur.get(..width).unwrap_or_default()
}

/// Some columns of a layer's weight matrix in panels of `lanes` outputs:
/// panel `p`, column `c` holds `W[p * lanes + k][c]` for `k < lanes` (zero
/// past the last output).
#[derive(Default)]
struct Panels {
    columns: usize,
    lanes: usize,
    w: Vec<f32>,
}

impl Panels {
    fn new(layer: &Dense<'_>, columns: Range<usize>) -> Self {
        // The widest panel the layer fills: narrow layers waste fewer lanes.
        let lanes = match layer.outputs {
            32.. => 32,
            16..32 => 16,
            8..16 => 8,
            _ => 4,
        };
        let panels = layer.outputs.div_ceil(lanes);
        let w = (0..panels)
            .flat_map(|p| columns.clone().map(move |c| (p, c)))
            .flat_map(|(p, c)| (p * lanes..(p + 1) * lanes).map(move |o| (o, c)))
            .map(|(o, c)| layer.weight(o, c).unwrap_or(0.0))
            .collect();
        Self {
            columns: columns.len(),
            lanes,
            w,
        }
    }

    /// `out[o] = init[o] + sum_c W[o][c] * x[c]` over the panels' columns
    /// (and `x`), each sum in column order from `init[o]`.
    fn acc_from(&self, init: &[f32], x: &[f32], out: &mut [f32]) {
        match self.lanes {
            32 => self.acc_lanes::<32>(init, x, out),
            16 => self.acc_lanes::<16>(init, x, out),
            8 => self.acc_lanes::<8>(init, x, out),
            _ => self.acc_lanes::<4>(init, x, out),
        }
    }

    fn acc_lanes<const LANES: usize>(&self, init: &[f32], x: &[f32], out: &mut [f32]) {
        let panel_len = self.columns.saturating_mul(LANES).max(1);
        let mut panels = self.w.chunks_exact(panel_len);
        for (init, out) in init.chunks(LANES).zip(out.chunks_mut(LANES)) {
            // Whole blocks move as fixed-size arrays (registers, not a
            // copy loop); only a layer's last block can be short.
            let mut acc = match init.first_chunk::<LANES>() {
                Some(whole) => *whole,
                None => {
                    let mut acc = [0f32; LANES];
                    acc.iter_mut().zip(init).for_each(|(a, i)| *a = *i);
                    acc
                }
            };
            let panel = panels.next().unwrap_or_default();
            for (w, xi) in panel.as_chunks::<LANES>().0.iter().zip(x) {
                for (a, w) in acc.iter_mut().zip(w) {
                    *a += *w * *xi;
                }
            }
            match out.first_chunk_mut::<LANES>() {
                Some(whole) => *whole = acc,
                None => out.iter_mut().zip(acc).for_each(|(o, a)| *o = a),
            }
        }
    }
}

/// How many windows run together as lanes: four, when the runner's
/// per-channel references ([`MAX_CHANNELS`]) hold four windows' channels.
const LANES: usize = 4;

/// The scalar facts of [`LANES`] windows run as one: the model's
/// normalisation with each channel repeated per lane and, for a model with
/// an encoder, the zeros behind a width-only layer that tells the runner
/// the lanes' encoding width (its numbers are never read: [`Lanes`] encodes).
struct LaneShape {
    mean: Vec<f32>,
    std: Vec<f32>,
    encoding: Vec<f32>,
}

impl LaneShape {
    fn new(net: &Net<'_>) -> Self {
        let c = net.channels;
        let tile = |v: &[f32]| match v.get(..c) {
            Some(v) => v
                .iter()
                .flat_map(|x| core::iter::repeat_n(*x, LANES))
                .collect(),
            None => Vec::new(),
        };
        let encoding = match net.encoder {
            [] => 0,
            _ => LANES.saturating_mul(net.encoded_dim()),
        };
        Self {
            mean: tile(net.mean),
            std: tile(net.std),
            encoding: alloc::vec![0.0; encoding],
        }
    }

    /// The width-only encoder layer (`None` without an encoder).
    fn encoder(&self) -> Option<Dense<'_>> {
        let outputs = u16::try_from(self.encoding.len()).ok().filter(|n| *n > 0)?;
        let layer = format::Layer {
            inputs: 0,
            outputs,
            activation: Activation::Identity,
        };
        Dense::new(layer, Weights::F32(&self.encoding))
    }
}

/// [`LANES`] windows that share their gaps, run by one [`Runner`] as one
/// model whose every vector is the lanes' vectors interleaved (`[i][lane]`):
/// the solver's elementwise updates do each lane's own arithmetic, each
/// weight loaded serves all lanes ([`LanePanels`]), and each output of each
/// lane sums in [`HostLayers`]' order from the same start: the bits of one
/// window at a time. Samples, references and outputs interleave the same
/// way, so the runner's normalisation pairs each value with its lane's
/// reference.
struct Lanes<'s, 'm> {
    host: &'s HostLayers<'m>,
    net: Net<'s>,
    encoder: Vec<LanePanels>,
    /// The field's first layer over the state columns, then the others.
    field: Vec<LanePanels>,
    /// The field's first layer over the encoding columns.
    held: LanePanels,
    decoder: Vec<LanePanels>,
}

impl<'s, 'm: 's> Lanes<'s, 'm> {
    /// `None` when `host`'s windows cannot run in lanes.
    fn new(
        host: &'s HostLayers<'m>,
        shape: &'s LaneShape,
        encoder: &'s [Dense<'s>],
    ) -> Option<Self> {
        let net = host.net;
        let c = net.channels;
        let fits = c > 0
            && LANES * c <= MAX_CHANNELS
            && shape.mean.len() == LANES * c
            && shape.std.len() == LANES * c
            && encoder.is_empty() == net.encoder.is_empty();
        let all = |layers: &[Dense<'_>]| {
            layers
                .iter()
                .map(|l| LanePanels::new(l, 0..l.inputs))
                .collect()
        };
        let d = net.state_dim;
        let mut field: Vec<LanePanels> = all(net.field);
        let held = match (net.field.first(), field.first_mut()) {
            (Some(first), Some(panels)) => {
                *panels = LanePanels::new(first, 0..d.min(first.inputs));
                LanePanels::new(first, d.min(first.inputs)..first.inputs)
            }
            _ => LanePanels::default(),
        };
        fits.then(|| Self {
            host,
            encoder: all(net.encoder),
            decoder: all(net.decoder),
            field,
            held,
            net: Net {
                channels: LANES * c,
                state_dim: LANES.saturating_mul(d),
                output_len: LANES.saturating_mul(net.output_len),
                mean: &shape.mean,
                std: &shape.std,
                encoder,
                field: &[],
                decoder: &[],
                ..net
            },
        })
    }

    /// Runs `chunk`'s windows in lanes; `false` (outputs untouched) when
    /// they do not share their gaps or any fails, so the caller runs them
    /// one at a time and names the failing one. `samples` and `outs` are
    /// the worker's buffers.
    fn run<'w, const S: usize>(
        &self,
        runner: &mut Runner<S>,
        window: &impl Fn(usize) -> (&'w [f32], Option<&'w [f32]>),
        chunk: &mut [(usize, &mut [f32])],
        samples: &mut Vec<f32>,
        outs: &mut Vec<f32>,
    ) -> bool {
        let per = self.host.net.window_capacity_needed();
        let Some(gaps) = chunk.first().map(|(i, _)| window(*i).1) else {
            return false;
        };
        let same = |g: Option<&[f32]>| match (g, gaps) {
            (None, None) => true,
            (Some(g), Some(gaps)) => {
                g.len() == gaps.len() && g.iter().zip(gaps).all(|(a, b)| a.to_bits() == b.to_bits())
            }
            _ => false,
        };
        let shared = chunk.iter().all(|(i, _)| {
            let (x, g) = window(*i);
            x.len() == per && same(g)
        });
        if chunk.len() != LANES || !shared {
            return false;
        }
        samples.clear();
        samples.resize(per * LANES, 0.0);
        for (k, (i, _)) in chunk.iter().enumerate() {
            let lane = samples.iter_mut().skip(k).step_by(LANES);
            lane.zip(window(*i).0).for_each(|(to, x)| *to = *x);
        }
        outs.clear();
        outs.resize(self.net.output_len, 0.0);
        if runner.run_window(self, samples, gaps, outs).is_err() {
            return false;
        }
        for (k, (_, out)) in chunk.iter_mut().enumerate() {
            let lane = outs.iter().skip(k).step_by(LANES);
            out.iter_mut().zip(lane).for_each(|(o, v)| *o = *v);
        }
        true
    }
}

impl<'s> Layers<'s> for Lanes<'s, '_> {
    fn net(&self) -> &Net<'s> {
        &self.net
    }

    fn encode<'b>(&self, a: &'b mut [f32], b: &'b mut [f32]) -> &'b [f32] {
        let host = &self.host;
        run_lanes(&host.encoder, &self.encoder, host.net.channels, a, b)
    }

    fn hold(&self, e: &[f32], held: &mut [f32]) -> usize {
        let Some(first) = self.host.field.first() else {
            return 0;
        };
        let n = (first.bias.len() * LANES).min(held.len());
        let held = held.get_mut(..n).unwrap_or_default();
        self.held.acc_from(Init::Shared(&first.bias), e, held);
        n
    }

    fn field(&self, held: &[f32], y: &[f32], a: &mut [f32], b: &mut [f32], out: &mut [f32]) {
        let (Some((first, rest)), Some((panels, others))) =
            (self.host.field.split_first(), self.field.split_first())
        else {
            return;
        };
        let width = first.bias.len() * LANES;
        let (Some(start), Some(held)) = (a.get_mut(..width), held.get(..width)) else {
            return;
        };
        panels.acc_from(Init::Laned(held), y, start);
        activate(first.activation, start);
        let result = run_lanes(rest, others, first.bias.len(), a, b);
        for (o, r) in out.iter_mut().zip(result) {
            *o = *r;
        }
    }

    fn decode<'b>(&self, a: &'b mut [f32], b: &'b mut [f32]) -> &'b [f32] {
        let host = &self.host;
        run_lanes(&host.decoder, &self.decoder, host.net.state_dim, a, b)
    }
}

/// [`run_layers`] on [`LANES`] interleaved vectors `width` wide in `a`.
fn run_lanes<'s>(
    layers: &[Layer],
    panels: &[LanePanels],
    width: usize,
    a: &'s mut [f32],
    b: &'s mut [f32],
) -> &'s [f32] {
    let (mut cur, mut next, mut width) = (a, b, width);
    for (layer, panels) in layers.iter().zip(panels) {
        let outputs = layer.bias.len();
        let (Some(src), Some(dst)) = (
            cur.get(..layer.inputs * LANES),
            next.get_mut(..outputs * LANES),
        ) else {
            break;
        };
        panels.acc_from(Init::Shared(&layer.bias), src, dst);
        activate(layer.activation, dst);
        width = outputs;
        core::mem::swap(&mut cur, &mut next);
    }
    let cur: &'s [f32] = cur;
    cur.get(..width * LANES).unwrap_or_default()
}

/// Where each lane's sums start.
#[derive(Clone, Copy)]
enum Init<'a> {
    /// One value per output for every lane (a bias).
    Shared(&'a [f32]),
    /// Each lane's own, interleaved (the held part).
    Laned(&'a [f32]),
}

/// Some columns of a layer's weight matrix for [`LANES`] interleaved
/// inputs: panels of `P` (8) outputs, each weight repeated once per lane,
/// so one column of a panel is `P` vectors that multiply the lanes' input
/// vector: no shuffle and no branch in the kernel.
#[derive(Default)]
struct LanePanels {
    columns: usize,
    w: Vec<f32>,
}

/// Outputs per [`LanePanels`] panel: its sums fill 8 SSE registers.
const P: usize = 8;

impl LanePanels {
    fn new(layer: &Dense<'_>, columns: Range<usize>) -> Self {
        let panels = layer.outputs.div_ceil(P);
        let w = (0..panels)
            .flat_map(|p| columns.clone().map(move |c| (p, c)))
            .flat_map(|(p, c)| (p * P..(p + 1) * P).map(move |o| (o, c)))
            .flat_map(|(o, c)| core::iter::repeat_n(layer.weight(o, c).unwrap_or(0.0), LANES))
            .collect();
        Self {
            columns: columns.len(),
            w,
        }
    }

    /// `out[o][k] = init[o][k] + sum_c W[o][c] * x[c][k]` over the panels'
    /// columns (and `x`), each sum in column order from its start: lane
    /// `k` gets [`Panels::acc_from`]'s bits.
    fn acc_from(&self, init: Init<'_>, x: &[f32], out: &mut [f32]) {
        let x = x.as_chunks::<LANES>().0;
        let out = out.as_chunks_mut::<LANES>().0;
        let panel_len = self.columns * P * LANES;
        for (p, out) in out.chunks_mut(P).enumerate() {
            let panel = self
                .w
                .get(p * panel_len..(p + 1) * panel_len)
                .unwrap_or_default();
            let mut acc = [[0f32; LANES]; P];
            for (o, a) in acc.iter_mut().enumerate().take(out.len()) {
                let at = p * P + o;
                *a = match init {
                    Init::Shared(bias) => [bias.get(at).copied().unwrap_or(0.0); LANES],
                    Init::Laned(held) => held
                        .as_chunks::<LANES>()
                        .0
                        .get(at)
                        .copied()
                        .unwrap_or([0.0; LANES]),
                };
            }
            let columns = panel.as_chunks::<LANES>().0.as_chunks::<P>().0;
            for (w, x) in columns.iter().zip(x) {
                for (a, w) in acc.iter_mut().zip(w) {
                    for ((a, w), x) in a.iter_mut().zip(w).zip(x) {
                        *a += *w * *x;
                    }
                }
            }
            for (o, a) in out.iter_mut().zip(acc) {
                *o = a;
            }
        }
    }
}

/// Window `i` of `values` laid out `width` at a time (empty past the end).
fn slice(values: &[f32], width: usize, i: usize) -> &[f32] {
    let start = i.saturating_mul(width);
    values
        .get(start..start.saturating_add(width))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use crate::format::{
        self, Activation, Clock, Header, Layer, Names, SolverKind, SolverSpec, Startup, Task,
    };
    use crate::normalise::Reference;
    use crate::Model;
    use alloc::vec;

    /// A two-channel NAG forecaster with an encoder, window 6, horizon 2,
    /// sub-steps on long gaps; weights from a fixed pseudo-random sequence.
    fn model_bytes() -> Vec<u8> {
        model_with(
            SolverKind::Nag,
            Task::Forecast { horizon: 2 },
            &[(8, Activation::Tanh)],
        )
    }

    /// [`model_bytes`] with another solver, task and hidden field layers
    /// (the field then maps to the state, 3, without activation).
    fn model_with(kind: SolverKind, task: Task, hidden: &[(u16, Activation)]) -> Vec<u8> {
        let layer = |inputs, outputs, activation| Layer {
            inputs,
            outputs,
            activation,
        };
        let h = Header {
            task,
            channels: 2,
            window: 6,
            sample_dt: 1.0,
            mean: heapless::Vec::from_slice(&[0.1, -0.2]).unwrap(),
            std: heapless::Vec::from_slice(&[1.5, 0.7]).unwrap(),
            state_dim: 3,
            encoder: heapless::Vec::from_slice(&[layer(2, 4, Activation::Tanh)]).unwrap(),
            field: hidden
                .iter()
                .scan(7, |inputs, &(outputs, activation)| {
                    let l = layer(*inputs, outputs, activation);
                    *inputs = outputs;
                    Some(l)
                })
                .chain([layer(
                    hidden.last().map_or(7, |h| h.0),
                    3,
                    Activation::Identity,
                )])
                .collect(),
            decoder: heapless::Vec::from_slice(&[layer(
                3,
                match task {
                    Task::Forecast { horizon } => 2 * horizon,
                    Task::Classify { classes } => classes,
                },
                Activation::Identity,
            )])
            .unwrap(),
            solver: SolverSpec {
                kind,
                mu: 0.5,
                consistency_scaling: true,
                startup: Startup::Euler,
                max_step: 0.5,
            },
            state_bound: 1e6,
            time_unit: 1.0,
            clock: Clock::Number,
            reference: Reference::LastValue,
        };
        let n = format::weight_count(&h).unwrap();
        let mut state = 0x2545_f491_u32;
        let weights: Vec<f32> = (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        format::encode_to_vec(&h, &weights, &Names::NONE).unwrap()
    }

    /// `count` windows of samples and irregular gaps, laid end to end.
    fn windows(count: usize) -> (Vec<f32>, Vec<f32>) {
        let samples = (0..count * 12)
            .map(|k| ((k * 7 % 23) as f32 * 0.37).sin() * 2.0)
            .collect();
        let gaps = (0..count * 6)
            .map(|k| [1.0, 0.5, 1.7, 1.25][k % 4])
            .collect();
        (samples, gaps)
    }

    /// Outputs in input order and bit-identical to one window at a time,
    /// with and without gaps, over more windows than threads.
    #[test]
    fn batch_equals_one_at_a_time() {
        let bytes = model_bytes();
        let model = Model::from_bytes(&bytes).unwrap();
        let net = model.net();
        // Not a multiple of the lanes: the last windows run one at a time.
        let count = 302;
        let (samples, gaps) = windows(count);
        // Every window with the same irregular gaps: run in lanes too.
        let shared: Vec<f32> = (0..count)
            .flat_map(|_| [1.0, 0.5, 1.7, 1.25, 0.3, 2.0])
            .collect();
        for gaps in [Some(&gaps[..]), Some(&shared[..]), None] {
            let mut batch = vec![0f32; count * 4];
            let n = run_windows(&net, &samples, gaps, &mut batch).unwrap();
            assert_eq!(n, count);
            // Another capacity than the batch picks: the bits do not depend on it.
            let mut runner = Runner::<64>::new(&net).unwrap();
            for i in 0..count {
                let mut one = [0f32; 4];
                let g = gaps.map(|g| &g[i * 6..(i + 1) * 6]);
                runner
                    .run_window(&net, &samples[i * 12..(i + 1) * 12], g, &mut one)
                    .unwrap();
                let got = &batch[i * 4..(i + 1) * 4];
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    one.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "window {i}"
                );
            }
            assert!(batch.iter().any(|v| *v != batch[0]), "outputs all equal");
        }
    }

    /// [`HostLayers`], alone and in lanes, gives [`Net`]'s bits for every
    /// solver, a classifier, every activation and layer widths that fill
    /// panels of each size in part (3, 5, 17, 40 outputs).
    #[test]
    fn host_layers_equal_net() {
        let cases = [
            (
                SolverKind::Euler,
                Task::Forecast { horizon: 1 },
                &[(40, Activation::Tanh), (17, Activation::Relu)][..],
            ),
            (
                SolverKind::Rk4,
                Task::Classify { classes: 5 },
                &[(5, Activation::Relu)][..],
            ),
            (
                SolverKind::Midpoint,
                Task::Forecast { horizon: 3 },
                &[(32, Activation::Tanh), (32, Activation::Tanh)][..],
            ),
            (SolverKind::Nag, Task::Classify { classes: 3 }, &[][..]),
        ];
        let (samples, gaps) = windows(40);
        for (kind, task, hidden) in cases {
            let bytes = model_with(kind, task, hidden);
            let model = Model::from_bytes(&bytes).unwrap();
            let net = model.net();
            let host = HostLayers::new(net);
            let mut by_net = Runner::<64>::new(&net).unwrap();
            let mut by_host = Runner::<64>::new(&net).unwrap();
            let len = net.output_len;
            for (x, g) in samples.chunks(12).zip(gaps.chunks(6)) {
                let (mut a, mut b) = ([0f32; 8], [0f32; 8]);
                by_net.run_window(&net, x, Some(g), &mut a[..len]).unwrap();
                by_host
                    .run_window(&host, x, Some(g), &mut b[..len])
                    .unwrap();
                assert_eq!(
                    a.map(f32::to_bits),
                    b.map(f32::to_bits),
                    "{kind:?} {hidden:?}"
                );
            }
            // In lanes (regular gaps): the same bits as `Net` alone.
            let mut batch = vec![0f32; 40 * len];
            run_windows(&net, &samples, None, &mut batch).unwrap();
            for (x, got) in samples.chunks(12).zip(batch.chunks(len)) {
                let mut one = [0f32; 8];
                by_net.run_window(&net, x, None, &mut one[..len]).unwrap();
                let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(got), bits(&one[..len]), "{kind:?} {hidden:?}");
            }
        }
    }

    /// The first failing window in input order is named, whichever thread
    /// meets a failure first; bad lengths and capacities are refused.
    #[test]
    fn errors_name_the_first_failing_window() {
        let bytes = model_bytes();
        let model = Model::from_bytes(&bytes).unwrap();
        let net = model.net();
        let count = 200;
        let (mut samples, gaps) = windows(count);
        for i in [37, 150, 190] {
            samples[i * 12 + 5] = f32::NAN;
        }
        let mut out = vec![0f32; count * 4];
        let err = run_windows(&net, &samples, Some(&gaps), &mut out).unwrap_err();
        assert_eq!(
            err,
            BatchError::Run {
                window: 37,
                error: RunError::NonFiniteSample {
                    sample: 2,
                    channel: 1
                }
            }
        );
        // In lanes (shared gaps) a failing lane reruns its group one window
        // at a time, so the same window and error are named.
        let err = run_windows(&net, &samples, None, &mut out).unwrap_err();
        assert!(matches!(err, BatchError::Run { window: 37, .. }), "{err}");
        let cases = [
            (
                &samples[..12 * count - 1],
                Some(&gaps[..]),
                4 * count,
                "samples",
            ),
            (&samples[..], Some(&gaps[1..]), 4 * count, "gaps"),
            (&samples[..], None, 4 * count - 1, "outputs"),
        ];
        for (samples, gaps, out_len, what) in cases {
            let err = run_windows(&net, samples, gaps, &mut out[..out_len]).unwrap_err();
            assert!(
                matches!(err, BatchError::Length { what: w, .. } if w == what),
                "{what}: {err}"
            );
        }
        // Wider than any file can ask for: no runner holds it.
        let wide = crate::build::Net {
            state_dim: MAX_WIDTH + 1,
            ..net
        };
        let err = run_windows(&wide, &samples, None, &mut out).unwrap_err();
        assert!(matches!(err, BatchError::Load(LoadError::Capacity { .. })));
    }

    /// A lane that diverges (a state bound some windows cross) names the
    /// same first window and error as one window at a time, for every
    /// solver and with or without shared gaps; the other windows' outputs
    /// are those of one window at a time.
    #[test]
    fn a_diverging_lane_names_its_window() {
        let count = 64;
        let (samples, _) = windows(count);
        // Bounds some windows, not all, cross: a lane diverges beside others.
        let mut partial = 0;
        for kind in [SolverKind::Nag, SolverKind::Rk4] {
            let bytes = model_with(
                kind,
                Task::Forecast { horizon: 2 },
                &[(8, Activation::Tanh)],
            );
            let model = Model::from_bytes(&bytes).unwrap();
            for bound in [0.05, 0.2, 0.5, 1.0] {
                let net = Net {
                    state_bound: bound,
                    ..model.net()
                };
                let mut runner = Runner::<64>::new(&net).unwrap();
                let mut expected = Vec::new();
                let mut first = None;
                let mut failures = 0;
                for i in 0..count {
                    let mut one = [0f32; 4];
                    match runner.run_window(&net, &samples[i * 12..(i + 1) * 12], None, &mut one) {
                        Ok(_) => expected.extend(one),
                        Err(error) => {
                            failures += 1;
                            first = first.or(Some(BatchError::Run { window: i, error }));
                            expected.extend([f32::NAN; 4]);
                        }
                    }
                }
                partial += usize::from(failures > 0 && failures < count);
                let mut out = vec![0f32; count * 4];
                match (run_windows(&net, &samples, None, &mut out), first) {
                    (Err(got), Some(first)) => assert_eq!(got, first, "{kind:?} {bound}"),
                    (Ok(n), None) => {
                        assert_eq!(n, count);
                        assert_eq!(
                            out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                            expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        );
                    }
                    (got, first) => {
                        assert_eq!(got.err(), first, "{kind:?} {bound}");
                    }
                }
            }
        }
        assert!(partial > 0, "no bound splits the windows");
    }
}
