//! `train --streaming` end to end: a short training run on the built-in
//! ECG exports a format-5 streaming forecaster whose runtime stream matches
//! the trainer's unrolled solver over the whole series (chunked both in
//! training and evaluation), survives a million-sample replay, and costs
//! one field evaluation per sample; one on ItalyPowerDemand exports a
//! streaming classifier whose runtime logits after every ready sample match
//! the trainer's and which beats the majority class.

use nagode::stream::{Stream, StreamModel};
use trainer::commands::train::TrainArgs;
use trainer::tasks::streaming::{run, StreamCfg, TestScore};
use trainer::tasks::window::PARITY_LIMIT;

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nagode-stream-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

#[test]
fn a_streaming_forecaster_trains_exports_and_matches_the_runtime() {
    let dir = tmp("forecast");
    let out = dir.join("stream.nagode");
    let mut cfg = TrainArgs::run_config(["train", "--epochs", "4", "--no-plots"]).expect("options");
    cfg.verbose = false;
    cfg.out = Some(out.clone());
    let s = StreamCfg {
        chunk: 48,
        lanes: 16,
        warmup: Some(40),
        ..StreamCfg::default()
    };
    let summary = run(&cfg, &s).expect("streaming run");
    let (abs, rel) = summary.parity.expect("parity checked before writing");
    assert!(rel <= PARITY_LIMIT, "{abs} {rel}");
    assert_eq!(summary.replay.map(|r| r.0), Some(1_000_000));
    assert_eq!(summary.evals_per_sample, 1);
    let TestScore::Forecast { mse, .. } = summary.test else {
        panic!("a forecaster's score: {:?}", summary.test);
    };
    assert!(mse.is_finite() && summary.scored > 1000);
    let bytes = std::fs::read(&out).expect("model file");
    let model = StreamModel::from_bytes(&bytes).expect("a streaming model");
    assert_eq!(model.warmup(), 40);
    assert_eq!(
        model.model().format_version(),
        nagode::format::STREAM_VERSION
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_streaming_classifier_reads_out_every_sample_after_its_warmup() {
    let dir = tmp("classify");
    let out = dir.join("italy.nagode");
    let argv = [
        "train", "--data", "italy", "--task", "classify", "--epochs", "4",
    ];
    let mut cfg = TrainArgs::run_config(argv).expect("options");
    cfg.verbose = false;
    cfg.out = Some(out.clone());
    let s = StreamCfg {
        warmup: Some(12),
        ..StreamCfg::default()
    };
    let summary = run(&cfg, &s).expect("streaming classifier");
    let (abs, rel) = summary.parity.expect("parity checked before writing");
    assert!(rel <= PARITY_LIMIT, "{abs} {rel}");
    // 1029 test series of 24 samples, read out from the 12th on.
    assert_eq!(summary.scored, 1029 * 13);
    assert_eq!(summary.evals_per_sample, 1);
    let TestScore::Classify {
        last,
        anytime,
        majority,
    } = summary.test
    else {
        panic!("a classifier's score: {:?}", summary.test);
    };
    assert!(
        last > majority && anytime > majority,
        "{summary:?}",
        summary = summary.test
    );
    let bytes = std::fs::read(&out).expect("model file");
    let model = StreamModel::from_bytes(&bytes).expect("a streaming model");
    assert_eq!(model.warmup(), 12);
    let mut stream = Stream::<64>::new(&model).expect("stream");
    let mut logits = [0f32; 2];
    for n in 0..12 {
        assert!(stream.predict(&mut logits).is_err(), "ready after {n}");
        stream.push(&[0.5], 1.0).expect("push");
    }
    assert_eq!(stream.predict(&mut logits), Ok(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn streaming_refuses_what_it_cannot_train() {
    // A classifier's stream is a whole series: windows cut from series
    // would each start from a zero state mid-series.
    let argv = [
        "train", "--task", "classify", "--data", "italy", "--window", "12",
    ];
    let mut cfg = TrainArgs::run_config(argv).expect("options");
    cfg.verbose = false;
    cfg.out = None;
    let err = run(&cfg, &StreamCfg::default()).err().expect("refused");
    assert!(err.to_string().contains("--streaming"), "{err}");
    let argv = ["train", "--task", "classify", "--data", "italy"];
    let mut cfg = TrainArgs::run_config(argv).expect("options");
    cfg.verbose = false;
    let s = StreamCfg {
        warmup: Some(25),
        ..StreamCfg::default()
    };
    let err = run(&cfg, &s).err().expect("a warm-up past the series");
    assert!(err.to_string().contains("warm-up"), "{err}");
}
