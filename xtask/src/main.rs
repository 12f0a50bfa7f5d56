//! `cargo xtask test`: provisions what the checks need, then runs every check.
//! `cargo xtask measure`: the firmware's flash, RAM and instructions per core.
//! `cargo xtask figures`: the measuring commands' output into `docs/figures.md`.
//! `cargo xtask embed-check --model FILE --csv FILE`: the template firmware
//! with that model in QEMU, both paths bit for bit against the host.
//!
//! Each check is one command; the first failure stops the run with its name.

mod embed_check;
mod figures;
#[cfg(test)]
mod layout;
mod measure;
mod measure_static;
mod workspace;

use std::process::{Command, ExitCode};
use workspace::{cargo, firmware_cargo, root};

/// Cross targets the runtime must build for.
const RUNTIME_TARGETS: &[&str] = &["thumbv7em-none-eabihf", "thumbv6m-none-eabi"];

/// Every target of the firmware's core matrix (`nagode::codegen::boards`).
const FIRMWARE_TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
    "thumbv8m.main-none-eabihf",
];

/// The target of the template firmware (`cargo xtask embed-check`).
const TEMPLATE_TARGET: &str = "thumbv7em-none-eabihf";

/// What installs QEMU on Debian/Ubuntu.
const QEMU_INSTALL: &str = "apt-get update && apt-get install -y qemu-system-arm";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("figures") => figures::figures(&root(), &args[1..]),
        Some("measure") => provision_targets(FIRMWARE_TARGETS)
            .and_then(|()| provision_qemu())
            .and_then(|()| measure::measure(&args[1..])),
        Some("embed-check") => provision_targets(&[TEMPLATE_TARGET])
            .and_then(|()| provision_qemu())
            .and_then(|()| embed_check::embed_check(&args[1..])),
        _ => {
            eprintln!("usage: cargo xtask test | measure [MODEL_FILE...] | figures [NAME...] | embed-check --model FILE --csv FILE\n\n  test         provision targets and QEMU, then fmt, clippy, tests (QEMU ones too), cross builds and embed-check\n  measure      flash, RAM and instructions of the firmware on every QEMU core (Markdown table),\n               for the default and the 1-16-16-1 models plus any MODEL_FILE\n  figures      run the measuring commands and write their blocks of docs/figures.md\n               (default, bench, measure, irregular, panel, compare; all without NAME)\n  embed-check  the template firmware (templates/firmware) with MODEL_FILE on both paths in QEMU\n               over the CSV's windows, every prediction bit for bit against the host; flash per path");
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
    command
        .current_dir(root())
        .arg("target")
        .arg("add")
        .args(targets);
    run("rustup target add", &mut command).map_err(|e| {
        format!(
            "{e}\n  install the targets by hand: rustup target add {}",
            targets.join(" ")
        )
    })
}

/// Whether this process runs as root (so it may apt-get install).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Makes sure `qemu-system-arm` runs: installs it with apt-get as root,
/// otherwise stops with the exact command to run.
fn provision_qemu() -> Result<(), String> {
    let works = || {
        Command::new("qemu-system-arm")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "qemu-system-arm is missing; install it, then re-run: sudo sh -c '{QEMU_INSTALL}'"
        ));
    }
    let apt = |args: &[&str]| {
        let mut command = Command::new("apt-get");
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run("apt-get update", &mut apt(&["update"]))
        .and_then(|()| {
            run(
                "apt-get install qemu-system-arm",
                &mut apt(&["install", "-y", "qemu-system-arm"]),
            )
        })
        .map_err(|e| format!("{e}\n  install QEMU by hand: {QEMU_INSTALL}"))?;
    if works() {
        Ok(())
    } else {
        Err(format!(
            "qemu-system-arm still does not run after: {QEMU_INSTALL}"
        ))
    }
}

/// Every check, in order: tools first, then formatting, the firmware,
/// the workspace and the runtime's cross builds.
fn test() -> Result<(), String> {
    let mut targets: Vec<&str> = RUNTIME_TARGETS.to_vec();
    targets.extend(
        FIRMWARE_TARGETS
            .iter()
            .filter(|t| !RUNTIME_TARGETS.contains(t)),
    );
    provision_targets(&targets)?;
    provision_qemu()?;
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    run(
        "cargo fmt --check (firmware)",
        firmware_cargo().args(["fmt", "--check"]),
    )?;
    check_firmware()?;
    check_workspace()?;
    build_runtime()?;
    check_template()?;
    println!("xtask: all checks passed");
    Ok(())
}

/// Clippy on the firmware for every core, on its compiled and minimal
/// images, and clippy and tests of its sample sources on the host.
fn check_firmware() -> Result<(), String> {
    for target in FIRMWARE_TARGETS {
        run(
            &format!("cargo clippy (firmware, {target})"),
            firmware_cargo().args([
                "clippy",
                "--release",
                "--target",
                target,
                "--",
                "-D",
                "warnings",
            ]),
        )?;
    }
    // The compile-time path and the minimal image: generated code and a
    // second binary, checked once.
    run(
        "cargo clippy (firmware, compiled + minimal)",
        firmware_cargo().args([
            "clippy",
            "--release",
            "--features",
            "compiled,minimal",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // The firmware's sample sources are a crate of their own so their
    // byte handling is tested on the host, against a mocked I2C bus.
    run(
        "cargo clippy (firmware sample-source, host)",
        firmware_cargo().args([
            "clippy",
            "-p",
            "sample-source",
            "--all-targets",
            "--target",
            "host-tuple",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "cargo test (firmware sample-source, host)",
        firmware_cargo().args(["test", "-p", "sample-source", "--target", "host-tuple"]),
    )
}

/// Clippy and the tests of the whole host workspace (QEMU tests included).
fn check_workspace() -> Result<(), String> {
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
    run("cargo test", cargo().args(["test", "--workspace"]))
}

/// The runtime on every cross target: alone, with `defmt` (logging over a
/// probe) and with `quant` (the integer path, meant for the FPU-less cores).
fn build_runtime() -> Result<(), String> {
    for target in RUNTIME_TARGETS {
        for features in [None, Some("defmt"), Some("quant")] {
            let mut command = cargo();
            command.args(["build", "-p", "nagode", "--target", target]);
            let what = match features {
                Some(features) => {
                    command.args(["--features", features]);
                    format!("runtime build for {target} with {features}")
                }
                None => format!("runtime build for {target}"),
            };
            run(&what, &mut command)?;
        }
    }
    Ok(())
}

/// The template firmware (its own workspace): formatting, clippy on both
/// paths, then `embed-check` on a model trained here from a CSV with
/// irregular date-time gaps (weekends, holidays).
fn check_template() -> Result<(), String> {
    let template = root().join("templates/firmware");
    let template_cargo = || {
        let mut command = cargo();
        command
            .current_dir(&template)
            .env_remove("CARGO_TARGET_DIR")
            // Any model and recording: clippy runs the build script.
            .env("NAGODE_MODEL", root().join("firmware/models/sine16.nagode"))
            .env("NAGODE_CSV", root().join("data/airline.csv"));
        command
    };
    run(
        "cargo fmt --check (template)",
        template_cargo().args(["fmt", "--check"]),
    )?;
    run(
        "rustfmt --check (template replay.rs)",
        Command::new("rustfmt")
            .args(["--edition", "2021", "--check"])
            .arg(template.join("replay.rs")),
    )?;
    for path in ["loaded", "compiled"] {
        run(
            &format!("cargo clippy (template, {path})"),
            template_cargo().args([
                "clippy",
                "--release",
                "--no-default-features",
                "--features",
                path,
                "--",
                "-D",
                "warnings",
            ]),
        )?;
    }
    let dir = std::env::temp_dir().join(format!("nagode-xtask-model-{}", std::process::id()));
    let model = dir.join("model.nagode");
    let csv = root().join("data/panel/msft_irregular.csv");
    let trained = run(
        "trainer train (the model embed-check runs)",
        cargo()
            .args(["run", "--quiet", "-p", "trainer", "--", "train", "--csv"])
            .arg(&csv)
            .args(["--epochs", "3", "--budget", "0", "--no-plots", "--out"])
            .arg(&model),
    );
    let checked = trained.and_then(|()| {
        let [model, csv] = [&model, &csv].map(|p| p.to_string_lossy().into_owned());
        embed_check::embed_check(&["--model".into(), model, "--csv".into(), csv])
    });
    // Nothing is left behind, whatever happened.
    let _ = std::fs::remove_dir_all(&dir);
    checked
}
