//! Hand-built models shared by the runtime's integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nagode::format::{
    self, Activation, Clock, Header, Layer, ModelKind, Names, SolverKind, SolverSpec, Startup, Task,
};
use nagode::normalise::Reference;

/// A dense layer spec.
pub fn layer(inputs: u16, outputs: u16, activation: Activation) -> Layer {
    Layer {
        inputs,
        outputs,
        activation,
    }
}

/// A solver spec with the given kind, `mu = 0.5`, Euler start-up.
pub fn spec(kind: SolverKind, max_step: f32) -> SolverSpec {
    SolverSpec {
        kind,
        mu: 0.5,
        consistency_scaling: true,
        startup: Startup::Euler,
        max_step,
    }
}

/// The smallest useful model: 1 channel, no encoder, `D = 1`, field
/// `f(y; e) = wy*y + we*e + b` (identity), decoder identity `1 -> 1`
/// forecasting one step. Weights: `[wy, we, b, 1.0, 0.0]`.
pub fn scalar_header(window: u16, kind: SolverKind) -> Header {
    Header {
        task: Task::Forecast { horizon: 1 },
        channels: 1,
        window,
        sample_dt: 1.0,
        mean: heapless::Vec::from_slice(&[0.0]).unwrap(),
        std: heapless::Vec::from_slice(&[1.0]).unwrap(),
        state_dim: 1,
        encoder: heapless::Vec::new(),
        field: heapless::Vec::from_slice(&[layer(2, 1, Activation::Identity)]).unwrap(),
        decoder: heapless::Vec::from_slice(&[layer(1, 1, Activation::Identity)]).unwrap(),
        solver: spec(kind, 1.0),
        state_bound: 1.0e6,
        time_unit: 1.0,
        clock: Clock::Index,
        reference: Reference::Global,
    }
}

/// A model with every kind of block: 2 channels, encoder `2 -> 3` tanh,
/// field `4+3 -> 8 tanh -> 4`, decoder `4 -> 5 relu -> 6` (horizon 3).
pub fn rich_header() -> Header {
    Header {
        task: Task::Forecast { horizon: 3 },
        channels: 2,
        window: 5,
        sample_dt: 0.1,
        mean: heapless::Vec::from_slice(&[0.5, -1.0]).unwrap(),
        std: heapless::Vec::from_slice(&[2.0, 0.25]).unwrap(),
        state_dim: 4,
        encoder: heapless::Vec::from_slice(&[layer(2, 3, Activation::Tanh)]).unwrap(),
        field: heapless::Vec::from_slice(&[
            layer(7, 8, Activation::Tanh),
            layer(8, 4, Activation::Identity),
        ])
        .unwrap(),
        decoder: heapless::Vec::from_slice(&[
            layer(4, 5, Activation::Relu),
            layer(5, 6, Activation::Identity),
        ])
        .unwrap(),
        solver: SolverSpec {
            kind: SolverKind::Nag,
            mu: 0.6,
            consistency_scaling: true,
            startup: Startup::ZeroVelocity,
            max_step: 0.04,
        },
        state_bound: 100.0,
        time_unit: 1.0,
        clock: Clock::Number,
        reference: Reference::Global,
    }
}

/// Deterministic pseudo-random weights in `[-scale, scale)`.
pub fn weights(header: &Header, seed: u64, scale: f32) -> Vec<f32> {
    let n = format::weight_count(header).unwrap();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let unit = (state >> 40) as f32 / (1u64 << 24) as f32;
            (2.0 * unit - 1.0) * scale
        })
        .collect()
}

/// Encodes with the runtime's encoder, no names (panics on error: test
/// input is valid).
pub fn encode(header: &Header, weights: &[f32]) -> Vec<u8> {
    encode_named(header, weights, &Names::NONE)
}

/// Encodes with names (panics on error).
pub fn encode_named(header: &Header, weights: &[f32], names: &Names<'_>) -> Vec<u8> {
    let mut out = vec![0u8; format::encoded_len(header, weights, names).unwrap()];
    let n = format::encode(header, weights, names, &mut out).unwrap();
    out.truncate(n);
    out
}

/// Frames a message with magic and CRC, unchecked.
fn frame(message: &impl serde::Serialize, len_hint: usize) -> Vec<u8> {
    let mut buf = vec![0u8; 256 + len_hint * 2];
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    let n = postcard::to_slice_crc32(message, &mut buf, crc.digest())
        .unwrap()
        .len();
    buf.truncate(n);
    buf
}

/// Frames any header, version and weight bytes exactly like the encoder but
/// without its validation: for building hostile files. Version 1 gets the
/// version-1 layout (the header without the version-2 fields, no names),
/// version 2 the version-2 layout, any other version the version-3 layout,
/// both with no names.
pub fn raw_file(version: u16, header: &Header, weight_bytes: &[u8]) -> Vec<u8> {
    if version == 1 {
        let h = header;
        let v1 = (
            h.task,
            h.channels,
            h.window,
            h.sample_dt,
            &h.mean,
            &h.std,
            h.state_dim,
            &h.encoder,
            &h.field,
            &h.decoder,
            h.solver,
            h.state_bound,
        );
        frame(&(format::MAGIC, 1u16, v1, weight_bytes), weight_bytes.len())
    } else {
        raw_named(version, header, weight_bytes, "", "")
    }
}

/// A file with arbitrary raw name lists (newline-joined), unchecked: the
/// version-2 layout for version 2, else the version-3 one (names, then zero
/// padding to put the weights on a 4-byte boundary, then the weights).
pub fn raw_named(
    version: u16,
    header: &Header,
    weight_bytes: &[u8],
    channels: &str,
    classes: &str,
) -> Vec<u8> {
    let hint = weight_bytes.len() + channels.len() + classes.len();
    if version == 2 {
        return frame(
            &(
                format::MAGIC,
                version,
                header,
                weight_bytes,
                channels,
                classes,
            ),
            hint,
        );
    }
    let front = (format::MAGIC, version, header, channels, classes);
    let front_len =
        postcard::serialize_with_flavor(&front, postcard::ser_flavors::Size::default()).unwrap();
    let count_len = postcard::serialize_with_flavor(
        &weight_bytes.len(),
        postcard::ser_flavors::Size::default(),
    )
    .unwrap();
    let pad = vec![0u8; (4 - (front_len + 1 + count_len) % 4) % 4];
    frame(&(front, pad.as_slice(), weight_bytes), hint)
}

/// A version-2 layout file whose name lists are arbitrary bytes (e.g. not
/// UTF-8), unchecked.
pub fn raw_named_bytes(header: &Header, weight_bytes: &[u8], channels: &[u8]) -> Vec<u8> {
    frame(
        &(format::MAGIC, 2u16, header, weight_bytes, channels, ""),
        weight_bytes.len() + channels.len(),
    )
}

/// Little-endian bytes of f32s.
pub fn le_bytes(w: &[f32]) -> Vec<u8> {
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A valid rich model file.
pub fn rich_file() -> Vec<u8> {
    let h = rich_header();
    encode(&h, &weights(&h, 7, 0.5))
}

/// Weights of the one-state integrator models the tests build: `f(y; e) = e`
/// (wy = 0, we = 1, b = 0), decoder `y -> y`.
pub const INTEGRATOR: [f32; 5] = [0.0, 1.0, 0.0, 1.0, 0.0];

/// A flow `[z, t] -> hidden (tanh) -> ... -> dim` over `[0, 1]` in `steps`.
pub fn flow_header(dim: u16, hidden: &[u16], kind: SolverKind, steps: u16) -> Header {
    let mut field = heapless::Vec::new();
    let mut width = dim + 1;
    for &h in hidden {
        field.push(layer(width, h, Activation::Tanh)).unwrap();
        width = h;
    }
    field.push(layer(width, dim, Activation::Identity)).unwrap();
    Header {
        task: Task::Forecast { horizon: dim },
        channels: 1,
        window: 1,
        sample_dt: 1.0,
        mean: heapless::Vec::from_slice(&[0.0]).unwrap(),
        std: heapless::Vec::from_slice(&[1.0]).unwrap(),
        state_dim: dim,
        encoder: heapless::Vec::new(),
        field,
        decoder: heapless::Vec::new(),
        solver: SolverSpec {
            kind,
            mu: 0.5,
            consistency_scaling: true,
            startup: Startup::ZeroVelocity,
            max_step: 1.0 / f32::from(steps),
        },
        state_bound: 1.0e4,
        time_unit: 1.0,
        clock: Clock::Number,
        reference: Reference::Global,
    }
}

/// Encodes a model of `kind`, no names, without the `alloc` feature.
pub fn encode_kind(header: &Header, kind: ModelKind, weights: &[f32]) -> Vec<u8> {
    let mut out =
        vec![0u8; format::encoded_len_with_kind(header, kind, weights, &Names::NONE).unwrap()];
    let n = format::encode_with_kind(header, kind, weights, &Names::NONE, &mut out).unwrap();
    out.truncate(n);
    out
}
