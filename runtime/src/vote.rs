//! One class per series from the windows of that series: the logits of its
//! windows summed, the largest sum wins.
//!
//! Why: a series longer than the model's window is classified window by
//! window; summing logits (adds only, no `exp`) lets every window speak
//! and gives the device and the trainer the same bits. `trainer train`
//! reports a classifier's accuracy per series this way when its series
//! hold several windows.

use crate::error::RunError;

/// Adds one window's `logits` to the running `sums` (one per class).
pub fn add(sums: &mut [f32], logits: &[f32]) -> Result<(), RunError> {
    if logits.len() != sums.len() {
        return Err(RunError::WindowLength {
            what: "logits",
            expected: sums.len(),
            found: logits.len(),
        });
    }
    for (s, &l) in sums.iter_mut().zip(logits) {
        *s += l;
    }
    Ok(())
}

/// The class with the largest sum (the first on ties); `None` for no
/// classes or a non-finite sum.
pub fn winner(sums: &[f32]) -> Option<usize> {
    if sums.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let mut best: Option<(usize, f32)> = None;
    for (k, &s) in sums.iter().enumerate() {
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((k, s));
        }
    }
    best.map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn sums_decide_and_ties_go_to_the_first() {
        let mut sums = [0f32; 3];
        add(&mut sums, &[1.0, 3.0, 0.0]).expect("adds");
        add(&mut sums, &[2.5, 0.0, 0.0]).expect("adds");
        assert_eq!(sums, [3.5, 3.0, 0.0]);
        assert_eq!(winner(&sums), Some(0));
        assert_eq!(winner(&[1.0, 1.0]), Some(0));
        assert_eq!(winner(&[]), None);
        assert_eq!(winner(&[1.0, f32::NAN]), None);
        assert!(add(&mut sums, &[1.0]).is_err());
    }
}
