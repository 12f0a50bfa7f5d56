//! Runs NAG training iterations of the benchmark set-up in a loop, for a
//! profiler: `perf record cargo run -p trainer --example profile_iteration`.
use trainer::engine::forward::FieldImpl;
use trainer::engine::solver::SolverChoice;
use trainer::studies::bench::IterationSetup;

fn main() {
    let mut s = IterationSetup::new(SolverChoice::Nag, FieldImpl::Fused);
    let t = std::time::Instant::now();
    for _ in 0..300 {
        std::hint::black_box(s.iteration());
    }
    println!(
        "{:.3} ms per iteration",
        t.elapsed().as_secs_f64() * 1e3 / 300.0
    );
}
