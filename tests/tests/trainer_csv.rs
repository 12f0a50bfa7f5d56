//! The bad-CSV corpus (tests/tests/corpus/csv) through the trainer's loader
//! and windowing: every broken file gets its named error with file, line and
//! column; the files that only look odd (BOM, CRLF, quotes) load.

use std::path::PathBuf;
use trainer::data::{self, DataError, TaskKind, WindowSpec};

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/csv")
        .join(name)
}

/// Loads and windows a corpus file as the trainer's `train` would.
fn load(name: &str, task: TaskKind, columns: Option<&[String]>) -> Result<(), DataError> {
    let table = data::load_csv(&corpus(name), columns)?;
    let window = if task == TaskKind::Classify { 0 } else { 48 };
    let spec = WindowSpec {
        task,
        window: Some(window),
        horizon: 4,
        stride: Some(2),
        reference: data::Reference::Global,
        seed: 0,
    };
    data::make_problem(&table, None, spec).map(|_| ())
}

/// (file, task, expected words in the message, which error).
type Case = (&'static str, TaskKind, &'static str, fn(&DataError) -> bool);

const CASES: &[Case] = &[
    (
        "non_numeric.csv",
        TaskKind::Forecast,
        "line 3, column 2 (`b`): `x` is not a number",
        |e| matches!(e, DataError::NotNumeric { .. }),
    ),
    (
        "empty_time.csv",
        TaskKind::Forecast,
        "line 3, column 1 (`t`): empty cell: a missing time stamp cannot be placed",
        |e| matches!(e, DataError::MissingTime { .. }),
    ),
    (
        "all_missing.csv",
        TaskKind::Forecast,
        "no samples left in the file: 2 rows dropped",
        |e| matches!(e, DataError::AllMissing { .. }),
    ),
    (
        "infinite.csv",
        TaskKind::Forecast,
        "line 2, column 2 (`b`): `inf` is not a finite f32",
        |e| matches!(e, DataError::NonFinite { .. }),
    ),
    (
        "huge_value.csv",
        TaskKind::Forecast,
        "line 3, column 1 (`a`): `1e39` is not a finite f32",
        |e| matches!(e, DataError::NonFinite { .. }),
    ),
    (
        "t_not_increasing.csv",
        TaskKind::Forecast,
        "line 4, column 1 (`t`): duplicate time stamp `1` (line 4 repeats line 3)",
        |e| matches!(e, DataError::DuplicateTime { .. }),
    ),
    (
        "t_decreasing.csv",
        TaskKind::Forecast,
        "line 4, column 1 (`t`): time 0.5 does not increase",
        |e| matches!(e, DataError::TimeNotIncreasing { .. }),
    ),
    (
        "ragged.csv",
        TaskKind::Forecast,
        "line 3: expected 2 fields, found 1",
        |e| matches!(e, DataError::FieldCount { .. }),
    ),
    ("empty.csv", TaskKind::Forecast, "empty file", |e| {
        matches!(e, DataError::Empty { .. })
    }),
    ("header_only.csv", TaskKind::Forecast, "header only", |e| {
        matches!(e, DataError::HeaderOnly { .. })
    }),
    (
        "duplicate_columns.csv",
        TaskKind::Forecast,
        "line 1, column 3: duplicate column name `a`",
        |e| matches!(e, DataError::DuplicateColumn { .. }),
    ),
    (
        "no_channels.csv",
        TaskKind::Forecast,
        "no channel columns",
        |e| matches!(e, DataError::NoChannels { .. }),
    ),
    (
        "too_short.csv",
        TaskKind::Forecast,
        "has 5 samples, fewer than the 52",
        |e| matches!(e, DataError::TooShort { .. }),
    ),
    (
        "single_class.csv",
        TaskKind::Classify,
        "only one class (`x`)",
        |e| matches!(e, DataError::SingleClass { .. }),
    ),
    (
        "id_not_contiguous.csv",
        TaskKind::Classify,
        "line 4, column 1 (`id`): series `0` appears again",
        |e| matches!(e, DataError::SeriesSplit { .. }),
    ),
    (
        "label_changes.csv",
        TaskKind::Classify,
        "line 3, column 4 (`label`): label `y` differs from `x`",
        |e| matches!(e, DataError::LabelChanges { .. }),
    ),
    (
        "quoted_comma.csv",
        TaskKind::Forecast,
        "line 3, column 1 (`a`): `3,5` is not a number",
        |e| matches!(e, DataError::NotNumeric { .. }),
    ),
    (
        "bad_utf8.csv",
        TaskKind::Forecast,
        "line 3: malformed CSV",
        |e| matches!(e, DataError::Csv { .. }),
    ),
];

#[test]
fn every_broken_csv_gets_its_named_error() {
    for (name, task, words, kind) in CASES {
        let before = std::fs::read(corpus(name)).expect("corpus file");
        let err = load(name, *task, None).expect_err(name);
        let msg = err.to_string();
        assert!(kind(&err), "{name}: wrong error kind: {err:?}");
        assert!(
            msg.contains(name),
            "{name}: message does not name the file: {msg}"
        );
        assert!(msg.contains(words), "{name}: expected `{words}` in: {msg}");
        assert_eq!(
            before,
            std::fs::read(corpus(name)).expect("still there"),
            "{name} was modified"
        );
    }
}

#[test]
fn a_missing_requested_column_is_named() {
    let err = load(
        "missing_column.csv",
        TaskKind::Forecast,
        Some(&["zz".to_string()]),
    )
    .expect_err("missing");
    assert!(matches!(err, DataError::MissingColumn { .. }), "{err:?}");
    assert!(err.to_string().contains("missing column `zz`"), "{err}");
}

#[test]
fn bom_crlf_and_quoted_fields_load() {
    for name in ["bom_crlf_ok.csv", "quoted_ok.csv"] {
        let t = data::load_csv(&corpus(name), None).expect(name);
        assert_eq!(t.channels, ["a", "b"], "{name}");
        assert_eq!(t.series[0].values.len(), 1, "{name}");
    }
}

#[test]
fn the_corpus_has_no_untested_file() {
    let mut names: Vec<String> = std::fs::read_dir(corpus(""))
        .expect("corpus dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    for n in &names {
        let covered =
            CASES.iter().any(|c| c.0 == n) || n == "missing_column.csv" || n.ends_with("_ok.csv");
        assert!(covered, "{n} is in the corpus but no test checks it");
    }
}
