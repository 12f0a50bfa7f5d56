//! Solver choice and the integration plan of a batch: how each sample gap is
//! cut into sub-steps, the step sizes, and the NAG velocity rescaling. Every
//! rule (Butcher tableaux, evaluations per step, the gap conversion and
//! sub-step count, NAG's gradient step and velocity rescale) is called from
//! `nagode::solver`, never restated here, so the trainer integrates exactly
//! what the runtime integrates.

use crate::engine::tensor::M;
use dfdx::prelude::*;
use nagode::solver::{model_gap, nag_h, substeps, velocity_rescale};
use nagode::solver::{SolverKind, SolverSpec, Startup};

/// Every method the trainer can train with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SolverChoice {
    /// Nesterov-accelerated first-order method (the seed paper's).
    Nag,
    /// Forward Euler.
    Euler,
    /// Explicit midpoint.
    Midpoint,
    /// Classic RK4.
    Rk4,
    /// ResNet baseline: the same field shape, separate weights per sample, no ODE.
    Resnet,
}

impl SolverChoice {
    /// The runtime's kind, or `None` for the ResNet (it has no model file).
    pub fn kind(self) -> Option<SolverKind> {
        match self {
            SolverChoice::Nag => Some(SolverKind::Nag),
            SolverChoice::Euler => Some(SolverKind::Euler),
            SolverChoice::Midpoint => Some(SolverKind::Midpoint),
            SolverChoice::Rk4 => Some(SolverKind::Rk4),
            SolverChoice::Resnet => None,
        }
    }
    /// Evaluations of the field per solver step (the runtime's count; the
    /// ResNet runs its block once per sample).
    pub fn evals_per_step(self) -> usize {
        self.kind()
            .map_or(1, |k| nagode::solver::evals_per_step(k) as usize)
    }
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            SolverChoice::Nag => "nag",
            SolverChoice::Euler => "euler",
            SolverChoice::Midpoint => "midpoint",
            SolverChoice::Rk4 => "rk4",
            SolverChoice::Resnet => "resnet",
        }
    }
}

/// The solver with its knobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SolverCfg {
    /// The method.
    pub kind: SolverChoice,
    /// NAG momentum.
    pub mu: f32,
    /// NAG consistency scaling `h = (1 - mu) H`.
    pub consistency: bool,
    /// NAG Euler start-up step.
    pub startup_euler: bool,
    /// Longest step, in solver time.
    pub max_step: f32,
    /// User time per unit of solver time: gaps are given in the user's
    /// units and converted with `nagode::solver::model_gap`.
    pub time_unit: f32,
}

impl SolverCfg {
    /// The model-file solver spec (the ResNet has none).
    pub fn spec(&self) -> Option<SolverSpec> {
        Some(SolverSpec {
            kind: self.kind.kind()?,
            mu: self.mu,
            consistency_scaling: self.consistency,
            startup: if self.startup_euler {
                Startup::Euler
            } else {
                Startup::ZeroVelocity
            },
            max_step: self.max_step,
        })
    }
}

/// An explicit Butcher tableau: the runtime's constant.
#[derive(Clone, Copy, Debug)]
pub struct Tableau(pub &'static nagode::solver::Tableau);

impl Tableau {
    /// Stages (evaluations per step).
    pub fn stages(&self) -> usize {
        self.0.stages
    }
    /// `a[i][j]` in f32: the very constant the runtime's f32 solver uses.
    pub fn a(&self, i: usize, j: usize) -> f32 {
        self.0.f32.a[i][j]
    }
    /// `b[i]` in f32.
    pub fn b(&self, i: usize) -> f32 {
        self.0.f32.b[i]
    }
}

/// The tableau of an explicit RK method, read from the runtime's definition.
pub fn tableau(kind: SolverChoice) -> Option<Tableau> {
    kind.kind().and_then(nagode::solver::tableau).map(Tableau)
}

/// A step-size coefficient: one value for the whole batch, or one per row
/// (irregular gaps), pre-broadcast to `(B, D)`.
#[derive(Clone, Debug)]
pub enum Coef {
    /// The same for every row.
    Scalar(f32),
    /// One value per row, as a `(B, D)` matrix.
    Rows(M),
}

impl Coef {
    /// `c * s`.
    pub fn times(&self, s: f32) -> Coef {
        match self {
            Coef::Scalar(c) => Coef::Scalar(c * s),
            Coef::Rows(r) => Coef::Rows(r.clone() * s),
        }
    }
}

/// One solver step of the plan.
#[derive(Clone, Debug)]
pub enum Stage {
    /// A NAG step.
    Nag {
        /// Velocity rescale `H_new / H_old` before the step, if any row changes step.
        rescale: Option<Coef>,
        /// Velocity coefficient when rows differ (inactive rows keep `v`: 1; active: mu).
        vcoef: Option<Coef>,
        /// The gradient step `h` (0 on inactive rows); the full `H` for the Euler start-up.
        h: Coef,
        /// Row mask (1 active, 0 inactive) when rows differ.
        active: Option<M>,
    },
    /// An explicit RK step of size `h` (0 on inactive rows).
    Rk {
        /// The method.
        tableau: Tableau,
        /// The step size.
        h: Coef,
    },
}

/// The whole integration plan of a batch: the steps of each sample's gap.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// `samples[n]`: the steps integrating over gap n.
    pub samples: Vec<Vec<Stage>>,
    /// Field evaluations per window (for one row with the most sub-steps).
    pub evals: usize,
    /// Each row's last step `H`: where the next chunk of a stream carries on.
    pub last_h: Vec<Option<f32>>,
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A gap the runtime would refuse.
    #[error("gap {gap} at sample {sample}: {reason}")]
    Gap {
        /// Sample index in the window.
        sample: usize,
        /// The gap.
        gap: f32,
        /// The runtime's reason.
        reason: String,
    },
}

/// Builds the plan for `batch` windows of `window` samples with gaps
/// `gaps[b][n]` (row-major, in the user's time units), state dimension `d`.
pub fn plan(
    cfg: &SolverCfg,
    gaps: &[f32],
    batch: usize,
    window: usize,
    d: usize,
    dev: &Cpu,
) -> Result<Plan, PlanError> {
    plan_after(cfg, gaps, batch, window, d, dev, None)
}

/// [`plan`] for a chunk of streams: after `previous` (each row's last step
/// `H` in the chunk before, [`Plan::last_h`]) the state and velocity are
/// carried, so there is no start-up step and NAG's velocity is rescaled
/// against the previous chunk's step, as the runtime's stream does.
pub fn plan_after(
    cfg: &SolverCfg,
    gaps: &[f32],
    batch: usize,
    window: usize,
    d: usize,
    dev: &Cpu,
    previous: Option<&[Option<f32>]>,
) -> Result<Plan, PlanError> {
    if cfg.kind == SolverChoice::Resnet {
        return Ok(Plan {
            samples: vec![Vec::new(); window],
            evals: window,
            last_h: Vec::new(),
        });
    }
    let rows = Rows { batch, d, dev };
    let mut out = Plan::default();
    // Each row's previous step `H`, for NAG's velocity rescale.
    let mut h_prev: Vec<Option<f32>> = previous.map_or_else(|| vec![None; batch], <[_]>::to_vec);
    for n in 0..window {
        let (counts, sizes) = sample_substeps(cfg, gaps, batch, window, n)?;
        let steps = counts.iter().copied().max().unwrap_or(1);
        let mut stages = Vec::with_capacity(steps);
        for j in 0..steps {
            let active: Vec<bool> = counts.iter().map(|&m| j < m).collect();
            stages.push(match tableau(cfg.kind) {
                Some(tableau) => Stage::Rk {
                    tableau,
                    h: rows.coef(&active_or_zero(&active, &sizes, |h| h)),
                },
                None => {
                    let startup = n == 0 && j == 0 && cfg.startup_euler && previous.is_none();
                    nag_stage(cfg, &rows, &active, &sizes, &h_prev, startup)
                }
            });
            for ((prev, &a), &h) in h_prev.iter_mut().zip(&active).zip(&sizes) {
                if a {
                    *prev = Some(h);
                }
            }
        }
        out.evals += steps * cfg.kind.evals_per_step();
        out.samples.push(stages);
    }
    out.last_h = h_prev;
    Ok(out)
}

/// Every row's `(m, H)` for the gap before sample `n`: the runtime's gap
/// conversion and sub-step rule.
fn sample_substeps(
    cfg: &SolverCfg,
    gaps: &[f32],
    batch: usize,
    window: usize,
    n: usize,
) -> Result<(Vec<usize>, Vec<f32>), PlanError> {
    gaps.chunks(window)
        .take(batch)
        .map(|row| {
            let gap = row[n];
            substeps(model_gap(gap, cfg.time_unit), cfg.max_step)
                .map(|(m, h)| (m as usize, h))
                .map_err(|e| PlanError::Gap {
                    sample: n,
                    gap,
                    reason: e.to_string(),
                })
        })
        .collect()
}

/// `f(H)` on active rows, 0 on inactive ones (their state does not move).
fn active_or_zero(active: &[bool], sizes: &[f32], f: impl Fn(f32) -> f32) -> Vec<f32> {
    active
        .iter()
        .zip(sizes)
        .map(|(&a, &h)| if a { f(h) } else { 0.0 })
        .collect()
}

/// One NAG step: the runtime's velocity rescale against each row's previous
/// step, its gradient step `h` (the full `H` for the Euler start-up), and
/// the velocity coefficient and row mask when some rows sit this step out.
fn nag_stage(
    cfg: &SolverCfg,
    rows: &Rows<'_>,
    active: &[bool],
    sizes: &[f32],
    h_prev: &[Option<f32>],
    startup: bool,
) -> Stage {
    let factors: Vec<f32> = active
        .iter()
        .zip(sizes)
        .zip(h_prev)
        .map(|((&a, &h), prev)| match (a, prev) {
            (true, Some(old)) => velocity_rescale(*old, h),
            _ => 1.0,
        })
        .collect();
    let rescale = (!factors.iter().all(|&f| f == 1.0)).then(|| rows.coef(&factors));
    let h = active_or_zero(active, sizes, |h| {
        if startup {
            h
        } else {
            nag_h(cfg.mu, cfg.consistency, h)
        }
    });
    let (vcoef, mask) = if active.iter().all(|&a| a) {
        (None, None)
    } else {
        let vc: Vec<f32> = active
            .iter()
            .map(|&a| if a { cfg.mu } else { 1.0 })
            .collect();
        let mk: Vec<f32> = active.iter().map(|&a| if a { 1.0 } else { 0.0 }).collect();
        (Some(rows.coef(&vc)), Some(rows.matrix(&mk)))
    };
    Stage::Nag {
        rescale,
        vcoef,
        h: rows.coef(&h),
        active: mask,
    }
}

/// Per-row values of a `batch x d` state as plan coefficients.
struct Rows<'a> {
    batch: usize,
    d: usize,
    dev: &'a Cpu,
}

impl Rows<'_> {
    /// A scalar when every row agrees, else the `(B, D)` matrix.
    fn coef(&self, vals: &[f32]) -> Coef {
        match vals.first() {
            Some(&v0) if vals.iter().all(|&x| x == v0) => Coef::Scalar(v0),
            _ => Coef::Rows(self.matrix(vals)),
        }
    }

    /// Each row's value repeated over the `d` columns.
    fn matrix(&self, vals: &[f32]) -> M {
        let m = vals
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, self.d))
            .collect();
        self.dev.tensor_from_vec(m, (self.batch, self.d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nag_cfg() -> SolverCfg {
        SolverCfg {
            kind: SolverChoice::Nag,
            mu: 0.5,
            consistency: true,
            startup_euler: true,
            max_step: 1.0,
            time_unit: 1.0,
        }
    }

    /// The runtime's rule for a subnormal gap followed by a normal one
    /// (defect 6): the velocity factor is 0, not inf.
    #[test]
    fn subnormal_gap_restarts_the_velocity() {
        let gaps = [1.0, f32::from_bits(1), 1.0];
        let p = plan(&nag_cfg(), &gaps, 1, 3, 2, &Cpu::default()).unwrap();
        let factor = |n: usize| match &p.samples[n][0] {
            Stage::Nag { rescale, .. } => rescale.clone(),
            Stage::Rk { .. } => panic!("NAG plan"),
        };
        assert!(factor(0).is_none());
        assert!(matches!(factor(1), Some(Coef::Scalar(f)) if f == f32::from_bits(1)));
        assert!(matches!(factor(2), Some(Coef::Scalar(f)) if f == 0.0));
    }

    #[test]
    fn evals_per_step_is_the_runtimes() {
        assert_eq!(SolverChoice::Rk4.evals_per_step(), 4);
        assert_eq!(SolverChoice::Midpoint.evals_per_step(), 2);
        assert_eq!(SolverChoice::Nag.evals_per_step(), 1);
        assert_eq!(SolverChoice::Resnet.evals_per_step(), 1);
        assert!(tableau(SolverChoice::Nag).is_none());
        assert_eq!(tableau(SolverChoice::Rk4).map(|t| t.stages()), Some(4));
    }
}
