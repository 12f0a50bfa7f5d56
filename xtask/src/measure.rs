//! `cargo xtask measure`: flash, RAM and instructions of the firmware on
//! every core of the QEMU matrix, for the default model and the 1→16→16→1
//! tanh MLP, through both paths (the file loaded in place, and the model
//! compiled in by the build script), the integer path (firmware feature
//! `quant`) on each model's quantised copy (`integration::models::QUANTISED`,
//! or an extra file with a quantised section), the streaming path (firmware
//! feature `stream`) for the streaming ECG forecaster
//! (`integration::models::STREAM_ECG`, or an extra format-5 file), the
//! flow path (firmware feature `flow`) for the seeded 2-D flow
//! (`integration::models::FLOW_MOONS`, the ECG anomaly flow
//! `integration::models::FLOW_ECG` with its stored scaling, or an extra
//! flow file), the series
//! path (firmware feature `series`) for the seeded patched classifier
//! (`integration::models::SERIES_PATCHED`), plus the
//! minimal images (one prediction printed as hex, nothing else linked), as
//! Markdown tables; then issue 14's comparison per core: instructions per
//! sample of the window model predicting after every sample against the
//! streaming model's.
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
//!   run converts ticks to instructions. One prediction = one `predict` over
//!   a full window, timed 16 times back to back; on the streaming path one
//!   `push` of a sample (regular gap) and one `predict` (the read-out), which
//!   is what a device predicting after every sample pays per sample; on the
//!   flow path one `log_density` (a sample's anomaly score); on the series
//!   path one `nagode::resample::linear` of the 141-sample series onto the
//!   window plus one `run_window` (MACs: the window's). MACs
//!   are those the runtime performs (see `integration::models`:
//!   `macs_per_prediction`, `macs_per_stream_sample`, and
//!   `nagode::flow::Flow::macs_per_sample`; the integer path
//!   performs the same ones as the f32 one). The kernel column times the path's own
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
        integration::models::STREAM_ECG,
        "streaming ECG forecaster (trained, the default's shape)",
    ),
    (
        "seeded_ecg.nagode",
        "seeded ECG stand-in (64-sample window)",
    ),
    ("sine16.nagode", "1→16→16→1 tanh MLP"),
    (
        integration::models::FLOW_MOONS,
        "seeded 2-D flow ([z, t]→32→32→2, NAG 8 steps)",
    ),
    (
        integration::models::FLOW_ECG,
        "ECG anomaly flow (format 7: raw samples scaled, [z, t]→32→32→2, RK4 4 steps)",
    ),
];

/// The classifier measured on the series path only (feature `series`).
const SERIES: (&str, &str) = (
    integration::models::SERIES_PATCHED,
    "seeded patched classifier (resample 141 → 32 samples + classify)",
);

/// The window model and the streaming model of issue 14's comparison.
const COMPARED: (&str, &str) = ("default.nagode", integration::models::STREAM_ECG);

/// A model to measure: its file, its label in the table and the paths it
/// runs on with the file each runs (the integer path's is format 4).
struct Measured {
    path: std::path::PathBuf,
    label: String,
    runs: Vec<(Path, std::path::PathBuf)>,
}

impl Measured {
    /// A model file and the paths it runs on: a streaming model (format 5)
    /// on the streaming path only, a flow on the flow path only, a window
    /// model loaded and compiled, and integer when `quant` names its
    /// quantised file.
    fn new(
        path: std::path::PathBuf,
        label: String,
        quant: Option<std::path::PathBuf>,
    ) -> Result<Self, String> {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let runs = if nagode::stream::StreamModel::from_bytes(&bytes).is_ok() {
            vec![(Path::Streaming, path.clone())]
        } else if nagode::flow::FlowModel::from_bytes(&bytes).is_ok() {
            vec![(Path::Flow, path.clone())]
        } else {
            let integer = quant.map(|q| (Path::Integer, q));
            [(Path::Loaded, path.clone()), (Path::Compiled, path.clone())]
                .into_iter()
                .chain(integer)
                .collect()
        };
        Ok(Self { path, label, runs })
    }
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
    /// A streaming model file, state carried across samples (feature
    /// `stream`).
    Streaming,
    /// A flow file's anomaly score, one `log_density` per sample (feature
    /// `flow`).
    Flow,
    /// A classifier on recorded series: one resample onto the window and
    /// one `run_window` (feature `series`).
    Series,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Loaded => "loaded",
            Path::Compiled => "compiled",
            Path::Integer => "integer",
            Path::Streaming => "streaming",
            Path::Flow => "flow",
            Path::Series => "series",
        }
    }

    /// Firmware features selecting this path, with `extra`.
    fn features(self, extra: &'static str) -> Vec<&'static str> {
        let mut features = vec![extra];
        match self {
            Path::Loaded => {}
            Path::Compiled => features.push("compiled"),
            Path::Integer => features.push("quant"),
            Path::Streaming => features.push("stream"),
            Path::Flow => features.push("flow"),
            Path::Series => features.push("series"),
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
    file: std::path::PathBuf,
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
    for (i, Measured { path, label, runs }) in models.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let model =
            nagode::Model::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let weight_bytes = model.weight_bytes().len() as u64;
        for &(how, ref file) in runs {
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
                Path::Loaded | Path::Streaming | Path::Flow | Path::Series => bytes.len() as u64,
                Path::Compiled => weight_bytes,
                Path::Integer => std::fs::metadata(file)
                    .map_err(|e| format!("{}: {e}", file.display()))?
                    .len(),
            };
            let macs = match how {
                Path::Streaming => integration::models::macs_per_stream_sample(&model),
                Path::Flow => flow_macs(&bytes).map_err(|e| format!("{}: {e}", path.display()))?,
                _ => integration::models::macs_per_prediction(&model),
            };
            rows.push(Row {
                core: format!("{} ({})", board.core, board.machine),
                file: path.clone(),
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
                macs,
                kernel,
            });
            // The minimal image runs a window on the window f32 paths only.
            if let Path::Integer | Path::Streaming | Path::Flow | Path::Series = how {
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

/// Multiply-adds of one `log_density` of the flow file `bytes`.
fn flow_macs(bytes: &[u8]) -> Result<u64, nagode::LoadError> {
    let model = nagode::flow::FlowModel::from_bytes(bytes)?;
    let flow = nagode::flow::Flow::<{ integration::HOST_STATE }>::new(&model)?;
    Ok(flow.macs_per_sample())
}

/// Runs every measurement and prints the table; `extra` model files are
/// measured after the two standard ones.
pub fn measure(extra: &[String]) -> Result<(), String> {
    let dir = qemu::firmware_dir().join("models");
    let mut models = MODELS
        .iter()
        .map(|(file, label)| {
            let quant = integration::models::QUANTISED
                .iter()
                .find(|(f32_file, _)| f32_file == file)
                .map(|(_, q)| dir.join(q));
            Measured::new(dir.join(file), label.to_string(), quant)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let series = dir.join(SERIES.0);
    models.push(Measured {
        path: series.clone(),
        label: SERIES.1.to_string(),
        runs: vec![(Path::Series, series)],
    });
    for file in extra {
        let path = std::fs::canonicalize(file).map_err(|e| format!("{file}: {e}"))?;
        let bytes = std::fs::read(&path).map_err(|e| format!("{file}: {e}"))?;
        // A file with a quantised section runs on the integer path too.
        let quantised = nagode::quant::QuantModel::from_bytes(&bytes).is_ok();
        let quant = quantised.then(|| path.clone());
        models.push(Measured::new(path, format!("`{file}`"), quant)?);
    }
    let mut rows = Vec::new();
    let mut minimal = Vec::new();
    for board in qemu::qemu_boards() {
        println!("xtask: measuring {} ({})", board.name, board.core);
        measure_board(board, &models, &mut rows, &mut minimal)?;
    }
    println!();
    println!("| core (QEMU machine) | model | path | flash total | runtime code | model bytes | rest | static RAM | stack: load / inference | instructions / prediction | MACs / prediction | instructions / MAC | dense kernel instructions / MAC |");
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
    print_comparison(&rows, &dir);
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
    crate::measure_static::print_table()?;
    println!("\nBytes; instructions from QEMU 7.2 `-icount shift=0` + SysTick, calibrated in the same run; a streaming row's prediction is one sample's push and read-out, a flow row's one `Flow::score` (a sample's anomaly score, with its verdict for a format-7 flow), a series row's one resample and one window. Reproduce: `cargo xtask measure`.");
    Ok(())
}

/// Issue 14's comparison on each core: instructions per sample when the
/// device predicts after every sample, the window model (one `predict`
/// over its window per sample, loaded path) against the streaming model
/// (one `push` and one `predict`).
fn print_comparison(rows: &[Row], dir: &std::path::Path) {
    let (window, stream) = (dir.join(COMPARED.0), dir.join(COMPARED.1));
    let find = |core: &str, file: &std::path::Path, path: fn(Path) -> bool| {
        rows.iter()
            .find(|r| r.core == core && r.file == file && path(r.path))
    };
    println!("\nPredicting after every sample (issue 14; goal: streaming ≤ 1/20 of the window model's instructions per sample on the M4F):\n");
    println!("| core (QEMU machine) | window `{}`, instructions / sample | streaming `{}`, instructions / sample | streaming / window |", COMPARED.0, COMPARED.1);
    println!("|---|---:|---:|---:|");
    let mut cores: Vec<&str> = rows.iter().map(|r| r.core.as_str()).collect();
    cores.dedup();
    for core in cores {
        let w = find(core, &window, |p| matches!(p, Path::Loaded));
        let s = find(core, &stream, |p| matches!(p, Path::Streaming));
        if let (Some(w), Some(s)) = (w, s) {
            let ratio = s.instructions / w.instructions.max(1.0);
            println!(
                "| {core} | {:.0} | {:.0} | {ratio:.4} (1/{:.1}) |",
                w.instructions,
                s.instructions,
                1.0 / ratio.max(f64::MIN_POSITIVE)
            );
        }
    }
}
