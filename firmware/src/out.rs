//! Text output without `core::fmt` number formatting (float formatting alone
//! costs ~20 kB of flash): hex bits for machines, fixed-point for people.

#[cfg(not(feature = "rtt"))]
use cortex_m_semihosting::hio::{self, HostStream};

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

    /// Writes raw bytes (dropped if no host is attached).
    #[cfg(not(feature = "rtt"))]
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        if let Some(stream) = self.stream.as_mut() {
            // A failed host write cannot be reported anywhere else.
            let _ = stream.write_all(bytes);
        }
        self
    }

    /// Writes raw bytes (ASCII) to RTT channel 0.
    #[cfg(feature = "rtt")]
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        if let Ok(text) = core::str::from_utf8(bytes) {
            rtt_target::with_terminal_channel(|terminal| {
                let _ = core::fmt::Write::write_str(&mut terminal.write(0), text);
            });
        }
        self
    }

    /// Writes a string.
    pub fn str(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes())
    }

    /// Writes `value` in decimal.
    pub fn dec(&mut self, value: u32) -> &mut Self {
        let mut digits = [b'0'; 10];
        let mut rest = value;
        let mut len = 0;
        // Fills from the right; no indexing, so no bounds-check panic path
        // (which would pull `core::fmt` number formatting into the image).
        for d in digits.iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
            len += 1;
            if rest == 0 {
                break;
            }
        }
        let start = digits.len() - len;
        self.bytes(digits.get(start..).unwrap_or(&digits))
    }

    /// Writes `value` as 8 lower-case hex digits.
    pub fn hex(&mut self, value: u32) -> &mut Self {
        let mut digits = [0u8; 8];
        for (i, d) in digits.iter_mut().enumerate() {
            let nibble = (value >> (28 - 4 * i)) & 0xf;
            *d = b"0123456789abcdef"[nibble as usize];
        }
        self.bytes(&digits)
    }

    /// Writes the bit pattern of `value` (round-trips exactly).
    pub fn f32_bits(&mut self, value: f32) -> &mut Self {
        self.hex(value.to_bits())
    }

    /// Writes `value` with 4 decimals for people (`nan`, `inf`, `big` when
    /// it does not fit); the exact value is in the hex line.
    pub fn fixed(&mut self, value: f32) -> &mut Self {
        if value.is_nan() {
            return self.str("nan");
        }
        let magnitude = if value < 0.0 {
            self.str("-");
            -value
        } else {
            value
        };
        if magnitude.is_infinite() {
            return self.str("inf");
        }
        if magnitude >= 400_000.0 {
            return self.str("big");
        }
        // < 4e9 after scaling, so the conversion cannot saturate.
        let scaled = (magnitude * 10_000.0 + 0.5) as u32;
        self.dec(scaled / 10_000).str(".");
        let frac = scaled % 10_000;
        let digits = [frac / 1000, frac / 100 % 10, frac / 10 % 10, frac % 10];
        self.bytes(&digits.map(|d| b'0' + d as u8))
    }

    /// Ends a line.
    pub fn nl(&mut self) -> &mut Self {
        self.bytes(b"\n")
    }
}

/// Ends the run with `status` through semihosting (QEMU's exit code); on a
/// board without a host, parks the core.
pub fn exit(status: cortex_m_semihosting::debug::ExitStatus) -> ! {
    cortex_m_semihosting::debug::exit(status);
    loop {
        cortex_m::asm::wfi();
    }
}
