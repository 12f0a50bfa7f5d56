//! A real model fed an arbitrary stream of samples and time gaps (raw f32
//! bit patterns: NaN, infinities, subnormals, huge values, zero and negative
//! gaps). Must never panic; errors must leave the session usable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nagode::{Model, RunError, Session};

const MODELS: [&[u8]; 2] = [
    include_bytes!("../seeds/models/rich.nagode"),
    include_bytes!("../seeds/models/scalar_nag.nagode"),
];

fn f32_at(bytes: &[u8]) -> f32 {
    let mut b = [0u8; 4];
    for (d, s) in b.iter_mut().zip(bytes) {
        *d = *s;
    }
    f32::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(model) = Model::from_bytes(MODELS[usize::from(choice) % MODELS.len()]) else {
        panic!("seed model does not load");
    };
    let mut session = Session::<16, 64>::new(&model).expect("seed model fits");
    let c = model.channels();
    let mut out = [0.0f32; 16];
    // Each record: one op byte, c sample values, one gap.
    for record in rest.chunks(1 + 4 * (c + 1)) {
        let Some((&op, payload)) = record.split_first() else {
            continue;
        };
        let sample: Vec<f32> = (0..c).map(|i| f32_at(payload.get(4 * i..).unwrap_or(&[]))).collect();
        let gap = f32_at(payload.get(4 * c..).unwrap_or(&[]));
        let len = session.len();
        match session.push(&sample, gap) {
            Ok(()) => assert!(session.len() == (len + 1).min(model.window())),
            Err(_) => assert_eq!(session.len(), len, "a refused push changed the session"),
        }
        // Predict on one record in four: a prediction may integrate up to
        // MAX_SUBSTEPS sub-steps per sample, far costlier than a push.
        if op & 3 == 3 {
            match session.predict(&mut out) {
                Ok(n) => assert!(out[..n].iter().all(|v| v.is_finite())),
                Err(RunError::NotReady { .. }) => assert!(!session.is_ready()),
                Err(_) => {}
            }
        }
        if op & 6 == 6 {
            session.clear();
        }
    }
});
