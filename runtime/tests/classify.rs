//! Static-input classifiers (format 6, `ModelKind::Static`): the frozen
//! fixture and its golden logits, the depth dial, the kind and shape
//! checks, and bad input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::layer;
use nagode::format::{self, Activation, Header, ModelKind, SolverKind, Task};
use nagode::{Classifier, LoadError, RunError, StaticModel};

/// A small static model: 6 features -> 4 (tanh) -> field [4 + t] -> 8
/// (tanh) -> 4 over [0, 1] in `steps` steps of `kind` -> 3 logits.
fn header(kind: SolverKind, steps: u16) -> Header {
    Header {
        task: Task::Classify { classes: 3 },
        channels: 6,
        window: 1,
        sample_dt: 1.0,
        mean: heapless::Vec::new(),
        std: heapless::Vec::new(),
        state_dim: 4,
        encoder: heapless::Vec::from_slice(&[layer(6, 4, Activation::Tanh)]).unwrap(),
        field: heapless::Vec::from_slice(&[
            layer(5, 8, Activation::Tanh),
            layer(8, 4, Activation::Identity),
        ])
        .unwrap(),
        decoder: heapless::Vec::from_slice(&[layer(4, 3, Activation::Identity)]).unwrap(),
        solver: common::spec(kind, 1.0 / f32::from(steps)),
        state_bound: 1.0e4,
        time_unit: 1.0,
        clock: format::Clock::Index,
        reference: nagode::normalise::Reference::Global,
    }
}

/// The fixture as first written (NAG, 4 steps). Only for writing it once:
/// `NAGODE_WRITE_V6_FIXTURE=1 cargo test -p nagode --features std --test classify`.
fn v6_source() -> Vec<u8> {
    let h = header(SolverKind::Nag, 4);
    common::encode_kind(&h, ModelKind::Static, &common::weights(&h, 24, 0.8))
}

#[test]
fn write_v6_fixture_on_request() {
    if std::env::var_os("NAGODE_WRITE_V6_FIXTURE").is_none() {
        return;
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v6_static.nagode");
    assert!(!path.exists(), "{} is frozen", path.display());
    std::fs::write(&path, v6_source()).unwrap();
}

/// Input `p` of the fixture's checks.
fn input(p: usize) -> [f32; 6] {
    core::array::from_fn(|i| (0.7 * (p * 6 + i) as f32).sin() * 3.0)
}

/// The fixture's logits for inputs 0..4, as bits.
const GOLDEN_V6: [[u32; 3]; 4] = [
    [0xbffbc5d3, 0x3fb7b98b, 0xbf149fa5],
    [0x405a09ea, 0xc017bbd0, 0x3e6fa2d8],
    [0xbf7de8db, 0x3f2578c8, 0xbf8bb2a8],
    [0xc0099ae8, 0x3fc55f64, 0xbf28ffea],
];

#[test]
fn v6_static() {
    let bytes = include_bytes!("fixtures/v6_static.nagode");
    assert_eq!(v6_source(), bytes);
    assert_eq!(format::model_kind(bytes), Ok(ModelKind::Static));
    let model = StaticModel::from_bytes(bytes).unwrap();
    assert_eq!(model.model().format_version(), 6);
    let mut cl = Classifier::<8, 4>::new(&model).unwrap();
    assert_eq!(cl.steps(), 4);
    let mut logits = [0.0f32; 3];
    let got: Vec<[u32; 3]> = (0..4)
        .map(|p| {
            let class = cl.classify(&input(p), &mut logits).unwrap();
            assert_eq!(class, nagode::classify::argmax(&logits));
            logits.map(f32::to_bits)
        })
        .collect();
    assert_eq!(got, GOLDEN_V6, "{got:#010x?}");
}

#[test]
fn the_depth_dial_at_the_files_steps_is_classify() {
    for kind in [
        SolverKind::Nag,
        SolverKind::Euler,
        SolverKind::Midpoint,
        SolverKind::Rk4,
    ] {
        let h = header(kind, 4);
        let bytes = common::encode_kind(&h, ModelKind::Static, &common::weights(&h, 5, 0.8));
        let model = StaticModel::from_bytes(&bytes).unwrap();
        let mut cl = Classifier::<8>::new(&model).unwrap();
        let (mut a, mut b) = ([0.0f32; 3], [0.0f32; 3]);
        cl.classify(&input(1), &mut a).unwrap();
        cl.classify_steps(&input(1), 4, &mut b).unwrap();
        assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "{kind:?}");
        cl.classify_steps(&input(1), 1, &mut b).unwrap();
        assert_ne!(a, b, "{kind:?}: one step is another model");
        assert_eq!(
            cl.classify_steps(&input(1), 0, &mut b),
            Err(RunError::BadMaxStep {
                max_step: f32::INFINITY
            })
        );
    }
}

#[test]
fn bad_input_is_refused_by_name() {
    let bytes = v6_source();
    let model = StaticModel::from_bytes(&bytes).unwrap();
    let mut cl = Classifier::<8>::new(&model).unwrap();
    let mut logits = [0.0f32; 3];
    assert_eq!(
        cl.classify(&[0.0; 5], &mut logits),
        Err(RunError::SampleLength {
            expected: 6,
            found: 5
        })
    );
    let mut x = input(0);
    x[2] = f32::NAN;
    assert_eq!(
        cl.classify(&x, &mut logits),
        Err(RunError::NonFiniteSample {
            sample: 0,
            channel: 2
        })
    );
    assert_eq!(
        cl.classify(&input(0), &mut [0.0; 2]),
        Err(RunError::OutputTooSmall { need: 3, found: 2 })
    );
    assert!(matches!(
        Classifier::<5>::new(&model),
        Err(LoadError::Capacity { what: "STATE", .. })
    ));
}

#[test]
fn the_kind_and_its_shape_are_checked() {
    let h = header(SolverKind::Nag, 4);
    let w = common::weights(&h, 24, 0.8);
    // Any other kind is refused by StaticModel, and other loaders refuse it.
    let flow = include_bytes!("fixtures/v5_flow.nagode");
    assert!(matches!(
        StaticModel::from_bytes(flow),
        Err(LoadError::WrongKind { .. })
    ));
    let bytes = v6_source();
    assert!(matches!(
        nagode::StreamModel::from_bytes(&bytes),
        Err(LoadError::WrongKind { .. })
    ));
    assert!(matches!(
        nagode::FlowModel::from_bytes(&bytes),
        Err(LoadError::WrongKind { .. })
    ));
    // A static header is no window model (its field takes [h, t]) ...
    assert!(
        format::encoded_len_with_kind(&h, ModelKind::Window, &w, &format::Names::NONE).is_err()
    );
    // ... and a static model must keep the fixed shape.
    let mut two_steps_long = h.clone();
    two_steps_long.sample_dt = 2.0;
    let mut normalised = h.clone();
    normalised.mean = heapless::Vec::from_slice(&[0.0; 6]).unwrap();
    normalised.std = heapless::Vec::from_slice(&[1.0; 6]).unwrap();
    for bad in [two_steps_long, normalised] {
        assert!(
            format::encoded_len_with_kind(&bad, ModelKind::Static, &w, &format::Names::NONE)
                .is_err()
        );
    }
    // A version-5 file with the static kind is refused.
    let mut v5 = bytes.clone();
    v5[4] = 5;
    let body = v5.len() - 4;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&v5[..body]);
    v5[body..].copy_from_slice(&crc.to_le_bytes());
    assert!(matches!(
        nagode::Model::from_bytes(&v5),
        Err(LoadError::WrongKind { .. })
    ));
}
