//! The `trainer` command line. With no arguments it runs the default job:
//! the ECG forecaster with NAG, exported to `out/model.nagode`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use trainer::commands::quantize::{self, Bound};
use trainer::data::Builtin;
use trainer::tasks::window::{self, AppError, RunConfig, Source};

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
    Train(trainer::commands::train::TrainArgs),
    /// Same data, model size and budget across NAG, Euler, midpoint, RK4 and
    /// a ResNet, over several seeds: Markdown tables and PNG plots.
    Compare(trainer::studies::compare::CompareArgs),
    /// The report of a comparison run as shards (`compare --shard I/N
    /// --results FILE`) from all their results files.
    Merge(trainer::studies::compare::MergeArgs),
    /// Print a model file's header in words, its sizes and whether it loads.
    Inspect(trainer::commands::ModelArg),
    /// Run the nagode runtime over a CSV (streaming, with the file's time
    /// gaps) and print or write one prediction per full window.
    Predict(trainer::commands::PredictArgs),
    /// Score a model file on every window of a CSV with the runtime
    /// (forecast MSE vs the naive last value, or accuracy).
    Eval(trainer::commands::EvalArgs),
    /// Quantise a model file for cores without an FPU (format 4, calibrated
    /// on the training windows of its data) and print its test metric
    /// beside the f32 one on the same windows, against a stated bound.
    Quantize(trainer::commands::QuantizeArgs),
    /// Train a continuous normalising flow on a point set (density
    /// estimation) or on windows of a CSV's channels (anomaly scores, with
    /// the data's scaling and a threshold in the file), check the runtime's
    /// log-density against the trainer's and write the flow file (`eval`
    /// scores it; firmware feature `flow`).
    Flow(trainer::commands::FlowArgs),
    /// Classify static feature vectors through an ODE block (the built-in
    /// 8×8 digits, or --csv with feature columns and a `label`): encoder,
    /// state integrated over [0, 1], decoder; writes a format-6 file.
    Static(trainer::commands::static_input::StaticArgs),
    /// Time one training iteration (batch 32, 64 steps, field 2→32→32→2
    /// tanh, damped oscillator) per solver, and runtime vs dfdx inference.
    Bench(trainer::studies::bench::BenchArgs),
    /// Irregular sampling: the same oscillator model trained on regular
    /// samples, on randomly dropped samples with their real gaps, and on
    /// the dropped samples with the gaps ignored.
    Irregular(trainer::studies::compare::IrregularArgs),
    /// The real-data panel (data/panel/): every series trained with the
    /// defaults and `--task` only, NAG against Euler, RK4 and the naive
    /// baseline; one table (a benchmark, not a test).
    Panel(trainer::studies::panel::PanelArgs),
}

/// Trains per `cfg`; with a bound, then quantises the exported model.
fn train(cfg: &RunConfig, quantize: Option<Bound>) -> Result<(), AppError> {
    if let Source::Builtin(Builtin::Digits) = cfg.source {
        return trainer::commands::static_input::train_digits(cfg);
    }
    let out = match (quantize, &cfg.out) {
        (Some(_), None) => {
            return Err(AppError::Usage(
                "--quantize quantises the exported model: drop --no-export".into(),
            ))
        }
        (Some(bound), Some(out)) => Some((bound, out)),
        (None, _) => None,
    };
    let s = window::run(cfg)?;
    window::print_summary(&s);
    if let Some((bound, out)) = out {
        quantize::after_training(out, cfg, bound)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => train(&RunConfig::default(), None),
        Some(Command::Train(a)) => match a.streaming() {
            Some(s) => trainer::tasks::streaming::run(&a.config(), &s)
                .map(|r| trainer::tasks::streaming::print(&r)),
            None => {
                let bound = a.quantize();
                train(&a.config(), bound)
            }
        },
        Some(Command::Panel(a)) => trainer::studies::panel::run(&a),
        Some(Command::Compare(a)) => trainer::studies::compare::run(&a),
        Some(Command::Merge(m)) => trainer::studies::compare::merge(&m),
        Some(Command::Inspect(m)) => trainer::commands::inspect(&m),
        Some(Command::Predict(a)) => trainer::commands::predict(&a),
        Some(Command::Eval(a)) => trainer::commands::eval(&a),
        Some(Command::Quantize(a)) => trainer::commands::quantize(&a),
        Some(Command::Flow(a)) => trainer::commands::flow(&a),
        Some(Command::Static(a)) => trainer::commands::static_input::run(&a),
        Some(Command::Bench(a)) => trainer::studies::bench::run(&a),
        Some(Command::Irregular(a)) => trainer::studies::compare::irregular(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
