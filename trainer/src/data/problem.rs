//! [`make_problem`]: a table (and an optional separate test table) cut into
//! the training, validation and test windows of a [`Problem`], with the
//! settings not given derived from the data.

use super::split::{self, SeriesSplit};
use super::stats::statistics;
use super::time::time_unit;
use super::windows::Cutter;
use super::{DataError, Table, TaskKind, Windows};
use nagode::format::Clock;
use nagode::normalise::Reference;

/// The longest derived window (and the window of the default ECG run).
pub const DEFAULT_WINDOW: usize = 48;
/// The shortest derived window.
pub const MIN_WINDOW: usize = 4;
/// Training windows at stride 1 per unit of derived stride.
pub const WINDOWS_PER_STRIDE: usize = 2500;

/// A task ready to train: shapes, statistics and the three splits.
#[derive(Clone, Debug)]
pub struct Problem {
    /// Human name of the data.
    pub name: String,
    /// Forecast or classify.
    pub task: TaskKind,
    /// Channel names.
    pub channel_names: Vec<String>,
    /// Samples per window.
    pub window: usize,
    /// Forecast horizon (0 for classification).
    pub horizon: usize,
    /// Step between the starts of consecutive windows of a series.
    pub stride: usize,
    /// Class names (empty for forecasting).
    pub classes: Vec<String>,
    /// The nominal gap in the data's time units: the median of all gaps of
    /// the training table (computed in f64). One unit of solver time.
    pub time_unit: f32,
    /// How the data gives time (the units of `time_unit` and of the gaps).
    pub clock: Clock,
    /// What the inputs (and forecasts) are measured from.
    pub reference: Reference,
    /// Per-channel mean of the training windows' inputs for `reference`.
    pub mean: Vec<f32>,
    /// Per-channel std of the training windows' inputs for `reference`.
    pub std: Vec<f32>,
    /// One line per setting derived from the data: what and why.
    pub notes: Vec<String>,
    /// Samples per patch (`super::patch`): the window counts patches of
    /// this many samples, the channels are `patch` times the data's. 1: none.
    pub patch: usize,
    /// The length every series was resampled to (`super::resample`), if any.
    pub resampled: Option<usize>,
    /// Training windows.
    pub train: Windows,
    /// Validation windows (early stopping).
    pub val: Windows,
    /// Test windows (reported once at the end).
    pub test: Windows,
}

impl Problem {
    /// Input channels.
    pub fn channels(&self) -> usize {
        self.channel_names.len()
    }
    /// Decoder outputs: `horizon * channels` or the class count.
    pub fn outputs(&self) -> usize {
        match self.task {
            TaskKind::Forecast => self.horizon * self.channels(),
            TaskKind::Classify => self.classes.len(),
        }
    }
}

/// How to cut a table into windows.
#[derive(Clone, Copy, Debug)]
pub struct WindowSpec {
    /// Forecast or classify.
    pub task: TaskKind,
    /// Samples per window; `None` derives it (see [`make_problem`]).
    /// Long-layout classification: `Some(0)` is the whole (shortest) series,
    /// as `None` is.
    pub window: Option<usize>,
    /// Forecast horizon (ignored for classification).
    pub horizon: usize,
    /// Step between window starts; `None` derives it (see [`make_problem`]).
    pub stride: Option<usize>,
    /// What inputs are measured from (decides the statistics).
    pub reference: Reference,
    /// Seed for the split (long-layout classification).
    pub seed: u64,
}

/// Cuts `table` (and the optional separate `test` table) into a [`Problem`].
///
/// **Splits.** Wide layout (one series), and wide-layout classification:
/// every series is cut in time at 70 % / 85 % (train / validation / test),
/// or at 85 % (train / validation) when a test table is given. A window
/// belongs to the part that holds its first scored sample (forecasting:
/// its first target; classification: its labelled last sample) and all its
/// targets; its inputs may reach back into earlier parts (past values are
/// known at forecast time), and no target is in two parts. Long-layout
/// forecasting splits whole series in file order; long-layout
/// classification draws whole series per `spec.seed`, stratified by class
/// (see `split::by_class`).
///
/// **Derived window** (`spec.window == None`). Long-layout classification:
/// the shortest series. Otherwise `L / 5` clamped to
/// [`MIN_WINDOW`]..=[`DEFAULT_WINDOW`] (and to `L - horizon`), where `L` is
/// the length of the training part of the shortest series (the whole
/// series in long layout). With the 70 / 15 / 15 time split the validation
/// and test parts get their windows whatever the window (their inputs may
/// reach back); the window only decides how many training windows there
/// are, about `0.8 L - horizon` with `L / 5`, so short series keep most of
/// their training targets, and series from 343 samples on get the default
/// 48.
///
/// **Derived stride** (`spec.stride == None`):
/// `max(1, n / WINDOWS_PER_STRIDE)`, `n` being the number of training
/// windows at stride 1. Neighbouring windows share all but one sample, so
/// past a few thousand windows more of them mostly repeat what an epoch
/// already saw while costing time; the rule keeps at least 2500 training
/// windows and stride 1 below 5000 (the built-in ECG: 5199 at stride 1,
/// stride 2). Long-layout
/// classification never overlaps the windows of one series (the step is at
/// least `window`).
///
/// `Problem::notes` says what was derived and why.
pub fn make_problem(
    table: &Table,
    test: Option<&Table>,
    spec: WindowSpec,
) -> Result<Problem, DataError> {
    check_test_table(table, test)?;
    let input = Input {
        table,
        test,
        long: table.series.len() > 1 || table.series.first().is_some_and(|s| !s.name.is_empty()),
        classify: spec.task == TaskKind::Classify,
    };
    let horizon = if input.classify { 0 } else { spec.horizon };
    if !input.classify && horizon < 1 {
        return Err(DataError::Setting("horizon must be at least 1".into()));
    }
    let time_unit = time_unit(table)?;
    let mut notes: Vec<String> = time_note(table.clock, time_unit).into_iter().collect();
    notes.extend(table.missing_note(test));
    let classes = if input.classify {
        classes_of(table)?
    } else {
        Vec::new()
    };
    let by_series = input.split(&classes, spec.seed, &mut notes)?;
    let window = input.window(spec.window, horizon, &mut notes)?;
    let need = window + horizon;
    input.check_lengths(need)?;
    let mut cutter = Cutter {
        task: spec.task,
        window,
        horizon,
        step: 1,
        time_unit,
        classes: &classes,
        whose: "training data's",
    };
    let whole_series_steps = input.long && input.classify;
    let stride = match spec.stride {
        Some(s) => s.max(1),
        None if whole_series_steps => {
            notes.push(format!(
                "stride {need}: windows of one series do not overlap (long-layout classification)"
            ));
            1
        }
        None => input.derived_stride(&by_series, &cutter, &mut notes),
    };
    cutter.step = if whole_series_steps {
        need.max(stride)
    } else {
        stride
    };
    let [train, val, test_w] = input.cut(&by_series, &cutter)?;
    input.check_parts(&by_series, &cutter, [&train, &val, &test_w])?;
    let (mean, std) = normalisation(table, &train, window, spec.reference)?;
    Ok(Problem {
        name: table.source.clone(),
        task: spec.task,
        channel_names: table.channels.clone(),
        window,
        horizon,
        stride: cutter.step,
        classes,
        time_unit,
        clock: table.clock,
        reference: spec.reference,
        mean,
        std,
        notes,
        patch: 1,
        resampled: None,
        train,
        val,
        test: test_w,
    })
}

/// A separate test table must have the training table's channels and clock.
fn check_test_table(table: &Table, test: Option<&Table>) -> Result<(), DataError> {
    let Some(t) = test else { return Ok(()) };
    if t.channels != table.channels {
        return Err(DataError::Mismatch {
            file: t.source.clone(),
            message: format!(
                "channels {:?} differ from the training file's {:?}",
                t.channels, table.channels
            ),
        });
    }
    if t.clock != table.clock {
        return Err(DataError::Mismatch {
            file: t.source.clone(),
            message: format!(
                "its times are {:?}, the training file's are {:?}; give `t` the same way in both",
                t.clock, table.clock
            ),
        });
    }
    Ok(())
}

/// The note saying what the derived time unit is measured in, if the data
/// gives times.
fn time_note(clock: Clock, time_unit: f32) -> Option<String> {
    match clock {
        Clock::Index => None,
        Clock::Number => Some(format!(
            "time unit {time_unit} (the median gap between samples, in the `t` column's units)"
        )),
        Clock::DateTime => Some(format!(
            "time unit {time_unit} s (the median gap between samples; date-times count seconds)"
        )),
    }
}

/// The distinct labels of `table` in the trainer's class order: sorted,
/// numerically when they are numbers. A model's class `k` is the `k`-th.
pub fn sorted_labels(table: &Table) -> Vec<String> {
    let mut classes: Vec<String> = Vec::new();
    for l in table.series.iter().flat_map(|s| s.labels.iter().flatten()) {
        if !classes.contains(l) {
            classes.push(l.clone());
        }
    }
    classes.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    classes
}

/// The classes of a labelled table ([`sorted_labels`]); at least two.
fn classes_of(table: &Table) -> Result<Vec<String>, DataError> {
    if table.series.iter().any(|s| s.labels.is_none()) {
        return Err(DataError::NoLabel {
            file: table.source.clone(),
        });
    }
    let classes = sorted_labels(table);
    if classes.len() < 2 {
        return Err(DataError::SingleClass {
            file: table.source.clone(),
            class: classes.first().cloned().unwrap_or_default(),
            part: "the file",
        });
    }
    Ok(classes)
}

/// Per-channel mean and std of the training windows' inputs for
/// `reference`; a constant channel is an error.
fn normalisation(
    table: &Table,
    train: &Windows,
    window: usize,
    reference: Reference,
) -> Result<(Vec<f32>, Vec<f32>), DataError> {
    let channels = table.channels.len();
    let (mean, std) = statistics(train, window, channels, reference);
    let mut std32 = vec![0f32; channels];
    for c in 0..channels {
        std32[c] = std[c] as f32;
        if !(std32[c] > 1e-12 && std32[c].is_finite()) {
            return Err(DataError::Constant {
                file: table.source.clone(),
                name: table.channels[c].clone(),
            });
        }
    }
    Ok((mean.iter().map(|&m| m as f32).collect(), std32))
}

/// The tables being cut and how they are laid out.
struct Input<'a> {
    /// The training table.
    table: &'a Table,
    /// The separate test table, if any.
    test: Option<&'a Table>,
    /// Long layout: parts are whole series.
    long: bool,
    /// Classification (else forecasting).
    classify: bool,
}

impl Input<'_> {
    /// A separate test table was given.
    fn separate_test(&self) -> bool {
        self.test.is_some()
    }

    /// The split into whole series (long layout), or `None` for cuts in time.
    fn split(
        &self,
        classes: &[String],
        seed: u64,
        notes: &mut Vec<String>,
    ) -> Result<Option<SeriesSplit>, DataError> {
        let table = self.table;
        Ok(match (self.long, self.classify) {
            (false, _) => None,
            (true, false) => Some(split::in_file_order(table, self.separate_test())?),
            (true, true) => {
                let class_of: Vec<usize> = table
                    .series
                    .iter()
                    .map(|s| {
                        let l = s.labels.as_ref().and_then(|l| l.first());
                        classes.iter().position(|c| Some(c) == l).unwrap_or(0)
                    })
                    .collect();
                let (s, note) =
                    split::by_class(table, &class_of, classes, self.separate_test(), seed)?;
                notes.push(note);
                Some(s)
            }
        })
    }

    /// The window: `given`, or derived (see [`make_problem`]).
    fn window(
        &self,
        given: Option<usize>,
        horizon: usize,
        notes: &mut Vec<String>,
    ) -> Result<usize, DataError> {
        let shortest = std::iter::once(self.table)
            .chain(self.test)
            .flat_map(|t| &t.series)
            .map(|s| s.values.len())
            .min()
            .unwrap_or(0);
        Ok(match given {
            None | Some(0) if self.long && self.classify => {
                if given.is_none() {
                    notes.push(format!(
                        "window {shortest}: the whole of the shortest series (long-layout classification)"
                    ));
                }
                shortest
            }
            Some(0) => return Err(DataError::Setting("window must be at least 1".into())),
            Some(w) => w,
            None => {
                let (train_len, part) = if self.long {
                    (shortest, "the shortest series")
                } else {
                    let a = self
                        .table
                        .series
                        .iter()
                        .map(|s| split::time_cuts(s.values.len(), self.separate_test()).0)
                        .min()
                        .unwrap_or(0);
                    (a, "the training part of the shortest series")
                };
                let w = (train_len / 5)
                    .clamp(MIN_WINDOW, DEFAULT_WINDOW)
                    .min(train_len.saturating_sub(horizon))
                    .max(1);
                notes.push(if w == DEFAULT_WINDOW {
                    format!("window {w} (the default): {part} has {train_len} samples")
                } else {
                    format!(
                        "window {w} (not {DEFAULT_WINDOW}): {part} has {train_len} samples; \
                         the window is a fifth of that, at least {MIN_WINDOW}"
                    )
                });
                w
            }
        })
    }

    /// Every series of both tables must hold `need` samples (window and
    /// horizon).
    fn check_lengths(&self, need: usize) -> Result<(), DataError> {
        for t in std::iter::once(self.table).chain(self.test) {
            for s in &t.series {
                if s.values.len() < need {
                    return Err(DataError::TooShort {
                        file: t.source.clone(),
                        series: if s.name.is_empty() {
                            "(the only one)".into()
                        } else {
                            s.name.clone()
                        },
                        len: s.values.len(),
                        need,
                    });
                }
            }
        }
        Ok(())
    }

    /// The derived stride (see [`make_problem`]), from the number of
    /// training windows at stride 1.
    fn derived_stride(
        &self,
        by_series: &Option<SeriesSplit>,
        cutter: &Cutter<'_>,
        notes: &mut Vec<String>,
    ) -> usize {
        let table = self.table;
        let n1: usize = match by_series {
            Some(split) => split
                .train
                .iter()
                .map(|&i| {
                    let len = table.series[i].values.len();
                    cutter.count(len, 0, len)
                })
                .sum(),
            None => table
                .series
                .iter()
                .map(|s| {
                    let len = s.values.len();
                    cutter.count(len, 0, split::time_cuts(len, self.separate_test()).0)
                })
                .sum(),
        };
        let s = (n1 / WINDOWS_PER_STRIDE).max(1);
        notes.push(format!(
            "stride {s}: {n1} training windows at stride 1 (one more stride step per {WINDOWS_PER_STRIDE})"
        ));
        s
    }

    /// The training, validation and test windows.
    fn cut(
        &self,
        by_series: &Option<SeriesSplit>,
        cutter: &Cutter<'_>,
    ) -> Result<[Windows; 3], DataError> {
        let table = self.table;
        let (mut train, mut val, mut test_w) =
            (Windows::default(), Windows::default(), Windows::default());
        match by_series {
            Some(split) => {
                for (part, out) in [
                    (&split.train, &mut train),
                    (&split.val, &mut val),
                    (&split.test, &mut test_w),
                ] {
                    for &i in part {
                        let s = &table.series[i];
                        cutter.cut(s, 0, s.values.len(), out, &table.source)?;
                    }
                }
            }
            None => {
                for s in &table.series {
                    let len = s.values.len();
                    let (a, b) = split::time_cuts(len, self.separate_test());
                    cutter.cut(s, 0, a, &mut train, &table.source)?;
                    cutter.cut(s, a, b, &mut val, &table.source)?;
                    if !self.separate_test() {
                        cutter.cut(s, b, len, &mut test_w, &table.source)?;
                    }
                }
            }
        }
        if let Some(t) = self.test {
            for s in &t.series {
                cutter.cut(s, 0, s.values.len(), &mut test_w, &t.source)?;
            }
        }
        Ok([train, val, test_w])
    }

    /// Every part must hold windows, and a classification training part
    /// more than one class.
    fn check_parts(
        &self,
        by_series: &Option<SeriesSplit>,
        cutter: &Cutter<'_>,
        [train, val, test_w]: [&Windows; 3],
    ) -> Result<(), DataError> {
        let file = || self.table.source.clone();
        if train.len == 0 || val.len == 0 || test_w.len == 0 {
            return Err(DataError::EmptySplit {
                file: file(),
                train: train.len,
                val: val.len,
                test: test_w.len,
                hint: self.empty_hint(by_series.is_some(), train.len == 0, cutter),
            });
        }
        if self.classify {
            let first = train.class[0];
            if train.class.iter().all(|&c| c == first) {
                return Err(DataError::SingleClass {
                    file: file(),
                    class: cutter.classes[first].clone(),
                    part: "the training part (the split is in time; try a CSV with --test, or long layout)",
                });
            }
        }
        Ok(())
    }

    /// What to change when a part got no windows.
    fn empty_hint(&self, by_series: bool, no_train: bool, cutter: &Cutter<'_>) -> String {
        let (window, horizon) = (cutter.window, cutter.horizon);
        let len = self
            .table
            .series
            .iter()
            .map(|s| s.values.len())
            .min()
            .unwrap_or(0);
        let (a, b) = split::time_cuts(len, self.separate_test());
        if by_series {
            "a part of whole series got none; add series or give a separate test file".to_string()
        } else if no_train {
            format!(
                "a training window needs window {window} + horizon {horizon} samples within the \
                 training part ({a} of the {len} samples of the shortest series); give a shorter \
                 --window or leave it out to derive one"
            )
        } else {
            format!(
                "the validation and test parts of the shortest series have {} and {} samples and \
                 must hold {} (the horizon, or the label); give a shorter --horizon, longer \
                 series, or a separate test file",
                b - a,
                len - b,
                horizon.max(1)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{builtin, oscillators, parse_csv, Builtin};

    fn spec(task: TaskKind, window: Option<usize>, horizon: usize) -> WindowSpec {
        WindowSpec {
            task,
            window,
            horizon,
            stride: Some(1),
            reference: Reference::Global,
            seed: 0,
        }
    }

    /// A wide CSV `t,a` from times and values.
    fn csv(times: &[String], values: impl Fn(usize) -> f32) -> Table {
        let mut text = String::from("t,a\n");
        for (n, t) in times.iter().enumerate() {
            text.push_str(&format!("{t},{}\n", values(n)));
        }
        parse_csv("x.csv", text.as_bytes(), None).expect("parses")
    }

    #[test]
    fn short_series_and_single_class_are_refused() {
        let t = parse_csv("s.csv", b"a\n1\n2\n3\n", None).expect("parses");
        let sp = spec(TaskKind::Forecast, Some(3), 1);
        let e = make_problem(&t, None, sp).expect_err("too short");
        assert!(
            matches!(
                e,
                DataError::TooShort {
                    len: 3,
                    need: 4,
                    ..
                }
            ),
            "{e}"
        );
        let t = parse_csv("c.csv", b"a,label\n1,x\n2,x\n3,x\n4,x\n", None).expect("parses");
        let sp = spec(TaskKind::Classify, Some(1), 0);
        let e = make_problem(&t, None, sp).expect_err("one class");
        assert!(matches!(e, DataError::SingleClass { .. }), "{e}");
    }

    #[test]
    fn windows_carry_real_gaps() {
        // t = 0, 1, 3, 4, 5, ...: the gap before the third sample is 2.
        let times: Vec<String> = (0..40)
            .map(|n| (n + usize::from(n >= 2)).to_string())
            .collect();
        let t = csv(&times, |n| n as f32 + 1.0);
        let p = make_problem(&t, None, spec(TaskKind::Forecast, Some(3), 1)).expect("problem");
        assert_eq!((p.time_unit, p.clock), (1.0, Clock::Number));
        // First window: samples at t = 0, 1, 3: gaps time_unit, 1, 2.
        assert_eq!(&p.train.gaps[..3], &[1.0, 1.0, 2.0]);
        assert_eq!(&p.train.y[..1], &[4.0]);
        assert!(
            p.notes.iter().any(|n| n.starts_with("time unit 1 ")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn seconds_and_date_times_give_the_same_windows() {
        // Half-hourly with a few missing samples (gaps of 3600 s).
        let secs: Vec<i64> = (0..300i64)
            .filter(|n| n % 37 != 5)
            .map(|n| n * 1800)
            .collect();
        let start = 1_717_200_000i64;
        let iso: Vec<String> = secs
            .iter()
            .map(|&s| {
                let ts = jiff::Timestamp::from_second(start + s).expect("in range");
                // Offset-less civil time (UTC), with a space: 2024-06-01 00:30:00.
                jiff::tz::Offset::UTC
                    .to_datetime(ts)
                    .to_string()
                    .replace('T', " ")
            })
            .collect();
        assert_eq!(iso[1], "2024-06-01 00:30:00");
        let numbers: Vec<String> = secs.iter().map(|s| s.to_string()).collect();
        let value = |n: usize| (n as f32 * 0.3).sin();
        let a = csv(&numbers, value);
        let b = csv(&iso, value);
        assert_eq!((a.clock, b.clock), (Clock::Number, Clock::DateTime));
        let sp = spec(TaskKind::Forecast, None, 4);
        let pa = make_problem(&a, None, sp).expect("seconds");
        let pb = make_problem(&b, None, sp).expect("date-times");
        assert_eq!((pa.time_unit, pb.time_unit), (1800.0, 1800.0));
        for (wa, wb) in [
            (&pa.train, &pb.train),
            (&pa.val, &pb.val),
            (&pa.test, &pb.test),
        ] {
            assert_eq!(wa.gaps, wb.gaps);
            assert_eq!(wa.x, wb.x);
            assert_eq!(wa.y, wb.y);
        }
        assert!(pa.train.gaps.contains(&3600.0));
        assert!(pa.train.gaps.iter().all(|&g| g == 1800.0 || g == 3600.0));
        // Solver time: one unit per nominal gap.
        let g: Vec<f32> = pb.train.gaps[..4]
            .iter()
            .map(|&g| nagode::solver::model_gap(g, pb.time_unit))
            .collect();
        assert!(g.iter().all(|&g| g == 1.0 || g == 2.0), "{g:?}");
        assert!(
            pb.notes.iter().any(|n| n.starts_with("time unit 1800 s")),
            "{:?}",
            pb.notes
        );
    }

    #[test]
    fn a_100_sample_series_gets_a_derived_window_and_three_parts() {
        let times: Vec<String> = (0..100).map(|n| (2000 + n).to_string()).collect();
        let t = csv(&times, |n| (n as f32 * 0.7).sin() + 0.01 * n as f32);
        let mut sp = spec(TaskKind::Forecast, None, 4);
        sp.stride = None;
        let p = make_problem(&t, None, sp).expect("a yearly series of 100 samples");
        // Training part 70 samples: window 70 / 5 = 14.
        assert_eq!((p.window, p.stride), (14, 1));
        // Targets from 70..85 (val) and 85..100 (test): 15 - 4 + 1 windows each.
        assert_eq!((p.train.len, p.val.len, p.test.len), (53, 12, 12));
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("window 14 (not 48)") && n.contains("70 samples")),
            "{:?}",
            p.notes
        );
        // The first validation window's first target is sample 70 (value at n = 70),
        // its inputs 56..70 reach into the training part.
        assert_eq!(p.val.y[0], t.series[0].values[70][0]);
        assert_eq!(p.val.x[0], t.series[0].values[56][0]);
        // Too short for any validation target even so: a message that says what to change.
        let t = csv(&times[..20], |n| n as f32);
        let e = make_problem(&t, None, sp).expect_err("20 samples");
        assert!(matches!(e, DataError::EmptySplit { val: 0, .. }), "{e}");
        assert!(e.to_string().contains("shorter --horizon"), "{e}");
    }

    #[test]
    fn last_value_statistics_of_a_trending_series() {
        // x = 3 n + 100: relative to the window's last sample the inputs are
        // -3 (w - 1), ..., -3, 0 in every window, whatever the level.
        let times: Vec<String> = (0..200).map(|n| n.to_string()).collect();
        let t = csv(&times, |n| 3.0 * n as f32 + 100.0);
        let mut sp = spec(TaskKind::Forecast, Some(5), 2);
        sp.reference = Reference::LastValue;
        let p = make_problem(&t, None, sp).expect("trend");
        assert_eq!(p.reference, Reference::LastValue);
        // Offsets -12, -9, -6, -3, 0: mean -6, population std sqrt(18).
        assert!((p.mean[0] + 6.0).abs() < 1e-5, "{:?}", p.mean);
        assert!((p.std[0] - 18f32.sqrt()).abs() < 1e-5, "{:?}", p.std);
        sp.reference = Reference::Global;
        let g = make_problem(&t, None, sp).expect("trend");
        assert!(g.mean[0] > 200.0, "{:?}", g.mean);
        // A series constant within every window has no last-value spread.
        let t = csv(&times, |n| (n / 50) as f32);
        sp.reference = Reference::LastValue;
        sp.window = Some(1);
        let e = make_problem(&t, None, sp).expect_err("no spread");
        assert!(matches!(e, DataError::Constant { .. }), "{e}");
    }

    #[test]
    fn default_ecg_problem_keeps_window_48_stride_2() {
        let (t, test) = builtin(Builtin::Ecg, 0).expect("ecg");
        assert_eq!(t.clock, Clock::Index);
        let sp = WindowSpec {
            task: TaskKind::Forecast,
            window: None,
            horizon: 4,
            stride: None,
            reference: Reference::Global,
            seed: 0,
        };
        let p = make_problem(&t, test.as_ref(), sp).expect("ecg");
        assert_eq!((p.window, p.stride, p.time_unit), (48, 2, 1.0));
        // 70 / 15 / 15 of the targets: 7500 samples, cuts at 5250 and 6375.
        assert_eq!((p.train.len, p.val.len, p.test.len), (2600, 561, 561));
        assert_eq!(p.notes.len(), 2, "{:?}", p.notes);
    }

    #[test]
    fn italy_and_oscillators_classify_by_series() {
        let (t, test) = builtin(Builtin::Italy, 0).expect("italy");
        let sp = WindowSpec {
            task: TaskKind::Classify,
            window: None,
            horizon: 0,
            stride: None,
            reference: Reference::Global,
            seed: 0,
        };
        let p = make_problem(&t, test.as_ref(), sp).expect("italy");
        assert_eq!((p.window, p.stride), (24, 24));
        assert_eq!(p.classes, ["1", "2"]);
        // 67 training series: 14 (20 %) for validation, every class in it.
        assert_eq!((p.train.len, p.val.len), (53, 14));
        assert!((0..2).all(|c| p.val.class.contains(&c)));
        assert_eq!(p.test.len, test.map_or(0, |t| t.series.len()));
        // Seeds draw different validation series (seen in the labels' order).
        let osc = oscillators(3, 0.0, 40);
        let sp = WindowSpec {
            window: Some(0),
            ..sp
        };
        let a = make_problem(&osc, None, sp).expect("seed 0");
        let b = make_problem(&osc, None, WindowSpec { seed: 1, ..sp }).expect("seed 1");
        assert_eq!((a.train.len, a.val.len, a.test.len), (24, 8, 8));
        assert_ne!(a.val.x, b.val.x);
        assert!((0..2).all(|c| a.val.class.contains(&c) && b.val.class.contains(&c)));
    }
}
