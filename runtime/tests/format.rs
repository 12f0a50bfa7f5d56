//! The model file: round trip, corruption, hostile headers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use nagode::format::{self, Activation, Names, Task, FORMAT_VERSION, MAGIC};
use nagode::{Block, EncodeError, LoadError, Model};
use proptest::prelude::*;

#[test]
fn round_trip() {
    let h = rich_header();
    let w = weights(&h, 3, 0.7);
    let bytes = encode(&h, &w);
    assert_eq!(
        bytes.len(),
        format::encoded_len(&h, &w, &Names::NONE).unwrap()
    );
    assert_eq!(&bytes[..4], &MAGIC);
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.header(), &h);
    let back: Vec<f32> = format::le_f32s(model.weight_bytes()).collect();
    assert_eq!(back, w);
    // The layer views see the same numbers: encoder layer 0, W[2][1] and b[2].
    let enc = &model.encoder()[0];
    assert_eq!(enc.weight(2, 1), Some(w[2 * 2 + 1]));
    assert_eq!(enc.bias(2), Some(w[6 + 2]));
    assert_eq!(enc.weight(0, 2), None);
    assert_eq!(model.output_len(), 6);
    assert_eq!(model.encoded_dim(), 3);
    assert_eq!(model.state_capacity_needed(), 8);
    assert_eq!(model.window_capacity_needed(), 10);
    // 5 samples x ceil(0.1 / 0.04) = 3 sub-steps x 1 evaluation.
    assert_eq!(model.evals_per_prediction(), 15);
}

#[cfg(feature = "alloc")]
#[test]
fn encode_to_vec_matches_encode() {
    let h = rich_header();
    let w = weights(&h, 3, 0.7);
    assert_eq!(
        format::encode_to_vec(&h, &w, &Names::NONE).unwrap(),
        encode(&h, &w)
    );
}

#[test]
fn encoder_refuses_small_buffers_and_invalid_models() {
    let h = rich_header();
    let w = weights(&h, 3, 0.7);
    let need = format::encoded_len(&h, &w, &Names::NONE).unwrap();
    let mut small = vec![0u8; need - 1];
    assert_eq!(
        format::encode(&h, &w, &Names::NONE, &mut small),
        Err(EncodeError::BufferTooSmall {
            need,
            found: need - 1
        })
    );
    let mut bad = w.clone();
    bad[40] = f32::NAN;
    assert!(matches!(
        format::encoded_len(&h, &bad, &Names::NONE),
        Err(EncodeError::Invalid(LoadError::NonFiniteWeight { .. }))
    ));
    assert!(matches!(
        format::encoded_len(&h, &w[1..], &Names::NONE),
        Err(EncodeError::Invalid(LoadError::WeightBytes { .. }))
    ));
}

/// Every single-bit flip is caught (CRC-32 detects all of them) with a named error.
#[test]
fn every_bit_flip_is_rejected() {
    let bytes = rich_file();
    let mut kinds = std::collections::BTreeSet::new();
    for i in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[i / 8] ^= 1 << (i % 8);
        let err = Model::from_bytes(&b).expect_err("flipped file loaded");
        kinds.insert(
            format!("{err:?}")
                .split([' ', '(', '{'])
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    println!("bit flips: {} rejected as {kinds:?}", bytes.len() * 8);
    assert!(kinds.contains("BadMagic") && kinds.contains("CrcMismatch"));
}

#[test]
fn every_truncation_and_extension_is_rejected() {
    let bytes = rich_file();
    for len in 0..bytes.len() {
        let err = Model::from_bytes(&bytes[..len]).expect_err("truncated file loaded");
        if len < format::MIN_FILE_LEN {
            assert!(matches!(
                err,
                LoadError::TooShort { .. } | LoadError::BadMagic { .. }
            ));
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Model::from_bytes(&longer).is_err());
}

#[test]
fn wrong_magic() {
    let mut b = rich_file();
    b[..4].copy_from_slice(b"PNG\0");
    assert_eq!(
        Model::from_bytes(&b).unwrap_err(),
        LoadError::BadMagic { found: *b"PNG\0" }
    );
}

#[test]
fn newer_version_is_refused_by_name() {
    let h = rich_header();
    let file = raw_file(
        format::NEWEST_VERSION + 1,
        &h,
        &le_bytes(&weights(&h, 1, 0.5)),
    );
    let err = Model::from_bytes(&file).unwrap_err();
    assert_eq!(
        err,
        LoadError::NewerVersion {
            found: format::NEWEST_VERSION + 1,
            supported: format::NEWEST_VERSION
        }
    );
    let newest = format::NEWEST_VERSION;
    assert_eq!(
        err.to_string(),
        format!(
            "format version {} is newer than supported {newest}",
            newest + 1
        )
    );
    let file = raw_file(0, &h, &le_bytes(&weights(&h, 1, 0.5)));
    assert_eq!(
        Model::from_bytes(&file).unwrap_err(),
        LoadError::UnsupportedVersion { found: 0 }
    );
}

#[test]
fn raw_framing_equals_encoder() {
    let h = rich_header();
    let w = weights(&h, 1, 0.5);
    assert_eq!(raw_file(FORMAT_VERSION, &h, &le_bytes(&w)), encode(&h, &w));
}

fn load_raw(h: &nagode::Header, w: &[f32]) -> LoadError {
    Model::from_bytes(&raw_file(FORMAT_VERSION, h, &le_bytes(w))).unwrap_err()
}

#[test]
fn shapes_not_matching_weights() {
    let h = rich_header();
    let w = weights(&h, 1, 0.5);
    let n = w.len();
    assert_eq!(
        load_raw(&h, &w[..n - 1]),
        LoadError::WeightBytes {
            expected: 4 * n,
            found: 4 * (n - 1)
        }
    );
    // Odd byte count.
    let mut bytes = le_bytes(&w);
    bytes.pop();
    assert!(matches!(
        Model::from_bytes(&raw_file(FORMAT_VERSION, &h, &bytes)).unwrap_err(),
        LoadError::WeightBytes { .. }
    ));
}

#[test]
fn layer_chaining_errors_name_the_layer() {
    let mut h = rich_header();
    h.field[1].inputs = 7;
    h.field[0].outputs = 7;
    // Same weight count as before? No: recompute so only chaining is wrong.
    h.field[1].inputs = 6;
    let w = vec![0.1; format::weight_count(&h).unwrap()];
    let err = load_raw(&h, &w);
    assert_eq!(
        err,
        LoadError::LayerInputs {
            block: Block::Field,
            layer: 1,
            expected: 7,
            found: 6
        }
    );
    assert_eq!(err.to_string(), "field layer 1 expects 6 inputs but gets 7");

    let mut h = rich_header();
    h.decoder[1].outputs = 5;
    let w = vec![0.1; format::weight_count(&h).unwrap()];
    assert_eq!(
        load_raw(&h, &w),
        LoadError::BlockOutputs {
            block: Block::Decoder,
            expected: 6,
            found: 5
        }
    );

    let mut h = rich_header();
    h.field.clear();
    let w = vec![0.1; format::weight_count(&h).unwrap()];
    assert_eq!(load_raw(&h, &w), LoadError::EmptyField);

    let mut h = rich_header();
    h.std.pop();
    let w = weights(&h, 1, 0.5);
    assert!(matches!(
        load_raw(&h, &w),
        LoadError::NormalisationLength { what: "std", .. }
    ));

    let mut h = rich_header();
    h.task = Task::Classify { classes: 0 };
    let w = vec![0.1; format::weight_count(&h).unwrap()];
    assert!(matches!(load_raw(&h, &w), LoadError::ZeroDimension { .. }));
}

#[test]
fn nan_and_infinite_weights() {
    let h = rich_header();
    let mut w = weights(&h, 1, 0.5);
    // Encoder has 3 * 3 = 9 values; field layer 0 has 8 * 8 = 64; index 70 is field 0 value 61.
    w[70] = f32::NAN;
    assert_eq!(
        load_raw(&h, &w),
        LoadError::NonFiniteWeight {
            block: Block::Field,
            layer: 0,
            index: 61
        }
    );
    w[70] = 0.0;
    let last = w.len() - 1;
    w[last] = f32::NEG_INFINITY;
    assert_eq!(
        load_raw(&h, &w),
        LoadError::NonFiniteWeight {
            block: Block::Decoder,
            layer: 1,
            index: 35
        }
    );
}

#[test]
fn bad_parameters() {
    type Edit = fn(&mut nagode::Header);
    let cases: [(&str, Edit); 9] = [
        ("mu", |h| h.solver.mu = 1.0),
        ("mu", |h| h.solver.mu = -0.1),
        ("mu", |h| h.solver.mu = f32::NAN),
        ("max_step", |h| h.solver.max_step = 0.0),
        ("max_step", |h| h.solver.max_step = f32::INFINITY),
        ("sample_dt", |h| h.sample_dt = -1.0),
        ("sample_dt", |h| h.sample_dt = 1e9),
        ("state_bound", |h| h.state_bound = 0.0),
        ("state_bound", |h| h.state_bound = f32::NAN),
    ];
    for (what, change) in cases {
        let mut h = rich_header();
        change(&mut h);
        let err = load_raw(&h, &weights(&h, 1, 0.5));
        assert!(
            matches!(err, LoadError::BadParameter { what: w, .. } if w == what),
            "{what}: {err}"
        );
    }
    for (channel, change) in [(0usize, 0usize), (1, 1)] {
        let mut h = rich_header();
        if change == 0 {
            h.std[channel] = 0.0;
        } else {
            h.mean[channel] = f32::NAN;
        }
        assert_eq!(
            load_raw(&h, &weights(&h, 1, 0.5)),
            LoadError::BadNormalisation { channel }
        );
    }
}

#[test]
fn absurd_dimensions_do_not_overflow() {
    let mut h = rich_header();
    for l in h
        .field
        .iter_mut()
        .chain(h.encoder.iter_mut())
        .chain(h.decoder.iter_mut())
    {
        l.inputs = u16::MAX;
        l.outputs = u16::MAX;
    }
    h.encoder
        .push(common::layer(u16::MAX, u16::MAX, Activation::Tanh))
        .unwrap();
    let err = load_raw(&h, &[1.0; 16]);
    // 64-bit hosts can count the bytes; 32-bit targets report the overflow.
    assert!(
        matches!(
            err,
            LoadError::WeightBytes { found: 64, .. } | LoadError::SizeOverflow
        ),
        "{err}"
    );
    // A layer that chains and has the bytes but is wider than the format allows.
    let mut h = scalar_header(2, nagode::format::SolverKind::Euler);
    h.field[0] = common::layer(2, 1100, Activation::Tanh);
    h.field
        .push(common::layer(1100, 1, Activation::Identity))
        .unwrap();
    let w = vec![0.0; format::weight_count(&h).unwrap()];
    assert_eq!(
        load_raw(&h, &w),
        LoadError::Limit {
            what: "layer width",
            value: 1100,
            limit: format::MAX_WIDTH
        }
    );
}

/// Re-frames a valid file's message with a fresh CRC after `edit`, so the
/// damage reaches the decoder and validation instead of the CRC check.
fn reframe(bytes: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = bytes[..bytes.len().saturating_sub(4)].to_vec();
    edit(&mut body);
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Model::from_bytes(&bytes);
    }

    #[test]
    fn framed_garbage_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let file = reframe(&[], |b| { b.extend_from_slice(&MAGIC); b.push(1); b.extend_from_slice(&body); });
        let _ = Model::from_bytes(&file);
    }

    /// Any byte of a valid file changed (CRC fixed up) either loads a model
    /// that runs without panicking or gives a named error.
    #[test]
    fn reframed_mutations_never_panic(at in 0usize..10_000, value in any::<u8>(), sample in -5.0f32..5.0) {
        let file = rich_file();
        let file = reframe(&file, |b| { let i = at % b.len(); b[i] = value; });
        if let Ok(model) = Model::from_bytes(&file) {
            if let Ok(mut s) = nagode::Session::<64, 64>::new(&model) {
                let x = vec![sample; model.window_capacity_needed()];
                let mut out = [0.0f32; 64];
                let _ = s.run_window(&x, None, &mut out);
            }
        };
    }
}
