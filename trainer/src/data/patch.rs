//! Patches: `k` consecutive samples of a long window taken as one input
//! vector of `k * channels` values, so the ODE steps once per patch while
//! the field still reads every sample.
//!
//! Why: a gradient through hundreds of unrolled solver steps is unstable.
//! On Trace (275 samples, 4 classes) one step per sample scored 0.67–0.98
//! test accuracy over seeds and learning rates; patches of 8 (34 steps)
//! scored 0.97–0.99, and the run is 3x faster.
//!
//! A patched model is an ordinary model file whose channels are the
//! patch's `k * c` values, named `NAME@j` (sample `j` of the patch, oldest
//! first), and whose window counts patches: the runtime needs no change, and
//! a device groups its readings `k` at a time, oldest first. Within a patch
//! the samples are taken as evenly spaced; the gap before a patch is the
//! sum of its samples' gaps (the time since the previous patch's last
//! sample), so one unit of solver time is `k` nominal gaps.

use super::{Problem, TaskKind, Windows, MAX_CHANNELS};

/// Windows longer than this are patched when the patch is derived.
pub const PATCH_ABOVE: usize = 64;
/// The derived patch aims at about this many solver steps per window.
pub const TARGET_STEPS: usize = 40;

/// The patch size derived for `p`: 1 (none) unless it classifies windows
/// longer than [`PATCH_ABOVE`]; then `ceil(window / TARGET_STEPS)`, at most
/// what [`MAX_CHANNELS`] allows.
pub fn derived(p: &Problem) -> usize {
    if p.task != TaskKind::Classify || p.window <= PATCH_ABOVE {
        return 1;
    }
    p.window
        .div_ceil(TARGET_STEPS)
        .min(MAX_CHANNELS / p.channels().max(1))
        .max(1)
}

/// The name of value `j` of a patch of channel `name`.
pub fn patched_name(name: &str, j: usize) -> String {
    format!("{name}@{j}")
}

/// `p` with windows of `k`-sample patches (see the module docs); the
/// oldest `window % k` samples of every window are dropped. `k <= 1`
/// returns `p` unchanged.
pub fn patch(mut p: Problem, k: usize) -> Problem {
    let (c, win) = (p.channels(), p.window);
    if k <= 1 || win < k {
        return p;
    }
    let n = win / k;
    let skip = win - n * k;
    for w in [&mut p.train, &mut p.val, &mut p.test] {
        *w = patch_windows(w, win, c, k, skip);
    }
    p.notes.push(format!(
        "patches of {k} samples: the ODE steps once per {k} samples ({n} steps for a window \
         of {win}{}), the field reads all {} values of a patch; a device groups its readings \
         {k} at a time (`--patch 1`: one step per sample)",
        if skip > 0 {
            format!(", its oldest {skip} dropped")
        } else {
            String::new()
        },
        k * c
    ));
    p.channel_names = (0..k)
        .flat_map(|j| p.channel_names.iter().map(move |nm| patched_name(nm, j)))
        .collect();
    p.mean = p.mean.repeat(k);
    p.std = p.std.repeat(k);
    p.time_unit *= k as f32;
    p.window = n;
    p.patch = k;
    p
}

/// Windows of `win` samples of `c` channels as windows of `win / k`
/// patches, the first `skip` samples of each dropped.
fn patch_windows(w: &Windows, win: usize, c: usize, k: usize, skip: usize) -> Windows {
    let n = (win - skip) / k;
    let mut out = Windows {
        x: Vec::with_capacity(w.len * n * k * c),
        gaps: Vec::with_capacity(w.len * n),
        y: w.y.clone(),
        class: w.class.clone(),
        series: w.series.clone(),
        len: w.len,
    };
    for i in 0..w.len {
        let base = i * win + skip;
        // Sample-major `[n][c]` is already patch-major `[n / k][k * c]`.
        out.x.extend_from_slice(&w.x[base * c..(base + n * k) * c]);
        for m in 0..n {
            let g = &w.gaps[base + m * k..base + (m + 1) * k];
            out.gaps.push(g.iter().sum());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_keep_the_values_in_order_and_sum_the_gaps() {
        // Two windows of 5 samples, 1 channel: patches of 2 drop the oldest sample.
        let w = Windows {
            x: (0..10).map(|v| v as f32).collect(),
            gaps: vec![1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 1.0],
            y: Vec::new(),
            class: vec![0, 1],
            series: vec![0, 1],
            len: 2,
        };
        let p = patch_windows(&w, 5, 1, 2, 1);
        assert_eq!(p.x, vec![1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0]);
        assert_eq!(p.gaps, vec![3.0, 2.0, 2.0, 4.0]);
        assert_eq!(p.class, vec![0, 1]);
    }

    #[test]
    fn names_are_sample_major() {
        assert_eq!(patched_name("v", 3), "v@3");
    }
}
