//! Runs a [`QuantNet`] over a window with fixed buffers: the integer
//! counterpart of [`crate::Runner`].

use super::arith::{pow2, sat16, shift_round, Fx};
use super::dense::run_layers;
use super::kernel;
use super::model::QuantNet;
use crate::error::{LoadError, RunError};
use crate::header::MAX_CHANNELS;
use crate::net::Net;
use crate::normalise;
use crate::session::{check_sample, references, solver_gap};
use crate::solver::{model_gap, nag_h, substeps, velocity_rescale, SolverKind, Startup};

/// Fraction bits the `i32` state keeps below the field's input exponent.
pub const STATE_FRAC: i32 = 8;

/// The buffers of one integer pass (`S` as [`crate::Runner`]'s `STATE`:
/// [`crate::build::Net::state_capacity_needed`]). RAM: `6 * S * 4 + 3 * S * 2`
/// bytes, plus about 50 for the kept gap rules and state bound.
pub struct QuantRunner<const S: usize> {
    /// The last gap's rules, kept across passes: they are `f32` work
    /// (soft-float calls on the M0), and regular sampling repeats one gap.
    rules: Option<(GapKey, u32, Step)>,
    /// The state bound in state units, with the `f32` bound's bits and
    /// the state exponent it was computed for.
    bound: Option<(u32, i32, i32)>,
    y: [i32; S],
    v: [i32; S],
    z: [i32; S],
    held: [i32; S],
    acc: [i32; S],
    f: [i32; S],
    e: [i16; S],
    a: [i16; S],
    b: [i16; S],
}

/// One sub-step's constants, from a gap.
#[derive(Clone, Copy)]
struct Step {
    /// The sub-step `H`, as `f32` (for the rescale rule) and fixed point.
    big: f32,
    big_fx: Fx,
    /// NAG's gradient step `h`.
    h: Fx,
    /// NAG's momentum (0 for Euler).
    mu: Fx,
}

/// Everything [`Step::for_gap`] reads, as bits: equal keys give equal
/// rules.
#[derive(Clone, Copy, PartialEq, Eq)]
struct GapKey {
    gap: u32,
    max_step: u32,
    mu: u32,
    kind: SolverKind,
    consistency_scaling: bool,
}

impl GapKey {
    fn new(n: &Net<'_>, gap: f32) -> Self {
        Self {
            gap: gap.to_bits(),
            max_step: n.solver.max_step.to_bits(),
            mu: n.solver.mu.to_bits(),
            kind: n.solver.kind,
            consistency_scaling: n.solver.consistency_scaling,
        }
    }
}

impl Step {
    /// The sub-steps `m` of a gap (solver time) and their constants.
    fn for_gap(n: &Net<'_>, gap: f32) -> Result<(u32, Self), RunError> {
        let (m, big) = substeps(gap, n.solver.max_step)?;
        let (h, mu) = match n.solver.kind {
            SolverKind::Nag => (
                nag_h(n.solver.mu, n.solver.consistency_scaling, big),
                Fx::from_f32(n.solver.mu),
            ),
            _ => (big, Fx::ZERO),
        };
        Ok((
            m,
            Self {
                big,
                big_fx: Fx::from_f32(big),
                h: Fx::from_f32(h),
                mu,
            },
        ))
    }
}

impl<const S: usize> QuantRunner<S> {
    /// Buffers for `net`; refuses a model wider than `S`.
    pub fn new(net: &QuantNet<'_>) -> Result<Self, LoadError> {
        LoadError::fits("STATE", S, net.net.state_capacity_needed())?;
        Ok(Self {
            rules: None,
            bound: None,
            y: [0; S],
            v: [0; S],
            z: [0; S],
            held: [0; S],
            acc: [0; S],
            f: [0; S],
            e: [0; S],
            a: [0; S],
            b: [0; S],
        })
    }

    /// Runs a whole window (`window * channels` values ordered `[n][c]`,
    /// `gaps` as [`crate::Runner::run_window`]: user units, `gaps[0]`
    /// ignored, `None` = nominal) and writes the de-quantised outputs.
    pub fn run_window(
        &mut self,
        net: &QuantNet<'_>,
        samples: &[f32],
        gaps: Option<&[f32]>,
        out: &mut [f32],
    ) -> Result<usize, RunError> {
        let n = &net.net;
        let c = n.channels;
        for (what, expected, found) in [
            ("samples", n.window_capacity_needed(), samples.len()),
            ("gaps", n.window, gaps.map_or(n.window, <[f32]>::len)),
        ] {
            if expected != found {
                return Err(RunError::WindowLength {
                    what,
                    expected,
                    found,
                });
            }
        }
        for (i, sample) in samples.chunks(c.max(1)).enumerate() {
            check_sample(n, sample, i)?;
        }
        for gap in gaps.unwrap_or_default().iter().skip(1) {
            solver_gap(n, *gap)?;
        }
        let given = gaps.unwrap_or_default().iter().skip(1);
        let gaps = given.map(|g| model_gap(*g, n.time_unit));
        let last = samples.get(samples.len().saturating_sub(c)..);
        let r = references(n, last.unwrap_or_default().iter().copied());
        self.run(net, samples.iter().copied(), gaps, &r, out)
    }

    /// One pass over a checked window: `values` ordered `[n][c]`, `gaps` the
    /// gaps of samples 1.. in solver time (nominal where it ends), `r` each
    /// channel's reference.
    pub(super) fn run(
        &mut self,
        net: &QuantNet<'_>,
        values: impl Iterator<Item = f32>,
        gaps: impl Iterator<Item = f32>,
        r: &[f32; MAX_CHANNELS],
        out: &mut [f32],
    ) -> Result<usize, RunError> {
        let n = &net.net;
        let c = n.channels.min(MAX_CHANNELS);
        if out.len() < n.output_len {
            return Err(RunError::OutputTooSmall {
                need: n.output_len,
                found: out.len(),
            });
        }
        let d = n.state_dim;
        // Only the state's components: the rest are never read.
        self.v.iter_mut().take(d).for_each(|v| *v = 0);
        self.y.iter_mut().take(d).for_each(|y| *y = 0);
        let state = net.state_exp() + STATE_FRAC;
        let bound = self.state_bound(n, state);
        let mut last_big: Option<f32> = None;
        let mut values = values;
        let mut gaps = core::iter::once(n.sample_dt).chain(gaps);
        let mut sample_values = [0.0f32; MAX_CHANNELS];
        for sample in 0..n.window {
            let gap = gaps.next().unwrap_or(n.sample_dt);
            let (m, step) = self.rules(n, gap)?;
            let held = sample_values.get_mut(..c).unwrap_or_default();
            held.iter_mut()
                .zip(values.by_ref())
                .for_each(|(x, v)| *x = v);
            self.hold(net, held, r);
            for k in 0..m {
                self.step(net, &step, &mut last_big, state);
                let y = self.y.get(..d).unwrap_or_default();
                if let Some((component, v)) = y.iter().enumerate().find(|(_, v)| v.abs() > bound) {
                    return Err(RunError::Diverged {
                        sample,
                        step: k,
                        component,
                        value: *v as f32 * pow2(-state),
                        bound: n.state_bound,
                    });
                }
            }
        }
        self.decode(net, r, out)
    }

    /// The sub-steps and constants of `gap`, computed once per distinct
    /// gap (and model) and kept.
    fn rules(&mut self, n: &Net<'_>, gap: f32) -> Result<(u32, Step), RunError> {
        let key = GapKey::new(n, gap);
        match self.rules {
            Some((k, m, step)) if k == key => Ok((m, step)),
            _ => {
                let (m, step) = Step::for_gap(n, gap)?;
                self.rules = Some((key, m, step));
                Ok((m, step))
            }
        }
    }

    /// `n.state_bound` at the state exponent `state`, computed once per
    /// model and kept.
    fn state_bound(&mut self, n: &Net<'_>, state: i32) -> i32 {
        let key = n.state_bound.to_bits();
        match self.bound {
            Some((k, s, bound)) if k == key && s == state => bound,
            _ => {
                let bound = n.state_bound * pow2(state);
                // `as` saturates: a bound beyond i32 means "never".
                let bound = if bound >= 2147483648.0 {
                    i32::MAX
                } else {
                    bound as i32
                };
                self.bound = Some((key, state, bound));
                bound
            }
        }
    }

    /// Quantises one sample, encodes it and writes the held part of the
    /// field's first layer.
    fn hold(&mut self, net: &QuantNet<'_>, values: &[f32], r: &[f32; MAX_CHANNELS]) {
        let n = &net.net;
        let scale = pow2(i32::from(net.input_exp));
        let stats = n.mean.iter().zip(n.std).zip(r);
        for (q, (x, ((m, s), r))) in self.a.iter_mut().zip(values.iter().zip(stats)) {
            let t = normalise::input(*x, *r, *m, *s) * scale;
            // `as` saturates (and sends NaN to 0); then to ±32767.
            let rounded = if t >= 0.0 { t + 0.5 } else { t - 0.5 };
            *q = sat16(rounded as i32);
        }
        let e = run_layers(
            net.encoder,
            n.channels,
            &mut self.a,
            &mut self.b,
            &mut self.acc,
        );
        self.e.iter_mut().zip(e).for_each(|(d, s)| *d = *s);
        if let Some(first) = net.field.first() {
            let held = self.held.get_mut(..first.outputs).unwrap_or_default();
            let w = first.weights.get(n.state_dim..).unwrap_or_default();
            let e = self.e.get(..n.encoded_dim()).unwrap_or_default();
            kernel::mat_vec_bias(w, first.inputs, e, first.bias, held);
        }
    }

    /// One NAG (or Euler) sub-step of the state.
    fn step(&mut self, net: &QuantNet<'_>, step: &Step, last_big: &mut Option<f32>, state: i32) {
        let n = &net.net;
        let d = n.state_dim;
        let nag = n.solver.kind == SolverKind::Nag;
        let euler_start = nag && last_big.is_none() && n.solver.startup == Startup::Euler;
        match *last_big {
            // Bits, not an f32 compare (a soft-float call on the M0): `H` is
            // positive and finite, so they agree.
            Some(old) if nag && old.to_bits() != step.big.to_bits() => {
                let factor = Fx::from_f32(velocity_rescale(old, step.big));
                self.v
                    .iter_mut()
                    .take(d)
                    .for_each(|v| *v = factor.mul(*v, 0));
            }
            _ => {}
        }
        *last_big = Some(step.big);
        let (h, mu) = if euler_start {
            (step.big_fx, Fx::ZERO)
        } else {
            (step.h, step.mu)
        };
        for ((z, y), v) in self.z.iter_mut().zip(&self.y).zip(&self.v).take(d) {
            *z = y.saturating_add(mu.mul(*v, 0));
        }
        self.field(net);
        let last = net.field.last();
        let state_f = self.y.iter_mut().zip(&mut self.v).zip(&self.f).take(d);
        for (o, ((y, v), f)) in state_f.enumerate() {
            let (f, fe) = last.map_or((0, 0), |l| l.value(o, *f));
            *v = mu.mul(*v, 0).saturating_add(h.mul(f, fe - state));
            *y = y.saturating_add(*v);
        }
    }

    /// The field at `self.z`: the last layer's accumulators into `self.f`
    /// (activated by the caller with [`QDense::value`](super::dense::QDense::value)).
    fn field(&mut self, net: &QuantNet<'_>) {
        let d = net.net.state_dim;
        for (x, z) in self.a.iter_mut().zip(&self.z).take(d) {
            *x = sat16(shift_round(*z, STATE_FRAC));
        }
        let Some((first, rest)) = net.field.split_first() else {
            return;
        };
        let acc: &mut [i32] = if rest.is_empty() {
            &mut self.f
        } else {
            &mut self.acc
        };
        let acc = acc.get_mut(..first.outputs).unwrap_or_default();
        acc.iter_mut().zip(&self.held).for_each(|(a, h)| *a = *h);
        let y = self.a.get(..d).unwrap_or_default();
        kernel::mat_vec_acc(first.weights, first.inputs, y, acc);
        let Some((last, mid)) = rest.split_last() else {
            return;
        };
        first.finish(acc, &mut self.b);
        let x = run_layers(mid, first.outputs, &mut self.b, &mut self.a, &mut self.acc);
        last.acc(x, self.f.get_mut(..last.outputs).unwrap_or_default());
    }

    /// The decoder on the final state, de-quantised and de-normalised.
    fn decode(
        &mut self,
        net: &QuantNet<'_>,
        r: &[f32; MAX_CHANNELS],
        out: &mut [f32],
    ) -> Result<usize, RunError> {
        let n = &net.net;
        let d = n.state_dim;
        for (x, y) in self.a.iter_mut().zip(&self.y).take(d) {
            *x = sat16(shift_round(*y, STATE_FRAC));
        }
        let len = n.output_len;
        let out = out.get_mut(..len).unwrap_or_default();
        match net.decoder.split_last() {
            Some((last, mid)) => {
                let x = run_layers(mid, d, &mut self.a, &mut self.b, &mut self.acc);
                let acc = self.f.get_mut(..last.outputs).unwrap_or_default();
                last.acc(x, acc);
                for (o, (dst, a)) in out.iter_mut().zip(acc.iter()).enumerate() {
                    let (v, e) = last.value(o, *a);
                    *dst = v as f32 * pow2(-e);
                }
            }
            // No decoder: the state is the output.
            None => {
                let scale = pow2(-(net.state_exp() + STATE_FRAC));
                for (dst, y) in out.iter_mut().zip(&self.y) {
                    *dst = *y as f32 * scale;
                }
            }
        }
        if n.forecast {
            for row in out.chunks_mut(n.channels.max(1)) {
                let stats = n.mean.iter().zip(n.std).zip(r);
                for (o, ((m, s), r)) in row.iter_mut().zip(stats) {
                    *o = normalise::output(*o, *r, *m, *s);
                }
            }
        }
        match out.iter().position(|v| !v.is_finite()) {
            Some(index) => Err(RunError::NonFiniteOutput { index }),
            None => Ok(len),
        }
    }
}
