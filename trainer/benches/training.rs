//! Criterion benches: one training iteration per solver (batch 32, 64 steps,
//! field 2→32→32→2 tanh, damped oscillator), and one 64-sample window of
//! inference through the `nagode` runtime vs the dfdx forward pass of the
//! same model at batch 1, plus model loading.
//!
//! `cargo bench -p trainer --bench training`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use trainer::engine::forward::FieldImpl;
use trainer::engine::solver::SolverChoice;
use trainer::export::host::HostSession;
use trainer::studies::bench::{inference_setups, InferenceSetup, IterationSetup, SOLVERS};

fn iteration(c: &mut Criterion) {
    let mut g = c.benchmark_group("training_iteration");
    for kind in SOLVERS {
        for (how, name) in [(FieldImpl::Fused, "fused"), (FieldImpl::Ops, "dfdx_ops")] {
            let mut s = IterationSetup::new(kind, how);
            g.bench_function(BenchmarkId::new(kind.name(), name), |b| {
                b.iter(|| black_box(s.iteration()))
            });
        }
    }
    g.finish();
}

fn inference(c: &mut Criterion) {
    let mut g = c.benchmark_group("inference");
    for (name, s) in inference_setups() {
        let Ok(s) = s else { continue };
        let Ok(model) = nagode::Model::from_bytes(&s.bytes) else {
            continue;
        };
        let Ok(mut session) = HostSession::new(&model) else {
            continue;
        };
        let mut out = [0f32; 16];
        g.bench_function(BenchmarkId::new(name, "runtime"), |b| {
            b.iter(|| black_box(session.run_window(black_box(&s.samples), None, &mut out)))
        });
        g.bench_function(BenchmarkId::new(name, "dfdx_fused"), |b| {
            b.iter(|| black_box(s.dfdx(FieldImpl::Fused)))
        });
        g.bench_function(BenchmarkId::new(name, "dfdx_ops"), |b| {
            b.iter(|| black_box(s.dfdx(FieldImpl::Ops)))
        });
    }
    g.finish();
    if let Ok(s) = InferenceSetup::new(SolverChoice::Nag) {
        c.bench_function("model_load", |b| {
            b.iter(|| black_box(nagode::Model::from_bytes(black_box(&s.bytes)).is_ok()))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = iteration, inference
}
criterion_main!(benches);
