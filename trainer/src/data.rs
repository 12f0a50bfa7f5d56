//! Time series in, training windows out: CSV loading (wide and long layout),
//! the built-in data sets, normalisation statistics and windowing.
//!
//! Every malformed input is a [`DataError`] naming the file, the line and the
//! column, so a user can find the bad cell without reading code.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::path::Path;

/// Most channels a model file can carry.
pub const MAX_CHANNELS: usize = nagode::format::MAX_CHANNELS;

/// Why a data file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read at all.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The CSV reader failed (bad UTF-8, ragged quoting...).
    #[error("{file}: line {line}: malformed CSV: {message}")]
    Csv {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// No header row.
    #[error("{file}: empty file (a header row is required)")]
    Empty {
        /// The file.
        file: String,
    },
    /// A header but no data rows.
    #[error("{file}: header only, no data rows")]
    HeaderOnly {
        /// The file.
        file: String,
    },
    /// Two columns with the same name.
    #[error("{file}: line 1, column {column}: duplicate column name `{name}`")]
    DuplicateColumn {
        /// The file.
        file: String,
        /// 1-based column.
        column: usize,
        /// The repeated name.
        name: String,
    },
    /// A column that was asked for (or is required) is not in the header.
    #[error("{file}: line 1: missing column `{name}` (header has: {header})")]
    MissingColumn {
        /// The file.
        file: String,
        /// The missing name.
        name: String,
        /// The header as read.
        header: String,
    },
    /// No channel column remains after removing `t`, `id` and `label`.
    #[error("{file}: line 1: no channel columns (need at least one besides t, id, label)")]
    NoChannels {
        /// The file.
        file: String,
    },
    /// More channels than a model file can hold.
    #[error("{file}: {count} channels, at most {max} are supported")]
    TooManyChannels {
        /// The file.
        file: String,
        /// Channels requested.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A row with the wrong number of fields.
    #[error("{file}: line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// An empty cell.
    #[error("{file}: line {line}, column {column} (`{name}`): empty field")]
    EmptyField {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// Column name.
        name: String,
    },
    /// A cell that is not a number.
    #[error("{file}: line {line}, column {column} (`{name}`): `{value}` is not a number")]
    NotNumeric {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// Column name.
        name: String,
        /// The cell.
        value: String,
    },
    /// NaN, infinity, or a value beyond the f32 range.
    #[error("{file}: line {line}, column {column} (`{name}`): `{value}` is not a finite f32")]
    NonFinite {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// Column name.
        name: String,
        /// The cell.
        value: String,
    },
    /// `t` does not increase strictly (within one series).
    #[error("{file}: line {line}, column {column} (`t`): time {value} does not increase (previous {previous})")]
    TimeNotIncreasing {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// This row's time.
        value: f64,
        /// The previous row's time.
        previous: f64,
    },
    /// The rows of one `id` are not contiguous.
    #[error("{file}: line {line}, column {column} (`id`): series `{id}` appears again after another series; rows of one series must be contiguous")]
    SeriesSplit {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The id.
        id: String,
    },
    /// A series too short for one window (+ horizon).
    #[error("{file}: series {series} has {len} samples, fewer than the {need} one window needs (window + horizon)")]
    TooShort {
        /// The file.
        file: String,
        /// Series name (id or "the series").
        series: String,
        /// Its length.
        len: usize,
        /// Samples needed.
        need: usize,
    },
    /// Classification with only one class present.
    #[error("{file}: only one class (`{class}`) in column `label` of {part}; classification needs at least two")]
    SingleClass {
        /// The file.
        file: String,
        /// The only class.
        class: String,
        /// Where: the whole file or its training part.
        part: &'static str,
    },
    /// Classification asked for but the file has no `label` column.
    #[error("{file}: line 1: classification needs a `label` column")]
    NoLabel {
        /// The file.
        file: String,
    },
    /// The label changes inside one series of a long-layout file.
    #[error("{file}: line {line}, column {column} (`label`): label `{value}` differs from `{first}` earlier in series {series}")]
    LabelChanges {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The series id.
        series: String,
        /// The series' first label.
        first: String,
        /// The conflicting label.
        value: String,
    },
    /// The test file's classes or channels do not match the training file's.
    #[error("{file}: {message}")]
    Mismatch {
        /// The file.
        file: String,
        /// What differs.
        message: String,
    },
    /// Too few windows to split into train / validation / test.
    #[error(
        "{file}: only {windows} windows; need at least {need} to split into train/validation/test"
    )]
    TooFewWindows {
        /// The file.
        file: String,
        /// Windows available.
        windows: usize,
        /// Windows needed.
        need: usize,
    },
    /// A split part without windows.
    #[error("{file}: {train} train / {val} validation / {test} test windows; every part needs at least one (a longer series, or a shorter window)")]
    EmptySplit {
        /// The file.
        file: String,
        /// Train windows.
        train: usize,
        /// Validation windows.
        val: usize,
        /// Test windows.
        test: usize,
    },
    /// A channel is constant on the training part (its std is 0).
    #[error("{file}: channel `{name}` is constant on the training part; it cannot be normalised")]
    Constant {
        /// The file.
        file: String,
        /// The channel.
        name: String,
    },
    /// A command-line value out of range.
    #[error("invalid setting: {0}")]
    Setting(String),
}

/// One series: samples of every channel with their times.
#[derive(Clone, Debug)]
pub struct Series {
    /// Series name (the `id` in long layout).
    pub name: String,
    /// Sample times (row numbers when the file has no `t`).
    pub times: Vec<f64>,
    /// Samples, `[n][channel]`.
    pub values: Vec<Vec<f32>>,
    /// Per-sample labels, when the file has a `label` column.
    pub labels: Option<Vec<String>>,
}

/// A whole file: its series and channel names.
#[derive(Clone, Debug)]
pub struct Table {
    /// Where it came from (file name or built-in name), for error messages.
    pub source: String,
    /// Channel names, in column order.
    pub channels: Vec<String>,
    /// Whether a `t` column was present.
    pub has_time: bool,
    /// The series (one for wide layout).
    pub series: Vec<Series>,
}

/// Reads a CSV file (wide or long layout, chosen by the presence of an `id` column).
pub fn load_csv(path: &Path, columns: Option<&[String]>) -> Result<Table, DataError> {
    let file = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| DataError::Io {
        file: file.clone(),
        source,
    })?;
    parse_csv(&file, &text, columns)
}

/// Parses CSV bytes; `file` names the source in errors.
pub fn parse_csv(file: &str, bytes: &[u8], columns: Option<&[String]>) -> Result<Table, DataError> {
    let f = || file.to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = rdr.records();
    let header = match records.next() {
        None => return Err(DataError::Empty { file: f() }),
        Some(r) => r.map_err(|e| csv_error(file, &e))?,
    };
    let names: Vec<String> = header.iter().map(|s| s.trim().to_string()).collect();
    if names.iter().all(|n| n.is_empty()) {
        return Err(DataError::Empty { file: f() });
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(DataError::DuplicateColumn {
                file: f(),
                column: i + 1,
                name: n.clone(),
            });
        }
    }
    let find = |n: &str| names.iter().position(|h| h == n);
    let t_col = find("t");
    let id_col = find("id");
    let label_col = find("label");
    let chan_cols: Vec<usize> = match columns {
        Some(list) => list
            .iter()
            .map(|c| {
                find(c).ok_or_else(|| DataError::MissingColumn {
                    file: f(),
                    name: c.clone(),
                    header: names.join(","),
                })
            })
            .collect::<Result<_, _>>()?,
        None => (0..names.len())
            .filter(|&i| Some(i) != t_col && Some(i) != id_col && Some(i) != label_col)
            .collect(),
    };
    if chan_cols.is_empty() {
        return Err(DataError::NoChannels { file: f() });
    }
    if chan_cols.len() > MAX_CHANNELS {
        return Err(DataError::TooManyChannels {
            file: f(),
            count: chan_cols.len(),
            max: MAX_CHANNELS,
        });
    }
    if id_col.is_some() && t_col.is_none() {
        return Err(DataError::MissingColumn {
            file: f(),
            name: "t".into(),
            header: names.join(","),
        });
    }
    let mut series: Vec<Series> = Vec::new();
    let mut rows = 0usize;
    for rec in records {
        let rec = rec.map_err(|e| csv_error(file, &e))?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() == 1 && rec.get(0).is_some_and(|s| s.trim().is_empty()) {
            continue; // blank line
        }
        if rec.len() != names.len() {
            return Err(DataError::FieldCount {
                file: f(),
                line,
                expected: names.len(),
                found: rec.len(),
            });
        }
        rows += 1;
        let cell = |col: usize| -> Result<&str, DataError> {
            let s = rec.get(col).unwrap_or("").trim();
            if s.is_empty() {
                Err(DataError::EmptyField {
                    file: f(),
                    line,
                    column: col + 1,
                    name: names[col].clone(),
                })
            } else {
                Ok(s)
            }
        };
        let number = |col: usize| -> Result<f64, DataError> {
            let s = cell(col)?;
            let v: f64 = s.parse().map_err(|_| DataError::NotNumeric {
                file: f(),
                line,
                column: col + 1,
                name: names[col].clone(),
                value: s.to_string(),
            })?;
            if !v.is_finite() || !(v as f32).is_finite() {
                return Err(DataError::NonFinite {
                    file: f(),
                    line,
                    column: col + 1,
                    name: names[col].clone(),
                    value: s.to_string(),
                });
            }
            Ok(v)
        };
        let id = match id_col {
            Some(c) => cell(c)?.to_string(),
            None => String::new(),
        };
        let new_series = series.last().is_none_or(|s| s.name != id);
        if new_series {
            if id_col.is_some() && series.iter().any(|s| s.name == id) {
                // An id that reappears after another one: rows of a series must be contiguous.
                return Err(DataError::SeriesSplit {
                    file: f(),
                    line,
                    column: id_col.map_or(0, |c| c + 1),
                    id,
                });
            }
            series.push(Series {
                name: id.clone(),
                times: Vec::new(),
                values: Vec::new(),
                labels: label_col.map(|_| Vec::new()),
            });
        }
        let s = series.last_mut().ok_or(DataError::Empty { file: f() })?;
        let t = match t_col {
            Some(c) => {
                let t = number(c)?;
                if let Some(&prev) = s.times.last() {
                    if t <= prev {
                        return Err(DataError::TimeNotIncreasing {
                            file: f(),
                            line,
                            column: c + 1,
                            value: t,
                            previous: prev,
                        });
                    }
                }
                t
            }
            None => s.times.len() as f64,
        };
        s.times.push(t);
        let sample = chan_cols
            .iter()
            .map(|&c| number(c).map(|v| v as f32))
            .collect::<Result<Vec<f32>, _>>()?;
        s.values.push(sample);
        if let (Some(c), Some(labels)) = (label_col, s.labels.as_mut()) {
            let l = cell(c)?.to_string();
            if id_col.is_some() {
                if let Some(first) = labels.first() {
                    if *first != l {
                        return Err(DataError::LabelChanges {
                            file: f(),
                            line,
                            column: c + 1,
                            series: id,
                            first: first.clone(),
                            value: l,
                        });
                    }
                }
            }
            labels.push(l);
        }
    }
    if rows == 0 {
        return Err(DataError::HeaderOnly { file: f() });
    }
    Ok(Table {
        source: file.to_string(),
        channels: chan_cols.iter().map(|&c| names[c].clone()).collect(),
        has_time: t_col.is_some(),
        series,
    })
}

fn csv_error(file: &str, e: &csv::Error) -> DataError {
    DataError::Csv {
        file: file.to_string(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

/// Which built-in data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Builtin {
    /// MIT-BIH ECG excerpt, one channel, forecasting (the default).
    Ecg,
    /// ItalyPowerDemand (UCR), 24-step daily series, two classes.
    Italy,
    /// Damped oscillators generated in code (x and dx/dt), forecasting.
    Oscillator,
    /// The damped oscillators with random samples dropped (irregular `t`).
    OscillatorIrregular,
}

const ECG_CSV: &str = include_str!("../../data/ecg_mitdb.csv");
const ITALY_TRAIN_CSV: &str = include_str!("../../data/ItalyPowerDemand_train.csv");
const ITALY_TEST_CSV: &str = include_str!("../../data/ItalyPowerDemand_test.csv");

/// Loads a built-in data set: the table and, for data with its own test split, that split.
pub fn builtin(which: Builtin, seed: u64) -> Result<(Table, Option<Table>), DataError> {
    let ecg_cols = ["ecg".to_string()];
    match which {
        Builtin::Ecg => Ok((
            parse_csv("ecg_mitdb.csv", ECG_CSV.as_bytes(), Some(&ecg_cols))?,
            None,
        )),
        Builtin::Italy => Ok((
            parse_csv(
                "ItalyPowerDemand_train.csv",
                ITALY_TRAIN_CSV.as_bytes(),
                None,
            )?,
            Some(parse_csv(
                "ItalyPowerDemand_test.csv",
                ITALY_TEST_CSV.as_bytes(),
                None,
            )?),
        )),
        Builtin::Oscillator => Ok((oscillators(seed, 0.0, OSC_SERIES), None)),
        Builtin::OscillatorIrregular => Ok((oscillators(seed, OSC_DROP, OSC_SERIES), None)),
    }
}

/// Angular frequency separating the oscillators' classes `slow` and `fast`.
pub const OSC_SPLIT: f64 = 1.2;

/// Series in the built-in oscillator set.
pub const OSC_SERIES: usize = 48;
/// Fraction of samples the irregular oscillator set drops.
pub const OSC_DROP: f64 = 0.35;

/// Nominal sampling interval of the synthetic oscillators.
pub const OSC_DT: f64 = 0.1;

/// Damped oscillators `x'' + 2 zeta w x' + w^2 x = 0` with random frequency,
/// damping and initial state, sampled every [`OSC_DT`]; with `drop > 0`
/// each sample after the first is dropped with that probability, giving
/// irregular times. Each series is labelled `slow` or `fast` (frequency
/// below or above [`OSC_SPLIT`]) for the classification task. Deterministic
/// in `seed`: the oscillators are the same for every `drop`.
pub fn oscillators(seed: u64, drop: f64, n_series: usize) -> Table {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x05C1_11A7);
    let mut drop_rng = StdRng::seed_from_u64(seed ^ 0xD209);
    let len = 160;
    let series = (0..n_series)
        .map(|i| {
            let w: f64 = rng.gen_range(0.8..1.6);
            let zeta: f64 = rng.gen_range(0.02..0.12);
            let amp: f64 = rng.gen_range(0.5..2.0);
            let phase: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
            let wd = w * (1.0 - zeta * zeta).sqrt();
            let class = if w < OSC_SPLIT { "slow" } else { "fast" };
            let mut times = Vec::new();
            let mut values = Vec::new();
            for n in 0..len {
                let t = n as f64 * OSC_DT;
                if n > 0 && drop > 0.0 && drop_rng.gen_bool(drop) {
                    continue;
                }
                let decay = amp * (-zeta * w * t).exp();
                let x = decay * (wd * t + phase).cos();
                let v = -zeta * w * x - decay * wd * (wd * t + phase).sin();
                times.push(t);
                values.push(vec![x as f32, v as f32]);
            }
            Series {
                name: i.to_string(),
                labels: Some(vec![class.to_string(); times.len()]),
                times,
                values,
            }
        })
        .collect();
    Table {
        source: if drop > 0.0 {
            "oscillator-irregular (generated)".into()
        } else {
            "oscillator (generated)".into()
        },
        channels: vec!["x".into(), "v".into()],
        has_time: true,
        series,
    }
}

/// What the model predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskKind {
    /// The next `horizon` samples of every channel.
    Forecast,
    /// The class of a window (`label` column).
    Classify,
}

/// Training windows: raw (not normalised) inputs, gaps and targets.
#[derive(Clone, Debug, Default)]
pub struct Windows {
    /// Inputs `[i][n][c]`.
    pub x: Vec<f32>,
    /// Gap before each sample `[i][n]` (the first is the nominal `sample_dt`).
    pub gaps: Vec<f32>,
    /// Forecast targets `[i][k][c]` (raw units); empty for classification.
    pub y: Vec<f32>,
    /// Class index per window; empty for forecasting.
    pub class: Vec<usize>,
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
        }
        w.len = idx.len();
        w
    }
}

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
    /// Class names (empty for forecasting).
    pub classes: Vec<String>,
    /// Nominal (median) gap between samples.
    pub sample_dt: f32,
    /// Per-channel mean on the training split.
    pub mean: Vec<f32>,
    /// Per-channel std on the training split.
    pub std: Vec<f32>,
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
    /// Samples per window (classification of long layout: 0 = whole series).
    pub window: usize,
    /// Forecast horizon.
    pub horizon: usize,
    /// Step between window starts.
    pub stride: usize,
    /// Seed for the split.
    pub seed: u64,
}

/// Cuts `table` (and the optional separate `test` table) into a [`Problem`].
///
/// Forecasting splits every series in time (70 % / 15 % / 15 %) unless a
/// test table is given (then 85 % / 15 % train / validation). Classification
/// of long-layout data splits series at random (seeded); wide-layout
/// classification labels each window with the label of its last sample.
pub fn make_problem(
    table: &Table,
    test: Option<&Table>,
    spec: WindowSpec,
) -> Result<Problem, DataError> {
    let file = || table.source.clone();
    let channels = table.channels.len();
    if let Some(t) = test {
        if t.channels != table.channels {
            return Err(DataError::Mismatch {
                file: t.source.clone(),
                message: format!(
                    "channels {:?} differ from the training file's {:?}",
                    t.channels, table.channels
                ),
            });
        }
    }
    let long = table.series.len() > 1 || table.series.first().is_some_and(|s| !s.name.is_empty());
    let mut window = spec.window;
    if spec.task == TaskKind::Classify && long && window == 0 {
        window = table
            .series
            .iter()
            .map(|s| s.values.len())
            .min()
            .unwrap_or(0);
    }
    if window < 1 {
        return Err(DataError::Setting("window must be at least 1".into()));
    }
    let horizon = if spec.task == TaskKind::Forecast {
        spec.horizon
    } else {
        0
    };
    if spec.task == TaskKind::Forecast && horizon < 1 {
        return Err(DataError::Setting("horizon must be at least 1".into()));
    }
    let need = window + horizon;
    for t in std::iter::once(table).chain(test) {
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
    // Nominal gap: the median over all gaps of the training table.
    let mut gaps: Vec<f64> = table
        .series
        .iter()
        .flat_map(|s| s.times.windows(2).map(|w| w[1] - w[0]))
        .collect();
    gaps.sort_by(f64::total_cmp);
    let sample_dt = gaps.get(gaps.len() / 2).copied().unwrap_or(1.0) as f32;
    if !(sample_dt.is_finite() && sample_dt > 0.0) {
        return Err(DataError::Setting(format!(
            "time step {sample_dt} is not a positive f32"
        )));
    }

    // Classes.
    let mut classes: Vec<String> = Vec::new();
    if spec.task == TaskKind::Classify {
        for t in std::iter::once(table) {
            for s in &t.series {
                let labels = s.labels.as_ref().ok_or_else(|| DataError::NoLabel {
                    file: t.source.clone(),
                })?;
                for l in labels {
                    if !classes.contains(l) {
                        classes.push(l.clone());
                    }
                }
            }
        }
        classes.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => a.cmp(b),
        });
        if classes.len() < 2 {
            return Err(DataError::SingleClass {
                file: file(),
                class: classes.first().cloned().unwrap_or_default(),
                part: "the file",
            });
        }
    }

    let stride = spec.stride.max(1);
    // Cut one series' sample range [from, to) into windows.
    let step = if long && spec.task == TaskKind::Classify {
        need.max(stride)
    } else {
        stride
    };
    let cutter = Cutter {
        task: spec.task,
        window,
        horizon,
        step,
        sample_dt,
        classes: &classes,
    };
    let cut = |s: &Series, from: usize, to: usize, out: &mut Windows, source: &str| {
        cutter.cut(s, from, to, out, source)
    };

    let (mut train, mut val, mut test_w) =
        (Windows::default(), Windows::default(), Windows::default());
    if long {
        // Many series: split by series so no window straddles two parts;
        // shuffled (seeded) for classification, in file order for forecasting.
        let n = table.series.len();
        let mut order: Vec<usize> = (0..n).collect();
        if spec.task == TaskKind::Classify {
            order.shuffle(&mut StdRng::seed_from_u64(spec.seed));
        }
        let n_val = (n * 15 / 100).max(1);
        let n_test = if test.is_some() { 0 } else { n_val };
        if n < n_val + n_test + 1 {
            return Err(DataError::TooFewWindows {
                file: file(),
                windows: n,
                need: n_val + n_test + 1,
            });
        }
        let n_train = n - n_val - n_test;
        for (k, &i) in order.iter().enumerate() {
            let s = &table.series[i];
            let dst = if k < n_train {
                &mut train
            } else if k < n_train + n_val {
                &mut val
            } else {
                &mut test_w
            };
            cut(s, 0, s.values.len(), dst, &table.source)?;
        }
    } else {
        for s in &table.series {
            let len = s.values.len();
            let (a, b) = if test.is_some() {
                (len * 85 / 100, len)
            } else {
                (len * 70 / 100, len * 85 / 100)
            };
            cut(s, 0, a, &mut train, &table.source)?;
            cut(s, a, b, &mut val, &table.source)?;
            if test.is_none() {
                cut(s, b, len, &mut test_w, &table.source)?;
            }
        }
    }
    if let Some(t) = test {
        for s in &t.series {
            cut(s, 0, s.values.len(), &mut test_w, &t.source)?;
        }
    }
    if train.len == 0 || val.len == 0 || test_w.len == 0 {
        return Err(DataError::EmptySplit {
            file: file(),
            train: train.len,
            val: val.len,
            test: test_w.len,
        });
    }
    if spec.task == TaskKind::Classify {
        let first = train.class[0];
        if train.class.iter().all(|&c| c == first) {
            return Err(DataError::SingleClass {
                file: file(),
                class: classes[first].clone(),
                part: "the training part (the split is in time; try a CSV with --test, or long layout)",
            });
        }
    }
    // Normalisation statistics from the training windows' inputs.
    let mut mean = vec![0f64; channels];
    let mut sq = vec![0f64; channels];
    let count = (train.x.len() / channels) as f64;
    for s in train.x.chunks(channels) {
        for c in 0..channels {
            mean[c] += s[c] as f64;
            sq[c] += (s[c] as f64) * (s[c] as f64);
        }
    }
    let mut std = vec![0f32; channels];
    for c in 0..channels {
        mean[c] /= count;
        let var = (sq[c] / count - mean[c] * mean[c]).max(0.0);
        std[c] = var.sqrt() as f32;
        if !(std[c] > 1e-12 && std[c].is_finite()) {
            return Err(DataError::Constant {
                file: file(),
                name: table.channels[c].clone(),
            });
        }
    }
    Ok(Problem {
        name: table.source.clone(),
        task: spec.task,
        channel_names: table.channels.clone(),
        window,
        horizon,
        classes,
        sample_dt,
        mean: mean.iter().map(|&m| m as f32).collect(),
        std,
        train,
        val,
        test: test_w,
    })
}

/// Cuts series into windows (see [`make_problem`]).
struct Cutter<'a> {
    task: TaskKind,
    window: usize,
    horizon: usize,
    step: usize,
    sample_dt: f32,
    classes: &'a [String],
}

impl Cutter<'_> {
    /// Windows of `s` whose samples (and targets) lie in `from..to`.
    fn cut(
        &self,
        s: &Series,
        from: usize,
        to: usize,
        out: &mut Windows,
        source: &str,
    ) -> Result<(), DataError> {
        let need = self.window + self.horizon;
        let mut start = from;
        while start + need <= to {
            for n in 0..self.window {
                out.x.extend_from_slice(&s.values[start + n]);
                let gap = if n == 0 {
                    self.sample_dt as f64
                } else {
                    s.times[start + n] - s.times[start + n - 1]
                };
                out.gaps.push(gap as f32);
            }
            match self.task {
                TaskKind::Forecast => {
                    for k in 0..self.horizon {
                        out.y.extend_from_slice(&s.values[start + self.window + k]);
                    }
                }
                TaskKind::Classify => {
                    let labels = s.labels.as_ref().ok_or_else(|| DataError::NoLabel {
                        file: source.into(),
                    })?;
                    let l = &labels[start + self.window - 1];
                    let c = self.classes.iter().position(|x| x == l).ok_or_else(|| {
                        DataError::Mismatch {
                            file: source.into(),
                            message: format!("class `{l}` does not occur in the training data"),
                        }
                    })?;
                    out.class.push(c);
                }
            }
            out.len += 1;
            start += self.step.max(1);
        }
        Ok(())
    }
}

/// Every window (stride 1) of every series of `table`, for scoring a
/// trained model: `classes` in the model's order, `sample_dt` the model's.
pub fn all_windows(
    table: &Table,
    task: TaskKind,
    window: usize,
    horizon: usize,
    sample_dt: f32,
    classes: &[String],
) -> Result<Windows, DataError> {
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
        sample_dt,
        classes,
    };
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

    fn spec(task: TaskKind, window: usize, horizon: usize) -> WindowSpec {
        WindowSpec {
            task,
            window,
            horizon,
            stride: 1,
            seed: 0,
        }
    }

    fn err(text: &str) -> DataError {
        parse_csv("bad.csv", text.as_bytes(), None).expect_err("must fail")
    }

    #[test]
    fn wide_with_time_and_irregular_gaps() {
        let t = parse_csv("ok.csv", b"t,a,b\n0,1,2\n0.5,2,3\n2,3,4\n", None).expect("parses");
        assert_eq!(t.channels, ["a", "b"]);
        assert_eq!(t.series[0].times, [0.0, 0.5, 2.0]);
        assert_eq!(t.series[0].values[2], [3.0, 4.0]);
    }

    #[test]
    fn malformed_cells_name_line_and_column() {
        // (csv, line, column) of the bad cell.
        type Case = (&'static str, u64, usize, fn(&DataError) -> bool);
        let cases: [Case; 5] = [
            ("a,b\n1,2\n3,x\n", 3, 2, |e| {
                matches!(e, DataError::NotNumeric { .. })
            }),
            ("a,b\n1,2\n3,\n", 3, 2, |e| {
                matches!(e, DataError::EmptyField { .. })
            }),
            ("a,b\n1,NaN\n", 2, 2, |e| {
                matches!(e, DataError::NonFinite { .. })
            }),
            ("a\n1e39\n", 2, 1, |e| {
                matches!(e, DataError::NonFinite { .. })
            }),
            ("t,a\n0,1\n1,2\n1,3\n", 4, 1, |e| {
                matches!(e, DataError::TimeNotIncreasing { .. })
            }),
        ];
        for (csv, line, column, kind) in cases {
            let e = err(csv);
            assert!(kind(&e), "{csv:?}: {e:?}");
            assert!(
                e.to_string()
                    .contains(&format!("bad.csv: line {line}, column {column}")),
                "{e}"
            );
        }
        let e = err("a,b\n1,2\n3\n");
        assert!(
            matches!(
                e,
                DataError::FieldCount {
                    line: 3,
                    expected: 2,
                    found: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(err(""), DataError::Empty { .. }));
        assert!(matches!(err("a,b\n"), DataError::HeaderOnly { .. }));
        assert!(matches!(
            err("a,a\n1,2\n"),
            DataError::DuplicateColumn { column: 2, .. }
        ));
        assert!(matches!(
            err("t,label\n1,2\n"),
            DataError::NoChannels { .. }
        ));
        let e = parse_csv("bad.csv", b"a\n1\n", Some(&["zz".to_string()])).expect_err("missing");
        assert!(matches!(e, DataError::MissingColumn { .. }), "{e}");
        assert!(e.to_string().contains("bad.csv"));
    }

    #[test]
    fn bom_crlf_and_quotes_are_accepted() {
        let t = parse_csv(
            "ok.csv",
            "\u{feff}a,\"b\"\r\n1,\"2.5\"\r\n".as_bytes(),
            None,
        )
        .expect("parses");
        assert_eq!(t.channels, ["a", "b"]);
        assert_eq!(t.series[0].values[0], [1.0, 2.5]);
    }

    #[test]
    fn short_series_and_single_class_are_refused() {
        let t = parse_csv("s.csv", b"a\n1\n2\n3\n", None).expect("parses");
        let sp = spec(TaskKind::Forecast, 3, 1);
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
        let sp = spec(TaskKind::Classify, 1, 0);
        let e = make_problem(&t, None, sp).expect_err("one class");
        assert!(matches!(e, DataError::SingleClass { .. }), "{e}");
    }

    #[test]
    fn windows_carry_real_gaps() {
        // t = 0, 1, 3, 4, 5, ...: the gap before the third sample is 2.
        let mut text = String::from("t,a\n0,1\n");
        for n in 1..40 {
            text.push_str(&format!("{},{}\n", n + 1 - usize::from(n == 1), n + 1));
        }
        let t = parse_csv("g.csv", text.as_bytes(), None).expect("parses");
        let sp = spec(TaskKind::Forecast, 3, 1);
        let p = make_problem(&t, None, sp).expect("problem");
        assert_eq!(p.sample_dt, 1.0);
        // First window: samples at t = 0, 1, 3: gaps sample_dt, 1, 2.
        assert_eq!(&p.train.gaps[..3], &[1.0, 1.0, 2.0]);
        assert_eq!(&p.train.y[..1], &[4.0]);
    }

    #[test]
    fn builtin_sets_load() {
        for b in [Builtin::Ecg, Builtin::Italy, Builtin::Oscillator] {
            builtin(b, 1).expect("built-in data parses");
        }
    }
}
