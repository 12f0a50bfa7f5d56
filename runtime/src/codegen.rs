//! Host-side help for a firmware's build script (feature `codegen`, which
//! needs `std`): the board table a `memory.x` is written from.

pub mod boards;
