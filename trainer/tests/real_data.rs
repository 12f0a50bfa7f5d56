//! Real data as users bring it: each numbered failure of the real-data issue
//! as a test that fails on the trainer before it was fixed. The series are
//! generated here (seeded) in the shapes that broke it: `t` in seconds and as
//! date-times, a trend that leaves the training range, a 100-sample yearly
//! series, a small multichannel classification set, a classifier scored on a
//! file that lacks a class. Every run uses the defaults of `trainer train
//! --csv FILE --task TASK`, with fewer epochs where noted to keep it short.

use std::fmt::Write as _;
use trainer::tasks::window;
mod common;
use common::{train, Lcg};

/// A seasonal series (periods 24 and 7.3 samples) with noise: `n` rows
/// `t,load`, `t` written by `time`.
fn seasonal(n: usize, time: impl Fn(usize) -> String) -> String {
    let mut rng = Lcg(7);
    let mut s = String::from("t,load\n");
    for i in 0..n {
        let x = i as f64;
        let v = 100.0
            + 20.0 * (std::f64::consts::TAU * x / 24.0).sin()
            + 6.0 * (std::f64::consts::TAU * x / 7.3).sin()
            + 1.0 * rng.next();
        let _ = writeln!(s, "{},{v:.3}", time(i));
    }
    s
}

/// Failure 1: `t` in seconds (gap 1800) was used as solver time, 27,000x
/// worse than naive; date-times were refused as "not a number".
#[test]
fn seconds_and_date_times_train_as_well_as_steps() {
    let dir = common::tmp("real", "time");
    let secs = dir.join("seconds.csv");
    let iso = dir.join("iso.csv");
    std::fs::write(
        &secs,
        seasonal(700, |i| format!("{}", 1_717_200_000 + 1800 * i as u64)),
    )
    .expect("write");
    std::fs::write(
        &iso,
        seasonal(700, |i| {
            let m = 30 * i;
            format!(
                "2024-06-{:02} {:02}:{:02}:00",
                1 + m / 1440,
                (m / 60) % 24,
                m % 60
            )
        }),
    )
    .expect("write");
    let out = dir.join("m.nagode");
    let out = out.to_str().expect("utf-8");
    let mut metrics = Vec::new();
    for file in [&secs, &iso] {
        let f = file.to_str().expect("utf-8");
        let s = train(&[
            "--csv", f, "--task", "forecast", "--epochs", "25", "--out", out,
        ]);
        assert_eq!(s.problem.time_unit, 1800.0, "{f}: nominal gap in seconds");
        assert!(
            s.test_metric < 0.5 * s.naive_test,
            "{f}: test MSE {} vs naive {}",
            s.test_metric,
            s.naive_test
        );
        // The file records the unit: the runtime takes gaps in seconds.
        let bytes = std::fs::read(out).expect("model written");
        let model = nagode::Model::from_bytes(&bytes).expect("loads");
        assert_eq!(model.time_unit(), 1800.0);
        assert_eq!(model.nominal_gap(), 1800.0);
        metrics.push(s.test_metric);
    }
    // Same data, same unit: the two spellings of time train the same model.
    assert_eq!(metrics[0], metrics[1], "seconds vs date-times");
}

/// Failure 2: on a trend whose test part lies above every training value,
/// every solver was 1.2-3.8x worse than the naive forecast.
#[test]
fn a_trend_beyond_the_training_range_beats_naive() {
    let dir = common::tmp("real", "trend");
    let file = dir.join("trend.csv");
    let mut rng = Lcg(3);
    let mut s = String::from("t,sales\n");
    for i in 0..300 {
        let x = i as f64;
        let v = 0.08 * x + 1.5 * (std::f64::consts::TAU * x / 12.0).sin() + 0.2 * rng.next();
        let _ = writeln!(s, "{i},{v:.4}");
    }
    std::fs::write(&file, s).expect("write");
    let f = file.to_str().expect("utf-8");
    let s = train(&["--csv", f, "--task", "forecast", "--no-export"]);
    let p = &s.problem;
    let train_max = p.train.x.iter().copied().fold(f32::MIN, f32::max);
    let test_min = p.test.y.iter().copied().fold(f32::MAX, f32::min);
    assert!(test_min > train_max, "the test part must leave the range");
    assert!(
        s.test_metric < s.naive_test,
        "test MSE {} vs naive {}",
        s.test_metric,
        s.naive_test
    );
}

/// Failure 3: a 100-sample yearly series was refused ("0 validation / 0
/// test windows"); the window now fits the series and the summary says why.
#[test]
fn a_short_yearly_series_trains_with_a_fitted_window() {
    let dir = common::tmp("real", "short");
    let file = dir.join("yearly.csv");
    let mut rng = Lcg(11);
    let (mut a, mut b) = (0.0f64, 0.0f64);
    let mut s = String::from("t,flow\n");
    for year in 1871..1971 {
        let v = 1.3 * a - 0.6 * b + rng.next();
        b = a;
        a = v;
        let _ = writeln!(s, "{year},{:.3}", 900.0 + 150.0 * v);
    }
    std::fs::write(&file, s).expect("write");
    let f = file.to_str().expect("utf-8");
    let s = train(&["--csv", f, "--task", "forecast", "--no-export"]);
    let p = &s.problem;
    assert!(p.window < 48, "window {}", p.window);
    assert!(
        p.test.len >= 4 && p.val.len >= 4,
        "{} / {}",
        p.val.len,
        p.test.len
    );
    assert!(
        p.notes.iter().any(|n| n.contains("window")),
        "the summary says why: {:?}",
        p.notes
    );
    assert_eq!(p.time_unit, 1.0, "yearly t: one year per unit");
}

/// Long-layout classification CSV: `series` series of 3 channels, 40
/// samples, 4 classes by the frequency of a noisy oscillation.
fn classes_csv(series: usize, seed: u64, names: &[&str]) -> String {
    let mut rng = Lcg(seed);
    let mut s = String::from("id,t,ax,ay,az,label\n");
    for id in 0..series {
        let k = id % names.len();
        let freq = 0.05 + 0.05 * k as f64;
        let phase = 6.0 * rng.next();
        for t in 0..40 {
            let x = std::f64::consts::TAU * freq * t as f64 + phase;
            let _ = writeln!(
                s,
                "{id},{t},{:.4},{:.4},{:.4},{}",
                x.sin() + 0.3 * rng.next(),
                x.cos() + 0.3 * rng.next(),
                0.5 * (2.0 * x).sin() + 0.3 * rng.next(),
                names[k]
            );
        }
    }
    s
}

/// Failure 4: on BasicMotions (6-channel IMU, 40 training series, 4
/// classes) early stopping on a 6-series validation part ended training
/// after ~30 epochs, and NAG's test accuracy over seeds 0-2 was 0.825 /
/// 0.975 / 0.75 (22.5 points apart). Now the set is cross-validated and the
/// model refit on all 40 series: measured 0.95 / 1.0 / 0.95 (`trainer
/// panel`). Asserted: at most 10 points apart (one test series is 2.5
/// points, and dfdx's kernels may round differently on another CPU).
#[test]
fn a_small_classification_set_is_stable_across_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/panel");
    let tr = dir.join("basicmotions_train.csv");
    let te = dir.join("basicmotions_test.csv");
    let (tr, te) = (tr.to_str().expect("utf-8"), te.to_str().expect("utf-8"));
    let accs: Vec<f32> = (0..3)
        .map(|seed| {
            let seed = seed.to_string();
            let s = train(&[
                "--csv",
                tr,
                "--test",
                te,
                "--task",
                "classify",
                "--seed",
                &seed,
                "--no-export",
            ]);
            s.test_metric
        })
        .collect();
    let lo = accs.iter().copied().fold(f32::MAX, f32::min);
    let hi = accs.iter().copied().fold(f32::MIN, f32::max);
    assert!(hi - lo <= 0.1 + 1e-6, "accuracies over seeds {accs:?}");
    assert!(lo >= 0.85, "accuracies over seeds {accs:?}");
}

/// Failure 5: `eval` took the class order from the scored CSV, so a file
/// lacking a class shifted every index; the model file now names its
/// classes and an unknown label is refused.
#[test]
fn eval_maps_labels_through_the_models_class_names() {
    let dir = common::tmp("real", "labels");
    let (tr, out) = (dir.join("train.csv"), dir.join("m.nagode"));
    let names = ["idle", "walk", "run", "jump"];
    std::fs::write(&tr, classes_csv(48, 5, &names)).expect("write");
    let (trs, outs) = (tr.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    train(&[
        "--csv", trs, "--task", "classify", "--epochs", "10", "--out", outs,
    ]);
    let bytes = std::fs::read(&out).expect("model written");
    let model = nagode::Model::from_bytes(&bytes).expect("loads");
    let mut stored: Vec<&str> = model.class_names().collect();
    stored.sort_unstable();
    let mut expected = names.to_vec();
    expected.sort_unstable();
    assert_eq!(stored, expected, "class names in the file");

    // Only "run" and "jump": today's code re-indexed them as 0 and 1.
    let only: String = classes_csv(16, 9, &names)
        .lines()
        .filter(|l| l.starts_with("id") || l.ends_with(",run") || l.ends_with(",jump"))
        .map(|l| format!("{l}\n"))
        .collect();
    let table = trainer::data::parse_csv("two_classes.csv", only.as_bytes(), None).expect("parses");
    let score = trainer::commands::score(&model, &table).expect("scores");
    // Reference: the runtime's argmax named through the file, per series.
    let mut session: trainer::export::host::HostSession<'_> =
        nagode::Session::new(&model).expect("fits");
    let mut logits = vec![0f32; model.output_len()];
    let (mut right, mut total) = (0usize, 0usize);
    for s in &table.series {
        let x: Vec<f32> = s.values.iter().flatten().copied().collect();
        session.run_window(&x, None, &mut logits).expect("runs");
        let best = logits
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, _)| k)
            .expect("non-empty");
        let label = &s.labels.as_ref().expect("labels")[0];
        right += usize::from(model.class_name(best) == Some(label.as_str()));
        total += 1;
    }
    match score {
        trainer::commands::Score::Classify {
            accuracy, named, ..
        } => {
            assert!(named);
            assert_eq!(accuracy, right as f64 / total as f64);
        }
        other => panic!("{other:?}"),
    }

    let unknown = classes_csv(4, 9, &["swim"]);
    let table = trainer::data::parse_csv("swim.csv", unknown.as_bytes(), None).expect("parses");
    let err = trainer::commands::score(&model, &table).expect_err("unknown label");
    let msg = err.to_string();
    assert!(msg.contains("swim") && msg.contains("walk"), "{msg}");
}

/// Failure 6: the model file was written whatever the parity; now a
/// runtime that differs beyond the limit stops the export.
#[test]
fn parity_beyond_the_limit_refuses_the_export() {
    let path = std::path::Path::new("never-written.nagode");
    let trainer_out = [1.0f32, -2.0, 0.5, 4.0];
    let close = [1.0f32, -2.0, 0.5, 4.0 + 4e-6 * 4.0 / 2.0];
    assert!(window::check_parity(&close, &trainer_out, 1, path).is_ok());
    let far = [1.0f32, -2.0, 0.5 + 1e-3, 4.0];
    let err = window::check_parity(&far, &trainer_out, 1, path).expect_err("too far");
    assert!(err.to_string().contains("not written"), "{err}");
    let nan = [1.0f32, f32::NAN, 0.5, 4.0];
    assert!(window::check_parity(&nan, &trainer_out, 1, path).is_err());
    assert!(!path.exists());
}
