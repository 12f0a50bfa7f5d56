//! Studies over trained models: solver comparisons, sweeps in shards, the
//! real-data panel and the speed benchmarks.

pub mod bench;
pub mod compare;
pub mod panel;
pub mod sweep;
