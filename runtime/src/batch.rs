//! Many windows at once on the host (feature `std`): scoring a data set,
//! checking an export, serving a queue of requests.
//!
//! The windows are spread over the cores with rayon, one [`Runner`] per
//! worker (its buffers are a few kB on the stack, so making one is cheap).
//! A runner starts every window from a zero state, so each window's outputs
//! are the bits [`Runner::run_window`] gives it alone, whatever thread runs
//! it, and they come back in input order.
//!
//! The runners' `STATE` capacity is picked from the model (the next power
//! of two up from [`Net::state_capacity_needed`](crate::Net)): some of a
//! runner's per-sample work walks its whole buffers, so a runner sized for
//! the widest model the format allows runs a 32-wide model at half speed.

use crate::error::{LoadError, RunError};
use crate::format::MAX_WIDTH;
use crate::net::Layers;
use crate::session::Runner;
use alloc::vec::Vec;
use core::fmt;
use rayon::prelude::*;

/// Why a batch stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchError {
    /// The model does not fit the runners' `STATE` capacity.
    Load(LoadError),
    /// A buffer's length does not match the number of windows.
    Length {
        /// Which buffer (`"samples"`, `"gaps"` or `"outputs"`).
        what: &'static str,
        /// Values needed.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// The first window, in input order, that failed.
    Run {
        /// Its index.
        window: usize,
        /// The runtime's error for it.
        error: RunError,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Load(e) => e.fmt(f),
            BatchError::Length {
                what,
                expected,
                found,
            } => write!(f, "batch needs {expected} {what}, got {found}"),
            BatchError::Run { window, error } => write!(f, "window {window}: {error}"),
        }
    }
}

impl core::error::Error for BatchError {}

/// Runs `count` windows of `model` in parallel: `window(i)` gives window
/// `i`'s samples and gaps as [`Runner::run_window`] takes them (a closure,
/// so overlapping windows of one series need no copies). Outputs go to
/// `out` as `[i][output_len]`; a longer `out` keeps its tail. On error the
/// first failing window is named and the outputs are unspecified.
pub fn run_each<'m, 'w, L>(
    model: &L,
    count: usize,
    window: impl Fn(usize) -> (&'w [f32], Option<&'w [f32]>) + Sync,
    out: &mut [f32],
) -> Result<(), BatchError>
where
    L: Layers<'m> + Sync,
{
    let need = model.net().state_capacity_needed();
    // One instance per capacity; the last refuses what no file can ask for.
    match need {
        0..=16 => run_with::<16, L>(model, count, &window, out),
        17..=32 => run_with::<32, L>(model, count, &window, out),
        33..=64 => run_with::<64, L>(model, count, &window, out),
        65..=128 => run_with::<128, L>(model, count, &window, out),
        129..=256 => run_with::<256, L>(model, count, &window, out),
        257..=512 => run_with::<512, L>(model, count, &window, out),
        _ => run_with::<MAX_WIDTH, L>(model, count, &window, out),
    }
}

/// [`run_each`] with runners of capacity `STATE`.
fn run_with<'m, 'w, const STATE: usize, L>(
    model: &L,
    count: usize,
    window: &(impl Fn(usize) -> (&'w [f32], Option<&'w [f32]>) + Sync),
    out: &mut [f32],
) -> Result<(), BatchError>
where
    L: Layers<'m> + Sync,
{
    let net = model.net();
    // Refused here, not only in the workers (which a batch of none never starts).
    Runner::<STATE>::new(net).map_err(BatchError::Load)?;
    let len = net.output_len;
    let expected = count.saturating_mul(len);
    let found = out.len();
    let out = out.get_mut(..expected).ok_or(BatchError::Length {
        what: "outputs",
        expected,
        found,
    })?;
    // One slot per window, even for a (hand-built, inconsistent) model
    // that writes nothing: every window still runs and is checked.
    let slots: Vec<&mut [f32]> = match len {
        0 => core::iter::repeat_with(|| &mut [][..])
            .take(count)
            .collect(),
        _ => out.chunks_mut(len).collect(),
    };
    let failed = slots
        .into_par_iter()
        .enumerate()
        .map_init(
            || Runner::<STATE>::new(net),
            |runner, (i, out)| {
                let runner = runner.as_mut().map_err(|e| BatchError::Load(e.clone()))?;
                let (samples, gaps) = window(i);
                match runner.run_window(model, samples, gaps, out) {
                    Ok(_) => Ok(()),
                    Err(error) => Err(BatchError::Run { window: i, error }),
                }
            },
        )
        .find_first(Result::is_err);
    failed.unwrap_or(Ok(()))
}

/// [`run_each`] over windows laid end to end: `samples` as `[i][n][c]`,
/// `gaps` as `[i][n]` (`None`: every gap nominal), `out` as
/// `[i][output_len]`. Returns the number of windows.
pub fn run_windows<'m, L>(
    model: &L,
    samples: &[f32],
    gaps: Option<&[f32]>,
    out: &mut [f32],
) -> Result<usize, BatchError>
where
    L: Layers<'m> + Sync,
{
    let net = model.net();
    let per = net.window_capacity_needed();
    let count = samples.len().checked_div(per).unwrap_or(0);
    let lengths = [
        ("samples", count.saturating_mul(per), Some(samples)),
        ("gaps", count.saturating_mul(net.window), gaps),
    ];
    for (what, expected, given) in lengths {
        match given {
            Some(given) if given.len() != expected => {
                return Err(BatchError::Length {
                    what,
                    expected,
                    found: given.len(),
                })
            }
            _ => {}
        }
    }
    run_each(
        model,
        count,
        |i| {
            (
                slice(samples, per, i),
                gaps.map(|g| slice(g, net.window, i)),
            )
        },
        out,
    )?;
    Ok(count)
}

/// Window `i` of `values` laid out `width` at a time (empty past the end).
fn slice(values: &[f32], width: usize, i: usize) -> &[f32] {
    let start = i.saturating_mul(width);
    values
        .get(start..start.saturating_add(width))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use crate::format::{
        self, Activation, Clock, Header, Layer, Names, SolverKind, SolverSpec, Startup, Task,
    };
    use crate::normalise::Reference;
    use crate::Model;
    use alloc::vec;

    /// A two-channel NAG forecaster with an encoder, window 6, horizon 2,
    /// sub-steps on long gaps; weights from a fixed pseudo-random sequence.
    fn model_bytes() -> Vec<u8> {
        let layer = |inputs, outputs, activation| Layer {
            inputs,
            outputs,
            activation,
        };
        let h = Header {
            task: Task::Forecast { horizon: 2 },
            channels: 2,
            window: 6,
            sample_dt: 1.0,
            mean: heapless::Vec::from_slice(&[0.1, -0.2]).unwrap(),
            std: heapless::Vec::from_slice(&[1.5, 0.7]).unwrap(),
            state_dim: 3,
            encoder: heapless::Vec::from_slice(&[layer(2, 4, Activation::Tanh)]).unwrap(),
            field: heapless::Vec::from_slice(&[
                layer(7, 8, Activation::Tanh),
                layer(8, 3, Activation::Identity),
            ])
            .unwrap(),
            decoder: heapless::Vec::from_slice(&[layer(3, 4, Activation::Identity)]).unwrap(),
            solver: SolverSpec {
                kind: SolverKind::Nag,
                mu: 0.5,
                consistency_scaling: true,
                startup: Startup::Euler,
                max_step: 0.5,
            },
            state_bound: 1e6,
            time_unit: 1.0,
            clock: Clock::Number,
            reference: Reference::LastValue,
        };
        let n = format::weight_count(&h).unwrap();
        let mut state = 0x2545_f491_u32;
        let weights: Vec<f32> = (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        format::encode_to_vec(&h, &weights, &Names::NONE).unwrap()
    }

    /// `count` windows of samples and irregular gaps, laid end to end.
    fn windows(count: usize) -> (Vec<f32>, Vec<f32>) {
        let samples = (0..count * 12)
            .map(|k| ((k * 7 % 23) as f32 * 0.37).sin() * 2.0)
            .collect();
        let gaps = (0..count * 6)
            .map(|k| [1.0, 0.5, 1.7, 1.25][k % 4])
            .collect();
        (samples, gaps)
    }

    /// Outputs in input order and bit-identical to one window at a time,
    /// with and without gaps, over more windows than threads.
    #[test]
    fn batch_equals_one_at_a_time() {
        let bytes = model_bytes();
        let model = Model::from_bytes(&bytes).unwrap();
        let net = model.net();
        let count = 300;
        let (samples, gaps) = windows(count);
        for gaps in [Some(&gaps[..]), None] {
            let mut batch = vec![0f32; count * 4];
            let n = run_windows(&net, &samples, gaps, &mut batch).unwrap();
            assert_eq!(n, count);
            // Another capacity than the batch picks: the bits do not depend on it.
            let mut runner = Runner::<64>::new(&net).unwrap();
            for i in 0..count {
                let mut one = [0f32; 4];
                let g = gaps.map(|g| &g[i * 6..(i + 1) * 6]);
                runner
                    .run_window(&net, &samples[i * 12..(i + 1) * 12], g, &mut one)
                    .unwrap();
                let got = &batch[i * 4..(i + 1) * 4];
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    one.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "window {i}"
                );
            }
            assert!(batch.iter().any(|v| *v != batch[0]), "outputs all equal");
        }
    }

    /// The first failing window in input order is named, whichever thread
    /// meets a failure first; bad lengths and capacities are refused.
    #[test]
    fn errors_name_the_first_failing_window() {
        let bytes = model_bytes();
        let model = Model::from_bytes(&bytes).unwrap();
        let net = model.net();
        let count = 200;
        let (mut samples, gaps) = windows(count);
        for i in [37, 150, 190] {
            samples[i * 12 + 5] = f32::NAN;
        }
        let mut out = vec![0f32; count * 4];
        let err = run_windows(&net, &samples, Some(&gaps), &mut out).unwrap_err();
        assert_eq!(
            err,
            BatchError::Run {
                window: 37,
                error: RunError::NonFiniteSample {
                    sample: 2,
                    channel: 1
                }
            }
        );
        let cases = [
            (
                &samples[..12 * count - 1],
                Some(&gaps[..]),
                4 * count,
                "samples",
            ),
            (&samples[..], Some(&gaps[1..]), 4 * count, "gaps"),
            (&samples[..], None, 4 * count - 1, "outputs"),
        ];
        for (samples, gaps, out_len, what) in cases {
            let err = run_windows(&net, samples, gaps, &mut out[..out_len]).unwrap_err();
            assert!(
                matches!(err, BatchError::Length { what: w, .. } if w == what),
                "{what}: {err}"
            );
        }
        // Wider than any file can ask for: no runner holds it.
        let wide = crate::Net {
            state_dim: MAX_WIDTH + 1,
            ..net
        };
        let err = run_windows(&wide, &samples, None, &mut out).unwrap_err();
        assert!(matches!(err, BatchError::Load(LoadError::Capacity { .. })));
    }
}
