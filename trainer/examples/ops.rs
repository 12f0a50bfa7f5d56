use dfdx::prelude::*;
use std::time::Instant;
fn main() {
    let dev: Cpu = Default::default();
    let a: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(32, 8));
    let w: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(8, 32));
    let h: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(32, 32));
    let n = 10000;
    let t = Instant::now();
    for _ in 0..n {
        let _ = a.clone().matmul(w.clone());
    }
    println!(
        "matmul 32x8x32 {:.2} us",
        t.elapsed().as_secs_f64() / n as f64 * 1e6
    );
    let t = Instant::now();
    for _ in 0..n {
        let _ = h.clone().matmul(h.clone());
    }
    println!(
        "matmul 32x32x32 {:.2} us",
        t.elapsed().as_secs_f64() / n as f64 * 1e6
    );
    let t = Instant::now();
    for _ in 0..n {
        let _ = h.clone().tanh();
    }
    println!(
        "tanh 32x32 {:.2} us",
        t.elapsed().as_secs_f64() / n as f64 * 1e6
    );
    let t = Instant::now();
    for _ in 0..n {
        let _ = h.clone() + h.clone();
    }
    println!(
        "add 32x32 {:.2} us",
        t.elapsed().as_secs_f64() / n as f64 * 1e6
    );
    let t = Instant::now();
    for _ in 0..n {
        let _ = h.clone() * 0.5;
    }
    println!(
        "scale 32x32 {:.2} us",
        t.elapsed().as_secs_f64() / n as f64 * 1e6
    );
    let big: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(2048, 32));
    let t = Instant::now();
    for _ in 0..n {
        let _ = big.clone().slice((32..64, ..));
    }
    println!("slice {:.2} us", t.elapsed().as_secs_f64() / n as f64 * 1e6);
}
