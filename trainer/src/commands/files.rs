//! The model file and CSV a command is given, read and checked, and the
//! CSV fitted to the model: its series resampled (`--resample N`) and
//! grouped into patches for a patched classifier (`data::patch`).

use super::work;
use crate::data::{self, patch, Builtin, DataError};
use crate::error::AppError;
use crate::export::host::HostError;
use crate::tasks::window::Source;
use clap::Args;
use nagode::Model;
use std::path::{Path, PathBuf};

/// Where the data comes from, as `train` takes it (and `quantize`, which
/// must cut the same data the same way).
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Built-in data set (ignored with --csv).
    #[arg(long, value_enum, default_value = "ecg")]
    data: Builtin,
    /// CSV file (wide: optional `t`, channel columns, optional `label`;
    /// long: `id`, `t`, channels, `label`).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Separate test CSV; without it the input is split (time-ordered for
    /// forecasting, by series for long-layout classification).
    #[arg(long)]
    test: Option<PathBuf>,
    /// Channel columns to use (comma-separated); default: all but t, id, label.
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
}

impl DataArgs {
    /// The source these options name.
    pub fn source(self) -> Source {
        match self.csv {
            Some(path) => Source::Csv {
                path,
                test: self.test,
                columns: self.columns,
            },
            None => Source::Builtin(self.data),
        }
    }
}

/// A model file, given either way: `trainer inspect m.nagode` or
/// `trainer inspect --model m.nagode` (the same for `eval` and `predict`).
#[derive(Args, Debug)]
pub struct ModelArg {
    /// The model file.
    #[arg(value_name = "MODEL", required_unless_present = "model_flag")]
    model_pos: Option<PathBuf>,
    /// The model file (the same as the positional MODEL).
    #[arg(long = "model", value_name = "MODEL", conflicts_with = "model_pos")]
    model_flag: Option<PathBuf>,
}

impl ModelArg {
    /// The path given, whichever form was used.
    pub fn path(&self) -> &Path {
        // clap guarantees one of the two.
        self.model_pos
            .as_deref()
            .or(self.model_flag.as_deref())
            .unwrap_or(Path::new(""))
    }
}

/// A model file and a CSV to run it on.
#[derive(Args, Debug)]
pub struct ModelCsv {
    #[command(flatten)]
    pub(super) model: ModelArg,
    /// CSV with the model's channels (optionally `t`, `id`, `label`).
    #[arg(long)]
    pub csv: PathBuf,
    /// Channel columns, in the model's order (default: all but t, id, label).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Most multiply-adds the run may take (e.g. 1e12); a model file asking
    /// more is refused before anything runs.
    #[arg(long, value_name = "N", default_value_t = work::DEFAULT_MAX_WORK, value_parser = work::parse_limit)]
    pub max_work: u64,
}

/// The file's bytes.
pub(super) fn read(path: &Path) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|source| AppError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// The model in `bytes`, refusals named by `path`.
pub(super) fn load<'a>(path: &Path, bytes: &'a [u8]) -> Result<Model<'a>, AppError> {
    Model::from_bytes(bytes)
        .map_err(|e| AppError::Usage(format!("{}: {}", path.display(), HostError::from(e))))
}

/// How `eval` and `predict` fit a classifier to the series of a
/// long-layout CSV; `trainer train`'s summary (its `chosen` line) says which
/// the model was trained with.
#[derive(Args, Clone, Debug, Default)]
pub struct SeriesArgs {
    /// Resample every series to N samples first (`nagode::resample::linear`,
    /// over the sample index), as `trainer train` did when its summary says
    /// "every series resampled to N samples" (classifiers only).
    #[arg(long, value_name = "N", conflicts_with = "vote")]
    pub resample: Option<usize>,
    /// Classify every series by a vote of its windows (summed logits,
    /// `nagode::vote`), as `trainer train` did when its summary says
    /// "windows of the shortest series with a vote per series": series of
    /// unequal lengths are taken as they are, `eval` reports the accuracy
    /// per series, `predict` writes one row per series instead of one per
    /// window (classifiers only).
    #[arg(long)]
    pub vote: bool,
}

/// The CSV's table fitted to a model: what the windows are cut from.
#[derive(Clone, Debug)]
pub(super) struct Prepared {
    /// Resampled (`--resample`) and patched as the model reads it.
    pub table: data::Table,
    /// The model's patch layout, if it is a patched classifier.
    pub layout: Option<patch::Layout>,
    /// What was done to the CSV, for stderr.
    pub notes: Vec<String>,
}

/// The patch layout of a classifier whose channel names are a patch's
/// (`data::patch::layout`); `None` for any other model, forecasters
/// included (the trainer patches classification windows only).
pub(super) fn patch_layout(model: &Model<'_>) -> Option<patch::Layout> {
    if model.is_forecast() {
        return None;
    }
    let names: Vec<&str> = model.channel_names().collect();
    patch::layout(&names).filter(|l| l.k * l.bases.len() == model.channels())
}

/// `first..last` of a patched model's channel names.
pub(super) fn patched_range(l: &patch::Layout) -> String {
    let first = patch::patched_name(&l.bases[0], 0);
    let last = patch::patched_name(&l.bases[l.bases.len() - 1], l.k - 1);
    format!("{first}..{last}")
}

/// What a patched model reads, in words: "a, b, 8 samples at a time (its
/// channels a@0..b@7)".
fn reads(l: &patch::Layout) -> String {
    format!(
        "{}, {} samples at a time (its channels {})",
        l.bases.join(", "),
        l.k,
        patched_range(l)
    )
}

/// The CSV's table fitted to `model` (see [`prepare`]). A patched
/// classifier's columns are its channels' bases (`a` for `a@0..a@7`) unless
/// `--columns` names others.
pub(super) fn table_for(
    a: &ModelCsv,
    s: &SeriesArgs,
    model: &Model<'_>,
) -> Result<Prepared, AppError> {
    let layout = patch_layout(model);
    let from_layout = a.columns.is_none() && layout.is_some();
    let columns = a
        .columns
        .clone()
        .or_else(|| layout.as_ref().map(|l| l.bases.clone()));
    let table = match data::load_csv(&a.csv, columns.as_deref()) {
        Err(e @ DataError::MissingColumn { .. }) if from_layout => {
            let l = layout.as_ref().map(reads).unwrap_or_default();
            return Err(AppError::Usage(format!(
                "{e}; the model is patched and reads the columns {l} (`--columns` names others)"
            )));
        }
        r => r?,
    };
    prepare(table, s, model, layout)
}

/// `table` fitted to `model`: it must have the model's channel count (the
/// bases' for a patched classifier); a classifier given series of unequal
/// lengths needs `--resample N` or `--vote` (nothing is guessed); then every
/// series is resampled to N samples (`--resample`) and grouped into the
/// model's patches (`data::patch::patch_table`).
pub(super) fn prepare(
    table: data::Table,
    s: &SeriesArgs,
    model: &Model<'_>,
    layout: Option<patch::Layout>,
) -> Result<Prepared, AppError> {
    let k = layout.as_ref().map_or(1, |l| l.k);
    let want = model.channels() / k;
    if table.channels.len() != want {
        let what = match &layout {
            Some(l) => format!("the model reads {want}: {}", reads(l)),
            None => format!("the model has {want}"),
        };
        return Err(AppError::Usage(format!(
            "{}: {} channel columns ({}), {what}",
            table.source,
            table.channels.len(),
            table.channels.join(","),
        )));
    }
    check_series(&table, s, model, k)?;
    let mut notes = Vec::new();
    let table = match s.resample {
        Some(m) => {
            let win = model.window();
            if m / k != win {
                notes.push(format!(
                    "warning: --resample {m} gives {} {} per series, the model's window is {win}: \
                     it was trained on series resampled to {}",
                    m / k,
                    if k > 1 { "patches" } else { "samples" },
                    samples_per_window(win, k)
                ));
            }
            notes.push(format!(
                "every series resampled to {m} samples (`nagode::resample::linear`)"
            ));
            data::resample::to_length(&table, m).map_err(|e| {
                AppError::Usage(format!(
                    "{}: cannot resample to {m} samples: {e}",
                    table.source
                ))
            })?
        }
        None => table,
    };
    let table = match &layout {
        Some(l) => {
            let need = model.window() * l.k;
            if let Some(short) = table.series.iter().find(|s| s.values.len() < need) {
                return Err(AppError::Usage(format!(
                    "{}: series {} has {} samples; the model's window is {} patches of {} samples \
                     ({need} samples)",
                    table.source,
                    series_name(short),
                    short.values.len(),
                    model.window(),
                    l.k
                )));
            }
            notes.push(format!(
                "patched model: every series read {} samples per input ({}), the oldest \
                 (length % {}) samples of a series dropped",
                l.k,
                patched_range(l),
                l.k
            ));
            patch::patch_table(&table, l.k)
        }
        None => table,
    };
    Ok(Prepared {
        table,
        layout,
        notes,
    })
}

/// A series' name in messages.
fn series_name(s: &data::Series) -> String {
    if s.name.is_empty() {
        "(the only one)".into()
    } else {
        format!("`{}`", s.name)
    }
}

/// The samples of series a model of window `win` (patches of `k`) was
/// trained on when they were resampled to one length: `win` unpatched,
/// `win * k` to `win * k + k - 1` patched (the oldest `len % k` dropped).
fn samples_per_window(win: usize, k: usize) -> String {
    if k > 1 {
        format!("{} to {} samples", win * k, win * k + k - 1)
    } else {
        format!("{win} samples")
    }
}

/// The flags fit the model, and a classifier's series of unequal lengths
/// come with `--resample` or `--vote`.
fn check_series(
    table: &data::Table,
    s: &SeriesArgs,
    model: &Model<'_>,
    k: usize,
) -> Result<(), AppError> {
    if model.is_forecast() && (s.resample.is_some() || s.vote) {
        return Err(AppError::Usage(
            "--resample and --vote are for classifiers; this model forecasts".into(),
        ));
    }
    if s.resample == Some(0) {
        return Err(AppError::Usage(
            "--resample 0 resamples to no samples; a model trained with `--resample 0` \
             (windows of the shortest series) is evaluated with --vote"
                .into(),
        ));
    }
    let lens = table.series.iter().map(|s| s.values.len());
    let (lo, hi) = (lens.clone().min().unwrap_or(0), lens.max().unwrap_or(0));
    if model.is_forecast() || lo == hi || s.resample.is_some() || s.vote {
        return Ok(());
    }
    let win = model.window();
    let window = if k > 1 {
        format!("windows of {win} patches of {k} samples")
    } else {
        format!("windows of {win} samples")
    };
    Err(AppError::Usage(format!(
        "{}: its series have unequal lengths ({lo} to {hi} samples) and the classifier reads \
         {window}; say how it was trained (the `chosen` line of the `trainer train` summary): \
         \"every series resampled to N samples\": pass `--resample N` (for this model N is \
         {}); \"windows of the shortest series with a vote per series\": pass `--vote` \
         (every window of a series is classified and the series by their summed logits)",
        table.source,
        samples_per_window(win, k)
    )))
}

/// Tiny patched classifiers trained once per test run (`window::run` on a
/// generated long-layout CSV) for the command tests.
#[cfg(test)]
pub(super) mod fixtures {
    use crate::data::{TaskKind, Windows};
    use crate::engine::train::TrainCfg;
    use crate::tasks::window::{self, RunConfig, Source};
    use std::path::PathBuf;
    use std::sync::OnceLock;

    /// Samples per patch of every fixture.
    pub const K: usize = 3;
    /// The length the unequal series are resampled to.
    pub const M: usize = 14;

    /// A trained model and what the trainer saw.
    pub struct Trained {
        /// The CSV it was trained on (every series of it, all parts).
        pub csv: PathBuf,
        /// The model file.
        pub model: PathBuf,
        /// The trainer's test windows (patched, as the runtime reads them).
        pub test: Windows,
        /// The trainer's (dfdx) logits on them.
        pub outputs: Vec<f32>,
        /// The trainer's notes.
        pub notes: Vec<String>,
    }

    /// A long-layout CSV `id,t,a,b,label`: series `i` of `lens[i]` samples
    /// at `t = 0, 1, ...`, class `i % 2` (a slow or a fast oscillation).
    pub fn long_csv(lens: &[usize]) -> String {
        let mut csv = String::from("id,t,a,b,label\n");
        for (i, &len) in lens.iter().enumerate() {
            let (class, phase) = (i % 2, i as f32 * 0.37);
            let f = if class == 0 { 0.4 } else { 1.3 };
            for n in 0..len {
                let t = n as f32;
                let (a, b) = ((f * t + phase).sin(), (0.5 * f * t + phase).cos() + 0.1 * t);
                csv.push_str(&format!("s{i},{n},{a:.4},{b:.4},c{class}\n"));
            }
        }
        csv
    }

    /// Trains a patched classifier on `lens` (resampled to `resample`).
    fn train(name: &str, lens: &[usize], resample: Option<usize>) -> Trained {
        let dir = std::env::temp_dir().join(format!("nagode-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let (csv, model) = (dir.join("train.csv"), dir.join("m.nagode"));
        std::fs::write(&csv, long_csv(lens)).expect("csv written");
        let quiet = RunConfig::quiet();
        let cfg = RunConfig {
            source: Source::Csv {
                path: csv.clone(),
                test: None,
                columns: None,
            },
            task: TaskKind::Classify,
            state_dim: 4,
            hidden: vec![8],
            patch: Some(K),
            resample,
            lrs: vec![1e-2],
            restarts: Some(1),
            out: Some(model.clone()),
            train: TrainCfg {
                epochs: 2,
                batch: 8,
                time_budget: None,
                min_batches_per_epoch: 1,
                cv_folds: 0,
                ..quiet.train
            },
            ..quiet
        };
        let s = window::run(&cfg).expect("trains");
        assert_eq!(s.problem.patch, K);
        Trained {
            csv,
            model,
            test: s.problem.test.clone(),
            outputs: s.test_outputs.clone(),
            notes: s.problem.notes.clone(),
        }
    }

    /// 24 series of 13 samples: one window of 4 patches of 3 per series
    /// (the oldest sample dropped).
    pub fn equal() -> &'static Trained {
        static T: OnceLock<Trained> = OnceLock::new();
        T.get_or_init(|| train("patched-equal", &[13; 24], None))
    }

    /// The lengths of [`unequal`]'s series.
    pub fn unequal_lens() -> Vec<usize> {
        (0..24).map(|i| 13 + (i * 5) % 9).collect()
    }

    /// 24 series of 13 to 21 samples resampled to [`M`]: one window of 4
    /// patches of 3 per series (the oldest 2 samples dropped).
    pub fn unequal() -> &'static Trained {
        static T: OnceLock<Trained> = OnceLock::new();
        T.get_or_init(|| train("patched-resampled", &unequal_lens(), Some(M)))
    }

    /// The same series as windows of the shortest (13 samples, 4 patches)
    /// with a vote per series (`train --resample 0`).
    pub fn voted() -> &'static Trained {
        static T: OnceLock<Trained> = OnceLock::new();
        T.get_or_init(|| train("patched-voted", &unequal_lens(), Some(0)))
    }

    /// The index of the window of `w` (`win` samples of `c` values) whose
    /// inputs are exactly `x`.
    pub fn find(w: &Windows, win: usize, c: usize, x: &[f32]) -> Option<usize> {
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        (0..w.len).find(|&j| bits(&w.x[j * win * c..(j + 1) * win * c]) == bits(x))
    }
}
