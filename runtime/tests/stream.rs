//! Streaming models: the carried state against the window runner (bit for
//! bit), the version-5 file, warm-up, divergence and reset, and a
//! million-sample replay. The encoder needs `alloc` (the workspace enables
//! it through the trainer).
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use nagode::format::{self, Header, ModelKind, Names, SolverKind, Startup};
use nagode::normalise::Reference;
use nagode::stream::{Stream, StreamModel};
use nagode::{EncodeError, LoadError, Model, RunError, Runner};

fn streaming(header: &Header, weights: &[f32], warmup: u32) -> Vec<u8> {
    format::encode_with_kind_to_vec(
        header,
        ModelKind::Streaming { warmup },
        weights,
        &Names::NONE,
    )
    .unwrap()
}

/// `n` deterministic samples of `channels` values around the normalisation.
fn series(header: &Header, n: usize) -> Vec<f32> {
    let c = usize::from(header.channels);
    (0..n * c)
        .map(|i| {
            let (k, ch) = (i / c, i % c);
            header.mean[ch] + header.std[ch] * (0.37 * k as f32 + 1.3 * ch as f32).sin()
        })
        .collect()
}

/// Irregular gaps (user units) with 1 to 3 sub-steps each.
fn gaps(header: &Header, n: usize) -> Vec<f32> {
    let nominal = header.sample_dt * header.time_unit;
    (0..n)
        .map(|k| nominal * [1.0, 0.5, 1.7, 1.25, 2.9][k % 5])
        .collect()
}

fn solver_cases() -> Vec<(SolverKind, Startup)> {
    vec![
        (SolverKind::Euler, Startup::ZeroVelocity),
        (SolverKind::Midpoint, Startup::ZeroVelocity),
        (SolverKind::Rk4, Startup::ZeroVelocity),
        (SolverKind::Nag, Startup::ZeroVelocity),
        (SolverKind::Nag, Startup::Euler),
    ]
}

/// `n` samples pushed after a reset give the bits of a window of those `n`
/// samples from a zero state: same per-sample step, NAG velocity carried
/// within the window as across pushes, the first gap `sample_dt`.
#[test]
fn a_stream_is_the_window_it_has_seen() {
    for (kind, startup) in solver_cases() {
        for n in [1usize, 2, 7, 23] {
            let mut h = common::rich_header();
            h.window = n as u16;
            h.solver.kind = kind;
            h.solver.startup = startup;
            let w = common::weights(&h, 5, 0.5);
            let bytes = streaming(&h, &w, 0);
            let sm = StreamModel::from_bytes(&bytes).unwrap();
            let mut stream = Stream::<16>::new(&sm).unwrap();
            let (x, g) = (series(&h, n), gaps(&h, n));
            let mut runner = Runner::<16>::new(&sm.model().net()).unwrap();
            let mut want = [0.0f32; 6];
            runner
                .run_window(&sm.model().net(), &x, Some(&g), &mut want)
                .unwrap();
            // A first gap that would be refused were it used is still only checked.
            for (sample, gap) in x.chunks(2).zip(&g) {
                stream.push(sample, *gap).unwrap();
            }
            let mut got = [0.0f32; 6];
            assert_eq!(stream.predict(&mut got).unwrap(), 6);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{kind:?} {startup:?} n={n}");
            // Reset and replay: the same bits again.
            stream.reset();
            for (sample, gap) in x.chunks(2).zip(&g) {
                stream.push(sample, *gap).unwrap();
            }
            stream.predict(&mut got).unwrap();
            assert_eq!(bits(&got), bits(&want), "after reset {kind:?}");
        }
    }
}

#[test]
fn streaming_models_are_version_5_and_window_models_do_not_change() {
    let h = common::rich_header();
    let w = common::weights(&h, 3, 0.5);
    let window = common::encode(&h, &w);
    let same = format::encode_with_kind_to_vec(&h, ModelKind::Window, &w, &Names::NONE).unwrap();
    assert_eq!(window, same);
    assert_eq!(format::model_kind(&window).unwrap(), ModelKind::Window);
    assert_eq!(Model::from_bytes(&window).unwrap().format_version(), 3);
    assert_eq!(
        StreamModel::from_bytes(&window).unwrap_err().name(),
        "WrongKind"
    );

    let bytes = streaming(&h, &w, 17);
    assert_eq!(
        format::encoded_len_with_kind(&h, ModelKind::Streaming { warmup: 17 }, &w, &Names::NONE)
            .unwrap(),
        bytes.len()
    );
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.format_version(), format::STREAM_VERSION);
    assert_eq!(model.header(), &h);
    assert_eq!(
        model.weight_bytes(),
        &window[window.len() - 4 - w.len() * 4..][..w.len() * 4]
    );
    assert_eq!(
        format::model_kind(&bytes).unwrap(),
        ModelKind::Streaming { warmup: 17 }
    );
    assert_eq!(StreamModel::from_bytes(&bytes).unwrap().warmup(), 17);
    // Upgrading would drop the kind.
    assert!(matches!(
        format::upgrade_to_vec(&bytes),
        Err(EncodeError::Invalid(LoadError::WrongKind { .. }))
    ));
    // A damaged kind is caught by the CRC like any other byte.
    let mut bad = bytes.clone();
    let at = bad.len() / 2;
    bad[at] ^= 1;
    assert_eq!(
        StreamModel::from_bytes(&bad).unwrap_err().name(),
        "CrcMismatch"
    );
}

#[test]
fn a_stream_needs_the_global_reference() {
    let mut h = common::rich_header();
    h.reference = Reference::LastValue;
    let w = common::weights(&h, 3, 0.5);
    let err =
        format::encode_with_kind_to_vec(&h, ModelKind::Streaming { warmup: 1 }, &w, &Names::NONE)
            .unwrap_err();
    assert!(
        matches!(err, EncodeError::Invalid(LoadError::WrongKind { .. })),
        "{err:?}"
    );
    let window = common::encode(&h, &w);
    let model = Model::from_bytes(&window).unwrap();
    assert!(matches!(
        Stream::<16>::with_layers(model.net(), 0),
        Err(LoadError::WrongKind { .. })
    ));
}

#[test]
fn predictions_wait_for_the_warmup_and_bad_input_changes_nothing() {
    let h = common::rich_header();
    let w = common::weights(&h, 9, 0.5);
    let bytes = streaming(&h, &w, 3);
    let sm = StreamModel::from_bytes(&bytes).unwrap();
    let mut stream = Stream::<16>::new(&sm).unwrap();
    let mut out = [0.0f32; 6];
    let x = series(&h, 4);
    let nominal = sm.model().nominal_gap();
    for k in 0..3 {
        assert_eq!(
            stream.predict(&mut out),
            Err(RunError::NotReady { have: k, need: 3 })
        );
        stream.push(&x[2 * k..2 * k + 2], nominal).unwrap();
    }
    assert!(stream.is_ready());
    stream.predict(&mut out).unwrap();
    let before = out;
    assert!(matches!(
        stream.push(&[f32::NAN, 0.0], nominal),
        Err(RunError::NonFiniteSample { .. })
    ));
    assert!(matches!(
        stream.push(&x[6..8], -1.0),
        Err(RunError::BadGap { .. })
    ));
    assert!(matches!(
        stream.predict(&mut [0.0; 2]),
        Err(RunError::OutputTooSmall { .. })
    ));
    assert_eq!(stream.pushed(), 3);
    stream.predict(&mut out).unwrap();
    assert_eq!(before, out);
}

/// `f(y; e) = wy y + we e + b`, decoder identity: a scalar stream.
fn scalar(wy: f32, bound: f32) -> Vec<u8> {
    let mut h = common::scalar_header(1, SolverKind::Nag);
    h.state_bound = bound;
    streaming(&h, &[wy, 1.0, 0.0, 1.0, 0.0], 0)
}

/// A million samples (a noisy square wave, gaps jittered between 0.5 and
/// 1.5 nominal) through a contractive NAG model: the state stays finite and
/// near the bound the dynamics imply (|y| <= max|e| / |wy| = 2; NAG's
/// momentum overshoots it a little).
#[test]
fn a_million_samples_keep_a_stable_stream_bounded() {
    let bytes = scalar(-0.5, 1.0e3);
    let sm = StreamModel::from_bytes(&bytes).unwrap();
    let mut stream = Stream::<4>::new(&sm).unwrap();
    let mut out = [0.0f32; 1];
    let mut rng = 12345u64;
    let mut largest = 0.0f32;
    for k in 0..1_000_000u32 {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let unit = (rng >> 40) as f32 / (1u64 << 24) as f32;
        let x = if (k / 50) % 2 == 0 { 1.0 } else { -1.0 } * (0.5 + 0.5 * unit);
        stream.push(&[x], 0.5 + unit).unwrap();
        stream.predict(&mut out).unwrap();
        largest = largest.max(out[0].abs());
    }
    assert_eq!(stream.pushed(), 1_000_000);
    assert!(largest.is_finite() && largest <= 2.5, "{largest}");
    assert!(largest > 0.5, "the state moved: {largest}");
}

/// An expanding model leaves its bound: `Diverged`, then `NeedsReset` until
/// `reset`, then the stream runs again from a zero state.
#[test]
fn a_diverged_stream_resets() {
    let bytes = scalar(0.05, 1.0e3);
    let sm = StreamModel::from_bytes(&bytes).unwrap();
    let mut stream = Stream::<4>::new(&sm).unwrap();
    let mut out = [0.0f32; 1];
    let mut diverged_at = None;
    for k in 0..1_000_000usize {
        match stream.push(&[1.0], 1.0) {
            Ok(()) => {}
            Err(RunError::Diverged { sample, value, .. }) => {
                assert_eq!(sample, k);
                assert!(value.abs() > 1.0e3);
                diverged_at = Some(k);
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    let at = diverged_at.expect("y' = 0.05 y + 1 leaves |y| <= 1e3");
    assert!(at > 10, "{at}");
    assert_eq!(stream.push(&[1.0], 1.0), Err(RunError::NeedsReset));
    assert_eq!(stream.predict(&mut out), Err(RunError::NeedsReset));
    assert!(!stream.is_ready());
    stream.reset();
    stream.push(&[1.0], 1.0).unwrap();
    stream.predict(&mut out).unwrap();
    // The Euler start-up step from zero: y = H f(0) = 1 * (0.05 * 0 + 1).
    assert_eq!(out[0], 1.0);
}
