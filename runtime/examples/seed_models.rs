//! Writes the small hand-built model files used as fuzzing seeds, and the
//! broken-model corpus of the integration tests:
//! `cargo run -p nagode --features std --example seed_models -- fuzz/seeds/models tests/tests/corpus/models`.
//! Each broken file is named `<case>__<expected LoadError variant>.nagode`.
//! Test-data generation: indexing into fixed test vectors is fine here.
#![allow(clippy::indexing_slicing)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{
    encode, encode_named, le_bytes, raw_file, raw_named, raw_named_bytes, rich_file, rich_header,
    scalar_header, weights,
};
use nagode::format::{self, Activation, Names, SolverKind, Task, FORMAT_VERSION};
use std::path::Path;

/// Replaces the CRC after editing the message.
fn reframe(file: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = file[..file.len().saturating_sub(4)].to_vec();
    edit(&mut body);
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// One file of the corpus: its name and its bytes.
type Case = (&'static str, Vec<u8>);

/// Every case of the corpus, one group per stage of the loader's checks.
fn broken() -> Vec<Case> {
    let h = rich_header();
    let w = weights(&h, 7, 0.5);
    [
        frame_cases(&h, &w),
        layer_cases(&h, &w),
        value_cases(),
        version_cases(&h, &w),
        name_cases(&h, &w),
        quant_cases(&h, &w),
    ]
    .concat()
}

/// A current-version file of `h` and `w`, unchecked.
fn raw(h: &nagode::Header, w: &[f32]) -> Vec<u8> {
    raw_file(FORMAT_VERSION, h, &le_bytes(w))
}

/// The rich model's file after `edit` to its header (weights all 0.25).
fn edited(edit: fn(&mut nagode::Header)) -> Vec<u8> {
    let mut h = rich_header();
    edit(&mut h);
    let w = vec![0.25; format::weight_count(&h).unwrap_or(0)];
    raw(&h, &w)
}

/// The file as a whole: length, magic, CRC, version, decode, trailing bytes.
fn frame_cases(h: &nagode::Header, w: &[f32]) -> Vec<Case> {
    let valid = rich_file();
    let mut flipped = valid.clone();
    flipped[100] ^= 0x10;
    vec![
        ("empty__TooShort", Vec::new()),
        ("three_bytes__TooShort", b"NAG".to_vec()),
        (
            "wrong_magic__BadMagic",
            [b"NAGX".as_slice(), &valid[4..]].concat(),
        ),
        (
            "png_header__BadMagic",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
        ),
        ("bit_flip__CrcMismatch", flipped),
        ("truncated__CrcMismatch", valid[..valid.len() / 2].to_vec()),
        (
            "future_version__NewerVersion",
            raw_file(u16::MAX, h, &le_bytes(w)),
        ),
        (
            "version_zero__UnsupportedVersion",
            raw_file(0, h, &le_bytes(w)),
        ),
        (
            "garbage_header__Decode",
            reframe(&[], |b| {
                b.extend_from_slice(b"NAGO\x01\xff\xff\xff\xff\xff\xff\x07");
            }),
        ),
        (
            "trailing_bytes__TrailingBytes",
            reframe(&valid, |b| b.push(0)),
        ),
    ]
}

/// The layers against the weights: sizes, finite values, chaining.
fn layer_cases(h: &nagode::Header, w: &[f32]) -> Vec<Case> {
    let mut nan = w.to_vec();
    nan[20] = f32::NAN;
    let mut inf = w.to_vec();
    inf[3] = f32::INFINITY;
    let mut absurd = rich_header();
    for l in absurd.field.iter_mut() {
        l.inputs = u16::MAX;
        l.outputs = u16::MAX;
    }
    vec![
        ("weights_missing__WeightBytes", raw(h, &w[..w.len() - 1])),
        ("weights_extra__WeightBytes", raw(h, &[w, &[1.0]].concat())),
        ("absurd_dims__WeightBytes", raw(&absurd, w)),
        ("nan_weight__NonFiniteWeight", raw(h, &nan)),
        ("inf_weight__NonFiniteWeight", raw(h, &inf)),
        (
            "layer_chain__LayerInputs",
            edited(|h| h.field[1].inputs = 6),
        ),
        (
            "decoder_outputs__BlockOutputs",
            edited(|h| h.decoder[1].outputs = 5),
        ),
        ("empty_field__EmptyField", edited(|h| h.field.clear())),
        ("zero_window__ZeroDimension", edited(|h| h.window = 0)),
        (
            "std_missing__NormalisationLength",
            edited(|h| {
                h.std.pop();
            }),
        ),
    ]
}

/// Normalisation, solver and time parameters, and the format limits.
fn value_cases() -> Vec<Case> {
    let mut wide = scalar_header(2, SolverKind::Euler);
    wide.field[0] = common::layer(2, 1100, Activation::Tanh);
    let _ = wide
        .field
        .push(common::layer(1100, 1, Activation::Identity));
    let wide_w = vec![0.0; format::weight_count(&wide).unwrap_or(0)];
    vec![
        ("zero_std__BadNormalisation", edited(|h| h.std[1] = 0.0)),
        ("mu_one__BadParameter", edited(|h| h.solver.mu = 1.0)),
        (
            "nan_max_step__BadParameter",
            edited(|h| h.solver.max_step = f32::NAN),
        ),
        (
            "huge_sample_dt__BadParameter",
            edited(|h| h.sample_dt = 1e9),
        ),
        (
            "negative_bound__BadParameter",
            edited(|h| h.state_bound = -1.0),
        ),
        ("wide_layer__Limit", raw(&wide, &wide_w)),
        (
            "time_unit_zero__BadParameter",
            edited(|h| h.time_unit = 0.0),
        ),
        (
            "time_unit_nan__BadParameter",
            edited(|h| h.time_unit = f32::NAN),
        ),
        (
            "time_unit_overflow__BadParameter",
            edited(|h| {
                h.sample_dt = 100.0;
                h.time_unit = f32::MAX;
            }),
        ),
    ]
}

/// The same model in the current and the older layouts, and their damage.
fn version_cases(h: &nagode::Header, w: &[f32]) -> Vec<Case> {
    let v1 = raw_file(1, h, &le_bytes(w));
    let mut v1_flipped = v1.clone();
    v1_flipped[200] ^= 0x01;
    vec![
        ("valid_rich", rich_file()),
        ("v1_valid_rich", v1.clone()),
        ("v1_bit_flip__CrcMismatch", v1_flipped),
        (
            "v1_with_names__TrailingBytes",
            reframe(&v1, |b| b.extend_from_slice(b"\x01a\x00")),
        ),
        (
            "v2_without_names__Decode",
            reframe(&raw_named(2, h, &le_bytes(w), "", ""), |b| {
                b.truncate(b.len() - 2);
            }),
        ),
    ]
}

/// Channel and class names: counts, characters, lengths, repeats.
fn name_cases(h: &nagode::Header, w: &[f32]) -> Vec<Case> {
    let named = |channels: &str, classes: &str| raw_named(2, h, &le_bytes(w), channels, classes);
    let long = "x".repeat(format::MAX_NAME_LEN + 1);
    let mut classifier = rich_header();
    classifier.task = Task::Classify { classes: 3 };
    classifier.decoder[1].outputs = 3;
    let cw = weights(&classifier, 9, 0.5);
    let classifier_named =
        |classes: &str| raw_named(2, &classifier, &le_bytes(&cw), "ecg\nresp", classes);
    vec![
        (
            "valid_named_classifier",
            encode_named(
                &classifier,
                &cw,
                &Names {
                    channels: &["ecg", "resp"],
                    classes: &["normal", "atrial fibrillation", "noise"],
                },
            ),
        ),
        ("names_too_few__NameCount", named("ecg", "")),
        ("names_newline__NameCount", named("ecg\nresp\nspo2", "")),
        ("names_duplicate__DuplicateName", named("ecg\necg", "")),
        ("names_carriage_return__BadName", named("ecg\r\nresp", "")),
        ("names_empty__BadName", named("ecg\n", "")),
        (
            "names_too_long__BadName",
            named(&format!("ecg\n{long}"), ""),
        ),
        (
            "names_not_utf8__Decode",
            raw_named_bytes(h, &le_bytes(w), b"ec\xff\nresp"),
        ),
        ("forecast_with_classes__NameCount", named("", "up\ndown")),
        (
            "classes_too_many__NameCount",
            classifier_named("a\nb\nc\nd"),
        ),
        (
            "classes_duplicate__DuplicateName",
            classifier_named("a\nb\na"),
        ),
    ]
}

/// Version-4 files: a valid section and the damage its checks refuse.
fn quant_cases(h: &nagode::Header, w: &[f32]) -> Vec<Case> {
    vec![
        ("valid_quantised", quantised(h, w, |_| {})),
        ("quant_rk4__BadQuant", {
            let mut rk = h.clone();
            rk.solver.kind = SolverKind::Rk4;
            quantised(&rk, w, |_| {})
        }),
        (
            "quant_overflow__BadQuant",
            quantised(h, w, |q| {
                q.biases[..4].copy_from_slice(&i32::MAX.to_le_bytes())
            }),
        ),
        (
            "quant_short__BadQuant",
            quantised(h, w, |q| {
                q.weights.pop();
            }),
        ),
        (
            "quant_exponent__BadQuant",
            quantised(h, w, |q| q.out_exps[1] = 100),
        ),
        (
            "quant_missing__Decode",
            reframe(&quantised(h, w, |_| {}), |b| {
                b.truncate(b.len() - section_len(h));
            }),
        ),
    ]
}

/// A quantised section as plain vectors, for editing before it is framed.
struct Section {
    out_exps: Vec<i8>,
    row_exps: Vec<u8>,
    biases: Vec<u8>,
    weights: Vec<u8>,
}

/// Rows, biases and weights of every layer: exponent 6, bias 64, weights
/// cycling through -3..=3 (hand-made: the example builds without the
/// quantiser's `std` feature).
fn section(h: &nagode::Header) -> Section {
    let layers = h.encoder.iter().chain(&h.field).chain(&h.decoder);
    let mut s = Section {
        out_exps: Vec::new(),
        row_exps: Vec::new(),
        biases: Vec::new(),
        weights: Vec::new(),
    };
    for l in layers {
        s.out_exps.push(12);
        for o in 0..l.outputs {
            s.row_exps.push(6);
            s.biases.extend_from_slice(&64i32.to_le_bytes());
            s.weights.extend(
                (0..l.inputs)
                    .map(|i| ((i + o) % 7) as i8 as u8)
                    .map(|w| w.wrapping_sub(3)),
            );
        }
    }
    s
}

/// The section's postcard bytes.
fn section_bytes(s: &Section) -> Vec<u8> {
    let wire = nagode::quant::QuantSection {
        input_exp: 12,
        out_exps: s.out_exps.iter().copied().collect(),
        row_exps: &s.row_exps,
        biases: &s.biases,
        weights: &s.weights,
    };
    let mut buf = vec![0u8; 4096];
    let len = postcard::to_slice(&wire, &mut buf)
        .map(|b| b.len())
        .unwrap_or(0);
    buf.truncate(len);
    buf
}

fn section_len(h: &nagode::Header) -> usize {
    section_bytes(&section(h)).len()
}

/// A version-4 file: the version-3 file of `h`, `w` with a hand-made
/// section (after `edit`) before the CRC.
fn quantised(h: &nagode::Header, w: &[f32], edit: impl FnOnce(&mut Section)) -> Vec<u8> {
    let mut s = section(h);
    edit(&mut s);
    reframe(&encode(h, w), |b| {
        b[4] = format::QUANT_VERSION as u8;
        b.extend_from_slice(&section_bytes(&s));
    })
}

fn write(dir: &Path, files: Vec<Case>) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in files {
        std::fs::write(dir.join(format!("{name}.nagode")), &bytes)?;
        let status = match nagode::Model::from_bytes(&bytes) {
            Ok(_) => "loads".to_owned(),
            Err(e) => e.to_string(),
        };
        println!("{name}: {} bytes: {status}", bytes.len());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seeds = args
        .next()
        .ok_or("usage: seed_models SEED_DIR [CORPUS_DIR]")?;
    let scalar = scalar_header(8, SolverKind::Nag);
    write(
        Path::new(&seeds),
        vec![
            ("rich", rich_file()),
            ("scalar_nag", encode(&scalar, &[-0.5, 1.0, 0.0, 1.0, 0.0])),
        ],
    )?;
    if let Some(corpus) = args.next() {
        write(Path::new(&corpus), broken())?;
    }
    Ok(())
}
