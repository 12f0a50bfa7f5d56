//! Fixed-step solvers: explicit Runge-Kutta from Butcher tableaux, and the
//! Nesterov-accelerated (NAG) first-order method.
//!
//! # NAG — our reconstruction
//!
//! The seed paper (arXiv 2312.01657, "On Tuning Neural ODE for Stability,
//! Consistency and Faster Convergence") proposes a first-order Nesterov
//! accelerated-gradient based ODE solver. Its full text was not available to
//! us; what follows is **our reconstruction from the abstract**, not the
//! paper's own equations.
//!
//! For `dy/dt = f(t, y)` on a grid `t_n = t_0 + nH`, momentum `mu in [0, 1)`:
//!
//! ```text
//! z_n     = y_n + mu v_n                 look-ahead point, 1 evaluation of f
//! v_{n+1} = mu v_n + h f(t_n, z_n)
//! y_{n+1} = y_n + v_{n+1}
//! ```
//!
//! * `h = (1 - mu) H` with consistency scaling (the default), else `h = H`.
//! * Two-step form: `y_{n+1} = y_n + mu (y_n - y_{n-1}) + h f(y_n + mu (y_n - y_{n-1}))`,
//!   a linear multistep method with `rho(z) = (z - 1)(z - mu)`: zero-stable
//!   for `|mu| < 1`, consistent (order 1) exactly when `h = (1 - mu) H`.
//!   `mu = 0` is forward Euler, bit for bit.
//! * Linear stability on `y' = lambda y`, `lambda < 0` real: with
//!   `c = 1 + (1 - mu) H lambda` the characteristic polynomial is
//!   `z^2 - (1 + mu) c z + mu c`; its roots stay in the unit disc iff
//!   `H |lambda| < 2 (1 + mu) / ((1 - mu)(1 + 2 mu))` (2 at `mu = 0`, 3 at
//!   0.5, 13.6 at 0.9). The tests find this bound numerically too.
//! * Error constant `C(mu) = (1 - mu + 2 mu^2) / (2 (1 - mu))` (Euler: 1/2).
//! * Start-up ([`Startup`]): `v_0 = 0`, or one Euler step
//!   `y_1 = y_0 + H f(y_0)`, `v_1 = y_1 - y_0`.
//! * Step-size change (irregular sample gaps): before a step of size `H_new`
//!   following one of size `H_old != H_new`, the velocity is rescaled
//!   `v <- v * (H_new / H_old)` (the ratio is computed first, then one
//!   multiply per component), so `v` stays "displacement per step". When the
//!   ratio is not finite (`H_old` subnormal or tiny, `H_new` normal) the
//!   velocity restarts from zero instead ([`velocity_rescale`] returns 0).
//!
//! # One home
//!
//! Every fact about a method lives here and nowhere else: [`SolverKind`] and
//! its [`tableau`], [`evals_per_step`], NAG's gradient step [`nag_h`] and
//! [`velocity_rescale`], [`substeps`] and [`model_gap`]. The runtime's
//! solvers, [`crate::Model`] and the trainer's integration plan all call
//! these functions, so the trainer integrates exactly what the runtime does.
//!
//! # Sub-steps
//!
//! [`substeps`] cuts a gap `g` into `m = max(1, ceil(g / max_step - 1e-4))`
//! equal steps `H = g / m`; the `1e-4` keeps a gap a hair above a multiple of
//! `max_step` (float noise) from costing one extra step. The trainer calls
//! the same function.

use crate::error::RunError;
use serde::{Deserialize, Serialize};

/// Which fixed-step method integrates the field.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SolverKind {
    /// Forward Euler ([`EULER`]).
    Euler,
    /// Explicit midpoint ([`MIDPOINT`]).
    Midpoint,
    /// Classic fourth-order Runge-Kutta ([`RK4`]).
    Rk4,
    /// Nesterov-accelerated first-order method ([`Nag`]).
    Nag,
}

/// How NAG starts: the velocity before the first step.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Startup {
    /// `v_0 = 0`.
    ZeroVelocity,
    /// The first step is a plain Euler step; its displacement is `v_1`.
    Euler,
}

/// The solver and its tuning knobs, stored with the model.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct SolverSpec {
    /// The method.
    pub kind: SolverKind,
    /// NAG momentum in `[0, 1)`; ignored by the other methods.
    pub mu: f32,
    /// NAG consistency scaling `h = (1 - mu) H`.
    pub consistency_scaling: bool,
    /// NAG start-up.
    pub startup: Startup,
    /// Longest step `H` (solver time units): a gap is cut into
    /// `max(1, ceil(gap / max_step - 1e-4))` equal sub-steps ([`substeps`]).
    pub max_step: f32,
}

/// The Butcher tableau of an explicit Runge-Kutta method; `None` for NAG.
pub fn tableau(kind: SolverKind) -> Option<&'static Tableau> {
    match kind {
        SolverKind::Euler => Some(&EULER),
        SolverKind::Midpoint => Some(&MIDPOINT),
        SolverKind::Rk4 => Some(&RK4),
        SolverKind::Nag => None,
    }
}

/// Evaluations of `f` NAG makes per step (its look-ahead point).
const NAG_EVALS_PER_STEP: u32 = 1;

/// Evaluations of `f` per step of a method: a tableau's stages, 1 for NAG.
pub fn evals_per_step(kind: SolverKind) -> u32 {
    tableau(kind).map_or(NAG_EVALS_PER_STEP, |t| {
        u32::try_from(t.stages).unwrap_or(u32::MAX)
    })
}

/// NAG's gradient step `h` for a step `H`: `(1 - mu) H` with consistency
/// scaling (the consistent, order-1 choice), else `H`.
pub fn nag_h<T: Real>(mu: T, consistency_scaling: bool, h_big: T) -> T {
    if consistency_scaling {
        (T::ONE - mu) * h_big
    } else {
        h_big
    }
}

/// The factor NAG multiplies its velocity by before a step of `h_new`
/// following one of `h_old`: 1 when they are equal, else `h_new / h_old`,
/// so `v` stays "displacement per step".
///
/// When that ratio is not finite (a subnormal or tiny `h_old` followed by a
/// normal `h_new`: `2^-149` then `1` gives `inf`) the factor is 0: the
/// velocity restarts from zero. A step that small moved the state by less
/// than its rounding, so its velocity carries no usable momentum, while
/// `v * inf` would be `inf` or NaN (`0 * inf`) and end a valid stream in
/// [`RunError::Diverged`]. Restarting keeps every positive finite gap
/// valid, needs no smallest-gap rule, and is a plain multiply the trainer
/// differentiates through the same way.
pub fn velocity_rescale<T: Real>(h_old: T, h_new: T) -> T {
    if h_old == h_new {
        return T::ONE;
    }
    let ratio = h_new / h_old;
    if ratio.is_finite() {
        ratio
    } else {
        T::ZERO
    }
}

/// Most sub-steps one gap may be cut into.
pub const MAX_SUBSTEPS: u32 = 4096;

/// A gap in the user's time units (the `t` column's units, seconds for
/// date-times) as solver time: `gap / time_unit`, where `time_unit` is the
/// user time one unit of solver time stands for (the model file's
/// `time_unit`, the training data's nominal gap). Every gap the runtime is
/// given goes through here before [`substeps`]; the trainer calls it too.
#[inline]
pub fn model_gap(gap: f32, time_unit: f32) -> f32 {
    gap / time_unit
}

/// Cuts a gap into equal sub-steps no longer than `max_step` (see the module
/// docs): returns `(m, H)`.
pub fn substeps(gap: f32, max_step: f32) -> Result<(u32, f32), RunError> {
    if !(gap.is_finite() && gap > 0.0) {
        return Err(RunError::BadGap { gap });
    }
    if !(max_step.is_finite() && max_step > 0.0) {
        return Err(RunError::BadMaxStep { max_step });
    }
    let q = gap / max_step - 1e-4;
    // NaN and infinity fail too; `MAX_SUBSTEPS` is exact in f32.
    if q.is_nan() || q > MAX_SUBSTEPS as f32 {
        return Err(RunError::TooManySubsteps {
            gap,
            max_step,
            limit: MAX_SUBSTEPS,
        });
    }
    let m = if q <= 1.0 {
        1
    } else {
        // q is in (1, MAX_SUBSTEPS]: the cast is exact after the range check.
        let t = q as u32;
        if (t as f32) < q {
            t + 1
        } else {
            t
        }
    };
    Ok((m, gap / m as f32))
}

/// The scalar the solvers compute in: `f32` on the chip, `f64` in tests
/// that measure convergence orders below f32's rounding floor.
pub trait Real:
    'static
    + Copy
    + PartialEq
    + PartialOrd
    + core::fmt::Debug
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Div<Output = Self>
    + core::ops::AddAssign
    + core::ops::MulAssign
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// Nearest value to a tableau coefficient.
    fn from_f64(x: f64) -> Self;
    /// A tableau's `a`, `b`, `c` in this type (f32: rounded at compile
    /// time, so no conversion runs on the chip).
    fn coefficients(t: &'static Tableau) -> &'static Coefficients<Self>;
    /// Neither infinite nor NaN.
    fn is_finite(self) -> bool;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[allow(clippy::cast_possible_truncation)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn coefficients(t: &'static Tableau) -> &'static Coefficients<Self> {
        &t.f32
    }
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_f64(x: f64) -> Self {
        x
    }
    fn coefficients(t: &'static Tableau) -> &'static Coefficients<Self> {
        &t.f64
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
}

/// An ODE right-hand side `dy/dt = f(t, y)`.
pub trait VectorField<T: Real = f32> {
    /// Dimension of `y`.
    fn dim(&self) -> usize;
    /// Writes `f(t, y)` into `out` (`y` and `out` have length [`Self::dim`]).
    fn eval(&mut self, t: T, y: &[T], out: &mut [T]);
}

/// A fixed-step integrator. Buffers live in the solver (const capacity `N`).
pub trait Solver<T: Real = f32> {
    /// Evaluations of `f` per step.
    fn evals_per_step(&self) -> u32;
    /// Forgets history (NAG velocity); call at the start of every window.
    fn reset(&mut self);
    /// Advances `y` from `t` by one step `h`.
    fn step<F: VectorField<T> + ?Sized>(
        &mut self,
        f: &mut F,
        t: T,
        h: T,
        y: &mut [T],
    ) -> Result<(), RunError>;
}

/// Checks the state, field and solver capacity agree.
fn check_dim<T: Real, F: VectorField<T> + ?Sized>(
    f: &F,
    y: &[T],
    capacity: usize,
) -> Result<usize, RunError> {
    let d = y.len();
    if d == f.dim() && d <= capacity {
        Ok(d)
    } else {
        Err(RunError::Dimension {
            state: d,
            field: f.dim(),
            capacity,
        })
    }
}

/// Most stages of a tableau.
pub const MAX_STAGES: usize = 4;

/// An explicit Butcher tableau (`a` strictly lower triangular). Stored in
/// f64 so f64 tests see exact `1/6`, `1/3`, and rounded once to f32 at
/// compile time (`f32`) for every f32 solver: the runtime's and the
/// trainer's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tableau {
    /// Name for tables and messages.
    pub name: &'static str,
    /// Stages used (evaluations per step).
    pub stages: usize,
    /// Classical order.
    pub order: u32,
    /// The coefficients (`a` strictly lower triangular).
    pub f64: Coefficients<f64>,
    /// The same rounded to f32 (each `x as f32`).
    pub f32: Coefficients<f32>,
}

/// A tableau's coefficients in one type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coefficients<T> {
    /// Stage coefficients `a[i][j]`.
    pub a: [[T; MAX_STAGES]; MAX_STAGES],
    /// Weights `b[i]`.
    pub b: [T; MAX_STAGES],
    /// Nodes `c[i]`.
    pub c: [T; MAX_STAGES],
}

/// `x as f32`, entry by entry.
const fn round(x: [f64; MAX_STAGES]) -> [f32; MAX_STAGES] {
    [x[0] as f32, x[1] as f32, x[2] as f32, x[3] as f32]
}

impl Tableau {
    const fn new(
        name: &'static str,
        order: u32,
        stages: usize,
        a: [[f64; MAX_STAGES]; MAX_STAGES],
        b: [f64; MAX_STAGES],
        c: [f64; MAX_STAGES],
    ) -> Self {
        Self {
            name,
            stages,
            order,
            f64: Coefficients { a, b, c },
            f32: Coefficients {
                a: [round(a[0]), round(a[1]), round(a[2]), round(a[3])],
                b: round(b),
                c: round(c),
            },
        }
    }
}

/// Forward Euler.
pub const EULER: Tableau = Tableau::new(
    "euler",
    1,
    1,
    [[0.0; MAX_STAGES]; MAX_STAGES],
    [1.0, 0.0, 0.0, 0.0],
    [0.0; 4],
);

/// Explicit midpoint.
pub const MIDPOINT: Tableau = Tableau::new(
    "midpoint",
    2,
    2,
    [[0.0; 4], [0.5, 0.0, 0.0, 0.0], [0.0; 4], [0.0; 4]],
    [0.0, 1.0, 0.0, 0.0],
    [0.0, 0.5, 0.0, 0.0],
);

/// Classic fourth-order Runge-Kutta.
pub const RK4: Tableau = Tableau::new(
    "rk4",
    4,
    4,
    [
        [0.0; 4],
        [0.5, 0.0, 0.0, 0.0],
        [0.0, 0.5, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
    ],
    [1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
    [0.0, 0.5, 0.5, 1.0],
);

/// `out = y + h * sum_j coef[j] k[j]`, skipping zero coefficients so that a
/// non-finite unused stage cannot leak in and Euler is exactly `y + h k`.
fn combine<T: Real, const N: usize>(out: &mut [T], y: &[T], h: T, coef: &[T], k: &[[T; N]]) {
    for (i, (o, yi)) in out.iter_mut().zip(y).enumerate() {
        let mut acc: Option<T> = None;
        for (c, kj) in coef.iter().zip(k) {
            if *c != T::ZERO {
                let term = *c * kj.get(i).copied().unwrap_or(T::ZERO);
                acc = Some(acc.map_or(term, |a| a + term));
            }
        }
        *o = match acc {
            Some(acc) => *yi + h * acc,
            None => *yi,
        };
    }
}

/// An explicit Runge-Kutta method for states up to `N` wide.
#[derive(Clone, Debug)]
pub struct ExplicitRk<const N: usize, T: Real = f32> {
    tableau: &'static Tableau,
    /// The tableau's coefficients in `T` ([`Real::coefficients`]: no f64
    /// conversion on the chip, where it is a library call; borrowed from the
    /// constant, so no RAM). Nonzero exactly where the tableau's are.
    coefficients: &'static Coefficients<T>,
    k: [[T; N]; MAX_STAGES],
    tmp: [T; N],
}

impl<const N: usize, T: Real> ExplicitRk<N, T> {
    /// A solver for the given tableau.
    pub fn new(tableau: &'static Tableau) -> Self {
        Self {
            tableau,
            coefficients: T::coefficients(tableau),
            k: [[T::ZERO; N]; MAX_STAGES],
            tmp: [T::ZERO; N],
        }
    }
    /// Forward Euler.
    pub fn euler() -> Self {
        Self::new(&EULER)
    }
    /// Explicit midpoint.
    pub fn midpoint() -> Self {
        Self::new(&MIDPOINT)
    }
    /// Classic RK4.
    pub fn rk4() -> Self {
        Self::new(&RK4)
    }
    /// The tableau.
    pub fn tableau(&self) -> &'static Tableau {
        self.tableau
    }
}

impl<const N: usize, T: Real> Solver<T> for ExplicitRk<N, T> {
    fn evals_per_step(&self) -> u32 {
        u32::try_from(self.tableau.stages).unwrap_or(u32::MAX)
    }

    fn reset(&mut self) {}

    fn step<F: VectorField<T> + ?Sized>(
        &mut self,
        f: &mut F,
        t: T,
        h: T,
        y: &mut [T],
    ) -> Result<(), RunError> {
        let d = check_dim(f, y, N)?;
        let stages = self.tableau.stages.min(MAX_STAGES);
        let Coefficients { a, b, c } = self.coefficients;
        for (i, (a_row, c)) in a.iter().zip(c).take(stages).enumerate() {
            let Some((done, rest)) = self.k.split_at_mut_checked(i) else {
                break;
            };
            let (Some(ki), Some(tmp)) = (rest.first_mut(), self.tmp.get_mut(..d)) else {
                break;
            };
            combine(tmp, y, h, a_row.get(..i).unwrap_or_default(), done);
            let ki = ki.get_mut(..d).unwrap_or_default();
            f.eval(t + *c * h, tmp, ki);
        }
        if let Some(tmp) = self.tmp.get_mut(..d) {
            combine(tmp, y, h, b.get(..stages).unwrap_or_default(), &self.k);
            y.copy_from_slice(tmp);
        }
        Ok(())
    }
}

/// One forward-Euler step `y += h f(t, y)` with the stage in `k` (at least
/// `y.len()` wide): the bits of [`ExplicitRk::euler`]'s step (its one stage
/// is `f` at `y` and `t + 0 h`, its weight exactly 1, so `1 k` is `k`)
/// without a tableau or buffers of its own. The engine takes it when the
/// model's [`SolverKind`] is Euler, which generated code knows at compile
/// time, so a compiled Euler model links no other method.
pub fn euler_step<F: VectorField + ?Sized>(
    f: &mut F,
    t: f32,
    h: f32,
    y: &mut [f32],
    k: &mut [f32],
) {
    let k = k.get_mut(..y.len()).unwrap_or_default();
    f.eval(t, y, k);
    for (yi, ki) in y.iter_mut().zip(k.iter()) {
        *yi += h * *ki;
    }
}

/// The Nesterov-accelerated first-order method (see the module docs) for
/// states up to `N` wide. The velocity persists between steps until
/// [`Solver::reset`].
#[derive(Clone, Debug)]
pub struct Nag<const N: usize, T: Real = f32> {
    /// Momentum in `[0, 1)`.
    pub mu: T,
    /// Use `h = (1 - mu) H` (consistent) instead of `h = H`.
    pub consistency_scaling: bool,
    /// How the first step after a reset starts.
    pub startup: Startup,
    v: [T; N],
    z: [T; N],
    fz: [T; N],
    last_h: Option<T>,
}

impl<const N: usize, T: Real> Nag<N, T> {
    /// A fresh solver (zero velocity).
    pub fn new(mu: T, consistency_scaling: bool, startup: Startup) -> Self {
        Self {
            mu,
            consistency_scaling,
            startup,
            v: [T::ZERO; N],
            z: [T::ZERO; N],
            fz: [T::ZERO; N],
            last_h: None,
        }
    }

    /// The current velocity (first `dim` entries are meaningful).
    pub fn velocity(&self) -> &[T; N] {
        &self.v
    }
}

impl<const N: usize, T: Real> Solver<T> for Nag<N, T> {
    fn evals_per_step(&self) -> u32 {
        evals_per_step(SolverKind::Nag)
    }

    fn reset(&mut self) {
        self.v = [T::ZERO; N];
        self.last_h = None;
    }

    fn step<F: VectorField<T> + ?Sized>(
        &mut self,
        f: &mut F,
        t: T,
        h_big: T,
        y: &mut [T],
    ) -> Result<(), RunError> {
        let d = check_dim(f, y, N)?;
        let (Some(v), Some(z), Some(fz)) = (
            self.v.get_mut(..d),
            self.z.get_mut(..d),
            self.fz.get_mut(..d),
        ) else {
            return Ok(());
        };
        match self.last_h {
            None if self.startup == Startup::Euler => {
                f.eval(t, y, fz);
                for ((yi, vi), fi) in y.iter_mut().zip(v.iter_mut()).zip(fz.iter()) {
                    let y1 = *yi + h_big * *fi;
                    *vi = y1 - *yi;
                    *yi = y1;
                }
                self.last_h = Some(h_big);
                return Ok(());
            }
            Some(old) => {
                let factor = velocity_rescale(old, h_big);
                // Skipping a factor of 1 changes nothing and saves the multiplies.
                if factor != T::ONE {
                    for vi in v.iter_mut() {
                        *vi *= factor;
                    }
                }
            }
            None => {}
        }
        let mu = self.mu;
        let h = nag_h(mu, self.consistency_scaling, h_big);
        for ((zi, yi), vi) in z.iter_mut().zip(y.iter()).zip(v.iter()) {
            *zi = *yi + mu * *vi;
        }
        f.eval(t, z, fz);
        for ((yi, vi), fi) in y.iter_mut().zip(v.iter_mut()).zip(fz.iter()) {
            *vi = mu * *vi + h * *fi;
            *yi += *vi;
        }
        self.last_h = Some(h_big);
        Ok(())
    }
}

/// The solver a model file asks for, as one type (for sessions and firmware).
#[derive(Clone, Debug)]
pub enum AnySolver<const N: usize> {
    /// Euler, midpoint or RK4.
    Rk(ExplicitRk<N>),
    /// NAG.
    Nag(Nag<N>),
}

impl<const N: usize> AnySolver<N> {
    /// The solver described by a model's [`SolverSpec`].
    pub fn from_spec(spec: &SolverSpec) -> Self {
        match tableau(spec.kind) {
            Some(t) => Self::Rk(ExplicitRk::new(t)),
            None => Self::Nag(Nag::new(spec.mu, spec.consistency_scaling, spec.startup)),
        }
    }
}

impl<const N: usize> Solver for AnySolver<N> {
    fn evals_per_step(&self) -> u32 {
        match self {
            Self::Rk(s) => s.evals_per_step(),
            Self::Nag(s) => s.evals_per_step(),
        }
    }

    fn reset(&mut self) {
        match self {
            Self::Rk(s) => s.reset(),
            Self::Nag(s) => s.reset(),
        }
    }

    fn step<F: VectorField + ?Sized>(
        &mut self,
        f: &mut F,
        t: f32,
        h: f32,
        y: &mut [f32],
    ) -> Result<(), RunError> {
        match self {
            Self::Rk(s) => s.step(f, t, h, y),
            Self::Nag(s) => s.step(f, t, h, y),
        }
    }
}
