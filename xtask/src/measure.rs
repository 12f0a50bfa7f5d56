//! `cargo xtask measure`: flash, RAM and instructions of the firmware on
//! every core of the QEMU matrix, for the default model and the 1→16→16→1
//! tanh MLP, as a Markdown table.
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
//!   performs (see `integration::models::macs_per_prediction`).

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

/// A model to measure: its file and its label in the table.
struct Measured {
    path: std::path::PathBuf,
    label: String,
}

/// One row of the table.
struct Row {
    core: String,
    model: String,
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

fn measure_board(board: &Board, models: &[Measured], rows: &mut Vec<Row>) -> Result<(), String> {
    let baseline = build_and_run(board, None, &["baseline"], "baseline")?;
    let baseline_flash = field(&baseline, "FLASH", 0)?;
    for (i, Measured { path, label }) in models.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let model =
            nagode::Model::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let run = build_and_run(board, Some(path.clone()), &[], &format!("measure{i}"))?;
        let per_tick = field(&run, "CAL", 1)? as f64 / field(&run, "CAL", 0)?.max(1) as f64;
        let repeats = field(&run, "TICKS", 0)?.max(1) as f64;
        let instructions = field(&run, "TICKS", 1)? as f64 * per_tick / repeats;
        let kernel_macs =
            (field(&run, "KERNEL", 0)? * field(&run, "KERNEL", 1)? * field(&run, "KERNEL", 2)?)
                .max(1);
        let kernel = field(&run, "KERNEL", 3)? as f64 * per_tick / kernel_macs as f64;
        let flash = field(&run, "FLASH", 0)?;
        rows.push(Row {
            core: format!("{} ({})", board.core, board.machine),
            model: label.clone(),
            flash,
            runtime: flash as i64 - baseline_flash as i64 - bytes.len() as i64,
            model_bytes: bytes.len() as u64,
            rest: baseline_flash,
            static_ram: field(&run, "RAM", 0)?,
            load_stack: field(&run, "MODEL", 3)?,
            stack: field(&run, "TICKS", 2)?,
            instructions,
            macs: integration::models::macs_per_prediction(&model),
            kernel,
        });
    }
    Ok(())
}

/// Runs every measurement and prints the table; `extra` model files are
/// measured after the two standard ones.
pub fn measure(extra: &[String]) -> Result<(), String> {
    let mut models: Vec<Measured> = MODELS
        .iter()
        .map(|(file, label)| Measured {
            path: qemu::firmware_dir().join("models").join(file),
            label: label.to_string(),
        })
        .collect();
    for file in extra {
        let path = std::fs::canonicalize(file).map_err(|e| format!("{file}: {e}"))?;
        models.push(Measured {
            label: format!("`{file}`"),
            path,
        });
    }
    let mut rows = Vec::new();
    for board in qemu::qemu_boards() {
        println!("xtask: measuring {} ({})", board.name, board.core);
        measure_board(board, &models, &mut rows)?;
    }
    println!();
    println!("| core (QEMU machine) | model | flash total | runtime code | model bytes | rest | static RAM | stack: load / inference | instructions / inference | MACs / inference | instructions / MAC | dense kernel instructions / MAC |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} / {} | {:.0} | {} | {:.2} | {:.2} |",
            r.core,
            r.model,
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
    println!("\nBytes; instructions from QEMU 7.2 `-icount shift=0` + SysTick, calibrated in the same run. Reproduce: `cargo xtask measure`.");
    Ok(())
}
