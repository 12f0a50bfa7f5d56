//! Flows on the chip (firmware feature `flow`): every printed anomaly score
//! `-log p` equals the host's `Flow::score` bit for bit on the same flow
//! file and the same points (`replay_data::flow_point` of consecutive
//! replayed samples for a format-5 flow, the raw samples through the
//! file's scaling for a format-7 one, with its verdict), on every core; a
//! window model is refused by name.

use integration::qemu;
use nagode::flow::FlowModel;

#[test]
fn flow_scores_match_host_on_every_core() {
    let model = integration::models::FLOW_MOONS;
    let samples = qemu::replay_samples().expect("replay samples");
    let (_, bytes) = qemu::model_file(model).expect("checked-in flow file");
    let flow = FlowModel::from_bytes(&bytes).expect("flow loads on the host");
    let host = integration::host_flow_replay(&flow, &samples).expect("host replay");
    // One score per consecutive pair, each a finite number, and they differ
    // (the points move along the beat).
    assert_eq!(host.len(), samples.len() - 1);
    assert_eq!(host.first().map(|p| p.0), Some(1));
    let scores: Vec<f32> = host.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    assert_eq!(scores.len(), host.len());
    assert!(scores.iter().all(|s| s.is_finite()), "{scores:?}");
    let (lo, hi) = scores
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &s| {
            (lo.min(s), hi.max(s))
        });
    assert!(hi - lo > 0.1, "scores barely vary: {lo}..{hi}");

    qemu::host_parity_on_every_core(model, &["flow"], &samples, &host);
}

/// A format-7 flow trained on the replayed ECG: the chip passes the raw
/// samples, the file's scaling is applied by the runtime, and every score
/// and verdict equals the host's bit for bit on every core.
#[test]
fn raw_samples_through_the_stored_scaling_match_host_on_every_core() {
    let model = integration::models::FLOW_ECG;
    let samples = qemu::replay_samples().expect("replay samples");
    let (_, bytes) = qemu::model_file(model).expect("checked-in flow file");
    let flow = FlowModel::from_bytes(&bytes).expect("flow loads on the host");
    assert_eq!(flow.model().format_version(), 7);
    let host = integration::host_flow_replay(&flow, &samples).expect("host replay");
    assert_eq!(host.len(), samples.len() - 1);
    // A score and a verdict per point; the verdicts follow the threshold.
    let threshold = flow.meta().expect("scaling and threshold").threshold;
    for (_, v) in &host {
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].is_finite());
        assert_eq!(v[1], f32::from(u8::from(v[0] > threshold)));
    }
    qemu::host_parity_on_every_core(model, &["flow"], &samples, &host);
}

#[test]
fn a_window_model_is_refused_by_name() {
    qemu::assert_refused("default.nagode", &["flow"], "WrongKind");
}
