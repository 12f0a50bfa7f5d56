//! The static-input classifier image (feature `static`): a format-6 model
//! (`ModelKind::Static`) classifies the feature vectors of
//! `static_inputs.rs` with `nagode::Classifier`, then times one
//! classification and each depth of the dial (the same model with 1 ..=
//! its steps, and twice its steps). With feature `compiled` the layers are
//! the build script's statics (`Compiled`); without, the file is loaded and
//! checked in place.
//!
//! Output: `BOARD name`, `CAL ticks instructions`, `PRED index hex..` (the
//! logits' f32 bit patterns) with a `# class` line, `TICKS repeats ticks
//! stack in inference bytes` (the file's steps), `DIAL steps repeats
//! ticks`, `FLASH bytes`, `RAM static bytes stack bytes`, `DONE inputs`;
//! or `ERROR load|run Name` (failing exit).
#![no_std]
#![no_main]

#[path = "../measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../out.rs"]
#[allow(dead_code)]
mod out;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{EXIT_FAILURE, EXIT_SUCCESS};
use measure::Ticks;
use nagode::build::Layers;
use out::{exit, Console, Print};

// The model as `nagode::codegen` generated it (build script): capacities,
// the file (`FILE`) and, for feature `compiled`, its layers (`Compiled`).
nagode::include_generated!(mod config);

/// The replayed feature vectors.
mod inputs {
    include!("../../static_inputs.rs");
}

/// The classifier sized by the model's capacities (named here rather than
/// through the generated alias, which only a static model's code has, so a
/// window model still builds and is refused by name at load).
type Classify<'m, L = nagode::build::Net<'m>> =
    nagode::Classifier<'m, { config::STATE }, { config::DIM }, L>;

/// Classifications per timing.
const REPEATS: u32 = 4;

#[entry]
fn main() -> ! {
    let mut console = Console::open();
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        fail(&mut console, "load", "Peripherals")
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
    #[cfg(feature = "compiled")]
    let classifier = Classify::with_layers(config::Compiled);
    #[cfg(not(feature = "compiled"))]
    let model = match nagode::StaticModel::from_bytes(config::FILE) {
        Ok(model) => model,
        Err(e) => fail(&mut console, "load", e.name()),
    };
    #[cfg(not(feature = "compiled"))]
    let classifier = Classify::new(&model);
    match classifier {
        Ok(classifier) => run(&mut console, &ticks, classifier),
        Err(e) => fail(&mut console, "load", e.name()),
    }
}

/// Classifies every input, then times the file's steps and the dial.
fn run<'m, L: Layers<'m>>(
    console: &mut Console,
    ticks: &Ticks,
    mut classifier: Classify<'m, L>,
) -> ! {
    let mut logits = [0.0f32; config::OUTPUTS];
    for (i, x) in inputs::INPUTS.iter().enumerate() {
        match classifier.classify(x, &mut logits) {
            Ok(class) => {
                console.str("PRED ").dec(i as u32);
                for v in &logits {
                    console.str(" ").f32_bits(*v);
                }
                console.nl().str("# class ").dec(class as u32).nl();
            }
            Err(e) => fail(console, "run", e.name()),
        }
    }
    let Some(x) = inputs::INPUTS.first() else {
        fail(console, "run", "NoInput")
    };
    measure::repaint_free_stack();
    let spent = timed(console, ticks, &mut classifier, x, None);
    console
        .str("TICKS ")
        .dec(REPEATS)
        .str(" ")
        .dec(spent)
        .str(" stack in inference ")
        .dec(measure::stack_high_water())
        .nl();
    let steps = classifier.steps();
    for m in (1..=steps).chain([2 * steps]) {
        let spent = timed(console, ticks, &mut classifier, x, Some(m));
        console
            .str("DIAL ")
            .dec(m)
            .str(" ")
            .dec(REPEATS)
            .str(" ")
            .dec(spent)
            .nl();
    }
    measure::report(console);
    console.str("DONE ").dec(inputs::INPUTS.len() as u32).nl();
    exit(EXIT_SUCCESS)
}

/// Ticks of [`REPEATS`] classifications of `x` with `steps` steps (`None`:
/// the file's).
fn timed<'m, L: Layers<'m>>(
    console: &mut Console,
    ticks: &Ticks,
    classifier: &mut Classify<'m, L>,
    x: &[f32],
    steps: Option<u32>,
) -> u32 {
    let mut logits = [0.0f32; config::OUTPUTS];
    let start = ticks.now();
    for _ in 0..REPEATS {
        let result = match steps {
            None => classifier.classify(x, &mut logits),
            Some(m) => classifier.classify_steps(x, m, &mut logits),
        };
        if let Err(e) = result {
            fail(console, "run", e.name());
        }
    }
    ticks.since(start)
}

/// Prints `ERROR what name` and ends with a failing exit.
fn fail(console: &mut Console, what: &str, name: &str) -> ! {
    console.str("ERROR ").str(what).str(" ").str(name).nl();
    exit(EXIT_FAILURE)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(EXIT_FAILURE)
}
