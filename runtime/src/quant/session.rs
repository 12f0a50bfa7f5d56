//! A quantised model bound to a sample ring: the integer counterpart of
//! [`crate::Session`], for a device that streams samples one at a time.

use super::model::QuantNet;
use super::runner::QuantRunner;
use crate::error::{LoadError, RunError};
use crate::net::Net;
use crate::session::SampleRing;

/// Streams samples into a [`QuantRunner`]: `S` as the runner's, `WINDOW`
/// sample values as [`crate::Session`]'s. Same conventions: gaps in the
/// user's units, checked and converted to solver time on [`Self::push`],
/// the window's first gap replaced by the nominal one, a failed push
/// changes nothing. RAM: the runner's plus `8 * WINDOW` bytes.
pub struct QuantSession<'m, const S: usize, const WINDOW: usize> {
    net: QuantNet<'m>,
    ring: SampleRing<WINDOW>,
    runner: QuantRunner<S>,
}

impl<'m, const S: usize, const WINDOW: usize> QuantSession<'m, S, WINDOW> {
    /// A session for `net`; refuses a model wider or longer than the
    /// capacities.
    pub fn new(net: QuantNet<'m>) -> Result<Self, LoadError> {
        Ok(Self {
            ring: SampleRing::new(&net.net)?,
            runner: QuantRunner::new(&net)?,
            net,
        })
    }

    /// The `f32` facts of the model (window, outputs, gaps).
    pub fn net(&self) -> &Net<'m> {
        &self.net.net
    }

    /// The quantised model this session runs.
    pub fn quant_net(&self) -> &QuantNet<'m> {
        &self.net
    }

    /// Samples currently held (at most the model's window).
    pub fn len(&self) -> usize {
        self.ring.len(self.net())
    }

    /// Whether no sample is held.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Whether a full window is held, so [`Self::predict`] can run.
    pub fn is_ready(&self) -> bool {
        self.ring.is_ready(self.net())
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        self.ring.clear();
    }

    /// Appends a sample taken `dt` (user units) after the previous one; the
    /// oldest drops out once the window is full. On error nothing changes.
    pub fn push(&mut self, sample: &[f32], dt: f32) -> Result<(), RunError> {
        self.ring.push(&self.net.net, sample, dt)
    }

    /// Runs the held window from a zero state into `out`; returns the values
    /// written. The held samples are kept.
    pub fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        let r = self.ring.reference(&self.net.net)?;
        let (values, gaps) = self.ring.window();
        self.runner.run(&self.net, values, gaps, &r, out)
    }
}

#[cfg(all(test, feature = "std"))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::format;
    use crate::header::{Activation, Clock, Header, Layer, Names, Task};
    use crate::normalise::Reference;
    use crate::quant::build;
    use crate::quant::model::QuantModel;
    use crate::solver::{SolverKind, SolverSpec, Startup};
    use crate::Model;
    use std::vec::Vec;

    /// A small NAG forecaster with sub-steps and the last-value reference.
    fn file() -> Vec<u8> {
        let layer = |inputs, outputs, activation| Layer {
            inputs,
            outputs,
            activation,
        };
        let header = Header {
            task: Task::Forecast { horizon: 2 },
            channels: 2,
            window: 6,
            sample_dt: 1.0,
            mean: [0.1, -0.2].into_iter().collect(),
            std: [0.9, 1.3].into_iter().collect(),
            state_dim: 3,
            encoder: [layer(2, 3, Activation::Tanh)].into_iter().collect(),
            field: [
                layer(6, 5, Activation::Tanh),
                layer(5, 3, Activation::Identity),
            ]
            .into_iter()
            .collect(),
            decoder: [layer(3, 4, Activation::Identity)].into_iter().collect(),
            solver: SolverSpec {
                kind: SolverKind::Nag,
                mu: 0.6,
                consistency_scaling: true,
                startup: Startup::Euler,
                max_step: 0.7,
            },
            state_bound: 1.0e3,
            time_unit: 0.5,
            clock: Clock::Index,
            reference: Reference::LastValue,
        };
        let count: usize = [(2, 3), (6, 5), (5, 3), (3, 4)]
            .iter()
            .map(|(i, o)| (i + 1) * o)
            .sum();
        let weights: Vec<f32> = (0..count)
            .map(|k| ((k * 37 % 23) as f32 - 11.0) * 0.05)
            .collect();
        let f32_file = format::encode_to_vec(&header, &weights, &Names::NONE).unwrap();
        let model = Model::from_bytes(&f32_file).unwrap();
        let cal = series(200);
        let windows: Vec<&[f32]> = cal.chunks_exact(12).collect();
        build::quantize_to_vec(&model, windows.into_iter()).unwrap()
    }

    fn series(n: usize) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.3).sin() + 0.1).collect()
    }

    /// Pushing samples one by one and predicting gives the bits of
    /// [`QuantRunner::run_window`] on the same window and gaps; a refused
    /// push changes nothing.
    #[test]
    fn streaming_equals_whole_windows_bit_for_bit() {
        let bytes = file();
        let q = QuantModel::from_bytes(&bytes).unwrap();
        let mut session = QuantSession::<8, 12>::new(q.net()).unwrap();
        let mut runner = QuantRunner::<8>::new(&q.net()).unwrap();
        let values = series(40);
        let gaps: Vec<f32> = (0..20).map(|i| [0.5, 0.25, 0.85, 1.1][i % 4]).collect();
        let mut checked = 0;
        for (i, (pair, gap)) in values.chunks_exact(2).zip(&gaps).enumerate() {
            session.push(pair, *gap).unwrap();
            assert!(session.push(&[f32::NAN, 0.0], 0.5).is_err());
            assert!(session.push(pair, -1.0).is_err());
            if i < 5 {
                assert!(matches!(
                    session.predict(&mut [0.0; 4]),
                    Err(RunError::NotReady { .. })
                ));
                continue;
            }
            let (mut a, mut b) = ([0.0f32; 4], [0.0f32; 4]);
            assert_eq!(session.predict(&mut a).unwrap(), 4);
            let start = i - 5;
            runner
                .run_window(
                    &q.net(),
                    &values[2 * start..2 * i + 2],
                    Some(&gaps[start..=i]),
                    &mut b,
                )
                .unwrap();
            assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "sample {i}");
            checked += 1;
        }
        assert_eq!(checked, 15);
    }

    #[test]
    fn refuses_a_window_beyond_its_capacity() {
        let bytes = file();
        let q = QuantModel::from_bytes(&bytes).unwrap();
        assert!(matches!(
            QuantSession::<8, 11>::new(q.net()),
            Err(LoadError::Capacity { what: "WINDOW", .. })
        ));
    }
}
