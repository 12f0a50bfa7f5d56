//! What `trainer train --csv FILE --task TASK` chooses on its own (issue
//! 19): each test fails on the trainer before it. The data are generated
//! here (seeded) in the shapes that broke it: long univariate series,
//! series of unequal lengths, a forecast the model cannot beat, a missing
//! cell.

use std::fmt::Write as _;
use std::path::Path;
use trainer::tasks::window::{self, AppError};
mod common;
use common::{config, train, Lcg};

/// `trainer train --csv TRAIN --test TEST --task classify --no-export`.
fn classify(train_csv: &str, test_csv: &str) -> trainer::tasks::window::Summary {
    train(&[
        "--csv",
        train_csv,
        "--test",
        test_csv,
        "--task",
        "classify",
        "--no-export",
    ])
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let f = dir.join(name);
    std::fs::write(&f, text).expect("write");
    f.to_str().expect("utf-8").to_string()
}

/// Long-layout series of the three shapes of `shape` (a bump early, a bump
/// late, a dip in the middle) in noise; series `id` has `len(id)` samples.
fn shapes_csv(series: usize, seed: u64, len: impl Fn(usize) -> usize) -> String {
    let mut rng = Lcg(seed);
    let mut s = String::from("id,t,v,label\n");
    for id in 0..series {
        let k = id % 3;
        let n = len(id);
        let shift = 0.05 * rng.next();
        for t in 0..n {
            let x = t as f64 / n as f64;
            let bump = |c: f64| (-((x - c - shift) / 0.06).powi(2)).exp();
            let v = match k {
                0 => bump(0.25),
                1 => bump(0.75),
                _ => -bump(0.5),
            } + 0.15 * rng.next();
            let _ = writeln!(s, "{id},{t},{v:.4},{}", ["early", "late", "dip"][k]);
        }
    }
    s
}

/// 200-sample series: one ODE step per sample is what made long windows
/// untrainable; now the window is read in patches, and the summary
/// compares the model with 1-NN on the same split.
#[test]
fn long_series_are_patched_and_beat_nearest_neighbour() {
    let dir = common::tmp("defaults", "long");
    let tr = write(&dir, "train.csv", &shapes_csv(60, 1, |_| 200));
    let te = write(&dir, "test.csv", &shapes_csv(45, 2, |_| 200));
    let s = classify(&tr, &te);
    let p = &s.problem;
    assert!(p.patch >= 2, "patch {}", p.patch);
    assert_eq!(p.window * p.patch, 200);
    assert!(
        p.notes.iter().any(|n| n.starts_with("patches of")),
        "{:?}",
        p.notes
    );
    let nn = s
        .baselines
        .iter()
        .find(|b| b.name.starts_with("1-NN"))
        .expect("a 1-NN baseline");
    assert!(s.test_metric >= 0.9, "test accuracy {}", s.test_metric);
    assert!(
        s.test_metric >= nn.test,
        "{} vs 1-NN {}",
        s.test_metric,
        nn.test
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

/// Series of 60 to 140 samples: each series is one window (resampled) or
/// votes over its windows, and accuracy counts series, not windows.
#[test]
fn unequal_lengths_are_classified_once_per_series() {
    let dir = common::tmp("defaults", "unequal");
    let len = |id: usize| 60 + (id * 37) % 81;
    let tr = write(&dir, "train.csv", &shapes_csv(60, 3, len));
    let te = write(&dir, "test.csv", &shapes_csv(30, 4, len));
    let s = classify(&tr, &te);
    let p = &s.problem;
    let resampled = p.resampled.is_some();
    let voted = p.notes.iter().any(|n| n.starts_with("accuracy per series"));
    assert!(resampled || voted, "{:?}", p.notes);
    if resampled {
        assert_eq!(p.test.len, 30, "one window per test series");
    }
    assert!(
        s.test_metric >= 0.85,
        "per-series accuracy {}",
        s.test_metric
    );
    // The runtime, given the same windows, agreed with the trainer.
    assert!(s.parity.is_none(), "no export asked");
}

/// A random walk: nothing beats the naive forecast. The model starts as
/// the naive forecast and keeps it unless validation clearly says
/// otherwise, so validation never ends worse than naive, and a test loss
/// is a WARNING (or, asked, an error with no file written).
#[test]
fn a_random_walk_never_loses_silently_to_naive() {
    let dir = common::tmp("defaults", "walk");
    let mut rng = Lcg(11);
    let mut v = 0.0;
    let mut csv = String::from("x\n");
    for _ in 0..400 {
        v += rng.next();
        let _ = writeln!(csv, "{v:.4}");
    }
    let f = write(&dir, "walk.csv", &csv);
    let s = train(&[
        "--csv",
        &f,
        "--task",
        "forecast",
        "--no-export",
        "--epochs",
        "40",
    ]);
    let naive = &s.baselines[0];
    assert_eq!(naive.name, "naive last value");
    assert!(
        s.val_metric <= naive.val,
        "{} vs {}",
        s.val_metric,
        naive.val
    );
    let loses_test = s.test_metric > naive.test;
    assert_eq!(
        loses_test,
        s.warnings.iter().any(|w| w.contains("test MSE")),
        "{:?}",
        s.warnings
    );
    // --require-beat-baseline on a set the model cannot beat on test.
    let out = dir.join("m.nagode");
    let cfg = config(&[
        "--csv",
        &f,
        "--task",
        "forecast",
        "--epochs",
        "40",
        "--require-beat-baseline",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    match window::run(&cfg) {
        Err(AppError::Baseline(w)) => {
            assert!(!w.is_empty());
            assert!(!out.exists(), "no file after a baseline loss");
        }
        Ok(s) => assert!(s.warnings.is_empty(), "{:?}", s.warnings),
        Err(e) => panic!("{e}"),
    }
}

/// One empty cell used to stop the run (`line 54, column 2: empty
/// field`); now its row is dropped, the ODE integrates across the longer
/// gap, the summary counts it, and the export's parity check passes.
#[test]
fn a_missing_cell_trains_and_is_counted() {
    let dir = common::tmp("defaults", "missing");
    let mut csv = String::from("t,x\n");
    for i in 0..300 {
        let x = (i as f64 * 0.3).sin();
        if i == 52 || i == 170 {
            let _ = writeln!(csv, "{i},");
        } else if i == 200 {
            let _ = writeln!(csv, "{i},NaN");
        } else {
            let _ = writeln!(csv, "{i},{x:.4}");
        }
    }
    let f = write(&dir, "gaps.csv", &csv);
    let out = dir.join("m.nagode");
    let s = train(&[
        "--csv",
        &f,
        "--task",
        "forecast",
        "--epochs",
        "20",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let note = s
        .problem
        .notes
        .iter()
        .find(|n| n.starts_with("missing values"));
    assert!(
        note.is_some_and(|n| n.contains("3 rows dropped")),
        "{:?}",
        s.problem.notes
    );
    assert!(s.parity.is_some() && out.exists());
    assert!(
        s.test_metric < s.naive_test,
        "{} vs {}",
        s.test_metric,
        s.naive_test
    );
}
