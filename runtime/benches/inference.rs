//! Host cost of the runtime: model loading, one prediction of a
//! 2 -> 32 -> 32 -> 2 tanh field over 64 steps for each solver, and one
//! window of the rich test model. `cargo bench -p nagode --bench inference`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{encode, layer, rich_file, weights};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use nagode::format::{Activation, Clock, Header, SolverKind, SolverSpec, Startup, Task};
use nagode::normalise::Reference;
use nagode::{Model, Session};

/// Two channels, no encoder, `D = 2`, field `[y, e] (4) -> 32 tanh -> 32
/// tanh -> 2`, 64 steps: `window` samples, each gap cut into `64 / window`
/// steps.
fn field_model(kind: SolverKind, window: u16) -> Vec<u8> {
    let h = Header {
        task: Task::Forecast { horizon: 1 },
        channels: 2,
        window,
        sample_dt: 6.4 / f32::from(window),
        mean: heapless::Vec::from_slice(&[0.0, 0.0]).unwrap(),
        std: heapless::Vec::from_slice(&[1.0, 1.0]).unwrap(),
        state_dim: 2,
        encoder: heapless::Vec::new(),
        field: heapless::Vec::from_slice(&[
            layer(4, 32, Activation::Tanh),
            layer(32, 32, Activation::Tanh),
            layer(32, 2, Activation::Identity),
        ])
        .unwrap(),
        decoder: heapless::Vec::from_slice(&[layer(2, 2, Activation::Identity)]).unwrap(),
        solver: SolverSpec {
            kind,
            mu: 0.5,
            consistency_scaling: true,
            startup: Startup::Euler,
            max_step: 0.1,
        },
        state_bound: 1e6,
        time_unit: 1.0,
        clock: Clock::Number,
        reference: Reference::Global,
    };
    encode(&h, &weights(&h, 3, 0.3))
}

fn benches(c: &mut Criterion) {
    let rich = rich_file();
    c.bench_function("load rich model (751 B)", |b| {
        b.iter(|| Model::from_bytes(black_box(&rich)).unwrap().output_len())
    });
    for kind in [
        SolverKind::Nag,
        SolverKind::Euler,
        SolverKind::Midpoint,
        SolverKind::Rk4,
    ] {
        let bytes = field_model(kind, 1);
        let model = Model::from_bytes(&bytes).unwrap();
        let mut session = Session::<32, 2>::new(&model).unwrap();
        let mut out = [0.0f32; 2];
        c.bench_function(&format!("2-32-32-2 tanh field, 64 {kind:?} steps"), |b| {
            b.iter(|| {
                session
                    .run_window(black_box(&[0.3, -0.2]), None, &mut out)
                    .unwrap()
            })
        });
    }
    // Where a window's time goes beyond the steps: 64 samples of one step
    // each (the per-sample work: normalise, hold, gap checks) against one
    // sample of 64 steps, and the capacity `STATE` (the trainer's host
    // sessions hold 512).
    let per_sample = field_model(SolverKind::Nag, 64);
    let model = Model::from_bytes(&per_sample).unwrap();
    let samples: Vec<f32> = (0..128).map(|k| (k as f32 * 0.1).sin()).collect();
    let mut small = Session::<32, 128>::new(&model).unwrap();
    let mut out = [0.0f32; 2];
    c.bench_function("2-32-32-2 tanh field, 64 samples x 1 Nag step", |b| {
        b.iter(|| {
            small
                .run_window(black_box(&samples), None, &mut out)
                .unwrap()
        })
    });
    let mut wide = Session::<512, 128>::new(&model).unwrap();
    c.bench_function(
        "2-32-32-2 tanh field, 64 samples x 1 Nag step, STATE 512",
        |b| {
            b.iter(|| {
                wide.run_window(black_box(&samples), None, &mut out)
                    .unwrap()
            })
        },
    );
    #[cfg(feature = "std")]
    host(c, &model, &samples);
    let model = Model::from_bytes(&rich).unwrap();
    let mut session = Session::<8, 10>::new(&model).unwrap();
    let x = [0.1f32; 10];
    let mut out = [0.0f32; 6];
    c.bench_function("rich model window (5 samples x 3 NAG steps)", |b| {
        b.iter(|| session.run_window(black_box(&x), None, &mut out).unwrap())
    });
}

/// The host path (`--features std`): the same window on
/// `nagode::batch::HostLayers` (column panels), and 256 of them in a batch.
#[cfg(feature = "std")]
fn host(c: &mut Criterion, model: &Model<'_>, samples: &[f32]) {
    use nagode::batch::{self, HostLayers};
    use nagode::Runner;
    let net = model.net();
    let layers = HostLayers::new(net);
    let mut runner = Runner::<32>::new(&net).unwrap();
    let mut out = [0.0f32; 2];
    c.bench_function(
        "2-32-32-2 tanh field, 64 samples x 1 Nag step, HostLayers",
        |b| {
            b.iter(|| {
                runner
                    .run_window(&layers, black_box(samples), None, &mut out)
                    .unwrap()
            })
        },
    );
    let many: Vec<f32> = (0..256).flat_map(|_| samples.iter().copied()).collect();
    let mut outs = vec![0.0f32; 512];
    c.bench_function("256 windows of 64 samples x 1 Nag step, batch", |b| {
        b.iter(|| batch::run_windows(&net, black_box(&many), None, &mut outs).unwrap())
    });
}

criterion_group!(runtime, benches);
criterion_main!(runtime);
