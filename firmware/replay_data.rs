// Which recorded samples the firmware replays and when it predicts: shared
// (via `include!`) by the firmware's build script, which stores the samples
// in flash, the firmware itself, and the host tests, which feed the same
// samples to the host runtime.

/// Samples replayed: the last `REPLAY_LEN` rows of the default data set (the
/// end of a chronological series lies in any test split).
#[allow(dead_code)]
pub const REPLAY_LEN: usize = 320;

/// The first column of a headed CSV as f32, or the line that does not parse.
#[cfg(not(target_os = "none"))]
#[allow(dead_code)]
pub fn first_column(csv: &str) -> Result<Vec<f32>, String> {
    csv.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let field = line.split(',').next().unwrap_or("").trim();
            field
                .parse::<f32>()
                .map_err(|e| format!("line {}: {field:?}: {e}", i + 1))
        })
        .collect()
}

/// The replayed samples of a series: its last `len` values (all if shorter).
#[allow(dead_code)]
pub fn replay_tail(series: &[f32], len: usize) -> &[f32] {
    &series[series.len().saturating_sub(len)..]
}

/// FNV-1a over bytes; over the samples' little-endian bit patterns the
/// firmware prints it, so a test can prove the chip replayed exactly the
/// samples the host uses.
#[allow(dead_code)]
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u32 {
    bytes.into_iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// [`fnv1a`] of the samples' little-endian bit patterns.
#[allow(dead_code)]
pub fn fnv1a_bits(samples: &[f32]) -> u32 {
    fnv1a(samples.iter().flat_map(|s| s.to_le_bytes()))
}

/// After the window first fills, the firmware predicts after every
/// `PREDICT_EVERY`-th sample pushed.
#[allow(dead_code)]
pub const PREDICT_EVERY: usize = 32;

/// Predictions timed back to back on one full window, so SysTick's coarse
/// ticks (25-40 instructions each under QEMU) average out.
#[allow(dead_code)]
pub const TIMED_REPEATS: u32 = 16;

/// Whether the firmware predicts once `pushed` samples of a model with a
/// `window`-sample window have been pushed.
#[allow(dead_code)]
pub fn predicts_after(pushed: usize, window: usize) -> bool {
    pushed >= window && (pushed - window).is_multiple_of(PREDICT_EVERY)
}

/// The anomaly score's point (firmware feature `flow`): the 2-D point
/// `(previous, current)` of two consecutive replayed samples, each as
/// `(x - FLOW_CENTER) * FLOW_SCALE`. The centre and scale are the ECG's
/// mean (-0.28 mV) and 1 / std (5.7 / mV) rounded to exact binary values,
/// so the data set's samples (-0.6..1.2 mV) map to about -1.4..6.0.
#[allow(dead_code)]
pub fn flow_point(previous: f32, current: f32) -> [f32; 2] {
    [previous, current].map(|x| (x - FLOW_CENTER) * FLOW_SCALE)
}

/// [`flow_point`]'s centre, in mV.
#[allow(dead_code)]
pub const FLOW_CENTER: f32 = -0.25;

/// [`flow_point`]'s scale, per mV.
#[allow(dead_code)]
pub const FLOW_SCALE: f32 = 4.0;
