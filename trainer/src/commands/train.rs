//! The `train` command's options, in the library so that `trainer panel`
//! builds its runs exactly as a user's `trainer train` would.

use crate::commands::files::DataArgs;
use crate::commands::quantize::Bound;
use crate::data::{Builtin, TaskKind};
use crate::engine::solver::SolverChoice;
use crate::tasks::window::{RunConfig, Source};
use clap::Args;
use nagode::normalise::Reference;
use std::path::PathBuf;
use std::time::Duration;

/// `--reference`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ReferenceArg {
    /// Absolute levels, normalised by the training data's statistics.
    Global,
    /// Changes from the window's last sample (survives trends and level shifts).
    LastValue,
}

/// Options of `train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Where the data comes from.
    #[command(flatten)]
    source: DataArgs,
    /// What to learn: the next samples (forecast) or the window's label (classify).
    #[arg(long, value_enum)]
    task: Option<TaskKind>,
    /// Samples per window [default: derived from the series' lengths, at
    /// most 48; long-layout classification: the shortest series].
    #[arg(long)]
    window: Option<usize>,
    /// Forecast horizon: samples predicted past the window.
    #[arg(long, default_value_t = 4)]
    horizon: usize,
    /// Samples between the starts of consecutive windows [default: derived
    /// from the number of windows].
    #[arg(long)]
    stride: Option<usize>,
    /// What the model measures values from [default: last-value for
    /// forecasts of a CSV, global for classifiers and the built-in sets].
    #[arg(long, value_enum)]
    reference: Option<ReferenceArg>,
    /// Integrator (resnet: the baseline; it cannot be exported).
    #[arg(long, value_enum, default_value = "nag")]
    solver: SolverChoice,
    /// NAG momentum in [0, 1).
    #[arg(long, default_value_t = 0.5)]
    mu: f32,
    /// NAG without the consistency scaling h = (1 - mu) H.
    #[arg(long)]
    no_consistency: bool,
    /// NAG starts with an Euler step instead of zero velocity.
    #[arg(long)]
    euler_startup: bool,
    /// Solver steps per nominal sample gap (longer real gaps get more).
    #[arg(long, default_value_t = 1)]
    steps: usize,
    /// ODE state dimension.
    #[arg(long, default_value_t = 8)]
    state: usize,
    /// Hidden widths of the vector field (comma-separated, tanh).
    #[arg(long, value_delimiter = ',', default_value = "32,32")]
    hidden: Vec<usize>,
    /// Encoder widths (comma-separated, tanh); default none (e = normalised sample).
    #[arg(long, value_delimiter = ',')]
    encoder: Vec<usize>,
    /// Samples per ODE step: a window is read as patches of this many
    /// consecutive samples [default: 1, or for classification windows
    /// longer than 64 samples, about 40 steps per window].
    #[arg(long)]
    patch: Option<usize>,
    /// Classification series of unequal lengths are resampled to this many
    /// samples, one window per series [default: the training median, at
    /// most 256; 0: never, windows of the shortest series].
    #[arg(long)]
    resample: Option<usize>,
    /// Most epochs.
    #[arg(long, default_value_t = 200)]
    epochs: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Adam learning rate [default: chosen by validation between two
    /// rates scaled to the window: 5e-3 and 1.7e-3 up to 100 samples,
    /// times sqrt(100 / window) beyond].
    #[arg(long)]
    lr: Option<f32>,
    /// Initial weights tried (short trials, the best by validation)
    /// [default: 3 for classification, 1 for forecasts].
    #[arg(long)]
    restarts: Option<usize>,
    /// Warm-up: iterations over which the learning rate ramps up from a
    /// tenth.
    #[arg(long, default_value_t = crate::tasks::window::WARMUP)]
    warmup_iters: usize,
    /// Early stopping: epochs without a better validation loss.
    #[arg(long, default_value_t = 20)]
    patience: usize,
    /// Folds for small classification sets (fewer than 5 validation windows
    /// per class): the epoch count by stratified k-fold cross-validation,
    /// then a refit on all of them (0: one held-out split).
    #[arg(long, default_value_t = 4)]
    folds: usize,
    /// Training time budget in seconds (0: none).
    #[arg(long, default_value_t = 70.0)]
    budget: f64,
    /// Seed: initial weights, batch order, splits, synthetic data.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Model file to write (atomically).
    #[arg(long, default_value = "out/model.nagode")]
    out: PathBuf,
    /// Do not write a model file.
    #[arg(long)]
    no_export: bool,
    /// Fail (no model file written) when the model loses to a baseline on
    /// validation or test, instead of printing a WARNING.
    #[arg(long)]
    require_beat_baseline: bool,
    /// Folder for the PNG plots.
    #[arg(long, default_value = "out")]
    plots: PathBuf,
    /// Do not draw plots.
    #[arg(long)]
    no_plots: bool,
    /// After the export, quantise the model (OUT's name with
    /// `.quant.nagode`) and print its test metric beside f32's, as
    /// `trainer quantize` does.
    #[arg(long)]
    quantize: bool,
    #[command(flatten)]
    bound: Bound,
    /// Train a streaming model (state carried across a stream, format 5):
    /// a forecaster by truncated backpropagation over chunks of its series
    /// (see `--chunk`, `--lanes`, `--warmup`), a classifier over each
    /// whole series from a zero state, read out after `--warmup` samples.
    #[arg(long)]
    streaming: bool,
    /// Streaming forecasts: samples per chunk of truncated backpropagation.
    #[arg(long, default_value_t = 48)]
    chunk: usize,
    /// Streaming forecasts: stretches of the training part run side by side.
    #[arg(long, default_value_t = 16)]
    lanes: usize,
    /// Streaming: unscored samples after a reset (default: the window; a
    /// classifier's window is its series, so only the last sample).
    #[arg(long)]
    warmup: Option<usize>,
    /// Streaming: a window model file to score at the same test samples.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Streaming: start from this window model's weights (same layers,
    /// data and split).
    #[arg(long)]
    init: Option<PathBuf>,
}

/// The reference a run uses without `--reference`. A forecast of a user's
/// series is made from the window's last value: it survives trends and
/// level shifts beyond the training range, which absolute levels cannot
/// extrapolate to and which the validation part (it lies before the test
/// part) cannot show. On the panel (`trainer panel`), absolute levels won
/// validation on the sunspots by 28 % and on the MSFT closes by 0.4 %, then
/// scored 1.07x and 2.2x the naive forecast on test, against 0.19x and
/// 0.99x from the last value. The built-in sets are stationary, and there
/// absolute levels are better (the ECG: 0.114x naive against 0.147x);
/// classifiers see absolute levels.
pub fn default_reference(task: TaskKind, source: &Source) -> Reference {
    match (task, source) {
        (TaskKind::Forecast, Source::Csv { .. }) => Reference::LastValue,
        _ => Reference::Global,
    }
}

/// `train`'s options as a command of their own, to parse an argv.
#[derive(clap::Parser)]
struct Train {
    #[command(flatten)]
    args: TrainArgs,
}

impl TrainArgs {
    /// The run `trainer train ARGS` asks for, from `argv` = `["train", ARGS...]`
    /// (what `trainer panel` and the tests run, exactly as a user would).
    pub fn run_config<T>(argv: impl IntoIterator<Item = T>) -> Result<RunConfig, clap::Error>
    where
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::Parser;
        Ok(Train::try_parse_from(argv)?.args.config())
    }

    /// The streaming options, when `--streaming` is given.
    pub fn streaming(&self) -> Option<crate::tasks::streaming::StreamCfg> {
        self.streaming.then(|| crate::tasks::streaming::StreamCfg {
            chunk: self.chunk,
            lanes: self.lanes,
            warmup: self.warmup,
            baseline: self.baseline.clone(),
            init: self.init.clone(),
        })
    }

    /// The bound to check the quantised model against, with `--quantize`.
    pub fn quantize(&self) -> Option<Bound> {
        self.quantize.then_some(self.bound)
    }

    /// The run these options ask for, defaults filled in.
    pub fn config(self) -> RunConfig {
        let d = RunConfig::default();
        let source = self.source.source();
        let task = self.task.unwrap_or(match source {
            Source::Builtin(Builtin::Italy) => TaskKind::Classify,
            _ => TaskKind::Forecast,
        });
        let window = self.window.or(match (task, &source) {
            (
                TaskKind::Forecast,
                Source::Builtin(Builtin::Oscillator | Builtin::OscillatorIrregular),
            ) => Some(24),
            _ => None,
        });
        let reference = match self.reference {
            Some(ReferenceArg::Global) => Reference::Global,
            Some(ReferenceArg::LastValue) => Reference::LastValue,
            None => default_reference(task, &source),
        };
        RunConfig {
            source,
            task,
            window,
            horizon: self.horizon,
            stride: self.stride,
            reference,
            solver: self.solver,
            mu: self.mu,
            consistency: !self.no_consistency,
            startup_euler: self.euler_startup,
            steps: self.steps,
            state_dim: self.state,
            hidden: self.hidden,
            encoder: self.encoder,
            patch: self.patch,
            resample: self.resample,
            train: crate::engine::train::TrainCfg {
                epochs: self.epochs,
                batch: self.batch,
                lr: self.lr.unwrap_or(d.train.lr),
                warmup: self.warmup_iters,
                patience: self.patience,
                time_budget: (self.budget > 0.0).then(|| Duration::from_secs_f64(self.budget)),
                seed: self.seed,
                cv_folds: self.folds,
                ..d.train
            },
            lrs: self.lr.into_iter().collect(),
            restarts: self.restarts,
            out: (!self.no_export).then_some(self.out),
            plots: (!self.no_plots).then_some(self.plots),
            verbose: true,
            require_beat_baseline: self.require_beat_baseline,
        }
    }
}
