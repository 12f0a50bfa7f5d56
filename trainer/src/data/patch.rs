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

use super::{Problem, Series, Table, TaskKind, Windows, MAX_CHANNELS};

/// Windows longer than this are patched when the patch is derived.
pub const PATCH_ABOVE: usize = 64;
/// The derived patch aims at about this many solver steps per window.
pub const TARGET_STEPS: usize = 40;

/// The patch size derived for `p`: 1 (none) unless it classifies windows
/// longer than [`PATCH_ABOVE`]; then [`patch_for`] its window.
pub fn derived(p: &Problem) -> usize {
    if p.task != TaskKind::Classify {
        return 1;
    }
    patch_for(p.window, p.channels())
}

/// The patch for a classification window of `window` samples of
/// `channels` channels: 1 up to [`PATCH_ABOVE`], else
/// `ceil(window / TARGET_STEPS)`, at most what [`MAX_CHANNELS`] allows.
pub fn patch_for(window: usize, channels: usize) -> usize {
    if window <= PATCH_ABOVE {
        return 1;
    }
    window
        .div_ceil(TARGET_STEPS)
        .min(MAX_CHANNELS / channels.max(1))
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

/// A patched model's layout, read back from its channel names by [`layout`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Samples per patch (at least 2).
    pub k: usize,
    /// The data's channels (the `NAME` of `NAME@j`), in the model's order.
    pub bases: Vec<String>,
}

/// The patch layout of a model whose channels are `names`, or `None` when
/// they are not a patch's: every name must be `BASE@j` (`j` written as
/// [`patched_name`] writes it, `BASE` not empty), the names sample-major
/// (`a@0, b@0, a@1, b@1, ...`: all bases with `j = 0`, then all with
/// `j = 1`, ..., the same distinct bases in the same order each time) and
/// `k >= 2`. A model file does not say it is patched; its names do.
pub fn layout<S: AsRef<str>>(names: &[S]) -> Option<Layout> {
    let parsed: Vec<(&str, usize)> = names
        .iter()
        .map(|n| {
            let n = n.as_ref();
            let (base, j) = n.rsplit_once('@')?;
            let j: usize = j.parse().ok()?;
            (!base.is_empty() && patched_name(base, j) == n).then_some((base, j))
        })
        .collect::<Option<_>>()?;
    let c = parsed.iter().take_while(|(_, j)| *j == 0).count();
    if c == 0 || !parsed.len().is_multiple_of(c) || parsed.len() / c < 2 {
        return None;
    }
    let bases: Vec<&str> = parsed[..c].iter().map(|(b, _)| *b).collect();
    if (1..c).any(|i| bases[..i].contains(&bases[i])) {
        return None;
    }
    let grid = parsed
        .iter()
        .enumerate()
        .all(|(i, &(b, j))| b == bases[i % c] && j == i / c);
    grid.then(|| Layout {
        k: parsed.len() / c,
        bases: bases.into_iter().map(str::to_string).collect(),
    })
}

/// `table` with every series grouped into `k`-sample patches, as [`patch`]
/// groups a window: the oldest `len % k` samples of a series of `len` are
/// dropped (its last sample is kept), a patch's values are its samples'
/// channels sample-major (named `NAME@j` by [`patched_name`]), its time is
/// its last sample's (so the gap before a patch is the sum of its samples'
/// gaps) and so are its label and line. Windows of `n` patches cut from the
/// result are the windows a patched model of window `n` reads. A series
/// shorter than `k` is left with no patch. `k <= 1` returns a copy.
pub fn patch_table(table: &Table, k: usize) -> Table {
    if k <= 1 {
        return table.clone();
    }
    let series = table
        .series
        .iter()
        .map(|s| {
            let len = s.values.len();
            // The last sample of every patch.
            let ends = || (len % k + k - 1..len).step_by(k);
            Series {
                name: s.name.clone(),
                times: ends().map(|e| s.times[e]).collect(),
                values: ends().map(|e| s.values[e + 1 - k..=e].concat()).collect(),
                labels: s
                    .labels
                    .as_ref()
                    .map(|l| ends().map(|e| l[e].clone()).collect()),
                lines: if s.lines.len() == len {
                    ends().map(|e| s.lines[e]).collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    Table {
        source: table.source.clone(),
        channels: (0..k)
            .flat_map(|j| table.channels.iter().map(move |c| patched_name(c, j)))
            .collect(),
        clock: table.clock,
        series,
        missing: table.missing.clone(),
    }
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

    #[test]
    fn layouts_are_read_back_from_the_names() {
        let names: Vec<String> = (0..3)
            .flat_map(|j| ["a", "b@x"].map(|n| patched_name(n, j)))
            .collect();
        assert_eq!(
            layout(&names),
            Some(Layout {
                k: 3,
                bases: vec!["a".into(), "b@x".into()]
            })
        );
        assert_eq!(layout(&["v@0", "v@1"]).map(|l| l.k), Some(2));
        // Not a patch: one sample, plain names, channel-major order, a gap
        // in the samples, a missing or repeated base, `j` not as written.
        for bad in [
            &["v@0"][..],
            &["v", "w"],
            &[],
            &["a@0", "a@1", "b@0", "b@1"],
            &["a@0", "b@0", "a@2", "b@2"],
            &["a@0", "b@0", "a@1"],
            &["a@0", "a@0", "a@1", "a@1"],
            &["a@0", "b@0", "b@1", "a@1"],
            &["v@0", "v@01"],
            &["@0", "@1"],
        ] {
            assert_eq!(layout(bad), None, "{bad:?}");
        }
    }

    /// A long-layout classification table of `series` series of `len`
    /// samples of two channels, at irregular times or at `t = 0, 1, 2, ...`.
    fn long_table(series: usize, len: usize, irregular: bool) -> Table {
        let mut csv = String::from("id,t,a,b,label\n");
        for i in 0..series {
            let mut t = 0.0f64;
            for n in 0..len {
                t += if irregular {
                    [1.0, 1.0, 2.0, 1.0, 0.5][(n + i) % 5]
                } else {
                    1.0
                };
                let (a, b) = ((t * 0.7 + i as f64).sin(), (n * (i + 1)) as f64 * 0.01);
                csv.push_str(&format!("s{i},{t},{a:.4},{b:.4},c{}\n", i % 2));
            }
        }
        crate::data::parse_csv("p.csv", csv.as_bytes(), None).expect("parses")
    }

    /// `patch_table` then one window per series reads what `patch` makes of
    /// the windows of the unpatched table: the same values and gaps (bar
    /// the first gap of a window with irregular times, which the runtime
    /// ignores: the trainer gives it the time unit plus the patch's own
    /// gaps, a cut window the patched time unit), labels and channel names.
    #[test]
    fn a_patched_table_cuts_the_windows_patch_makes() {
        use crate::data::{all_windows, make_problem, WindowSpec};
        for irregular in [false, true] {
            let table = long_table(24, 11, irregular);
            let spec = WindowSpec {
                task: TaskKind::Classify,
                window: None,
                horizon: 0,
                stride: None,
                reference: nagode::normalise::Reference::Global,
                seed: 0,
            };
            let p = make_problem(&table, None, spec).expect("problem");
            assert_eq!(p.window, 11);
            let p = patch(p, 3);
            assert_eq!((p.window, p.patch), (3, 3));
            let pt = patch_table(&table, 3);
            assert_eq!(pt.channels, p.channel_names);
            assert_eq!(
                layout(&pt.channels).map(|l| l.bases),
                Some(table.channels.clone())
            );
            assert!(pt
                .series
                .iter()
                .all(|s| s.values.len() == 3 && s.times.len() == 3));
            let all =
                all_windows(&pt, p.task, p.window, 0, p.time_unit, &p.classes).expect("windows");
            assert_eq!(all.len, 24);
            let (win, c) = (p.window, p.channels());
            let mut seen = 0;
            for w in [&p.train, &p.val, &p.test] {
                for i in 0..w.len {
                    let x = &w.x[i * win * c..(i + 1) * win * c];
                    let j = (0..all.len)
                        .find(|&j| &all.x[j * win * c..(j + 1) * win * c] == x)
                        .expect("the same values");
                    let (g, h) = (
                        &w.gaps[i * win..(i + 1) * win],
                        &all.gaps[j * win..(j + 1) * win],
                    );
                    assert_eq!(g[1..], h[1..], "gaps");
                    assert_eq!(h[0], p.time_unit);
                    if !irregular {
                        assert_eq!(g, h, "regular gaps: every one equal");
                    }
                    assert_eq!(w.class[i], all.class[j]);
                    seen += 1;
                }
            }
            assert_eq!(seen, 24);
        }
        // A series' oldest `len % k` samples are dropped, its last kept.
        let t = patch_table(&long_table(2, 7, true), 3);
        let s = &long_table(2, 7, true).series[1];
        assert_eq!(
            t.series[1].values[0],
            [&s.values[1][..], &s.values[2], &s.values[3]].concat()
        );
        assert_eq!(t.series[1].times, [s.times[3], s.times[6]]);
        assert_eq!(t.series[1].lines, [s.lines[3], s.lines[6]]);
    }
}
