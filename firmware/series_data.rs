// The recorded series the firmware classifies with feature `series`:
// shared (via `include!`) by the firmware's build script, which stores
// them in flash as f32 bit patterns, and the host test
// `tests/tests/qemu_series.rs`, which classifies the same series with the
// host runtime. Plain Rust without dependencies or `std`.
//
// Every value is computed with `+`, `-`, `*`, `/` and `abs` on f32 only
// (IEEE, correctly rounded, no library calls), so every machine generates
// the same bits.

/// Data channels of every series (the model's channels are `k` times as
/// many when it is patched).
#[allow(dead_code)]
pub const SERIES_CHANNELS: usize = 1;

/// The shape a series follows over its length (plus noise).
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// From -0.75 up to 0.75.
    Ramp,
    /// Up from -0.75 to 0.75 at the middle and down again.
    Bump,
    /// Three periods of a triangle wave between -0.75 and 0.75.
    Wave,
}

/// One recorded series: its length in samples, its shape, and the sample
/// a broken reading (NaN) replaces, if any.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug)]
pub struct SeriesSpec {
    /// Samples (of [`SERIES_CHANNELS`] values each).
    pub len: usize,
    /// What it looks like.
    pub shape: Shape,
    /// A sample replaced by NaN.
    pub nan_at: Option<usize>,
}

/// The series replayed, in order: three well-formed ones of different
/// lengths (37, 80 and 141 samples: one, two and four 32-sample windows),
/// then the malformed cases the firmware must report, not crash on: 20
/// samples (shorter than a window: resampled, but no window to vote), one
/// sample (resampling repeats it), none (refused by the resampler), and 45
/// samples with a NaN at sample 20 (refused by the resampler, and the vote's
/// one window, samples 0..32, holds it).
#[allow(dead_code)]
pub const SERIES: [SeriesSpec; 7] = [
    spec(37, Shape::Ramp, None),
    spec(80, Shape::Bump, None),
    spec(141, Shape::Wave, None),
    spec(20, Shape::Ramp, None),
    spec(1, Shape::Bump, None),
    spec(0, Shape::Wave, None),
    spec(45, Shape::Wave, Some(20)),
];

/// The series the firmware times (resample and classification): the
/// longest well-formed one.
#[allow(dead_code)]
pub const TIMED_SERIES: usize = 2;

const fn spec(len: usize, shape: Shape, nan_at: Option<usize>) -> SeriesSpec {
    SeriesSpec { len, shape, nan_at }
}

/// The values of series `index` of [`SERIES`], sample-major (every
/// channel of a sample the same value); none for an unknown index.
#[allow(dead_code)]
pub fn series_values(index: usize) -> impl Iterator<Item = f32> {
    let spec = SERIES.get(index).copied().unwrap_or(spec(0, Shape::Ramp, None));
    (0..spec.len).flat_map(move |i| {
        core::iter::repeat_n(series_value(&spec, index, i), SERIES_CHANNELS)
    })
}

/// Value `i` of the series `spec` is (series number `index`, which seeds
/// its noise).
#[allow(dead_code)]
pub fn series_value(spec: &SeriesSpec, index: usize, i: usize) -> f32 {
    if spec.nan_at == Some(i) {
        return f32::NAN;
    }
    // Position 0..=1 along the series.
    let t = if spec.len > 1 {
        i as f32 / (spec.len - 1) as f32
    } else {
        0.0
    };
    let shape = match spec.shape {
        Shape::Ramp => 2.0 * t - 1.0,
        Shape::Bump => 1.0 - 2.0 * (2.0 * t - 1.0).abs(),
        Shape::Wave => {
            // Three periods: the fraction of 3t by truncation (t <= 1).
            let u = 3.0 * t;
            let f = u - (u as u32) as f32;
            1.0 - 4.0 * (f - 0.5).abs()
        }
    };
    shape * 0.75 + noise(index as u64 * 0x1_0000 + i as u64) / 16.0
}

/// Uniform in `[-1, 1)` from splitmix64's top 24 bits (exact in f32).
fn noise(seed: u64) -> f32 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 40) as u32 as f32 / (1u32 << 23) as f32 - 1.0
}
