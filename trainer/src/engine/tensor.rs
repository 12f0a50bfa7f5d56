//! The tensor types the trainer computes with. Shapes are chosen at run
//! time, so every tensor is `(usize, usize)` or `(usize,)` on the CPU.

use dfdx::prelude::*;

/// A run-time-shaped matrix.
pub type M<T = NoneTape> = Tensor<(usize, usize), f32, Cpu, T>;
/// A run-time-shaped vector.
pub type V<T = NoneTape> = Tensor<(usize,), f32, Cpu, T>;
