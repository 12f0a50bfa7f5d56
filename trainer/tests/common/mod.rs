//! Helpers shared by the trainer's integration tests: a seeded noise
//! source, a scratch folder, and `trainer train ARGS` as a user runs it.
#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use trainer::commands::train::TrainArgs;
use trainer::tasks::window::{self, RunConfig, Summary};

/// A deterministic noise source (the tests need no rand dependency):
/// values in `[-0.5, 0.5)`.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next value.
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    }
}

/// `trainer ARGS` as a user runs it: the built binary, its output kept.
pub fn trainer(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("runs")
}

/// Everything a run printed, stdout then stderr.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A fresh scratch folder for test `name` of the file `group`.
pub fn tmp(group: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nagode-{group}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

/// The run `trainer train ARGS` would do, without plots or printing.
pub fn config(args: &[&str]) -> RunConfig {
    let mut argv = vec!["train", "--no-plots"];
    argv.extend(args);
    let mut cfg = TrainArgs::run_config(argv).expect("valid options");
    cfg.verbose = false;
    cfg
}

/// `trainer train ARGS`, which must succeed.
pub fn train(args: &[&str]) -> Summary {
    match window::run(&config(args)) {
        Ok(s) => s,
        Err(e) => panic!("trainer train {args:?}: {e}"),
    }
}
