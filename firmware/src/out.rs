//! Where the firmware's text goes: semihosting or RTT. The numbers are
//! written by [`nagode::text::Print`] without `core::fmt` (its float
//! formatting costs ~12 kB of flash): hex bits for machines, fixed-point
//! for people.

#[cfg(not(feature = "rtt"))]
use cortex_m_semihosting::hio::{self, HostStream};
pub use nagode::text::Print;

/// Where lines go: the host's stdout through semihosting (QEMU, or a
/// debugger), or RTT channel 0 with the `rtt` feature (probe-rs on a board).
pub struct Console {
    #[cfg(not(feature = "rtt"))]
    stream: Option<HostStream>,
}

impl Console {
    /// Sets the output up once, at start-up.
    pub fn init() {
        #[cfg(feature = "rtt")]
        rtt_target::rtt_init_print!(rtt_target::ChannelMode::BlockIfFull);
    }

    /// Opens the output; without a host attached, output is dropped.
    pub fn open() -> Self {
        Self {
            #[cfg(not(feature = "rtt"))]
            stream: hio::hstdout().ok(),
        }
    }
}

/// Text through the runtime's printer (`nagode::text`): the firmware only
/// says where the bytes go.
impl Print for Console {
    /// Writes raw bytes (dropped if no host is attached). Not inlined: one
    /// copy serves every print (196 B less in the minimal image with `exit`).
    #[cfg(not(feature = "rtt"))]
    #[inline(never)]
    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        if let Some(stream) = self.stream.as_mut() {
            // A failed host write cannot be reported anywhere else.
            let _ = stream.write_all(bytes);
        }
        self
    }

    /// Writes raw bytes (ASCII) to RTT channel 0.
    #[cfg(feature = "rtt")]
    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        if let Ok(text) = core::str::from_utf8(bytes) {
            rtt_target::with_terminal_channel(|terminal| {
                let _ = core::fmt::Write::write_str(&mut terminal.write(0), text);
            });
        }
        self
    }
}

/// Ends the run with `status` through semihosting (QEMU's exit code); on a
/// board without a host, parks the core.
#[inline(never)]
pub fn exit(status: cortex_m_semihosting::debug::ExitStatus) -> ! {
    cortex_m_semihosting::debug::exit(status);
    loop {
        cortex_m::asm::wfi();
    }
}
