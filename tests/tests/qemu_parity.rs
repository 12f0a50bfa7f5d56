//! The firmware on every core of the QEMU matrix predicts bit for bit what
//! the host runtime predicts on the same model file, the same samples and
//! the same irregular gaps (`qemu::gaps`, which the firmware's replay yields).

use integration::models::SolverCase;
use integration::qemu;
use nagode::Model;

/// Builds `model` (a file under firmware/models) for `board`, runs it under
/// QEMU and compares every prediction with the host runtime.
fn parity(board: &str, model: &str) {
    parity_run(board, model);
}

/// [`parity`], returning the firmware's output.
fn parity_run(board: &str, model: &str) -> String {
    let run = qemu::build_and_run(board, model, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.code, Some(0), "{board} failed:\n{}", run.stdout);
    let samples = qemu::replay_samples().expect("replay samples");
    qemu::check_replay(&run, &samples).unwrap_or_else(|e| panic!("{board}: {e}"));
    let (_, bytes) = qemu::model_file(model).expect("checked-in model file");
    let model = Model::from_bytes(&bytes).expect("model loads on the host");
    let host = integration::host_replay(&model, &samples).expect("host replay");
    let chip = run.predictions().expect("PRED lines parse");
    assert!(
        !host.is_empty(),
        "the replay is shorter than the model's window"
    );
    if let Err(difference) = qemu::compare_bits(&chip, &host) {
        panic!("{board} with {model:?}: {difference}");
    }
    run.stdout
}

/// A format-2 model on the chip: gaps in seconds (the replay's gaps around
/// `nominal_gap`), last-value reference, class names printed by name.
#[test]
fn format_2_named_classifier_matches_host_and_prints_class_names() {
    for board in ["mps2-an386", "microbit"] {
        let stdout = parity_run(board, "named_classifier.nagode");
        let classes: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("# class "))
            .collect();
        let predictions = stdout.lines().filter(|l| l.starts_with("PRED ")).count();
        assert!(predictions > 0, "{board}: no prediction:\n{stdout}");
        assert_eq!(classes.len(), predictions, "{board}:\n{stdout}");
        for class in classes {
            assert!(
                integration::models::CLASS_NAMES.contains(&class),
                "{board}: {class:?} is no class name"
            );
        }
    }
}

#[test]
fn cortex_m0_microbit_matches_host() {
    parity("microbit", "default.nagode");
    parity("microbit", "sine16.nagode");
}

#[test]
fn cortex_m3_an385_matches_host() {
    parity("mps2-an385", "default.nagode");
    parity("mps2-an385", "sine16.nagode");
}

#[test]
fn cortex_m4f_an386_matches_host() {
    parity("mps2-an386", "default.nagode");
    parity("mps2-an386", "sine16.nagode");
}

/// The STM32F405 (flash at 0x0800_0000, 128 KiB SRAM from 0x2000_0000):
/// the memory layout the Black Pill guide (firmware/README.md) relies on,
/// on a machine QEMU runs.
#[test]
fn cortex_m4f_stm32f405_netduinoplus2_matches_host() {
    parity("netduinoplus2", "default.nagode");
    parity("netduinoplus2", "sine16.nagode");
}

#[test]
fn cortex_m7_an500_matches_host() {
    parity("mps2-an500", "default.nagode");
    parity("mps2-an500", "sine16.nagode");
}

#[test]
fn cortex_m33_an505_matches_host() {
    parity("mps2-an505", "default.nagode");
    parity("mps2-an505", "sine16.nagode");
}

/// [`parity`] for a solver case's model on every QEMU board.
fn parity_on_every_core(case: SolverCase) {
    qemu::on_every_core(|board| parity(board.name, case.file_name()));
}

#[test]
fn nag_with_sub_steps_and_irregular_gaps_matches_host_on_every_core() {
    parity_on_every_core(SolverCase::NagSubsteps);
}

#[test]
fn midpoint_matches_host_on_every_core() {
    parity_on_every_core(SolverCase::Midpoint);
}

#[test]
fn rk4_classifier_matches_host_on_every_core() {
    parity_on_every_core(SolverCase::Rk4Classifier);
}

/// The replay's gaps reach the model (host only, no QEMU): with a window of
/// more than one sample, predictions after irregular gaps differ from those
/// after regular ones, so the parity tests compare irregular-gap runs; the
/// last prediction lies in the regular tail and the timed window does too.
#[test]
fn replay_gaps_change_predictions_until_the_regular_tail() {
    let samples = qemu::replay_samples().expect("replay samples");
    let models = [
        "default.nagode",
        "seeded_ecg.nagode",
        "named_classifier.nagode",
    ]
    .into_iter()
    .chain(SolverCase::ALL.map(SolverCase::file_name));
    for name in models {
        let path = qemu::firmware_dir().join("models").join(name);
        let bytes = std::fs::read(&path).expect("checked-in model file");
        let model = Model::from_bytes(&bytes).expect("model loads on the host");
        assert!(
            model.window() <= qemu::gaps::REGULAR_TAIL + 1,
            "{name}: the timed window would hold irregular gaps"
        );
        let irregular = integration::host_replay(&model, &samples).expect("host replay");
        let gap = model.nominal_gap();
        let regular =
            integration::host_replay_with_gaps(&model, &samples, |_| gap).expect("host replay");
        let (Some(last), Some(last_regular)) = (irregular.last(), regular.last()) else {
            panic!("{name}: no prediction");
        };
        assert_eq!(last, last_regular, "{name}: last prediction");
        assert!(
            irregular.iter().zip(&regular).any(|(a, b)| a != b),
            "{name}: the irregular gaps change no prediction"
        );
    }
}

#[test]
fn every_qemu_board_has_a_parity_test() {
    let tested = [
        "microbit",
        "mps2-an385",
        "mps2-an386",
        "mps2-an500",
        "mps2-an505",
        "netduinoplus2",
    ];
    for board in qemu::qemu_boards() {
        assert!(
            tested.contains(&board.name),
            "{} has no parity test",
            board.name
        );
    }
}
