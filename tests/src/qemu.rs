//! Builds the firmware for a board of the core matrix, runs it in QEMU under
//! a timeout and parses what it printed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The core matrix, the table the firmware's build script reads.
pub use nagode::codegen::boards;
/// The replayed samples and the prediction schedule, shared with the firmware.
pub mod replay {
    include!("../../firmware/replay_data.rs");
}
/// The replay's gap schedule, the file the firmware's `Replay` uses.
pub mod gaps {
    include!("../../firmware/sample-source/src/gaps.rs");
}

pub use boards::{Board, BOARDS};

/// Longest a firmware run may take before it counts as hung.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Cargo builds of the firmware share one output folder: one at a time.
static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// The firmware crate's folder.
pub fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware")
}

/// The repository root.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Boards QEMU can run (the matrix without real boards).
pub fn qemu_boards() -> impl Iterator<Item = &'static Board> {
    BOARDS.iter().filter(|b| !b.machine.is_empty())
}

/// One firmware build: a board, a model file and extra cargo features.
#[derive(Clone, Debug)]
pub struct Build<'a> {
    /// Board from the matrix.
    pub board: &'a Board,
    /// Model file to embed (`None`: the checked-in default).
    pub model: Option<PathBuf>,
    /// Cargo features of the `firmware` package.
    pub features: &'a [&'a str],
    /// Name that keeps this build's ELF apart from the others.
    pub tag: &'a str,
}

impl Build<'_> {
    /// Builds the firmware (release) from inside `firmware/`, so its
    /// `.cargo/config.toml` applies, and copies the ELF to
    /// `firmware/target/qemu/<board>-<tag>.elf`. With feature `minimal` the
    /// ELF is the minimal image (`src/bin/minimal.rs`), with feature
    /// `static` the static-input classifier (`src/bin/classify.rs`).
    pub fn run(&self) -> Result<PathBuf, String> {
        let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let dir = firmware_dir();
        let bin = if self.features.contains(&"minimal") {
            "minimal"
        } else if self.features.contains(&"static") {
            "classify"
        } else {
            "firmware"
        };
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo
            .current_dir(&dir)
            .args([
                "build",
                "--release",
                "--quiet",
                "--target",
                self.board.target,
                "--bin",
                bin,
            ])
            .args(["--target-dir", "target"])
            // A host-side CARGO_TARGET_DIR must not redirect the firmware.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .env("NAGODE_BOARD", self.board.name);
        match &self.model {
            Some(model) => cargo.env("NAGODE_MODEL", model),
            None => cargo.env_remove("NAGODE_MODEL"),
        };
        if !self.features.is_empty() {
            cargo.args(["--features", &self.features.join(",")]);
        }
        let output = cargo
            .output()
            .map_err(|e| format!("cannot start cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "firmware build for {} failed ({}):\n{}",
                self.board.name,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let built = dir
            .join("target")
            .join(self.board.target)
            .join("release")
            .join(bin);
        let elf = dir
            .join("target/qemu")
            .join(format!("{}-{}.elf", self.board.name, self.tag));
        std::fs::create_dir_all(elf.parent().unwrap_or(&dir))
            .and_then(|()| std::fs::copy(&built, &elf))
            .map_err(|e| format!("copy {} -> {}: {e}", built.display(), elf.display()))?;
        Ok(elf)
    }
}

/// What a finished QEMU run gave back.
#[derive(Clone, Debug)]
pub struct Run {
    /// QEMU's exit code (semihosting exit: 0 success, 1 failure).
    pub code: Option<i32>,
    /// Everything the firmware printed.
    pub stdout: String,
}

impl Run {
    /// Lines starting with `tag ` (the tag removed), split on spaces.
    pub fn tagged<'s>(&'s self, tag: &'s str) -> impl Iterator<Item = Vec<&'s str>> + 's {
        self.stdout.lines().filter_map(move |line| {
            let rest = line.strip_prefix(tag)?.strip_prefix(' ')?;
            Some(rest.split_whitespace().collect())
        })
    }
}

/// The `qemu-system-arm` command line for `board` (without `-kernel`).
pub fn qemu_args(board: &Board, icount: bool) -> Vec<String> {
    let mut args: Vec<String> = [
        "-machine",
        board.machine,
        "-cpu",
        board.cpu,
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if icount {
        // One instruction = one virtual nanosecond: SysTick counts instructions.
        args.extend(["-icount".into(), "shift=0".into()]);
    }
    args
}

/// Runs `elf` on `board` in QEMU, killed after `timeout`.
pub fn run_qemu(board: &Board, elf: &Path, icount: bool, timeout: Duration) -> Result<Run, String> {
    let mut child = Command::new("qemu-system-arm")
        .args(qemu_args(board, icount))
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-arm: {e} (install it: apt-get install -y qemu-system-arm)"))?;
    let mut pipe = child.stdout.take().ok_or("qemu stdout not captured")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        match child
            .try_wait()
            .map_err(|e| format!("waiting for qemu: {e}"))?
        {
            Some(status) => break status,
            None if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                let stdout = reader.join().unwrap_or_default();
                return Err(format!(
                    "{} on {} did not finish within {timeout:?}; output so far:\n{stdout}",
                    elf.display(),
                    board.name
                ));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let stdout = reader.join().map_err(|_| "qemu output reader panicked")?;
    Ok(Run {
        code: status.code(),
        stdout,
    })
}

/// The replayed samples, read on the host from the same CSV and cut the
/// same way as the firmware's build script does.
pub fn replay_samples() -> Result<Vec<f32>, String> {
    let path = repo_dir().join("data/ecg_mitdb.csv");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let series = replay::first_column(&text)?;
    Ok(replay::replay_tail(&series, replay::REPLAY_LEN).to_vec())
}

/// A checked-in model file under `firmware/models`: its path and bytes.
pub fn model_file(name: &str) -> Result<(PathBuf, Vec<u8>), String> {
    let path = firmware_dir().join("models").join(name);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path, bytes))
}

/// Builds the firmware for the board named `board` with `model` (a file
/// under `firmware/models`) and `features`, and runs it under QEMU
/// (without `-icount`). The run may have failed: check [`Run::code`].
pub fn build_and_run(board: &str, model: &str, features: &[&str]) -> Result<Run, String> {
    let board = boards::board_named(board).ok_or_else(|| format!("no board {board}"))?;
    let (path, _) = model_file(model)?;
    let tag = [
        features.join("-"),
        model.trim_end_matches(".nagode").to_string(),
    ]
    .join("-");
    let elf = Build {
        board,
        model: Some(path),
        features,
        tag: &tag,
    }
    .run()?;
    run_qemu(board, &elf, false, RUN_TIMEOUT)
}

/// Checks that the run replayed exactly `samples` (count and checksum of the
/// `REPLAY` line).
pub fn check_replay(run: &Run, samples: &[f32]) -> Result<(), String> {
    let replayed = run.numbers("REPLAY")?;
    let expected = [samples.len() as u64, u64::from(replay::fnv1a_bits(samples))];
    if replayed == expected {
        Ok(())
    } else {
        Err(format!(
            "the chip replayed other samples than the host uses: {replayed:?} vs {expected:?}"
        ))
    }
}

/// Builds and runs `model` with `features` on every core and checks that
/// the chip replayed `samples` and printed `host`'s predictions bit for bit.
pub fn host_parity_on_every_core(
    model: &str,
    features: &[&str],
    samples: &[f32],
    host: &[(usize, Vec<f32>)],
) {
    on_every_core(|board| {
        let run = build_and_run(board.name, model, features).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.code, Some(0), "{} failed:\n{}", board.name, run.stdout);
        check_replay(&run, samples).unwrap_or_else(|e| panic!("{}: {e}", board.name));
        let chip = run.predictions().unwrap_or_else(|e| panic!("{e}"));
        if let Err(difference) = compare_bits(&chip, host) {
            panic!(
                "{} ({}) {model} {features:?}: {difference}",
                board.name, board.core
            );
        }
    });
}

/// Builds `model` with `features` for the M4F and checks that the firmware
/// stops with `ERROR load <error>` and a failing exit.
pub fn assert_refused(model: &str, features: &[&str], error: &str) {
    let run = build_and_run("mps2-an386", model, features).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("ERROR load {error}")),
        "{}",
        run.stdout
    );
}

/// Runs `check` on every board of the QEMU matrix, then checks that the
/// matrix covered the five cores (M0, M3, M4F, M7, M33).
pub fn on_every_core(mut check: impl FnMut(&Board)) {
    let mut tested = Vec::new();
    for board in qemu_boards() {
        check(board);
        tested.push(board.name);
    }
    for core in [
        "microbit",
        "mps2-an385",
        "mps2-an386",
        "mps2-an500",
        "mps2-an505",
    ] {
        assert!(tested.contains(&core), "{core} was not tested");
    }
}

/// `f32` from 8 hex digits of its bit pattern.
pub fn parse_bits(hex: &str) -> Result<f32, String> {
    u32::from_str_radix(hex, 16)
        .map(f32::from_bits)
        .map_err(|e| format!("bad f32 bits {hex:?}: {e}"))
}

impl Run {
    /// Every `PRED index hex..` line as `(index, values)`.
    pub fn predictions(&self) -> Result<Vec<(usize, Vec<f32>)>, String> {
        self.tagged("PRED")
            .map(|fields| {
                let (index, values) = fields.split_first().ok_or("PRED line without fields")?;
                let index = index
                    .parse()
                    .map_err(|e| format!("PRED index {index:?}: {e}"))?;
                let values = values
                    .iter()
                    .map(|h| parse_bits(h))
                    .collect::<Result<_, _>>()?;
                Ok((index, values))
            })
            .collect()
    }

    /// The numbers after `tag` on its first line.
    pub fn numbers(&self, tag: &str) -> Result<Vec<u64>, String> {
        let fields = self
            .tagged(tag)
            .next()
            .ok_or_else(|| format!("no {tag} line in:\n{}", self.stdout))?;
        fields
            .iter()
            .filter(|f| f.chars().all(|c| c.is_ascii_digit()))
            .map(|f| f.parse().map_err(|e| format!("{tag} {f:?}: {e}")))
            .collect()
    }
}

/// Compares the firmware's predictions with the host's bit for bit; the
/// error names the first difference and its size in units in the last place.
pub fn compare_bits(chip: &[(usize, Vec<f32>)], host: &[(usize, Vec<f32>)]) -> Result<(), String> {
    if chip.len() != host.len() {
        return Err(format!(
            "{} predictions on the chip, {} on the host",
            chip.len(),
            host.len()
        ));
    }
    for ((ci, cv), (hi, hv)) in chip.iter().zip(host) {
        if ci != hi || cv.len() != hv.len() {
            return Err(format!(
                "prediction after sample {ci} ({} values) vs host after {hi} ({} values)",
                cv.len(),
                hv.len()
            ));
        }
        for (k, (c, h)) in cv.iter().zip(hv).enumerate() {
            if c.to_bits() != h.to_bits() {
                let ulps = (i64::from(c.to_bits() as i32) - i64::from(h.to_bits() as i32)).abs();
                return Err(format!(
                    "after sample {ci}, output {k}: chip {c:e} ({:08x}) host {h:e} ({:08x}), {ulps} ulp apart",
                    c.to_bits(),
                    h.to_bits()
                ));
            }
        }
    }
    Ok(())
}
