//! Hand-built models shared by the runtime's integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nagode::format::{self, Activation, Header, Layer, SolverKind, SolverSpec, Startup, Task};

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

/// Encodes with the runtime's encoder (panics on error: test input is valid).
pub fn encode(header: &Header, weights: &[f32]) -> Vec<u8> {
    let mut out = vec![0u8; format::encoded_len(header, weights).unwrap()];
    let n = format::encode(header, weights, &mut out).unwrap();
    out.truncate(n);
    out
}

/// Frames any header, version and weight bytes exactly like the encoder but
/// without its validation: for building hostile files.
pub fn raw_file(version: u16, header: &Header, weight_bytes: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 64 + weight_bytes.len() * 2];
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    let n = postcard::to_slice_crc32(
        &(format::MAGIC, version, header, weight_bytes),
        &mut buf,
        crc.digest(),
    )
    .unwrap()
    .len();
    buf.truncate(n);
    buf
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
