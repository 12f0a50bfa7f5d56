//! Flows (format 5, `ModelKind::Flow`): the log-density against an
//! independent f64 integration with the exact Jacobian, normalisation of a
//! 1-D density, the kind checks and the refused inputs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::flow_header;
use nagode::flow::{Flow, FlowModel};
use nagode::format::{self, Activation, Header, ModelKind, Names, SolverKind, Startup};
use nagode::solver::{substeps, ExplicitRk, Nag, Solver, VectorField};
use nagode::{EncodeError, LoadError, RunError};

fn encode_flow(h: &Header, w: &[f32]) -> Vec<u8> {
    common::encode_kind(h, ModelKind::Flow, w)
}

/// The same flow in f64: tanh from `std`, the full Jacobian by the chain
/// rule (matrices, not tangents), its trace summed.
struct Reference64 {
    /// Per layer: `(W [out][in], b, tanh?)`.
    layers: Vec<(Vec<Vec<f64>>, Vec<f64>, bool)>,
    dim: usize,
}

impl Reference64 {
    fn new(h: &Header, w: &[f32]) -> Self {
        let mut at = 0;
        let layers = h
            .field
            .iter()
            .map(|l| {
                let (i, o) = (usize::from(l.inputs), usize::from(l.outputs));
                let m = (0..o)
                    .map(|r| (0..i).map(|c| f64::from(w[at + r * i + c])).collect())
                    .collect();
                let b = (0..o).map(|r| f64::from(w[at + o * i + r])).collect();
                at += o * (i + 1);
                (m, b, l.activation == Activation::Tanh)
            })
            .collect();
        Self {
            layers,
            dim: usize::from(h.state_dim),
        }
    }
}

impl VectorField<f64> for Reference64 {
    fn dim(&self) -> usize {
        self.dim + 1
    }

    fn eval(&mut self, t: f64, y: &[f64], out: &mut [f64]) {
        let d = self.dim;
        let mut x: Vec<f64> = y[..d].iter().copied().chain([t]).collect();
        // d x / d z, starting from [I; 0].
        let mut jac: Vec<Vec<f64>> = (0..=d)
            .map(|r| (0..d).map(|c| f64::from(u8::from(r == c))).collect())
            .collect();
        for (m, b, tanh) in &self.layers {
            let pre: Vec<f64> = m
                .iter()
                .zip(b)
                .map(|(row, b)| b + row.iter().zip(&x).map(|(w, x)| w * x).sum::<f64>())
                .collect();
            x = pre
                .iter()
                .map(|p| if *tanh { p.tanh() } else { *p })
                .collect();
            jac = m
                .iter()
                .zip(&x)
                .map(|(row, h)| {
                    let s = if *tanh { 1.0 - h * h } else { 1.0 };
                    (0..d)
                        .map(|c| s * row.iter().zip(&jac).map(|(w, j)| w * j[c]).sum::<f64>())
                        .collect()
                })
                .collect();
        }
        out[..d].copy_from_slice(&x);
        out[d] = (0..d).map(|i| jac[i][i]).sum();
    }
}

/// One step of the reference's solver at `t`.
type Step = dyn FnMut(&mut Reference64, f64, &mut [f64]);

/// `log p(x)` by the reference with the header's solver and grid.
fn reference_log_density(h: &Header, w: &[f32], x: &[f32]) -> f64 {
    let mut f = Reference64::new(h, w);
    let d = f.dim;
    let mut y: Vec<f64> = x.iter().map(|v| f64::from(*v)).chain([0.0]).collect();
    let (m, step) = substeps(h.sample_dt, h.solver.max_step).unwrap();
    let step = f64::from(step);
    let mut solver: Box<Step> = match h.solver.kind {
        SolverKind::Nag => {
            let mut s = Nag::<16, f64>::new(0.5, true, Startup::ZeroVelocity);
            Box::new(move |f, t, y| s.step(f, t, step, y).unwrap())
        }
        SolverKind::Euler => {
            Box::new(move |f, t, y| ExplicitRk::<16, f64>::euler().step(f, t, step, y).unwrap())
        }
        SolverKind::Midpoint => Box::new(move |f, t, y| {
            ExplicitRk::<16, f64>::midpoint()
                .step(f, t, step, y)
                .unwrap()
        }),
        SolverKind::Rk4 => {
            Box::new(move |f, t, y| ExplicitRk::<16, f64>::rk4().step(f, t, step, y).unwrap())
        }
    };
    for j in 0..m {
        solver(&mut f, f64::from(j) * step, &mut y);
    }
    let sq: f64 = y[..d].iter().map(|z| z * z).sum();
    -0.5 * sq - d as f64 * 0.5 * (2.0 * std::f64::consts::PI).ln() + y[d]
}

/// Every solver, 2-D and 6-D fields of two and three layers: the runtime's
/// forward-mode trace and f32 integration match the f64 reference.
#[test]
fn log_density_matches_an_f64_reference_with_the_full_jacobian() {
    let kinds = [
        SolverKind::Nag,
        SolverKind::Euler,
        SolverKind::Midpoint,
        SolverKind::Rk4,
    ];
    let mut worst = 0f64;
    for (dim, hidden) in [(2u16, &[16u16, 16][..]), (6, &[12, 9][..]), (3, &[7][..])] {
        for (k, kind) in kinds.into_iter().enumerate() {
            let h = flow_header(dim, hidden, kind, 8);
            let w = common::weights(&h, 11 + k as u64, 0.8);
            let bytes = encode_flow(&h, &w);
            let model = FlowModel::from_bytes(&bytes).unwrap();
            let mut flow = Flow::<16>::new(&model).unwrap();
            for p in 0..8 {
                let x: Vec<f32> = (0..dim)
                    .map(|c| 1.5 * (0.9 * p as f32 + 1.7 * f32::from(c)).sin())
                    .collect();
                let got = f64::from(flow.log_density(&x).unwrap());
                let want = reference_log_density(&h, &w, &x);
                let rel = (got - want).abs() / want.abs().max(1.0);
                worst = worst.max(rel);
                assert!(rel < 2e-5, "{dim}-D {kind:?} point {p}: {got} vs {want}");
            }
        }
    }
    eprintln!("worst relative error against f64: {worst:.2e}");
}

/// A 1-D flow integrated finely is a density: `exp(log p)` integrates to 1
/// over the line (the trace has the right sign and the grid runs from the
/// data side to the base side).
#[test]
fn a_fine_one_dimensional_flow_integrates_to_one() {
    let h = flow_header(1, &[8], SolverKind::Rk4, 32);
    let w = common::weights(&h, 5, 1.5);
    let bytes = encode_flow(&h, &w);
    let model = FlowModel::from_bytes(&bytes).unwrap();
    let mut flow = Flow::<8>::new(&model).unwrap();
    let (lo, hi, n) = (-12.0f64, 12.0f64, 4800);
    let dx = (hi - lo) / n as f64;
    let mass: f64 = (0..n)
        .map(|k| {
            let x = (lo + (k as f64 + 0.5) * dx) as f32;
            f64::from(flow.log_density(&[x]).unwrap()).exp() * dx
        })
        .sum();
    // Not the base density's own mass: the flow moved it.
    let moved = flow.log_density(&[0.0]).unwrap() + 0.918_938_5;
    assert!(
        moved.abs() > 0.05,
        "the field barely moves the density: {moved}"
    );
    assert!((mass - 1.0).abs() < 1e-3, "mass {mass}");
}

#[test]
fn kinds_are_kept_apart() {
    let h = flow_header(2, &[8], SolverKind::Nag, 4);
    let w = common::weights(&h, 3, 0.5);
    let bytes = encode_flow(&h, &w);
    assert_eq!(bytes[4], 5, "a flow is format 5");
    assert_eq!(format::model_kind(&bytes).unwrap(), ModelKind::Flow);
    assert!(matches!(
        nagode::stream::StreamModel::from_bytes(&bytes),
        Err(LoadError::WrongKind { .. })
    ));
    let window = common::encode(&h, &w);
    assert!(matches!(
        FlowModel::from_bytes(&window),
        Err(LoadError::WrongKind { .. })
    ));
    let stream = common::encode_kind(&h, ModelKind::Streaming { warmup: 1 }, &w);
    assert!(matches!(
        FlowModel::from_bytes(&stream),
        Err(LoadError::WrongKind { .. })
    ));
    // A model of another shape is not written as a flow.
    let rich = common::rich_header();
    let rw = common::weights(&rich, 1, 0.5);
    assert!(matches!(
        format::encoded_len_with_kind(&rich, ModelKind::Flow, &rw, &Names::NONE),
        Err(EncodeError::Invalid(LoadError::WrongKind { .. }))
    ));
    let mut scaled = h.clone();
    scaled.std[0] = 2.0;
    assert!(matches!(
        format::encoded_len_with_kind(&scaled, ModelKind::Flow, &w, &Names::NONE),
        Err(EncodeError::Invalid(LoadError::WrongKind { .. }))
    ));
}

#[test]
fn bad_samples_and_small_capacities_are_refused() {
    let h = flow_header(3, &[10, 6], SolverKind::Midpoint, 4);
    let w = common::weights(&h, 9, 0.5);
    let bytes = encode_flow(&h, &w);
    let model = FlowModel::from_bytes(&bytes).unwrap();
    let mut flow = Flow::<10, 4>::new(&model).unwrap();
    assert_eq!(
        flow.log_density(&[0.0; 2]),
        Err(RunError::SampleLength {
            expected: 3,
            found: 2
        })
    );
    assert_eq!(
        flow.log_density(&[0.0, f32::NAN, 0.0]),
        Err(RunError::NonFiniteSample {
            sample: 0,
            channel: 1
        })
    );
    let first = flow.log_density(&[0.1, 0.2, 0.3]).unwrap();
    assert_eq!(
        first.to_bits(),
        flow.log_density(&[0.1, 0.2, 0.3]).unwrap().to_bits()
    );
    // 4 steps x 2 evaluations x (forward 4*10 + 10*6 + 6*3, per direction
    // 10 + 10*6 + 6).
    assert_eq!(flow.macs_per_sample(), 8 * (118 + 3 * 76));
    assert!(matches!(
        Flow::<9, 4>::new(&model),
        Err(LoadError::Capacity { what: "STATE", .. })
    ));
    assert!(matches!(
        Flow::<10, 3>::new(&model),
        Err(LoadError::Capacity { what: "DIM", .. })
    ));
}

/// A field that sends the state away is reported, not returned as a number.
#[test]
fn divergence_is_an_error() {
    let mut h = flow_header(2, &[4], SolverKind::Euler, 2);
    h.state_bound = 1.0;
    let w = common::weights(&h, 2, 0.5);
    let bytes = encode_flow(&h, &w);
    let model = FlowModel::from_bytes(&bytes).unwrap();
    let mut flow = Flow::<4>::new(&model).unwrap();
    assert!(matches!(
        flow.log_density(&[3.0, 0.0]),
        Err(RunError::Diverged { sample: 0, .. })
    ));
}
