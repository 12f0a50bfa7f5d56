//! Continuous normalising flows: the log-density of a sample, for an
//! anomaly score (`-log p`) on the device.
//!
//! A flow file ([`ModelKind::Flow`], format 5) holds a field
//! `f(z, t) = MLP([z, t])`, `z` of dimension `D = state_dim`. The sample `x`
//! is `z(0)`; the file's solver carries it over `[0, T]` (`T = sample_dt`,
//! 1 for the trainer's flows) in [`substeps`]`(T, max_step)` equal steps
//! `H`, step `j` starting at `t = j H`: the trainer's grid and order, so the
//! runtime integrates what training integrated. With it goes
//! `a' = tr(∂f/∂z)`, `a(0) = 0`, and
//!
//! ```text
//! log p(x) = log N(z(T); 0, I) + a(T) = -|z(T)|² / 2 - D log(2π) / 2 + a(T)
//! ```
//!
//! The trace is exact, by forward mode: for each direction `e_i` the
//! tangent `J e_i` goes through the layers (the weights, then the
//! activation's slope: `1 - tanh²` from the layer's own output, 0 or 1 for
//! ReLU), and only its `i`-th entry is kept, so the last layer computes one
//! row per direction. One evaluation therefore costs the field's own
//! multiplies plus about `D` passes through the hidden layers:
//! [`Flow::macs_per_sample`] counts them.
//!
//! [`Flow::log_density`] takes a sample in the flow's own units. A
//! version-7 file also stores the data scaling and an anomaly threshold
//! ([`FlowMeta`]): [`Flow::score`] takes the raw readings (`window`
//! consecutive samples of every channel, ordered `[k][c]`), scales each by
//! its channel's offset and scale, and returns `-log p` of the scaled
//! point; [`Flow::is_anomaly`] compares a score with the threshold. A
//! version-5 flow has neither: its `score` is `-log_density` of the sample
//! as given and it has no threshold.
//!
//! No heap, no panic: every buffer is a const-capacity array in [`Flow`].

use crate::error::{LoadError, RunError};
use crate::field::{activate, mat_vec_acc, Dense, MlpField};
use crate::format;
use crate::header::{Activation, FlowMeta, ModelKind, MAX_LAYERS};
use crate::model::Model;
use crate::net::Net;
use crate::solver::{evals_per_step, substeps, AnySolver, Solver, VectorField};

/// `log(2π) / 2`: the standard normal's constant per dimension.
pub const HALF_LOG_TAU: f32 = 0.918_938_5;

/// A flow file: the [`Model`] checked as a flow.
#[derive(Clone, Debug)]
pub struct FlowModel<'a> {
    model: Model<'a>,
    meta: Option<FlowMeta>,
}

impl<'a> FlowModel<'a> {
    /// Loads a version-5 or -7 flow with every check of
    /// [`Model::from_bytes`]; refuses any other kind of model with
    /// [`LoadError::WrongKind`].
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, LoadError> {
        match format::model_kind(bytes)? {
            ModelKind::Flow => Ok(Self {
                model: Model::from_bytes(bytes)?,
                meta: format::flow_meta(bytes)?,
            }),
            _ => Err(LoadError::WrongKind {
                reason: "not a flow: the file holds a window, streaming or static-input model",
            }),
        }
    }

    /// The model.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }

    /// The scaling and threshold of a version-7 file (`None` for version 5).
    pub fn meta(&self) -> Option<&FlowMeta> {
        self.meta.as_ref()
    }
}

/// The augmented field `[z, a] -> [f(z, t), tr(∂f/∂z)]` over fixed buffers.
struct TraceField<'m, const STATE: usize> {
    layers: &'m [Dense<'m>],
    /// `D`.
    dim: usize,
    /// Each layer's output, then (in place) its activation's slope.
    h: [[f32; STATE]; MAX_LAYERS],
    /// The tangent through the hidden layers, ping-pong.
    u: [f32; STATE],
    v: [f32; STATE],
}

/// `act'` at a layer output `h` (tanh: `1 - h²`, as the trainer computes it).
fn slope(activation: Activation, h: f32) -> f32 {
    match activation {
        Activation::Identity => 1.0,
        Activation::Tanh => 1.0 - h * h,
        Activation::Relu => f32::from(u8::from(h > 0.0)),
    }
}

impl<const STATE: usize> TraceField<'_, STATE> {
    /// The field's output into `out`; leaves every layer's slope in `h`.
    fn forward(&mut self, t: f32, z: &[f32], out: &mut [f32]) {
        let Some(first) = self.layers.first() else {
            return;
        };
        let mut width = 0;
        for (k, layer) in self.layers.iter().enumerate() {
            let Some((done, rest)) = self.h.split_at_mut_checked(k) else {
                return;
            };
            let (Some(dst), prev) = (rest.first_mut(), done.last()) else {
                return;
            };
            let dst = dst.get_mut(..layer.outputs).unwrap_or_default();
            match prev {
                // `W [z, t] + b`: the time column and the bias first
                // (`MlpField::hold`), then `W_z z`.
                None => {
                    MlpField::hold(self.layers, self.dim, &[t], dst);
                    mat_vec_acc(first.weights(), first.inputs, z, dst);
                    activate(first.activation, dst);
                }
                Some(prev) => layer.apply(prev.get(..layer.inputs).unwrap_or_default(), dst),
            }
            width = layer.outputs;
        }
        let last = self.layers.len().saturating_sub(1);
        if let Some(h) = self.h.get(last) {
            out.iter_mut()
                .zip(h.get(..width).unwrap_or_default())
                .for_each(|(o, h)| *o = *h);
        }
        for (layer, h) in self.layers.iter().zip(self.h.iter_mut()) {
            for x in h.get_mut(..layer.outputs).unwrap_or_default() {
                *x = slope(layer.activation, *x);
            }
        }
    }

    /// `(J e_i)_i` from the slopes [`Self::forward`] left.
    fn diagonal(&mut self, i: usize) -> f32 {
        let Some((first, rest)) = self.layers.split_first() else {
            return 0.0;
        };
        let mut slopes = self.h.iter();
        let s0 = slopes.next().map_or(&[][..], |s| s.as_slice());
        let Some((last, middle)) = rest.split_last() else {
            // One layer: the diagonal entry of its own matrix.
            let w = first.weight(i, i).unwrap_or(0.0);
            return w * s0.get(i).copied().unwrap_or(0.0);
        };
        // `W e_i` is column `i` of the first layer.
        for (o, (u, s)) in self.u.iter_mut().zip(s0).take(first.outputs).enumerate() {
            *u = first.weight(o, i).unwrap_or(0.0) * *s;
        }
        let (mut u, mut v) = (&mut self.u, &mut self.v);
        for (layer, s) in middle.iter().zip(slopes.by_ref()) {
            let (src, dst) = (
                u.get(..layer.inputs).unwrap_or_default(),
                v.get_mut(..layer.outputs).unwrap_or_default(),
            );
            dst.fill(0.0);
            mat_vec_acc(layer.weights(), layer.inputs, src, dst);
            dst.iter_mut().zip(s).for_each(|(d, s)| *d *= *s);
            core::mem::swap(&mut u, &mut v);
        }
        // Only row `i` of the last layer.
        let mut acc = [0.0f32];
        let row = last.weights().skip(i.saturating_mul(last.inputs));
        let src = u.get(..last.inputs).unwrap_or_default();
        mat_vec_acc(row, last.inputs, src, &mut acc);
        let s = slopes.next().and_then(|s| s.get(i)).copied().unwrap_or(0.0);
        acc[0] * s
    }
}

impl<const STATE: usize> VectorField for TraceField<'_, STATE> {
    fn dim(&self) -> usize {
        self.dim.saturating_add(1)
    }

    fn eval(&mut self, t: f32, y: &[f32], out: &mut [f32]) {
        let (Some(z), Some((trace, f))) = (y.get(..self.dim), out.split_last_mut()) else {
            return;
        };
        self.forward(t, z, f);
        let mut sum = 0.0;
        for i in 0..self.dim {
            sum += self.diagonal(i);
        }
        *trace = sum;
    }
}

/// A flow's log-density evaluator (see the module docs).
///
/// `STATE` is the widest layer; `DIM` the augmented state `[z, a]`, at
/// least `state_dim + 1` (defaults to `STATE`). RAM is about
/// `((MAX_LAYERS + 2) * STATE + 8 * DIM) * 4` bytes.
pub struct Flow<'m, const STATE: usize, const DIM: usize = STATE> {
    net: Net<'m>,
    field: TraceField<'m, STATE>,
    solver: AnySolver<DIM>,
    y: [f32; DIM],
    meta: Option<FlowMeta>,
}

impl<'m, const STATE: usize, const DIM: usize> Flow<'m, STATE, DIM> {
    /// An evaluator for a loaded flow.
    pub fn new(model: &'m FlowModel<'m>) -> Result<Self, LoadError> {
        let mut flow = Self::from_net(model.model.net())?;
        flow.meta = model.meta.clone();
        Ok(flow)
    }

    /// An evaluator for a flow's [`Net`] (its kind checked by the caller,
    /// as [`FlowModel::from_bytes`] does); refuses one wider than the
    /// capacities.
    pub fn from_net(net: Net<'m>) -> Result<Self, LoadError> {
        let widest = net.field.iter().map(|l| l.outputs).max().unwrap_or(0);
        LoadError::fits("STATE", STATE, widest.max(net.state_dim))?;
        LoadError::fits("DIM", DIM, net.state_dim.saturating_add(1))?;
        Ok(Self {
            field: TraceField {
                layers: net.field,
                dim: net.state_dim,
                h: [[0.0; STATE]; MAX_LAYERS],
                u: [0.0; STATE],
                v: [0.0; STATE],
            },
            solver: AnySolver::from_spec(&net.solver),
            net,
            y: [0.0; DIM],
            meta: None,
        })
    }

    /// The anomaly score of raw readings: `-log p` of the point scaled by
    /// the file's [`FlowMeta`] (as given for a version-5 flow). Refuses what
    /// [`Self::log_density`] refuses.
    pub fn score(&mut self, raw: &[f32]) -> Result<f32, RunError> {
        let d = self.net.state_dim;
        let mut point = [0.0f32; DIM];
        let scaled = point.get_mut(..raw.len()).ok_or(RunError::SampleLength {
            expected: d,
            found: raw.len(),
        })?;
        match &self.meta {
            Some(m) => {
                let channels = m.offset.iter().zip(&m.scale).cycle();
                for ((y, x), (o, s)) in scaled.iter_mut().zip(raw).zip(channels) {
                    *y = (x - o) / s;
                }
            }
            None => scaled.copy_from_slice(raw),
        }
        Ok(-self.log_density(scaled)?)
    }

    /// Whether `score` is above the file's threshold (`None` for a
    /// version-5 flow, which has none).
    pub fn is_anomaly(&self, score: f32) -> Option<bool> {
        self.threshold().map(|t| score > t)
    }

    /// The file's anomaly threshold on [`Self::score`] (`None` for version 5).
    pub fn threshold(&self) -> Option<f32> {
        self.meta.as_ref().map(|m| m.threshold)
    }

    /// Multiply-adds of one [`Self::log_density`]: per evaluation the
    /// field's layers (the time column included) and, per direction, the
    /// first layer's column, the middle layers and one row of the last.
    pub fn macs_per_sample(&self) -> u64 {
        let layers = self.net.field;
        let size = |l: &Dense<'_>| l.inputs.saturating_mul(l.outputs);
        let forward = layers.iter().map(size).fold(0usize, usize::saturating_add);
        let tangent = match layers.split_first() {
            Some((first, rest)) => match rest.split_last() {
                Some((last, middle)) => middle.iter().map(size).fold(
                    first.outputs.saturating_add(last.inputs),
                    usize::saturating_add,
                ),
                None => 1,
            },
            None => 0,
        };
        let per_eval = forward.saturating_add(self.net.state_dim.saturating_mul(tangent));
        let steps = substeps(self.net.sample_dt, self.net.solver.max_step).map_or(0, |(m, _)| m);
        u64::from(steps)
            .saturating_mul(u64::from(evals_per_step(self.net.solver.kind)))
            .saturating_mul(u64::try_from(per_eval).unwrap_or(u64::MAX))
    }

    /// `log p(sample)` under the flow (nats); `-log p` is the anomaly score.
    /// Refuses a sample of the wrong length or with a non-finite value, and
    /// a state that leaves the file's bound ([`RunError::Diverged`] with
    /// `sample` 0 and the step).
    pub fn log_density(&mut self, sample: &[f32]) -> Result<f32, RunError> {
        let d = self.net.state_dim;
        if sample.len() != d {
            return Err(RunError::SampleLength {
                expected: d,
                found: sample.len(),
            });
        }
        if let Some(channel) = sample.iter().position(|x| !x.is_finite()) {
            return Err(RunError::NonFiniteSample { sample: 0, channel });
        }
        let (steps, h) = substeps(self.net.sample_dt, self.net.solver.max_step)?;
        let y = self.y.get_mut(..=d).ok_or(RunError::Dimension {
            state: d.saturating_add(1),
            field: self.field.dim(),
            capacity: DIM,
        })?;
        let (a, z) = y.split_last_mut().ok_or(RunError::Dimension {
            state: 0,
            field: self.field.dim(),
            capacity: DIM,
        })?;
        z.copy_from_slice(sample);
        *a = 0.0;
        self.solver.reset();
        let bound = self.net.state_bound;
        for step in 0..steps {
            self.solver.step(&mut self.field, step as f32 * h, h, y)?;
            if let Some((component, &value)) = y
                .iter()
                .enumerate()
                .find(|(_, v)| !(v.is_finite() && v.abs() <= bound))
            {
                return Err(RunError::Diverged {
                    sample: 0,
                    step,
                    component,
                    value,
                    bound,
                });
            }
        }
        let (a, z) = y
            .split_last()
            .ok_or(RunError::NonFiniteOutput { index: 0 })?;
        let mut sq = 0.0;
        for zi in z.iter() {
            sq += zi * zi;
        }
        let nll = (0.5 * sq - a) + d as f32 * HALF_LOG_TAU;
        let log_p = -nll;
        if log_p.is_finite() {
            Ok(log_p)
        } else {
            Err(RunError::NonFiniteOutput { index: 0 })
        }
    }
}
