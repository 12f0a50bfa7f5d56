//! `cargo xtask measure`: flash, RAM and instructions of the firmware on
//! every core of the QEMU matrix, for the default model and the 1→16→16→1
//! tanh MLP, through both paths (the file loaded in place, and the model
//! compiled in by the build script), the integer path (firmware feature
//! `quant`) on each model's quantised copy (`integration::models::QUANTISED`,
//! or an extra file with a quantised section), plus the minimal images (one
//! prediction printed as hex, nothing else linked), as Markdown tables.
//!
//! Method (also in firmware/README.md):
//! * Flash: the firmware prints its own image size (vector table to the end
//!   of `.data`'s load image). "runtime" = image − image of the `baseline`
//!   build (same firmware without nagode and the model) − model file bytes.
//! * RAM: static (`.data` + `.bss`) and the stack's high-water mark (the
//!   stack is painted at reset; the deepest overwritten word counts), once
//!   after loading the model and once over the timed predictions (the free
//!   stack is painted again before them). Both include the frames that hold
//!   the `Model` and the `Session`.
//! * Instructions: QEMU `-icount shift=0`; SysTick on the core clock counts
//!   virtual time; a `cortex_m::asm::delay` loop of known length in the same
//!   run converts ticks to instructions. One inference = one `predict` over a
//!   full window, timed 16 times back to back. MACs are those the runtime
//!   performs (see `integration::models::macs_per_prediction`; the integer
//!   path performs the same ones). The kernel column times the path's own
//!   kernel: `f32` for loaded and compiled, `i8 x i16 -> i32` for integer.
//! * Minimal images (`firmware/src/bin/minimal.rs`): flash as the image
//!   reports it (vector table to the end of `.data`), static RAM and the
//!   stack's high-water mark; their prediction must equal the host
//!   runtime's on the same window, or the measurement fails.

use integration::qemu::{self, Board, Build, Run, RUN_TIMEOUT};

/// Models always measured: file under firmware/models and a label.
const MODELS: &[(&str, &str)] = &[
    ("default.nagode", "default (trained ECG forecaster)"),
    (
        "seeded_ecg.nagode",
        "seeded ECG stand-in (64-sample window)",
    ),
    ("sine16.nagode", "1→16→16→1 tanh MLP"),
];

/// A model to measure: its file, its label in the table and the file the
/// integer path runs (format 4), if there is one.
struct Measured {
    path: std::path::PathBuf,
    label: String,
    quant: Option<std::path::PathBuf>,
}

/// How the firmware gets its model.
#[derive(Clone, Copy)]
enum Path {
    /// The model file in flash, checked and read in place.
    Loaded,
    /// Rust statics the build script generated (feature `compiled`).
    Compiled,
    /// The quantised file on the integer path (feature `quant`).
    Integer,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Loaded => "loaded",
            Path::Compiled => "compiled",
            Path::Integer => "integer",
        }
    }

    /// Firmware features selecting this path, with `extra`.
    fn features(self, extra: &'static str) -> Vec<&'static str> {
        let mut features = vec![extra];
        match self {
            Path::Loaded => {}
            Path::Compiled => features.push("compiled"),
            Path::Integer => features.push("quant"),
        }
        features.retain(|f| !f.is_empty());
        features
    }
}

/// One row of the minimal-image table.
struct MinimalRow {
    core: String,
    model: String,
    path: Path,
    flash: u64,
    static_ram: u64,
    stack: u64,
}

/// One row of the table.
struct Row {
    core: String,
    model: String,
    path: Path,
    flash: u64,
    runtime: i64,
    model_bytes: u64,
    rest: u64,
    static_ram: u64,
    load_stack: u64,
    stack: u64,
    instructions: f64,
    macs: u64,
    kernel: f64,
}

fn build_and_run(
    board: &Board,
    model: Option<std::path::PathBuf>,
    features: &[&str],
    tag: &str,
) -> Result<Run, String> {
    let elf = Build {
        board,
        model,
        features,
        tag,
    }
    .run()?;
    let run = qemu::run_qemu(board, &elf, true, RUN_TIMEOUT)?;
    if run.code != Some(0) {
        return Err(format!("{} ({tag}) failed:\n{}", board.name, run.stdout));
    }
    Ok(run)
}

/// The `n`-th number of the first `tag` line.
fn field(run: &Run, tag: &str, n: usize) -> Result<u64, String> {
    run.numbers(tag)?
        .get(n)
        .copied()
        .ok_or_else(|| format!("{tag} line has no field {n}"))
}

fn measure_board(
    board: &Board,
    models: &[Measured],
    rows: &mut Vec<Row>,
    minimal: &mut Vec<MinimalRow>,
) -> Result<(), String> {
    let baseline = build_and_run(board, None, &["baseline"], "baseline")?;
    let baseline_flash = field(&baseline, "FLASH", 0)?;
    for (i, Measured { path, label, quant }) in models.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let model =
            nagode::Model::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let weight_bytes = model.weight_bytes().len() as u64;
        let integer = quant.iter().map(|q| (Path::Integer, q));
        for (how, file) in [(Path::Loaded, path), (Path::Compiled, path)]
            .into_iter()
            .chain(integer)
        {
            let tag = format!("measure{i}-{}", how.name());
            let run = build_and_run(board, Some(file.clone()), &how.features(""), &tag)?;
            let per_tick = field(&run, "CAL", 1)? as f64 / field(&run, "CAL", 0)?.max(1) as f64;
            let repeats = field(&run, "TICKS", 0)?.max(1) as f64;
            let instructions = field(&run, "TICKS", 1)? as f64 * per_tick / repeats;
            let kernel_macs =
                (field(&run, "KERNEL", 0)? * field(&run, "KERNEL", 1)? * field(&run, "KERNEL", 2)?)
                    .max(1);
            let kernel = field(&run, "KERNEL", 3)? as f64 * per_tick / kernel_macs as f64;
            let flash = field(&run, "FLASH", 0)?;
            // The compiled path stores the same weights as f32 arrays.
            let model_bytes = match how {
                Path::Loaded => bytes.len() as u64,
                Path::Compiled => weight_bytes,
                Path::Integer => std::fs::metadata(file)
                    .map_err(|e| format!("{}: {e}", file.display()))?
                    .len(),
            };
            rows.push(Row {
                core: format!("{} ({})", board.core, board.machine),
                model: label.clone(),
                path: how,
                flash,
                runtime: flash as i64 - baseline_flash as i64 - model_bytes as i64,
                model_bytes,
                rest: baseline_flash,
                static_ram: field(&run, "RAM", 0)?,
                load_stack: field(&run, "MODEL", 3)?,
                stack: field(&run, "TICKS", 2)?,
                instructions,
                macs: integration::models::macs_per_prediction(&model),
                kernel,
            });
            // The minimal image has no integer path.
            if let Path::Integer = how {
                continue;
            }
            let tag = format!("minimal{i}-{}", how.name());
            let run = build_and_run(board, Some(path.clone()), &how.features("minimal"), &tag)?;
            let host = integration::minimal_prediction(&model)?;
            qemu::compare_bits(&run.predictions()?, &[(0, host)])
                .map_err(|e| format!("{} minimal {}: {e}", board.name, how.name()))?;
            minimal.push(MinimalRow {
                core: format!("{} ({})", board.core, board.machine),
                model: label.clone(),
                path: how,
                flash: field(&run, "FLASH", 0)?,
                static_ram: field(&run, "RAM", 0)?,
                stack: field(&run, "RAM", 1)?,
            });
        }
    }
    Ok(())
}

/// Runs every measurement and prints the table; `extra` model files are
/// measured after the two standard ones.
pub fn measure(extra: &[String]) -> Result<(), String> {
    let dir = qemu::firmware_dir().join("models");
    let mut models: Vec<Measured> = MODELS
        .iter()
        .map(|(file, label)| Measured {
            path: dir.join(file),
            label: label.to_string(),
            quant: integration::models::QUANTISED
                .iter()
                .find(|(f32_file, _)| f32_file == file)
                .map(|(_, q)| dir.join(q)),
        })
        .collect();
    for file in extra {
        let path = std::fs::canonicalize(file).map_err(|e| format!("{file}: {e}"))?;
        let bytes = std::fs::read(&path).map_err(|e| format!("{file}: {e}"))?;
        // A file with a quantised section runs on the integer path too.
        let quantised = nagode::quant::QuantModel::from_bytes(&bytes).is_ok();
        models.push(Measured {
            label: format!("`{file}`"),
            quant: quantised.then(|| path.clone()),
            path,
        });
    }
    let mut rows = Vec::new();
    let mut minimal = Vec::new();
    for board in qemu::qemu_boards() {
        println!("xtask: measuring {} ({})", board.name, board.core);
        measure_board(board, &models, &mut rows, &mut minimal)?;
    }
    println!();
    println!("| core (QEMU machine) | model | path | flash total | runtime code | model bytes | rest | static RAM | stack: load / inference | instructions / inference | MACs / inference | instructions / MAC | dense kernel instructions / MAC |");
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {:.0} | {} | {:.2} | {:.2} |",
            r.core,
            r.model,
            r.path.name(),
            r.flash,
            r.runtime,
            r.model_bytes,
            r.rest,
            r.static_ram,
            r.load_stack,
            r.stack,
            r.instructions,
            r.macs,
            r.instructions / r.macs.max(1) as f64,
            r.kernel
        );
    }
    println!("\nMinimal images (one prediction printed as hex bits; its bits checked against the host runtime):\n");
    println!("| core (QEMU machine) | model | path | flash | static RAM | peak stack |");
    println!("|---|---|---|---:|---:|---:|");
    for r in &minimal {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.core,
            r.model,
            r.path.name(),
            r.flash,
            r.static_ram,
            r.stack
        );
    }
    println!("\nBytes; instructions from QEMU 7.2 `-icount shift=0` + SysTick, calibrated in the same run. Reproduce: `cargo xtask measure`.");
    Ok(())
}
