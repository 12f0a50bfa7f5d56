//! `train --streaming` end to end on the built-in ECG: a short training run
//! exports a format-5 streaming model whose runtime stream matches the
//! trainer's unrolled solver over the whole series (chunked both in
//! training and evaluation), survives a million-sample replay, and costs
//! one field evaluation per sample.

use nagode::stream::StreamModel;
use trainer::app::PARITY_LIMIT;
use trainer::cli::TrainArgs;
use trainer::streaming::{run, StreamCfg};

#[test]
fn a_streaming_forecaster_trains_exports_and_matches_the_runtime() {
    let dir = std::env::temp_dir().join(format!("nagode-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let out = dir.join("stream.nagode");
    let mut cfg = TrainArgs::run_config(["train", "--epochs", "4", "--no-plots"]).expect("options");
    cfg.verbose = false;
    cfg.out = Some(out.clone());
    let s = StreamCfg {
        chunk: 48,
        lanes: 16,
        warmup: Some(40),
        baseline: None,
    };
    let summary = run(&cfg, &s).expect("streaming run");
    let (abs, rel) = summary.parity.expect("parity checked before writing");
    assert!(rel <= PARITY_LIMIT, "{abs} {rel}");
    assert_eq!(summary.replay.map(|r| r.0), Some(1_000_000));
    assert_eq!(summary.evals_per_sample, 1);
    assert!(summary.test_mse.is_finite() && summary.scored > 1000);
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
fn streaming_refuses_what_it_cannot_train() {
    let cfg = TrainArgs::run_config([
        "train",
        "--task",
        "classify",
        "--data",
        "italy",
        "--no-export",
    ])
    .expect("options");
    let s = StreamCfg {
        chunk: 48,
        lanes: 16,
        warmup: None,
        baseline: None,
    };
    let err = run(&cfg, &s).err().expect("classification is refused");
    assert!(err.to_string().contains("--streaming"), "{err}");
}
