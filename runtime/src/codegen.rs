//! A model file as Rust, for a firmware's build script (feature `codegen`;
//! it needs `std`, which a build script has).
//!
//! One call in `build.rs` checks the file as [`crate::Model::from_bytes`]
//! does and writes one Rust file that [`crate::include_generated!`] puts in
//! a module of the firmware:
//!
//! * the capacities as constants (`STATE`, `WINDOW`, `DIM`, `OUTPUTS`,
//!   `CHANNELS`, and `WARMUP` for a streaming model) and the type that runs
//!   the file with them (`Session` and `Runner`, `Stream`, `Flow` or
//!   `Classifier`), so no capacity is written by hand;
//! * `FILE`: the file itself, 4-aligned in flash (the loaded path:
//!   `Model::from_bytes(model::FILE)`);
//! * `NET` and `Compiled` (the compiled path): every weight as an aligned
//!   `f32` array, and a [`crate::build::Layers`] type whose layers have
//!   constant widths ([`crate::build::fixed`]); no CRC, decode or
//!   validation at run time, and the loaded file's bits;
//! * `CLASS_NAMES`;
//! * with a [`boards::Board`], a check at compile time that the session
//!   fits the board's RAM (and `memory.x` for `cortex-m-rt`).
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), nagode::codegen::Error> {
//!     nagode::codegen::Build::new("model.nagode").run()
//! }
//! ```
//!
//! The generated text depends on the file's bytes alone (and the board), so
//! the same file gives the same Rust on every host.

pub mod boards;

use std::fmt;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{env, format, fs, io, println};

use crate::build::{Dense, Net};
use crate::capacities::Capacities;
use crate::error::LoadError;
use crate::format::ModelKind;
use crate::model::Model;
use boards::Board;

/// The Rust file [`Build::run`] writes in `OUT_DIR` (what
/// [`crate::include_generated!`] includes).
pub const RUST_FILE: &str = "nagode_model.rs";

/// The copy of the model file [`Build::run`] writes in `OUT_DIR` (the
/// generated `FILE`).
pub const MODEL_FILE: &str = "nagode_model.nagode";

/// Why a model file did not become Rust. `Debug` writes the same line as
/// `Display`, so `fn main() -> Result<(), Error>` in a build script prints
/// it readably.
pub enum Error {
    /// `OUT_DIR` is not set: [`Build::run`] runs from a build script.
    NoOutDir,
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
    /// The model file does not load: the error [`crate::Model::from_bytes`]
    /// (or the loader of the file's kind) gives on the device.
    Load {
        /// The model file.
        path: PathBuf,
        /// The loader's error.
        error: LoadError,
    },
    /// The model file alone is larger than the board's flash.
    TooLarge {
        /// The model file.
        path: PathBuf,
        /// Its size.
        bytes: usize,
        /// The board.
        board: &'static str,
        /// The board's flash in bytes.
        flash: u32,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoOutDir => write!(
                f,
                "OUT_DIR is not set: nagode::codegen::Build::run runs from a build script"
            ),
            Self::Io { path, error } => write!(f, "{}: {error}", path.display()),
            Self::Load { path, error } => write!(
                f,
                "{} does not load: {}: {error}",
                path.display(),
                error.name()
            ),
            Self::TooLarge {
                path,
                bytes,
                board,
                flash,
            } => write!(
                f,
                "{} ({bytes} bytes) does not fit the {flash}-byte flash of board {board}",
                path.display()
            ),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// One model file to turn into Rust (see the module docs).
#[derive(Clone, Debug)]
pub struct Build {
    model: PathBuf,
    board: Option<&'static Board>,
}

impl Build {
    /// The model file at `model` (relative to the package, where Cargo runs
    /// build scripts).
    pub fn new(model: impl Into<PathBuf>) -> Self {
        Self {
            model: model.into(),
            board: None,
        }
    }

    /// For `board`: the model file must fit its flash, the generated code
    /// checks at compile time that a session fits its RAM, and
    /// [`Self::run`] writes its `memory.x` where the linker finds it.
    pub fn board(self, board: &'static Board) -> Self {
        Self {
            board: Some(board),
            ..self
        }
    }

    /// Checks the model file and writes [`RUST_FILE`] and [`MODEL_FILE`]
    /// in `OUT_DIR` (with a board, its `memory.x` first, whatever the
    /// file); Cargo reruns the build script when the file changes. Neither
    /// is written for a file that does not load.
    pub fn run(&self) -> Result<(), Error> {
        let out = PathBuf::from(env::var_os("OUT_DIR").ok_or(Error::NoOutDir)?);
        println!("cargo:rerun-if-changed={}", self.model.display());
        if let Some(board) = self.board {
            write(&out.join("memory.x"), boards::memory_x(board).as_bytes())?;
            println!("cargo:rustc-link-search={}", out.display());
        }
        self.write(&out)
    }

    /// [`RUST_FILE`] and [`MODEL_FILE`] in `out`.
    fn write(&self, out: &Path) -> Result<(), Error> {
        let bytes = fs::read(&self.model).map_err(|error| Error::Io {
            path: self.model.clone(),
            error,
        })?;
        if let Some(board) = self.board {
            if u32::try_from(bytes.len()).map_or(true, |n| n > board.flash.1) {
                return Err(Error::TooLarge {
                    path: self.model.clone(),
                    bytes: bytes.len(),
                    board: board.name,
                    flash: board.flash.1,
                });
            }
        }
        let code = rust(&bytes, self.board).map_err(|error| Error::Load {
            path: self.model.clone(),
            error,
        })?;
        write(&out.join(RUST_FILE), code.as_bytes())?;
        write(&out.join(MODEL_FILE), &bytes)
    }
}

/// `bytes` into the file at `path`.
fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fs::write(path, bytes).map_err(|error| Error::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// The Rust source [`Build::run`] writes for a model file (see the module
/// docs); refuses what the file's loader refuses, with its error.
pub fn rust(bytes: &[u8], board: Option<&Board>) -> Result<String, LoadError> {
    let capacities = Capacities::of(bytes)?;
    // `Capacities::of` has checked the file as its kind's loader does.
    let model = Model::from_bytes_any(bytes)?;
    let mut code = String::from(
        "// Generated by nagode::codegen from a model file it checked as the device's\n\
         // loader does; every float is its exact bit pattern.\n\
         use nagode::build::{fixed, Activation, Dense, Net};\n\n",
    );
    code.push_str(&types(&capacities));
    if let Some(board) = board {
        code.push_str(&ram_check(&capacities, board));
    }
    code.push_str(&statics(&model.net()));
    code.push_str(&compiled_layers(&model.net()));
    let classes: Vec<String> = model.class_names().map(|c| format!("{c:?}")).collect();
    code.push_str(&format!(
        "/// The model's class names (empty when the file names none).\n\
         pub static CLASS_NAMES: [&str; {}] = [{}];\n",
        classes.len(),
        classes.join(", ")
    ));
    Ok(code)
}

/// The capacities as constants, the file, and the type that runs it.
fn types(c: &Capacities) -> String {
    let Capacities {
        state,
        window,
        dim,
        outputs,
        channels,
        ..
    } = *c;
    let mut code = format!(
        "/// `STATE`: the widest vector.\npub const STATE: usize = {state};\n\
         /// `WINDOW`: sample values in a window (`window * channels`).\npub const WINDOW: usize = {window};\n\
         /// `DIM`: the ODE state and the solver's stages.\npub const DIM: usize = {dim};\n\
         /// Values one prediction writes (the `out` slice's length).\npub const OUTPUTS: usize = {outputs};\n\
         /// Values one sample holds.\npub const CHANNELS: usize = {channels};\n\n\
         /// The model file, 4-aligned in flash: the loaded path reads its weights in place.\n\
         pub static FILE: &[u8] = nagode::include_model!(concat!(env!(\"OUT_DIR\"), \"/{MODEL_FILE}\"));\n\n"
    );
    code.push_str(match c.kind {
        ModelKind::Window => {
            "/// A session for this model: its layers from a loaded file's `Net`\n\
             /// (the default) or [`Compiled`].\n\
             pub type Session<'m, L = Net<'m>> = nagode::Session<'m, STATE, WINDOW, DIM, L>;\n\
             /// Buffers for whole windows of this model.\npub type Runner = nagode::Runner<STATE, DIM>;\n\n"
        }
        ModelKind::Streaming { .. } => {
            "/// A stream for this model: its layers from a loaded file's `Net` (the\n\
             /// default) or [`Compiled`] (`Stream::with_layers(Compiled, WARMUP)`).\n\
             pub type Stream<'m, L = Net<'m>> = nagode::Stream<'m, STATE, DIM, L>;\n\n"
        }
        ModelKind::Flow => {
            "/// The flow's evaluator (`Flow::new` on the loaded file, or\n\
             /// `Flow::from_net(NET)`).\npub type Flow<'m> = nagode::Flow<'m, STATE, DIM>;\n\n"
        }
        ModelKind::Static => {
            "/// A classifier for this model: its layers from a loaded file's `Net`\n\
             /// (the default) or [`Compiled`] (`Classifier::with_layers(Compiled)`).\n\
             pub type Classifier<'m, L = Net<'m>> = nagode::Classifier<'m, STATE, DIM, L>;\n\n"
        }
    });
    if let ModelKind::Streaming { warmup } = c.kind {
        code.push_str(&format!(
            "/// Samples after a reset before a prediction is meaningful.\npub const WARMUP: u32 = {warmup};\n\n"
        ));
    }
    code
}

/// A compile-time check that the type running the model fits `board`'s RAM.
fn ram_check(c: &Capacities, board: &Board) -> String {
    let ty = match c.kind {
        ModelKind::Window => "Session<'static>",
        ModelKind::Streaming { .. } => "Stream<'static>",
        ModelKind::Flow => "Flow<'static>",
        ModelKind::Static => "Classifier<'static>",
    };
    format!(
        "// The session alone must fit the RAM of board {name}.\n\
         const _: () = assert!(\n    core::mem::size_of::<{ty}>() <= {ram},\n    \
         \"a session for this model is larger than the RAM of board {name}\"\n);\n\n",
        name = board.name,
        ram = board.ram.1,
    )
}

/// An f32 as an exact Rust expression.
fn bits(value: f32) -> String {
    format!("f32::from_bits({:#010x})", value.to_bits())
}

/// `values` as exact Rust expressions, comma-separated.
fn floats(values: impl Iterator<Item = f32>) -> String {
    values.map(bits).collect::<Vec<_>>().join(", ")
}

/// Each layer's weights as a `[[f32; inputs]; outputs]` static and its bias
/// as a `[f32; outputs]` one, and `NET` over them: the facts, and the layers
/// as slices.
fn statics(net: &Net<'_>) -> String {
    let mut code = String::from(
        "/// A layer over generated arrays; a shape mismatch stops the build.\n\
         const fn layer<const I: usize, const O: usize>(\n    activation: Activation,\n    \
         weights: &'static [[f32; I]; O],\n    bias: &'static [f32; O],\n) -> Dense<'static> {\n    \
         match Dense::from_arrays(activation, I, weights.as_flattened(), bias) {\n        \
         Some(layer) => layer,\n        None => panic!(\"generated weights do not match their layer\"),\n    \
         }\n}\n\n",
    );
    for (block, layers) in [
        ("ENCODER", net.encoder),
        ("FIELD", net.field),
        ("DECODER", net.decoder),
    ] {
        let mut entries = Vec::new();
        for (i, l) in layers.iter().enumerate() {
            let w = l.weights();
            let rows: Vec<String> = (0..l.outputs)
                .map(|o| {
                    let row = (0..l.inputs).filter_map(|k| w.get(o * l.inputs + k));
                    format!("[{}]", floats(row))
                })
                .collect();
            code.push_str(&format!(
                "static {block}_{i}_W: [[f32; {}]; {}] = [{}];\nstatic {block}_{i}_B: [f32; {}] = [{}];\n",
                l.inputs,
                l.outputs,
                rows.join(", "),
                l.outputs,
                floats((0..l.outputs).filter_map(|o| l.bias(o))),
            ));
            entries.push(format!(
                "layer(Activation::{:?}, &{block}_{i}_W, &{block}_{i}_B)",
                l.activation
            ));
        }
        code.push_str(&format!(
            "static {block}: [Dense<'static>; {}] = [{}];\n\n",
            entries.len(),
            entries.join(", ")
        ));
    }
    let s = net.solver;
    code.push_str(&format!(
        "/// The model as the engine reads it.\npub static NET: Net<'static> = Net {{\n    channels: {},\n    window: {},\n    \
         state_dim: {},\n    output_len: {},\n    forecast: {},\n    sample_dt: {},\n    \
         time_unit: {},\n    state_bound: {},\n    solver: nagode::build::SolverSpec {{\n        \
         kind: nagode::build::SolverKind::{:?},\n        mu: {},\n        consistency_scaling: {},\n        \
         startup: nagode::build::Startup::{:?},\n        max_step: {},\n    }},\n    \
         reference: nagode::build::Reference::{:?},\n    mean: &[{}],\n    std: &[{}],\n    \
         encoder: &ENCODER,\n    field: &FIELD,\n    decoder: &DECODER,\n}};\n\n",
        net.channels,
        net.window,
        net.state_dim,
        net.output_len,
        net.forecast,
        bits(net.sample_dt),
        bits(net.time_unit),
        bits(net.state_bound),
        s.kind,
        bits(s.mu),
        s.consistency_scaling,
        s.startup,
        bits(s.max_step),
        net.reference,
        floats(net.mean.iter().copied()),
        floats(net.std.iter().copied()),
    ));
    code
}

/// Calls running `layers` (statics `{block}_{i}_W`/`_B`) from `input` (`a`
/// or `b`), alternating buffers; returns the code and the buffer and width
/// holding the result.
fn chain(
    block: &str,
    layers: &[Dense<'_>],
    skip: usize,
    input: (&'static str, usize),
) -> (String, (&'static str, usize)) {
    let mut code = String::new();
    let mut at = input;
    for (i, l) in layers.iter().enumerate().skip(skip) {
        let to = if at.0 == "a" { "b" } else { "a" };
        code.push_str(&format!(
            "        fixed::dense(&{block}_{i}_W, &{block}_{i}_B, Activation::{:?}, {}, {to});\n",
            l.activation, at.0
        ));
        at = (to, l.outputs);
    }
    (code, at)
}

/// The `Compiled` type: `nagode::build::Layers` over the statics with
/// constant widths.
fn compiled_layers(net: &Net<'_>) -> String {
    let (encode, (enc_buf, enc_len)) = chain("ENCODER", net.encoder, 0, ("a", net.channels));
    let (decode, (dec_buf, dec_len)) = chain("DECODER", net.decoder, 0, ("a", net.state_dim));
    let d = net.state_dim;
    let (hold, field) = match net.field.first() {
        Some(first) => {
            let (rest, (buf, len)) = chain("FIELD", net.field, 1, ("a", first.outputs));
            (
                format!(
                    "        fixed::hold::<{d}, {}, {}>(&FIELD_0_W, &FIELD_0_B, e, held)\n",
                    first.inputs, first.outputs
                ),
                format!(
                    "        fixed::first::<{d}, {}, {}>(&FIELD_0_W, held, Activation::{:?}, y, a);\n{rest}        \
                     let result: &[f32] = {buf};\n        \
                     for (o, r) in out.iter_mut().zip(result.iter().take({len})) {{\n            *o = *r;\n        }}\n",
                    first.inputs, first.outputs, first.activation
                ),
            )
        }
        None => ("        0\n".to_string(), String::new()),
    };
    format!(
        "/// The model's layers with constant widths (`nagode::build::fixed`): the\n\
         /// same bits as [`NET`]'s slices, with loops the compiler unrolls.\n\
         pub struct Compiled;\n\n\
         // A model without encoder (or decoder) layers leaves a buffer unused.\n\
         #[allow(unused_variables)]\n\
         impl nagode::build::Layers<'static> for Compiled {{\n    \
         fn net(&self) -> &Net<'static> {{\n        &NET\n    }}\n\n    \
         fn encode<'s>(&self, a: &'s mut [f32], b: &'s mut [f32]) -> &'s [f32] {{\n{encode}        \
         let result: &'s [f32] = {enc_buf};\n        result.get(..{enc_len}).unwrap_or_default()\n    }}\n\n    \
         fn hold(&self, e: &[f32], held: &mut [f32]) -> usize {{\n{hold}    }}\n\n    \
         fn field(&self, held: &[f32], y: &[f32], a: &mut [f32], b: &mut [f32], out: &mut [f32]) {{\n{field}    }}\n\n    \
         fn decode<'s>(&self, a: &'s mut [f32], b: &'s mut [f32]) -> &'s [f32] {{\n{decode}        \
         let result: &'s [f32] = {dec_buf};\n        result.get(..{dec_len}).unwrap_or_default()\n    }}\n}}\n\n"
    )
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    use super::*;
    use crate::Capacities;
    use std::vec;

    const WINDOW: &[u8] = include_bytes!("../tests/fixtures/v3_forecast_last_value.nagode");
    const CLASSIFIER: &[u8] = include_bytes!("../tests/fixtures/v2_classifier_named.nagode");
    const STREAMING: &[u8] = include_bytes!("../tests/fixtures/v5_streaming.nagode");
    const FLOW: &[u8] = include_bytes!("../tests/fixtures/v5_flow.nagode");

    /// A board whose flash holds no model file.
    static TINY: Board = Board {
        name: "tiny",
        core: "none",
        target: "thumbv7em-none-eabihf",
        machine: "",
        cpu: "",
        flash: (0, 16),
        ram: (0x2000_0000, 1024),
    };

    /// A fresh directory for one test's files.
    fn scratch(name: &str) -> PathBuf {
        let dir = env::temp_dir().join(format!("nagode-codegen-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn constants_and_session_type_come_from_the_model() {
        let code = rust(WINDOW, None).unwrap();
        let model = Model::from_bytes(WINDOW).unwrap();
        for (name, value) in [
            ("STATE", model.state_capacity_needed()),
            ("WINDOW", model.window_capacity_needed()),
            ("DIM", model.state_dim()),
            ("OUTPUTS", model.output_len()),
            ("CHANNELS", model.channels()),
        ] {
            let line = format!("pub const {name}: usize = {value};\n");
            assert!(code.contains(&line), "no {line:?} in\n{code}");
        }
        assert!(code.contains(
            "pub type Session<'m, L = Net<'m>> = nagode::Session<'m, STATE, WINDOW, DIM, L>;"
        ));
        assert!(code.contains("pub type Runner = nagode::Runner<STATE, DIM>;"));
        assert!(!code.contains("pub type Stream") && !code.contains("const _: ()"));
    }

    #[test]
    fn every_weight_is_its_exact_bit_pattern() {
        let code = rust(WINDOW, None).unwrap();
        let model = Model::from_bytes(WINDOW).unwrap();
        for (block, layers) in [
            ("ENCODER", model.encoder()),
            ("FIELD", model.field()),
            ("DECODER", model.decoder()),
        ] {
            for (i, l) in layers.iter().enumerate() {
                let rows: Vec<String> = (0..l.outputs)
                    .map(|o| {
                        let row = (0..l.inputs).map(|k| l.weight(o, k).unwrap());
                        format!("[{}]", floats(row))
                    })
                    .collect();
                let w = format!(
                    "static {block}_{i}_W: [[f32; {}]; {}] = [{}];",
                    l.inputs,
                    l.outputs,
                    rows.join(", ")
                );
                assert!(code.contains(&w), "{block} {i}");
            }
        }
        assert_eq!(bits(-0.0), "f32::from_bits(0x80000000)");
    }

    #[test]
    fn the_same_file_gives_the_same_text() {
        for bytes in [WINDOW, CLASSIFIER, STREAMING, FLOW] {
            let once = rust(bytes, Some(&TINY)).unwrap();
            assert_eq!(once, rust(bytes, Some(&TINY)).unwrap());
        }
    }

    #[test]
    fn class_names_are_escaped_strings() {
        let model = Model::from_bytes(CLASSIFIER).unwrap();
        let names: Vec<String> = model.class_names().map(|c| format!("{c:?}")).collect();
        assert!(!names.is_empty());
        let line = format!(
            "pub static CLASS_NAMES: [&str; {}] = [{}];",
            names.len(),
            names.join(", ")
        );
        assert!(rust(CLASSIFIER, None).unwrap().contains(&line));
    }

    #[test]
    fn each_kind_gets_the_type_that_runs_it() {
        let stream = rust(STREAMING, None).unwrap();
        let capacities = Capacities::of(STREAMING).unwrap();
        let ModelKind::Streaming { warmup } = capacities.kind else {
            panic!("{capacities:?}")
        };
        assert!(stream
            .contains("pub type Stream<'m, L = Net<'m>> = nagode::Stream<'m, STATE, DIM, L>;"));
        assert!(stream.contains(&format!("pub const WARMUP: u32 = {warmup};")));
        assert!(!stream.contains("pub type Session"));

        let flow = rust(FLOW, None).unwrap();
        let state_dim = Model::from_bytes(FLOW).unwrap().state_dim();
        assert!(flow.contains("pub type Flow<'m> = nagode::Flow<'m, STATE, DIM>;"));
        assert!(flow.contains(&format!("pub const DIM: usize = {};", state_dim + 1)));
    }

    #[test]
    fn a_board_adds_a_ram_check() {
        let code = rust(WINDOW, Some(&TINY)).unwrap();
        assert!(code.contains("core::mem::size_of::<Session<'static>>() <= 1024"));
        assert!(rust(FLOW, Some(&TINY))
            .unwrap()
            .contains("core::mem::size_of::<Flow<'static>>() <= 1024"));
    }

    #[test]
    fn refuses_what_the_loader_refuses_with_its_error() {
        let mut cases: Vec<Vec<u8>> = vec![Vec::new(), b"NAGX".to_vec()];
        for at in [0, 4, 5, 9, WINDOW.len() / 2, WINDOW.len() - 1] {
            let mut bytes = WINDOW.to_vec();
            bytes[at] ^= 0x40;
            cases.push(bytes);
        }
        cases.push(WINDOW[..WINDOW.len() - 3].to_vec());
        for bytes in &cases {
            let expected = Model::from_bytes(bytes).expect_err("corrupt");
            assert_eq!(rust(bytes, None).expect_err("corrupt"), expected);
        }
    }

    #[test]
    fn build_writes_the_files_or_names_the_problem() {
        let dir = scratch("build");
        let model = dir.join("model.nagode");
        fs::write(&model, WINDOW).unwrap();
        Build::new(&model).write(&dir).unwrap();
        assert_eq!(fs::read(dir.join(MODEL_FILE)).unwrap(), WINDOW);
        assert_eq!(
            fs::read_to_string(dir.join(RUST_FILE)).unwrap(),
            rust(WINDOW, None).unwrap()
        );

        let mut corrupt = WINDOW.to_vec();
        corrupt[WINDOW.len() - 1] ^= 1;
        fs::write(&model, &corrupt).unwrap();
        let out = scratch("build-corrupt");
        let error = Build::new(&model).write(&out).unwrap_err();
        let name = Model::from_bytes(&corrupt).unwrap_err().name();
        assert!(
            error
                .to_string()
                .contains(&format!("does not load: {name}: ")),
            "{error}"
        );
        assert!(
            fs::read_dir(&out).unwrap().next().is_none(),
            "wrote for a corrupt file"
        );

        fs::write(&model, WINDOW).unwrap();
        let error = Build::new(&model).board(&TINY).write(&out).unwrap_err();
        assert!(
            matches!(error, Error::TooLarge { flash: 16, .. }),
            "{error}"
        );
        let missing = Build::new(dir.join("missing.nagode")).write(&out);
        assert!(matches!(missing, Err(Error::Io { .. })));
        let _ = fs::remove_dir_all(&dir);
        let _ = fs::remove_dir_all(&out);
    }
}
