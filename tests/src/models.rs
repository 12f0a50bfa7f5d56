//! Deterministic models with seeded random weights, built with the runtime's
//! own encoder: the firmware's stand-in default until a trained model is
//! checked in, the 1→16→16→1 tanh MLP sized like the TFLM/MicroFlow
//! sine example, for measurements beside those anchors, and one small model
//! per solver case ([`SolverCase`]) the chip must match the host on. Also
//! the names of the checked-in trained files: `default.nagode` and the
//! streaming forecaster [`STREAM_ECG`]; a seeded 2-D flow
//! ([`FLOW_MOONS`]) for the firmware's anomaly score; and a seeded patched
//! classifier ([`SERIES_PATCHED`]) for the firmware's series.

use nagode::format::{
    self, Activation, Clock, Header, Layer, ModelKind, Names, SolverKind, SolverSpec, Startup, Task,
};
use nagode::normalise::Reference;

/// splitmix64: tiny, seeded, identical on every host.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)` from the top 24 bits (exact in f32).
    fn symmetric(&mut self) -> f32 {
        let top = (self.next_u64() >> 40) as u32;
        top as f32 / (1u32 << 23) as f32 - 1.0
    }
}

fn layer(inputs: u16, outputs: u16, activation: Activation) -> Layer {
    Layer {
        inputs,
        outputs,
        activation,
    }
}

/// Glorot-like uniform weights `±gain/sqrt(fan_in)` and small biases for
/// every layer of `header`, in the file's weight order.
fn seeded_weights(header: &Header, seed: u64, gain: f32) -> Vec<f32> {
    let mut rng = SplitMix(seed);
    let mut weights = Vec::new();
    for l in header
        .encoder
        .iter()
        .chain(header.field.iter())
        .chain(header.decoder.iter())
    {
        let scale = gain / f32::from(l.inputs).sqrt();
        for _ in 0..usize::from(l.inputs) * usize::from(l.outputs) {
            weights.push(rng.symmetric() * scale);
        }
        for _ in 0..l.outputs {
            weights.push(rng.symmetric() * 0.1);
        }
    }
    weights
}

fn layers(list: &[Layer]) -> heapless::Vec<Layer, { format::MAX_LAYERS }> {
    list.iter().copied().collect()
}

fn one(value: f32) -> heapless::Vec<f32, { format::MAX_CHANNELS }> {
    core::iter::once(value).collect()
}

/// An ECG-shaped forecaster with seeded weights: window 64 samples, state 8,
/// encoder 1→8 tanh, field [8 + 8]→16 tanh→8, decoder 8→8 (the next 8
/// samples), NAG mu 0.5 with Euler start-up, one step per sample.
/// `mean`/`std` are the series' normalisation statistics.
pub fn seeded_ecg_header(mean: f32, std: f32) -> Header {
    Header {
        task: Task::Forecast { horizon: 8 },
        channels: 1,
        window: 64,
        sample_dt: 1.0,
        mean: one(mean),
        std: one(std),
        state_dim: 8,
        encoder: layers(&[layer(1, 8, Activation::Tanh)]),
        field: layers(&[
            layer(16, 16, Activation::Tanh),
            layer(16, 8, Activation::Identity),
        ]),
        decoder: layers(&[layer(8, 8, Activation::Identity)]),
        solver: SolverSpec {
            kind: SolverKind::Nag,
            mu: 0.5,
            consistency_scaling: true,
            startup: Startup::Euler,
            max_step: 1.0,
        },
        state_bound: 1.0e3,
        time_unit: 1.0,
        clock: Clock::Index,
        reference: Reference::Global,
    }
}

/// The 1→16→16→1 tanh MLP (288 multiply-accumulates) as a nagode model:
/// the MLP is the encoder of a window-1 model whose ODE block is one Euler
/// step of a 2→1 linear field and whose decoder is 1→1 (3 more MACs).
pub fn sine_mlp_header() -> Header {
    Header {
        task: Task::Forecast { horizon: 1 },
        channels: 1,
        window: 1,
        sample_dt: 1.0,
        mean: one(0.0),
        std: one(1.0),
        state_dim: 1,
        encoder: layers(&[
            layer(1, 16, Activation::Tanh),
            layer(16, 16, Activation::Tanh),
            layer(16, 1, Activation::Identity),
        ]),
        field: layers(&[layer(2, 1, Activation::Identity)]),
        decoder: layers(&[layer(1, 1, Activation::Identity)]),
        solver: SolverSpec {
            kind: SolverKind::Euler,
            mu: 0.0,
            consistency_scaling: false,
            startup: Startup::ZeroVelocity,
            max_step: 1.0,
        },
        state_bound: 1.0e3,
        time_unit: 1.0,
        clock: Clock::Index,
        reference: Reference::Global,
    }
}

/// Names of the [`named_classifier`]'s classes.
pub const CLASS_NAMES: [&str; 3] = ["falling", "flat", "rising"];

/// A format-2 classifier with seeded weights that exercises every format-2
/// feature on the chip: gaps in seconds (`time_unit` = 1/360 s, the ECG's
/// sampling period; `Clock::DateTime`), inputs relative to the window's last
/// value, a channel name and class names. Window 32, state 4, no encoder,
/// field [4 + 1]→8 tanh→4, decoder 4→3 logits, NAG mu 0.5, two steps per
/// sample.
pub fn named_classifier_header(mean: f32, std: f32) -> Header {
    Header {
        task: Task::Classify { classes: 3 },
        channels: 1,
        window: 32,
        sample_dt: 1.0,
        mean: one(mean),
        std: one(std),
        state_dim: 4,
        encoder: layers(&[]),
        field: layers(&[
            layer(5, 8, Activation::Tanh),
            layer(8, 4, Activation::Identity),
        ]),
        decoder: layers(&[layer(4, 3, Activation::Identity)]),
        solver: SolverSpec {
            kind: SolverKind::Nag,
            mu: 0.5,
            consistency_scaling: true,
            startup: Startup::Euler,
            max_step: 0.5,
        },
        state_bound: 1.0e3,
        time_unit: 1.0 / 360.0,
        clock: Clock::DateTime,
        reference: Reference::LastValue,
    }
}

/// The named classifier's file bytes. Its normalisation statistics are
/// those of `x - x_last` over the series' 32-sample windows (what the
/// last-value reference feeds the model).
pub fn named_classifier(series: &[f32]) -> Result<Vec<u8>, nagode::EncodeError> {
    let window = 32;
    let relative: Vec<f32> = series
        .windows(window)
        .flat_map(|w| {
            let last = w.last().copied().unwrap_or(0.0);
            w.iter().map(move |v| v - last)
        })
        .collect();
    let (mean, std) = mean_std(&relative);
    let header = named_classifier_header(mean, std);
    format::encode_to_vec(
        &header,
        &seeded_weights(&header, 0x0043_4c41_5353, 1.0),
        &Names {
            channels: &["ecg"],
            classes: &CLASS_NAMES,
        },
    )
}

/// Small seeded models (window 16–32, state 4–6, so a QEMU run stays
/// quick), one per solver path the chip must match the host on, beside the
/// trained NAG model (one step per nominal gap) and the Euler sine MLP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SolverCase {
    /// NAG forecaster, mu 0.7, zero-velocity start-up, `max_step` 0.4: three
    /// sub-steps per nominal gap, two to five over the replay's irregular gaps.
    NagSubsteps,
    /// Explicit-midpoint forecaster, no encoder, one step per nominal gap.
    Midpoint,
    /// RK4 classifier (3 logits, no names), two steps per nominal gap.
    Rk4Classifier,
}

impl SolverCase {
    /// Every case.
    pub const ALL: [SolverCase; 3] = [
        SolverCase::NagSubsteps,
        SolverCase::Midpoint,
        SolverCase::Rk4Classifier,
    ];

    /// The model's file in `firmware/models/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SolverCase::NagSubsteps => "nag_substeps.nagode",
            SolverCase::Midpoint => "midpoint.nagode",
            SolverCase::Rk4Classifier => "rk4_classifier.nagode",
        }
    }

    /// The header, with normalisation statistics `mean`/`std`.
    pub fn header(self, mean: f32, std: f32) -> Header {
        let solver = |kind, max_step| SolverSpec {
            kind,
            mu: 0.0,
            consistency_scaling: false,
            startup: Startup::ZeroVelocity,
            max_step,
        };
        let base = Header {
            task: Task::Forecast { horizon: 4 },
            channels: 1,
            window: 16,
            sample_dt: 1.0,
            mean: one(mean),
            std: one(std),
            state_dim: 4,
            encoder: layers(&[]),
            field: layers(&[
                layer(5, 8, Activation::Tanh),
                layer(8, 4, Activation::Identity),
            ]),
            decoder: layers(&[layer(4, 4, Activation::Identity)]),
            solver: solver(SolverKind::Midpoint, 1.0),
            state_bound: 1.0e3,
            time_unit: 1.0,
            clock: Clock::Index,
            reference: Reference::Global,
        };
        match self {
            SolverCase::NagSubsteps => Header {
                window: 24,
                state_dim: 6,
                encoder: layers(&[layer(1, 6, Activation::Tanh)]),
                field: layers(&[
                    layer(12, 12, Activation::Tanh),
                    layer(12, 6, Activation::Identity),
                ]),
                decoder: layers(&[layer(6, 4, Activation::Identity)]),
                solver: SolverSpec {
                    mu: 0.7,
                    consistency_scaling: true,
                    ..solver(SolverKind::Nag, 0.4)
                },
                ..base
            },
            SolverCase::Midpoint => base,
            SolverCase::Rk4Classifier => Header {
                task: Task::Classify { classes: 3 },
                window: 32,
                encoder: layers(&[layer(1, 4, Activation::Tanh)]),
                field: layers(&[
                    layer(8, 8, Activation::Tanh),
                    layer(8, 4, Activation::Identity),
                ]),
                decoder: layers(&[layer(4, 3, Activation::Identity)]),
                solver: solver(SolverKind::Rk4, 0.5),
                ..base
            },
        }
    }

    /// The file's bytes (statistics of `series`, weights seeded per case).
    pub fn encode(self, series: &[f32]) -> Result<Vec<u8>, nagode::EncodeError> {
        let (mean, std) = mean_std(series);
        let seed = match self {
            SolverCase::NagSubsteps => 0x5355_4253,
            SolverCase::Midpoint => 0x4d49_4450,
            SolverCase::Rk4Classifier => 0x524b_3443,
        };
        encode_seeded(&self.header(mean, std), seed)
    }
}

/// A header's file with [`seeded_weights`] (gain 1) and no names.
fn encode_seeded(header: &Header, seed: u64) -> Result<Vec<u8>, nagode::EncodeError> {
    format::encode_to_vec(header, &seeded_weights(header, seed, 1.0), &Names::NONE)
}

/// Mean and standard deviation (population) of a series, computed in f64.
pub fn mean_std(series: &[f32]) -> (f32, f32) {
    let n = series.len().max(1) as f64;
    let mean = series.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = series
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean as f32, var.sqrt().max(1e-6) as f32)
}

/// The seeded ECG forecaster's file bytes (statistics of `series`).
pub fn seeded_ecg(series: &[f32]) -> Result<Vec<u8>, nagode::EncodeError> {
    let (mean, std) = mean_std(series);
    encode_seeded(&seeded_ecg_header(mean, std), 0x4e41_474f_4445)
}

/// The sine-sized MLP's file bytes.
pub fn sine_mlp() -> Result<Vec<u8>, nagode::EncodeError> {
    encode_seeded(&sine_mlp_header(), 0x5349_4e45)
}

/// The quantised stand-ins in `firmware/models/` (format 4, for the
/// firmware's `quant` feature): `(f32 file, quantised file)`.
pub const QUANTISED: [(&str, &str); 3] = [
    ("default.nagode", "default_q.nagode"),
    ("seeded_ecg.nagode", "seeded_ecg_q.nagode"),
    ("sine16.nagode", "sine16_q.nagode"),
];

/// A model file quantised with [`nagode::quant::build::quantize_to_vec`],
/// calibrated on the series before the replayed tail (the replay is what
/// the QEMU tests predict on): consecutive windows, at most 256 of them,
/// spread evenly.
pub fn quantised(bytes: &[u8], series: &[f32]) -> Result<Vec<u8>, String> {
    let model = nagode::Model::from_bytes(bytes).map_err(|e| e.to_string())?;
    let len = model.window_capacity_needed();
    let seen = &series[..series.len().saturating_sub(crate::qemu::replay::REPLAY_LEN)];
    let count = (seen.len() / len.max(1)).min(256);
    let stride = seen.len().checked_div(count).unwrap_or(0);
    let windows = (0..count).filter_map(|k| seen.get(k * stride..k * stride + len));
    nagode::quant::build::quantize_to_vec(&model, windows).map_err(|e| e.to_string())
}

/// The streaming ECG forecaster in `firmware/models/` (format 5, for the
/// firmware's `stream` feature): trained with the default model's shape,
/// so their instructions per sample compare like for like. Checked in from
/// `cargo run -p trainer --release -- train --streaming --budget 0 --lr 2e-3
/// --epochs 400 --patience 40 --out firmware/models/stream_ecg.nagode
/// --no-plots` (4 s, the same bytes on every run; test MSE 0.001998, the
/// window model's 0.001650 at the same samples); `make-models` never
/// writes it.
pub const STREAM_ECG: &str = "stream_ecg.nagode";

/// The seeded flow in `firmware/models/` (format 5, `ModelKind::Flow`, for
/// the firmware's `flow` feature).
pub const FLOW_MOONS: &str = "flow_moons.nagode";

/// A flow trained on the replayed ECG with its scaling and threshold in
/// `firmware/models/` (format 7, for the firmware's `flow` feature on raw
/// samples): `cargo run --release -p trainer -- flow --csv
/// data/ecg_mitdb.csv --out firmware/models/flow_ecg.nagode` (window 2,
/// RK4 x 4, `[z, t]` → 32 → 32 → 2, threshold at the 0.99 quantile).
pub const FLOW_ECG: &str = "flow_ecg.nagode";

/// A 2-D flow shaped as `trainer compare --task density` trains the moons'
/// (`trainer::export::flow_to_bytes`'s header): the field `[z, t]` → 32
/// tanh → 32 tanh → 2 over `[0, 1]`, NAG mu 0.5 with consistency scaling
/// in 8 steps, the time the one unscaled channel. Seeded rather than
/// trained: no CLI writes a trained flow yet, and the chip's figures and
/// parity depend on the shape, not on the weights.
pub fn flow_moons_header() -> Header {
    Header {
        task: Task::Forecast { horizon: 2 },
        channels: 1,
        window: 1,
        sample_dt: 1.0,
        mean: one(0.0),
        std: one(1.0),
        state_dim: 2,
        encoder: layers(&[]),
        field: layers(&[
            layer(3, 32, Activation::Tanh),
            layer(32, 32, Activation::Tanh),
            layer(32, 2, Activation::Identity),
        ]),
        decoder: layers(&[]),
        solver: SolverSpec {
            kind: SolverKind::Nag,
            mu: 0.5,
            consistency_scaling: true,
            startup: Startup::ZeroVelocity,
            max_step: 0.125,
        },
        state_bound: 1.0e4,
        time_unit: 1.0,
        clock: Clock::Number,
        reference: Reference::Global,
    }
}

/// The seeded flow's file bytes ([`flow_moons_header`], [`seeded_weights`]).
pub fn flow_moons() -> Result<Vec<u8>, nagode::EncodeError> {
    let header = flow_moons_header();
    format::encode_with_kind_to_vec(
        &header,
        ModelKind::Flow,
        &seeded_weights(&header, 0x464c_4f57, 1.0),
        &Names::NONE,
    )
}

/// The seeded patched classifier in `firmware/models/` for the firmware's
/// `series` feature (unequal-length series resampled, or cut into windows
/// with a vote).
pub const SERIES_PATCHED: &str = "series_patched.nagode";

/// Samples per patch of [`SERIES_PATCHED`].
pub const SERIES_PATCH: usize = 4;

/// Names of [`SERIES_PATCHED`]'s classes (the shapes of
/// `firmware/series_data.rs`).
pub const SERIES_CLASSES: [&str; 3] = ["ramp", "bump", "wave"];

/// A classifier shaped as `trainer train` writes a patched one: channels
/// `x@0..x@3` (patches of [`SERIES_PATCH`] samples of one data channel,
/// sample-major), a window of 8 patches (32 samples), `time_unit` 4 (one
/// unit of solver time per patch, four nominal gaps); encoder 4→6 tanh,
/// state 4, field [6 + 4]→8 tanh→4, decoder 4→3 logits, RK4 in two steps
/// per patch. Inputs normalised around 0 with std 0.5 on every channel
/// (the series' range, exact in binary). Seeded, not trained: the chip's
/// parity and cost depend on the shape, not on the weights.
pub fn series_patched_header() -> Header {
    let every = |v: f32| core::iter::repeat_n(v, SERIES_PATCH).collect();
    Header {
        task: Task::Classify { classes: 3 },
        channels: SERIES_PATCH as u16,
        window: 8,
        sample_dt: 1.0,
        mean: every(0.0),
        std: every(0.5),
        state_dim: 4,
        encoder: layers(&[layer(4, 6, Activation::Tanh)]),
        field: layers(&[
            layer(10, 8, Activation::Tanh),
            layer(8, 4, Activation::Identity),
        ]),
        decoder: layers(&[layer(4, 3, Activation::Identity)]),
        solver: SolverSpec {
            kind: SolverKind::Rk4,
            mu: 0.0,
            consistency_scaling: false,
            startup: Startup::ZeroVelocity,
            max_step: 0.5,
        },
        state_bound: 1.0e3,
        time_unit: SERIES_PATCH as f32,
        clock: Clock::Index,
        reference: Reference::Global,
    }
}

/// The seeded patched classifier's file bytes ([`series_patched_header`],
/// [`seeded_weights`], channel names `x@j` and [`SERIES_CLASSES`]).
pub fn series_patched() -> Result<Vec<u8>, nagode::EncodeError> {
    let header = series_patched_header();
    let channels: Vec<String> = (0..SERIES_PATCH).map(|j| format!("x@{j}")).collect();
    let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
    format::encode_to_vec(
        &header,
        &seeded_weights(&header, 0x5345_5249_4553, 1.0),
        &Names {
            channels: &channels,
            classes: &SERIES_CLASSES,
        },
    )
}

/// Multiply-accumulates of one sample (`per_sample`), one field evaluation
/// (`per_eval`) and one read-out (`decoder`), as the runtime computes them:
/// per sample the encoder and the input part of the field's first layer
/// (held over the gap), per evaluation the state part of the first layer
/// and the other field layers.
struct Macs {
    per_sample: u64,
    per_eval: u64,
    decoder: u64,
}

fn macs(model: &nagode::Model<'_>) -> Macs {
    let header = model.header();
    let dense = |l: &Layer| u64::from(l.inputs) * u64::from(l.outputs);
    let encoder: u64 = header.encoder.iter().map(dense).sum();
    let decoder: u64 = header.decoder.iter().map(dense).sum();
    let (held, per_eval) = match header.field.split_first() {
        Some((first, rest)) => {
            let d = u64::from(header.state_dim);
            let e = u64::from(first.inputs).saturating_sub(d);
            (
                e * u64::from(first.outputs),
                d * u64::from(first.outputs) + rest.iter().map(dense).sum::<u64>(),
            )
        }
        None => (0, 0),
    };
    Macs {
        per_sample: encoder + held,
        per_eval,
        decoder,
    }
}

/// Multiply-accumulates one window prediction performs: every sample of
/// the window, every field evaluation (regular gaps), the decoder once.
pub fn macs_per_prediction(model: &nagode::Model<'_>) -> u64 {
    let m = macs(model);
    let window = model.window() as u64;
    window * m.per_sample + model.evals_per_prediction() * m.per_eval + m.decoder
}

/// Multiply-accumulates a streaming model performs per sample when it
/// predicts after every sample: one sample's push over a regular gap and
/// one read-out.
pub fn macs_per_stream_sample(model: &nagode::Model<'_>) -> u64 {
    let m = macs(model);
    let evals = model.evals_per_prediction() / (model.window() as u64).max(1);
    m.per_sample + evals * m.per_eval + m.decoder
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked_in(name: &str) -> Vec<u8> {
        let path = crate::qemu::firmware_dir().join("models").join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn checked_in_stand_in_models_are_regenerated_byte_for_byte() {
        let series = crate::qemu::replay::first_column(
            &std::fs::read_to_string(crate::qemu::repo_dir().join("data/ecg_mitdb.csv"))
                .expect("data set"),
        )
        .expect("parses");
        assert_eq!(sine_mlp().expect("encodes"), checked_in("sine16.nagode"));
        assert_eq!(flow_moons().expect("encodes"), checked_in(FLOW_MOONS));
        assert_eq!(
            series_patched().expect("encodes"),
            checked_in(SERIES_PATCHED)
        );
        assert_eq!(
            seeded_ecg(&series).expect("encodes"),
            checked_in("seeded_ecg.nagode")
        );
        assert_eq!(
            named_classifier(&series).expect("encodes"),
            checked_in("named_classifier.nagode")
        );
        for case in SolverCase::ALL {
            assert_eq!(
                case.encode(&series).expect("encodes"),
                checked_in(case.file_name()),
                "{case:?}"
            );
        }
        for (f32_file, file) in QUANTISED {
            let bytes = quantised(&checked_in(f32_file), &series).expect("quantises");
            assert_eq!(bytes, checked_in(file), "{file}");
            let q = nagode::quant::QuantModel::from_bytes(&bytes).expect("loads");
            assert_eq!(
                q.model().weight_bytes(),
                nagode::Model::from_bytes(&checked_in(f32_file))
                    .expect("loads")
                    .weight_bytes()
            );
        }
    }

    /// Each case runs the solver path it is named for, with the sub-step
    /// counts its doc promises over the replay's gap factors.
    #[test]
    fn solver_cases_cut_gaps_into_the_promised_sub_steps() {
        use nagode::solver::substeps;
        let steps = |case: SolverCase, factor: f32| {
            let header = case.header(0.0, 1.0);
            substeps(factor * header.sample_dt, header.solver.max_step)
                .expect("valid gap")
                .0
        };
        let factors = crate::qemu::gaps::GAP_FACTORS;
        let counts = |case| -> Vec<u32> { factors.iter().map(|f| steps(case, *f)).collect() };
        assert_eq!(counts(SolverCase::NagSubsteps), [3, 2, 5, 3, 4, 2, 5]);
        assert_eq!(counts(SolverCase::Midpoint), [1, 1, 2, 1, 2, 1, 2]);
        assert_eq!(counts(SolverCase::Rk4Classifier), [2, 1, 4, 2, 3, 1, 4]);
        let kinds: Vec<SolverKind> = SolverCase::ALL
            .iter()
            .map(|c| c.header(0.0, 1.0).solver.kind)
            .collect();
        assert_eq!(
            kinds,
            [SolverKind::Nag, SolverKind::Midpoint, SolverKind::Rk4]
        );
    }

    #[test]
    fn mac_counts_match_hand_counts() {
        let sine = sine_mlp().expect("encodes");
        let model = nagode::Model::from_bytes(&sine).expect("loads");
        // MLP 16 + 256 + 16, field input part 1, field state part 1, decoder 1.
        assert_eq!(macs_per_prediction(&model), 288 + 1 + 1 + 1);

        let header = seeded_ecg_header(0.0, 1.0);
        let ecg = format::encode_to_vec(&header, &seeded_weights(&header, 1, 1.0), &Names::NONE)
            .expect("encodes");
        let model = nagode::Model::from_bytes(&ecg).expect("loads");
        // Per sample: encoder 8, held 8*16, one NAG evaluation 8*16 + 16*8; decoder 64 once.
        assert_eq!(macs_per_prediction(&model), 64 * (8 + 128 + 128 + 128) + 64);
        assert_eq!(macs_per_stream_sample(&model), 8 + 128 + 128 + 128 + 64);
    }

    /// The streaming stand-in is a format-5 file with the default window
    /// model's shape and solver, so the firmware's per-sample figures of
    /// the two compare the same arithmetic.
    #[test]
    fn streaming_stand_in_has_the_default_models_shape() {
        let stream_bytes = checked_in(STREAM_ECG);
        let stream = nagode::stream::StreamModel::from_bytes(&stream_bytes).expect("streams");
        assert_eq!(stream.model().format_version(), 5);
        assert!(stream.warmup() > 0);
        let window_bytes = checked_in("default.nagode");
        let window = nagode::Model::from_bytes(&window_bytes).expect("loads");
        assert!(nagode::stream::StreamModel::from_bytes(&window_bytes).is_err());
        let (s, w) = (stream.model().header(), window.header());
        assert_eq!(
            (s.task, s.channels, s.state_dim, s.solver, s.reference),
            (w.task, w.channels, w.state_dim, w.solver, w.reference)
        );
        assert_eq!(
            (&s.encoder, &s.field, &s.decoder),
            (&w.encoder, &w.field, &w.decoder)
        );
        // 32 (held input) + 8·32 + 32·32 + 32·8 per sample, 8·4 per read-out.
        assert_eq!(macs_per_stream_sample(stream.model()), 32 + 1536 + 32);
    }
}
