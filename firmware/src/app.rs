//! The application, free of any board: stream samples from a
//! [`SampleSource`] into a session and report every prediction.

use nagode::build::{Layers, Net};
#[cfg(feature = "flow")]
use nagode::flow::Flow;
#[cfg(feature = "quant")]
use nagode::quant::QuantSession;
#[cfg(feature = "stream")]
use nagode::stream::Stream;
use nagode::{RunError, Session};

use sample_source::SampleSource;

/// Why the application stopped early.
pub enum AppError<E> {
    /// The sample source failed.
    Source(E),
    /// The runtime refused a sample or a prediction.
    Run(RunError),
}

/// What the run did, for the final report.
pub struct Summary {
    /// Samples pushed.
    pub samples: usize,
    /// Predictions made.
    pub predictions: usize,
}

/// A model fed sample by sample, as [`stream`] drives it: the `f32`
/// [`Session`], (feature `quant`) the integer `QuantSession`, (feature
/// `stream`) a streaming model's `Stream` or (feature `flow`) a flow's
/// [`Scorer`].
pub trait Ring<'m> {
    /// The model's facts (window, channels, outputs, nominal gap).
    fn net(&self) -> &Net<'m>;
    /// Appends a sample taken `dt` after the previous one.
    fn push(&mut self, sample: &[f32], dt: f32) -> Result<(), RunError>;
    /// Predicts from what was pushed into `out`; returns the values written.
    fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError>;
    /// The work of one more prediction for a device that predicts after
    /// every sample, which the firmware times: a session re-runs its whole
    /// window (the sample's push is a ring write and is left out); a stream
    /// pushes `sample` and reads the state out.
    fn predict_next(
        &mut self,
        _sample: &[f32],
        _dt: f32,
        out: &mut [f32],
    ) -> Result<usize, RunError> {
        self.predict(out)
    }
}

impl<'m, L: Layers<'m>, const STATE: usize, const WINDOW: usize, const DIM: usize> Ring<'m>
    for Session<'m, STATE, WINDOW, DIM, L>
{
    fn net(&self) -> &Net<'m> {
        Session::net(self)
    }
    fn push(&mut self, sample: &[f32], dt: f32) -> Result<(), RunError> {
        Session::push(self, sample, dt)
    }
    fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        Session::predict(self, out)
    }
}

#[cfg(feature = "quant")]
impl<'m, const STATE: usize, const WINDOW: usize> Ring<'m> for QuantSession<'m, STATE, WINDOW> {
    fn net(&self) -> &Net<'m> {
        QuantSession::net(self)
    }
    fn push(&mut self, sample: &[f32], dt: f32) -> Result<(), RunError> {
        QuantSession::push(self, sample, dt)
    }
    fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        QuantSession::predict(self, out)
    }
}

#[cfg(feature = "stream")]
impl<'m, L: Layers<'m>, const STATE: usize, const DIM: usize> Ring<'m>
    for Stream<'m, STATE, DIM, L>
{
    fn net(&self) -> &Net<'m> {
        Stream::net(self)
    }
    fn push(&mut self, sample: &[f32], dt: f32) -> Result<(), RunError> {
        Stream::push(self, sample, dt)
    }
    fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        Stream::predict(self, out)
    }
    fn predict_next(
        &mut self,
        sample: &[f32],
        dt: f32,
        out: &mut [f32],
    ) -> Result<usize, RunError> {
        Stream::push(self, sample, dt)?;
        Stream::predict(self, out)
    }
}

/// A flow's anomaly score over a 1-channel series (feature `flow`): a
/// prediction is `Flow::score` of the last two samples pushed, raw when the
/// file stores its scaling (format 7; then a second output, the verdict
/// against its threshold: 1 anomaly, 0 normal), else of the point
/// `replay_data::flow_point(previous, current)`; the gaps play no part.
#[cfg(feature = "flow")]
pub struct Scorer<'m, const STATE: usize, const DIM: usize> {
    flow: Flow<'m, STATE, DIM>,
    net: Net<'m>,
    /// The last two samples, oldest first.
    last: [f32; 2],
}

#[cfg(feature = "flow")]
impl<'m, const STATE: usize, const DIM: usize> Scorer<'m, STATE, DIM> {
    /// A scorer for the flow `net` evaluates with `flow`.
    pub fn new(flow: Flow<'m, STATE, DIM>, net: Net<'m>) -> Self {
        Self {
            flow,
            net,
            last: [0.0; 2],
        }
    }
}

#[cfg(feature = "flow")]
impl<'m, const STATE: usize, const DIM: usize> Ring<'m> for Scorer<'m, STATE, DIM> {
    fn net(&self) -> &Net<'m> {
        &self.net
    }
    fn push(&mut self, sample: &[f32], _dt: f32) -> Result<(), RunError> {
        let [_, current] = self.last;
        let Some(&x) = sample.first() else {
            return Err(RunError::SampleLength {
                expected: 1,
                found: 0,
            });
        };
        self.last = [current, x];
        Ok(())
    }
    fn predict(&mut self, out: &mut [f32]) -> Result<usize, RunError> {
        let [previous, current] = self.last;
        let point = match self.flow.threshold() {
            Some(_) => self.last,
            None => crate::replay_data::flow_point(previous, current),
        };
        let score = self.flow.score(&point)?;
        let verdict = self.flow.is_anomaly(score).map(|v| f32::from(u8::from(v)));
        let mut n = 0;
        for (slot, value) in out.iter_mut().zip(core::iter::once(score).chain(verdict)) {
            *slot = value;
            n += 1;
        }
        Ok(n)
    }
}

/// Pushes every sample of `source` into `session` (gaps as the source says);
/// predicts whenever `schedule(samples pushed, window)` says so and hands
/// `(index of the newest sample, outputs)` to `report`.
pub fn stream<'m, S: SampleSource>(
    session: &mut impl Ring<'m>,
    source: &mut S,
    schedule: impl Fn(usize, usize) -> bool,
    out: &mut [f32],
    mut report: impl FnMut(usize, &[f32]),
) -> Result<Summary, AppError<S::Error>> {
    let window = session.net().window;
    let mut sample = [0.0f32; nagode::format::MAX_CHANNELS];
    let channels = session.net().channels.min(sample.len());
    let sample = sample.get_mut(..channels).unwrap_or_default();
    let mut summary = Summary {
        samples: 0,
        predictions: 0,
    };
    while let Some(gap) = source.read(sample).map_err(AppError::Source)? {
        session.push(sample, gap).map_err(AppError::Run)?;
        summary.samples += 1;
        if schedule(summary.samples, window) {
            let written = session.predict(out).map_err(AppError::Run)?;
            report(summary.samples - 1, out.get(..written).unwrap_or(out));
            summary.predictions += 1;
        }
    }
    Ok(summary)
}

/// Index of the largest logit (the first on ties; NaN never wins), or
/// `None` for no values.
pub fn top_class(logits: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, v) in logits.iter().copied().enumerate() {
        let better = match best {
            Some((_, b)) => v > b,
            None => !v.is_nan(),
        };
        if better {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}
