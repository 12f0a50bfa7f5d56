//! A model bound to fixed buffers: stream samples in, get predictions out.

use crate::error::{LoadError, RunError};
use crate::header::MAX_CHANNELS;
use crate::model::Model;
use crate::net::{Layers, Net};
use crate::normalise::{self, Reference};
use crate::solver::{euler_step, model_gap, substeps, AnySolver, Solver, SolverKind, VectorField};
use heapless::Deque;

/// Runs a model with no heap: every buffer is sized by the capacities.
///
/// * `STATE` — the widest vector the model needs
///   ([`Net::state_capacity_needed`]): layer inputs and outputs.
/// * `WINDOW` — sample values the ring holds, at least `window * channels`
///   ([`Net::window_capacity_needed`]).
/// * `DIM` — the ODE state and the solver's stages, at least the model's
///   `state_dim` (defaults to `STATE`; a build script sizes it exactly).
///
/// RAM is about `(4 * STATE + 6 * DIM + 2 * WINDOW) * 4` bytes.
///
/// `L` is where the layers come from: a loaded [`Model`]'s [`Net`] (the
/// default), or a build script's generated [`Layers`] type.
pub struct Session<
    'm,
    const STATE: usize,
    const WINDOW: usize,
    const DIM: usize = STATE,
    L: Layers<'m> = Net<'m>,
> {
    model: L,
    _net: core::marker::PhantomData<Net<'m>>,
    ring: SampleRing<WINDOW>,
    runner: Runner<STATE, DIM>,
}

impl<'m, const STATE: usize, const WINDOW: usize, const DIM: usize>
    Session<'m, STATE, WINDOW, DIM>
{
    /// A session for a loaded `model`; refuses a model wider or longer than
    /// the capacities.
    pub fn new(model: &'m Model<'m>) -> Result<Self, LoadError> {
        Self::with_layers(model.net())
    }

    /// A session for any [`Net`] (a compiled model's `static`, say).
    pub fn from_net(net: Net<'m>) -> Result<Self, LoadError> {
        Self::with_layers(net)
    }
}

impl<'m, const STATE: usize, const WINDOW: usize, const DIM: usize, L: Layers<'m>>
    Session<'m, STATE, WINDOW, DIM, L>
{
    /// A session running `model`'s layers (a generated [`Layers`] type).
    pub fn with_layers(model: L) -> Result<Self, LoadError> {
        Ok(Self {
            ring: SampleRing::new(model.net())?,
            runner: Runner::new(model.net())?,
            model,
            _net: core::marker::PhantomData,
        })
    }

    /// The model this session runs.
    pub fn net(&self) -> &Net<'m> {
        self.model.net()
    }

    /// Samples currently held (at most the model's window).
    pub fn len(&self) -> usize {
        self.ring.len(self.net())
    }

    /// Whether no sample is held.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Whether a full window is held, so [`Self::predict`] can run.
    pub fn is_ready(&self) -> bool {
        self.ring.is_ready(self.net())
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        self.ring.clear();
    }

    /// Appends a sample taken `dt` after the previous one, `dt` in the
    /// user's time units ([`Net::nominal_gap`] for regular sampling; the
    /// oldest sample drops out once the window is full). On error nothing
    /// changes.
    pub fn push(&mut self, sample: &[f32], dt: f32) -> Result<(), RunError> {
        self.ring.push(self.model.net(), sample, dt)
    }

    /// Runs the held window from a zero state into `out`; returns the values
    /// written. The held samples are kept.
    pub fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        let net = self.model.net();
        let reference = self.ring.reference(net)?;
        check_out(net, out)?;
        let (values, gaps) = self.ring.window();
        self.runner.run(&self.model, values, gaps, &reference, out)
    }

    /// [`Runner::run_window`] with this session's model and buffers,
    /// ignoring and keeping the held samples.
    pub fn run_window(
        &mut self,
        samples: &[f32],
        gaps: Option<&[f32]>,
        out: &mut [f32],
    ) -> Result<usize, RunError> {
        self.runner.run_window(&self.model, samples, gaps, out)
    }
}

/// The last window of samples and their gaps (already in solver time), for
/// the sessions that predict from a window ([`Session`] and the integer
/// path's): one place for the ring's checks and order.
pub(crate) struct SampleRing<const WINDOW: usize> {
    samples: Deque<f32, WINDOW>,
    gaps: Deque<f32, WINDOW>,
}

impl<const WINDOW: usize> SampleRing<WINDOW> {
    /// An empty ring; refuses a model whose window needs more than `WINDOW`.
    pub(crate) fn new(net: &Net<'_>) -> Result<Self, LoadError> {
        LoadError::fits("WINDOW", WINDOW, net.window_capacity_needed())?;
        Ok(Self {
            samples: Deque::new(),
            gaps: Deque::new(),
        })
    }

    /// Samples held.
    pub(crate) fn len(&self, net: &Net<'_>) -> usize {
        self.samples.len().checked_div(net.channels).unwrap_or(0)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub(crate) fn is_ready(&self, net: &Net<'_>) -> bool {
        self.len(net) >= net.window
    }

    pub(crate) fn clear(&mut self) {
        self.samples.clear();
        self.gaps.clear();
    }

    /// Checks the sample and its gap, then appends them (the oldest drops
    /// out once the window is full); on error nothing changes.
    pub(crate) fn push(&mut self, net: &Net<'_>, sample: &[f32], dt: f32) -> Result<(), RunError> {
        check_sample(net, sample, 0)?;
        let dt = solver_gap(net, dt)?;
        if self.is_ready(net) {
            for _ in 0..net.channels {
                self.samples.pop_front();
            }
            self.gaps.pop_front();
        }
        // Cannot overflow: `new` checked WINDOW >= window * channels.
        for v in sample {
            let _ = self.samples.push_back(*v);
        }
        let _ = self.gaps.push_back(dt);
        Ok(())
    }

    /// Each channel's reference from the newest sample; [`RunError::NotReady`]
    /// before a full window.
    pub(crate) fn reference(&self, net: &Net<'_>) -> Result<[f32; MAX_CHANNELS], RunError> {
        if !self.is_ready(net) {
            return Err(RunError::NotReady {
                have: self.len(net),
                need: net.window,
            });
        }
        let last = self
            .samples
            .iter()
            .skip(self.samples.len().saturating_sub(net.channels));
        Ok(references(net, last.copied()))
    }

    /// The held values in order, and the gaps of samples 1.. (the first gap
    /// reaches outside the window: the model uses `sample_dt` for it).
    pub(crate) fn window(
        &self,
    ) -> (
        impl Iterator<Item = f32> + '_,
        impl Iterator<Item = f32> + '_,
    ) {
        (
            self.samples.iter().copied(),
            self.gaps.iter().skip(1).copied(),
        )
    }
}

/// The buffers of one pass over a window, without a sample ring: what a
/// device that hands over whole windows needs (`S` and `D` as `STATE` and
/// `DIM` for [`Session`]).
pub struct Runner<const S: usize, const D: usize = S> {
    solver: AnySolver<D>,
    y: [f32; D],
    e: [f32; S],
    held: [f32; S],
    a: [f32; S],
    b: [f32; S],
}

impl<const S: usize, const D: usize> Runner<S, D> {
    /// Buffers for `net`; refuses a model wider than `S` or with a state
    /// wider than `D`.
    pub fn new(net: &Net<'_>) -> Result<Self, LoadError> {
        LoadError::fits("STATE", S, net.state_capacity_needed())?;
        LoadError::fits("DIM", D, net.state_dim)?;
        Ok(Self {
            solver: AnySolver::from_spec(&net.solver),
            y: [0.0; D],
            e: [0.0; S],
            held: [0.0; S],
            a: [0.0; S],
            b: [0.0; S],
        })
    }

    /// Runs a whole window given at once (`window * channels` values ordered
    /// `[n][c]`). `gaps[n]` is the time since sample `n - 1` in the user's
    /// units (`gaps[0]` is ignored: the window's first step is `sample_dt`);
    /// `None` means every gap is the nominal one. `model` (a [`Net`], or a
    /// generated [`Layers`] type) must be the one the runner was made for.
    pub fn run_window<'m>(
        &mut self,
        model: &impl Layers<'m>,
        samples: &[f32],
        gaps: Option<&[f32]>,
        out: &mut [f32],
    ) -> Result<usize, RunError> {
        let net = model.net();
        let c = net.channels;
        let expected = net.window_capacity_needed();
        if samples.len() != expected {
            return Err(RunError::WindowLength {
                what: "samples",
                expected,
                found: samples.len(),
            });
        }
        for (n, sample) in samples.chunks(c.max(1)).enumerate() {
            check_sample(net, sample, n)?;
        }
        if let Some(gaps) = gaps {
            if gaps.len() != net.window {
                return Err(RunError::WindowLength {
                    what: "gaps",
                    expected: net.window,
                    found: gaps.len(),
                });
            }
            for gap in gaps.iter().skip(1) {
                solver_gap(net, *gap)?;
            }
        }
        check_out(net, out)?;
        let given = gaps.unwrap_or_default().iter().skip(1);
        let gaps = given
            .map(|g| model_gap(*g, net.time_unit))
            .chain(core::iter::repeat(net.sample_dt));
        let last = samples.iter().skip(samples.len().saturating_sub(c));
        let reference = references(net, last.copied());
        self.run(model, samples.iter().copied(), gaps, &reference, out)
    }
}

/// A gap in the user's units, checked, as solver time. Refuses a gap that
/// is not finite and positive before and after the conversion, or that needs
/// too many sub-steps.
pub(crate) fn solver_gap(net: &Net<'_>, gap: f32) -> Result<f32, RunError> {
    if !(gap.is_finite() && gap > 0.0) {
        return Err(RunError::BadGap { gap });
    }
    let converted = model_gap(gap, net.time_unit);
    substeps(converted, net.solver.max_step)?;
    Ok(converted)
}

/// Per-channel reference `r` of a window from its last sample: 0 for
/// [`Reference::Global`], the last value for [`Reference::LastValue`].
pub(crate) fn references(net: &Net<'_>, last: impl Iterator<Item = f32>) -> [f32; MAX_CHANNELS] {
    let mut r = [0.0f32; MAX_CHANNELS];
    if net.reference == Reference::LastValue {
        r.iter_mut().zip(last).for_each(|(r, x)| *r = x);
    }
    r
}

pub(crate) fn check_sample(net: &Net<'_>, sample: &[f32], n: usize) -> Result<(), RunError> {
    if sample.len() != net.channels {
        return Err(RunError::SampleLength {
            expected: net.channels,
            found: sample.len(),
        });
    }
    match sample.iter().position(|v| !v.is_finite()) {
        Some(channel) => Err(RunError::NonFiniteSample { sample: n, channel }),
        None => Ok(()),
    }
}

pub(crate) fn check_out(net: &Net<'_>, out: &[f32]) -> Result<(), RunError> {
    if out.len() < net.output_len {
        Err(RunError::OutputTooSmall {
            need: net.output_len,
            found: out.len(),
        })
    } else {
        Ok(())
    }
}

impl<const S: usize, const D: usize> Runner<S, D> {
    /// One pass: zero state, every sample's gap integrated with its encoding
    /// held, then the decoder. `gaps` yields the gaps of samples 1.. in
    /// solver time; `reference` is each channel's `r` for
    /// [`normalise::input`] and [`normalise::output`].
    fn run<'m>(
        &mut self,
        model: &impl Layers<'m>,
        values: impl Iterator<Item = f32>,
        gaps: impl Iterator<Item = f32>,
        reference: &[f32; MAX_CHANNELS],
        out: &mut [f32],
    ) -> Result<usize, RunError> {
        let net = model.net();
        let mut values = values;
        let mut gaps = core::iter::once(net.sample_dt).chain(gaps);
        self.start();
        let mut t = 0.0f32;
        for sample in 0..net.window {
            let gap = gaps.next().unwrap_or(net.sample_dt);
            let sample_values = values.by_ref().take(net.channels);
            t = self.advance(model, sample_values, gap, reference, t, sample)?;
        }
        self.read_out(model, reference, out)
    }

    /// Zero state and a fresh solver (no NAG velocity).
    pub(crate) fn start(&mut self) {
        self.solver.reset();
        self.y.fill(0.0);
    }

    /// The per-sample step, shared by windows and streams: the sample's
    /// values normalised, encoded and held while the state is integrated
    /// over `gap` (solver time) from time `t` in the model's sub-steps, each
    /// checked against the divergence bound. Returns the time after the gap;
    /// `sample` only names the sample in [`RunError::Diverged`].
    pub(crate) fn advance<'m>(
        &mut self,
        model: &impl Layers<'m>,
        values: impl Iterator<Item = f32>,
        gap: f32,
        reference: &[f32; MAX_CHANNELS],
        t: f32,
        sample: usize,
    ) -> Result<f32, RunError> {
        let net = model.net();
        let (c, d, e_dim) = (net.channels, net.state_dim, net.encoded_dim());
        let bound = net.state_bound;
        let mut values = values;
        let stats = net.mean.iter().zip(net.std).zip(reference);
        for (x, ((m, s), r)) in self.a.iter_mut().zip(stats).take(c) {
            // A missing value (never: callers pass whole samples) reads as the mean.
            let v = values.next().unwrap_or(*m + *r);
            *x = normalise::input(v, *r, *m, *s);
        }
        let encoded = model.encode(&mut self.a, &mut self.b);
        for (e, v) in self.e.iter_mut().zip(encoded) {
            *e = *v;
        }
        let e = self.e.get(..e_dim).unwrap_or_default();
        let held = model.hold(e, &mut self.held);
        let held = self.held.get(..held).unwrap_or_default();
        let mut field = FieldOf {
            model,
            held,
            dim: d,
            a: &mut self.a,
            b: &mut self.b,
        };
        let y = self.y.get_mut(..d).unwrap_or_default();
        let (m, h) = substeps(gap, net.solver.max_step)?;
        // Euler steps here, its stage in `e` (the encoding is held by now):
        // a compiled model's kind is a constant, so an Euler one links no
        // solver state or tableau (the minimal image's flash and stack).
        let euler = net.solver.kind == SolverKind::Euler;
        let mut t = t;
        for step in 0..m {
            if euler {
                euler_step(&mut field, t, h, y, &mut self.e);
            } else {
                self.solver.step(&mut field, t, h, y)?;
            }
            t += h;
            if let Some((component, value)) = y
                .iter()
                .enumerate()
                .find(|(_, v)| v.is_nan() || v.abs() > bound)
            {
                return Err(RunError::Diverged {
                    sample,
                    step,
                    component,
                    value: *value,
                    bound,
                });
            }
        }
        Ok(t)
    }

    /// The decoder on the current state into `out` (de-normalised with
    /// `reference` for a forecast); returns the values written.
    pub(crate) fn read_out<'m>(
        &mut self,
        model: &impl Layers<'m>,
        reference: &[f32; MAX_CHANNELS],
        out: &mut [f32],
    ) -> Result<usize, RunError> {
        let net = model.net();
        let (c, d) = (net.channels, net.state_dim);
        let y = self.y.get(..d).unwrap_or_default();
        self.a.iter_mut().zip(y).for_each(|(a, y)| *a = *y);
        let decoded = model.decode(&mut self.a, &mut self.b);
        let len = net.output_len;
        let out = out.get_mut(..len).unwrap_or_default();
        for (o, v) in out.iter_mut().zip(decoded) {
            *o = *v;
        }
        if net.forecast {
            for row in out.chunks_mut(c.max(1)) {
                let stats = net.mean.iter().zip(net.std).zip(reference);
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

/// A model's field with one sample's encoding held, as the solvers see it.
struct FieldOf<'s, L> {
    model: &'s L,
    held: &'s [f32],
    dim: usize,
    a: &'s mut [f32],
    b: &'s mut [f32],
}

impl<'m, L: Layers<'m>> VectorField for FieldOf<'_, L> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn eval(&mut self, _t: f32, y: &[f32], out: &mut [f32]) {
        self.model.field(self.held, y, self.a, self.b, out);
    }
}
