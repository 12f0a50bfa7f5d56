//! Arbitrary bytes as a model file; whatever loads is run on a window of
//! samples taken from the same bytes, as a stream when the file is a
//! streaming model (format 5), as a flow's points when it is a flow (format
//! 5 or 7: raw points scaled by the file's own scaling, scored and judged
//! against its threshold), and through the integer path too when it
//! carries a quantised section (format 4). Must never panic.
//!
//! First byte even: the rest is the file as is (exercises magic and CRC).
//! First byte odd: the rest is the message after the magic; the target adds
//! `NAGO` and a correct CRC so mutations reach the decoder and validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nagode::{Model, Session};

fn file(data: &[u8]) -> Option<Vec<u8>> {
    let (&mode, rest) = data.split_first()?;
    if mode & 1 == 0 {
        return Some(rest.to_vec());
    }
    let mut bytes = nagode::format::MAGIC.to_vec();
    bytes.extend_from_slice(rest);
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    Some(bytes)
}

fuzz_target!(|data: &[u8]| {
    let Some(bytes) = file(data) else {
        return;
    };
    let Ok(model) = Model::from_bytes(&bytes) else {
        return;
    };
    let Ok(mut session) = Session::<128, 1024>::new(&model) else {
        return;
    };
    // Keep each input cheap (a hostile file may legitimately ask for 4096
    // sub-steps per sample): run only models under ~2e4 multiply-adds per window.
    let field_macs: u64 = model
        .field()
        .iter()
        .map(|l| (l.inputs * l.outputs) as u64)
        .sum();
    if model.evals_per_prediction().saturating_mul(field_macs) > 20_000 {
        return;
    }
    // Samples: a smooth signal perturbed by the file's own bytes.
    let n = model.window_capacity_needed();
    let samples: Vec<f32> = (0..n)
        .map(|i| (i as f32 * 0.3).sin() + f32::from(bytes[i % bytes.len()]) / 64.0)
        .collect();
    let gaps: Vec<f32> = (0..model.window())
        .map(|i| model.nominal_gap() * (0.5 + f32::from(bytes[(7 * i) % bytes.len()]) / 128.0))
        .collect();
    let mut out = [0.0f32; 1024];
    let _ = session.run_window(&samples, None, &mut out);
    // Names borrowed from the file: every one is reachable and well-formed.
    for name in model.channel_names().chain(model.class_names()) {
        assert!(!name.is_empty() && !name.contains('\n'));
    }
    assert!(model.class_name(usize::MAX).is_none());
    if let Ok(n) = session.run_window(&samples, Some(&gaps), &mut out) {
        assert!(
            out[..n].iter().all(|v| v.is_finite()),
            "Ok with a non-finite output"
        );
    }
    // A format-5 file: the same samples pushed one at a time, the state
    // carried; after an error the stream is reset and goes on.
    if let Ok(streaming) = nagode::stream::StreamModel::from_bytes(&bytes) {
        if let Ok(mut stream) = nagode::stream::Stream::<128, 128>::new(&streaming) {
            let channels = model.channels().max(1);
            for (sample, gap) in samples.chunks(channels).zip(&gaps) {
                if stream.push(sample, *gap).is_err() {
                    stream.reset();
                    continue;
                }
                if let Ok(n) = stream.predict(&mut out) {
                    assert!(
                        out[..n].iter().all(|v| v.is_finite()),
                        "stream Ok with a non-finite output"
                    );
                }
            }
        }
    }
    // A flow: four points of values drawn from the bytes, scored.
    if let Ok(flow_model) = nagode::flow::FlowModel::from_bytes(&bytes) {
        if let Ok(mut flow) = nagode::flow::Flow::<128, 129>::new(&flow_model) {
            let d = flow_model.model().state_dim();
            let points: Vec<f32> = (0..4 * d)
                .map(|i| f32::from(bytes[(3 * i) % bytes.len()]) - 128.0)
                .collect();
            for point in points.chunks_exact(d.max(1)) {
                if let Ok(score) = flow.score(point) {
                    assert!(score.is_finite(), "flow Ok with a non-finite score");
                    let _ = flow.is_anomaly(score);
                }
            }
        }
    }
    // A format-4 file: the integer path on the same window, both gap modes.
    let quant = nagode::quant::QuantModel::from_bytes(&bytes);
    if let Ok(quant) = &quant {
        let net = quant.net();
        let Ok(mut runner) = nagode::quant::QuantRunner::<128>::new(&net) else {
            return;
        };
        let _ = runner.run_window(&net, &samples, None, &mut out);
        if let Ok(n) = runner.run_window(&net, &samples, Some(&gaps), &mut out) {
            assert!(
                out[..n].iter().all(|v| v.is_finite()),
                "integer Ok with a non-finite output"
            );
        }
    }
});
