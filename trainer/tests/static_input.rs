//! Static inputs end to end through the `trainer` binary: `train --data
//! digits` writes a format-6 file that `inspect` reads and `eval` scores;
//! `static --csv` and `eval` refuse bad feature CSVs with one named error
//! and write nothing.

mod common;
use common::{text, trainer};

/// The first `rows` rows of the digits, header included, with `edit`
/// applied to each data line.
fn digits_csv(rows: usize, edit: impl Fn(&str) -> String) -> String {
    let all = include_str!("../../data/digits.csv");
    let mut lines = all.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let body: Vec<String> = lines.take(rows).map(edit).collect();
    format!("{header}\n{}\n", body.join("\n"))
}

#[test]
fn train_digits_then_inspect_and_eval() {
    let dir = common::tmp("static", "digits");
    let model = dir.join("digits.nagode");
    let m = model.to_str().unwrap();
    let o = trainer(&["train", "--data", "digits", "--out", m]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    // The goal: at least 0.97 on the test images with the defaults.
    let accuracy: f64 = t
        .lines()
        .find_map(|l| l.strip_prefix("test accuracy: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .expect("a test accuracy line");
    assert!(accuracy >= 0.97, "{t}");
    assert!(t.contains("(runtime, model file)"), "{t}");
    for steps in ["| 1 |", "| 2 |", "| 3 |", "| 4 |", "| 8 |"] {
        assert!(t.lines().any(|l| l.starts_with(steps)), "dial {steps}: {t}");
    }
    let o = trainer(&["inspect", m]);
    assert!(text(&o).contains("format 6"), "{}", text(&o));
    let csv = dir.join("d.csv");
    std::fs::write(&csv, digits_csv(40, str::to_string)).unwrap();
    let o = trainer(&["eval", m, "--csv", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).starts_with("40 rows: accuracy "), "{}", text(&o));
}

#[test]
fn bad_feature_csvs_are_refused_and_nothing_is_written() {
    let dir = common::tmp("static", "bad");
    let out = dir.join("m.nagode");
    let cases = [
        (
            "nonfinite.csv",
            digits_csv(30, |l| l.replacen("0,", "nan,", 1)),
            "line 2, column `p0`: `nan` is not a finite number",
        ),
        (
            "short.csv",
            digits_csv(30, |l| l.split_once(',').map_or(l, |x| x.1).to_string()),
            "line 2: 64 cells, the header has 65",
        ),
        (
            "nolabel.csv",
            "a,b\n1,2\n".to_string(),
            "needs a `label` column",
        ),
    ];
    for (name, body, error) in cases {
        let csv = dir.join(name);
        std::fs::write(&csv, body).unwrap();
        let o = trainer(&[
            "static",
            "--csv",
            csv.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!o.status.success(), "{name}");
        assert!(text(&o).contains(error), "{name}: {}", text(&o));
        assert!(!out.exists(), "{name}");
    }
    // eval: another feature count, and a class the model does not know.
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../firmware/models/static_digits.nagode"
    );
    let narrow = dir.join("narrow.csv");
    std::fs::write(&narrow, "p0,label\n1,3\n2,4\n").unwrap();
    let o = trainer(&["eval", model, "--csv", narrow.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("the model takes 64 features, the data has 1"),
        "{}",
        text(&o)
    );
    let unknown = dir.join("unknown.csv");
    std::fs::write(
        &unknown,
        digits_csv(5, |l| format!("{},eleven", l.rsplit_once(',').unwrap().0)),
    )
    .unwrap();
    let o = trainer(&["eval", model, "--csv", unknown.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("class `eleven` is not one of the model's classes"),
        "{}",
        text(&o)
    );
}
