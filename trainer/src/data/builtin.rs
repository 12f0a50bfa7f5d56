//! The built-in data sets: the MIT-BIH ECG excerpt, ItalyPowerDemand (UCR)
//! and damped oscillators generated in code.

use super::{parse_csv, DataError, Series, Table};
use nagode::format::Clock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Which built-in data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Builtin {
    /// MIT-BIH ECG excerpt, one channel, forecasting (the default).
    Ecg,
    /// ItalyPowerDemand (UCR), 24-step daily series, two classes.
    Italy,
    /// Damped oscillators generated in code (x and dx/dt), forecasting.
    Oscillator,
    /// The damped oscillators with random samples dropped (irregular `t`).
    OscillatorIrregular,
    /// The 8×8 handwritten digits (UCI; scikit-learn's copy): static
    /// feature vectors, not a series (`train` and `compare` run the
    /// static-input classifier on them, `data::features`).
    Digits,
}

const ECG_CSV: &str = include_str!("../../../data/ecg_mitdb.csv");
const ITALY_TRAIN_CSV: &str = include_str!("../../../data/ItalyPowerDemand_train.csv");
const ITALY_TEST_CSV: &str = include_str!("../../../data/ItalyPowerDemand_test.csv");

/// Loads a built-in data set: the table and, for data with its own test split, that split.
pub fn builtin(which: Builtin, seed: u64) -> Result<(Table, Option<Table>), DataError> {
    let ecg_cols = ["ecg".to_string()];
    match which {
        Builtin::Ecg => Ok((
            parse_csv("ecg_mitdb.csv", ECG_CSV.as_bytes(), Some(&ecg_cols))?,
            None,
        )),
        Builtin::Italy => Ok((
            parse_csv(
                "ItalyPowerDemand_train.csv",
                ITALY_TRAIN_CSV.as_bytes(),
                None,
            )?,
            Some(parse_csv(
                "ItalyPowerDemand_test.csv",
                ITALY_TEST_CSV.as_bytes(),
                None,
            )?),
        )),
        Builtin::Oscillator => Ok((oscillators(seed, 0.0, OSC_SERIES), None)),
        Builtin::OscillatorIrregular => Ok((oscillators(seed, OSC_DROP, OSC_SERIES), None)),
        Builtin::Digits => Err(DataError::Setting(
            "the digits are static feature vectors, not a series: `trainer train --data digits` \
             and `trainer static` train their classifier"
                .into(),
        )),
    }
}

/// Angular frequency separating the oscillators' classes `slow` and `fast`.
pub const OSC_SPLIT: f64 = 1.2;

/// Series in the built-in oscillator set.
pub const OSC_SERIES: usize = 48;
/// Fraction of samples the irregular oscillator set drops.
pub const OSC_DROP: f64 = 0.35;

/// Nominal sampling interval of the synthetic oscillators.
pub const OSC_DT: f64 = 0.1;

/// Damped oscillators `x'' + 2 zeta w x' + w^2 x = 0` with random frequency,
/// damping and initial state, sampled every [`OSC_DT`]; with `drop > 0`
/// each sample after the first is dropped with that probability, giving
/// irregular times. Each series is labelled `slow` or `fast` (frequency
/// below or above [`OSC_SPLIT`]) for the classification task. Deterministic
/// in `seed`: the oscillators are the same for every `drop`.
pub fn oscillators(seed: u64, drop: f64, n_series: usize) -> Table {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x05C1_11A7);
    let mut drop_rng = StdRng::seed_from_u64(seed ^ 0xD209);
    let len = 160;
    let series = (0..n_series)
        .map(|i| {
            let w: f64 = rng.gen_range(0.8..1.6);
            let zeta: f64 = rng.gen_range(0.02..0.12);
            let amp: f64 = rng.gen_range(0.5..2.0);
            let phase: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
            let wd = w * (1.0 - zeta * zeta).sqrt();
            let class = if w < OSC_SPLIT { "slow" } else { "fast" };
            let mut times = Vec::new();
            let mut values = Vec::new();
            for n in 0..len {
                let t = n as f64 * OSC_DT;
                if n > 0 && drop > 0.0 && drop_rng.gen_bool(drop) {
                    continue;
                }
                let decay = amp * (-zeta * w * t).exp();
                let x = decay * (wd * t + phase).cos();
                let v = -zeta * w * x - decay * wd * (wd * t + phase).sin();
                times.push(t);
                values.push(vec![x as f32, v as f32]);
            }
            Series {
                name: i.to_string(),
                labels: Some(vec![class.to_string(); times.len()]),
                lines: Vec::new(),
                times,
                values,
            }
        })
        .collect();
    Table {
        source: if drop > 0.0 {
            "oscillator-irregular (generated)".into()
        } else {
            "oscillator (generated)".into()
        },
        channels: vec!["x".into(), "v".into()],
        clock: Clock::Number,
        series,
        missing: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_sets_load() {
        for b in [Builtin::Ecg, Builtin::Italy, Builtin::Oscillator] {
            builtin(b, 1).expect("built-in data parses");
        }
        let (ecg, _) = builtin(Builtin::Ecg, 1).expect("ecg");
        assert_eq!(ecg.clock, Clock::Index);
        let (italy, _) = builtin(Builtin::Italy, 1).expect("italy");
        assert_eq!(italy.clock, Clock::Number);
    }
}
