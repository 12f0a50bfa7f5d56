//! `Replay` yields the recorded samples in order, waiting one period before
//! each, at the gaps of the shared schedule: irregular, then a regular tail.

use embedded_hal_mock::eh1::delay::{CheckedDelay, Transaction as Delay};
use sample_source::gaps::{replay_gap, GAP_FACTORS, REGULAR_TAIL};
use sample_source::{Replay, SampleSource};

const PERIOD_NS: u32 = 2_777_778;
const GAP: f32 = 1.0 / 360.0;

/// A recorded series of `len` distinct values, as the firmware stores it.
fn recording(len: usize) -> (Vec<f32>, &'static [u8]) {
    let values: Vec<f32> = (0..len).map(|i| i as f32 * 0.25 - 3.0).collect();
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    (values, Box::leak(bytes.into_boxed_slice()))
}

/// Every sample of the replay (two channels, each given the value) and its gap.
fn replay_all(bytes: &'static [u8], delay: CheckedDelay) -> Vec<(f32, f32)> {
    let mut replay = Replay::new(bytes, GAP, PERIOD_NS, delay);
    let mut out = [0.0f32; 2];
    let mut read = Vec::new();
    while let Some(gap) = replay.read(&mut out).unwrap_or_else(|never| match never {}) {
        assert_eq!(
            out[0].to_bits(),
            out[1].to_bits(),
            "every channel gets the value"
        );
        read.push((out[0], gap));
    }
    assert_eq!(
        replay.read(&mut out).ok(),
        Some(None),
        "an ended replay stays ended"
    );
    read
}

#[test]
fn replays_every_sample_once_per_period_at_the_scheduled_gaps() {
    let len = REGULAR_TAIL + 3 * GAP_FACTORS.len() + 2;
    let (values, bytes) = recording(len);
    let delay = CheckedDelay::new(&vec![Delay::delay_ns(PERIOD_NS); len]);
    let read = replay_all(bytes, delay.clone());
    let mut delay = delay;
    delay.done();

    let samples: Vec<f32> = read.iter().map(|(v, _)| *v).collect();
    assert_eq!(samples, values);
    let gaps: Vec<f32> = read.iter().map(|(_, g)| *g).collect();
    let expected: Vec<f32> = (0..len).map(|i| replay_gap(GAP, i, len)).collect();
    assert_eq!(gaps, expected);

    // Before the tail the gaps cycle through every factor, shorter and
    // longer than the nominal one; the tail is regular.
    let (irregular, tail) = gaps.split_at(len - REGULAR_TAIL);
    for (i, gap) in irregular.iter().enumerate() {
        assert_eq!(*gap, GAP * GAP_FACTORS[i % GAP_FACTORS.len()], "gap {i}");
    }
    assert!(irregular.iter().any(|g| *g < GAP) && irregular.iter().any(|g| *g > GAP));
    assert!(tail.iter().all(|g| *g == GAP), "{tail:?}");
}

#[test]
fn a_replay_no_longer_than_the_tail_is_regular() {
    let (_, bytes) = recording(REGULAR_TAIL);
    let delay = CheckedDelay::new(&vec![Delay::delay_ns(PERIOD_NS); REGULAR_TAIL]);
    let read = replay_all(bytes, delay.clone());
    let mut delay = delay;
    delay.done();
    assert_eq!(read.len(), REGULAR_TAIL);
    assert!(read.iter().all(|(_, g)| *g == GAP));
}
