//! The model's trainable parameters on dfdx tensors: the layers, the vector
//! field, their sizes, their initialisation, and flat access for the
//! optimiser and the exporter.

use crate::engine::solver::SolverChoice;
use crate::engine::tensor::{M, V};
use dfdx::prelude::*;
use nagode::format::Activation;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One dense layer; the weight is stored transposed (`[inputs][outputs]`) so
/// the forward pass is `x W + b` with no permute op.
#[derive(Clone, Debug)]
pub struct Dense {
    /// `W^T`, `[inputs][outputs]`.
    pub wt: M,
    /// Bias, `[outputs]`.
    pub b: V,
    /// Activation after the affine map.
    pub act: Activation,
}

impl Dense {
    fn new(
        dev: &Cpu,
        rng: &mut StdRng,
        inputs: usize,
        outputs: usize,
        act: Activation,
        gain: f32,
    ) -> Self {
        // Glorot-uniform, scaled by `gain` (small for the last field layer so
        // the initial dynamics are gentle).
        let limit = gain * (6.0 / (inputs + outputs) as f32).sqrt();
        let w: Vec<f32> = (0..inputs * outputs)
            .map(|_| rng.gen_range(-limit..limit))
            .collect();
        Dense {
            wt: dev.tensor_from_vec(w, (inputs, outputs)),
            b: dev.tensor_from_vec(vec![0.0; outputs], (outputs,)),
            act,
        }
    }
    /// Inputs of the layer.
    pub fn inputs(&self) -> usize {
        self.wt.shape().0
    }
    /// Outputs of the layer.
    pub fn outputs(&self) -> usize {
        self.wt.shape().1
    }
}

/// The vector field `f([y, e])`: the first layer's weight is split into
/// its `y` rows and its `e` rows so the `e` part is computed for all samples
/// in one matrix product before the solver loop.
#[derive(Clone, Debug)]
pub struct Field {
    /// First layer, `y` part: `W_y^T`, `[D][H1]`.
    pub wy: M,
    /// First layer, `e` part and bias.
    pub first: Dense,
    /// The remaining layers (the last one maps to `D`, identity activation).
    pub rest: Vec<Dense>,
}

impl Field {
    /// Random initial field on the state and an input term of `inputs`
    /// channels: drawn as one first layer on `[y, e]`, then split.
    fn new(dev: &Cpu, rng: &mut StdRng, arch: &Arch, inputs: usize) -> Self {
        let d = arch.state_dim;
        let h1 = arch.hidden.first().copied().unwrap_or(d);
        let first_act = if arch.hidden.is_empty() {
            Activation::Identity
        } else {
            Activation::Tanh
        };
        let gain = if arch.hidden.is_empty() { 0.1 } else { 1.0 };
        let whole = Dense::new(dev, rng, d + inputs, h1, first_act, gain);
        let all = whole.wt.as_vec();
        let wy = dev.tensor_from_vec(all[..d * h1].to_vec(), (d, h1));
        let first = Dense {
            wt: dev.tensor_from_vec(all[d * h1..].to_vec(), (inputs, h1)),
            b: whole.b,
            act: first_act,
        };
        let mut rest = Vec::new();
        let mut w = h1;
        for &h in arch.hidden.iter().skip(1) {
            rest.push(Dense::new(dev, rng, w, h, Activation::Tanh, 1.0));
            w = h;
        }
        if !arch.hidden.is_empty() {
            rest.push(Dense::new(dev, rng, w, d, Activation::Identity, 0.1));
        }
        Field { wy, first, rest }
    }
}

/// Sizes of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct Arch {
    /// Input channels.
    pub channels: usize,
    /// Encoder output sizes (tanh); empty = no encoder.
    pub encoder: Vec<usize>,
    /// ODE state dimension `D`.
    pub state_dim: usize,
    /// Hidden widths of the field (tanh).
    pub hidden: Vec<usize>,
    /// Hidden widths of the decoder (tanh) before the output layer.
    pub decoder: Vec<usize>,
    /// Decoder outputs.
    pub outputs: usize,
    /// Samples per window (ResNet needs it: one block per sample).
    pub window: usize,
}

impl Arch {
    /// Width of the encoder output `E`.
    pub fn enc_dim(&self) -> usize {
        self.encoder.last().copied().unwrap_or(self.channels)
    }
}

/// All trainable parameters.
#[derive(Clone, Debug)]
pub struct Net {
    /// The sizes.
    pub arch: Arch,
    /// Encoder layers.
    pub encoder: Vec<Dense>,
    /// The field (one per sample for the ResNet baseline).
    pub fields: Vec<Field>,
    /// Decoder layers.
    pub decoder: Vec<Dense>,
}

impl Net {
    /// Zeroes the output layer's weights and sets its bias to `bias`: the
    /// model then outputs `bias` whatever its input (a forecaster starts
    /// as the naive forecast, see `window::init_weights`).
    pub fn set_constant_output(&mut self, bias: &[f32]) {
        if let Some(last) = self.decoder.last_mut() {
            let n = last.wt.as_vec().len();
            last.wt.copy_from(&vec![0.0; n]);
            last.b.copy_from(bias);
        }
    }

    /// Random initial parameters, deterministic in `seed`.
    pub fn new(dev: &Cpu, arch: &Arch, solver: SolverChoice, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut encoder = Vec::new();
        let mut width = arch.channels;
        for &w in &arch.encoder {
            encoder.push(Dense::new(dev, &mut rng, width, w, Activation::Tanh, 1.0));
            width = w;
        }
        let copies = if solver == SolverChoice::Resnet {
            arch.window
        } else {
            1
        };
        let fields = (0..copies)
            .map(|_| Field::new(dev, &mut rng, arch, width))
            .collect();
        let mut decoder = Vec::new();
        let mut w = arch.state_dim;
        for &h in &arch.decoder {
            decoder.push(Dense::new(dev, &mut rng, w, h, Activation::Tanh, 1.0));
            w = h;
        }
        decoder.push(Dense::new(
            dev,
            &mut rng,
            w,
            arch.outputs,
            Activation::Identity,
            1.0,
        ));
        Net {
            arch: arch.clone(),
            encoder,
            fields,
            decoder,
        }
    }

    /// Every parameter tensor, in a fixed order (the optimiser's order).
    pub fn params(&self) -> Vec<Param<'_>> {
        let mut out = Vec::new();
        for d in &self.encoder {
            out.push(Param::M(&d.wt));
            out.push(Param::V(&d.b));
        }
        for f in &self.fields {
            out.push(Param::M(&f.wy));
            out.push(Param::M(&f.first.wt));
            out.push(Param::V(&f.first.b));
            for d in &f.rest {
                out.push(Param::M(&d.wt));
                out.push(Param::V(&d.b));
            }
        }
        for d in &self.decoder {
            out.push(Param::M(&d.wt));
            out.push(Param::V(&d.b));
        }
        out
    }

    /// Mutable access in the same order as [`Net::params`].
    pub fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        let mut out = Vec::new();
        for d in &mut self.encoder {
            out.push(ParamMut::M(&mut d.wt));
            out.push(ParamMut::V(&mut d.b));
        }
        for f in &mut self.fields {
            out.push(ParamMut::M(&mut f.wy));
            out.push(ParamMut::M(&mut f.first.wt));
            out.push(ParamMut::V(&mut f.first.b));
            for d in &mut f.rest {
                out.push(ParamMut::M(&mut d.wt));
                out.push(ParamMut::V(&mut d.b));
            }
        }
        for d in &mut self.decoder {
            out.push(ParamMut::M(&mut d.wt));
            out.push(ParamMut::V(&mut d.b));
        }
        out
    }

    /// `(loss(θ + eps e) - loss(θ - eps e)) / 2 eps` for element `i` of
    /// parameter `k`: the tests' reference for a backward pass.
    #[cfg(test)]
    pub(crate) fn central_difference(
        &self,
        k: usize,
        i: usize,
        eps: f32,
        loss: impl Fn(&Net) -> f64,
    ) -> f64 {
        let values = self.params()[k].values();
        let probe = |delta: f32| {
            let mut moved = self.clone();
            let mut v = values.clone();
            v[i] += delta;
            moved.params_mut()[k].set(&v);
            loss(&moved)
        };
        (probe(eps) - probe(-eps)) / (2.0 * eps as f64)
    }

    /// Number of trainable scalars.
    pub fn param_count(&self) -> usize {
        self.params().iter().map(|p| p.len()).sum()
    }
}

/// A parameter tensor, read-only.
pub enum Param<'a> {
    /// A matrix.
    M(&'a M),
    /// A vector.
    V(&'a V),
}

impl Param<'_> {
    /// Number of scalars.
    pub fn len(&self) -> usize {
        match self {
            Param::M(t) => t.shape().num_elements(),
            Param::V(t) => t.shape().num_elements(),
        }
    }
    /// Whether it has no scalars.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Its gradient from `grads` (zeros if it took no part).
    pub fn grad(&self, grads: &mut Gradients<f32, Cpu>) -> Vec<f32> {
        let g = match self {
            Param::M(t) => grads.get_or_alloc_mut(*t).map(|g| g.to_vec()),
            Param::V(t) => grads.get_or_alloc_mut(*t).map(|g| g.to_vec()),
        };
        g.unwrap_or_else(|_| vec![0.0; self.len()])
    }
    /// Its values.
    pub fn values(&self) -> Vec<f32> {
        match self {
            Param::M(t) => t.as_vec(),
            Param::V(t) => t.as_vec(),
        }
    }
}

/// A parameter tensor, writable.
pub enum ParamMut<'a> {
    /// A matrix.
    M(&'a mut M),
    /// A vector.
    V(&'a mut V),
}

impl ParamMut<'_> {
    /// Overwrites the values.
    pub fn set(&mut self, v: &[f32]) {
        match self {
            ParamMut::M(t) => t.copy_from(v),
            ParamMut::V(t) => t.copy_from(v),
        }
    }
}
