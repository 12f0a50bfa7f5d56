//! Format 2: the new header fields, names, user time units and the
//! last-value reference.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use nagode::format::{self, Clock, Names, SolverKind, Task, FORMAT_VERSION, MAX_NAME_LEN};
use nagode::normalise::{self, Reference};
use nagode::{EncodeError, LoadError, Model, NameList, RunError, Session};

/// The rich model as a classifier with 3 classes.
fn classifier_header() -> nagode::Header {
    let mut h = rich_header();
    h.task = Task::Classify { classes: 3 };
    h.decoder[1].outputs = 3;
    h
}

#[test]
fn round_trip_with_names_and_every_new_field() {
    let mut h = rich_header();
    h.time_unit = 1800.0;
    h.clock = Clock::DateTime;
    h.reference = Reference::LastValue;
    let w = weights(&h, 3, 0.7);
    let names = Names {
        channels: &["ecg", "résp ω"],
        classes: &[],
    };
    let bytes = encode_named(&h, &w, &names);
    assert_eq!(
        bytes.len(),
        format::encoded_len(&h, &w, &names).unwrap(),
        "encoded_len"
    );
    #[cfg(feature = "alloc")]
    assert_eq!(format::encode_to_vec(&h, &w, &names).unwrap(), bytes);
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.header(), &h);
    assert_eq!(model.format_version(), FORMAT_VERSION);
    assert_eq!(model.time_unit(), 1800.0);
    assert_eq!(model.nominal_gap(), 0.1f32 * 1800.0);
    assert_eq!(model.channel_name(0), Some("ecg"));
    assert_eq!(model.channel_name(1), Some("résp ω"));
    assert_eq!(model.channel_name(2), None);
    assert_eq!(model.channel_names().collect::<Vec<_>>(), ["ecg", "résp ω"]);
    assert_eq!(model.class_name(0), None);
    assert_eq!(model.class_names().count(), 0);
    let back: Vec<f32> = format::le_f32s(model.weight_bytes()).collect();
    assert_eq!(back, w);

    // A classifier with class names and no channel names; every clock.
    for clock in [Clock::Index, Clock::Number, Clock::DateTime] {
        let mut h = classifier_header();
        h.clock = clock;
        let w = weights(&h, 5, 0.5);
        let names = Names {
            channels: &[],
            classes: &["normal", "atrial fibrillation", "noise"],
        };
        let bytes = encode_named(&h, &w, &names);
        let model = Model::from_bytes(&bytes).unwrap();
        assert_eq!(model.header(), &h);
        assert_eq!(model.class_name(1), Some("atrial fibrillation"));
        assert_eq!(model.class_name(3), None);
        assert_eq!(
            model.class_names().collect::<Vec<_>>(),
            names.classes.to_vec()
        );
        assert_eq!(model.channel_names().count(), 0);
        assert_eq!(model.channel_name(0), None);
    }
}

#[test]
fn names_cost_no_ram() {
    let h = classifier_header();
    let w = weights(&h, 5, 0.5);
    let plain_bytes = encode(&h, &w);
    let plain = Model::from_bytes(&plain_bytes).unwrap();
    let names = Names {
        channels: &["a", "b"],
        classes: &["x", "y", "z"],
    };
    let bytes = encode_named(&h, &w, &names);
    let named = Model::from_bytes(&bytes).unwrap();
    assert_eq!(
        core::mem::size_of_val(&plain),
        core::mem::size_of_val(&named)
    );
    // The names are borrowed from the file itself.
    let name = named.class_name(2).unwrap();
    let file = bytes.as_ptr_range();
    assert!(file.contains(&name.as_ptr()));
}

#[test]
fn version_1_files_load_with_version_1_meaning() {
    let h = rich_header();
    let w = weights(&h, 3, 0.7);
    let v1 = raw_file(1, &h, &le_bytes(&w));
    let model = Model::from_bytes(&v1).unwrap();
    assert_eq!(model.format_version(), 1);
    let header = model.header();
    assert_eq!(header.time_unit, 1.0);
    assert_eq!(header.clock, Clock::Number);
    assert_eq!(header.reference, Reference::Global);
    assert_eq!(model.nominal_gap(), h.sample_dt);
    assert_eq!(model.channel_names().count(), 0);
    assert_eq!(model.class_names().count(), 0);
    // The same model written as version 2 computes the same bits.
    let mut h2 = h.clone();
    h2.clock = Clock::Number;
    let v2 = encode(&h2, &w);
    let model2 = Model::from_bytes(&v2).unwrap();
    assert_eq!(model2.format_version(), FORMAT_VERSION);
    assert_eq!(model2.header(), header);
    let x: Vec<f32> = (0..10).map(|i| (i as f32 * 0.7).sin()).collect();
    let gaps = [0.1, 0.05, 0.2, 0.1, 0.15];
    let mut a = Session::<8, 16>::new(&model).unwrap();
    let mut b = Session::<8, 16>::new(&model2).unwrap();
    let (mut oa, mut ob) = ([0.0f32; 6], [0.0f32; 6]);
    a.run_window(&x, Some(&gaps), &mut oa).unwrap();
    b.run_window(&x, Some(&gaps), &mut ob).unwrap();
    assert_eq!(oa.map(f32::to_bits), ob.map(f32::to_bits));
    // A version-1 file with anything after its weights is refused.
    let mut longer = raw_file(1, &h, &le_bytes(&w));
    longer.truncate(longer.len() - 4);
    longer.extend_from_slice(b"\x01a\x00");
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&longer);
    longer.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        Model::from_bytes(&longer).unwrap_err(),
        LoadError::TrailingBytes { count: 3 }
    );
}

/// Encoding refuses the names with `expected`, and a raw file with the same
/// names (joined) is refused on load with the same error.
fn refused(h: &nagode::Header, channels: &[&str], classes: &[&str], expected: LoadError) -> String {
    let w = weights(h, 1, 0.5);
    let names = Names { channels, classes };
    assert_eq!(
        format::encoded_len(h, &w, &names),
        Err(EncodeError::Invalid(expected.clone())),
        "encode {channels:?} {classes:?}"
    );
    let mut out = vec![0u8; 4096];
    assert_eq!(
        format::encode(h, &w, &names, &mut out),
        Err(EncodeError::Invalid(expected.clone()))
    );
    let file = raw_named(
        2,
        h,
        &le_bytes(&w),
        &channels.join("\n"),
        &classes.join("\n"),
    );
    let err = Model::from_bytes(&file).unwrap_err();
    // A name holding '\n' splits into more names when joined.
    if !channels.iter().chain(classes).any(|n| n.contains('\n')) {
        assert_eq!(err, expected, "load {channels:?} {classes:?}");
    }
    err.to_string()
}

#[test]
fn every_name_error() {
    let h = rich_header();
    let c = classifier_header();
    let long = "n".repeat(MAX_NAME_LEN + 1);
    let longest = "n".repeat(MAX_NAME_LEN);
    let ch = NameList::Channels;
    let cl = NameList::Classes;
    let message = refused(
        &h,
        &["a"],
        &[],
        LoadError::NameCount {
            list: ch,
            expected: 2,
            found: 1,
        },
    );
    assert_eq!(
        message,
        "1 channel names for 2 channels (give one per channel or none)"
    );
    refused(
        &h,
        &["a", "b", "c"],
        &[],
        LoadError::NameCount {
            list: ch,
            expected: 2,
            found: 3,
        },
    );
    let message = refused(
        &h,
        &[],
        &["up", "down"],
        LoadError::NameCount {
            list: cl,
            expected: 0,
            found: 2,
        },
    );
    assert_eq!(message, "a forecaster has no classes but the file names 2");
    refused(
        &c,
        &[],
        &["a", "b"],
        LoadError::NameCount {
            list: cl,
            expected: 3,
            found: 2,
        },
    );
    let message = refused(
        &c,
        &["a", "b"],
        &["x", "y", "x"],
        LoadError::DuplicateName {
            list: cl,
            index: 2,
            first: 0,
        },
    );
    assert_eq!(message, "class name 2 repeats class name 0");
    refused(
        &h,
        &["same", "same"],
        &[],
        LoadError::DuplicateName {
            list: ch,
            index: 1,
            first: 0,
        },
    );
    let message = refused(
        &h,
        &["a", ""],
        &[],
        LoadError::BadName {
            list: ch,
            index: 1,
            reason: "is empty",
        },
    );
    assert_eq!(message, "channel name 1 is empty");
    refused(
        &h,
        &[&long, "b"],
        &[],
        LoadError::BadName {
            list: ch,
            index: 0,
            reason: "is longer than 64 bytes",
        },
    );
    let control = "contains a newline or another control character";
    for bad in [
        "a\nb",
        "tab\there",
        "cr\r",
        "nul\0",
        "del\u{7f}",
        "c1\u{85}",
    ] {
        refused(
            &c,
            &[],
            &["ok", bad, "fine"],
            LoadError::BadName {
                list: cl,
                index: 1,
                reason: control,
            },
        );
    }
    // At the limits: 64 bytes, multi-byte UTF-8, spaces and punctuation.
    let ok = Names {
        channels: &[&longest, "Ω ≈ 2π, °C"],
        classes: &[],
    };
    Model::from_bytes(&encode_named(&h, &weights(&h, 1, 0.5), &ok)).unwrap();
}

#[test]
fn names_that_are_not_utf8_are_a_decode_error() {
    let h = rich_header();
    let file = raw_named_bytes(&h, &le_bytes(&weights(&h, 1, 0.5)), b"ec\xff\nresp");
    assert_eq!(
        Model::from_bytes(&file).unwrap_err(),
        LoadError::Decode(postcard::Error::DeserializeBadUtf8)
    );
}

#[test]
fn every_time_unit_error() {
    type Edit = fn(&mut nagode::Header);
    let cases: [Edit; 7] = [
        |h| h.time_unit = 0.0,
        |h| h.time_unit = -1.0,
        |h| h.time_unit = f32::NAN,
        |h| h.time_unit = f32::INFINITY,
        // sample_dt * time_unit overflows.
        |h| {
            h.sample_dt = 100.0;
            h.time_unit = f32::MAX;
        },
        // Subnormal.
        |h| h.time_unit = 1e-44,
        // sample_dt * time_unit is subnormal.
        |h| h.time_unit = 2e-38,
    ];
    for edit in cases {
        let mut h = rich_header();
        edit(&mut h);
        let w = weights(&h, 1, 0.5);
        let err = Model::from_bytes(&raw_file(2, &h, &le_bytes(&w))).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::BadParameter {
                    what: "time_unit",
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            format::encoded_len(&h, &w, &Names::NONE),
            Err(EncodeError::Invalid(LoadError::BadParameter {
                what: "time_unit",
                ..
            }))
        ));
    }
}

/// Outputs as bits of `run_window` with `gaps` and of pushing the same
/// samples with the same gaps, then `predict`.
fn both_paths(model: &Model<'_>, x: &[f32], gaps: &[f32]) -> (Vec<u32>, Vec<u32>) {
    let mut s = Session::<16, 64>::new(model).unwrap();
    let mut out = vec![0.0f32; model.output_len()];
    s.run_window(x, Some(gaps), &mut out).unwrap();
    let window = out.iter().map(|v| v.to_bits()).collect();
    for (sample, gap) in x.chunks(model.channels()).zip(gaps) {
        s.push(sample, *gap).unwrap();
    }
    s.predict(&mut out).unwrap();
    (window, out.iter().map(|v| v.to_bits()).collect())
}

#[test]
fn gaps_are_given_in_the_users_units() {
    // Scalar integrator, sample_dt 1: time unit 1800 with gaps of 1800 is
    // time unit 1 with gaps of 1, bit for bit (1800 / 1800 = 1 exactly).
    let mut h = scalar_header(4, SolverKind::Rk4);
    h.solver.max_step = 0.25;
    let one = encode(&h, &INTEGRATOR);
    h.time_unit = 1800.0;
    h.clock = Clock::DateTime;
    let seconds = encode(&h, &INTEGRATOR);
    let (one, seconds) = (
        Model::from_bytes(&one).unwrap(),
        Model::from_bytes(&seconds).unwrap(),
    );
    assert_eq!(seconds.nominal_gap(), 1800.0);
    let x = [0.5, -1.0, 2.0, 0.25];
    let a = both_paths(&one, &x, &[1.0; 4]);
    let regular = both_paths(&seconds, &x, &[1800.0; 4]);
    assert_eq!(a, regular);
    // Irregular gaps whose quotients are exact: 900, 3600, 2700 s.
    let a = both_paths(&one, &x, &[1.0, 0.5, 2.0, 1.5]);
    let b = both_paths(&seconds, &x, &[1800.0, 900.0, 3600.0, 2700.0]);
    assert_eq!(a, b);
    // And run_window without gaps uses the nominal gap.
    let mut s = Session::<4, 4>::new(&seconds).unwrap();
    let mut out = [0.0f32];
    s.run_window(&x, None, &mut out).unwrap();
    assert_eq!(regular.0, [out[0].to_bits()]);
    // y = sum of the inputs times gaps of 1: 0.5 - 1 + 2 + 0.25.
    assert_eq!(out[0], 1.75);
    // The rich model at sample_dt 0.1: 180, 90, 270 s are 0.1, 0.05, 0.15.
    let mut h = rich_header();
    let w = weights(&h, 2, 0.6);
    let plain_bytes = encode(&h, &w);
    let plain = Model::from_bytes(&plain_bytes).unwrap();
    h.time_unit = 1800.0;
    let bytes = encode(&h, &w);
    let scaled = Model::from_bytes(&bytes).unwrap();
    let x: Vec<f32> = (0..10).map(|i| (i as f32 * 0.4).cos()).collect();
    assert_eq!(
        both_paths(&plain, &x, &[0.1, 0.05, 0.15, 0.1, 0.05]),
        both_paths(&scaled, &x, &[180.0, 90.0, 270.0, 180.0, 90.0])
    );
}

#[test]
fn converted_gaps_are_checked_and_refusals_change_nothing() {
    let mut h = scalar_header(2, SolverKind::Euler);
    h.time_unit = 1e-3;
    let model_bytes = encode(&h, &INTEGRATOR);
    let model = Model::from_bytes(&model_bytes).unwrap();
    let mut s = Session::<4, 4>::new(&model).unwrap();
    s.push(&[1.0], model.nominal_gap()).unwrap();
    // Fine in user units, infinite in solver time.
    assert_eq!(
        s.push(&[1.0], 1e38),
        Err(RunError::BadGap { gap: f32::INFINITY })
    );
    // 5 s = 5000 solver units: more than 4096 steps of 1.
    assert!(matches!(
        s.push(&[1.0], 5.0),
        Err(RunError::TooManySubsteps { .. })
    ));
    for gap in [0.0, -1e-3, f32::NAN] {
        assert!(matches!(s.push(&[1.0], gap), Err(RunError::BadGap { .. })));
    }
    assert_eq!(s.len(), 1);
    let mut out = [0.0f32];
    assert!(matches!(
        s.run_window(&[1.0, 2.0], Some(&[1.0, 5.0]), &mut out),
        Err(RunError::TooManySubsteps { .. })
    ));
    // 2 ms = 2 solver units: the integrator gives 1 * 1 + 2 * 2 (the first
    // step is sample_dt = 1 in solver units).
    s.run_window(&[1.0, 2.0], Some(&[123.0, 2e-3]), &mut out)
        .unwrap();
    assert_eq!(out[0], 5.0);
}

#[test]
fn last_value_reference_follows_the_formula() {
    // Integrator over gaps of 1: y = sum_n input(x_n, r), forecast
    // output(y, r) with r = the window's last sample.
    let mut h = scalar_header(3, SolverKind::Euler);
    h.mean[0] = 0.5;
    h.std[0] = 2.0;
    h.reference = Reference::LastValue;
    let bytes = encode(&h, &INTEGRATOR);
    let model = Model::from_bytes(&bytes).unwrap();
    let x = [3.0f32, 7.0, 5.0];
    let r = 5.0;
    let y: f32 = x.iter().map(|v| normalise::input(*v, r, 0.5, 2.0)).sum();
    let expected = normalise::output(y, r, 0.5, 2.0);
    // (3-5-0.5)/2 + (7-5-0.5)/2 + (5-5-0.5)/2 = -1.25 + 0.75 - 0.25 = -0.75;
    // -0.75 * 2 + 0.5 + 5 = 4.
    assert_eq!(expected, 4.0);
    let (window, streamed) = both_paths(&model, &x, &[1.0; 3]);
    assert_eq!(window, [expected.to_bits()]);
    assert_eq!(streamed, [expected.to_bits()]);
    // The ring's last sample is the reference once older samples dropped out.
    let mut s = Session::<4, 4>::new(&model).unwrap();
    for v in [100.0, -40.0, 3.0, 7.0, 5.0] {
        s.push(&[v], 1.0).unwrap();
    }
    let mut out = [0.0f32];
    s.predict(&mut out).unwrap();
    assert_eq!(out[0], expected);
}

/// A window of eighths and a copy shifted by 64: both exact in f32, so the
/// model sees bit-identical inputs under the last-value reference.
fn window_and_shifted(model: &Model<'_>) -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..model.window_capacity_needed())
        .map(|i| ((i * 37) % 29) as f32 / 8.0 - 1.5)
        .collect();
    let shifted = x.iter().map(|v| v + 64.0).collect();
    (x, shifted)
}

#[test]
fn last_value_forecast_shifts_with_the_window() {
    let mut h = rich_header();
    h.reference = Reference::LastValue;
    let w = weights(&h, 4, 0.6);
    let bytes = encode(&h, &w);
    let model = Model::from_bytes(&bytes).unwrap();
    let (x, shifted) = window_and_shifted(&model);
    let mut s = Session::<16, 64>::new(&model).unwrap();
    let (mut a, mut b) = ([0.0f32; 6], [0.0f32; 6]);
    s.run_window(&x, None, &mut a).unwrap();
    s.run_window(&shifted, None, &mut b).unwrap();
    for (a, b) in a.iter().zip(&b) {
        assert!(((b - a) - 64.0).abs() < 1e-4, "{a} -> {b}");
    }
    // Under the global reference the same shift is no shift of the forecast.
    h.reference = Reference::Global;
    let global = encode(&h, &w);
    let global = Model::from_bytes(&global).unwrap();
    let mut s = Session::<16, 64>::new(&global).unwrap();
    s.run_window(&x, None, &mut a).unwrap();
    s.run_window(&shifted, None, &mut b).unwrap();
    assert!(a.iter().zip(&b).any(|(a, b)| ((b - a) - 64.0).abs() > 1e-2));
}

#[test]
fn last_value_classifier_sees_relative_inputs_and_keeps_its_logits() {
    let mut h = classifier_header();
    h.reference = Reference::LastValue;
    let w = weights(&h, 6, 0.6);
    let bytes = encode(&h, &w);
    let model = Model::from_bytes(&bytes).unwrap();
    let (x, shifted) = window_and_shifted(&model);
    let gaps = [0.1, 0.05, 0.2, 0.1, 0.15];
    let (a, a_streamed) = both_paths(&model, &x, &gaps);
    let (b, b_streamed) = both_paths(&model, &shifted, &gaps);
    // Inputs relative to the last value are identical, logits are not shifted.
    assert_eq!(a, b);
    assert_eq!(a, a_streamed);
    assert_eq!(b, b_streamed);
}
