//! What `train` chooses by validation when the user does not say: the
//! learning rate from a grid scaled to the window, and the initial weights
//! among a few restarts; a final run that diverges is retried at a lower
//! rate instead of ending the job.
//!
//! Why: one learning rate does not suit every window length. The default
//! 5e-3 trains the 48-sample ECG windows well, but on 150–275-sample
//! classification windows it is unstable (training accuracy 0.63–0.79 on
//! Trace, where 2e-3 reaches 1.0), and one set of initial weights can
//! land in a poor optimum whatever the rate (Trace at 2e-3: test 0.98,
//! 0.74 and 0.96 over seeds 0–2).

use crate::data::TaskKind;
use crate::engine::params::Net;
use crate::engine::train::{Score, Stop, TrainCfg, TrainError, Trained};

/// The learning rate for windows of up to this many samples; longer
/// windows scale it by `sqrt(REFERENCE_WINDOW / window)`. BasicMotions
/// (100 samples, 6 channels, not patched) trains best at the full rate:
/// 0.975 / 1.0 / 0.975 over seeds 0–2, against 0.95 / 0.95 / 0.90 with
/// the rate scaled from 48.
pub const REFERENCE_WINDOW: usize = 100;
/// The learning rate up to [`REFERENCE_WINDOW`] (the default ECG job's).
pub const BASE_LR: f32 = 5e-3;
/// Ratio between the grid's two rates.
pub const GRID_RATIO: f32 = 3.0;
/// Retries of a diverged final run, each at a third of the rate.
pub const RETRIES: usize = 2;
/// Offset between the weight seeds of consecutive restarts.
pub const RESTART_SEED: u64 = 1000;

/// The learning rates tried for windows of `window` samples: the scaled
/// rate and a third of it, both to two significant digits. A gradient
/// through `W` unrolled steps grows with `W`; the square root is what fit
/// Trace's 275-sample windows (a plain `1 / W` was too timid).
pub fn lr_grid(window: usize) -> Vec<f32> {
    let c = round2(BASE_LR * lr_scale(window));
    vec![c, round2(c / GRID_RATIO)]
}

/// The factor on learning rates for windows of `window` samples:
/// `sqrt(REFERENCE_WINDOW / window)`, at most 1.
pub fn lr_scale(window: usize) -> f32 {
    (REFERENCE_WINDOW as f32 / window.max(1) as f32)
        .sqrt()
        .min(1.0)
}

/// `x` to two significant digits.
fn round2(x: f32) -> f32 {
    let e = 10f32.powi(x.log10().floor() as i32 - 1);
    (x / e).round() * e
}

/// Restarts (initial weights tried) when the user does not say: three for
/// classification, whose runs end in different optima from different
/// weights; one for forecasts, whose runs agree.
pub fn default_restarts(task: TaskKind) -> usize {
    match task {
        TaskKind::Classify => 3,
        TaskKind::Forecast => 1,
    }
}

/// Epochs of one trial: a sixth of the run, 10 to 40.
pub fn trial_epochs(epochs: usize) -> usize {
    (epochs / 6).clamp(10, 40).min(epochs)
}

/// A trial's outcome.
struct Trial {
    lr: f32,
    restart: usize,
    score: Option<Score>,
    why: String,
}

/// What [`fit`] chose and why, one line per choice (printed as `chosen`).
pub struct Choices {
    /// The learning rate of the kept model.
    pub lr: f32,
    /// The weight seed of the kept model.
    pub seed: u64,
    /// Lines for the summary.
    pub notes: Vec<String>,
}

/// Trains with the learning rate among `lrs` and the initial weights among
/// `restarts` seeds that score best on validation after short trials, then
/// the full run with that choice (retried at a third of the rate, at most
/// [`RETRIES`] times, if it diverges). `init(seed)` gives initial weights;
/// `run(net, cfg)` is one training run (held-out or cross-validated).
/// Trials share at most half of `cfg.time_budget`.
pub fn fit(
    task: TaskKind,
    cfg: &TrainCfg,
    lrs: &[f32],
    restarts: usize,
    init: impl Fn(u64) -> Net,
    mut run: impl FnMut(Net, &TrainCfg) -> Result<Trained, TrainError>,
) -> Result<(Trained, Choices), TrainError> {
    let restarts = restarts.max(1);
    let lrs = if lrs.is_empty() { &[cfg.lr][..] } else { lrs };
    let seed_of = |r: usize| restart_seed(cfg, r);
    let mut notes = Vec::new();
    let (mut lr, restart) = if lrs.len() * restarts > 1 {
        let (lr, restart, note) = best_trial(task, cfg, lrs, restarts, &init, &mut run)?;
        notes.push(note);
        (lr, restart)
    } else {
        (lrs[0], 0)
    };
    let mut fallback: Option<Trained> = None;
    for attempt in 0..=RETRIES {
        let c = TrainCfg { lr, ..cfg.clone() };
        let why = match outcome(run(init(seed_of(restart)), &c))? {
            Outcome::Done(t) => {
                let choices = Choices {
                    lr,
                    seed: seed_of(restart),
                    notes,
                };
                return Ok((t, choices));
            }
            Outcome::Diverged(why, kept) => {
                fallback = kept.or(fallback);
                why
            }
        };
        if attempt < RETRIES {
            notes.push(format!(
                "learning rate {} after {} diverged ({why})",
                lr_text(round2(lr / GRID_RATIO)),
                lr_text(lr)
            ));
            lr = round2(lr / GRID_RATIO);
        }
    }
    // Every retry diverged: the last run's kept model, if it has one,
    // reports its divergence as before.
    match fallback {
        Some(t) => Ok((
            t,
            Choices {
                lr,
                seed: seed_of(restart),
                notes,
            },
        )),
        None => Err(TrainError::Diverged(format!(
            "every run down to learning rate {} diverged",
            lr_text(lr)
        ))),
    }
}

/// The seed of restart `r`'s initial weights.
fn restart_seed(cfg: &TrainCfg, r: usize) -> u64 {
    cfg.seed.wrapping_add(RESTART_SEED * r as u64)
}

/// Short trials of every learning rate and restart: the best by validation
/// (the first on no finite score), and the note that lists them all.
fn best_trial(
    task: TaskKind,
    cfg: &TrainCfg,
    lrs: &[f32],
    restarts: usize,
    init: &impl Fn(u64) -> Net,
    run: &mut impl FnMut(Net, &TrainCfg) -> Result<Trained, TrainError>,
) -> Result<(f32, usize, String), TrainError> {
    let n = lrs.len() * restarts;
    let trial_cfg = TrainCfg {
        epochs: trial_epochs(cfg.epochs),
        patience: usize::MAX,
        time_budget: cfg.time_budget.map(|b| b.div_f64(2.0 * n as f64)),
        ..cfg.clone()
    };
    let mut trials = Vec::new();
    for &l in lrs {
        for r in 0..restarts {
            let c = TrainCfg {
                lr: l,
                ..trial_cfg.clone()
            };
            let (score, why) = match outcome(run(init(restart_seed(cfg, r)), &c))? {
                Outcome::Done(t) => (Some(t.best_score(task)), String::new()),
                Outcome::Diverged(why, _) => (None, why),
            };
            trials.push(Trial {
                lr: l,
                restart: r,
                score,
                why,
            });
        }
    }
    let best = trials.iter().filter_map(|t| t.score.map(|s| (t, s))).fold(
        None::<(&Trial, Score)>,
        |acc, (t, s)| match acc {
            Some((_, b)) if !s.beats(&b) => acc,
            _ => Some((t, s)),
        },
    );
    let (lr, restart) = best.map_or((lrs[0], 0), |(t, _)| (t.lr, t.restart));
    let note = trial_note(task, &trials, trial_cfg.epochs, lr, restart);
    Ok((lr, restart, note))
}

/// A training run's end: done, or diverged (why, and the model it kept
/// if it had a good epoch before).
enum Outcome {
    Done(Trained),
    Diverged(String, Option<Trained>),
}

/// Sorts a run's result; errors other than divergence pass through.
fn outcome(r: Result<Trained, TrainError>) -> Result<Outcome, TrainError> {
    match r {
        Ok(t) => Ok(match &t.stop {
            Stop::Diverged(why) => Outcome::Diverged(why.clone(), Some(t)),
            _ => Outcome::Done(t),
        }),
        Err(TrainError::Diverged(why)) => Ok(Outcome::Diverged(why, None)),
        Err(e) => Err(e),
    }
}

/// The trials in one line: the winner, then every trial's score.
fn trial_note(task: TaskKind, trials: &[Trial], epochs: usize, lr: f32, restart: usize) -> String {
    let cells: Vec<String> = trials
        .iter()
        .map(|t| {
            let what = match (t.score, task) {
                (None, _) => format!("diverged: {}", t.why),
                (Some(s), TaskKind::Classify) => {
                    format!("acc {:.3} loss {:.4}", s.accuracy, s.loss)
                }
                (Some(s), TaskKind::Forecast) => format!("loss {:.5}", s.loss),
            };
            format!("lr {} w{}: {what}", lr_text(t.lr), t.restart)
        })
        .collect();
    format!(
        "learning rate {}, initial weights w{restart} (of {} trials, {epochs} epochs each, best \
         validation score; the rates scale with the window): {}",
        lr_text(lr),
        trials.len(),
        cells.join("; ")
    )
}

/// A learning rate as written on the command line (two significant digits).
pub fn lr_text(lr: f32) -> String {
    format!("{:.1e}", lr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_scales_with_the_window_and_keeps_the_default_at_48() {
        let close = |g: Vec<f32>, want: [f32; 2]| {
            g.iter()
                .zip(want)
                .all(|(a, b)| (a - b).abs() < 1e-9 * b.max(1.0))
        };
        assert!(close(lr_grid(48), [5e-3, 1.7e-3]), "{:?}", lr_grid(48));
        assert!(close(lr_grid(24), [5e-3, 1.7e-3]));
        assert!(close(lr_grid(100), [5e-3, 1.7e-3]));
        let long = lr_grid(275);
        assert!((long[0] - 3.0e-3).abs() < 1e-9, "{long:?}");
        assert!(lr_grid(1460)[0] < 1.5e-3);
    }

    #[test]
    fn trials_are_short() {
        assert_eq!(trial_epochs(200), 33);
        assert_eq!(trial_epochs(30), 10);
        assert_eq!(trial_epochs(5), 5);
        assert_eq!(trial_epochs(1000), 40);
    }
}
