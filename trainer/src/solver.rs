//! Solver choice and the integration plan of a batch: how each sample gap is
//! cut into sub-steps, the step sizes, and the NAG velocity rescaling. The
//! rules themselves (Butcher tableaux, the sub-step count, NAG's step size)
//! come from `nagode::solver`, so the trainer integrates exactly what the
//! runtime integrates.

use crate::tensor::M;
use dfdx::prelude::*;
use nagode::format::{SolverKind, SolverSpec, Startup};

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
    /// Evaluations of the field per solver step.
    pub fn evals_per_step(self) -> usize {
        match self {
            SolverChoice::Nag | SolverChoice::Euler | SolverChoice::Resnet => 1,
            SolverChoice::Midpoint => 2,
            SolverChoice::Rk4 => 4,
        }
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
    /// `a[i][j]` rounded to f32 as the runtime's f32 solver rounds it.
    pub fn a(&self, i: usize, j: usize) -> f32 {
        self.0.a[i][j] as f32
    }
    /// `b[i]` rounded to f32.
    pub fn b(&self, i: usize) -> f32 {
        self.0.b[i] as f32
    }
}

/// The tableau of an explicit RK method, read from the runtime's definition.
pub fn tableau(kind: SolverChoice) -> Option<Tableau> {
    rules::tableau(kind)
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
    let mut out = Plan::default();
    if cfg.kind == SolverChoice::Resnet {
        out.samples = vec![Vec::new(); window];
        out.evals = window;
        return Ok(out);
    }
    let rows = |vals: &[f32]| -> Coef {
        if vals.iter().all(|&x| x == vals[0]) {
            Coef::Scalar(vals[0])
        } else {
            let mut m = Vec::with_capacity(batch * d);
            for &v in vals {
                m.extend(std::iter::repeat_n(v, d));
            }
            Coef::Rows(dev.tensor_from_vec(m, (batch, d)))
        }
    };
    let mut h_prev: Vec<Option<f32>> = vec![None; batch];
    let mut first = true;
    for n in 0..window {
        let mut counts = Vec::with_capacity(batch);
        let mut sizes = Vec::with_capacity(batch);
        for b in 0..batch {
            let g = gaps[b * window + n];
            let model_gap = nagode::solver::model_gap(g, cfg.time_unit);
            let (m, h) =
                rules::substeps(model_gap, cfg.max_step).map_err(|reason| PlanError::Gap {
                    sample: n,
                    gap: g,
                    reason,
                })?;
            counts.push(m);
            sizes.push(h);
        }
        let steps = counts.iter().copied().max().unwrap_or(1);
        let mut stages = Vec::with_capacity(steps);
        for j in 0..steps {
            let active: Vec<bool> = counts.iter().map(|&m| j < m).collect();
            let all_active = active.iter().all(|&a| a);
            let hs: Vec<f32> = (0..batch)
                .map(|b| if active[b] { sizes[b] } else { 0.0 })
                .collect();
            match tableau(cfg.kind) {
                Some(t) => stages.push(Stage::Rk {
                    tableau: t,
                    h: rows(&hs),
                }),
                None => {
                    let startup = first && cfg.startup_euler;
                    let factors: Vec<f32> = (0..batch)
                        .map(|b| match (active[b], h_prev[b]) {
                            (true, Some(old)) => rules::velocity_rescale(old, sizes[b]),
                            _ => 1.0,
                        })
                        .collect();
                    let rescale = if factors.iter().all(|&f| f == 1.0) {
                        None
                    } else {
                        Some(rows(&factors))
                    };
                    let gh: Vec<f32> = (0..batch)
                        .map(|b| {
                            if !active[b] {
                                0.0
                            } else if startup {
                                sizes[b]
                            } else {
                                rules::nag_h(cfg.mu, cfg.consistency, sizes[b])
                            }
                        })
                        .collect();
                    let (vcoef, mask) = if all_active {
                        (None, None)
                    } else {
                        let vc: Vec<f32> = active
                            .iter()
                            .map(|&a| if a { cfg.mu } else { 1.0 })
                            .collect();
                        let mk: Vec<f32> =
                            active.iter().map(|&a| if a { 1.0 } else { 0.0 }).collect();
                        let mut mask = Vec::with_capacity(batch * d);
                        for v in mk {
                            mask.extend(std::iter::repeat_n(v, d));
                        }
                        (Some(rows(&vc)), Some(dev.tensor_from_vec(mask, (batch, d))))
                    };
                    stages.push(Stage::Nag {
                        rescale,
                        vcoef,
                        h: rows(&gh),
                        active: mask,
                    });
                }
            }
            for b in 0..batch {
                if active[b] {
                    h_prev[b] = Some(sizes[b]);
                }
            }
            first = false;
        }
        out.evals += steps * cfg.kind.evals_per_step();
        out.samples.push(stages);
    }
    Ok(out)
}

/// The solver rules, defined once in the runtime.
mod rules {
    use super::{SolverChoice, Tableau};
    use nagode::solver::{EULER, MIDPOINT, RK4};

    pub fn tableau(kind: SolverChoice) -> Option<Tableau> {
        match kind {
            SolverChoice::Euler => Some(Tableau(&EULER)),
            SolverChoice::Midpoint => Some(Tableau(&MIDPOINT)),
            SolverChoice::Rk4 => Some(Tableau(&RK4)),
            SolverChoice::Nag | SolverChoice::Resnet => None,
        }
    }

    /// `(m, H)`: the runtime's sub-step rule.
    pub fn substeps(gap: f32, max_step: f32) -> Result<(usize, f32), String> {
        nagode::solver::substeps(gap, max_step)
            .map(|(m, h)| (m as usize, h))
            .map_err(|e| e.to_string())
    }

    /// NAG's gradient step `h` for a step `H` (the runtime's rule).
    pub fn nag_h(mu: f32, consistency: bool, h: f32) -> f32 {
        if consistency {
            (1.0 - mu) * h
        } else {
            h
        }
    }

    /// The runtime's velocity rescale before a step of `new` after one of `old`.
    pub fn velocity_rescale(old: f32, new: f32) -> f32 {
        if old == new {
            1.0
        } else {
            new / old
        }
    }
}
