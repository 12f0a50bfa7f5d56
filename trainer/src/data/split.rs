//! Which samples or series go to training, validation and test.
//!
//! * One series (wide layout), or any forecasting in time: every series is
//!   cut at 70 % and 85 % of its samples (85 % only, train / validation,
//!   when a separate test table is given); a window belongs to the part
//!   holding its first scored sample (see `windows::Cutter`).
//! * Long-layout forecasting: whole series, in file order (15 % of the
//!   series each for validation and test, at least one).
//! * Long-layout classification: whole series drawn per seed and
//!   stratified by class ([`by_class`]).

use super::{DataError, Table};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Where the training part of a series ends and the test part starts, for a
/// time split of `len` samples: `(a, b)` with train `0..a`, validation
/// `a..b`, test `b..len` (`b == len` with a separate test table).
pub fn time_cuts(len: usize, separate_test: bool) -> (usize, usize) {
    if separate_test {
        (len * 85 / 100, len)
    } else {
        (len * 70 / 100, len * 85 / 100)
    }
}

/// Series indices of the training, validation and test parts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeriesSplit {
    /// Training series, in file order.
    pub train: Vec<usize>,
    /// Validation series, in file order.
    pub val: Vec<usize>,
    /// Test series, in file order (empty with a separate test table).
    pub test: Vec<usize>,
}

fn too_few(table: &Table, separate_test: bool) -> DataError {
    DataError::TooFewSeries {
        file: table.source.clone(),
        series: table.series.len(),
        need: if separate_test { 2 } else { 3 },
        parts: if separate_test {
            "one each for training and validation"
        } else {
            "one each for training, validation and test"
        },
    }
}

/// Long-layout forecasting: the last series (in file order) are the test
/// part, those before them the validation part; each 15 % of the series,
/// at least one.
pub fn in_file_order(table: &Table, separate_test: bool) -> Result<SeriesSplit, DataError> {
    let n = table.series.len();
    let n_val = (n * 15 / 100).max(1);
    let n_test = if separate_test { 0 } else { n_val };
    if n < n_val + n_test + 1 {
        return Err(too_few(table, separate_test));
    }
    let n_train = n - n_val - n_test;
    Ok(SeriesSplit {
        train: (0..n_train).collect(),
        val: (n_train..n_train + n_val).collect(),
        test: (n_train + n_val..n).collect(),
    })
}

/// Long-layout classification: validation (and, without a separate test
/// table, test) series drawn with `seed`, stratified by class.
///
/// Each drawn part has `max(ceil(20 % of the series), 8)` series, reduced
/// so that at least 60 % stay for training (but at least one). Within a
/// part every class gets its share of the part in proportion to its series
/// (largest remainders), at least one when it has two or more series left
/// to draw from, and never its last one (training keeps every class).
/// `class_of[i]` is the class index of series `i`. Returns the split and a
/// note giving the sizes.
pub fn by_class(
    table: &Table,
    class_of: &[usize],
    classes: &[String],
    separate_test: bool,
    seed: u64,
) -> Result<(SeriesSplit, String), DataError> {
    let n = table.series.len();
    let drawn = if separate_test { 1 } else { 2 };
    if n < drawn + 1 {
        return Err(too_few(table, separate_test));
    }
    let want = n.div_ceil(5).max(8);
    let min_train = (3 * n).div_ceil(5);
    let each = want.min(n.saturating_sub(min_train) / drawn).max(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pool: Vec<usize> = (0..n).collect();
    let val = stratified(&pool, class_of, classes.len(), each, &mut rng);
    pool.retain(|i| !val.contains(i));
    let test = if separate_test {
        Vec::new()
    } else {
        stratified(&pool, class_of, classes.len(), each, &mut rng)
    };
    pool.retain(|i| !test.contains(i));
    let split = SeriesSplit {
        train: pool,
        val,
        test,
    };
    let per_class = |part: &[usize]| {
        classes
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let k = part.iter().filter(|&&i| class_of[i] == c).count();
                format!("{name} {k}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut note = format!(
        "split by series, drawn per class with seed {seed}: {} training ({}) / {} validation ({})",
        split.train.len(),
        per_class(&split.train),
        split.val.len(),
        per_class(&split.val),
    );
    if !separate_test {
        note.push_str(&format!(
            " / {} test ({})",
            split.test.len(),
            per_class(&split.test)
        ));
    }
    note.push_str(&format!(
        " of {n} series (a drawn part is max(20 %, 8 series), leaving at least 60 % for training)"
    ));
    Ok((split, note))
}

/// `k` series drawn from `pool`, stratified by class (see [`by_class`]);
/// sorted.
fn stratified(
    pool: &[usize],
    class_of: &[usize],
    n_classes: usize,
    k: usize,
    rng: &mut StdRng,
) -> Vec<usize> {
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for &i in pool {
        groups[class_of[i]].push(i);
    }
    for g in &mut groups {
        g.shuffle(rng);
    }
    let total = pool.len().max(1) as f64;
    let exact: Vec<f64> = groups
        .iter()
        .map(|g| (k * g.len()) as f64 / total)
        .collect();
    let lo = |c: usize| usize::from(groups[c].len() >= 2);
    let hi = |c: usize| groups[c].len().saturating_sub(1);
    let mut take: Vec<usize> = (0..n_classes)
        .map(|c| (exact[c].floor() as usize).clamp(lo(c), hi(c)))
        .collect();
    let short = |take: &[usize], c: usize| exact[c] - take[c] as f64;
    loop {
        let sum: usize = take.iter().sum();
        let pick = if sum < k {
            // The class furthest below its share that can give one more.
            (0..n_classes)
                .filter(|&c| take[c] < hi(c))
                .max_by(|&a, &b| short(&take, a).total_cmp(&short(&take, b)))
                .map(|c| (c, true))
        } else if sum > k {
            // The minimums overshot: the class furthest above its share.
            (0..n_classes)
                .filter(|&c| take[c] > lo(c))
                .min_by(|&a, &b| short(&take, a).total_cmp(&short(&take, b)))
                .map(|c| (c, false))
        } else {
            None
        };
        match pick {
            Some((c, true)) => take[c] += 1,
            Some((c, false)) => take[c] -= 1,
            None => break,
        }
    }
    let mut out: Vec<usize> = groups
        .iter()
        .zip(&take)
        .flat_map(|(g, &t)| g[..t].iter().copied())
        .collect();
    if out.is_empty() && k > 0 {
        // Every class has a single series: draw one anyway.
        out.extend(pool.choose(rng));
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Series, Table};
    use nagode::format::Clock;

    /// `counts[c]` series of class `c`, interleaved.
    fn table(counts: &[usize]) -> (Table, Vec<usize>, Vec<String>) {
        let classes: Vec<String> = (0..counts.len()).map(|c| format!("c{c}")).collect();
        let mut class_of = Vec::new();
        let mut left = counts.to_vec();
        while left.iter().any(|&k| k > 0) {
            for (c, k) in left.iter_mut().enumerate() {
                if *k > 0 {
                    *k -= 1;
                    class_of.push(c);
                }
            }
        }
        let series = class_of
            .iter()
            .enumerate()
            .map(|(i, &c)| Series {
                name: i.to_string(),
                times: vec![0.0, 1.0],
                values: vec![vec![0.0], vec![1.0]],
                labels: Some(vec![classes[c].clone(); 2]),
                lines: Vec::new(),
            })
            .collect();
        let t = Table {
            source: "s.csv".into(),
            channels: vec!["a".into()],
            clock: Clock::Index,
            series,
            missing: Default::default(),
        };
        (t, class_of, classes)
    }

    #[test]
    fn stratified_splits_differ_by_seed_and_hold_every_class() {
        // 40 training series, 4 unbalanced classes, separate test file.
        let (t, class_of, classes) = table(&[16, 12, 8, 4]);
        let mut vals = Vec::new();
        for seed in 0..4 {
            let (s, note) = by_class(&t, &class_of, &classes, true, seed).expect("splits");
            assert_eq!((s.train.len(), s.val.len(), s.test.len()), (32, 8, 0));
            for c in 0..4 {
                assert!(s.val.iter().any(|&i| class_of[i] == c), "class {c}: {note}");
                assert!(s.train.iter().any(|&i| class_of[i] == c), "class {c}");
            }
            // In proportion: 16/40 of 8 is 3.2 series of class 0.
            assert_eq!(s.val.iter().filter(|&&i| class_of[i] == 0).count(), 3);
            assert!(note.contains("8 validation"), "{note}");
            vals.push(s.val);
        }
        assert_ne!(vals[0], vals[1], "seeds 0 and 1 drew the same series");
        // Without a test file: 20 % but at least 8 each, 60 % left: 8 / 8 / 24.
        let (s, _) = by_class(&t, &class_of, &classes, false, 7).expect("splits");
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (24, 8, 8));
        let mut all: Vec<usize> = [s.train, s.val, s.test].concat();
        all.sort_unstable();
        assert_eq!(all, (0..40).collect::<Vec<_>>());
        // Large sets: 20 %.
        let (t, class_of, classes) = table(&[60, 40]);
        let (s, _) = by_class(&t, &class_of, &classes, false, 0).expect("splits");
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (60, 20, 20));
        // Tiny sets still split, and refuse below one series a part.
        let (t, class_of, classes) = table(&[2, 1]);
        let (s, _) = by_class(&t, &class_of, &classes, false, 0).expect("splits");
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (1, 1, 1));
        let (t, class_of, classes) = table(&[1, 1]);
        assert!(matches!(
            by_class(&t, &class_of, &classes, false, 0),
            Err(DataError::TooFewSeries { need: 3, .. })
        ));
    }
}
