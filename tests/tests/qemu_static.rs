//! Static-input classifiers on the chip (firmware feature `static`, image
//! `classify`): the digits model (`static_digits.nagode`, format 6, trained
//! by `trainer train --data digits`) classifies the 16 images of
//! `firmware/static_inputs.rs`, and every logit equals the host's
//! `Classifier` bit for bit, loaded and compiled, on every core; the image
//! times the depth dial; a window model is refused by name.

use integration::qemu;
use nagode::{Classifier, StaticModel};

mod inputs {
    include!("../../firmware/static_inputs.rs");
}

const MODEL: &str = "static_digits.nagode";

/// The host's logits for every input, as the firmware prints them.
fn host_logits(bytes: &[u8]) -> Vec<(usize, Vec<f32>)> {
    let model = StaticModel::from_bytes(bytes).expect("the digits model loads on the host");
    let mut cl = Classifier::<65, 64>::new(&model).expect("capacities");
    let mut logits = [0.0f32; 10];
    inputs::INPUTS
        .iter()
        .enumerate()
        .map(|(i, x)| {
            cl.classify(x, &mut logits).expect("host classify");
            (i, logits.to_vec())
        })
        .collect()
}

#[test]
fn the_images_are_the_last_rows_of_the_digits_csv() {
    let csv = std::fs::read_to_string(qemu::repo_dir().join("data/digits.csv")).unwrap();
    let rows: Vec<Vec<f32>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(64).map(|v| v.parse().unwrap()).collect())
        .collect();
    let tail = &rows[rows.len() - inputs::INPUTS.len()..];
    for (row, image) in tail.iter().zip(&inputs::INPUTS) {
        assert_eq!(row.as_slice(), image.as_slice());
    }
}

#[test]
fn logits_match_host_on_every_core_loaded_and_compiled() {
    let (_, bytes) = qemu::model_file(MODEL).expect("checked-in digits model");
    let host = host_logits(&bytes);
    // The 16 images are classified (not all into one class).
    let classes: std::collections::BTreeSet<usize> = host
        .iter()
        .map(|(_, l)| nagode::classify::argmax(l))
        .collect();
    assert!(classes.len() >= 5, "{classes:?}");
    for features in [&["static"][..], &["static", "compiled"]] {
        qemu::on_every_core(|board| {
            let run =
                qemu::build_and_run(board.name, MODEL, features).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(run.code, Some(0), "{} failed:\n{}", board.name, run.stdout);
            let chip = run.predictions().unwrap_or_else(|e| panic!("{e}"));
            if let Err(difference) = qemu::compare_bits(&chip, &host) {
                panic!("{} ({}) {features:?}: {difference}", board.name, board.core);
            }
            let dial = run.tagged("DIAL").count();
            assert_eq!(dial, 5, "1..=4 steps and 8:\n{}", run.stdout);
        });
    }
}

#[test]
fn a_window_model_is_refused_by_name() {
    qemu::assert_refused("default.nagode", &["static"], "WrongKind");
}
