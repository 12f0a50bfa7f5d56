//! What the trainer learns: window models (forecasters and classifiers),
//! streaming models, density flows; with the learning-rate choice,
//! cross-validation and the baselines a model must beat.

pub mod baseline;
pub mod choose;
pub mod crossval;
pub mod density;
pub mod static_classify;
pub mod streaming;
pub mod window;
