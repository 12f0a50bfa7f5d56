//! The `trainer` binary end to end: bad input gives a named error and a
//! non-zero exit with no model file written; divergence leaves the requested
//! file untouched and keeps the last good model; train -> inspect -> predict
//! -> eval works on a small run.

use std::path::{Path, PathBuf};
mod common;
use common::{text, trainer};
use std::process::{Command, Output};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/tests/corpus/csv")
}

#[test]
fn broken_csvs_exit_non_zero_and_write_nothing() {
    let dir = common::tmp("cli", "bad");
    let out = dir.join("m.nagode");
    let mut checked = 0;
    for entry in std::fs::read_dir(corpus()).expect("corpus") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.ends_with(".csv") || name.ends_with("_ok.csv") {
            continue;
        }
        let task = if ["single_class", "id_not", "label_changes"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            "classify"
        } else {
            "forecast"
        };
        let mut args = vec![
            "train",
            "--csv",
            path.to_str().expect("utf-8 path"),
            "--task",
            task,
            "--epochs",
            "1",
            "--no-plots",
        ];
        args.extend(["--out", out.to_str().expect("utf-8")]);
        if name == "missing_column.csv" {
            args.extend(["--columns", "zz"]);
        }
        let before = std::fs::read(&path).expect("read");
        let o = trainer(&args);
        let msg = text(&o);
        assert!(
            !o.status.success(),
            "{name}: exit status {:?}\n{msg}",
            o.status
        );
        assert!(
            msg.contains("error:") && msg.contains(&name),
            "{name}: {msg}"
        );
        assert!(!msg.contains("panicked"), "{name}: {msg}");
        assert!(!out.exists(), "{name}: a model file was written");
        assert_eq!(
            before,
            std::fs::read(&path).expect("read"),
            "{name}: input modified"
        );
        checked += 1;
    }
    assert!(checked >= 18, "only {checked} corpus files");
}

#[test]
fn divergence_keeps_the_old_file_and_the_last_good_model() {
    let dir = common::tmp("cli", "div");
    let out = dir.join("m.nagode");
    std::fs::write(&out, b"previous model").expect("write");
    let o = trainer(&[
        "train",
        "--data",
        "oscillator",
        "--lr",
        "1000",
        "--epochs",
        "3",
        "--no-plots",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let msg = text(&o);
    assert!(!o.status.success(), "{msg}");
    assert!(msg.contains("training diverged"), "{msg}");
    assert_eq!(std::fs::read(&out).expect("still there"), b"previous model");
    let last_good = dir.join("m.last-good.nagode");
    let o = trainer(&["inspect", last_good.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{}", text(&o));
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn train_inspect_predict_eval() {
    let dir = common::tmp("cli", "flow");
    let model = dir.join("o.nagode");
    let m = model.to_str().expect("utf-8");
    let o = trainer(&[
        "train",
        "--data",
        "oscillator",
        "--epochs",
        "2",
        "--no-plots",
        "--out",
        m,
    ]);
    let msg = text(&o);
    assert!(o.status.success(), "{msg}");
    assert!(msg.contains("runtime parity"), "{msg}");

    let o = trainer(&["inspect", m]);
    let msg = text(&o);
    assert!(
        o.status.success() && msg.contains("checksum OK") && msg.contains("NAG, mu 0.5"),
        "{msg}"
    );

    // An irregularly sampled CSV with the model's two channels.
    let csv = dir.join("osc.csv");
    let mut s = String::from("t,x,v\n");
    let mut t = 0.0f64;
    for n in 0..60 {
        t += if n % 3 == 0 { 0.2 } else { 0.1 };
        s.push_str(&format!("{t:.3},{:.5},{:.5}\n", t.cos(), -t.sin()));
    }
    std::fs::write(&csv, s).expect("write");
    let c = csv.to_str().expect("utf-8");
    let pred = dir.join("pred.csv");
    let o = trainer(&[
        "predict",
        "--model",
        m,
        "--csv",
        c,
        "--out",
        pred.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let lines = std::fs::read_to_string(&pred).expect("predictions");
    // Header + one row per full window (60 - 24 + 1).
    assert_eq!(lines.lines().count(), 1 + 60 - 24 + 1, "{lines}");
    // One series: no empty `series` column.
    assert!(lines.starts_with("t,x_plus1,v_plus1"), "{lines}");

    let o = trainer(&["eval", "--model", m, "--csv", c]);
    let msg = text(&o);
    assert!(o.status.success() && msg.contains("MSE"), "{msg}");
}

#[test]
fn a_corrupt_model_file_is_refused_by_name() {
    let dir = common::tmp("cli", "corrupt");
    let f = dir.join("bad.nagode");
    std::fs::write(&f, b"NAGO this is not a model").expect("write");
    let o = trainer(&["inspect", f.to_str().expect("utf-8")]);
    let msg = text(&o);
    assert!(!o.status.success(), "{msg}");
    assert!(msg.contains("bad.nagode") && msg.contains("CRC"), "{msg}");
}

/// Writes a forecasting model (horizon 1) with one channel, `window`
/// samples, RK4 with `steps` sub-steps per nominal gap of 1, no encoder,
/// field `d+1 -> d tanh -> d`, decoder `d -> 1`, all weights zero.
fn model_file(path: &Path, window: u16, steps: u16, d: u16) {
    use nagode::format::{
        self, Activation, Clock, Header, Layer, Names, SolverKind, SolverSpec, Startup, Task,
    };
    let layer = |inputs, outputs, activation| Layer {
        inputs,
        outputs,
        activation,
    };
    let header = Header {
        task: Task::Forecast { horizon: 1 },
        channels: 1,
        window,
        sample_dt: 1.0,
        mean: heapless::Vec::from_slice(&[0.0]).expect("1 channel"),
        std: heapless::Vec::from_slice(&[1.0]).expect("1 channel"),
        state_dim: d,
        encoder: heapless::Vec::new(),
        field: heapless::Vec::from_slice(&[
            layer(d + 1, d, Activation::Tanh),
            layer(d, d, Activation::Identity),
        ])
        .expect("2 layers"),
        decoder: heapless::Vec::from_slice(&[layer(d, 1, Activation::Identity)]).expect("1 layer"),
        solver: SolverSpec {
            kind: SolverKind::Rk4,
            mu: 0.5,
            consistency_scaling: true,
            startup: Startup::Euler,
            max_step: 1.0 / f32::from(steps),
        },
        state_bound: 1e6,
        time_unit: 1.0,
        clock: Clock::Number,
        reference: nagode::normalise::Reference::Global,
    };
    let weights = vec![0.0; format::weight_count(&header).expect("sizes")];
    let bytes = format::encode_to_vec(&header, &weights, &Names::NONE).expect("valid");
    std::fs::write(path, bytes).expect("write model");
}

/// Writes a CSV `t,x` with samples at the given times.
fn csv_at(path: &Path, times: impl Iterator<Item = u32>) {
    let mut s = String::from("t,x\n");
    for t in times {
        s.push_str(&format!("{t},{}\n", f64::from(t).sin()));
    }
    std::fs::write(path, s).expect("write csv");
}

/// Runs the trainer, failing if it has not exited after 30 s (the old
/// code ran an absurd model for hours).
fn trainer_within_30s(args: &[&str]) -> Output {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let start = Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().expect("kill");
            let _ = child.wait();
            panic!("trainer {args:?} still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn an_absurd_model_is_refused_before_running() {
    let dir = common::tmp("cli", "absurd");
    let model = dir.join("absurd.nagode");
    // 4096 samples x 4096 sub-steps x 4 evaluations of 8256 multiply-adds:
    // 5.5e11 per window, minutes per window even at 1 ns each.
    model_file(&model, 4096, 4096, 64);
    let csv = dir.join("long.csv");
    csv_at(&csv, 0..4097);
    let (m, c) = (model.to_str().expect("utf-8"), csv.to_str().expect("utf-8"));
    for command in ["predict", "eval"] {
        let o = trainer_within_30s(&[command, m, "--csv", c]);
        let msg = text(&o);
        assert!(!o.status.success(), "{command}: {msg}");
        assert!(
            msg.contains("absurd.nagode")
                && msg.contains("multiply-adds")
                && msg.contains("--max-work"),
            "{command}: {msg}"
        );
    }
}

#[test]
fn max_work_sets_the_bound_exactly() {
    let dir = common::tmp("cli", "work");
    let model = dir.join("small.nagode");
    // 8 samples, 3 sub-steps per unit gap, RK4; field 5*4 + 4*4 = 36 and
    // decoder 4 multiply-adds.
    model_file(&model, 8, 3, 4);
    let csv = dir.join("gappy.csv");
    // 10 samples, the last after a gap of 2 (6 sub-steps).
    csv_at(&csv, (0..9).chain([10]));
    let (m, c) = (model.to_str().expect("utf-8"), csv.to_str().expect("utf-8"));
    // predict: 3 windows of 24, 24 and 27 sub-steps (the first sample's
    // step is always the nominal one): 75 * 4 * 36 + 3 * 4 = 10812.
    // eval: the 2 windows with a target after them: 48 * 4 * 36 + 2 * 4 = 6920.
    for (command, work) in [("predict", 10812u64), ("eval", 6920)] {
        let below = (work - 1).to_string();
        let o = trainer_within_30s(&[command, m, "--csv", c, "--max-work", &below]);
        let msg = text(&o);
        assert!(!o.status.success(), "{command}: {msg}");
        assert!(
            msg.contains(&format!("{work} multiply-adds")) && msg.contains(&below),
            "{command}: {msg}"
        );
        let exact = work.to_string();
        let o = trainer_within_30s(&[command, m, "--csv", c, "--max-work", &exact]);
        assert!(o.status.success(), "{command}: {}", text(&o));
    }
}
