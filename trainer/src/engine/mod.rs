//! The differentiable model: dfdx tensors and parameters, the solver plan
//! (the runtime's equations, stepped on tensors), the forward pass and the
//! training loop.

pub mod forward;
pub mod fused;
pub mod params;
pub mod solver;
pub mod tensor;
pub mod train;
