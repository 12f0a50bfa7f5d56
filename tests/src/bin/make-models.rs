//! Writes the deterministic stand-in models into `firmware/models/`:
//! `seeded_ecg.nagode`, `sine16.nagode`, (with names)
//! `named_classifier.nagode` and one model per `SolverCase`
//! (`nag_substeps.nagode`, `midpoint.nagode`, `rk4_classifier.nagode`),
//! and the quantised (format 4) copies `default_q.nagode`,
//! `seeded_ecg_q.nagode` and `sine16_q.nagode` (`models::QUANTISED`), and
//! the seeded 2-D flow `flow_moons.nagode` (`models::FLOW_MOONS`), and the
//! seeded patched classifier `series_patched.nagode`
//! (`models::SERIES_PATCHED`).
//! Same bytes on every run.
//! `default.nagode` is the trainer's model: it is only rewritten in the
//! current format version when it is older (same header, weights and names,
//! so the same outputs). `stream_ecg.nagode` (`models::STREAM_ECG`, format
//! 5) is the trainer's too and is never rewritten: its doc gives the
//! command that reproduces it.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("make-models: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let dir = integration::qemu::firmware_dir().join("models");
    let csv = integration::qemu::repo_dir().join("data/ecg_mitdb.csv");
    let text = std::fs::read_to_string(&csv).map_err(|e| format!("{}: {e}", csv.display()))?;
    let series = integration::qemu::replay::first_column(&text)?;
    let ecg = integration::models::seeded_ecg(&series).map_err(|e| e.to_string())?;
    let sine = integration::models::sine_mlp().map_err(|e| e.to_string())?;
    write(&dir.join("seeded_ecg.nagode"), &ecg)?;
    write(&dir.join("sine16.nagode"), &sine)?;
    let flow = integration::models::flow_moons().map_err(|e| e.to_string())?;
    write(&dir.join(integration::models::FLOW_MOONS), &flow)?;
    let patched = integration::models::series_patched().map_err(|e| e.to_string())?;
    write(&dir.join(integration::models::SERIES_PATCHED), &patched)?;
    let classifier = integration::models::named_classifier(&series).map_err(|e| e.to_string())?;
    write(&dir.join("named_classifier.nagode"), &classifier)?;
    for case in integration::models::SolverCase::ALL {
        let bytes = case.encode(&series).map_err(|e| e.to_string())?;
        write(&dir.join(case.file_name()), &bytes)?;
    }
    let default = dir.join("default.nagode");
    let bytes = std::fs::read(&default).map_err(|e| format!("{}: {e}", default.display()))?;
    let model = nagode::Model::from_bytes(&bytes).map_err(|e| e.to_string())?;
    if model.format_version() < nagode::format::FORMAT_VERSION {
        let upgraded = nagode::format::upgrade_to_vec(&bytes).map_err(|e| e.to_string())?;
        write(&default, &upgraded)?;
    }
    for (f32_file, file) in integration::models::QUANTISED {
        let path = dir.join(f32_file);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        write(
            &dir.join(file),
            &integration::models::quantised(&bytes, &series)?,
        )?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(())
}
