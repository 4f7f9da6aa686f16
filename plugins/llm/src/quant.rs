//! Quantized weights and activations, and the matrix products between them.
//!
//! The arithmetic is llama.cpp's, step for step: activations are quantized per block of 32 to
//! 8-bit (scale rounded to f16, values rounded half to even), a Q4_1 row is dotted with them as
//! integer sums per block scaled and accumulated in eight f32 lanes with fused multiply-adds, and
//! the lanes are added in the same order. Doing the same operations in the same order is what
//! lets greedy decoding agree with llama.cpp token for token, rather than only at first.
//!
//! Each kernel has an AVX2 form (chosen at run time) and a portable form that computes the same
//! numbers more slowly; the K-quant products also have an AVX-512 VNNI form (`kquant::avx512`,
//! chosen where the CPU has it), again with the same numbers.

use half::f16;

use crate::kquant::{self, BlockQ8K, QK_K};
use crate::team::{Chunks, Team};

/// Values per quantization block.
pub const QK: usize = 32;

/// The block formats this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// f16 scale, f16 minimum, 32 four-bit values.
    Q4_1,
    /// f16 scale, 32 eight-bit values.
    Q8_0,
    /// Super-blocks of 256: f16 scale and minimum, 6-bit scales and minimums per 32, nibbles.
    Q4K,
    /// Super-blocks of 256: 6-bit values, an 8-bit scale per 16, an f16 scale.
    Q6K,
}

impl Kind {
    /// Bytes per block.
    pub const fn block_bytes(self) -> usize {
        match self {
            Kind::Q4_1 => 20,
            Kind::Q8_0 => 34,
            Kind::Q4K => kquant::Q4_K_BYTES,
            Kind::Q6K => kquant::Q6_K_BYTES,
        }
    }

    /// Values per block.
    pub const fn block_values(self) -> usize {
        match self {
            Kind::Q4_1 | Kind::Q8_0 => QK,
            Kind::Q4K | Kind::Q6K => QK_K,
        }
    }

    /// Whether its products take Q8_K activations (K-quants) rather than 8-bit blocks of 32.
    pub const fn is_k(self) -> bool {
        matches!(self, Kind::Q4K | Kind::Q6K)
    }
}

/// A matrix's input, quantized for each block family the matrices that read it use: 8-bit
/// blocks of 32 for Q4_1/Q8_0, Q8_K for the K-quants (llama.cpp quantizes the activations to
/// each weight type's own partner).
#[derive(Clone, Copy)]
pub struct Acts<'a> {
    /// Blocks of 32, `tokens × cols / 32` (empty when no matrix needs them).
    pub q8: &'a [BlockQ8],
    /// Blocks of 256, `tokens × cols / 256` (empty when no matrix needs them).
    pub q8k: &'a [BlockQ8K],
}

/// A weight matrix as the GGUF stores it: `rows` rows of `cols` values, each a run of blocks.
pub struct QMatrix {
    /// Block format.
    pub kind: Kind,
    /// Output size.
    pub rows: usize,
    /// Input size (a multiple of 32).
    pub cols: usize,
    data: Vec<u8>,
}

impl QMatrix {
    /// Wraps raw block data; `None` when the sizes do not fit together.
    pub fn new(kind: Kind, rows: usize, cols: usize, data: Vec<u8>) -> Option<QMatrix> {
        let per_block = kind.block_values();
        (cols.is_multiple_of(per_block) && data.len() == rows * cols / per_block * kind.block_bytes())
            .then_some(QMatrix { kind, rows, cols, data })
    }

    fn row_bytes(&self) -> usize {
        self.cols / self.kind.block_values() * self.kind.block_bytes()
    }

    fn row(&self, r: usize) -> &[u8] {
        let n = self.row_bytes();
        &self.data[r * n..(r + 1) * n]
    }

    /// Row `r`'s raw blocks.
    #[cfg(test)]
    pub(crate) fn block_row(&self, r: usize) -> &[u8] {
        self.row(r)
    }

    /// Block `b` of row `r`.
    pub(crate) fn block(&self, r: usize, b: usize) -> &[u8] {
        let n = self.kind.block_bytes();
        &self.row(r)[b * n..(b + 1) * n]
    }

    /// Row `r` as floats (the embedding lookup).
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let row = self.row(r);
        let per_block = self.kind.block_values();
        for (b, chunk) in row.chunks_exact(self.kind.block_bytes()).zip(out.chunks_exact_mut(per_block)) {
            let d = half_at(b, 0);
            match self.kind {
                Kind::Q4K => kquant::dequantize_q4_k(b, chunk),
                Kind::Q6K => kquant::dequantize_q6_k(b, chunk),
                Kind::Q8_0 => {
                    for (o, q) in chunk.iter_mut().zip(&b[2..34]) {
                        *o = f32::from(*q as i8) * d;
                    }
                }
                Kind::Q4_1 => {
                    let m = half_at(b, 2);
                    for j in 0..16 {
                        chunk[j] = f32::from(b[4 + j] & 0xF) * d + m;
                        chunk[j + 16] = f32::from(b[4 + j] >> 4) * d + m;
                    }
                }
            }
        }
    }
}

fn half_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([bytes[at], bytes[at + 1]])).to_f32()
}

/// 32 activations quantized to 8 bits: `d` is the f16-rounded scale, `s` the f16-rounded
/// `d × Σq` that a Q4_1 product needs for its minimum term.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(8))]
pub struct BlockQ8 {
    d: f32,
    s: f32,
    qs: [i8; QK],
}

/// Quantizes `x` (a multiple of 32 long) block by block into `out`.
#[inline(always)]
pub fn quantize(x: &[f32], out: &mut [BlockQ8]) {
    for (block, xs) in out.iter_mut().zip(x.chunks_exact(QK)) {
        let max = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = max / 127.0;
        let id = if max != 0.0 { 127.0 / max } else { 0.0 };
        let mut sum = 0i32;
        for (q, v) in block.qs.iter_mut().zip(xs) {
            let r = (v * id).round_ties_even() as i32;
            sum += r;
            *q = r as i8;
        }
        block.d = f16::from_f32(d).to_f32();
        block.s = f16::from_f32(d * sum as f32).to_f32();
    }
}

/// `outs[m][t][r] = row r of ws[m] · activations t`, for each matrix `ws[m]` (all of the same
/// input size) and `tokens` quantized activation rows in `x`, in one parallel step of `team`:
/// a block's matrices that read the same input (q, k, v; gate, up) share one step, so there are
/// fewer steps to wait for.
pub fn matmul(team: &mut Team, ws: &[&QMatrix], x: Acts<'_>, tokens: usize, outs: &mut [&mut [f32]]) {
    matmul_kernel(team, Kernel::detect(), ws, x, tokens, outs);
}

/// `matmul` with the kernel given (one this CPU runs: `Kernel::detect()` or a slower one).
pub fn matmul_kernel(
    team: &mut Team,
    kernel: Kernel,
    ws: &[&QMatrix],
    x: Acts<'_>,
    tokens: usize,
    outs: &mut [&mut [f32]],
) {
    let best = Kernel::best();
    assert!([best, best.without_avx512(), Kernel::Portable].contains(&kernel), "a kernel this CPU runs");
    assert_eq!(ws.len(), outs.len(), "one output per matrix");
    for (w, out) in ws.iter().zip(outs.iter()) {
        let given = if w.kind.is_k() { x.q8k.len() } else { x.q8.len() };
        assert_eq!(given, tokens * w.cols / w.kind.block_values(), "activations do not match the matrix");
        assert_eq!(out.len(), tokens * w.rows, "output does not match the matrix");
    }
    // A prompt's K-quant products on a VNNI CPU: llama.cpp's tiled path, and its numbers.
    #[cfg(target_arch = "x86_64")]
    if kernel == Kernel::Avx512Vnni && tokens >= crate::gemm::MIN_TOKENS && ws.iter().all(|w| w.kind.is_k()) {
        return crate::gemm::matmul(team, ws, x.q8k, tokens, outs);
    }
    // Row chunks small enough to share the work evenly, large enough that each amortises its
    // hand-out; each chunk's weights stay in L1 while every token streams past them.
    let threads = team.threads();
    let mut tasks = Vec::new();
    for (m, w) in ws.iter().enumerate() {
        let chunk = (w.rows / (threads * 8)).clamp(4, 64);
        tasks.extend((0..w.rows.div_ceil(chunk)).map(|c| (m, c * chunk..((c + 1) * chunk).min(w.rows))));
    }
    let ptrs: Vec<SharedOut> = outs.iter_mut().map(|o| SharedOut(o.as_mut_ptr())).collect();
    let chunks = Chunks::new(tasks.len());
    team.run(&|_| {
        while let Some(c) = chunks.take() {
            let (m, rows) = &tasks[c];
            // SAFETY: tasks own disjoint row ranges of their matrix's output, whose size the
            // asserts above checked.
            unsafe { rows_product(kernel, ws[*m], x, tokens, rows.clone(), &ptrs[*m]) };
        }
    });
}

/// Rows `rows` of `w` dotted with each of the `tokens` activation rows of `x`.
///
/// # Safety
/// `out` points to `tokens * w.rows` floats, and no other thread writes these rows.
unsafe fn rows_product(
    kernel: Kernel,
    w: &QMatrix,
    x: Acts<'_>,
    tokens: usize,
    rows: std::ops::Range<usize>,
    out: &SharedOut,
) {
    if w.kind.is_k() {
        return rows_product_k(kernel, w, x.q8k, tokens, rows, out);
    }
    let x = x.q8;
    let blocks = w.cols / QK;
    let mut t = 0;
    // Four tokens at a time share one unpacking of each weight block; every output keeps its
    // own accumulator, so the numbers are those of `dot`.
    while w.kind == Kind::Q4_1 && t + 4 <= tokens {
        let xt = [0, 1, 2, 3].map(|k| &x[(t + k) * blocks..(t + k + 1) * blocks]);
        for r in rows.clone() {
            let v = kernel.dot4_q4_1(w.row(r), xt);
            for (k, v) in v.into_iter().enumerate() {
                *out.0.add((t + k) * w.rows + r) = v;
            }
        }
        t += 4;
    }
    for t in t..tokens {
        let xt = &x[t * blocks..(t + 1) * blocks];
        for r in rows.clone() {
            *out.0.add(t * w.rows + r) = kernel.dot(w.kind, w.row(r), xt);
        }
    }
}

/// `rows_product` for K-quant matrices: four tokens at a time share each unpacked weight block,
/// each keeping its own accumulators (the one-token numbers).
///
/// # Safety
/// As `rows_product`.
unsafe fn rows_product_k(
    kernel: Kernel,
    w: &QMatrix,
    x: &[BlockQ8K],
    tokens: usize,
    rows: std::ops::Range<usize>,
    out: &SharedOut,
) {
    let blocks = w.cols / QK_K;
    let mut t = 0;
    while t + 4 <= tokens {
        let xt = [0, 1, 2, 3].map(|k| &x[(t + k) * blocks..(t + k + 1) * blocks]);
        for r in rows.clone() {
            for (k, v) in kernel.dotn_k(w.kind, w.row(r), xt).into_iter().enumerate() {
                *out.0.add((t + k) * w.rows + r) = v;
            }
        }
        t += 4;
    }
    for t in t..tokens {
        let xt = &x[t * blocks..(t + 1) * blocks];
        for r in rows.clone() {
            *out.0.add(t * w.rows + r) = kernel.dot_k(w.kind, w.row(r), xt);
        }
    }
}

/// An output many tasks write, each its own elements.
pub(crate) struct SharedOut(pub(crate) *mut f32);
// SAFETY: only used by `matmul`, whose tasks write disjoint elements.
unsafe impl Send for SharedOut {}

impl SharedOut {
    /// The element at `offset` (a method, so closures capture the whole wrapper).
    pub(crate) fn at(&self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}
unsafe impl Sync for SharedOut {}

/// Which implementation of the kernels this CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX2 with FMA and F16C.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// The AVX2 kernels, but the K-quant products with AVX-512 VNNI (same results).
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
    /// Plain Rust, same results.
    Portable,
}

impl Kernel {
    /// The fastest kernel this CPU supports, or a slower one named by `BRIEFD_LLM_KERNEL`
    /// (`avx2`, `portable`: to measure what each step gains; a name the CPU cannot run, or
    /// any other value, is ignored).
    pub fn detect() -> Kernel {
        static CHOSEN: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let best = Kernel::best();
            match std::env::var("BRIEFD_LLM_KERNEL").as_deref() {
                Ok("portable") => Kernel::Portable,
                Ok("avx2") => best.without_avx512(),
                _ => best,
            }
        })
    }

    /// The fastest kernel this CPU supports, whatever `BRIEFD_LLM_KERNEL` says.
    pub(crate) fn best() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c")
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vl")
                && std::is_x86_feature_detected!("avx512vnni")
            {
                return Kernel::Avx512Vnni;
            }
            return Kernel::Avx2;
        }
        Kernel::Portable
    }

    /// The same kernel without its AVX-512 parts (for tests that compare the two).
    pub fn without_avx512(self) -> Kernel {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni => Kernel::Avx2,
            other => other,
        }
    }

    /// One row of weights dotted with one row of activations.
    #[inline]
    pub fn dot(self, kind: Kind, w: &[u8], x: &[BlockQ8]) -> f32 {
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2` and `Avx512Vnni` are only chosen when the CPU has AVX2, FMA and F16C.
            Kernel::Avx2 | Kernel::Avx512Vnni => unsafe {
                match kind {
                    Kind::Q4_1 => avx2::dot_q4_1(w, x),
                    Kind::Q8_0 => avx2::dot_q8_0(w, x),
                    Kind::Q4K | Kind::Q6K => unreachable!("K-quants take Q8_K activations (dot_k)"),
                }
            },
            Kernel::Portable => match kind {
                Kind::Q4_1 => portable::dot_q4_1(w, x),
                Kind::Q8_0 => portable::dot_q8_0(w, x),
                Kind::Q4K | Kind::Q6K => unreachable!("K-quants take Q8_K activations (dot_k)"),
            },
        }
    }

    /// One K-quant row of weights dotted with one row of Q8_K activations.
    #[inline]
    pub fn dot_k(self, kind: Kind, w: &[u8], x: &[BlockQ8K]) -> f32 {
        match self {
            Kernel::Portable => match kind {
                Kind::Q4K => kquant::portable::dot_q4_k(w, x),
                Kind::Q6K => kquant::portable::dot_q6_k(w, x),
                Kind::Q4_1 | Kind::Q8_0 => unreachable!("blocks of 32 take BlockQ8 activations (dot)"),
            },
            #[cfg(target_arch = "x86_64")]
            _ => self.dotn_k(kind, w, [x])[0],
        }
    }

    /// One K-quant row dotted with `N` rows of Q8_K activations.
    #[inline]
    pub fn dotn_k<const N: usize>(self, kind: Kind, w: &[u8], x: [&[BlockQ8K]; N]) -> [f32; N] {
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2` is only chosen when the CPU has AVX2, FMA and F16C.
            Kernel::Avx2 => unsafe {
                match kind {
                    Kind::Q4K => kquant::avx2::dot_q4_k(w, x),
                    Kind::Q6K => kquant::avx2::dot_q6_k(w, x),
                    Kind::Q4_1 | Kind::Q8_0 => unreachable!("blocks of 32 take BlockQ8 activations (dot)"),
                }
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx512Vnni` is only chosen when the CPU has AVX2, FMA, F16C and
            // AVX-512 F/BW/VL/VNNI.
            Kernel::Avx512Vnni => unsafe {
                match kind {
                    Kind::Q4K => kquant::avx512::dot_q4_k(w, x),
                    Kind::Q6K => kquant::avx512::dot_q6_k(w, x),
                    Kind::Q4_1 | Kind::Q8_0 => unreachable!("blocks of 32 take BlockQ8 activations (dot)"),
                }
            },
            Kernel::Portable => x.map(|x| self.dot_k(kind, w, x)),
        }
    }
}

impl Kernel {
    /// One Q4_1 row dotted with four rows of activations.
    #[inline]
    pub fn dot4_q4_1(self, w: &[u8], x: [&[BlockQ8]; 4]) -> [f32; 4] {
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2` is only chosen when the CPU has AVX2, FMA and F16C.
            Kernel::Avx2 | Kernel::Avx512Vnni => unsafe { avx2::dot4_q4_1(w, x) },
            Kernel::Portable => x.map(|x| portable::dot_q4_1(w, x)),
        }
    }
}

/// Adds eight lanes in the order of llama.cpp's `hsum_float_8`.
#[inline(always)]
pub(crate) fn hsum8(a: [f32; 8]) -> f32 {
    let r = [a[4] + a[0], a[5] + a[1], a[6] + a[2], a[7] + a[3]];
    (r[0] + r[2]) + (r[1] + r[3])
}

#[cfg(target_arch = "x86_64")]
pub(crate) use avx2::hsum as hsum_avx2;

mod portable {
    use super::{half_at, hsum8, BlockQ8, QK};

    pub fn dot_q4_1(w: &[u8], x: &[BlockQ8]) -> f32 {
        let mut acc = [0f32; 8];
        let mut summs = 0f32;
        for (b, y) in w.chunks_exact(20).zip(x) {
            let d0 = half_at(b, 0);
            let m0 = half_at(b, 2);
            summs = m0.mul_add(y.s, summs);
            let d0d1 = d0 * y.d;
            let mut q = [0i32; QK];
            for j in 0..16 {
                q[j] = i32::from(b[4 + j] & 0xF);
                q[j + 16] = i32::from(b[4 + j] >> 4);
            }
            lanes(&mut acc, d0d1, &q, &y.qs);
        }
        hsum8(acc) + summs
    }

    pub fn dot_q8_0(w: &[u8], x: &[BlockQ8]) -> f32 {
        let mut acc = [0f32; 8];
        for (b, y) in w.chunks_exact(34).zip(x) {
            let d = half_at(b, 0) * y.d;
            let mut q = [0i32; QK];
            for (qj, v) in q.iter_mut().zip(&b[2..34]) {
                *qj = i32::from(*v as i8);
            }
            lanes(&mut acc, d, &q, &y.qs);
        }
        hsum8(acc)
    }

    /// Lane `l` takes the integer sum of values `4l..4l+4`, as `maddubs` + `madd` leave them.
    fn lanes(acc: &mut [f32; 8], scale: f32, q: &[i32; QK], y: &[i8; QK]) {
        for (l, a) in acc.iter_mut().enumerate() {
            let s: i32 = (0..4).map(|k| q[4 * l + k] * i32::from(y[4 * l + k])).sum();
            *a = scale.mul_add(s as f32, *a);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::BlockQ8;

    /// The f16 values at `p` and `p + 2` as f32. Four bytes are loaded at once: a 16-bit
    /// load is compiled as an insertion into whatever register is at hand, and in a loop that
    /// register was the running sum, which chained each block's load to the previous block's
    /// arithmetic (about a third of the time of a one-token Q4_1 product).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn halves(p: *const u8) -> (f32, f32) {
        let both = _mm_cvtph_ps(_mm_cvtsi32_si128(std::ptr::read_unaligned(p as *const i32)));
        (_mm_cvtss_f32(both), _mm_cvtss_f32(_mm_movehdup_ps(both)))
    }

    /// Adds the eight lanes in `hsum8`'s order.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn hsum(x: __m256) -> f32 {
        let mut r = _mm_add_ps(_mm256_extractf128_ps(x, 1), _mm256_castps256_ps128(x));
        r = _mm_add_ps(r, _mm_movehl_ps(r, r));
        r = _mm_add_ss(r, _mm_movehdup_ps(r));
        _mm_cvtss_f32(r)
    }

    /// Asks for the cache line `AHEAD` bytes past `b`: a one-token product streams its
    /// weights once, and the hardware prefetcher stops at each 4 KiB page (measured: a third
    /// less CPU time per generated token). A hint only: prefetches past the end do not fault.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn prefetch_ahead(b: *const u8) {
        const AHEAD: usize = 2048;
        _mm_prefetch::<_MM_HINT_T0>(b.wrapping_add(AHEAD) as *const i8);
    }

    /// Unsigned × signed bytes, summed in fours into eight f32 lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn mul_sum_us8(ax: __m256i, sy: __m256i) -> __m256 {
        let dot = _mm256_maddubs_epi16(ax, sy);
        _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_set1_epi16(1), dot))
    }

    /// # Safety
    /// The CPU must have AVX2, FMA and F16C; `w` holds `x.len()` Q4_1 blocks.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_q4_1(w: &[u8], x: &[BlockQ8]) -> f32 {
        debug_assert!(w.len() >= x.len() * 20);
        let mut acc = _mm256_setzero_ps();
        let mut summs = 0f32;
        let low = _mm256_set1_epi8(0xF);
        let p = w.as_ptr();
        for (i, y) in x.iter().enumerate() {
            let b = p.add(i * 20);
            prefetch_ahead(b);
            let (d0, m0) = halves(b);
            summs = m0.mul_add(y.s, summs);
            let d0d1 = _mm256_set1_ps(d0 * y.d);
            let raw = _mm_loadu_si128(b.add(4) as *const __m128i);
            let qx = _mm256_and_si256(low, _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw));
            let qy = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
            acc = _mm256_fmadd_ps(d0d1, mul_sum_us8(qx, qy), acc);
        }
        hsum(acc) + summs
    }

    /// # Safety
    /// The CPU must have AVX2, FMA and F16C; `w` holds as many Q4_1 blocks as each `x` row.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot4_q4_1(w: &[u8], x: [&[BlockQ8]; 4]) -> [f32; 4] {
        let blocks = x[0].len();
        debug_assert!(x.iter().all(|r| r.len() == blocks) && w.len() >= blocks * 20);
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut summs = [0f32; 4];
        let low = _mm256_set1_epi8(0xF);
        let p = w.as_ptr();
        for i in 0..blocks {
            let b = p.add(i * 20);
            let (d0, m0) = halves(b);
            let raw = _mm_loadu_si128(b.add(4) as *const __m128i);
            let qx = _mm256_and_si256(low, _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw));
            for k in 0..4 {
                let y = x[k].get_unchecked(i);
                summs[k] = m0.mul_add(y.s, summs[k]);
                let d0d1 = _mm256_set1_ps(d0 * y.d);
                let qy = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
                acc[k] = _mm256_fmadd_ps(d0d1, mul_sum_us8(qx, qy), acc[k]);
            }
        }
        [hsum(acc[0]) + summs[0], hsum(acc[1]) + summs[1], hsum(acc[2]) + summs[2], hsum(acc[3]) + summs[3]]
    }

    /// # Safety
    /// The CPU must have AVX2, FMA and F16C; `w` holds `x.len()` Q8_0 blocks.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_q8_0(w: &[u8], x: &[BlockQ8]) -> f32 {
        debug_assert!(w.len() >= x.len() * 34);
        let mut acc = _mm256_setzero_ps();
        let p = w.as_ptr();
        for (i, y) in x.iter().enumerate() {
            let b = p.add(i * 34);
            prefetch_ahead(b);
            // Converted in integer registers: with F16C the compiler inserts the 16 bits into
            // the accumulator's register, chaining each block to the previous one (see `halves`).
            let scale = half::f16::from_bits(std::ptr::read_unaligned(b as *const u16)).to_f32_const();
            let d = _mm256_set1_ps(scale * y.d);
            let qx = _mm256_loadu_si256(b.add(2) as *const __m256i);
            let qy = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
            let q = mul_sum_us8(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
            acc = _mm256_fmadd_ps(d, q, acc);
        }
        hsum(acc)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `n` reproducible values in [-1, 1) (xorshift), for the engine's kernel tests.
    pub(crate) fn random(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2000) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn blocks(kind: Kind, rows: usize, cols: usize, seed: u32) -> QMatrix {
        let raw = random(rows * cols / QK * kind.block_bytes(), seed);
        let mut data: Vec<u8> = raw.iter().map(|v| ((v + 1.0) * 127.0) as u8).collect();
        // Keep the f16 scales small and finite.
        for b in data.chunks_exact_mut(kind.block_bytes()) {
            b[..2].copy_from_slice(&f16::from_f32(0.01).to_bits().to_le_bytes());
            if kind == Kind::Q4_1 {
                b[2..4].copy_from_slice(&f16::from_f32(-0.05).to_bits().to_le_bytes());
            }
        }
        QMatrix::new(kind, rows, cols, data).expect("sizes fit")
    }

    #[test]
    fn quantize_rounds_half_to_even_and_keeps_the_sum() {
        let mut x = vec![0f32; 32];
        x[0] = 127.0;
        x[1] = 2.5;
        x[2] = -3.5;
        let mut b = [BlockQ8::default()];
        quantize(&x, &mut b);
        assert_eq!(b[0].qs[..3], [127, 2, -4]);
        assert_eq!(b[0].d, 1.0);
        assert_eq!(b[0].s, 125.0);
    }

    /// The SIMD kernel this CPU runs, or `None` after saying (on stderr) that the test that asked
    /// has nothing to compare: without AVX2, FMA and F16C the engine runs the portable kernels
    /// only, and comparing them with themselves would prove nothing.
    pub(crate) fn simd_kernel_or_skip() -> Option<Kernel> {
        let kernel = Kernel::detect();
        if kernel == Kernel::Portable {
            eprintln!("skipped: this CPU has no AVX2, the SIMD kernel was not compared");
            return None;
        }
        Some(kernel)
    }

    /// One token, and five (a group of four sharing each unpacked block, then one alone),
    /// through `matmul` as the engine calls it: (outputs for one token, for five).
    fn products(w: &QMatrix, q: &[BlockQ8]) -> (Vec<f32>, Vec<f32>) {
        let mut team = Team::new(2);
        let mut one = vec![0f32; w.rows];
        matmul(&mut team, &[w], Acts { q8: q, q8k: &[] }, 1, &mut [&mut one]);
        let five: Vec<BlockQ8> = (0..5).flat_map(|_| q.iter().copied()).collect();
        let mut out5 = vec![0f32; 5 * w.rows];
        matmul(&mut team, &[w], Acts { q8: &five, q8k: &[] }, 5, &mut [&mut out5]);
        (one, out5)
    }

    /// The AVX2 kernels (one token and four at a time) give the portable kernel's bits. On a CPU
    /// without AVX2, FMA and F16C there is no SIMD kernel to compare: the test prints
    /// "skipped: this CPU has no AVX2, the SIMD kernel was not compared" and returns.
    #[test]
    fn simd_kernels_give_the_portable_bits() {
        let Some(kernel) = simd_kernel_or_skip() else { return };
        for kind in [Kind::Q4_1, Kind::Q8_0] {
            let w = blocks(kind, 8, 128, 7);
            let mut q = vec![BlockQ8::default(); 4];
            quantize(&random(128, 3), &mut q);
            let (one, five) = products(&w, &q);
            for r in 0..8 {
                let portable = Kernel::Portable.dot(kind, w.row(r), &q);
                assert_eq!(kernel.dot(kind, w.row(r), &q).to_bits(), portable.to_bits(), "{kind:?} row {r}");
                assert_eq!(one[r].to_bits(), portable.to_bits(), "{kind:?} row {r} through matmul");
                for t in 0..5 {
                    assert_eq!(five[t * 8 + r].to_bits(), portable.to_bits(), "{kind:?} row {r} token {t}");
                }
            }
        }
    }

    /// Whatever kernel this CPU runs: a token's product does not depend on whether it went in a
    /// group of four or alone, and the quantized product is close to the float math.
    #[test]
    fn grouped_products_equal_lone_ones_and_the_float_math() {
        for kind in [Kind::Q4_1, Kind::Q8_0] {
            let w = blocks(kind, 8, 128, 7);
            let x = random(128, 3);
            let mut q = vec![BlockQ8::default(); 4];
            quantize(&x, &mut q);
            let (one, five) = products(&w, &q);
            let mut row = vec![0f32; 128];
            for r in 0..8 {
                for t in 0..5 {
                    assert_eq!(five[t * 8 + r].to_bits(), one[r].to_bits(), "{kind:?} row {r} token {t}");
                }
                w.dequantize_row(r, &mut row);
                let exact: f32 = row.iter().zip(&x).map(|(a, b)| a * b).sum();
                let close = (exact - one[r]).abs() < 0.05 * (1.0 + exact.abs());
                assert!(close, "{kind:?} row {r}: {exact} vs {}", one[r]);
            }
        }
    }
}
