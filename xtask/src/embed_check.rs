//! `cargo xtask embed-check --model FILE --csv FILE`: the template firmware
//! (`templates/firmware/`) as a user gets it, with their model and data.
//!
//! It copies the template to a fresh folder outside the workspace, points
//! its runtime dependency at this checkout, builds it with the model on
//! both paths (`loaded`: the file in flash; `compiled`: the model as Rust
//! statics) for the template's board, runs each image in QEMU over every
//! window of the CSV's series with their real gaps, and compares every
//! prediction bit for bit with the host runtime's (`nagode::Session` over
//! the same samples and gaps: the template's `replay.rs` reads the CSV for
//! both). It prints the flash of each image. Bad input (a missing or
//! corrupt model, a model the template cannot run or its board cannot
//! hold, a CSV without a full window) stops with one line before anything
//! is copied; the copy is removed whatever happens.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use integration::qemu::{self, boards::Board};
use nagode::header::{MAX_CHANNELS, MAX_WIDTH, MAX_WINDOW};
use nagode::{Capacities, Model, Session};

use crate::workspace::{cargo, root};

/// The template's CSV reader, shared with its build script.
mod replay {
    include!("../../templates/firmware/replay.rs");
}

/// The board the template is built for (its build script's default): an
/// STM32F405 in QEMU, flash at 0x0800_0000 as on an STM32F4 board.
const BOARD: &str = "netduinoplus2";

/// Longest a run in QEMU may take (a long CSV on a large model).
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// Widest vector a model file can ask for: the host session holds any.
const HOST_STATE: usize = MAX_WIDTH;

/// Most window values a model file can ask for: the host session holds any.
const HOST_WINDOW: usize = MAX_WINDOW * MAX_CHANNELS;

/// Stack of the thread that runs the host session (under 200 kB).
const HOST_STACK: usize = 16 << 20;

/// A prediction: the index of its newest sample over the whole recording,
/// and its outputs.
type Prediction = (usize, Vec<f32>);

/// How the template gets its model (a cargo feature each).
#[derive(Clone, Copy)]
enum ModelPath {
    Loaded,
    Compiled,
}

impl ModelPath {
    fn name(self) -> &'static str {
        match self {
            ModelPath::Loaded => "loaded",
            ModelPath::Compiled => "compiled",
        }
    }
}

/// Runs the check (`args`: what follows `embed-check`).
pub fn embed_check(args: &[String]) -> Result<(), String> {
    let (model, csv) = options(args)?;
    let board = qemu::boards::board_named(BOARD).ok_or(format!("no board {BOARD}"))?;
    let input = Input::read(&model, &csv, board)?;
    println!(
        "embed-check: {} ({}) on {} ({}); {}: {} series, {} inputs (samples, or patches), {} predictions on the host",
        model.display(),
        input.capacities,
        board.name,
        board.core,
        csv.display(),
        input.series.len(),
        input.inputs(),
        input.host.len()
    );
    let copy = TemplateCopy::of_template()?;
    for path in [ModelPath::Loaded, ModelPath::Compiled] {
        let elf = copy.build(path, &model, &csv, board)?;
        let flash = flash_bytes(&elf)?;
        let run = qemu::run_qemu(board, &elf, false, RUN_TIMEOUT)?;
        let chip = device_predictions(&run, path)?;
        qemu::compare_bits(&chip, &input.host)
            .map_err(|e| format!("{} path differs from the host: {e}", path.name()))?;
        println!(
            "embed-check: {}: {} predictions bit-identical to the host; flash {flash} B ({} B of it the replayed CSV)",
            path.name(),
            chip.len(),
            replay_bytes(&input.series)
        );
    }
    println!("embed-check: passed");
    Ok(())
}

/// `--model FILE --csv FILE`, as absolute paths (the build runs elsewhere).
fn options(args: &[String]) -> Result<(PathBuf, PathBuf), String> {
    let usage = "usage: cargo xtask embed-check --model FILE --csv FILE";
    let (mut model, mut csv) = (None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--model" => &mut model,
            "--csv" => &mut csv,
            other => return Err(format!("unknown argument `{other}`; {usage}")),
        };
        *slot = Some(args.next().ok_or(format!("{arg} needs a file; {usage}"))?);
    }
    let absolute = |file: Option<&String>, what: &str| {
        let file = file.ok_or(format!("no {what}; {usage}"))?;
        fs::canonicalize(file).map_err(|e| format!("{what} {file}: {e}"))
    };
    Ok((absolute(model, "--model")?, absolute(csv, "--csv")?))
}

/// The checked model and recording, and the host's predictions.
struct Input {
    capacities: Capacities,
    series: Vec<replay::Series>,
    host: Vec<Prediction>,
}

impl Input {
    /// Reads `model` and `csv` and checks everything the host can check.
    fn read(model: &Path, csv: &Path, board: &Board) -> Result<Self, String> {
        let name = model.display();
        let bytes = fs::read(model).map_err(|e| format!("model {name}: {e}"))?;
        let loaded = Model::from_bytes(&bytes)
            .map_err(|e| format!("model {name} does not load: {}: {e}", e.name()))?;
        let capacities =
            Capacities::of(&bytes).map_err(|e| format!("model {name}: {}: {e}", e.name()))?;
        if !capacities.to_string().starts_with("nagode::Session<") {
            return Err(format!(
                "model {name} runs as {capacities}: the template runs window models (nagode::Session)"
            ));
        }
        let names: Vec<&str> = loaded.channel_names().collect();
        fits(&bytes, &capacities, board).map_err(|e| format!("model {name} {e}"))?;
        let text = fs::read_to_string(csv).map_err(|e| format!("CSV {}: {e}", csv.display()))?;
        let series = replay::read(&text, &names, loaded.channels(), loaded.nominal_gap())
            .map_err(|e| format!("CSV {}: {e}", csv.display()))?;
        let longest = series.iter().map(|s| s.gaps.len()).max().unwrap_or(0);
        if longest < loaded.window() {
            return Err(format!(
                "CSV {}: its longest series has {longest} samples, fewer than the model's window of {}: nothing to predict",
                csv.display(),
                loaded.window()
            ));
        }
        let (replay, flash) = (replay_bytes(&series), board.flash.1 as usize);
        if replay + bytes.len() > flash {
            return Err(format!(
                "CSV {}: its samples and gaps take {replay} B of flash, with the model's {} B more than board {}'s {flash} B: replay a shorter CSV",
                csv.display(),
                bytes.len(),
                board.name
            ));
        }
        // On a thread whose stack holds the largest session.
        let host = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(HOST_STACK)
                .spawn_scoped(scope, || host_predictions(&loaded, &series))
                .map_err(|e| format!("host thread: {e}"))?
                .join()
                .map_err(|_| "the host session panicked".to_string())?
        })?;
        Ok(Self {
            capacities,
            series,
            host,
        })
    }

    /// Inputs the session is fed: samples, or patches of a patched model.
    fn inputs(&self) -> usize {
        self.series.iter().map(|s| s.gaps.len()).sum()
    }
}

/// Flash a recording takes in the image: its samples and gaps as `f32`s.
fn replay_bytes(series: &[replay::Series]) -> usize {
    let floats: usize = series.iter().map(|s| s.samples.len() + s.gaps.len()).sum();
    4 * floats
}

/// Whether the model can fit `board`: its file in flash, and a session's
/// window of samples (a lower bound of the session: the build checks the
/// whole session at compile time) in RAM.
fn fits(bytes: &[u8], capacities: &Capacities, board: &Board) -> Result<(), String> {
    let (flash, ram) = (board.flash.1 as usize, board.ram.1 as usize);
    if bytes.len() > flash {
        return Err(format!(
            "({} B) does not fit board {}'s {flash} B of flash",
            bytes.len(),
            board.name
        ));
    }
    let window = 4 * capacities.window;
    if window > ram {
        return Err(format!(
            "does not fit board {}: a session holds {} window values ({window} B), the board has {ram} B of RAM",
            board.name, capacities.window
        ));
    }
    Ok(())
}

/// What the template prints, computed with the host runtime: each series
/// streamed through a session from empty, a prediction after every sample
/// that completes a window.
fn host_predictions(
    model: &Model<'_>,
    series: &[replay::Series],
) -> Result<Vec<Prediction>, String> {
    let mut session = Session::<HOST_STATE, HOST_WINDOW>::new(model)
        .map_err(|e| format!("host session: {}: {e}", e.name()))?;
    let mut out = vec![0.0f32; model.output_len()];
    let mut predictions = Vec::new();
    let samples = series.iter().flat_map(|s| {
        let starts = std::iter::once(true).chain(std::iter::repeat(false));
        s.samples.chunks(model.channels()).zip(&s.gaps).zip(starts)
    });
    for (n, ((sample, &gap), start)) in samples.enumerate() {
        let at = |e: nagode::RunError| format!("host, sample {n}: {}: {e}", e.name());
        if start {
            session.clear();
        }
        session.push(sample, gap).map_err(at)?;
        if session.is_ready() {
            let written = session.predict(&mut out).map_err(at)?;
            predictions.push((n, out[..written].to_vec()));
        }
    }
    Ok(predictions)
}

/// The predictions a run printed; a failed run is an error with its last
/// line (`ERROR name`, `PANIC`, `HARDFAULT`).
fn device_predictions(run: &qemu::Run, path: ModelPath) -> Result<Vec<Prediction>, String> {
    let last = run.stdout.lines().last().unwrap_or("no output");
    if run.code != Some(0) || !last.starts_with("DONE ") {
        return Err(format!(
            "the {} image failed in QEMU (exit {:?}): {last}",
            path.name(),
            run.code
        ));
    }
    run.predictions()
}

/// The template copied to a folder of its own outside the workspace,
/// removed when this is dropped (on success and on every error).
struct TemplateCopy {
    dir: PathBuf,
}

impl TemplateCopy {
    /// Copies `templates/firmware/` (without any `target/`), points its
    /// `nagode` dependency at this checkout's runtime and pins this
    /// checkout's toolchain.
    fn of_template() -> Result<Self, String> {
        let root = root();
        let dir = std::env::temp_dir().join(format!("nagode-embed-check-{}", std::process::id()));
        if dir.starts_with(&root) {
            return Err(format!(
                "the temporary folder {} lies inside the workspace: set TMPDIR elsewhere",
                dir.display()
            ));
        }
        let copy = TemplateCopy { dir };
        if copy.dir.exists() {
            fs::remove_dir_all(&copy.dir).map_err(|e| format!("{}: {e}", copy.dir.display()))?;
        }
        copy_tree(&root.join("templates/firmware"), &copy.dir)?;
        let runtime = root.join("runtime");
        let runtime = runtime
            .to_str()
            .filter(|p| !p.contains('\''))
            .ok_or(format!(
                "the runtime's path {} cannot be written in Cargo.toml",
                runtime.display()
            ))?;
        let manifest = copy.dir.join("Cargo.toml");
        let text = read(&manifest)?;
        let from = "path = \"../../runtime\"";
        if text.matches(from).count() != 2 {
            return Err(format!(
                "templates/firmware/Cargo.toml: expected `{from}` in [dependencies] and [build-dependencies]"
            ));
        }
        write(
            &manifest,
            &text.replace(from, &format!("path = '{runtime}'")),
        )?;
        let toolchain = read(&root.join("rust-toolchain.toml"))?;
        write(&copy.dir.join("rust-toolchain.toml"), &toolchain)?;
        Ok(copy)
    }

    /// Builds the copy (release, `path`'s feature, `board`) with `model`
    /// and `csv`; returns the image. A failed build is one line: the
    /// template's or the code generator's message, the linker's overflow,
    /// or the first compiler error.
    fn build(
        &self,
        path: ModelPath,
        model: &Path,
        csv: &Path,
        board: &Board,
    ) -> Result<PathBuf, String> {
        println!("embed-check: building the {} path", path.name());
        let mut command = cargo();
        command
            .current_dir(&self.dir)
            .args(["build", "--release", "--quiet", "--target", board.target])
            .args(["--no-default-features", "--features", path.name()])
            .env("NAGODE_MODEL", model)
            .env("NAGODE_CSV", csv)
            .env("NAGODE_BOARD", board.name);
        for var in [
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
        ] {
            command.env_remove(var);
        }
        let output = command
            .output()
            .map_err(|e| format!("cannot start cargo: {e}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!(
                "the {} path does not build for {}: {}",
                path.name(),
                board.name,
                build_error(&stderr)
            ));
        }
        Ok(self
            .dir
            .join("target")
            .join(board.target)
            .join("release/nagode-firmware"))
    }
}

impl Drop for TemplateCopy {
    fn drop(&mut self) {
        // Nothing to report to: a folder left in the system's temp is harmless.
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The line of a failed build's output that says why, without the tool
/// prefixes.
fn build_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    let find = |needle: &str| lines.iter().find(|l| l.contains(needle)).copied();
    let line = find("template build: ")
        .map(|l| l.split_once("template build: ").map_or(l, |(_, m)| m))
        .or_else(|| find("will not fit in region"))
        .or_else(|| {
            let line = find("larger than the RAM of board")?;
            line.find("a session").and_then(|at| line.get(at..))
        })
        .or_else(|| find("error"))
        .unwrap_or("cargo failed without a message");
    ["= note:", "rust-lld:", "error:"]
        .iter()
        .fold(line, |l, prefix| {
            l.strip_prefix(prefix).map_or(l, str::trim_start)
        })
        .to_string()
}

/// Copies the folder `from` to `to`, leaving out `target/` folders.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let (source, name) = (entry.path(), entry.file_name());
        if source.is_dir() {
            if name != "target" {
                copy_tree(&source, &to.join(&name))?;
            }
        } else {
            fs::copy(&source, to.join(&name)).map_err(|e| format!("{}: {e}", source.display()))?;
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Bytes an ELF image puts in flash: the file size of its loadable
/// segments (vector table, code, read-only data, `.data`'s initial values).
pub fn flash_bytes(elf: &Path) -> Result<u64, String> {
    let bytes = fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    loadable_bytes(&bytes)
        .ok_or_else(|| format!("{}: not a 32-bit little-endian ELF", elf.display()))
}

/// [`flash_bytes`] of an ELF32 little-endian image's bytes.
fn loadable_bytes(elf: &[u8]) -> Option<u64> {
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?));
    // Magic, 32-bit class, little-endian.
    if elf.get(..6)? != b"\x7fELF\x01\x01" {
        return None;
    }
    let (table, size, count) = (u32_at(28)? as usize, u16_at(42)? as usize, u16_at(44)?);
    let mut total = 0u64;
    for i in 0..usize::from(count) {
        let header = table + i * size;
        // PT_LOAD segments; p_filesz is the fifth word.
        if u32_at(header)? == 1 {
            total += u64::from(u32_at(header + 16)?);
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn board() -> &'static Board {
        qemu::boards::board_named(BOARD).expect("the template's board")
    }

    /// A file under a fresh folder in the system's temp.
    fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "nagode-embed-check-test-{}-{name}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).expect("scratch folder");
        let path = dir.join(name);
        fs::write(&path, bytes).expect("scratch file");
        path
    }

    fn model_file(name: &str) -> PathBuf {
        qemu::firmware_dir().join("models").join(name)
    }

    /// One line, naming what is wrong.
    fn refused(args: &[String], says: &str) {
        let error = embed_check(args).expect_err("refused");
        assert!(!error.contains('\n'), "{error}");
        assert!(error.contains(says), "{error}");
    }

    #[test]
    fn bad_input_is_one_line_before_anything_is_built() {
        let ecg = root().join("data/ecg_mitdb.csv");
        let ecg = ecg.to_str().expect("path");
        let default = model_file("default.nagode");
        let default = default.to_str().expect("path");
        refused(
            &args(&["--model", "no-such.nagode", "--csv", ecg]),
            "no-such.nagode",
        );
        refused(&args(&["--model", default]), "no --csv");
        refused(
            &args(&["--model", default, "--csv", ecg, "-x"]),
            "unknown argument `-x`",
        );

        let bytes = fs::read(model_file("default.nagode")).expect("model");
        let mut corrupt = bytes.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        let corrupt = scratch("corrupt.nagode", &corrupt);
        refused(
            &args(&["--model", corrupt.to_str().expect("path"), "--csv", ecg]),
            "does not load",
        );

        let stream = model_file(integration::models::STREAM_ECG);
        refused(
            &args(&["--model", stream.to_str().expect("path"), "--csv", ecg]),
            "runs as nagode::Stream<",
        );

        // A CSV shorter than the default model's window of 48.
        let short = scratch("short.csv", b"ecg\n0.1\n0.2\n0.3\n");
        refused(
            &args(&["--model", default, "--csv", short.to_str().expect("path")]),
            "its longest series has 3 samples, fewer than the model's window of 48",
        );
        for path in [corrupt, short] {
            let _ = fs::remove_dir_all(path.parent().expect("folder"));
        }
    }

    #[test]
    fn a_model_too_large_for_the_board_is_refused() {
        let bytes = fs::read(model_file("default.nagode")).expect("model");
        let mut capacities = Capacities::of(&bytes).expect("loads");
        assert_eq!(fits(&bytes, &capacities, board()), Ok(()));
        // 128 KiB of RAM holds at most 32768 window values.
        capacities.window = 40_000;
        let error = fits(&bytes, &capacities, board()).expect_err("too large");
        assert!(error.contains("160000 B"), "{error}");
        let huge = vec![0u8; 2 << 20];
        assert!(fits(&huge, &capacities, board())
            .expect_err("too large")
            .contains("flash"));
    }

    #[test]
    fn the_template_pins_the_workspace_toolchain() {
        let pin = |dir: &Path| read(&dir.join("rust-toolchain.toml")).expect("toolchain file");
        assert_eq!(pin(&root().join("templates/firmware")), pin(&root()));
    }

    #[test]
    fn build_errors_are_reduced_to_their_reason() {
        let codegen = "warning: x\nerror: failed to run custom build command\n  template build: /m.nagode does not load: Crc: bad\n";
        assert_eq!(build_error(codegen), "/m.nagode does not load: Crc: bad");
        let link = "error: linking with `rust-lld` failed\n  = note: rust-lld: error: section '.rodata' will not fit in region 'FLASH': overflowed by 12 bytes\n";
        let ram = "error[E0080]: evaluation panicked: a session for this model is larger than the RAM of board b\n";
        assert_eq!(
            build_error(ram),
            "a session for this model is larger than the RAM of board b"
        );
        assert_eq!(
            build_error(link),
            "section '.rodata' will not fit in region 'FLASH': overflowed by 12 bytes"
        );
    }

    #[test]
    fn loadable_bytes_sum_the_load_segments() {
        // An ELF32 header with two program headers: PT_LOAD (filesz 100)
        // and PT_NOTE (filesz 7).
        let mut elf = vec![0u8; 52 + 2 * 32];
        elf[..6].copy_from_slice(b"\x7fELF\x01\x01");
        elf[28..32].copy_from_slice(&52u32.to_le_bytes());
        elf[42..44].copy_from_slice(&32u16.to_le_bytes());
        elf[44..46].copy_from_slice(&2u16.to_le_bytes());
        elf[52..56].copy_from_slice(&1u32.to_le_bytes());
        elf[68..72].copy_from_slice(&100u32.to_le_bytes());
        elf[84..88].copy_from_slice(&4u32.to_le_bytes());
        elf[100..104].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(loadable_bytes(&elf), Some(100));
        assert_eq!(loadable_bytes(&elf[..60]), None);
        assert_eq!(loadable_bytes(b"not an elf"), None);
    }
}
