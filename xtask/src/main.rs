//! `cargo xtask test`: provisions what the checks need, then runs every check.
//!
//! Each check is one command; the first failure stops the run with its name.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Cross targets the runtime must build for.
const RUNTIME_TARGETS: &[&str] = &["thumbv7em-none-eabihf", "thumbv6m-none-eabi"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        _ => {
            eprintln!("usage: cargo xtask test\n\n  test   provision targets, then fmt, clippy, tests and cross builds");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

/// Runs `command`, naming `what` on failure.
fn run(what: &str, command: &mut Command) -> Result<(), String> {
    println!("xtask: {what}");
    let status = command
        .status()
        .map_err(|e| format!("{what}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what}: failed ({status})"))
    }
}

/// Installs the cross targets with rustup, or says exactly what to run.
fn provision_targets(targets: &[&str]) -> Result<(), String> {
    let mut command = Command::new("rustup");
    command.current_dir(root()).arg("target").arg("add").args(targets);
    run("rustup target add", &mut command).map_err(|e| {
        format!(
            "{e}\n  install the targets by hand: rustup target add {}",
            targets.join(" ")
        )
    })
}

fn test() -> Result<(), String> {
    provision_targets(RUNTIME_TARGETS)?;
    run("cargo fmt --check", cargo().args(["fmt", "--all", "--check"]))?;
    run(
        "cargo clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run("cargo test", cargo().args(["test", "--workspace"]))?;
    for target in RUNTIME_TARGETS {
        run(
            &format!("runtime build for {target}"),
            cargo().args(["build", "-p", "nagode", "--target", target]),
        )?;
    }
    println!("xtask: all checks passed");
    Ok(())
}
