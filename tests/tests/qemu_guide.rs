//! The guide "Use nagode in your firmware" (runtime/README.md) works as
//! written: its `Cargo.toml`, `.cargo/config.toml`, `build.rs` and
//! `src/main.rs`, taken from the README, build outside the workspace with a
//! checked-in model; both paths run in QEMU and print the host runtime's
//! bits.

use integration::qemu::{self, boards};
use integration::{HOST_STATE, HOST_WINDOW};
use nagode::{Model, Session};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the guide points its dependency (a checkout beside the firmware).
const GUIDE_RUNTIME: &str = "../nagode/runtime";
/// The guide's sensor, which the host side replays.
const SENSOR: &str = "[(i % 25) as f32 / 25.0; model::CHANNELS]";
/// Samples the guide's `main` pushes.
const SAMPLES: u32 = 100;

/// The guide's section of the README.
fn guide() -> String {
    let readme =
        fs::read_to_string(qemu::repo_dir().join("runtime/README.md")).expect("runtime/README.md");
    let start = readme
        .find("## Use nagode in your firmware")
        .expect("the guide's heading");
    let rest = &readme[start..];
    let end = rest[1..].find("\n## ").map_or(rest.len(), |e| e + 1);
    rest[..end].to_string()
}

/// The guide's code blocks: `(first line, whole text)`.
fn blocks(guide: &str) -> Vec<(String, String)> {
    guide
        .split("```")
        .skip(1)
        .step_by(2)
        .filter_map(|block| block.split_once('\n'))
        .map(|(_, body)| {
            (
                body.lines().next().unwrap_or("").to_string(),
                body.to_string(),
            )
        })
        .collect()
}

/// Writes the guide's crate into `dir` (its dependency pointed at this
/// checkout), with the compiled path's line in `main` when `compiled`.
fn write_crate(dir: &Path, compiled: bool) {
    let guide = guide();
    assert!(guide.contains(SENSOR), "the guide's sensor changed");
    let blocks = blocks(&guide);
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::create_dir_all(dir.join(".cargo")).unwrap();
    let runtime = qemu::repo_dir().join("runtime");
    for (name, comment) in [
        ("Cargo.toml", "# Cargo.toml"),
        (".cargo/config.toml", "# .cargo/config.toml"),
        ("build.rs", "// build.rs"),
        ("src/main.rs", "// src/main.rs"),
    ] {
        let (_, text) = blocks
            .iter()
            .find(|(first, _)| first == comment)
            .unwrap_or_else(|| panic!("the guide has no {name}"));
        let mut text = text.replace(GUIDE_RUNTIME, &runtime.display().to_string());
        if name == "src/main.rs" && compiled {
            text = compiled_main(&text, &blocks);
        }
        fs::write(dir.join(name), text).unwrap();
    }
    // The firmware's lock file: the same dependency versions, no resolving.
    fs::copy(
        qemu::firmware_dir().join("Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .unwrap();
    fs::copy(
        qemu::firmware_dir().join("models/default.nagode"),
        dir.join("model.nagode"),
    )
    .unwrap();
}

/// `main` with its two loaded-path lines replaced by the guide's compiled
/// one.
fn compiled_main(main: &str, blocks: &[(String, String)]) -> String {
    let (line, _) = blocks
        .iter()
        .find(|(first, _)| first.contains("model::Compiled"))
        .expect("the guide's compiled line");
    let lines: Vec<&str> = main.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("Model::from_bytes(model::FILE)"))
        .expect("the loaded path's first line");
    assert!(
        lines[at + 1].contains("Session::new(&model)"),
        "{}",
        lines[at + 1]
    );
    let mut out: Vec<&str> = lines[..at].to_vec();
    out.push(line);
    out.extend(&lines[at + 2..]);
    out.join("\n") + "\n"
}

/// Builds the crate in `dir` as the guide says (`cargo build --release`
/// from its folder); returns the ELF.
fn build(dir: &Path) -> PathBuf {
    let target = qemu::firmware_dir().join("target/guide");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(dir)
        .args(["build", "--release", "--quiet"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the guide's crate does not build");
    target.join("thumbv7em-none-eabihf/release/my-firmware")
}

/// What the guide's `main` prints, computed with the host runtime.
fn host_predictions() -> Vec<(usize, Vec<f32>)> {
    let (_, bytes) = qemu::model_file("default.nagode").unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let mut session = Session::<HOST_STATE, HOST_WINDOW>::new(&model).unwrap();
    let mut out = vec![0.0f32; model.output_len()];
    let mut predictions = Vec::new();
    for i in 0..SAMPLES {
        let sample = vec![(i % 25) as f32 / 25.0; model.channels()];
        session.push(&sample, model.nominal_gap()).unwrap();
        if session.is_ready() {
            let n = session.predict(&mut out).unwrap();
            predictions.push((i as usize, out[..n].to_vec()));
        }
    }
    predictions
}

#[test]
fn the_guide_builds_and_both_paths_print_the_host_bits() {
    let board = boards::board_named("netduinoplus2").expect("the guide's board");
    let host = host_predictions();
    assert!(!host.is_empty());
    for compiled in [false, true] {
        let dir = std::env::temp_dir().join(format!(
            "nagode-guide-{}-{}",
            std::process::id(),
            if compiled { "compiled" } else { "loaded" }
        ));
        write_crate(&dir, compiled);
        let elf = build(&dir);
        let run = qemu::run_qemu(board, &elf, false, qemu::RUN_TIMEOUT).unwrap();
        assert_eq!(run.code, Some(0), "compiled {compiled}:\n{}", run.stdout);
        let chip = run.predictions().unwrap();
        if let Err(difference) = qemu::compare_bits(&chip, &host) {
            panic!("compiled {compiled}: {difference}");
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
