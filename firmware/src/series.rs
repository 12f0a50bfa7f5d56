//! Feature `series`: recorded series of different lengths classified two
//! ways, as `trainer train` classifies an unequal-length set:
//!
//! * resampled: the series mapped onto the model's window with
//!   [`nagode::resample::linear`] (one window, one class per series);
//! * voted: the series cut into non-overlapping windows of the model's
//!   length from its first sample on (the newest samples that fill no
//!   window are dropped, as `trainer train` cuts a long-layout
//!   classification set), each window classified, the logits summed with
//!   [`nagode::vote::add`], the class [`nagode::vote::winner`].
//!
//! A patched model (channels `NAME@j`, `j` = 0..k, sample-major: `k`
//! consecutive samples of the data's `c` channels form one input of `k * c`
//! values, its window counts patches) needs no other handling: `window * k`
//! samples of `c` values, sample-major, are the same buffer as `window`
//! patches of `k * c` values. [`Patch::of`] reads `k` and `c` from the
//! channel names. Fixed buffers, no heap, every failure reported as a line.

use nagode::{Model, RunError, Session};

use crate::measure::{self, Ticks};
use crate::out::{Console, Print};
use crate::{config, series_data, Loaded};

/// How the model's input vector holds the data's samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patch {
    /// Samples per patch (1: the model is not patched).
    pub k: usize,
    /// The data's channels per sample (`model channels / k`).
    pub c: usize,
}

impl Patch {
    /// The layout `names` (the model's `channels` channel names, in order)
    /// describe: `k` and `c` when every name is `BASE@j` as the trainer
    /// writes a patch (`j` decimal without leading zeros, `BASE` not
    /// empty), sample-major (`a@0, b@0, a@1, b@1, ...`), the same `c`
    /// distinct bases in the same order for every `j`, and `k >= 2`;
    /// otherwise `k = 1` and `c = channels` (no names, or other names).
    pub fn of<'n>(names: impl Iterator<Item = &'n str> + Clone, channels: usize) -> Self {
        let plain = Self { k: 1, c: channels };
        let parsed = names.clone().map(split);
        if parsed.clone().count() != channels || parsed.clone().any(|p| p.is_none()) {
            return plain;
        }
        let c = parsed
            .clone()
            .take_while(|p| matches!(p, Some((_, 0))))
            .count();
        let Some(k) = channels.checked_div(c) else {
            return plain;
        };
        if k < 2 || k * c != channels {
            return plain;
        }
        // The bases of `j = 0`, in order and distinct.
        let bases = parsed.clone().take(c).map(|p| p.map(|(base, _)| base));
        for (i, base) in bases.clone().enumerate() {
            if bases.clone().take(i).any(|other| other == base) {
                return plain;
            }
        }
        // Name `i` is `bases[i % c]@(i / c)`.
        for (i, p) in parsed.enumerate() {
            let expected = bases.clone().nth(i % c).flatten();
            match p {
                Some((base, j)) if j == i / c && Some(base) == expected => {}
                _ => return plain,
            }
        }
        Self { k, c }
    }
}

/// `BASE@j` split into `BASE` and `j`, if `name` is one (see [`Patch::of`]).
fn split(name: &str) -> Option<(&str, usize)> {
    // A byte search and `get`: no `memrchr` with its slice-index checks.
    let at = name.bytes().rposition(|b| b == b'@')?;
    let (base, digits) = (name.get(..at)?, name.get(at + 1..)?);
    let leading_zero = digits.len() > 1 && digits.starts_with('0');
    if base.is_empty() || digits.is_empty() || leading_zero {
        return None;
    }
    digits
        .bytes()
        .try_fold(0usize, |j, d| {
            let digit = d.checked_sub(b'0').filter(|d| *d < 10)?;
            j.checked_mul(10)?.checked_add(usize::from(digit))
        })
        .map(|j| (base, j))
}

/// The session the firmware runs (sized by the build script).
type SeriesSession<'m> =
    Session<'m, { config::STATE }, { config::WINDOW }, { config::DIM }, nagode::build::Net<'m>>;

/// Classifies every series of `series_data` both ways and prints the
/// results, then times the resample and one classification of the timed
/// series. Returns the samples read and the windows classified. A
/// forecaster stops with `ERROR load NotAClassifier`, a model whose data
/// channels are not the series' with `ERROR load ChannelCount`.
pub fn run(
    console: &mut Console,
    ticks: &Ticks,
    model: &Model<'_>,
    session: &mut SeriesSession<'_>,
    file: Loaded,
) -> (usize, usize) {
    let net = *session.net();
    crate::model_line(console, &net, &file, core::mem::size_of_val(session));
    let patch = checked_patch(console, model, &net);
    let samples = net.window * patch.k; // of the data, in one model window
    let class_name = |class: usize| model.class_name(class);
    let mut window = [0.0f32; config::WINDOW];
    let window = window
        .get_mut(..net.window_capacity_needed())
        .unwrap_or_default();
    let mut out = [0.0f32; config::OUTPUTS];
    let (mut read, mut classified) = (0, 0);
    for (index, values) in series_data::SERIES.iter().enumerate() {
        let index = index as u32;
        let len = values.len() / patch.c.max(1);
        read += len;
        series_line(console, index, len, values);

        // One window: the series resampled to the model's.
        console.str("RESAMPLE ").dec(index);
        match resample_and_classify(session, values, patch.c, window, &mut out) {
            Ok(logits) => {
                classified += 1;
                bits(console, logits);
                human(console, logits, &class_name, |c| {
                    c.str("# series ")
                        .dec(index)
                        .str(" resampled from ")
                        .dec(len as u32)
                        .str(" to ")
                        .dec(samples as u32)
                        .str(" samples, logits")
                });
            }
            Err(e) => error_line(console, e),
        }

        // Windows of the series, a vote.
        console.str("VOTE ").dec(index);
        let mut sums = [0.0f32; config::OUTPUTS];
        let sums = sums.get_mut(..net.output_len).unwrap_or_default();
        match vote(session, values, window.len(), sums, &mut out) {
            Vote::Short => {
                console
                    .str(" SHORT ")
                    .dec(len as u32)
                    .str(" ")
                    .dec(samples as u32)
                    .nl();
            }
            Vote::Failed(e) => error_line(console, e),
            Vote::Summed(windows) => {
                classified += windows;
                console.str(" ").dec(windows as u32);
                bits(console, sums);
                console.str("WINNER ").dec(index).str(" ");
                match nagode::vote::winner(sums) {
                    Some(class) => console.dec(class as u32),
                    None => console.str("none"),
                };
                console.nl();
                human(console, sums, &class_name, |c| {
                    c.str("# series ")
                        .dec(index)
                        .str(" by a vote of its windows (")
                        .dec(windows as u32)
                        .str("), summed logits")
                });
            }
        }
    }
    timed(console, ticks, session, window, &mut out);
    (read, classified)
}

/// The model's patch, printed; a forecaster or a model whose data channels
/// are not the series' ends the run.
fn checked_patch(console: &mut Console, model: &Model<'_>, net: &nagode::build::Net<'_>) -> Patch {
    if net.forecast {
        crate::fail(console, "load", "NotAClassifier");
    }
    let patch = Patch::of(model.channel_names(), net.channels);
    console
        .str("PATCH ")
        .dec(patch.k as u32)
        .str(" ")
        .dec(patch.c as u32)
        .str(" samples per window ")
        .dec((net.window * patch.k) as u32)
        .nl();
    if patch.c != series_data::CHANNELS {
        crate::fail(console, "load", "ChannelCount");
    }
    patch
}

/// ` ERROR name`: why a series' window was refused.
fn error_line(console: &mut Console, e: RunError) {
    console.str(" ERROR ").str(e.name()).nl();
}

/// `SERIES index length checksum`: which series the lines after it are of.
fn series_line(console: &mut Console, index: u32, len: usize, values: &[f32]) {
    console
        .str("SERIES ")
        .dec(index)
        .str(" ")
        .dec(len as u32)
        .str(" ")
        .dec(crate::replay_data::fnv1a(
            values.iter().flat_map(|v| v.to_le_bytes()),
        ))
        .nl();
}

/// Resamples `values` (`channels` per sample) into `window` and runs it;
/// returns the logits.
fn resample_and_classify<'o>(
    session: &mut SeriesSession<'_>,
    values: &[f32],
    channels: usize,
    window: &mut [f32],
    out: &'o mut [f32],
) -> Result<&'o [f32], RunError> {
    nagode::resample::linear(values, channels, window)?;
    let written = session.run_window(window, None, out)?;
    Ok(out.get(..written).unwrap_or_default())
}

/// What [`vote`] found.
enum Vote {
    /// Fewer samples than one window.
    Short,
    /// A window was refused.
    Failed(RunError),
    /// This many windows summed.
    Summed(usize),
}

/// Classifies the non-overlapping windows of `need` values of `values`
/// (from its first value on; a remainder shorter than a window is left
/// out) and sums their logits into `sums`.
fn vote(
    session: &mut SeriesSession<'_>,
    values: &[f32],
    need: usize,
    sums: &mut [f32],
    out: &mut [f32],
) -> Vote {
    let need = need.max(1);
    let count = values.len() / need;
    if count == 0 {
        return Vote::Short;
    }
    for window in values.chunks_exact(need) {
        let summed = session
            .run_window(window, None, out)
            .and_then(|written| nagode::vote::add(sums, out.get(..written).unwrap_or_default()));
        if let Err(e) = summed {
            return Vote::Failed(e);
        }
    }
    Vote::Summed(count)
}

/// ` hex..` (each value's bit pattern) and the line's end.
fn bits(console: &mut Console, values: &[f32]) {
    for v in values {
        console.str(" ").f32_bits(*v);
    }
    console.nl();
}

/// The values for people after `head`, then `# class NAME` (the index when
/// the file names no classes).
fn human<'m>(
    console: &mut Console,
    values: &[f32],
    class_name: &impl Fn(usize) -> Option<&'m str>,
    head: impl FnOnce(&mut Console) -> &mut Console,
) {
    head(console);
    for v in values {
        console.str(" ").fixed(*v);
    }
    console.nl();
    if let Some(class) = nagode::vote::winner(values) {
        console.str("# class ");
        match class_name(class) {
            Some(name) => console.str(name),
            None => console.dec(class as u32),
        };
        console.nl();
    }
}

/// Times the resample of the timed series alone (`TICKS-RESAMPLE repeats
/// ticks`), then resample plus classification (`TICKS repeats ticks stack
/// in inference bytes`), each `TIMED_REPEATS` times back to back.
fn timed(
    console: &mut Console,
    ticks: &Ticks,
    session: &mut SeriesSession<'_>,
    window: &mut [f32],
    out: &mut [f32],
) {
    let values = series_data::SERIES
        .get(series_data::TIMED)
        .copied()
        .unwrap_or_default();
    let repeats = crate::replay_data::TIMED_REPEATS;
    let channels = series_data::CHANNELS;
    let start = ticks.now();
    for _ in 0..repeats {
        if let Err(e) = nagode::resample::linear(values, channels, window) {
            crate::fail(console, "run", e.name());
        }
    }
    let spent = ticks.since(start);
    console
        .str("TICKS-RESAMPLE ")
        .dec(repeats)
        .str(" ")
        .dec(spent)
        .nl();
    measure::repaint_free_stack();
    let start = ticks.now();
    for _ in 0..repeats {
        if let Err(e) = resample_and_classify(session, values, channels, window, out) {
            crate::fail(console, "run", e.name());
        }
    }
    let spent = ticks.since(start);
    let stack = measure::stack_high_water();
    console
        .str("TICKS ")
        .dec(repeats)
        .str(" ")
        .dec(spent)
        .str(" stack in inference ")
        .dec(stack)
        .nl();
}
