//! The integer path on the chip (firmware feature `quant`): every printed
//! prediction equals the host's `QuantSession` bit for bit on the same
//! format-4 file, the same samples and the same irregular gaps, on every
//! core; a file without a quantised section is refused by name.

use integration::qemu::{self, boards, Build, RUN_TIMEOUT};
use nagode::quant::QuantModel;

/// Builds the integer firmware with `model` (a file under firmware/models)
/// for `board` and runs it under QEMU.
fn run(board: &str, model: &str) -> qemu::Run {
    let board = boards::board_named(board).expect("board in the matrix");
    let path = qemu::firmware_dir().join("models").join(model);
    let tag = format!("quant-{}", model.trim_end_matches(".nagode"));
    let elf = Build {
        board,
        model: Some(path),
        features: &["quant"],
        tag: &tag,
    }
    .run()
    .unwrap_or_else(|e| panic!("{e}"));
    qemu::run_qemu(board, &elf, false, RUN_TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

/// [`run`], then every prediction against the host's integer path.
fn parity(board: &str, model: &str) {
    let run = run(board, model);
    assert_eq!(run.code, Some(0), "{board} failed:\n{}", run.stdout);
    let samples = qemu::replay_samples().expect("replay samples");
    assert_eq!(
        run.numbers("REPLAY").expect("REPLAY line"),
        [
            samples.len() as u64,
            u64::from(qemu::replay::fnv1a_bits(&samples))
        ],
        "the chip replayed other samples than the host uses"
    );
    let path = qemu::firmware_dir().join("models").join(model);
    let bytes = std::fs::read(&path).expect("checked-in model file");
    let quant = QuantModel::from_bytes(&bytes).expect("quantised model loads on the host");
    let host = integration::host_quant_replay(&quant, &samples).expect("host replay");
    assert!(!host.is_empty(), "{model}: no prediction on the host");
    let chip = run.predictions().expect("PRED lines parse");
    if let Err(difference) = qemu::compare_bits(&chip, &host) {
        panic!("{board} with {model:?} (integer path): {difference}");
    }
}

#[test]
fn quantised_default_model_matches_host_on_every_core() {
    let mut tested = Vec::new();
    for board in qemu::qemu_boards() {
        parity(board.name, "default_q.nagode");
        tested.push(board.name);
    }
    for core in [
        "microbit",
        "mps2-an385",
        "mps2-an386",
        "mps2-an500",
        "mps2-an505",
    ] {
        assert!(tested.contains(&core), "{core} was not tested");
    }
}

#[test]
fn quantised_sine_mlp_matches_host_on_m0_and_m4f() {
    for board in ["microbit", "mps2-an386"] {
        parity(board, "sine16_q.nagode");
    }
}

/// The host's integer predictions differ from its `f32` ones on the same
/// replay (so the parity above is the integer path's, not the f32 one's),
/// and stay close to them.
#[test]
fn integer_replay_is_not_the_f32_replay_but_tracks_it() {
    let samples = qemu::replay_samples().expect("replay samples");
    let dir = qemu::firmware_dir().join("models");
    for (f32_file, file) in integration::models::QUANTISED {
        let bytes = std::fs::read(dir.join(file)).expect("quantised file");
        let quant = QuantModel::from_bytes(&bytes).expect("loads");
        let integer = integration::host_quant_replay(&quant, &samples).expect("host replay");
        let f32_bytes = std::fs::read(dir.join(f32_file)).expect("f32 file");
        let model = nagode::Model::from_bytes(&f32_bytes).expect("loads");
        let float = integration::host_replay(&model, &samples).expect("host replay");
        assert_eq!(integer.len(), float.len(), "{file}");
        let (mut worst, mut scale) = (0.0f32, 0.0f32);
        for ((i, a), (j, b)) in integer.iter().zip(&float) {
            assert_eq!(i, j, "{file}");
            for (x, y) in a.iter().zip(b) {
                worst = worst.max((x - y).abs());
                scale = scale.max(y.abs());
            }
        }
        assert!(worst > 0.0, "{file}: integer and f32 replays are identical");
        assert!(worst <= 0.05 * scale, "{file}: {worst} of {scale}");
    }
}

#[test]
fn a_file_without_a_quantised_section_is_refused_by_name() {
    let run = run("mps2-an386", "sine16.nagode");
    assert_ne!(run.code, Some(0), "{}", run.stdout);
    assert!(run.stdout.contains("ERROR load BadQuant"), "{}", run.stdout);
}
