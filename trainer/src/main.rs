//! The `trainer` command line; with no arguments it runs the default job.

use clap::Parser;
use std::process::ExitCode;
use trainer::app;

/// Trains NAG-integrated neural ODEs on time series and exports nagode model files.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() -> ExitCode {
    let _ = Cli::parse();
    let cfg = app::RunConfig::default();
    match app::run(&cfg) {
        Ok(s) => {
            app::print_summary(&s);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
