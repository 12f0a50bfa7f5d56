//! The integer path on the chip (firmware feature `quant`): every printed
//! prediction equals the host's `QuantSession` bit for bit on the same
//! format-4 file, the same samples and the same irregular gaps, on every
//! core; a file without a quantised section is refused by name.

use integration::qemu;
use nagode::quant::QuantModel;

/// The integer firmware with `model` on `board`, every prediction against
/// the host's integer path.
fn parity(board: &str, model: &str) {
    let run = qemu::build_and_run(board, model, &["quant"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.code, Some(0), "{board} failed:\n{}", run.stdout);
    let samples = qemu::replay_samples().expect("replay samples");
    qemu::check_replay(&run, &samples).unwrap_or_else(|e| panic!("{board}: {e}"));
    let (_, bytes) = qemu::model_file(model).expect("checked-in model file");
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
    qemu::on_every_core(|board| parity(board.name, "default_q.nagode"));
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
    qemu::assert_refused("sine16.nagode", &["quant"], "BadQuant");
}
