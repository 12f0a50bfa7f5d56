//! Frozen model files of every format version keep loading and give exactly
//! the outputs they gave when they were written. The golden bits were
//! recorded with the code of the version that wrote each fixture; a change
//! here means a model already on a device would now answer differently.
//! `NAGODE_PRINT_GOLDEN=1 cargo test -p nagode --test compat -- --nocapture`
//! prints the current bits (only for adding a new fixture, never to "fix" one).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use nagode::format::{Clock, Names, Task};
use nagode::normalise::Reference;
use nagode::{Model, Session};

/// What each fixture is run on, in the order of the golden arrays.
const CASES: [&str; 3] = ["regular", "irregular", "streamed"];

/// A deterministic window: `mean + std * sin(0.37 n + 1.3 c)` per channel.
fn samples(model: &Model<'_>) -> Vec<f32> {
    let h = model.header();
    let mut out = Vec::new();
    for n in 0..model.window() {
        for c in 0..model.channels() {
            let phase = 0.37 * n as f32 + 1.3 * c as f32;
            out.push(h.mean[c] + h.std[c] * phase.sin());
        }
    }
    out
}

/// Irregular gaps in the model's user units: nominal gap times 0.5, 1, 1.5, ...
fn irregular_gaps(model: &Model<'_>) -> Vec<f32> {
    let nominal = nominal_gap(model);
    (0..model.window())
        .map(|n| nominal * (0.5 + 0.5 * (n % 3) as f32))
        .collect()
}

/// The regular gap in the user's units.
fn nominal_gap(model: &Model<'_>) -> f32 {
    model.nominal_gap()
}

/// Outputs for each case of [`CASES`], as bit patterns.
fn run(model: &Model<'_>) -> Vec<Vec<u32>> {
    let mut session = Session::<64, 2048>::new(model).unwrap();
    let x = samples(model);
    let gaps = irregular_gaps(model);
    let mut out = vec![0.0f32; model.output_len()];
    let mut all = Vec::new();
    let n = session.run_window(&x, None, &mut out).unwrap();
    all.push(out[..n].iter().map(|v| v.to_bits()).collect());
    let n = session.run_window(&x, Some(&gaps), &mut out).unwrap();
    all.push(out[..n].iter().map(|v| v.to_bits()).collect());
    for (sample, gap) in x.chunks(model.channels()).zip(&gaps) {
        session.push(sample, *gap).unwrap();
    }
    let n = session.predict(&mut out).unwrap();
    all.push(out[..n].iter().map(|v| v.to_bits()).collect());
    all
}

fn check(name: &str, bytes: &[u8], version: u16, golden: &[&[u32]]) {
    let model = Model::from_bytes(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(model.format_version(), version, "{name}");
    let got = run(&model);
    if std::env::var_os("NAGODE_PRINT_GOLDEN").is_some() {
        println!("{name}:");
        for (case, bits) in CASES.iter().zip(&got) {
            let hex: Vec<String> = bits.iter().map(|b| format!("0x{b:08x}")).collect();
            println!("    // {case}\n    &[{}],", hex.join(", "));
        }
        return;
    }
    assert_eq!(got.len(), golden.len(), "{name}");
    for ((case, got), want) in CASES.iter().zip(&got).zip(golden) {
        assert_eq!(got.as_slice(), *want, "{name} {case}");
    }
}

#[test]
fn v1_default_model() {
    check(
        "v1_default",
        include_bytes!("fixtures/v1_default.nagode"),
        1,
        &[
            &[0xbedc63d9, 0xbede77a1, 0xbeea5bee, 0xbee6e5af],
            &[0xbee53940, 0xbee62d0d, 0xbee65972, 0xbed13ba3],
            &[0xbee53940, 0xbee62d0d, 0xbee65972, 0xbed13ba3],
        ],
    );
}

#[test]
fn v1_sine16() {
    check(
        "v1_sine16",
        include_bytes!("fixtures/v1_sine16.nagode"),
        1,
        &[&[0x3dacfe9b], &[0x3dacfe9b], &[0x3dacfe9b]],
    );
}

#[test]
fn v1_seeded_ecg() {
    check(
        "v1_seeded_ecg",
        include_bytes!("fixtures/v1_seeded_ecg.nagode"),
        1,
        &[
            &[
                0x40611f84, 0x406bb2fa, 0x3fea3e4b, 0x4097fee3, 0x405a14c7, 0xc02bcf46, 0x3feb7a1b,
                0x3f3f8e44,
            ],
            &[
                0x406253f0, 0x406e22bb, 0x3fec68c1, 0x40992c62, 0x405a3e87, 0xc02d25ce, 0x3fed9c11,
                0x3f405ac0,
            ],
            &[
                0x406253f0, 0x406e22bb, 0x3fec68c1, 0x40992c62, 0x405a3e87, 0xc02d25ce, 0x3fed9c11,
                0x3f405ac0,
            ],
        ],
    );
}

#[test]
fn v1_rich() {
    check(
        "v1_rich",
        include_bytes!("fixtures/v1_rich.nagode"),
        1,
        &[
            &[
                0x3e0250e8, 0xbf7cc17f, 0x3f991a28, 0xbf6bf174, 0x3fa99dd2, 0xbf80817c,
            ],
            &[
                0x3e0215c0, 0xbf7cc24b, 0x3f991dce, 0xbf6bf260, 0x3fa99cfe, 0xbf808236,
            ],
            &[
                0x3e0215c0, 0xbf7cc24b, 0x3f991dce, 0xbf6bf260, 0x3fa99cfe, 0xbf808236,
            ],
        ],
    );
}

/// The version-2 fixtures as first written (with the encoder of format 2):
/// a classifier with channel and class names, gaps in seconds; a forecaster
/// relative to the last value, gaps in half-units. Only for writing the
/// files once: `NAGODE_WRITE_V2_FIXTURES=1 cargo test -p nagode --test compat`.
fn v2_sources() -> [(&'static str, Vec<u8>); 2] {
    let mut classifier = common::rich_header();
    classifier.task = Task::Classify { classes: 3 };
    classifier.decoder[1].outputs = 3;
    classifier.time_unit = 1800.0;
    classifier.clock = Clock::DateTime;
    let cw = common::weights(&classifier, 21, 0.6);
    let mut forecaster = common::rich_header();
    forecaster.time_unit = 0.5;
    forecaster.clock = Clock::Index;
    forecaster.reference = Reference::LastValue;
    let fw = common::weights(&forecaster, 22, 0.6);
    [
        (
            "v2_classifier_named",
            common::encode_named(
                &classifier,
                &cw,
                &Names {
                    channels: &["ecg", "resp"],
                    classes: &["normal", "atrial fibrillation", "noise"],
                },
            ),
        ),
        (
            "v2_forecast_last_value",
            common::encode_named(
                &forecaster,
                &fw,
                &Names {
                    channels: &["temperature °C", "load"],
                    classes: &[],
                },
            ),
        ),
    ]
}

#[test]
fn write_v2_fixtures_on_request() {
    if std::env::var_os("NAGODE_WRITE_V2_FIXTURES").is_none() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (name, bytes) in v2_sources() {
        let path = dir.join(format!("{name}.nagode"));
        assert!(!path.exists(), "{} is frozen", path.display());
        std::fs::write(&path, bytes).unwrap();
    }
}

#[test]
fn v2_classifier_named() {
    let bytes = include_bytes!("fixtures/v2_classifier_named.nagode");
    let model = Model::from_bytes(bytes).unwrap();
    assert_eq!(model.time_unit(), 1800.0);
    assert_eq!(model.header().clock, Clock::DateTime);
    assert_eq!(model.header().reference, Reference::Global);
    assert_eq!(model.channel_names().collect::<Vec<_>>(), ["ecg", "resp"]);
    assert_eq!(model.class_name(1), Some("atrial fibrillation"));
    check("v2_classifier_named", bytes, 2, &GOLDEN_V2_CLASSIFIER);
}

#[test]
fn v2_forecast_last_value() {
    let bytes = include_bytes!("fixtures/v2_forecast_last_value.nagode");
    let model = Model::from_bytes(bytes).unwrap();
    assert_eq!(model.time_unit(), 0.5);
    assert_eq!(model.header().clock, Clock::Index);
    assert_eq!(model.header().reference, Reference::LastValue);
    assert_eq!(model.channel_name(0), Some("temperature °C"));
    assert_eq!(model.class_names().count(), 0);
    check("v2_forecast_last_value", bytes, 2, &GOLDEN_V2_FORECAST);
}
/// Recorded with the format-2 code that wrote the file (user-unit gaps).
const GOLDEN_V2_CLASSIFIER: [&[u32]; 3] = [
    &[0xbe6d2ec6, 0xbf24e667, 0xbe960ef2],
    &[0xbe6d1e7e, 0xbf24f11f, 0xbe962466],
    &[0xbe6d1e7e, 0xbf24f11f, 0xbe962466],
];

/// Recorded with the format-2 code that wrote the file (last-value reference).
const GOLDEN_V2_FORECAST: [&[u32]; 3] = [
    &[
        0x403811d4, 0xc0023727, 0x406f49b0, 0xbfe46c50, 0x4066ad1d, 0xbff00604,
    ],
    &[
        0x40380cbe, 0xc00235c7, 0x406f4249, 0xbfe46e40, 0x4066bbfa, 0xbff00424,
    ],
    &[
        0x40380cbe, 0xc00235c7, 0x406f4249, 0xbfe46e40, 0x4066bbfa, 0xbff00424,
    ],
];
