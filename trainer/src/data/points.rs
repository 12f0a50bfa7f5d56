//! Point clouds for density estimation: the standard 2-D toy densities,
//! drawn in code from a seed, and BasicMotions' sensor samples (each row of
//! six channels one point), standardised with the training points' mean
//! and standard deviation.

use super::{parse_csv, DataError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

const MOTIONS_TRAIN: &str = include_str!("../../../data/panel/basicmotions_train.csv");
const MOTIONS_TEST: &str = include_str!("../../../data/panel/basicmotions_test.csv");

/// Points per part of a toy set (train, validation, test).
pub const TOY_POINTS: [usize; 3] = [2000, 1000, 1000];

/// A density estimation set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PointSet {
    /// Two interleaved half circles, noise 0.1.
    Moons,
    /// Two concentric rings (radii 1 and 2), radial noise 0.08.
    Rings,
    /// Eight Gaussians (std 0.2) evenly on a circle of radius 2.
    Mixture,
    /// BasicMotions: 6-channel accelerometer + gyroscope samples as points
    /// (32 training series / 8 validation series by seed; the 40 test series).
    Motions,
}

/// Train, validation and test points, row-major `[n][dim]`.
#[derive(Clone, Debug)]
pub struct Points {
    /// Name for tables.
    pub name: String,
    /// Dimension of a point.
    pub dim: usize,
    /// Training points.
    pub train: Vec<f32>,
    /// Validation points.
    pub val: Vec<f32>,
    /// Test points.
    pub test: Vec<f32>,
}

impl Points {
    /// Number of points in `part`.
    pub fn count(&self, part: &[f32]) -> usize {
        part.len() / self.dim.max(1)
    }
}

/// The set drawn (toys) or split (BasicMotions) with `seed`.
pub fn points(set: PointSet, seed: u64) -> Result<Points, DataError> {
    let (toy, name) = match set {
        PointSet::Moons => (Toy::Moons, "two moons"),
        PointSet::Rings => (Toy::Rings, "rings"),
        PointSet::Mixture => (Toy::Mixture, "mixture of 8 Gaussians"),
        PointSet::Motions => return motions(seed),
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let draw = |rng: &mut StdRng, n: usize| -> Vec<f32> {
        (0..n).flat_map(|_| toy_point(toy, rng)).collect()
    };
    let [a, b, c] = TOY_POINTS;
    Ok(Points {
        name: name.into(),
        dim: 2,
        train: draw(&mut rng, a),
        val: draw(&mut rng, b),
        test: draw(&mut rng, c),
    })
}

/// The sets drawn in code.
#[derive(Clone, Copy)]
enum Toy {
    Moons,
    Rings,
    Mixture,
}

/// One point of a toy density.
fn toy_point(set: Toy, rng: &mut StdRng) -> [f32; 2] {
    let unit = Normal::new(0.0f32, 1.0).unwrap_or_else(|_| unreachable!("std 1 is valid"));
    let n = |rng: &mut StdRng| unit.sample(rng);
    let (x, y) = match set {
        Toy::Moons => {
            let upper = rng.gen_bool(0.5);
            let a = rng.gen_range(0.0..std::f32::consts::PI);
            let (x, y) = if upper {
                (a.cos(), a.sin())
            } else {
                (1.0 - a.cos(), 0.5 - a.sin())
            };
            // Centred on the origin, about unit spread.
            (x - 0.5 + 0.1 * n(rng), y - 0.25 + 0.1 * n(rng))
        }
        Toy::Rings => {
            let r = if rng.gen_bool(0.5) { 1.0 } else { 2.0 } + 0.08 * n(rng);
            let a = rng.gen_range(0.0..std::f32::consts::TAU);
            (r * a.cos(), r * a.sin())
        }
        Toy::Mixture => {
            let k = rng.gen_range(0..8) as f32;
            let a = k * std::f32::consts::TAU / 8.0;
            (2.0 * a.cos() + 0.2 * n(rng), 2.0 * a.sin() + 0.2 * n(rng))
        }
    };
    [x, y]
}

/// BasicMotions' samples as points: 8 of the 40 training series (drawn by
/// `seed`) for validation, the test file for test, all standardised per
/// channel with the training points' statistics.
fn motions(seed: u64) -> Result<Points, DataError> {
    let cols: Vec<String> = (0..6).map(|i| format!("dim_{i}")).collect();
    let train = parse_csv(
        "basicmotions_train.csv",
        MOTIONS_TRAIN.as_bytes(),
        Some(&cols),
    )?;
    let test = parse_csv(
        "basicmotions_test.csv",
        MOTIONS_TEST.as_bytes(),
        Some(&cols),
    )?;
    let mut order: Vec<usize> = (0..train.series.len()).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    let n_val = train.series.len() / 5;
    let flat = |idx: &[usize], t: &super::Table| -> Vec<f32> {
        idx.iter()
            .flat_map(|&i| t.series[i].values.iter().flatten().copied())
            .collect()
    };
    let mut tr = flat(&order[n_val..], &train);
    let mut val = flat(&order[..n_val], &train);
    let mut te = flat(&(0..test.series.len()).collect::<Vec<_>>(), &test);
    let dim = cols.len();
    let n = (tr.len() / dim).max(1) as f64;
    for c in 0..dim {
        let col = || tr.iter().skip(c).step_by(dim).map(|&x| x as f64);
        let mean = col().sum::<f64>() / n;
        let std = (col().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let std = if std > 0.0 { std } else { 1.0 };
        for part in [&mut tr, &mut val, &mut te] {
            for x in part.iter_mut().skip(c).step_by(dim) {
                *x = ((*x as f64 - mean) / std) as f32;
            }
        }
    }
    Ok(Points {
        name: "BasicMotions (6 channels, per sample)".into(),
        dim,
        train: tr,
        val,
        test: te,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toy_sets_are_seeded_and_shaped() {
        for set in [PointSet::Moons, PointSet::Rings, PointSet::Mixture] {
            let a = points(set, 3).expect("toy");
            let b = points(set, 3).expect("toy");
            let c = points(set, 4).expect("toy");
            assert_eq!(a.train, b.train, "{set:?}: same seed, same points");
            assert_ne!(a.train, c.train, "{set:?}: another seed, other points");
            assert_eq!(a.count(&a.train), TOY_POINTS[0]);
            assert_eq!(a.count(&a.test), TOY_POINTS[2]);
            let max = a.train.iter().fold(0f32, |m, x| m.max(x.abs()));
            assert!(max > 0.8 && max < 3.5, "{set:?}: spread {max}");
        }
        // Rings: radii cluster at 1 and 2.
        let r = points(PointSet::Rings, 0).expect("rings");
        let near = r
            .train
            .chunks(2)
            .filter(|p| {
                let rad = p[0].hypot(p[1]);
                (rad - 1.0).abs() < 0.3 || (rad - 2.0).abs() < 0.3
            })
            .count();
        assert!(near > 1950, "{near} of 2000 points near a ring");
    }

    #[test]
    fn motions_are_standardised_series_split_points() {
        let p = points(PointSet::Motions, 0).expect("BasicMotions");
        assert_eq!(p.dim, 6);
        assert_eq!(p.count(&p.train), 3200);
        assert_eq!(p.count(&p.val), 800);
        assert_eq!(p.count(&p.test), 4000);
        for c in 0..6 {
            let col: Vec<f64> = p
                .train
                .iter()
                .skip(c)
                .step_by(6)
                .map(|&x| x as f64)
                .collect();
            let m = col.iter().sum::<f64>() / col.len() as f64;
            let v = col.iter().map(|x| (x - m).powi(2)).sum::<f64>() / col.len() as f64;
            assert!(
                m.abs() < 1e-5 && (v - 1.0).abs() < 1e-4,
                "channel {c}: {m} {v}"
            );
        }
        let other = points(PointSet::Motions, 1).expect("BasicMotions");
        assert_ne!(p.val, other.val, "the validation series depend on the seed");
    }
}
