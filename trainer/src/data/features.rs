//! Static feature vectors: a wide CSV of numeric feature columns and a
//! `label` column (one example per row), the built-in 8×8 digits, and the
//! fixed split into training, validation and test rows.
//!
//! The split is the same rule for every set: the rows are shuffled once
//! with a fixed seed ([`SPLIT_SEED`], independent of the training seed),
//! the last quarter is the test part, and the last tenth of the rest is
//! the validation part (learning rates and the kept epoch are chosen on
//! it). For the 1,797 digits that is 1,214 training, 134 validation and
//! 449 test images.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::path::Path;

/// The 8×8 handwritten digits (UCI; as shipped with scikit-learn): 64
/// pixel columns `p0..p63` with values 0..16 and a `label` 0..9.
const DIGITS_CSV: &str = include_str!("../../../data/digits.csv");

/// The seed of the one shuffle every split is cut from.
pub const SPLIT_SEED: u64 = 24;

/// Why a feature CSV cannot be used. Each names the file and, where there
/// is one, the line (1-based, the header is line 1) and column.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// The file cannot be read.
    #[error("{file}: {reason}")]
    Io {
        /// The file.
        file: String,
        /// The system's reason.
        reason: String,
    },
    /// No `label` column, or no feature column beside it.
    #[error("{file}: needs a `label` column and at least one feature column")]
    Columns {
        /// The file.
        file: String,
    },
    /// A row with another number of cells than the header.
    #[error("{file}, line {line}: {found} cells, the header has {expected}")]
    RowLength {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// Cells in the header.
        expected: usize,
        /// Cells in the row.
        found: usize,
    },
    /// A feature cell that is not a finite number.
    #[error("{file}, line {line}, column `{column}`: `{cell}` is not a finite number")]
    BadFeature {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The column's name.
        column: String,
        /// The cell as written.
        cell: String,
    },
    /// Too few rows or classes to split and train.
    #[error("{file}: {reason}")]
    TooSmall {
        /// The file.
        file: String,
        /// What is missing.
        reason: String,
    },
}

/// Feature vectors with their classes.
#[derive(Clone, Debug)]
pub struct Features {
    /// Feature column names, in file order.
    pub names: Vec<String>,
    /// Class names (sorted: numerically when every label is an integer).
    pub classes: Vec<String>,
    /// Row-major values, `rows * names.len()`.
    pub x: Vec<f32>,
    /// Each row's class index.
    pub y: Vec<usize>,
}

impl Features {
    /// Number of features per row.
    pub fn width(&self) -> usize {
        self.names.len()
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }
    /// Row `i`'s features.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.width()..(i + 1) * self.width()]
    }
}

/// The built-in digits.
pub fn digits() -> Features {
    parse_features("digits.csv", DIGITS_CSV).expect("data/digits.csv is well formed")
}

/// Reads a feature CSV from disk.
pub fn load_features(path: &Path) -> Result<Features, FeatureError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| FeatureError::Io {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    parse_features(&file, &text)
}

/// Parses a wide feature CSV: a header, then one example per row; every
/// column but `label` is a feature and must hold finite numbers.
pub fn parse_features(file: &str, text: &str) -> Result<Features, FeatureError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .map(|(_, l)| l.split(',').map(|c| c.trim().to_string()).collect())
        .unwrap_or_default();
    let label_col = header.iter().position(|c| c == "label");
    let (Some(label_col), true) = (label_col, header.len() >= 2) else {
        return Err(FeatureError::Columns { file: file.into() });
    };
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for (index, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != header.len() {
            return Err(FeatureError::RowLength {
                file: file.into(),
                line: index + 1,
                expected: header.len(),
                found: cells.len(),
            });
        }
        for (c, cell) in cells.iter().enumerate().filter(|(c, _)| *c != label_col) {
            match cell.parse::<f32>() {
                Ok(v) if v.is_finite() => x.push(v),
                _ => {
                    return Err(FeatureError::BadFeature {
                        file: file.into(),
                        line: index + 1,
                        column: header[c].clone(),
                        cell: (*cell).to_string(),
                    })
                }
            }
        }
        labels.push(cells[label_col].to_string());
    }
    let classes = sorted_classes(&labels);
    let y = labels
        .iter()
        .map(|l| classes.iter().position(|c| c == l).unwrap_or(0))
        .collect();
    let mut names = header;
    names.remove(label_col);
    Ok(Features {
        names,
        classes,
        x,
        y,
    })
}

/// The distinct labels, numerically sorted when all are integers.
fn sorted_classes(labels: &[String]) -> Vec<String> {
    let mut classes: Vec<String> = labels.to_vec();
    classes.sort();
    classes.dedup();
    if classes.iter().all(|c| c.parse::<i64>().is_ok()) {
        classes.sort_by_key(|c| c.parse::<i64>().unwrap_or(0));
    }
    classes
}

/// Row indices of the three parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureSplit {
    /// Training rows.
    pub train: Vec<usize>,
    /// Validation rows.
    pub validation: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

/// The split of the module docs; refuses a set too small for it.
pub fn split(file: &str, f: &Features) -> Result<FeatureSplit, FeatureError> {
    let n = f.rows();
    let too_small = |reason: String| FeatureError::TooSmall {
        file: file.into(),
        reason,
    };
    if f.classes.len() < 2 {
        return Err(too_small("fewer than two classes".into()));
    }
    if n < 20 {
        return Err(too_small(format!("{n} rows; at least 20 are needed")));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(SPLIT_SEED));
    let test = order.split_off(n - n / 4);
    let validation = order.split_off(order.len() - order.len() / 10);
    Ok(FeatureSplit {
        train: order,
        validation,
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_the_1797_images_split_1214_134_449() {
        let d = digits();
        assert_eq!((d.rows(), d.width(), d.classes.len()), (1797, 64, 10));
        assert_eq!(d.classes[0], "0");
        assert!(d.x.iter().all(|v| (0.0..=16.0).contains(v)));
        let s = split("digits.csv", &d).unwrap();
        assert_eq!(
            (s.train.len(), s.validation.len(), s.test.len()),
            (1214, 134, 449)
        );
        let mut all: Vec<usize> = [s.train, s.validation, s.test].concat();
        all.sort();
        assert_eq!(all, (0..1797).collect::<Vec<_>>());
    }

    #[test]
    fn bad_files_name_the_cell() {
        let err = |text: &str| parse_features("f.csv", text).unwrap_err().to_string();
        assert_eq!(
            err("a,b\n1,2\n"),
            "f.csv: needs a `label` column and at least one feature column"
        );
        assert_eq!(
            err("a,label\n1,x\n2\n"),
            "f.csv, line 3: 1 cells, the header has 2"
        );
        assert_eq!(
            err("a,label\n1,x\nnan,y\n"),
            "f.csv, line 3, column `a`: `nan` is not a finite number"
        );
        let f = parse_features("f.csv", "a,label,b\n1,10,2\n3,9,4\n").unwrap();
        assert_eq!(
            (f.names, f.classes, f.y),
            (
                vec!["a".to_string(), "b".to_string()],
                vec!["9".to_string(), "10".to_string()],
                vec![1, 0]
            )
        );
        assert_eq!(f.x, [1.0, 2.0, 3.0, 4.0]);
    }
}
