//! nagode on a Cortex-M: a model from flash forecasts a replayed series.
//!
//! The application (`app`) is generic over embedded-hal 1.0 and a
//! `SampleSource`; this file wires it to QEMU: semihosting output, the
//! replay source, SysTick for instruction counts, and fault handlers that
//! end QEMU with a failing exit code.
//!
//! Output lines (machine-readable first word):
//! `BOARD name`, `CAL ticks instructions`, `MODEL bytes window outputs`,
//! `REPLAY samples fnv1a`, `FLASH bytes`,
//! `PRED index hex..` (f32 bit patterns) followed by a human `#` line,
//! `TICKS repeats ticks stack-in-inference`, `KERNEL rows cols repeats ticks`,
//! `RAM static bytes stack bytes`, `DONE samples predictions`, or
//! `ERROR load|run Name` / `PANIC ...` / `HARDFAULT ...` (failing exit).
#![no_std]
#![no_main]
// The `baseline` build leaves the runtime glue unused on purpose.
#![cfg_attr(feature = "baseline", allow(unused_imports, dead_code))]

mod app;
mod measure;
mod out;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use nagode::{Model, Session};

use app::AppError;
use measure::Ticks;
use out::Console;
use sample_source::{Replay, ReplayClock};

/// Session capacities sized by the build script to the embedded model.
mod config {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}

/// The replay schedule and checksum, shared with the host tests.
mod replay_data {
    include!("../replay_data.rs");
}

/// Bytes stored on a 4-byte boundary: a format-3 model file's weights are
/// then 4-aligned too and read as `f32`s in place.
#[repr(C, align(4))]
struct Aligned<T>(T);

#[cfg(not(feature = "baseline"))]
/// The model file, read in place from flash (`NAGODE_MODEL` at build time).
static MODEL: Aligned<[u8; include_bytes!(concat!(env!("OUT_DIR"), "/model.nagode")).len()]> =
    Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/model.nagode")));

/// The recorded series replayed as sensor input (little-endian f32).
static REPLAY: [u8; include_bytes!(concat!(env!("OUT_DIR"), "/replay.bin")).len()] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/replay.bin"));

/// Sampling period the replay pretends (the ECG's 360 Hz).
const SAMPLE_PERIOD_NS: u32 = 2_777_778;

#[entry]
fn main() -> ! {
    Console::init();
    let mut console = Console::open();
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        fail(&mut console, "peripherals", "Taken")
    };
    let ticks = Ticks::start(peripherals.SYST);
    console.str("BOARD ").str(env!("NAGODE_BOARD_NAME")).nl();
    let cal = ticks.calibrate();
    console
        .str("CAL ")
        .dec(cal)
        .str(" ")
        .dec(2 * (measure::CALIBRATION_LOOPS + 1))
        .nl();
    if cfg!(feature = "panic-test") {
        panic!("deliberate panic (feature panic-test)");
    }
    if cfg!(feature = "hardfault-test") {
        // A permanently undefined instruction: escalates to HardFault on every core.
        cortex_m::asm::udf();
    }
    console
        .str("REPLAY ")
        .dec((REPLAY.len() / 4) as u32)
        .str(" ")
        .dec(replay_data::fnv1a(REPLAY.iter().copied()))
        .nl();

    let (samples, predictions) = run_model(&mut console, &ticks);

    console
        .str("FLASH ")
        .dec(measure::flash_used())
        .nl()
        .str("RAM static ")
        .dec(measure::static_ram())
        .str(" stack ")
        .dec(measure::stack_high_water())
        .nl()
        .str("DONE ")
        .dec(samples as u32)
        .str(" ")
        .dec(predictions as u32)
        .nl();
    exit(EXIT_SUCCESS)
}

/// Loads the model from flash, streams the replay through it (printing every
/// prediction), then times predictions and the dense kernel. Returns the
/// samples pushed and the predictions made.
#[cfg(not(feature = "baseline"))]
fn run_model(console: &mut Console, ticks: &Ticks) -> (usize, usize) {
    // Matching on references keeps one copy of the model and the session in
    // this frame (moving them out of their `Result`s cost ~1.5 kB of stack).
    let loaded = load(&MODEL.0);
    let model = match &loaded {
        Ok(model) => model,
        Err(e) => fail(console, "load", e.name()),
    };
    let mut created = open_session(model);
    let session = match &mut created {
        Ok(session) => session,
        Err(e) => fail(console, "load", e.name()),
    };
    console
        .str("MODEL ")
        .dec(MODEL.0.len() as u32)
        .str(" ")
        .dec(model.window() as u32)
        .str(" ")
        .dec(model.output_len() as u32)
        .str(" stack after load ")
        .dec(measure::stack_high_water())
        .str(" sizeof model ")
        .dec(core::mem::size_of_val(model) as u32)
        .str(" session ")
        .dec(core::mem::size_of_val(session) as u32)
        .nl();

    let mut out = [0.0f32; config::OUTPUTS];
    // Regular sampling, in the model's user units (what the training data's
    // gaps were measured in).
    let gap = model.nominal_gap();
    let mut replay = Replay::new(&REPLAY, gap, SAMPLE_PERIOD_NS, ReplayClock::default());
    let streamed = app::stream(
        session,
        &mut replay,
        replay_data::predicts_after,
        &mut out,
        |at, values| {
            console.str("PRED ").dec(at as u32);
            values.iter().for_each(|v| {
                console.str(" ").f32_bits(*v);
            });
            let what = if model.is_forecast() {
                "# forecast after sample "
            } else {
                "# logits after sample "
            };
            console.nl().str(what).dec(at as u32).str(":");
            values.iter().for_each(|v| {
                console.str(" ").fixed(*v);
            });
            console.nl();
            if !model.is_forecast() {
                if let Some(class) = app::top_class(values) {
                    console.str("# class ");
                    // The file's class name when it has one, else the index.
                    match model.class_name(class) {
                        Some(name) => console.str(name),
                        None => console.dec(class as u32),
                    };
                    console.nl();
                }
            }
        },
    );
    let summary = match streamed {
        Ok(summary) => summary,
        Err(AppError::Run(e)) => fail(console, "run", e.name()),
        Err(AppError::Source(never)) => match never {},
    };

    if summary.predictions > 0 {
        measure::repaint_free_stack();
        let start = ticks.now();
        for _ in 0..replay_data::TIMED_REPEATS {
            if let Err(e) = session.predict(&mut out) {
                fail(console, "run", e.name());
            }
        }
        let spent = ticks.since(start);
        let stack = measure::stack_high_water();
        console
            .str("TICKS ")
            .dec(replay_data::TIMED_REPEATS)
            .str(" ")
            .dec(spent)
            .str(" stack in inference ")
            .dec(stack)
            .nl();
    }
    kernel_bench(model, ticks, console);
    (summary.samples, summary.predictions)
}

/// Validates the model; not inlined, so the decoder's temporaries live in a
/// frame that is gone before inference starts.
#[cfg(not(feature = "baseline"))]
#[inline(never)]
fn load(bytes: &'static [u8]) -> Result<Model<'static>, nagode::LoadError> {
    Model::from_bytes(bytes)
}

/// The session sized at compile time; not inlined (see [`load`]).
#[cfg(not(feature = "baseline"))]
#[inline(never)]
fn open_session<'m>(
    model: &'m Model<'m>,
) -> Result<Session<'m, { config::STATE }, { config::WINDOW }>, nagode::LoadError> {
    Session::new(model)
}

/// The same run without the runtime and the model (feature `baseline`):
/// replays the samples into nothing. Its flash is what the firmware costs
/// without nagode; `cargo xtask measure` subtracts it.
#[cfg(feature = "baseline")]
fn run_model(_console: &mut Console, _ticks: &Ticks) -> (usize, usize) {
    let mut replay = Replay::new(&REPLAY, 1.0, SAMPLE_PERIOD_NS, ReplayClock::default());
    let mut sample = [0.0f32; 1];
    let mut samples = 0;
    let mut sum = 0.0f32;
    while let Ok(Some(_)) = sample_source::SampleSource::read(&mut replay, &mut sample) {
        samples += 1;
        sum += sample[0];
    }
    // Keeps the reads alive.
    core::hint::black_box(sum);
    (samples, 0)
}

#[cfg(not(feature = "baseline"))]
/// Times the runtime's dense kernel alone on the shape of the model's
/// largest layer (weights read from the model's bytes in flash), for
/// instructions per multiply-accumulate without solver or activation cost.
fn kernel_bench(model: &Model<'_>, ticks: &Ticks, console: &mut Console) {
    const REPEATS: u32 = 64;
    let header = model.header();
    let Some(layer) = header
        .encoder
        .iter()
        .chain(&header.field)
        .chain(&header.decoder)
        .max_by_key(|l| usize::from(l.inputs) * usize::from(l.outputs))
    else {
        return;
    };
    let (rows, cols) = (
        usize::from(layer.outputs).min(config::STATE),
        usize::from(layer.inputs).min(config::STATE),
    );
    let x = [0.5f32; config::STATE];
    let mut acc = [0.0f32; config::STATE];
    let weights = nagode::field::Weights::from_le_bytes(model.weight_bytes());
    let start = ticks.now();
    for _ in 0..REPEATS {
        nagode::field::mat_vec_acc(
            weights,
            cols,
            x.get(..cols).unwrap_or(&x),
            acc.get_mut(..rows).unwrap_or_default(),
        );
    }
    let spent = ticks.since(start);
    // Keeps the results alive so the loop is not optimised away.
    let check = acc.iter().fold(0u32, |h, v| h ^ v.to_bits());
    console
        .str("KERNEL ")
        .dec(rows as u32)
        .str(" ")
        .dec(cols as u32)
        .str(" ")
        .dec(REPEATS)
        .str(" ")
        .dec(spent)
        .str(" ")
        .hex(check)
        .nl();
}

/// Prints `ERROR stage name` and ends the run with a failing status.
fn fail(console: &mut Console, stage: &str, name: &str) -> ! {
    console.str("ERROR ").str(stage).str(" ").str(name).nl();
    exit(EXIT_FAILURE)
}

/// Ends the QEMU run with `status`; on a board without a host, parks the core.
fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut console = Console::open();
    console.str("PANIC");
    if let Some(location) = info.location() {
        console
            .str(" at ")
            .str(location.file())
            .str(":")
            .dec(location.line());
    }
    if let Some(message) = info.message().as_str() {
        console.str(": ").str(message);
    }
    console.nl();
    exit(EXIT_FAILURE)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    Console::open()
        .str("HARDFAULT pc=")
        .hex(frame.pc())
        .str(" lr=")
        .hex(frame.lr())
        .nl();
    exit(EXIT_FAILURE)
}
