//! nagode in a firmware of your own: a model predicts on a recorded series
//! replayed as the sensor, sample by sample with its real gaps, and every
//! prediction is printed as the bit patterns of its `f32`s.
//!
//! Two paths, one feature each: `loaded` (the default: the model file in
//! flash, checked once at start-up and read in place) and `compiled` (the
//! model as Rust statics with constant-width layers, written by build.rs:
//! no file, no check at run time, the same bits).
//!
//! Output: `PRED n hex..` after every sample `n` (counted over the whole
//! recording) that completes a window of its series, then `DONE samples`;
//! or `ERROR name`, `PANIC` or `HARDFAULT` with a failing exit.
#![no_std]
#![no_main]

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug::{self, ExitStatus, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};
use nagode::text::Print;

#[cfg(all(feature = "loaded", feature = "compiled"))]
compile_error!("pick one path: `--no-default-features --features compiled` for the compiled one");
#[cfg(not(any(feature = "loaded", feature = "compiled")))]
compile_error!("pick a path: feature `loaded` (the default) or `compiled`");

// The model as build.rs generated it: capacities, session type, file and
// compiled layers.
nagode::include_generated!(mod model);

/// The recording (`NAGODE_CSV`), as build.rs wrote it.
mod replay {
    include!(concat!(env!("OUT_DIR"), "/replay.rs"));
}

#[entry]
fn main() -> ! {
    let mut out = Semihosting(hio::hstdout().ok());
    match run(&mut out) {
        Ok(samples) => {
            out.str("DONE ").dec(samples).nl();
            exit(EXIT_SUCCESS)
        }
        Err(name) => {
            out.str("ERROR ").str(name).nl();
            exit(EXIT_FAILURE)
        }
    }
}

/// Streams every series through a session and prints each prediction;
/// returns the samples pushed, or the runtime's error name.
fn run(out: &mut Semihosting) -> Result<u32, &'static str> {
    #[cfg(feature = "loaded")]
    let model = nagode::Model::from_bytes(model::FILE).map_err(|e| e.name())?;
    #[cfg(feature = "loaded")]
    let layers = model.net();
    #[cfg(feature = "compiled")]
    let layers = model::Compiled;
    let mut session = model::Session::with_layers(layers).map_err(|e| e.name())?;
    let mut prediction = [0.0f32; model::OUTPUTS];
    let mut n = 0;
    for &(samples, gaps) in &replay::SERIES {
        session.clear();
        for (sample, &gap) in samples.chunks(model::CHANNELS).zip(gaps) {
            session.push(sample, gap).map_err(|e| e.name())?;
            if session.is_ready() {
                let written = session.predict(&mut prediction).map_err(|e| e.name())?;
                out.str("PRED ").dec(n);
                for value in prediction.iter().take(written) {
                    out.str(" ").f32_bits(*value);
                }
                out.nl();
            }
            n += 1;
        }
    }
    Ok(n)
}

/// Text to the host through semihosting (QEMU, or a debug probe); dropped
/// without a host. On a board, write to a UART or RTT here instead.
struct Semihosting(Option<HostStream>);

impl Print for Semihosting {
    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        if let Some(stream) = self.0.as_mut() {
            // A failed host write cannot be reported anywhere else.
            let _ = stream.write_all(bytes);
        }
        self
    }
}

/// Ends the run with `status` (QEMU's exit code); without a host, parks.
fn exit(status: ExitStatus) -> ! {
    debug::exit(status);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    Semihosting(hio::hstdout().ok()).str("PANIC").nl();
    exit(EXIT_FAILURE)
}

#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    Semihosting(hio::hstdout().ok()).str("HARDFAULT").nl();
    exit(EXIT_FAILURE)
}
