//! Cutting series into windows: raw inputs, the gap before every sample,
//! and the forecast targets or the class of each window.

use super::{DataError, Series, Table, TaskKind};

/// Training windows: raw (not normalised) inputs, gaps and targets.
#[derive(Clone, Debug, Default)]
pub struct Windows {
    /// Inputs `[i][n][c]`.
    pub x: Vec<f32>,
    /// Gap before each sample `[i][n]` in the data's time units (the `t`
    /// column's numbers, seconds for date-times, 1 per row without `t`):
    /// each the f64 difference of two times cast to f32; the first gap of
    /// every window is the problem's `time_unit`. Solver time is
    /// `nagode::solver::model_gap(gap, time_unit)`.
    pub gaps: Vec<f32>,
    /// Forecast targets `[i][k][c]` (raw units); empty for classification.
    pub y: Vec<f32>,
    /// Class index per window; empty for forecasting.
    pub class: Vec<usize>,
    /// The series each window was cut from, numbered within these windows
    /// (consecutive windows of one series share it); empty where unknown.
    pub series: Vec<usize>,
    /// Number of windows.
    pub len: usize,
}

impl Windows {
    /// The windows at `idx`, in that order.
    pub fn pick(&self, idx: &[usize], window: usize, channels: usize, outputs: usize) -> Windows {
        let mut w = Windows::default();
        for &i in idx {
            w.x.extend_from_slice(&self.x[i * window * channels..(i + 1) * window * channels]);
            w.gaps
                .extend_from_slice(&self.gaps[i * window..(i + 1) * window]);
            if !self.y.is_empty() {
                w.y.extend_from_slice(&self.y[i * outputs..(i + 1) * outputs]);
            }
            if !self.class.is_empty() {
                w.class.push(self.class[i]);
            }
            if !self.series.is_empty() {
                w.series.push(self.series[i]);
            }
        }
        w.len = idx.len();
        w
    }

    /// These windows followed by `other`'s.
    pub fn concat(&self, other: &Windows) -> Windows {
        let join = |a: &[f32], b: &[f32]| [a, b].concat();
        // `other`'s series numbers continue after this one's.
        let next = self.series.iter().max().map_or(0, |m| m + 1);
        let series = if self.series.len() == self.len && other.series.len() == other.len {
            let theirs = other.series.iter().map(|s| s + next);
            self.series.iter().copied().chain(theirs).collect()
        } else {
            Vec::new()
        };
        Windows {
            x: join(&self.x, &other.x),
            gaps: join(&self.gaps, &other.gaps),
            y: join(&self.y, &other.y),
            class: [&self.class[..], &other.class[..]].concat(),
            series,
            len: self.len + other.len,
        }
    }
}

/// Cuts series into windows (see [`super::make_problem`] and [`all_windows`]).
///
/// A window is *scored* on its targets (forecasting: the `horizon` samples
/// after it) or its label (classification: the label of its last sample).
/// [`Cutter::cut`] takes the windows whose scored samples all lie in a
/// sample range `from..to`; their inputs may reach back before `from`
/// (past values are known when the forecast is made), so parts that split
/// a series in time never share a scored sample but may share inputs.
pub(crate) struct Cutter<'a> {
    /// Forecast or classify.
    pub task: TaskKind,
    /// Samples per window.
    pub window: usize,
    /// Forecast horizon (0 for classification).
    pub horizon: usize,
    /// Step between window starts (at least 1).
    pub step: usize,
    /// The gap given before the first sample of a window.
    pub time_unit: f32,
    /// Class names, in the order of the class indices.
    pub classes: &'a [String],
    /// Whose classes these are, for [`DataError::UnknownClass`].
    pub whose: &'static str,
}

impl Cutter<'_> {
    /// Offset, from a window's start, of its first scored sample.
    fn scored(&self) -> usize {
        match self.task {
            TaskKind::Forecast => self.window,
            TaskKind::Classify => self.window.saturating_sub(1),
        }
    }

    /// Starts of the windows of a `len`-sample series scored in `from..to`.
    fn starts(&self, len: usize, from: usize, to: usize) -> impl Iterator<Item = usize> {
        let need = self.window + self.horizon;
        let end = to.min(len);
        (from.saturating_sub(self.scored())..)
            .step_by(self.step.max(1))
            .take_while(move |&s| s + need <= end)
    }

    /// How many windows [`Cutter::cut`] would take.
    pub fn count(&self, len: usize, from: usize, to: usize) -> usize {
        self.starts(len, from, to).count()
    }

    /// Appends to `out` the windows of `s` scored in `from..to`.
    pub fn cut(
        &self,
        s: &Series,
        from: usize,
        to: usize,
        out: &mut Windows,
        source: &str,
    ) -> Result<(), DataError> {
        let id = out.series.last().map_or(0, |l| l + 1);
        for start in self.starts(s.values.len(), from, to) {
            out.series.push(id);
            for n in 0..self.window {
                out.x.extend_from_slice(&s.values[start + n]);
                let gap = if n == 0 {
                    self.time_unit
                } else {
                    (s.times[start + n] - s.times[start + n - 1]) as f32
                };
                out.gaps.push(gap);
            }
            match self.task {
                TaskKind::Forecast => {
                    for k in 0..self.horizon {
                        out.y.extend_from_slice(&s.values[start + self.window + k]);
                    }
                }
                TaskKind::Classify => {
                    let at = start + self.window - 1;
                    out.class.push(self.class_of(s, at, source)?);
                }
            }
            out.len += 1;
        }
        Ok(())
    }

    /// The class index of sample `at` of `s`.
    fn class_of(&self, s: &Series, at: usize, source: &str) -> Result<usize, DataError> {
        let labels = s.labels.as_ref().ok_or_else(|| DataError::NoLabel {
            file: source.into(),
        })?;
        let l = &labels[at];
        self.classes
            .iter()
            .position(|x| x == l)
            .ok_or_else(|| DataError::UnknownClass {
                file: source.into(),
                line: s.lines.get(at).copied(),
                label: l.clone(),
                whose: self.whose,
                classes: self.classes.join(", "),
            })
    }

    /// Checks that every label of `table` is one of the classes.
    pub fn check_labels(&self, table: &Table) -> Result<(), DataError> {
        for s in &table.series {
            let n = s.labels.as_ref().map_or(0, Vec::len);
            for at in 0..n {
                self.class_of(s, at, &table.source)?;
            }
        }
        Ok(())
    }
}

/// Every window (stride 1) of every series of `table`, for scoring a
/// trained model: `window`, `horizon` (ignored for classification) and
/// `time_unit` (the first gap of every window) are the model's, and
/// `classes` are the model's class names in the model's order. A label of
/// `table` that is not one of them is a [`DataError::UnknownClass`].
pub fn all_windows(
    table: &Table,
    task: TaskKind,
    window: usize,
    horizon: usize,
    time_unit: f32,
    classes: &[String],
) -> Result<Windows, DataError> {
    if window == 0 {
        return Err(DataError::Setting("window must be at least 1".into()));
    }
    let horizon = if task == TaskKind::Forecast {
        horizon
    } else {
        0
    };
    let cutter = Cutter {
        task,
        window,
        horizon,
        step: 1,
        time_unit,
        classes,
        whose: "model's",
    };
    if task == TaskKind::Classify {
        if table.series.iter().any(|s| s.labels.is_none()) {
            return Err(DataError::NoLabel {
                file: table.source.clone(),
            });
        }
        cutter.check_labels(table)?;
    }
    let mut w = Windows::default();
    for s in &table.series {
        if s.values.len() < window + horizon {
            return Err(DataError::TooShort {
                file: table.source.clone(),
                series: s.name.clone(),
                len: s.values.len(),
                need: window + horizon,
            });
        }
        cutter.cut(s, 0, s.values.len(), &mut w, &table.source)?;
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_csv;

    #[test]
    fn all_windows_refuses_a_label_the_model_does_not_know() {
        let t = parse_csv(
            "e.csv",
            b"id,t,a,label\n0,0,1,up\n0,1,2,up\n1,0,3,down\n1,1,4,down\n2,0,5,sideways\n2,1,6,sideways\n",
            None,
        )
        .expect("parses");
        let model = ["down".to_string(), "up".to_string()];
        let e = all_windows(&t, TaskKind::Classify, 2, 0, 1.0, &model).expect_err("unknown");
        assert!(
            matches!(&e, DataError::UnknownClass { line: Some(6), label, .. } if label == "sideways"),
            "{e:?}"
        );
        let m = e.to_string();
        assert!(m.contains("e.csv: line 6: label `sideways`"), "{m}");
        assert!(m.contains("model's classes: down, up"), "{m}");
        // Known labels map to the model's order, not the file's.
        let known = ["sideways".to_string(), "up".to_string(), "down".to_string()];
        let w = all_windows(&t, TaskKind::Classify, 2, 0, 1.0, &known).expect("all known");
        assert_eq!(w.class, [1, 2, 0]);
        assert_eq!(w.gaps, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    }
}
