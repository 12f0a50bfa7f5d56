//! The bound on the work `predict` and `eval` take on. A model file may ask
//! per window for up to 4096 samples × 4096 sub-steps per gap
//! ([`nagode::solver::MAX_SUBSTEPS`]) × 4 field evaluations through layers
//! up to 1024 wide: hours of computing from one hostile or absurd file. Both
//! commands count the multiply-adds the run needs, with the CSV's real gaps,
//! and refuse above a limit before running anything.

use crate::data::{Table, Windows};
use crate::error::AppError;
use nagode::build::Dense;
use nagode::solver::{model_gap, substeps};
use nagode::Model;
use std::path::Path;

/// Default limit on the multiply-adds of one run: at about 1 ns per
/// multiply-add (the runtime's scalar f32 loops on this machine) 1e11 is
/// about two minutes, while the trainer's own models on long CSVs stay
/// orders of magnitude below it (the default forecaster takes about 1e5 per
/// window).
pub const DEFAULT_MAX_WORK: u64 = 100_000_000_000;

/// The `--max-work` value: a whole number, plain or like `1e12`.
pub fn parse_limit(s: &str) -> Result<u64, String> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    match s.parse::<f64>() {
        // Saturates above u64::MAX: "no limit" in effect.
        Ok(x) if x >= 0.0 && x.fract() == 0.0 => Ok(x as u64),
        _ => Err(format!("`{s}` is not a whole number of multiply-adds")),
    }
}

/// What a run asks of the runtime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Predictions (windows run).
    pub windows: u64,
    /// Multiply-adds over all of them (saturating).
    pub macs: u64,
    /// Multiply-adds of the costliest window.
    pub worst: u64,
}

/// The multiply-adds of one layer pass.
fn layer_macs(layers: &[Dense<'_>]) -> u64 {
    layers
        .iter()
        .map(|l| (l.inputs as u64).saturating_mul(l.outputs as u64))
        .fold(0, u64::saturating_add)
}

/// One model's costs: what a window takes given its sub-step total.
struct Cost<'m> {
    model: &'m Model<'m>,
    /// Sub-steps of a window's first sample (always the nominal gap).
    first: u64,
}

impl<'m> Cost<'m> {
    fn new(model: &'m Model<'m>) -> Self {
        let h = model.header();
        let first = substeps(h.sample_dt, h.solver.max_step).map_or(0, |(m, _)| u64::from(m));
        Self { model, first }
    }

    /// Sub-steps of a gap in the user's units; a gap the runtime refuses
    /// counts 0 (the run stops there with its own error).
    fn steps(&self, gap: f32) -> u64 {
        let h = self.model.header();
        substeps(model_gap(gap, h.time_unit), h.solver.max_step).map_or(0, |(m, _)| u64::from(m))
    }

    /// Multiply-adds of a window whose later samples take `steps` sub-steps.
    fn window(&self, steps: u64) -> u64 {
        let m = self.model;
        let evals = steps
            .saturating_add(self.first)
            .saturating_mul(u64::from(m.evals_per_step()));
        let encoder = (m.window() as u64).saturating_mul(layer_macs(m.encoder()));
        evals
            .saturating_mul(layer_macs(m.field()))
            .saturating_add(encoder)
            .saturating_add(layer_macs(m.decoder()))
    }

    fn add(&self, work: &mut Work, steps: u64) {
        let macs = self.window(steps);
        work.windows += 1;
        work.macs = work.macs.saturating_add(macs);
        work.worst = work.worst.max(macs);
    }
}

/// The gap before sample `n` of a series streamed through a session, in the
/// user's units (the first sample's is the model's nominal gap).
pub fn stream_gap(model: &Model<'_>, times: &[f64], n: usize) -> f32 {
    match n.checked_sub(1) {
        Some(p) => (times[n] - times[p]) as f32,
        None => model.nominal_gap(),
    }
}

/// The work of streaming every series of `table` (`predict`): one
/// prediction per full window, each over that window's real gaps.
pub fn of_stream(model: &Model<'_>, table: &Table) -> Work {
    let cost = Cost::new(model);
    let window = model.window();
    let mut work = Work::default();
    for s in &table.series {
        // before[n]: sub-steps of samples 1..n (a window's first is nominal).
        let mut before = vec![0u64; s.times.len() + 1];
        for n in 1..s.times.len() {
            before[n + 1] = before[n] + cost.steps(stream_gap(model, &s.times, n));
        }
        for end in window..=s.times.len() {
            cost.add(&mut work, before[end] - before[end + 1 - window]);
        }
    }
    work
}

/// The work of running every window of `w` (`eval`).
pub fn of_windows(model: &Model<'_>, w: &Windows) -> Work {
    let cost = Cost::new(model);
    let mut work = Work::default();
    for gaps in w.gaps.chunks(model.window().max(1)) {
        let steps = gaps.iter().skip(1).map(|g| cost.steps(*g)).sum();
        cost.add(&mut work, steps);
    }
    work
}

/// Refuses `work` above `limit`, naming the model, what it asks and the flag.
pub fn check(model: &Path, work: Work, limit: u64) -> Result<(), AppError> {
    if work.macs <= limit {
        return Ok(());
    }
    Err(AppError::Usage(format!(
        "{}: this run takes {} multiply-adds ({:.1e}; {} windows, up to {:.1e} each), above the limit of {limit} ({:.1e}); raise it with --max-work if you mean it",
        model.display(),
        work.macs,
        work.macs as f64,
        work.windows,
        work.worst as f64,
        limit as f64,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_plain_or_scientific() {
        assert_eq!(parse_limit("123"), Ok(123));
        assert_eq!(parse_limit("1e12"), Ok(1_000_000_000_000));
        assert!(parse_limit("-1").is_err());
        assert!(parse_limit("1.5").is_err());
        assert!(parse_limit("lots").is_err());
    }
}
