//! The `trainer` command line. With no arguments it runs the default job:
//! the ECG forecaster with NAG, exported to `out/model.nagode`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use trainer::app::{self, AppError, RunConfig, Source};
use trainer::data::{Builtin, TaskKind};
use trainer::solver::SolverChoice;

/// Trains NAG-integrated neural ODEs on time series with dfdx, exports
/// `nagode` model files and checks them against the runtime.
///
/// Without a subcommand: trains the default ECG forecaster with NAG, writes
/// out/model.nagode and plots under out/, and prints a summary.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model (built-in data or a CSV) and export it.
    Train(TrainArgs),
    /// Same data, model size and budget across NAG, Euler, midpoint, RK4 and
    /// a ResNet, over several seeds: Markdown tables and PNG plots.
    Compare(trainer::compare::CompareArgs),
    /// Print a model file's header in words, its sizes and whether it loads.
    Inspect {
        /// The model file.
        file: PathBuf,
    },
    /// Run the nagode runtime over a CSV (streaming, with the file's time
    /// gaps) and print or write one prediction per full window.
    Predict(trainer::commands::PredictArgs),
    /// Score a model file on every window of a CSV with the runtime
    /// (forecast MSE vs the naive last value, or accuracy).
    Eval(trainer::commands::EvalArgs),
    /// Time one training iteration (batch 32, 64 steps, field 2→32→32→2
    /// tanh, damped oscillator) per solver, and runtime vs dfdx inference.
    Bench(trainer::bench::BenchArgs),
    /// Irregular sampling: the same oscillator model trained on regular
    /// samples, on randomly dropped samples with their real gaps, and on
    /// the dropped samples with the gaps ignored.
    Irregular(trainer::compare::IrregularArgs),
}

/// Options of `train`.
#[derive(Args, Debug)]
struct TrainArgs {
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
    /// What to learn: the next samples (forecast) or the window's label (classify).
    #[arg(long, value_enum)]
    task: Option<TaskKind>,
    /// Channel columns to use (comma-separated); default: all but t, id, label.
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    /// Samples per window (0 with long-layout classification: the whole series).
    #[arg(long)]
    window: Option<usize>,
    /// Forecast horizon: samples predicted past the window.
    #[arg(long, default_value_t = 4)]
    horizon: usize,
    /// Samples between the starts of consecutive windows.
    #[arg(long, default_value_t = 2)]
    stride: usize,
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
    /// Most epochs.
    #[arg(long, default_value_t = 200)]
    epochs: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 5e-3)]
    lr: f32,
    /// Early stopping: epochs without a better validation loss.
    #[arg(long, default_value_t = 20)]
    patience: usize,
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
    /// Folder for the PNG plots.
    #[arg(long, default_value = "out")]
    plots: PathBuf,
    /// Do not draw plots.
    #[arg(long)]
    no_plots: bool,
}

impl TrainArgs {
    fn config(self) -> RunConfig {
        let d = RunConfig::default();
        let source = match self.csv {
            Some(path) => Source::Csv {
                path,
                test: self.test,
                columns: self.columns,
            },
            None => Source::Builtin(self.data),
        };
        let task = self.task.unwrap_or(match source {
            Source::Builtin(Builtin::Italy) => TaskKind::Classify,
            _ => TaskKind::Forecast,
        });
        let window = self.window.unwrap_or(match (task, &source) {
            (TaskKind::Classify, _) => 0,
            (_, Source::Builtin(Builtin::Oscillator | Builtin::OscillatorIrregular)) => 24,
            _ => d.window,
        });
        RunConfig {
            source,
            task,
            window,
            horizon: self.horizon,
            stride: self.stride,
            solver: self.solver,
            mu: self.mu,
            consistency: !self.no_consistency,
            startup_euler: self.euler_startup,
            steps: self.steps,
            state_dim: self.state,
            hidden: self.hidden,
            encoder: self.encoder,
            train: trainer::train::TrainCfg {
                epochs: self.epochs,
                batch: self.batch,
                lr: self.lr,
                patience: self.patience,
                time_budget: (self.budget > 0.0).then(|| Duration::from_secs_f64(self.budget)),
                seed: self.seed,
                ..d.train
            },
            out: (!self.no_export).then_some(self.out),
            plots: (!self.no_plots).then_some(self.plots),
            verbose: true,
        }
    }
}

fn train(cfg: &RunConfig) -> Result<(), AppError> {
    let s = app::run(cfg)?;
    app::print_summary(&s);
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => train(&RunConfig::default()),
        Some(Command::Train(a)) => train(&a.config()),
        Some(Command::Compare(a)) => trainer::compare::run(&a),
        Some(Command::Inspect { file }) => trainer::commands::inspect(&file),
        Some(Command::Predict(a)) => trainer::commands::predict(&a),
        Some(Command::Eval(a)) => trainer::commands::eval(&a),
        Some(Command::Bench(a)) => trainer::bench::run(&a),
        Some(Command::Irregular(a)) => trainer::compare::irregular(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
