//! Sessions: hand-known answers, streaming with irregular gaps, bad input,
//! divergence, capacities.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use nagode::format::{Activation, SolverKind, Startup, Task};
use nagode::{LoadError, Model, RunError, Session};

#[test]
fn integrator_model_sums_normalised_inputs() {
    // y' = e, so after the window y = sum_n e_n * gap_n with gap 1:
    // samples 1, 3, 5 with mean 1 and std 2 give e = 0, 1, 2 -> y = 3,
    // de-normalised 3 * 2 + 1 = 7.
    let mut h = scalar_header(3, SolverKind::Euler);
    h.mean[0] = 1.0;
    h.std[0] = 2.0;
    let bytes = encode(&h, &INTEGRATOR);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<4, 4>::new(&model).unwrap();
    let mut out = [0.0f32; 1];
    assert_eq!(s.run_window(&[1.0, 3.0, 5.0], None, &mut out), Ok(1));
    assert_eq!(out[0], 7.0);
    for x in [1.0, 3.0, 5.0] {
        s.push(&[x], 1.0).unwrap();
    }
    assert_eq!(s.predict(&mut out), Ok(1));
    assert_eq!(out[0], 7.0);
}

#[test]
fn rk4_one_step_of_relaxation() {
    // f(y; e) = e - y with e = 1, one step H = 1 from 0: y = 1 - R(-1) where
    // R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24, R(-1) = 0.375: y = 0.625.
    let h = scalar_header(1, SolverKind::Rk4);
    let bytes = encode(&h, &[-1.0, 1.0, 0.0, 1.0, 0.0]);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<2, 1>::new(&model).unwrap();
    let mut out = [0.0f32; 1];
    s.run_window(&[1.0], None, &mut out).unwrap();
    // b = (1/6, 1/3, 1/3, 1/6) rounded to f32: within 2 ulp of the exact value.
    assert!(
        (out[0] - 0.625).abs() <= 2.0 * f32::EPSILON * 0.625,
        "{}",
        out[0]
    );
}

#[test]
fn nag_hand_steps() {
    // y' = 1, mu = 0.5, h = 0.5 H, H = 1, two samples.
    // Zero velocity: v = 0.5, y = 0.5; z = 0.75, v = 0.25 + 0.5, y = 1.25.
    // Euler start-up: y = 1, v = 1; v = 0.5 + 0.5, y = 2.
    for (startup, expected) in [(Startup::ZeroVelocity, 1.25f32), (Startup::Euler, 2.0)] {
        let mut h = scalar_header(2, SolverKind::Nag);
        h.solver.startup = startup;
        let bytes = encode(&h, &INTEGRATOR);
        let model = Model::from_bytes(&bytes).unwrap();
        let mut s = Session::<2, 2>::new(&model).unwrap();
        let mut out = [0.0f32; 1];
        s.run_window(&[1.0, 1.0], None, &mut out).unwrap();
        assert_eq!(out[0], expected, "{startup:?}");
    }
}

#[test]
fn classifier_with_relu_decoder() {
    // y' = e; decoder 1 -> 2 relu with rows [1], [-1]: logits (relu(y), relu(-y)).
    let mut h = scalar_header(2, SolverKind::Midpoint);
    h.task = Task::Classify { classes: 2 };
    h.decoder[0] = layer(1, 2, Activation::Relu);
    let bytes = encode(&h, &[0.0, 1.0, 0.0, 1.0, -1.0, 0.0, 0.0]);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<2, 2>::new(&model).unwrap();
    let mut out = [9.0f32; 3];
    assert_eq!(s.run_window(&[-1.0, -2.0], None, &mut out), Ok(2));
    // Classification outputs are not de-normalised; the third slot is untouched.
    assert_eq!(out, [0.0, 3.0, 9.0]);
}

#[test]
fn tanh_encoder_and_field_by_hand() {
    // Encoder 1 -> 1 tanh (w = 1, b = 0); field tanh(e) (identity layer on
    // [y, e] with wy = 0, we = 1, then tanh) -> y = sum tanh(tanh(x_n)).
    let mut h = scalar_header(2, SolverKind::Euler);
    h.encoder.push(layer(1, 1, Activation::Tanh)).unwrap();
    h.field[0].activation = Activation::Tanh;
    let bytes = encode(&h, &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<2, 2>::new(&model).unwrap();
    let mut out = [0.0f32; 1];
    s.run_window(&[0.5, -2.0], None, &mut out).unwrap();
    let expected = 0.5f64.tanh().tanh() + (-2.0f64).tanh().tanh();
    assert!(
        (f64::from(out[0]) - expected).abs() < 1e-6,
        "{} vs {expected}",
        out[0]
    );
}

/// `y' = e` integrates exactly over any sub-stepping: `y = sum e_n g_n`
/// with `g_0 = sample_dt`.
#[test]
fn irregular_gaps_are_integrated_in_substeps() {
    for kind in [SolverKind::Euler, SolverKind::Midpoint, SolverKind::Rk4] {
        let mut h = scalar_header(4, kind);
        h.sample_dt = 0.5;
        h.solver.max_step = 0.25;
        let bytes = encode(&h, &INTEGRATOR);
        let model = Model::from_bytes(&bytes).unwrap();
        let mut s = Session::<2, 4>::new(&model).unwrap();
        let x = [1.0, 2.0, -1.0, 0.5];
        let gaps = [123.0, 0.1, 3.0, 0.7];
        let mut out = [0.0f32; 1];
        s.run_window(&x, Some(&gaps), &mut out).unwrap();
        let expected = 0.5 + 2.0 * 0.1 - 3.0 + 0.5 * 0.7;
        assert!(
            (out[0] - expected).abs() < 1e-5,
            "{kind:?}: {} vs {expected}",
            out[0]
        );
        // Streaming the same samples with the same gaps agrees bit for bit.
        for (v, g) in x.iter().zip(gaps) {
            s.push(&[*v], g).unwrap();
        }
        let mut streamed = [0.0f32; 1];
        s.predict(&mut streamed).unwrap();
        assert_eq!(streamed[0].to_bits(), out[0].to_bits());
    }
}

/// Irregular gaps for NAG: a run over gaps equals the solver stepped by hand
/// with the sub-step rule (velocity carried and rescaled across gaps).
#[test]
fn nag_streaming_matches_manual_substeps() {
    use nagode::solver::{substeps, Nag, Solver, VectorField};
    struct Relax(f32);
    impl VectorField for Relax {
        fn dim(&self) -> usize {
            1
        }
        fn eval(&mut self, _t: f32, y: &[f32], out: &mut [f32]) {
            out[0] = -0.5 * y[0] + self.0;
        }
    }
    let mut h = scalar_header(5, SolverKind::Nag);
    h.sample_dt = 0.2;
    h.solver.max_step = 0.3;
    h.solver.mu = 0.7;
    let bytes = encode(&h, &[-0.5, 1.0, 0.0, 1.0, 0.0]);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<2, 5>::new(&model).unwrap();
    let x = [1.0f32, -0.5, 2.0, 0.25, 1.5];
    let gaps = [0.2f32, 0.05, 1.0, 0.31, 0.6];
    let mut nag = Nag::<1>::new(0.7, true, Startup::Euler);
    let mut y = [0.0f32];
    let mut t = 0.0;
    for (n, (xn, g)) in x.iter().zip(gaps).enumerate() {
        let g = if n == 0 { h.sample_dt } else { g };
        let (m, step) = substeps(g, 0.3).unwrap();
        for _ in 0..m {
            nag.step(&mut Relax(*xn), t, step, &mut y).unwrap();
            t += step;
        }
        s.push(&[*xn], gaps[n]).unwrap();
    }
    let mut out = [0.0f32; 1];
    s.predict(&mut out).unwrap();
    assert!(
        (out[0] - y[0]).abs() <= 1e-6 * y[0].abs().max(1.0),
        "{} vs {}",
        out[0],
        y[0]
    );
}

#[test]
fn ring_keeps_the_last_window() {
    let h = rich_header();
    let w = weights(&h, 11, 0.6);
    let bytes = encode(&h, &w);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<8, 10>::new(&model).unwrap();
    let stream: Vec<[f32; 2]> = (0..13)
        .map(|i| [(i as f32 * 0.7).sin(), (i as f32 * 0.3).cos()])
        .collect();
    let gaps: Vec<f32> = (0..13).map(|i| 0.05 + 0.01 * (i % 4) as f32).collect();
    let mut out = [0.0f32; 6];
    for (i, (x, g)) in stream.iter().zip(&gaps).enumerate() {
        s.push(x, *g).unwrap();
        assert_eq!(s.len(), (i + 1).min(5));
        if i < 4 {
            assert_eq!(
                s.predict(&mut out),
                Err(RunError::NotReady {
                    have: i + 1,
                    need: 5
                })
            );
        }
    }
    assert!(s.is_ready());
    s.predict(&mut out).unwrap();
    let last: Vec<f32> = stream[8..].iter().flatten().copied().collect();
    let mut expected = [0.0f32; 6];
    s.run_window(&last, Some(&gaps[8..]), &mut expected)
        .unwrap();
    assert_eq!(out, expected);
    assert!(out.iter().all(|v| v.is_finite()));
    s.clear();
    assert!(s.is_empty() && !s.is_ready());
}

#[test]
fn bad_samples_and_gaps_leave_the_session_unchanged() {
    let h = rich_header();
    let bytes = encode(&h, &weights(&h, 5, 0.5));
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<8, 10>::new(&model).unwrap();
    for i in 0..5 {
        s.push(&[i as f32, 1.0], 0.1).unwrap();
    }
    let mut before = [0.0f32; 6];
    s.predict(&mut before).unwrap();
    let bad: [(&[f32], f32, RunError); 9] = [
        (
            &[1.0],
            0.1,
            RunError::SampleLength {
                expected: 2,
                found: 1,
            },
        ),
        (
            &[1.0, 2.0, 3.0],
            0.1,
            RunError::SampleLength {
                expected: 2,
                found: 3,
            },
        ),
        (
            &[1.0, f32::NAN],
            0.1,
            RunError::NonFiniteSample {
                sample: 0,
                channel: 1,
            },
        ),
        (
            &[f32::INFINITY, 0.0],
            0.1,
            RunError::NonFiniteSample {
                sample: 0,
                channel: 0,
            },
        ),
        (&[1.0, 2.0], 0.0, RunError::BadGap { gap: 0.0 }),
        (&[1.0, 2.0], -0.1, RunError::BadGap { gap: -0.1 }),
        (
            &[1.0, 2.0],
            f32::INFINITY,
            RunError::BadGap { gap: f32::INFINITY },
        ),
        (
            &[1.0, 2.0],
            f32::NEG_INFINITY,
            RunError::BadGap {
                gap: f32::NEG_INFINITY,
            },
        ),
        (
            &[1.0, 2.0],
            1e6,
            RunError::TooManySubsteps {
                gap: 1e6,
                max_step: 0.04,
                limit: 4096,
            },
        ),
    ];
    for (sample, dt, err) in bad {
        assert_eq!(s.push(sample, dt), Err(err));
        let mut after = [0.0f32; 6];
        s.predict(&mut after).unwrap();
        assert_eq!(before, after);
        assert_eq!(s.len(), 5);
    }
    assert!(matches!(
        s.push(&[1.0, 2.0], f32::NAN),
        Err(RunError::BadGap { .. })
    ));
    let mut small = [0.0f32; 5];
    assert_eq!(
        s.predict(&mut small),
        Err(RunError::OutputTooSmall { need: 6, found: 5 })
    );
    // Whole-window calls check their arguments the same way.
    let mut out = [0.0f32; 6];
    let good = [0.5f32; 10];
    assert_eq!(
        s.run_window(&good[..9], None, &mut out),
        Err(RunError::WindowLength {
            what: "samples",
            expected: 10,
            found: 9
        })
    );
    assert_eq!(
        s.run_window(&good, Some(&[0.1; 4]), &mut out),
        Err(RunError::WindowLength {
            what: "gaps",
            expected: 5,
            found: 4
        })
    );
    let mut nan = good;
    nan[7] = f32::NAN;
    assert_eq!(
        s.run_window(&nan, None, &mut out),
        Err(RunError::NonFiniteSample {
            sample: 3,
            channel: 1
        })
    );
    assert_eq!(
        s.run_window(&good, Some(&[0.1, 0.1, -1.0, 0.1, 0.1]), &mut out),
        Err(RunError::BadGap { gap: -1.0 })
    );
    // The first gap is outside the window and ignored.
    assert!(s
        .run_window(&good, Some(&[f32::NAN, 0.1, 0.1, 0.1, 0.1]), &mut out)
        .is_ok());
    s.predict(&mut out).unwrap();
    assert_eq!(before, out);
}

#[test]
fn divergence_is_a_named_error_and_the_session_survives() {
    // y' = 3 y + e: grows like e^{3t}; bound 100.
    let mut h = scalar_header(8, SolverKind::Euler);
    h.state_bound = 100.0;
    let bytes = encode(&h, &[3.0, 1.0, 0.0, 1.0, 0.0]);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<2, 8>::new(&model).unwrap();
    for _ in 0..8 {
        s.push(&[1.0], 1.0).unwrap();
    }
    let mut out = [0.0f32; 1];
    // Euler: y_{n+1} = 4 y_n + 1: 1, 5, 21, 85, 341 -> sample 4.
    let err = s.predict(&mut out).unwrap_err();
    assert_eq!(
        err,
        RunError::Diverged {
            sample: 4,
            step: 0,
            component: 0,
            value: 341.0,
            bound: 100.0
        }
    );
    assert_eq!(
        err.to_string(),
        "state diverged at sample 4 sub-step 0: y[0] = 341 (bound 100)"
    );
    // Same samples, same error; small inputs still work.
    assert_eq!(s.predict(&mut out), Err(err));
    let quiet = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    s.run_window(&[0.0; 8], None, &mut out).unwrap();
    assert_eq!(out[0], 0.0);
    assert!(s.run_window(&quiet, None, &mut out).is_err());
}

#[test]
fn non_finite_state_is_divergence() {
    // Bound at f32::MAX: only overflow to infinity trips it.
    let mut h = scalar_header(3, SolverKind::Euler);
    h.state_bound = f32::MAX;
    let bytes = encode(&h, &[0.0, 3.0e38, 0.0, 1.0, 0.0]);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<2, 3>::new(&model).unwrap();
    let mut out = [0.0f32; 1];
    let err = s.run_window(&[1.0, 1.0, 1.0], None, &mut out).unwrap_err();
    assert!(
        matches!(err, RunError::Diverged { sample: 1, value, .. } if value.is_infinite()),
        "{err}"
    );
}

#[test]
fn capacity_errors_name_capacity_and_need() {
    let h = rich_header();
    let bytes = encode(&h, &weights(&h, 5, 0.5));
    let model = Model::from_bytes(&bytes).unwrap();
    let err = Session::<7, 10>::new(&model).err().unwrap();
    assert_eq!(
        err,
        LoadError::Capacity {
            what: "STATE",
            capacity: 7,
            need: 8
        }
    );
    assert_eq!(
        err.to_string(),
        "session capacity STATE = 7 is smaller than the 8 the model needs"
    );
    assert_eq!(
        Session::<8, 9>::new(&model).err().unwrap(),
        LoadError::Capacity {
            what: "WINDOW",
            capacity: 9,
            need: 10
        }
    );
    assert!(Session::<8, 10>::new(&model).is_ok());
}

#[test]
fn forecast_is_denormalised_per_channel() {
    // Two channels, D = 2, field f = e (identity on the e columns), decoder
    // identity 2 -> 2 (horizon 1): out_c = (sum_n e_nc) * std_c + mean_c.
    let mut h = scalar_header(2, SolverKind::Euler);
    h.channels = 2;
    h.state_dim = 2;
    h.mean = heapless::Vec::from_slice(&[10.0, -1.0]).unwrap();
    h.std = heapless::Vec::from_slice(&[2.0, 0.5]).unwrap();
    h.field[0] = layer(4, 2, Activation::Identity);
    h.decoder[0] = layer(2, 2, Activation::Identity);
    #[rustfmt::skip]
    let w = [
        0.0, 0.0, 1.0, 0.0,
        0.0, 0.0, 0.0, 1.0,
        0.0, 0.0,
        1.0, 0.0,
        0.0, 1.0,
        0.0, 0.0,
    ];
    let bytes = encode(&h, &w);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<4, 4>::new(&model).unwrap();
    let mut out = [0.0f32; 2];
    // e = ((12-10)/2, (0+1)/0.5) = (1, 2) and ((14-10)/2, (-1.5+1)/0.5) = (2, -1).
    s.run_window(&[12.0, 0.0, 14.0, -1.5], None, &mut out)
        .unwrap();
    assert_eq!(out, [3.0 * 2.0 + 10.0, 1.0 * 0.5 - 1.0]);
}

mod stream_property {
    //! The stable twin of the `session_stream` fuzz target.
    use super::*;
    use proptest::prelude::*;

    /// Any f32 bit pattern, biased towards ordinary values.
    fn value() -> impl Strategy<Value = f32> {
        prop_oneof![
            3 => -10.0f32..10.0,
            1 => any::<u32>().prop_map(f32::from_bits),
            1 => Just(f32::NAN),
            1 => Just(0.0f32),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_streams_never_panic_and_refusals_change_nothing(
            ops in proptest::collection::vec((value(), value(), value(), any::<u8>()), 0..40)
        ) {
            let h = rich_header();
            let bytes = encode(&h, &weights(&h, 5, 0.5));
            let model = Model::from_bytes(&bytes).unwrap();
            let mut s = Session::<8, 10>::new(&model).unwrap();
            let mut out = [0.0f32; 6];
            for (a, b, gap, op) in ops {
                let len = s.len();
                match s.push(&[a, b], gap) {
                    Ok(()) => prop_assert_eq!(s.len(), (len + 1).min(5)),
                    Err(_) => prop_assert_eq!(s.len(), len),
                }
                if op & 1 == 1 {
                    match s.predict(&mut out) {
                        Ok(n) => prop_assert!(out[..n].iter().all(|v| v.is_finite())),
                        Err(RunError::NotReady { .. }) => prop_assert!(!s.is_ready()),
                        Err(e) => prop_assert!(matches!(e, RunError::Diverged { .. } | RunError::NonFiniteOutput { .. }), "{}", e),
                    }
                }
                if op & 6 == 6 {
                    s.clear();
                }
            }
        }
    }
}

#[test]
fn subnormal_gap_then_normal_gap_does_not_diverge() {
    // Defect 6: after a subnormal step, H_new / H_old overflows to inf and
    // used to turn the velocity into NaN (`RunError::Diverged`). The rule
    // now: a non-finite ratio restarts the velocity from zero.
    // y' = 1, mu = 0.5, h = 0.5 H, Euler start-up, gaps 1, 2^-149, 1:
    // sample 0: y = 1, v = 1; sample 1: v = 2^-149 then 0.5 * 2^-149 + 0
    // rounds to 0, y = 1; sample 2: ratio inf -> v = 0, then v = 0.5, y = 1.5.
    let tiny = f32::from_bits(1);
    let mut h = scalar_header(3, SolverKind::Nag);
    h.solver.startup = Startup::Euler;
    let bytes = encode(&h, &INTEGRATOR);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut s = Session::<2, 3>::new(&model).unwrap();
    for gap in [1.0, tiny, 1.0] {
        s.push(&[1.0], gap).unwrap();
    }
    let mut out = [0.0f32; 1];
    assert_eq!(s.predict(&mut out), Ok(1));
    assert_eq!(out[0], 1.5);
    let mut window = [0.0f32; 1];
    assert_eq!(
        s.run_window(&[1.0; 3], Some(&[1.0, tiny, 1.0]), &mut window),
        Ok(1)
    );
    assert_eq!(window, out);
}
