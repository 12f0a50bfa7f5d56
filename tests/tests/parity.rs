//! Parity: the trainer's dfdx forward pass against the `nagode` runtime on
//! the exported model file, for every solver and NAG option, on regular and
//! irregular (real-gap, sub-stepped) windows, forecasting and classifying.
//!
//! Tolerance: max |runtime - dfdx| <= 1e-5 x max |dfdx| over all outputs
//! (the two sides differ only in f32 rounding order: dfdx/gemm vs the
//! runtime's plain multiply-add loops).

use nagode::normalise::Reference;
use trainer::data::{Builtin, TaskKind};
use trainer::dfdx::prelude::Cpu;
use trainer::engine::solver::SolverChoice;
use trainer::engine::train::{self, TrainCfg};
use trainer::tasks::window::{self, RunConfig, Source};

const TOLERANCE: f32 = 1e-5;

/// Trains briefly (so the weights are not the initial ones), exports,
/// reloads with the runtime and compares on the test windows.
fn parity(
    data: Builtin,
    task: TaskKind,
    solver: SolverChoice,
    startup_euler: bool,
    consistency: bool,
) -> f32 {
    let reference = match task {
        TaskKind::Forecast => Reference::LastValue,
        TaskKind::Classify => Reference::Global,
    };
    parity_with(data, task, solver, (startup_euler, consistency), reference)
}

/// The oscillators' `t` steps by 0.1, so every forecast case also runs a
/// model whose time unit is not 1 (gaps converted by the runtime).
fn parity_with(
    data: Builtin,
    task: TaskKind,
    solver: SolverChoice,
    (startup_euler, consistency): (bool, bool),
    reference: Reference,
) -> f32 {
    let dev: Cpu = Default::default();
    let cfg = RunConfig {
        source: Source::Builtin(data),
        task,
        window: (task == TaskKind::Forecast).then_some(16),
        horizon: 3,
        stride: Some(8),
        reference,
        solver,
        startup_euler,
        consistency,
        mu: 0.7,
        state_dim: 4,
        hidden: vec![16, 16],
        encoder: vec![3],
        train: TrainCfg {
            epochs: 1,
            batches_per_epoch: 4,
            ..RunConfig::default().train
        },
        ..RunConfig::quiet()
    };
    let p = window::load_problem(&cfg).expect("data");
    let window::Setup { solver: s, net, .. } = window::setup(&cfg, &p, &dev, 5);
    let trained = train::train(net, &s, &p, &cfg.train, &dev, |_| {}).expect("trains");
    let reference = train::evaluate(&trained.net, &s, &p, &p.test, &dev).expect("dfdx forward");
    let bytes = trainer::export::to_bytes(&trained.net, &s, &p).expect("exports");
    let model = nagode::Model::from_bytes(&bytes).expect("runtime loads the trainer's file");
    let runtime = trainer::export::host::run_windows(&model, &p.test).expect("runtime runs");
    assert_eq!(runtime.len(), reference.outputs.len());
    let (abs, rel) = trainer::export::host::max_difference(&runtime, &reference.outputs);
    eprintln!("{data:?} {solver:?} {reference:?} startup_euler={startup_euler} consistency={consistency}: max abs {abs:.2e}, relative {rel:.2e}");
    rel
}

#[test]
fn every_solver_matches_the_runtime_on_regular_windows() {
    for solver in [
        SolverChoice::Nag,
        SolverChoice::Euler,
        SolverChoice::Midpoint,
        SolverChoice::Rk4,
    ] {
        let rel = parity(Builtin::Oscillator, TaskKind::Forecast, solver, false, true);
        assert!(rel <= TOLERANCE, "{solver:?}: relative difference {rel:e}");
    }
}

#[test]
fn nag_options_match_the_runtime() {
    for (startup_euler, consistency) in [(true, true), (false, false), (true, false)] {
        let rel = parity(
            Builtin::Oscillator,
            TaskKind::Forecast,
            SolverChoice::Nag,
            startup_euler,
            consistency,
        );
        assert!(
            rel <= TOLERANCE,
            "startup_euler={startup_euler} consistency={consistency}: {rel:e}"
        );
    }
}

#[test]
fn irregular_gaps_match_the_runtime() {
    // Real gaps of 0.1..0.5 with max step 0.1: 1..5 sub-steps per gap,
    // velocity rescaling whenever the sub-step size changes.
    for solver in [SolverChoice::Nag, SolverChoice::Rk4] {
        let rel = parity(
            Builtin::OscillatorIrregular,
            TaskKind::Forecast,
            solver,
            false,
            true,
        );
        assert!(rel <= TOLERANCE, "{solver:?}: relative difference {rel:e}");
    }
}

#[test]
fn absolute_level_forecasts_match_the_runtime() {
    let rel = parity_with(
        Builtin::Ecg,
        TaskKind::Forecast,
        SolverChoice::Nag,
        (false, true),
        Reference::Global,
    );
    assert!(rel <= TOLERANCE, "relative difference {rel:e}");
}

#[test]
fn classifier_logits_match_the_runtime() {
    let rel = parity(
        Builtin::Italy,
        TaskKind::Classify,
        SolverChoice::Nag,
        false,
        true,
    );
    assert!(rel <= TOLERANCE, "relative difference {rel:e}");
}
