// The replay's gap schedule: irregular gaps around the nominal one, then a
// regular tail. `Replay` yields these gaps on the chip and the host tests
// (`integration::host_replay`, via `include!`) feed the same ones, so
// predictions after irregular gaps are compared bit for bit.

/// Factors of the nominal gap the replay cycles through: shorter gaps, equal
/// ones and longer ones that need more sub-steps. Seven entries, so windows
/// predicted every 32 samples start at different phases.
pub const GAP_FACTORS: [f32; 7] = [1.0, 0.5, 1.7, 1.0, 1.25, 0.5, 1.7];

/// The last `REGULAR_TAIL` samples of a replay come at the nominal gap: the
/// firmware times predictions on the window held at the end, and its
/// instruction counts are those of regular sampling for windows of up to
/// `REGULAR_TAIL + 1` samples (a window's first gap is never used).
pub const REGULAR_TAIL: usize = 64;

/// The gap before sample `index` of a `len`-sample replay whose nominal gap
/// is `gap`: `gap` times a factor of [`GAP_FACTORS`], `gap` in the tail.
pub fn replay_gap(gap: f32, index: usize, len: usize) -> f32 {
    if index + REGULAR_TAIL >= len {
        gap
    } else {
        gap * GAP_FACTORS[index % GAP_FACTORS.len()]
    }
}
