//! Helpers shared by the cross-crate and QEMU tests in `tests/tests/`:
//! deterministic stand-in models, the QEMU harness for the firmware's core
//! matrix, and the host side of the firmware's replay.

pub mod models;
pub mod qemu;

use nagode::build::Net;
use nagode::flow::{Flow, FlowModel};
use nagode::quant::{QuantModel, QuantSession};
use nagode::stream::{Stream, StreamModel};
use nagode::{Model, RunError, Session};

/// Widest vector a host session here supports.
pub const HOST_STATE: usize = 256;
/// Most sample values a host session here holds.
pub const HOST_WINDOW: usize = 4096;

/// What the firmware prints for one replay, computed with the host runtime:
/// `(index of the newest sample, outputs)` for every prediction, following
/// the firmware's schedule (`qemu::replay::predicts_after`) and gaps
/// (`qemu::gaps::replay_gap` around the model's nominal gap).
pub fn host_replay(model: &Model<'_>, samples: &[f32]) -> Result<Vec<(usize, Vec<f32>)>, String> {
    let gap = model.nominal_gap();
    host_replay_with_gaps(model, samples, |i| {
        qemu::gaps::replay_gap(gap, i, samples.len())
    })
}

/// [`host_replay`] with sample `i` pushed `gap(i)` after the previous one.
pub fn host_replay_with_gaps(
    model: &Model<'_>,
    samples: &[f32],
    gap: impl Fn(usize) -> f32,
) -> Result<Vec<(usize, Vec<f32>)>, String> {
    let mut session =
        Session::<HOST_STATE, HOST_WINDOW>::new(model).map_err(|e| format!("host session: {e}"))?;
    replay_into(
        &mut session,
        model.net(),
        samples,
        gap,
        qemu::replay::predicts_after,
    )
}

/// What the integer firmware (feature `quant`) prints for one replay: the
/// host's [`QuantSession`] over [`host_replay`]'s samples, schedule and gaps.
pub fn host_quant_replay(
    model: &QuantModel<'_>,
    samples: &[f32],
) -> Result<Vec<(usize, Vec<f32>)>, String> {
    let mut session = QuantSession::<HOST_STATE, HOST_WINDOW>::new(model.net())
        .map_err(|e| format!("host quant session: {e}"))?;
    let net = model.model().net();
    let gap = net.nominal_gap();
    replay_into(
        &mut session,
        net,
        samples,
        |i| qemu::gaps::replay_gap(gap, i, samples.len()),
        qemu::replay::predicts_after,
    )
}

/// What the streaming firmware (feature `stream`) prints for one replay:
/// the host's [`Stream`] over [`host_replay`]'s samples and gaps, predicting
/// after every sample once the model's warm-up is over.
pub fn host_stream_replay(
    model: &StreamModel<'_>,
    samples: &[f32],
) -> Result<Vec<(usize, Vec<f32>)>, String> {
    let mut stream = Stream::<HOST_STATE>::new(model).map_err(|e| format!("host stream: {e}"))?;
    let net = model.model().net();
    let gap = net.nominal_gap();
    let warmup = usize::try_from(model.warmup()).map_err(|e| e.to_string())?;
    replay_into(
        &mut stream,
        net,
        samples,
        |i| qemu::gaps::replay_gap(gap, i, samples.len()),
        |pushed, _| pushed >= warmup,
    )
}

/// What the flow firmware (feature `flow`) prints for one replay: from the
/// second sample on, the host [`Flow`]'s score of the last two samples,
/// raw for a flow with its scaling (format 7: then also the verdict, 1 or
/// 0), else of the point `qemu::replay::flow_point(previous, current)`
/// (the gaps play no part).
pub fn host_flow_replay(
    model: &FlowModel<'_>,
    samples: &[f32],
) -> Result<Vec<(usize, Vec<f32>)>, String> {
    let mut flow = Flow::<HOST_STATE>::new(model).map_err(|e| format!("host flow: {e}"))?;
    samples
        .windows(2)
        .enumerate()
        .map(|(i, pair)| {
            let point = match flow.threshold() {
                Some(_) => [pair[0], pair[1]],
                None => qemu::replay::flow_point(pair[0], pair[1]),
            };
            let score = flow
                .score(&point)
                .map_err(|e| format!("host flow at sample {}: {e}", i + 1))?;
            let verdict = flow.is_anomaly(score).map(|v| f32::from(u8::from(v)));
            Ok((i + 1, std::iter::once(score).chain(verdict).collect()))
        })
        .collect()
}

/// A model fed sample by sample, as the firmware's replay drives it.
trait Ring {
    fn push(&mut self, sample: &[f32], gap: f32) -> Result<(), RunError>;
    fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError>;
}

impl Ring for Session<'_, HOST_STATE, HOST_WINDOW> {
    fn push(&mut self, sample: &[f32], gap: f32) -> Result<(), RunError> {
        Session::push(self, sample, gap)
    }
    fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        Session::predict(self, out)
    }
}

impl Ring for QuantSession<'_, HOST_STATE, HOST_WINDOW> {
    fn push(&mut self, sample: &[f32], gap: f32) -> Result<(), RunError> {
        QuantSession::push(self, sample, gap)
    }
    fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        QuantSession::predict(self, out)
    }
}

impl Ring for Stream<'_, HOST_STATE> {
    fn push(&mut self, sample: &[f32], gap: f32) -> Result<(), RunError> {
        Stream::push(self, sample, gap)
    }
    fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        Stream::predict(self, out)
    }
}

/// Pushes every sample (on every channel) `gap(i)` after the previous one
/// and predicts when the firmware's `schedule(samples pushed, window)` does.
fn replay_into(
    ring: &mut impl Ring,
    net: Net<'_>,
    samples: &[f32],
    gap: impl Fn(usize) -> f32,
    schedule: impl Fn(usize, usize) -> bool,
) -> Result<Vec<(usize, Vec<f32>)>, String> {
    let mut out = vec![0.0f32; net.output_len];
    let mut predictions = Vec::new();
    for (i, &sample) in samples.iter().enumerate() {
        let run = |e: RunError| format!("host replay at sample {i}: {e}");
        ring.push(&vec![sample; net.channels], gap(i))
            .map_err(run)?;
        let pushed = i + 1;
        if schedule(pushed, net.window) {
            let written = ring.predict(&mut out).map_err(run)?;
            predictions.push((i, out[..written].to_vec()));
        }
    }
    Ok(predictions)
}

/// What the firmware's minimal image predicts: one window of the first
/// replayed samples (repeated when the replay is shorter, as the build
/// script writes them), nominal gaps.
pub fn minimal_prediction(model: &Model<'_>) -> Result<Vec<f32>, String> {
    let samples = qemu::replay_samples()?;
    let window: Vec<f32> = (0..model.window_capacity_needed())
        .map(|i| {
            samples
                .get(i % samples.len().max(1))
                .copied()
                .unwrap_or(0.0)
        })
        .collect();
    let mut session =
        Session::<HOST_STATE, HOST_WINDOW>::new(model).map_err(|e| format!("host session: {e}"))?;
    let mut out = vec![0.0f32; model.output_len()];
    let written = session
        .run_window(&window, None, &mut out)
        .map_err(|e| format!("host minimal window: {e}"))?;
    out.truncate(written);
    Ok(out)
}
