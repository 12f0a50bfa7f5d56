//! The model as Rust (`nagode::codegen`: the board's `memory.x`, the
//! capacities, the file and the compiled layers), and the recorded CSV the
//! firmware replays as its sensor.
//!
//! Environment (each re-runs this script when it changes):
//! * `NAGODE_MODEL`: the model file (default `model.nagode` in this crate);
//! * `NAGODE_CSV`: the recording to replay (default `replay.csv`), read as
//!   `trainer train --csv` reads it (`replay.rs`);
//! * `NAGODE_BOARD`: a board of `nagode::codegen::boards` (default
//!   `netduinoplus2`; `.cargo/config.toml`'s runner names its QEMU machine).

use std::env;
use std::path::PathBuf;

include!("replay.rs");

fn main() {
    if let Err(message) = run() {
        eprintln!("template build: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    for var in ["NAGODE_MODEL", "NAGODE_CSV", "NAGODE_BOARD"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=replay.rs");
    let path = |var: &str, default: &str| PathBuf::from(env::var(var).unwrap_or(default.into()));
    let (model, csv) = (
        path("NAGODE_MODEL", "model.nagode"),
        path("NAGODE_CSV", "replay.csv"),
    );
    let name = env::var("NAGODE_BOARD").unwrap_or("netduinoplus2".into());
    let board = nagode::codegen::boards::board_named(&name)
        .ok_or_else(|| format!("NAGODE_BOARD={name} is no board of nagode::codegen::boards"))?;

    // The one call a firmware needs: `memory.x`, and the model as Rust.
    nagode::codegen::Build::new(&model)
        .board(board)
        .run()
        .map_err(|e| e.to_string())?;

    let bytes = std::fs::read(&model).map_err(|e| format!("{}: {e}", model.display()))?;
    let model = nagode::Model::from_bytes(&bytes).map_err(|e| e.to_string())?;
    let names: Vec<&str> = model.channel_names().collect();
    println!("cargo:rerun-if-changed={}", csv.display());
    let text = std::fs::read_to_string(&csv).map_err(|e| format!("{}: {e}", csv.display()))?;
    let series = read(&text, &names, model.channels(), model.nominal_gap())
        .map_err(|e| format!("{}: {e}", csv.display()))?;
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    std::fs::write(out.join("replay.rs"), rust(&series)).map_err(|e| format!("replay.rs: {e}"))
}
