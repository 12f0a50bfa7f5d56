//! Host cost of `nagode::tanh::tanh` against std's `f32::tanh` (libm), in
//! ns per call: `cargo run -p nagode --release --example tanh_cost`.
//! A rough figure for the README, not a test.

use std::hint::black_box;
use std::time::Instant;

fn per_call(f: impl Fn(f32) -> f32) -> f64 {
    const N: u32 = 20_000_000;
    let start = Instant::now();
    let mut acc = 0.0f32;
    for i in 0..N {
        // Inputs sweep [-8, 8) so every branch is taken.
        let x = (i % 4096) as f32 / 256.0 - 8.0;
        acc += f(black_box(x));
    }
    black_box(acc);
    start.elapsed().as_secs_f64() * 1e9 / f64::from(N)
}

fn main() {
    // Warm up, then measure each twice and keep the faster run.
    let _ = per_call(nagode::tanh::tanh);
    let ours = per_call(nagode::tanh::tanh).min(per_call(nagode::tanh::tanh));
    let std = per_call(f32::tanh).min(per_call(f32::tanh));
    println!(
        "nagode tanh {ours:.2} ns/call, std f32::tanh {std:.2} ns/call, ratio {:.2}",
        ours / std
    );
}
