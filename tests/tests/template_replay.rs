//! The template firmware (`templates/firmware/`) replays a CSV as its
//! sensor, read by its own `replay.rs` (no dependencies: its build script
//! and `cargo xtask embed-check` include it). It reads the samples and gaps
//! the trainer reads (`trainer::data::parse_csv`, gaps as `trainer
//! predict` streams them, patches as `trainer::data::patch::patch_table`
//! groups them): bit for bit, on the project's data sets of every layout
//! and clock, and on the CSV forms the trainer documents (delimiters,
//! missing values, date-times with offsets and fractions).

use trainer::data::parse_csv;
use trainer::data::patch::patch_table;

mod replay {
    include!("../../templates/firmware/replay.rs");
}

/// The first sample's gap (the model's nominal gap in the template).
const NOMINAL: f32 = 0.75;

/// Checks that the template reads `text` as the trainer does for a model
/// without channel names.
fn same_as_trainer(name: &str, text: &str) {
    same_as_trainer_patched(name, text, None, 1);
}

/// Checks that the template reads `text` as the trainer does for a model
/// patched `k` samples at a time over `columns` (all but `t`, `id` and
/// `label` when `None`; its channels named as the trainer names them).
fn same_as_trainer_patched(name: &str, text: &str, columns: Option<&[String]>, k: usize) {
    let table = parse_csv(name, text.as_bytes(), columns).expect("the trainer reads it");
    let table = patch_table(&table, k);
    let names: Vec<&str> = table.channels.iter().map(String::as_str).collect();
    let names = if columns.is_some() { &names[..] } else { &[] };
    let series = replay::read(text, names, table.channels.len(), NOMINAL)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let expected: Vec<_> = table
        .series
        .iter()
        .filter(|s| !s.times.is_empty())
        .collect();
    assert_eq!(series.len(), expected.len(), "{name}: series");
    for (n, (s, t)) in series.iter().zip(expected).enumerate() {
        let values: Vec<u32> = t.values.concat().iter().map(|v| v.to_bits()).collect();
        let samples: Vec<u32> = s.samples.iter().map(|v| v.to_bits()).collect();
        assert_eq!(samples, values, "{name}: samples of series {n}");
        let gaps: Vec<u32> = std::iter::once(NOMINAL)
            .chain(t.times.windows(2).map(|w| (w[1] - w[0]) as f32))
            .map(f32::to_bits)
            .collect();
        let read: Vec<u32> = s.gaps.iter().map(|v| v.to_bits()).collect();
        assert_eq!(read, gaps, "{name}: gaps of series {n}");
    }
}

#[test]
fn the_template_reads_the_data_sets_as_the_trainer_does() {
    let root = integration::qemu::repo_dir();
    for file in [
        "data/ecg_mitdb.csv",
        "data/airline.csv",
        "data/panel/msft_irregular.csv",
        "data/panel/solar_datetime.csv",
        "data/panel/heartrate_halfsecond.csv",
        "data/panel/basicmotions_test.csv",
        "data/panel/japanesevowels_test.csv",
    ] {
        let text = std::fs::read_to_string(root.join(file)).expect("data set");
        same_as_trainer(file, &text);
    }
}

#[test]
fn the_template_reads_every_documented_form_as_the_trainer_does() {
    let forms = [
        ("semicolons and missing cells", "t;a;b\n0;1;2\n1;;3\n2;NaN;4\n4;n/a;5\n5;6;7\n"),
        ("tabs, no t", "a\tb\n1\t2\n\t3\n4\t5\n"),
        ("one column with blank lines", "a\n1\n\n\n2\n3\n"),
        (
            "date-times with offsets and fractions",
            "t,x\n2024-06-01,1\n2024-06-01 00:30,2\n2024-06-01T00:30:00.25,3\n\
             2024-06-01T01:00:00Z,4\n2024-06-01T03:00:00+01:00,5\n2024-06-01T04:00:00.125-02:00,6\n",
        ),
        (
            "long layout with labels",
            "id,t,x,label\na,0,1,u\na,1,2,u\na,3,4,u\nb,0,5,v\nb,0.5,6,v\n",
        ),
    ];
    for (name, text) in forms {
        same_as_trainer(name, text);
    }
}

#[test]
fn patched_models_read_whole_patches_as_the_trainer_does() {
    let root = integration::qemu::repo_dir();
    let chinatown = "data/panel/chinatown_minimal_test.csv";
    let text = std::fs::read_to_string(root.join(chinatown)).expect("data set");
    // 24 samples a series: 6 patches of 4, or 4 of 5 with the oldest 4 dropped.
    for k in [4, 5] {
        same_as_trainer_patched(chinatown, &text, Some(&["pedestrians".into()]), k);
    }
    // Two channels, sample-major (a@0, b@0, a@1, ...); the 1-sample
    // series has no patch.
    let text =
        "id,t,a,b\nu,0,1,2\nu,1,3,4\nu,3,5,6\nu,4,7,8\nu,5,9,10\nv,0,1,1\nw,2,4,5\nw,4,6,7\n";
    same_as_trainer_patched("two channels", text, Some(&["a".into(), "b".into()]), 2);
}

#[test]
fn channels_are_found_by_the_models_names() {
    let text = "t,b,a,label\n0,1,2,x\n1,3,4,x\n";
    let series = replay::read(text, &["a", "b"], 2, NOMINAL).expect("reads");
    assert_eq!(series[0].samples, [2.0, 1.0, 4.0, 3.0]);
    let error = replay::read(text, &["c"], 1, NOMINAL).expect_err("no column c");
    assert!(error.contains("no column `c`"), "{error}");
    let error = replay::read(text, &[], 3, NOMINAL).expect_err("two channels");
    assert!(
        error.contains("2 channel columns (b, a), the model reads 3"),
        "{error}"
    );
    let error = replay::read("t,x\n1,2\n1,3\n", &[], 1, NOMINAL).expect_err("repeated t");
    assert!(error.contains("line 3"), "{error}");
}
