//! Streaming models on the chip (firmware feature `stream`): every printed
//! prediction equals the host's `Stream` bit for bit on the same format-5
//! file, the same samples and the same irregular gaps, on every core, for
//! a forecaster and a classifier; the firmware predicts after every sample
//! once the warm-up is over; a window model is refused by name.

use integration::qemu;
use nagode::stream::StreamModel;

#[test]
fn streaming_ecg_model_matches_host_on_every_core() {
    let model = integration::models::STREAM_ECG;
    let samples = qemu::replay_samples().expect("replay samples");
    let (_, bytes) = qemu::model_file(model).expect("checked-in model file");
    let stream = StreamModel::from_bytes(&bytes).expect("streaming model loads on the host");
    let host = integration::host_stream_replay(&stream, &samples).expect("host replay");
    // One prediction after every sample from the warm-up's last one on.
    let warmup = stream.warmup() as usize;
    assert!(warmup > 0 && warmup < samples.len());
    assert_eq!(host.len(), samples.len() - warmup + 1);
    assert_eq!(host.first().map(|p| p.0), Some(warmup - 1));

    qemu::host_parity_on_every_core(model, &["stream"], &samples, &host);
}

/// A streaming classifier in `firmware/models/`, trained on
/// ItalyPowerDemand with `cargo run -p trainer --release -- train
/// --streaming --data italy --task classify --warmup 12 --epochs 40
/// --budget 0 --out firmware/models/stream_italy.nagode --no-plots` (0.3 s,
/// the same bytes on every run; test accuracy 0.892 at each series' last
/// sample, majority class 0.499). The chip streams the ECG replay through
/// it without a reset: the logits after every sample are the arithmetic
/// under test, not a diagnosis.
const STREAM_ITALY: &str = "stream_italy.nagode";

#[test]
fn streaming_classifier_matches_host_on_every_core() {
    let samples = qemu::replay_samples().expect("replay samples");
    let (_, bytes) = qemu::model_file(STREAM_ITALY).expect("checked-in model file");
    let stream = StreamModel::from_bytes(&bytes).expect("streaming model loads on the host");
    let net = stream.model().net();
    assert!(!net.forecast, "{STREAM_ITALY} is a classifier");
    let host = integration::host_stream_replay(&stream, &samples).expect("host replay");
    // Two logits after every sample from the warm-up's last one on.
    let warmup = stream.warmup() as usize;
    assert_eq!(warmup, 12);
    assert_eq!(host.len(), samples.len() - warmup + 1);
    assert!(host.iter().all(|(_, logits)| logits.len() == 2));

    qemu::host_parity_on_every_core(STREAM_ITALY, &["stream"], &samples, &host);
}

#[test]
fn a_window_model_is_refused_by_name() {
    qemu::assert_refused("default.nagode", &["stream"], "WrongKind");
}
