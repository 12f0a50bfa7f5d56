// The core matrix: every per-target difference lives in this one table.
//
// Plain Rust with no dependencies, so the firmware's build script (memory
// layout) and the QEMU tests and `cargo xtask measure` (how to run each
// core) `include!` the same definition.

/// One QEMU machine (or real board) the firmware is built and run for.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug)]
pub struct Board {
    /// Name given to the build (`NAGODE_BOARD`) and used in reports.
    pub name: &'static str,
    /// Core, for humans.
    pub core: &'static str,
    /// Rust target triple.
    pub target: &'static str,
    /// `qemu-system-arm -machine`, or "" for a real board.
    pub machine: &'static str,
    /// `qemu-system-arm -cpu` (must match the machine's core).
    pub cpu: &'static str,
    /// Where code and read-only data live, and how much there is.
    pub flash: (u32, u32),
    /// Where RAM starts, and how much of it the firmware claims.
    pub ram: (u32, u32),
}

/// Every board; the first of each target triple is that triple's default.
#[allow(dead_code)]
pub const BOARDS: &[Board] = &[
    Board {
        name: "mps2-an386",
        core: "Cortex-M4F",
        target: "thumbv7em-none-eabihf",
        machine: "mps2-an386",
        cpu: "cortex-m4",
        // ZBT SSRAM1 (4 MiB, QEMU loads the ELF there) and SSRAM2/3.
        flash: (0x0000_0000, 0x0040_0000),
        ram: (0x2000_0000, 0x0001_0000),
    },
    Board {
        name: "microbit",
        core: "Cortex-M0",
        target: "thumbv6m-none-eabi",
        machine: "microbit",
        cpu: "cortex-m0",
        // nRF51822: 256 KiB flash, 16 KiB SRAM.
        flash: (0x0000_0000, 0x0004_0000),
        ram: (0x2000_0000, 0x0000_4000),
    },
    Board {
        name: "mps2-an385",
        core: "Cortex-M3",
        target: "thumbv7m-none-eabi",
        machine: "mps2-an385",
        cpu: "cortex-m3",
        flash: (0x0000_0000, 0x0040_0000),
        ram: (0x2000_0000, 0x0001_0000),
    },
    Board {
        name: "mps2-an500",
        core: "Cortex-M7",
        target: "thumbv7em-none-eabihf",
        machine: "mps2-an500",
        cpu: "cortex-m7",
        flash: (0x0000_0000, 0x0040_0000),
        ram: (0x2000_0000, 0x0001_0000),
    },
    Board {
        name: "mps2-an505",
        core: "Cortex-M33",
        target: "thumbv8m.main-none-eabihf",
        machine: "mps2-an505",
        cpu: "cortex-m33",
        // Secure aliases (the core boots secure, VTOR = 0x1000_0000):
        // SSRAM1 for code, SSRAM2 for data.
        flash: (0x1000_0000, 0x0040_0000),
        ram: (0x3800_0000, 0x0001_0000),
    },
    Board {
        name: "stm32f411-blackpill",
        core: "Cortex-M4F (real board, untested here)",
        target: "thumbv7em-none-eabihf",
        machine: "",
        cpu: "",
        // STM32F411CEU6: 512 KiB flash, 128 KiB SRAM.
        flash: (0x0800_0000, 0x0008_0000),
        ram: (0x2000_0000, 0x0002_0000),
    },
];

/// The board a name refers to.
#[allow(dead_code)]
pub fn board_named(name: &str) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.name == name)
}

/// The default board of a target triple (the first listed for it).
#[allow(dead_code)]
pub fn default_board(target: &str) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.target == target)
}
