//! Cost and memory figures the chip can take of itself.
//!
//! Instructions: in QEMU with `-icount shift=0` virtual time advances by a
//! fixed amount per instruction, and SysTick (clocked by the core) counts
//! virtual time, so SysTick ticks are proportional to instructions. The
//! firmware calibrates the ratio in the same run with a loop of known length
//! (`cortex_m::asm::delay(n)` runs `n + 1` iterations of `subs` + `bne`).
//! On a real core the same ticks are plain clock cycles.

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;

/// Loop count of the calibration delay: `2 * (CALIBRATION_LOOPS + 1)` instructions.
pub const CALIBRATION_LOOPS: u32 = 500_000;

/// A free-running 24-bit down-counter on the core clock.
pub struct Ticks {
    _syst: SYST,
}

impl Ticks {
    /// Starts SysTick from its top with the core clock, no interrupt.
    pub fn start(mut syst: SYST) -> Self {
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00ff_ffff);
        syst.clear_current();
        syst.enable_counter();
        Self { _syst: syst }
    }

    /// The counter now (it counts down).
    pub fn now(&self) -> u32 {
        SYST::get_current()
    }

    /// Ticks from `start` to `end`, valid below 2^24 ticks.
    pub fn since(&self, start: u32) -> u32 {
        start.wrapping_sub(self.now()) & 0x00ff_ffff
    }

    /// Ticks taken by the calibration loop.
    pub fn calibrate(&self) -> u32 {
        let start = self.now();
        cortex_m::asm::delay(CALIBRATION_LOOPS);
        self.since(start)
    }
}

/// Value cortex-m-rt's `paint-stack` feature writes over the whole stack at reset.
const PAINT: u32 = 0xcccc_cccc;

extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
}

/// Deepest stack use since reset, in bytes: the stack was painted at reset,
/// and the lowest word whose paint is gone marks the high-water mark.
pub fn stack_high_water() -> u32 {
    let top = core::ptr::addr_of!(_stack_start) as usize;
    let mut at = core::ptr::addr_of!(_stack_end) as usize;
    while at < top {
        // SAFETY: `_stack_end.._stack_start` is the (aligned) stack region
        // the linker script reserved; reading it is always allowed.
        let word = unsafe { core::ptr::read_volatile(at as *const u32) };
        if word != PAINT {
            break;
        }
        at += 4;
    }
    (top - at) as u32
}

/// Paints the free stack again (everything below the caller's frames), so
/// a later [`stack_high_water`] gives the peak of what runs after this call.
#[inline(never)]
pub fn repaint_free_stack() {
    let bottom = core::ptr::addr_of!(_stack_end) as usize;
    // Everything below the stack pointer is free (SysTick raises no
    // interrupt); 64 bytes are spared for this function's own frame, which
    // the compiler may push after reading the stack pointer.
    let sp = (cortex_m::register::msp::read() as usize).saturating_sub(64);
    let mut at = bottom;
    while at + 4 <= sp {
        // SAFETY: `bottom..sp` is inside the stack region and below every
        // live frame; nothing reads it until the paint is checked.
        unsafe { core::ptr::write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

/// Bytes of statically allocated RAM (`.data`, `.bss`, `.uninit`): all
/// below the stack.
pub fn static_ram() -> u32 {
    extern "C" {
        static __sdata: u32;
    }
    let start = core::ptr::addr_of!(__sdata) as usize;
    let end = core::ptr::addr_of!(_stack_end) as usize;
    end.saturating_sub(start) as u32
}

/// Bytes of flash the image occupies: vector table, code, read-only data
/// and the initial values of `.data` (stored after them).
pub fn flash_used() -> u32 {
    extern "C" {
        static __vector_table: u32;
        static __sidata: u32;
        static __sdata: u32;
        static __edata: u32;
    }
    let start = core::ptr::addr_of!(__vector_table) as usize;
    let data_load = core::ptr::addr_of!(__sidata) as usize;
    let data_len = (core::ptr::addr_of!(__edata) as usize)
        .saturating_sub(core::ptr::addr_of!(__sdata) as usize);
    (data_load + data_len).saturating_sub(start) as u32
}

/// Prints the image's `FLASH` and `RAM static .. stack ..` lines (what
/// `cargo xtask measure` reads from every image, the minimal one too).
pub fn report(console: &mut crate::out::Console) {
    use crate::out::Print;
    console
        .str("FLASH ")
        .dec(flash_used())
        .nl()
        .str("RAM static ")
        .dec(static_ram())
        .str(" stack ")
        .dec(stack_high_water())
        .nl();
}
