//! Failures on the chip end QEMU with a failing exit code and say what
//! happened: a panic, a HardFault, and a corrupt model file.

use integration::qemu::{self, boards, Board, Build, Run, RUN_TIMEOUT};

fn board(name: &str) -> &'static Board {
    boards::board_named(name).expect("board in the matrix")
}

fn build_and_run(build: Build<'_>) -> Run {
    let elf = build.run().unwrap_or_else(|e| panic!("{e}"));
    qemu::run_qemu(build.board, &elf, false, RUN_TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

/// A build with `feature` exits non-zero after printing `marker`.
fn fails_with(board: &Board, feature: &str, marker: &str) {
    let run = build_and_run(Build {
        board,
        model: None,
        features: &[feature],
        tag: feature,
    });
    assert_ne!(
        run.code,
        Some(0),
        "{} with {feature} exited 0:\n{}",
        board.name,
        run.stdout
    );
    assert!(
        run.stdout.contains(marker),
        "{} with {feature}: no {marker:?} in:\n{}",
        board.name,
        run.stdout
    );
}

#[test]
fn a_panic_fails_the_run_on_every_core() {
    for board in qemu::qemu_boards() {
        fails_with(board, "panic-test", "PANIC at src/main.rs");
    }
}

#[test]
fn a_hardfault_fails_the_run_on_every_core() {
    for board in qemu::qemu_boards() {
        fails_with(board, "hardfault-test", "HARDFAULT pc=");
    }
}

/// Writes `bytes` as a model file under the firmware's target folder.
fn model_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = qemu::firmware_dir().join("target/qemu").join(name);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create folder");
    std::fs::write(&path, bytes).expect("write model");
    path
}

/// The firmware built with a broken `model` stops with `ERROR load <name>`.
fn reports_load_error(board: &Board, file: &str, bytes: &[u8], name: &str) {
    let run = build_and_run(Build {
        board,
        model: Some(model_file(file, bytes)),
        features: &[],
        tag: file,
    });
    assert_ne!(
        run.code,
        Some(0),
        "{}: a broken model exited 0:\n{}",
        board.name,
        run.stdout
    );
    let expected = format!("ERROR load {name}");
    assert!(
        run.stdout.lines().any(|l| l == expected),
        "{}: expected {expected:?} in:\n{}",
        board.name,
        run.stdout
    );
    assert!(
        run.predictions().expect("parse").is_empty(),
        "predicted from a broken model"
    );
}

fn default_model() -> Vec<u8> {
    std::fs::read(qemu::firmware_dir().join("models/default.nagode")).expect("default model")
}

#[test]
fn a_bit_flip_in_the_model_is_reported_as_crc_mismatch() {
    let mut bytes = default_model();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    // The host runtime names the same error.
    assert!(matches!(
        nagode::Model::from_bytes(&bytes),
        Err(nagode::LoadError::CrcMismatch { .. })
    ));
    for name in ["mps2-an386", "microbit"] {
        reports_load_error(board(name), "bitflip.nagode", &bytes, "CrcMismatch");
    }
}

#[test]
fn a_file_that_is_no_model_is_reported_as_bad_magic() {
    let bytes = b"this is not a model file at all".to_vec();
    assert!(matches!(
        nagode::Model::from_bytes(&bytes),
        Err(nagode::LoadError::BadMagic { .. })
    ));
    reports_load_error(board("mps2-an386"), "notamodel.nagode", &bytes, "BadMagic");
}
