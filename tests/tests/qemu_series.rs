//! Series of different lengths on the chip (firmware feature `series`): a
//! classifier classifies the recorded series of `firmware/series_data.rs`
//! (37, 80 and 141 samples, then malformed ones) each resampled to its
//! window (`nagode::resample::linear`) and by a vote of its windows
//! (`nagode::vote`); every printed line (the series' checksums, the logits'
//! and the sums' bits, the winners, the errors) equals what the host
//! runtime computes from the same series, on every core. The model is
//! patched (`x@0..x@3`: four samples per input vector), so the chip reads
//! its patch layout from the channel names; an unpatched classifier reads
//! one sample per step; a forecaster is refused by name.

use integration::{models, qemu, HOST_STATE, HOST_WINDOW};
use nagode::{Model, RunError, Session};

/// The series, shared with the firmware's build script.
mod series_data {
    include!("../../firmware/series_data.rs");
}

use series_data::SERIES_CHANNELS as C;

/// Tags of the lines the `series` firmware prints for the series.
const TAGS: [&str; 5] = ["PATCH", "SERIES", "RESAMPLE", "VOTE", "WINNER"];

/// ` hex..`: each value's bit pattern, as the firmware prints it.
fn hex(values: &[f32]) -> String {
    values
        .iter()
        .map(|v| format!(" {:08x}", v.to_bits()))
        .collect()
}

/// Samples per input vector: `k` for channels named `x@0..x@(k-1)` (a
/// patch of the one data channel), else 1.
fn patch_of(model: &Model<'_>) -> usize {
    let names: Vec<&str> = model.channel_names().collect();
    let patched: Vec<String> = (0..names.len()).map(|j| format!("x@{j}")).collect();
    if names.len() >= 2 && names == patched {
        names.len()
    } else {
        1
    }
}

/// The lines the firmware prints for the series (tags [`TAGS`]), computed
/// with the host runtime: the series resampled onto the model's window and
/// run, then its non-overlapping windows (from its first sample on, a
/// shorter remainder left out) run and their logits summed.
fn host_lines(model: &Model<'_>) -> Vec<String> {
    let k = patch_of(model);
    assert_eq!(
        model.channels(),
        k * C,
        "the model reads the series' channels"
    );
    let samples = model.window() * k;
    let need = model.window_capacity_needed();
    assert_eq!(need, samples * C);
    let mut session = Session::<HOST_STATE, HOST_WINDOW>::new(model).expect("host session opens");
    let mut out = vec![0.0f32; model.output_len()];
    let mut lines = vec![format!("PATCH {k} {C} samples per window {samples}")];
    for index in 0..series_data::SERIES.len() {
        let values: Vec<f32> = series_data::series_values(index).collect();
        lines.push(format!(
            "SERIES {index} {} {}",
            values.len() / C,
            qemu::replay::fnv1a_bits(&values)
        ));

        let mut window = vec![0.0f32; need];
        let resampled = nagode::resample::linear(&values, C, &mut window)
            .and_then(|()| session.run_window(&window, None, &mut out));
        lines.push(match resampled {
            Ok(written) => format!("RESAMPLE {index}{}", hex(&out[..written])),
            Err(e) => format!("RESAMPLE {index} ERROR {}", e.name()),
        });

        let count = values.len() / need;
        if count == 0 {
            lines.push(format!("VOTE {index} SHORT {} {samples}", values.len() / C));
            continue;
        }
        let mut sums = vec![0.0f32; model.output_len()];
        let voted = values[..count * need]
            .chunks(need)
            .try_for_each(|w| -> Result<(), RunError> {
                let written = session.run_window(w, None, &mut out)?;
                nagode::vote::add(&mut sums, &out[..written])
            });
        match voted {
            Ok(()) => {
                lines.push(format!("VOTE {index} {count}{}", hex(&sums)));
                lines.push(match nagode::vote::winner(&sums) {
                    Some(class) => format!("WINNER {index} {class}"),
                    None => format!("WINNER {index} none"),
                });
            }
            Err(e) => lines.push(format!("VOTE {index} ERROR {}", e.name())),
        }
    }
    lines
}

/// The chip's lines with the tags [`TAGS`], in order.
fn chip_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| {
            TAGS.iter()
                .any(|t| l.strip_prefix(t).is_some_and(|r| r.starts_with(' ')))
        })
        .map(str::to_string)
        .collect()
}

/// Builds `model` with feature `series` for `board`, runs it and checks
/// its lines against `host` bit for bit (as hex) and line for line.
fn check_board(board: &qemu::Board, model: &str, host: &[String]) {
    let run = qemu::build_and_run(board.name, model, &["series"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.code, Some(0), "{} failed:\n{}", board.name, run.stdout);
    let chip = chip_lines(&run.stdout);
    for (i, (c, h)) in chip.iter().zip(host).enumerate() {
        assert_eq!(
            c, h,
            "{} ({}) {model}, line {i}: chip vs host\n{}",
            board.name, board.core, run.stdout
        );
    }
    assert_eq!(
        chip.len(),
        host.len(),
        "{} {model}: {} lines on the chip, {} on the host\n{}",
        board.name,
        chip.len(),
        host.len(),
        run.stdout
    );
    // Every series read, every window classified (3 resampled + 1, 2 and
    // 4 voted for the well-formed ones; 20 and 1 samples resampled too).
    let done = run.numbers("DONE").expect("DONE line");
    let samples: usize = series_data::SERIES.iter().map(|s| s.len).sum();
    assert_eq!(done, [samples as u64, 12], "{}", run.stdout);
    assert!(run.stdout.contains("\nTICKS 16 "), "{}", run.stdout);
}

#[test]
fn patched_classifier_matches_host_on_every_core() {
    let (_, bytes) = qemu::model_file(models::SERIES_PATCHED).expect("checked-in model");
    let model = Model::from_bytes(&bytes).expect("loads on the host");
    assert_eq!(patch_of(&model), models::SERIES_PATCH);
    let host = host_lines(&model);

    // What the host computes: the promised lengths and windows, and the
    // malformed series reported by name, never a crash.
    let expected_prefixes = [
        "PATCH 4 1 samples per window 32",
        "SERIES 0 37 ",
        "RESAMPLE 0 ",
        "VOTE 0 1 ",
        "WINNER 0 ",
        "SERIES 1 80 ",
        "RESAMPLE 1 ",
        "VOTE 1 2 ",
        "WINNER 1 ",
        "SERIES 2 141 ",
        "RESAMPLE 2 ",
        "VOTE 2 4 ",
        "WINNER 2 ",
        "SERIES 3 20 ",
        "RESAMPLE 3 ",
        "VOTE 3 SHORT 20 32",
        "SERIES 4 1 ",
        "RESAMPLE 4 ",
        "VOTE 4 SHORT 1 32",
        "SERIES 5 0 ",
        "RESAMPLE 5 ERROR WindowLength",
        "VOTE 5 SHORT 0 32",
        "SERIES 6 45 ",
        "RESAMPLE 6 ERROR NonFiniteSample",
        "VOTE 6 ERROR NonFiniteSample",
    ];
    assert_eq!(host.len(), expected_prefixes.len(), "{host:#?}");
    for (line, prefix) in host.iter().zip(expected_prefixes) {
        assert!(line.starts_with(prefix), "{line:?} is not {prefix:?}..");
    }
    // Resampling and voting see different windows of a long series.
    let fields = |tag: &str| -> Vec<&str> {
        host.iter()
            .find_map(|l| l.strip_prefix(tag))
            .expect("line")
            .split_whitespace()
            .collect()
    };
    assert_ne!(fields("RESAMPLE 2 "), fields("VOTE 2 ")[1..]);

    qemu::on_every_core(|board| check_board(board, models::SERIES_PATCHED, &host));
}

#[test]
fn unpatched_classifier_reads_one_sample_per_step() {
    let name = models::SolverCase::Rk4Classifier.file_name();
    let (_, bytes) = qemu::model_file(name).expect("checked-in model");
    let model = Model::from_bytes(&bytes).expect("loads on the host");
    assert_eq!(patch_of(&model), 1);
    let host = host_lines(&model);
    assert_eq!(host[0], "PATCH 1 1 samples per window 32");
    let board = qemu::boards::board_named("mps2-an386").expect("M4F board");
    check_board(board, name, &host);
}

#[test]
fn a_forecaster_is_refused_by_name() {
    qemu::assert_refused("default.nagode", &["series"], "NotAClassifier");
}
