//! Multiply-adds per second of the K-quant matrix products on one thread, for each kernel this
//! CPU runs: a 1536 × 1536 matrix (it stays in L2, as a row chunk does in a prompt) against
//! 64 tokens, repeated. Measures the kernels alone, apart from the rest of a forward pass.
//!
//! cargo run --release -p llm --example kernels

use std::time::Instant;

use llm::kquant::{self, BlockQ8K, QK_K};
use llm::quant::{matmul_kernel, Acts, Kernel, Kind, QMatrix};
use llm::team::Team;

fn main() {
    let (rows, cols, tokens) = (1536, 1536, 64);
    let mut seed = 1u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let values: Vec<f32> = (0..tokens * cols).map(|_| (next() % 2000) as f32 / 1000.0 - 1.0).collect();
    let mut x = vec![BlockQ8K::default(); tokens * cols / QK_K];
    kquant::quantize(&values, &mut x);
    let best = Kernel::detect();
    let mut kernels = vec![best, best.without_avx512()];
    kernels.dedup();
    for kind in [Kind::Q4K, Kind::Q6K] {
        let mut data: Vec<u8> = (0..rows * cols / QK_K * kind.block_bytes()).map(|_| next() as u8).collect();
        // Small finite f16 scales.
        for b in data.chunks_exact_mut(kind.block_bytes()) {
            let at = if kind == Kind::Q4K { 0 } else { 208 };
            b[at..at + 2].copy_from_slice(&half::f16::from_f32(0.001).to_bits().to_le_bytes());
        }
        let w = QMatrix::new(kind, rows, cols, data).expect("sizes fit");
        for kernel in &kernels {
            let mut team = Team::new(1);
            let mut out = vec![0f32; tokens * rows];
            let runs = 20;
            let (started, cpu) = (Instant::now(), thread_cpu_seconds());
            for _ in 0..runs {
                matmul_kernel(&mut team, *kernel, &[&w], Acts { q8: &[], q8k: &x }, tokens, &mut [&mut out]);
            }
            let (wall, cpu) = (started.elapsed().as_secs_f64(), thread_cpu_seconds() - cpu);
            let g = (runs * rows * cols * tokens) as f64 / 1e9;
            println!(
                "{kind:?} {kernel:?}: {:.1} G multiply-adds per CPU second ({:.1} per wall second)",
                g / cpu,
                g / wall
            );
        }
    }
}

/// CPU time this thread has run (from /proc/thread-self/schedstat, in nanoseconds): the
/// machine may be shared.
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}
