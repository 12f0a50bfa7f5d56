//! Static inputs through an ODE block: one feature vector in, one class
//! out (the ODE-Net setting: a neural ODE as a continuous-depth ResNet).
//!
//! A static-input file ([`ModelKind::Static`], format 6; its shape in
//! [`crate::header`]) holds an encoder, a field and a decoder. For a
//! feature vector `x` of `channels` values:
//!
//! ```text
//! h(0) = encoder(x)                      (state_dim values)
//! h'   = f([h, t])  on [0, 1]            N steps of the file's solver
//! logits = decoder(h(1))                 (classes values)
//! ```
//!
//! `N` is [`substeps`]`(1, max_step)`, each step `H = 1 / N`, step `j`
//! starting at `t = j H` (NAG evaluates its look-ahead at `t`, the
//! Runge–Kutta methods at `t + c_i H`). The features are fed raw: the
//! trainer folds their scaling into the first encoder layer, so the file
//! stores no normalisation. Because the model is continuous in depth, the
//! same file runs with fewer (or more) steps: [`Classifier::classify_steps`]
//! is that dial, trading accuracy for time on the device.
//!
//! The layers come from a loaded file's [`Net`] or from a build script's
//! generated [`Layers`] type (`nagode::codegen`'s `Compiled`): the same sums
//! in the same order, so the same bits. No heap, no panic: every buffer is
//! a const-capacity array in [`Classifier`].

use crate::error::{LoadError, RunError};
use crate::format;
use crate::header::ModelKind;
use crate::model::Model;
use crate::net::{Layers, Net};
use crate::session::{check_out, check_sample};
use crate::solver::{substeps, AnySolver, Solver, VectorField};

/// A static-input file: the [`Model`] checked as one.
#[derive(Clone, Debug)]
pub struct StaticModel<'a> {
    model: Model<'a>,
}

impl<'a> StaticModel<'a> {
    /// Loads a version-6 static-input classifier with every check of
    /// [`Model::from_bytes`]; refuses any other kind with
    /// [`LoadError::WrongKind`].
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, LoadError> {
        match format::model_kind(bytes)? {
            ModelKind::Static => Ok(Self {
                model: Model::from_bytes_any(bytes)?,
            }),
            ModelKind::Window | ModelKind::Streaming { .. } | ModelKind::Flow => {
                Err(LoadError::WrongKind {
                    reason: "not a static-input classifier: the file holds a window, \
                             streaming or flow model",
                })
            }
        }
    }

    /// The model.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }
}

/// The field `f([h, t])` over a model's layers: the time column and the
/// bias are the held part, computed at every evaluation's `t`.
struct TimedField<'s, L> {
    model: &'s L,
    dim: usize,
    held: &'s mut [f32],
    a: &'s mut [f32],
    b: &'s mut [f32],
}

impl<'m, L: Layers<'m>> VectorField for TimedField<'_, L> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn eval(&mut self, t: f32, y: &[f32], out: &mut [f32]) {
        let n = self.model.hold(&[t], self.held);
        let held = self.held.get(..n).unwrap_or_default();
        self.model.field(held, y, self.a, self.b, out);
    }
}

/// Classifies feature vectors with fixed buffers (see the module docs).
///
/// * `STATE` — the widest vector ([`Net::state_capacity_needed`]: the
///   features, every layer's inputs and outputs).
/// * `DIM` — the ODE state and the solver's stages, at least `state_dim`
///   (defaults to `STATE`).
///
/// RAM is about `(3 * STATE + 6 * DIM) * 4` bytes. `L` is where the layers
/// come from: a loaded [`Model`]'s [`Net`] (the default) or a generated
/// [`Layers`] type.
pub struct Classifier<'m, const STATE: usize, const DIM: usize = STATE, L: Layers<'m> = Net<'m>> {
    model: L,
    _net: core::marker::PhantomData<Net<'m>>,
    solver: AnySolver<DIM>,
    y: [f32; DIM],
    held: [f32; STATE],
    a: [f32; STATE],
    b: [f32; STATE],
}

impl<'m, const STATE: usize, const DIM: usize> Classifier<'m, STATE, DIM> {
    /// A classifier for a loaded static-input model; refuses one wider than
    /// the capacities.
    pub fn new(model: &'m StaticModel<'m>) -> Result<Self, LoadError> {
        Self::with_layers(model.model.net())
    }

    /// A classifier for a static-input model's [`Net`] (a compiled model's
    /// `static`; its kind checked by the build script that wrote it).
    pub fn from_net(net: Net<'m>) -> Result<Self, LoadError> {
        Self::with_layers(net)
    }
}

impl<'m, const STATE: usize, const DIM: usize, L: Layers<'m>> Classifier<'m, STATE, DIM, L> {
    /// A classifier running `model`'s layers (a generated [`Layers`] type).
    pub fn with_layers(model: L) -> Result<Self, LoadError> {
        let net = model.net();
        LoadError::fits("STATE", STATE, net.state_capacity_needed())?;
        LoadError::fits("DIM", DIM, net.state_dim)?;
        Ok(Self {
            solver: AnySolver::from_spec(&net.solver),
            model,
            _net: core::marker::PhantomData,
            y: [0.0; DIM],
            held: [0.0; STATE],
            a: [0.0; STATE],
            b: [0.0; STATE],
        })
    }

    /// The model this classifier runs.
    pub fn net(&self) -> &Net<'m> {
        self.model.net()
    }

    /// The steps the file integrates with: `substeps(1, max_step)` (0 for a
    /// net whose step the solver would refuse).
    pub fn steps(&self) -> u32 {
        let net = self.model.net();
        substeps(net.sample_dt, net.solver.max_step).map_or(0, |(m, _)| m)
    }

    /// Classifies `input` (`channels` raw features) with the file's steps:
    /// writes the class logits into `logits[..classes]` and returns the
    /// class with the largest logit (the first of equal ones). On error
    /// `logits` may hold partial values; nothing else changes.
    pub fn classify(&mut self, input: &[f32], logits: &mut [f32]) -> Result<usize, RunError> {
        let net = self.model.net();
        let (m, h) = substeps(net.sample_dt, net.solver.max_step)?;
        self.run(input, m, h, logits)
    }

    /// [`Self::classify`] with `steps` equal steps over `[0, 1]` instead of
    /// the file's (the depth dial: fewer steps, fewer instructions). The
    /// file's own count gives [`Self::classify`]'s bits.
    pub fn classify_steps(
        &mut self,
        input: &[f32],
        steps: u32,
        logits: &mut [f32],
    ) -> Result<usize, RunError> {
        let dt = self.model.net().sample_dt;
        // `steps = 0` gives an infinite step, which `substeps` refuses.
        let (m, h) = substeps(dt, dt / steps as f32)?;
        self.run(input, m, h, logits)
    }

    /// Checks, encodes, integrates `m` steps of `h` and decodes.
    fn run(
        &mut self,
        input: &[f32],
        m: u32,
        h: f32,
        logits: &mut [f32],
    ) -> Result<usize, RunError> {
        let net = self.model.net();
        check_sample(net, input, 0)?;
        check_out(net, logits)?;
        let d = net.state_dim;
        for (a, x) in self.a.iter_mut().zip(input) {
            *a = *x;
        }
        let encoded = self.model.encode(&mut self.a, &mut self.b);
        let y = self.y.get_mut(..d).unwrap_or_default();
        y.iter_mut().zip(encoded).for_each(|(y, e)| *y = *e);
        self.solver.reset();
        let mut field = TimedField {
            model: &self.model,
            dim: d,
            held: &mut self.held,
            a: &mut self.a,
            b: &mut self.b,
        };
        let bound = net.state_bound;
        for step in 0..m {
            self.solver.step(&mut field, step as f32 * h, h, y)?;
            if let Some((component, value)) = y
                .iter()
                .enumerate()
                .find(|(_, v)| v.is_nan() || v.abs() > bound)
            {
                return Err(RunError::Diverged {
                    sample: 0,
                    step,
                    component,
                    value: *value,
                    bound,
                });
            }
        }
        self.a.iter_mut().zip(y.iter()).for_each(|(a, y)| *a = *y);
        let decoded = self.model.decode(&mut self.a, &mut self.b);
        let out = logits.get_mut(..net.output_len).unwrap_or_default();
        out.iter_mut().zip(decoded).for_each(|(o, v)| *o = *v);
        if let Some(index) = out.iter().position(|v| !v.is_finite()) {
            return Err(RunError::NonFiniteOutput { index });
        }
        Ok(argmax(out))
    }
}

/// The index of the largest value (the first of equal ones; 0 if empty).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if values.get(best).is_some_and(|b| v > b) {
            best = i;
        }
    }
    best
}
