//! Streaming models on the chip (firmware feature `stream`): every printed
//! prediction equals the host's `Stream` bit for bit on the same format-5
//! file, the same samples and the same irregular gaps, on every core; the
//! firmware predicts after every sample once the warm-up is over; a window
//! model is refused by name.

use integration::qemu::{self, boards, Build, RUN_TIMEOUT};
use nagode::stream::StreamModel;

/// Builds the streaming firmware with `model` (a file under
/// firmware/models) for `board` and runs it under QEMU.
fn run(board: &str, model: &str) -> qemu::Run {
    let board = boards::board_named(board).expect("board in the matrix");
    let path = qemu::firmware_dir().join("models").join(model);
    let tag = format!("stream-{}", model.trim_end_matches(".nagode"));
    let elf = Build {
        board,
        model: Some(path),
        features: &["stream"],
        tag: &tag,
    }
    .run()
    .unwrap_or_else(|e| panic!("{e}"));
    qemu::run_qemu(board, &elf, false, RUN_TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn streaming_ecg_model_matches_host_on_every_core() {
    let model = integration::models::STREAM_ECG;
    let samples = qemu::replay_samples().expect("replay samples");
    let bytes = std::fs::read(qemu::firmware_dir().join("models").join(model))
        .expect("checked-in model file");
    let stream = StreamModel::from_bytes(&bytes).expect("streaming model loads on the host");
    let host = integration::host_stream_replay(&stream, &samples).expect("host replay");
    // One prediction after every sample from the warm-up's last one on.
    let warmup = stream.warmup() as usize;
    assert!(warmup > 0 && warmup < samples.len());
    assert_eq!(host.len(), samples.len() - warmup + 1);
    assert_eq!(host.first().map(|p| p.0), Some(warmup - 1));

    let mut tested = Vec::new();
    for board in qemu::qemu_boards() {
        let run = run(board.name, model);
        assert_eq!(run.code, Some(0), "{} failed:\n{}", board.name, run.stdout);
        assert_eq!(
            run.numbers("REPLAY").expect("REPLAY line"),
            [
                samples.len() as u64,
                u64::from(qemu::replay::fnv1a_bits(&samples))
            ],
            "the chip replayed other samples than the host uses"
        );
        let chip = run.predictions().expect("PRED lines parse");
        if let Err(difference) = qemu::compare_bits(&chip, &host) {
            panic!(
                "{} ({}) streaming {model}: {difference}",
                board.name, board.core
            );
        }
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
fn a_window_model_is_refused_by_name() {
    let run = run("mps2-an386", "default.nagode");
    assert_ne!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.contains("ERROR load WrongKind"),
        "{}",
        run.stdout
    );
}
