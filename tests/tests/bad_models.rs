//! Broken model files end to end: every file in `corpus/models` named
//! `<case>__<Variant>.nagode` must be refused with exactly that `LoadError`
//! variant; every real model file in the repository must load, and every
//! truncation and single-bit flip of it must be refused. Regenerate the
//! corpus with `cargo run -p nagode --features std --example seed_models -- fuzz/seeds/models tests/tests/corpus/models`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nagode::{LoadError, Model, RunError, Session};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "nagode"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// The variant name of an error (`Debug` up to the first `{`, `(` or space).
fn variant(e: &LoadError) -> String {
    format!("{e:?}")
        .split([' ', '(', '{'])
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn every_broken_model_gets_its_named_error() {
    let corpus = files(&root().join("tests/tests/corpus/models"));
    let mut broken = 0;
    for (name, bytes) in &corpus {
        match name.split_once("__") {
            Some((_, expected)) => {
                let err = Model::from_bytes(bytes).expect_err(name);
                // 32-bit targets count absurd sizes as an overflow instead.
                let ok = variant(&err) == expected
                    || (name.starts_with("absurd") && err == LoadError::SizeOverflow);
                assert!(ok, "{name}: got {err:?}");
                assert!(!err.to_string().is_empty());
                broken += 1;
            }
            None => {
                Model::from_bytes(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }
    assert!(broken >= 20, "corpus has only {broken} broken files");
}

/// Every model file checked into the repository (firmware models, fuzz
/// seeds, the valid corpus entries).
fn real_models() -> Vec<(String, Vec<u8>)> {
    let r = root();
    let mut all = Vec::new();
    for dir in [
        "firmware/models",
        "fuzz/seeds/models",
        "tests/tests/corpus/models",
    ] {
        all.extend(
            files(&r.join(dir))
                .into_iter()
                .filter(|(n, _)| !n.contains("__"))
                // A static-input classifier is not a window model: it is
                // refused by name below and tested in runtime/tests/classify.rs.
                .filter(|(_, b)| {
                    nagode::format::model_kind(b) != Ok(nagode::format::ModelKind::Static)
                }),
        );
    }
    assert!(all.len() >= 3, "found only {} model files", all.len());
    all
}

#[test]
fn real_models_load_and_their_damage_is_refused() {
    for (name, bytes) in real_models() {
        let model = Model::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(model.output_len() > 0);
        for len in 0..bytes.len() {
            assert!(
                Model::from_bytes(&bytes[..len]).is_err(),
                "{name} truncated to {len} loads"
            );
        }
        let mut b = bytes.clone();
        for bit in 0..bytes.len() * 8 {
            b[bit / 8] ^= 1 << (bit % 8);
            let err = Model::from_bytes(&b).expect_err("bit flip loaded");
            assert!(
                matches!(
                    err,
                    LoadError::CrcMismatch { .. } | LoadError::BadMagic { .. }
                ),
                "{name} bit {bit}: {err}"
            );
            b[bit / 8] ^= 1 << (bit % 8);
        }
    }
}

#[test]
fn session_too_small_is_named() {
    let (_, bytes) = files(&root().join("tests/tests/corpus/models"))
        .into_iter()
        .find(|(n, _)| n == "valid_rich")
        .unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let need = model.state_capacity_needed();
    let err = Session::<4, 64>::new(&model).err().unwrap();
    assert_eq!(
        err,
        LoadError::Capacity {
            what: "STATE",
            capacity: 4,
            need
        }
    );
    let err = Session::<64, 4>::new(&model).err().unwrap();
    assert_eq!(
        err,
        LoadError::Capacity {
            what: "WINDOW",
            capacity: 4,
            need: model.window_capacity_needed()
        }
    );
}

/// Hostile samples on every real model: named errors, nothing changes.
#[test]
fn hostile_samples_on_real_models() {
    for (name, bytes) in real_models() {
        let model = Model::from_bytes(&bytes).unwrap();
        let Ok(mut s) = Session::<64, 2048>::new(&model) else {
            panic!(
                "{name} needs STATE {} WINDOW {}",
                model.state_capacity_needed(),
                model.window_capacity_needed()
            );
        };
        let c = model.channels();
        let dt = model.nominal_gap();
        for i in 0..model.window() {
            let x: Vec<f32> = (0..c)
                .map(|k| (i as f32 * 0.1 + k as f32).sin() * model.header().std[k])
                .collect();
            s.push(&x, dt).unwrap();
        }
        // A real prediction first, so the comparison at the end compares
        // real values (NaN-filled buffers: anything not written fails it).
        let mut before = vec![f32::NAN; model.output_len()];
        let written = s
            .predict(&mut before)
            .unwrap_or_else(|e| panic!("{name}: a clean window fails: {e}"));
        assert_eq!(written, model.output_len(), "{name}");
        assert!(before.iter().all(|v| v.is_finite()), "{name}: {before:?}");
        let good = vec![0.0f32; c];
        let mut bad_samples = vec![vec![f32::NAN; c], vec![f32::INFINITY; c], vec![0.0; c + 1]];
        if c > 1 {
            bad_samples.push(vec![0.0; c - 1]);
        }
        for sample in &bad_samples {
            assert!(s.push(sample, dt).is_err(), "{name}");
        }
        for gap in [0.0, -dt, f32::NAN, f32::INFINITY, f32::MAX] {
            let err = s.push(&good, gap).unwrap_err();
            assert!(
                matches!(
                    err,
                    RunError::BadGap { .. } | RunError::TooManySubsteps { .. }
                ),
                "{name}: {err}"
            );
        }
        // A failing predict leaves its buffer alone.
        let mut short = vec![-7.0f32; model.output_len() - 1];
        assert!(
            matches!(s.predict(&mut short), Err(RunError::OutputTooSmall { .. })),
            "{name}"
        );
        assert!(short.iter().all(|v| *v == -7.0), "{name}: {short:?}");
        // The session still holds the same window: the same values, bit for bit.
        let mut after = vec![f32::NAN; model.output_len()];
        assert_eq!(s.predict(&mut after), Ok(written), "{name}");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&before), bits(&after), "{name}");
    }
}

/// A static-input classifier loaded as a window model would run another
/// computation: `Model::from_bytes` refuses it by name, `StaticModel` loads it.
#[test]
fn a_static_classifier_is_not_a_window_model() {
    let bytes = std::fs::read(root().join("firmware/models/static_digits.nagode")).unwrap();
    assert!(matches!(
        Model::from_bytes(&bytes),
        Err(LoadError::WrongKind { .. })
    ));
    assert!(nagode::StaticModel::from_bytes(&bytes).is_ok());
}
