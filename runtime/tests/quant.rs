//! The integer path end to end: quantise seeded models on calibration
//! windows, load the format-4 file both ways, and compare the integer
//! predictions with the `f32` ones on other windows. Needs the `std`
//! feature (the quantiser): `cargo test -p nagode --features std --test quant`.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{encode, rich_header, weights};
use nagode::format::{self, SolverKind, Startup};
use nagode::quant::{build, QuantModel, QuantRunner};
use nagode::{Header, LoadError, Model, Runner};

/// Windows of a two-tone signal per channel, `count` of them from `start`.
fn windows(h: &Header, start: usize, count: usize) -> Vec<Vec<f32>> {
    let c = usize::from(h.channels);
    let n = usize::from(h.window) * c;
    (start..start + count)
        .map(|k| {
            (0..n)
                .map(|i| {
                    let t = (k * 3 + i / c) as f32 * 0.37;
                    let ch = (i % c) as f32;
                    0.5 + 1.5 * (t + ch).sin() - 0.8 * (0.31 * t * (1.0 + ch)).cos()
                })
                .collect()
        })
        .collect()
}

/// Largest |integer - f32| over `windows`, and the largest |f32| output.
fn compare(file: &[u8], windows: &[Vec<f32>], gaps: Option<&[f32]>) -> (f32, f32) {
    let q = QuantModel::from_bytes(file).unwrap();
    let model = q.model();
    let net = model.net();
    let qnet = q.net();
    let mut f = Runner::<16>::new(&net).unwrap();
    let mut i = QuantRunner::<16>::new(&qnet).unwrap();
    let (mut worst, mut scale) = (0.0f32, 0.0f32);
    for w in windows {
        let mut a = [0.0; 16];
        let mut b = [0.0; 16];
        let n = f.run_window(&net, w, gaps, &mut a).unwrap();
        assert_eq!(i.run_window(&qnet, w, gaps, &mut b).unwrap(), n);
        for (x, y) in a[..n].iter().zip(&b[..n]) {
            worst = worst.max((x - y).abs());
            scale = scale.max(x.abs());
        }
    }
    (worst, scale)
}

fn quantised(h: &Header, seed: u64) -> Vec<u8> {
    let file = encode(h, &weights(h, seed, 0.6));
    let model = Model::from_bytes(&file).unwrap();
    let cal = windows(h, 0, 64);
    build::quantize_to_vec(&model, cal.iter().map(Vec::as_slice)).unwrap()
}

#[test]
fn nag_and_euler_track_f32_on_unseen_windows() {
    for (kind, startup) in [
        (SolverKind::Nag, Startup::ZeroVelocity),
        (SolverKind::Nag, Startup::Euler),
        (SolverKind::Euler, Startup::ZeroVelocity),
    ] {
        let mut h = rich_header();
        h.solver.kind = kind;
        h.solver.startup = startup;
        let file = quantised(&h, 5);
        let (worst, scale) = compare(&file, &windows(&h, 500, 64), None);
        eprintln!("{kind:?} {startup:?}: max error {worst:.2e} of outputs up to {scale:.3}");
        // Within 1 % of the outputs' range.
        assert!(
            worst <= 0.01 * scale,
            "{kind:?} {startup:?}: {worst} of {scale}"
        );
        assert!(scale > 0.1, "outputs too small to compare: {scale}");
    }
}

#[test]
fn irregular_gaps_and_substeps_track_f32() {
    let h = rich_header();
    let file = quantised(&h, 9);
    // Gaps of 0.5x to 3x the nominal one: up to 8 sub-steps of max_step.
    let gaps = [0.1, 0.05, 0.3, 0.17, 0.1];
    let (worst, scale) = compare(&file, &windows(&h, 700, 32), Some(&gaps));
    assert!(worst <= 0.01 * scale, "{worst} of {scale}");
}

#[test]
fn format_4_loads_as_its_f32_model_and_v3_has_no_section() {
    let h = rich_header();
    let w = weights(&h, 5, 0.6);
    let v3 = encode(&h, &w);
    let v4 = quantised(&h, 5);
    let (m3, m4) = (
        Model::from_bytes(&v3).unwrap(),
        Model::from_bytes(&v4).unwrap(),
    );
    assert_eq!((m3.format_version(), m4.format_version()), (3, 4));
    assert_eq!(m3.weight_bytes(), m4.weight_bytes());
    assert_eq!(m3.header(), m4.header());
    assert!(matches!(
        QuantModel::from_bytes(&v3).unwrap_err(),
        LoadError::BadQuant { .. }
    ));
}

#[test]
fn a_damaged_section_is_refused_by_both_loaders() {
    let h = rich_header();
    let file = quantised(&h, 5);
    let model = Model::from_bytes(&file).unwrap();
    let q = QuantModel::from_bytes(&file).unwrap();
    let good = q.net();
    // A row of +127 weights against a huge bias could overflow i32.
    let mut rows: Vec<u8> = Vec::new();
    let mut biases: Vec<u8> = Vec::new();
    let mut ws: Vec<u8> = Vec::new();
    for l in good.encoder.iter().chain(good.field).chain(good.decoder) {
        rows.extend(l.row_exp.iter().map(|e| *e as u8));
        biases.extend_from_slice(l.bias);
        ws.extend(l.weights.iter().map(|w| *w as u8));
    }
    let out_exps: heapless::Vec<i8, 12> = good
        .encoder
        .iter()
        .chain(good.field)
        .chain(good.decoder)
        .map(|l| l.out_exp)
        .collect();
    let all: Vec<f32> = format::le_f32s(model.weight_bytes()).collect();
    let write = |rows: &[u8], biases: &[u8], ws: &[u8], exps: &heapless::Vec<i8, 12>| {
        let section = nagode::quant::QuantSection {
            input_exp: good.input_exp,
            out_exps: exps.clone(),
            row_exps: rows,
            biases,
            weights: ws,
        };
        format::encode_quant_to_vec(model.header(), &all, &format::Names::NONE, &section)
    };
    assert!(write(&rows, &biases, &ws, &out_exps).is_ok());
    let mut big = biases.clone();
    big[..4].copy_from_slice(&i32::MAX.to_le_bytes());
    let mut bad_exp = out_exps.clone();
    bad_exp[0] = 100;
    for (what, res) in [
        ("overflow", write(&rows, &big, &ws, &out_exps)),
        ("short", write(&rows, &biases, &ws[1..], &out_exps)),
        ("exponent", write(&rows, &biases, &ws, &bad_exp)),
    ] {
        let err = res.expect_err(what);
        assert_eq!(err.name(), "Invalid", "{what}: {err}");
        assert!(err.to_string().contains("quantised"), "{what}: {err}");
    }
}

#[test]
fn host_runs_are_deterministic_and_saturate_instead_of_wrapping() {
    let h = rich_header();
    let file = quantised(&h, 5);
    let q = QuantModel::from_bytes(&file).unwrap();
    let qnet = q.net();
    let mut r = QuantRunner::<16>::new(&qnet).unwrap();
    // Inputs far outside the calibration range saturate the i16 inputs.
    let huge: Vec<f32> = (0..10)
        .map(|i| if i % 2 == 0 { 1e30 } else { -1e30 })
        .collect();
    let mut a = [0.0; 16];
    let mut b = [0.0; 16];
    let n = r.run_window(&qnet, &huge, None, &mut a).unwrap();
    r.run_window(&qnet, &huge, None, &mut b).unwrap();
    assert_eq!(
        a[..n].iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b[..n].iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert!(a[..n].iter().all(|v| v.is_finite()));
}
