//! The minimal image (feature `minimal`): one prediction on a fixed window,
//! printed as hex bit patterns, and the image's own flash and RAM figures:
//! nothing else linked, so its size compares like for like with other
//! runtimes' minimal images. With feature `compiled` the model is the build
//! script's statics; without, the file is loaded and checked in place.
//!
//! Output: `PRED 0 hex..`, `FLASH bytes`, `RAM static bytes stack bytes`, or
//! `ERROR name` (failing exit).
#![no_std]
#![no_main]

#[path = "../measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../out.rs"]
#[allow(dead_code)]
mod out;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug::{EXIT_FAILURE, EXIT_SUCCESS};
use nagode::build::Layers;
use out::{exit, Console, Print};

// The model as `nagode::codegen` generated it (build script): capacities,
// the file (`FILE`) and, for feature `compiled`, its layers (`Compiled`).
nagode::include_generated!(mod config);

/// The fixed input window (the first replayed samples).
mod input {
    include!(concat!(env!("OUT_DIR"), "/input.rs"));
}

extern "C" {
    /// cortex-m-rt's handler for exceptions the image does not handle.
    fn DefaultHandler();
}

/// The interrupt part of the vector table (feature `minimal` turns on
/// cortex-m-rt's `device`): one entry, the fewest its linker script takes,
/// instead of the 32 to 480 it fills in otherwise (960 B on the M4F). The
/// image enables no interrupt, so the core never reads past this entry.
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
#[used]
static __INTERRUPTS: [unsafe extern "C" fn(); 1] = [DefaultHandler];

#[entry]
fn main() -> ! {
    let mut console = Console::open();
    // The fault features fail the run as the firmware's do (tests/qemu_compiled.rs).
    if cfg!(feature = "panic-test") {
        panic!("deliberate panic (feature panic-test)");
    }
    if cfg!(feature = "hardfault-test") {
        cortex_m::asm::udf();
    }
    let mut out = [0.0f32; config::OUTPUTS];
    #[cfg(feature = "compiled")]
    let result = predict(&config::Compiled, &mut out);
    #[cfg(not(feature = "compiled"))]
    let result = nagode::Model::from_bytes(config::FILE)
        .map_err(|e| e.name())
        .and_then(|model| predict(&model.net(), &mut out));
    match result {
        Ok(written) => {
            console.str("PRED 0");
            for v in out.iter().take(written) {
                console.str(" ").f32_bits(*v);
            }
            console.nl();
            measure::report(&mut console);
            exit(EXIT_SUCCESS)
        }
        Err(name) => {
            console.str("ERROR ").str(name).nl();
            exit(EXIT_FAILURE)
        }
    }
}

/// One window through `model` with buffers sized for it.
fn predict<'m>(model: &impl Layers<'m>, out: &mut [f32]) -> Result<usize, &'static str> {
    let mut runner = config::Runner::new(model.net()).map_err(|e| e.name())?;
    runner
        .run_window(model, &input::INPUT, None, out)
        .map_err(|e| e.name())
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(EXIT_FAILURE)
}

/// A fault fails the run instead of spinning until QEMU is killed.
#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    exit(EXIT_FAILURE)
}
