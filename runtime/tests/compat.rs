//! Frozen model files of every format version keep loading and give exactly
//! the outputs they gave when they were written. The golden bits were
//! recorded with the code of the version that wrote each fixture; a change
//! here means a model already on a device would now answer differently.
//! `NAGODE_PRINT_GOLDEN=1 cargo test -p nagode --test compat -- --nocapture`
//! prints the current bits (only for adding a new fixture, never to "fix" one).
//!
//! The one deliberate re-recording: the runtime's `tanh` became the cheaper
//! rational of `nagode::tanh` (error bound 1e-7 -> 5e-7, issue 10). Every
//! fixture's outputs moved by at most 7.9e-7 relative (a few ulp) against the
//! bits recorded before; the new bits are below.
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
            &[0xbedc63d9, 0xbede77a1, 0xbeea5bf0, 0xbee6e5b1],
            &[0xbee5393e, 0xbee62d0e, 0xbee65974, 0xbed13ba8],
            &[0xbee5393e, 0xbee62d0e, 0xbee65974, 0xbed13ba8],
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
        &GOLDEN_SEEDED_ECG,
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
                0x3e0215c2, 0xbf7cc24b, 0x3f991dce, 0xbf6bf260, 0x3fa99cfe, 0xbf808236,
            ],
            &[
                0x3e0215c2, 0xbf7cc24b, 0x3f991dce, 0xbf6bf260, 0x3fa99cfe, 0xbf808236,
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
/// Recorded with the format-2 code that wrote the file (user-unit gaps),
/// re-recorded once with the rational tanh.
const GOLDEN_V2_CLASSIFIER: [&[u32]; 3] = [
    &[0xbe6d2ec3, 0xbf24e667, 0xbe960ef3],
    &[0xbe6d1e83, 0xbf24f11e, 0xbe962466],
    &[0xbe6d1e83, 0xbf24f11e, 0xbe962466],
];

/// Recorded with the format-2 code that wrote the file (last-value
/// reference), re-recorded once with the rational tanh.
const GOLDEN_V2_FORECAST: [&[u32]; 3] = [
    &[
        0x403811d4, 0xc0023727, 0x406f49b0, 0xbfe46c50, 0x4066ad1d, 0xbff00603,
    ],
    &[
        0x40380cbe, 0xc00235c7, 0x406f4249, 0xbfe46e40, 0x4066bbfa, 0xbff00424,
    ],
    &[
        0x40380cbe, 0xc00235c7, 0x406f4249, 0xbfe46e40, 0x4066bbfa, 0xbff00424,
    ],
];

/// A file's bytes copied to a 4-aligned buffer (`include_bytes!` and `Vec<u8>`
/// promise no alignment; flash sections do).
fn aligned(bytes: &[u8]) -> Vec<u32> {
    let mut words = vec![0u32; bytes.len().div_ceil(4)];
    bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
    words
}

/// The version-2 fixtures written again as version 3 give the same bits,
/// read byte-wise and, from an aligned buffer, as `f32`s in place.
#[test]
fn v3_rewrites_of_v2_fixtures_compute_the_same_bits() {
    let fixtures: [(&[u8], &[&[u32]; 3]); 2] = [
        (
            include_bytes!("fixtures/v2_classifier_named.nagode"),
            &GOLDEN_V2_CLASSIFIER,
        ),
        (
            include_bytes!("fixtures/v2_forecast_last_value.nagode"),
            &GOLDEN_V2_FORECAST,
        ),
    ];
    for (v2, golden) in fixtures {
        let model = Model::from_bytes(v2).unwrap();
        let weights: Vec<f32> = nagode::format::le_f32s(model.weight_bytes()).collect();
        let channels: Vec<&str> = model.channel_names().collect();
        let classes: Vec<&str> = model.class_names().collect();
        let names = Names {
            channels: &channels,
            classes: &classes,
        };
        let v3 = common::encode_named(model.header(), &weights, &names);
        let words = aligned(&v3);
        let in_place = &bytemuck::cast_slice::<u32, u8>(&words)[..v3.len()];
        let loaded = Model::from_bytes(in_place).unwrap();
        assert!(loaded
            .encoder()
            .iter()
            .chain(loaded.field())
            .all(|l| l.is_aligned()));
        check("v3 rewrite, aligned", in_place, 3, golden);
        let mut shifted = vec![0u8];
        shifted.extend_from_slice(&v3);
        let loaded = Model::from_bytes(&shifted[1..]).unwrap();
        assert!(!loaded.field()[0].is_aligned());
        check("v3 rewrite, byte-wise", &shifted[1..], 3, golden);
    }
}

/// The version-5 fixture as first written: a streaming NAG forecaster
/// (warm-up 8), the rich model's shape. Only for writing the file once:
/// `NAGODE_WRITE_V5_FIXTURE=1 cargo test -p nagode --features std --test compat`.
fn v5_source() -> Vec<u8> {
    let mut h = common::rich_header();
    h.window = 8;
    let w = common::weights(&h, 51, 0.6);
    let kind = nagode::format::ModelKind::Streaming { warmup: 8 };
    let names = Names {
        channels: &["ecg", "resp"],
        classes: &[],
    };
    let mut out = vec![0u8; nagode::format::encoded_len_with_kind(&h, kind, &w, &names).unwrap()];
    let n = nagode::format::encode_with_kind(&h, kind, &w, &names, &mut out).unwrap();
    out.truncate(n);
    out
}

#[test]
fn write_v5_fixture_on_request() {
    if std::env::var_os("NAGODE_WRITE_V5_FIXTURE").is_none() {
        return;
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v5_streaming.nagode");
    assert!(!path.exists(), "{} is frozen", path.display());
    std::fs::write(&path, v5_source()).unwrap();
}

/// Stream outputs after every sample of 24 (irregular gaps), from sample 8
/// (the warm-up) on, as bits.
fn streamed(model: &nagode::stream::StreamModel<'_>) -> Vec<u32> {
    let h = model.model().header();
    let mut stream = nagode::stream::Stream::<64>::new(model).unwrap();
    let nominal = model.model().nominal_gap();
    let mut out = [0.0f32; 6];
    let mut bits = Vec::new();
    for n in 0..24 {
        let x: Vec<f32> = (0..2)
            .map(|c| h.mean[c] + h.std[c] * (0.37 * n as f32 + 1.3 * c as f32).sin())
            .collect();
        stream
            .push(&x, nominal * (0.5 + 0.5 * (n % 3) as f32))
            .unwrap();
        if stream.is_ready() {
            stream.predict(&mut out).unwrap();
            bits.push(out[0].to_bits());
        }
    }
    bits
}

#[test]
fn v5_streaming() {
    let bytes = include_bytes!("fixtures/v5_streaming.nagode");
    // The encoder of today writes the frozen bytes.
    assert_eq!(v5_source(), bytes);
    let sm = nagode::stream::StreamModel::from_bytes(bytes).unwrap();
    assert_eq!(sm.warmup(), 8);
    assert_eq!(sm.model().channel_name(1), Some("resp"));
    check("v5_streaming", bytes, 5, &GOLDEN_V5);
    let got = streamed(&sm);
    if std::env::var_os("NAGODE_PRINT_GOLDEN").is_some() {
        let hex: Vec<String> = got.iter().map(|b| format!("0x{b:08x}")).collect();
        println!("v5 stream: &[{}]", hex.join(", "));
        return;
    }
    assert_eq!(got, GOLDEN_V5_STREAM);
}

/// Recorded with the format-5 code that wrote the file: the window runs of
/// [`check`] (the file's window is its warm-up, 8 samples).
const GOLDEN_V5: [&[u32]; 3] = [
    &[
        0x3e093262, 0xbf8432e7, 0x3eedec08, 0xbf8f1a6a, 0xbdd6d2d0, 0xbf91a804,
    ],
    &[
        0x3e08af2c, 0xbf843432, 0x3eee0f28, 0xbf8f18e2, 0xbdd704d8, 0xbf91a955,
    ],
    &[
        0x3e08af2c, 0xbf843432, 0x3eee0f28, 0xbf8f18e2, 0xbdd704d8, 0xbf91a955,
    ],
];

/// The stream's first output after each sample from the warm-up on; the
/// first equals the irregular window run's (the same 8 samples and gaps).
const GOLDEN_V5_STREAM: &[u32] = &[
    0x3e08af2c, 0x3df26c68, 0x3de83ac4, 0x3dd1c428, 0x3d722a70, 0x3d305f18, 0x3c0be900, 0xbd411380,
    0xbd87ec08, 0xbdd5fc00, 0xbe24ba5c, 0xbe37c388, 0xbe5ce758, 0xbe89d1be, 0xbe92e602, 0xbea5100e,
    0xbec192ec,
];

/// The version-5 flow fixture as first written: a 2-D NAG flow over
/// `[0, 1]` in 8 steps, field `[z, t] -> 16 -> 16 -> 2`. Only for writing
/// the file once:
/// `NAGODE_WRITE_V5_FLOW_FIXTURE=1 cargo test -p nagode --features std --test compat`.
fn v5_flow_source() -> Vec<u8> {
    let h = common::flow_header(2, &[16, 16], nagode::format::SolverKind::Nag, 8);
    let w = common::weights(&h, 71, 0.9);
    common::encode_kind(&h, nagode::format::ModelKind::Flow, &w)
}

#[test]
fn write_v5_flow_fixture_on_request() {
    if std::env::var_os("NAGODE_WRITE_V5_FLOW_FIXTURE").is_none() {
        return;
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v5_flow.nagode");
    assert!(!path.exists(), "{} is frozen", path.display());
    std::fs::write(&path, v5_flow_source()).unwrap();
}

#[test]
fn v5_flow() {
    let bytes = include_bytes!("fixtures/v5_flow.nagode");
    assert_eq!(v5_flow_source(), bytes);
    let model = nagode::flow::FlowModel::from_bytes(bytes).unwrap();
    assert_eq!(model.model().format_version(), 5);
    let mut flow = nagode::flow::Flow::<16>::new(&model).unwrap();
    let got: Vec<u32> = (0..8)
        .map(|p| {
            let x = [
                1.4 * (0.8 * p as f32).sin(),
                1.1 * (0.5 * p as f32 + 1.0).cos(),
            ];
            flow.log_density(&x).unwrap().to_bits()
        })
        .collect();
    if std::env::var_os("NAGODE_PRINT_GOLDEN").is_some() {
        let hex: Vec<String> = got.iter().map(|b| format!("0x{b:08x}")).collect();
        println!("v5 flow: &[{}]", hex.join(", "));
        return;
    }
    assert_eq!(got, GOLDEN_V5_FLOW);
}

/// Recorded with the format-5 flow code that wrote the file: `log p` of the
/// eight points of [`v5_flow`], as bits.
const GOLDEN_V5_FLOW: [u32; 8] = [
    0xc04c22e2, 0xc06e4d60, 0xc0c7b112, 0xbfe417e8, 0xc03a2fbc, 0xc11f7fbe, 0xc14443b0, 0xc11fe1a6,
];

/// The version-5 flow's field with its scaling and threshold (format 7): a
/// point is 2 samples of one channel, offset 100, scale 5, threshold 6,
/// quantile 0.99. Only for writing the file once:
/// `NAGODE_WRITE_V7_FLOW_FIXTURE=1 cargo test -p nagode --features std --test compat`.
#[cfg(feature = "alloc")]
fn v7_flow_source() -> Vec<u8> {
    let h = common::flow_header(2, &[16, 16], nagode::format::SolverKind::Nag, 8);
    let w = common::weights(&h, 71, 0.9);
    let meta = nagode::format::FlowMeta {
        window: 2,
        offset: heapless::Vec::from_slice(&[100.0]).unwrap(),
        scale: heapless::Vec::from_slice(&[5.0]).unwrap(),
        threshold: 6.0,
        quantile: 0.99,
    };
    nagode::format::encode_flow_to_vec(&h, &w, &Names::NONE, &meta).unwrap()
}

/// A frozen version-7 flow: its scaling and threshold, and the scores of
/// raw points, as bits; the verdicts follow the stored threshold.
#[test]
fn v7_flow() {
    let bytes = include_bytes!("fixtures/v7_flow.nagode");
    #[cfg(feature = "alloc")]
    assert_eq!(v7_flow_source(), bytes);
    let model = nagode::flow::FlowModel::from_bytes(bytes).unwrap();
    assert_eq!(model.model().format_version(), 7);
    let meta = model.meta().unwrap();
    assert_eq!(
        (meta.window, meta.offset[0], meta.scale[0]),
        (2, 100.0, 5.0)
    );
    let mut flow = nagode::flow::Flow::<16>::new(&model).unwrap();
    let (mut got, mut verdicts) = (Vec::new(), Vec::new());
    for p in 0..8 {
        let raw = [
            100.0 + 7.0 * (0.8 * p as f32).sin(),
            100.0 + 5.5 * (0.5 * p as f32 + 1.0).cos(),
        ];
        let score = flow.score(&raw).unwrap();
        got.push(score.to_bits());
        verdicts.push(flow.is_anomaly(score).unwrap());
    }
    if std::env::var_os("NAGODE_PRINT_GOLDEN").is_some() {
        let hex: Vec<String> = got.iter().map(|b| format!("0x{b:08x}")).collect();
        println!("v7 flow: &[{}] {verdicts:?}", hex.join(", "));
        return;
    }
    assert_eq!(got, GOLDEN_V7_FLOW);
    let threshold = meta.threshold;
    let want: Vec<bool> = GOLDEN_V7_FLOW
        .iter()
        .map(|&b| f32::from_bits(b) > threshold)
        .collect();
    assert_eq!(verdicts, want);
    assert!(want.contains(&true) && want.contains(&false), "{want:?}");
}

/// Recorded with the format-7 flow code that wrote the file: the scores of
/// the eight raw points of [`v7_flow`], as bits. Scaled, they are the
/// version-5 flow's eight points up to rounding, so these are its
/// [`GOLDEN_V5_FLOW`] negated within a few ulp.
const GOLDEN_V7_FLOW: [u32; 8] = [
    0x404c22e4, 0x406e4d5f, 0x40c7b118, 0x3fe417e2, 0x403a2fc4, 0x411f7fb9, 0x414443b0, 0x411fe1a8,
];

#[cfg(feature = "alloc")]
#[test]
fn write_v7_flow_fixture_on_request() {
    if std::env::var_os("NAGODE_WRITE_V7_FLOW_FIXTURE").is_none() {
        return;
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v7_flow.nagode");
    assert!(!path.exists(), "{} is frozen", path.display());
    std::fs::write(&path, v7_flow_source()).unwrap();
}

/// The version-2 forecaster rewritten as version 3 (aligned weights), frozen:
/// `NAGODE_WRITE_V3_FIXTURE=1 cargo test -p nagode --features std --test compat`.
#[cfg(feature = "alloc")]
fn v3_source() -> Vec<u8> {
    let v2 = include_bytes!("fixtures/v2_forecast_last_value.nagode");
    nagode::format::upgrade_to_vec(v2).unwrap()
}

#[cfg(feature = "alloc")]
#[test]
fn write_v3_fixture_on_request() {
    if std::env::var_os("NAGODE_WRITE_V3_FIXTURE").is_none() {
        return;
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v3_forecast_last_value.nagode");
    assert!(!path.exists(), "{} is frozen", path.display());
    std::fs::write(&path, v3_source()).unwrap();
}

/// A frozen version-3 file computes what it computed when it was written
/// (the version-2 forecaster's bits: the rewrite changed no number).
#[test]
fn v3_forecast_last_value() {
    let bytes = include_bytes!("fixtures/v3_forecast_last_value.nagode");
    #[cfg(feature = "alloc")]
    assert_eq!(
        v3_source(),
        bytes,
        "today's encoder writes the frozen bytes"
    );
    check("v3_forecast_last_value", bytes, 3, &GOLDEN_V2_FORECAST);
    let words = aligned(bytes);
    let in_place = &bytemuck::cast_slice::<u32, u8>(&words)[..bytes.len()];
    check(
        "v3_forecast_last_value, aligned",
        in_place,
        3,
        &GOLDEN_V2_FORECAST,
    );
}

/// A frozen version-4 file (the firmware's `seeded_ecg_q.nagode` as of
/// 2026-11-26: NAG, window 64, calibrated on the ECG): its `f32` model and,
/// with the `quant` feature, its integer path give the bits recorded when
/// it was frozen.
#[test]
fn v4_quantised() {
    let bytes = include_bytes!("fixtures/v4_quantised.nagode");
    check("v4_quantised", bytes, 4, &GOLDEN_SEEDED_ECG);
    #[cfg(feature = "quant")]
    {
        use nagode::quant::{QuantModel, QuantRunner};
        let q = QuantModel::from_bytes(bytes).unwrap();
        let qnet = q.net();
        let model = Model::from_bytes(bytes).unwrap();
        let x = samples(&model);
        let gaps = irregular_gaps(&model);
        let mut runner = QuantRunner::<64>::new(&qnet).unwrap();
        let mut out = vec![0.0f32; model.output_len()];
        let mut got = Vec::new();
        for gaps in [None, Some(gaps.as_slice())] {
            let n = runner.run_window(&qnet, &x, gaps, &mut out).unwrap();
            got.push(out[..n].iter().map(|v| v.to_bits()).collect::<Vec<u32>>());
        }
        if std::env::var_os("NAGODE_PRINT_GOLDEN").is_some() {
            println!("v4_quantised integer: {got:x?}");
            return;
        }
        assert_eq!(got[0].as_slice(), GOLDEN_V4_INTEGER[0], "integer regular");
        assert_eq!(got[1].as_slice(), GOLDEN_V4_INTEGER[1], "integer irregular");
    }
}

/// Upgrading a version-4 file would write it as version 3 without its
/// integer section: refused by name, as a version-5 flow is (it used to
/// drop the section silently, and to refuse a flow as "streaming").
#[cfg(feature = "alloc")]
#[test]
fn upgrade_refuses_what_it_would_drop() {
    use nagode::{EncodeError, LoadError};
    let reason = |bytes: &[u8]| match nagode::format::upgrade_to_vec(bytes) {
        Err(EncodeError::Invalid(LoadError::WrongKind { reason })) => reason,
        other => panic!("not refused: {other:?}"),
    };
    assert!(reason(include_bytes!("fixtures/v4_quantised.nagode")).contains("integer section"));
    let flow = reason(include_bytes!("fixtures/v5_flow.nagode"));
    assert!(flow.contains("streaming or flow"), "{flow}");
}

/// The seeded ECG stand-in's outputs: recorded with the version-1 file, and
/// computed unchanged by the version-4 file whose `f32` model it is.
const GOLDEN_SEEDED_ECG: [&[u32]; 3] = [
    &[
        0x40611f83, 0x406bb2fa, 0x3fea3e47, 0x4097fee1, 0x405a14c6, 0xc02bcf44, 0x3feb7a19,
        0x3f3f8e3e,
    ],
    &[
        0x406253ed, 0x406e22be, 0x3fec68c1, 0x40992c62, 0x405a3e87, 0xc02d25ce, 0x3fed9c11,
        0x3f405ab6,
    ],
    &[
        0x406253ed, 0x406e22be, 0x3fec68c1, 0x40992c62, 0x405a3e87, 0xc02d25ce, 0x3fed9c11,
        0x3f405ab6,
    ],
];

/// Recorded when the version-4 fixture was frozen (its integer path,
/// regular then irregular gaps).
#[cfg(feature = "quant")]
const GOLDEN_V4_INTEGER: [&[u32]; 2] = [
    &[
        0x406105a4, 0x406ab34a, 0x3feb7d43, 0x409824c8, 0x405a2b26, 0xc02b73ce, 0x3feaeb3d,
        0x3f3d85fc,
    ],
    &[
        0x40623680, 0x406d23de, 0x3feda801, 0x4099508b, 0x405a4856, 0xc02cc8bd, 0x3fed04e7,
        0x3f3e4ae4,
    ],
];
