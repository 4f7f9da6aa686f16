//! A prompt's K-quant products on a CPU with AVX-512 VNNI, as llama.cpp computes them there.
//!
//! llama.cpp (the version llama-cpp-python 0.3.36 vendors) does not run its one-token dot
//! product over a prompt: a product with 8 or more activation rows goes to its tiled K-quant
//! path (`ggml-cpu/tiled/`), even with the extra buffer types off. Built for AVX-512 VNNI it
//! unpacks each weight block to one byte per quant, lays sixteen tokens' activations out four
//! bytes per token (`[k / 4][token][4]`), and multiplies with `vpdpbusd`, a weight word
//! broadcast against sixteen tokens at once: a real matrix product, about twice the work per
//! cycle of a kernel that takes one weight row at a time. Its float steps differ from the
//! one-token product's, so this module computes its numbers, not `kquant`'s, per output:
//!
//! - Q4_K, per super-block: exact integer sums `s1 = Σ scale_j × Σ q·y` and
//!   `s2 = Σ min_j × bsum_j` over the eight sub-blocks of 32; then
//!   `r = fma(-dmin, f32(s2), f32(s1) × d)` and `out = out + r × y.d` (rounded after the
//!   multiplication and after the addition), the super-blocks in order from `out = 0`.
//! - Q6_K: `s1 = Σ scale_s × (Σ q·y − 32 × bsum_s)` over the sixteen sub-blocks of 16 (the
//!   6-bit quants unsigned), `r = f32(s1) × d`, `out = out + r × y.d`.
//!
//! `reference` is the portable form of these numbers (what the tests compare the VNNI kernel
//! with); `matmul` the VNNI one. Products with fewer than `MIN_TOKENS` rows, and every product
//! on a CPU without VNNI, keep the one-token kernels' numbers (`quant::matmul`).

use crate::kquant::{self, BlockQ8K, Q4_K_BYTES, Q6_K_BYTES, QK_K};
use crate::quant::Kind;

/// The fewest activation rows llama.cpp sends to its tiled path (`ggml_tiled_min_batch`).
pub const MIN_TOKENS: usize = 8;

/// One K-quant row (raw blocks) against one token's Q8_K row, with the tiled path's float
/// steps: the reference for the VNNI kernel, bit for bit.
pub fn reference(kind: Kind, w: &[u8], x: &[BlockQ8K]) -> f32 {
    let mut out = 0f32;
    match kind {
        Kind::Q4K => {
            for (b, y) in w.chunks_exact(Q4_K_BYTES).zip(x) {
                let (d, dmin) = (kquant::half_at(b, 0), kquant::half_at(b, 2));
                let (mut s1, mut s2) = (0i32, 0i32);
                for j in 0..8 {
                    let (scale, min) = kquant::scale_min(j, &b[4..16]);
                    let raw: i32 =
                        (0..32).map(|l| i32::from(q4(b, 32 * j + l)) * i32::from(y.qs[32 * j + l])).sum();
                    s1 += i32::from(scale) * raw;
                    s2 += i32::from(min) * (i32::from(y.bsums[2 * j]) + i32::from(y.bsums[2 * j + 1]));
                }
                let r = (-dmin).mul_add(s2 as f32, s1 as f32 * d);
                out += r * y.d;
            }
        }
        Kind::Q6K => {
            for (b, y) in w.chunks_exact(Q6_K_BYTES).zip(x) {
                let d = kquant::half_at(b, 208);
                let mut s1 = 0i32;
                for s in 0..16 {
                    let raw: i32 = (0..16)
                        .map(|l| i32::from(kquant::q6(b, 16 * s + l)) * i32::from(y.qs[16 * s + l]))
                        .sum();
                    s1 += i32::from(b[192 + s] as i8) * (raw - 32 * i32::from(y.bsums[s]));
                }
                out += (s1 as f32 * d) * y.d;
            }
        }
        Kind::Q4_1 | Kind::Q8_0 => unreachable!("the tiled path takes K-quants only"),
    }
    out
}

/// The unsigned quant (0..16) of value `i` (0..256) of a Q4_K block.
fn q4(b: &[u8], i: usize) -> u8 {
    let (j, l) = (i / 64, i % 64);
    let byte = b[16 + 32 * j + l % 32];
    if l < 32 {
        byte & 0xF
    } else {
        byte >> 4
    }
}

#[cfg(target_arch = "x86_64")]
pub use avx512::matmul;

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;
    use std::cell::RefCell;

    use super::{BlockQ8K, Kind, QK_K};
    use crate::kquant::avx2::{half, scales_mins};
    use crate::kquant::{Q4_K_BYTES, Q6_K_BYTES};
    use crate::quant::QMatrix;
    use crate::team::{Chunks, Team};

    /// Tokens per band: one 512-bit register holds sixteen tokens' i32 sums.
    const BAND: usize = 16;
    /// Weight rows per task: two passes of eight rows over each band.
    const ROWS: usize = 16;

    /// One super-block of a band's activations: `q[g]` holds values `4g..4g + 4` of each of
    /// the sixteen tokens, four bytes per token (the `vpdpbusd` layout); `bsums[s]` the sums
    /// of sub-block `s` (of 16) per token; `pairs[k]` the sums of the Q4_K sub-blocks (of 32)
    /// `2k` and `2k + 1` as an i16 pair per token (each at most 32 × 127: the `vpdpwssd`
    /// layout); `d` the scales. Tokens past the end are zero.
    #[derive(Clone, Copy)]
    #[repr(C, align(64))]
    struct BandBlock {
        q: [[i8; 64]; 64],
        bsums: [[i32; BAND]; 16],
        pairs: [[i32; BAND]; 4],
        d: [f32; BAND],
    }

    const EMPTY_BAND: BandBlock =
        BandBlock { q: [[0; 64]; 64], bsums: [[0; BAND]; 16], pairs: [[0; BAND]; 4], d: [0.0; BAND] };

    /// Two i16 values as the halves of an i32 lane (`a` low), as `vpdpwssd` reads them.
    fn pair(a: i32, b: i32) -> i32 {
        (a & 0xFFFF) | (b << 16)
    }

    /// Sixteen weight rows' super-block unpacked: one byte per quant, the sub-block scales
    /// (and Q4_K minimums) as i32, `d` and `dmin` as f32. Rows past the matrix are zero.
    #[repr(C, align(64))]
    struct Unpacked {
        q: [[u8; QK_K]; ROWS],
        scales: [[i32; 16]; ROWS],
        /// The Q4_K minimums of sub-blocks `2k`, `2k + 1` as an i16 pair.
        min_pairs: [[i32; 4]; ROWS],
        d: [f32; ROWS],
        dmin: [f32; ROWS],
    }

    /// A thread's working memory, kept between products (a prompt makes a few hundred).
    struct Scratch {
        unpacked: Box<Unpacked>,
        /// `[row][token]` sums of one task.
        acc: Vec<f32>,
    }

    thread_local! {
        static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
        static BANDS: RefCell<Vec<BandBlock>> = const { RefCell::new(Vec::new()) };
    }

    /// A buffer that the tasks of one step write, each its own part.
    struct Shared<T>(*mut T);
    // SAFETY: only used within `matmul`, whose tasks write disjoint parts.
    unsafe impl<T> Sync for Shared<T> {}

    impl<T> Shared<T> {
        /// The element at `offset` (a method, so closures capture the whole wrapper).
        fn at(&self, offset: usize) -> *mut T {
            self.0.wrapping_add(offset)
        }
    }

    /// `outs[m][t][r] = row r of ws[m] · activations t` for the K-quant matrices `ws` (all of
    /// the input size) and `tokens` Q8_K activation rows `x`, with the float steps of
    /// `super::reference`.
    ///
    /// # Panics
    /// When the CPU lacks AVX-512 F/BW/VL/VNNI, AVX2, FMA or F16C (the caller checks), a matrix
    /// is not a K-quant, or the sizes do not fit.
    pub fn matmul(team: &mut Team, ws: &[&QMatrix], x: &[BlockQ8K], tokens: usize, outs: &mut [&mut [f32]]) {
        let vnni = crate::quant::Kernel::best() == crate::quant::Kernel::Avx512Vnni;
        assert!(vnni, "the tiled K-quant product needs AVX-512 VNNI");
        assert_eq!(ws.len(), outs.len(), "one output per matrix");
        let Some(first) = ws.first() else { return };
        let blocks = first.cols / QK_K;
        assert_eq!(x.len(), tokens * blocks, "activations do not match the matrices");
        for (w, out) in ws.iter().zip(outs.iter()) {
            assert!(w.kind.is_k() && w.cols == first.cols, "K-quant matrices of one input size");
            assert_eq!(out.len(), tokens * w.rows, "output does not match the matrix");
        }
        let bands = tokens.div_ceil(BAND);
        BANDS.with_borrow_mut(|layout| {
            layout.resize(bands * blocks, EMPTY_BAND);
            let shared = Shared(layout.as_mut_ptr());
            let next = Chunks::new(bands);
            team.run(&|_| {
                while let Some(band) = next.take() {
                    // SAFETY: band `band` owns entries `band * blocks..(band + 1) * blocks` of
                    // `layout`, resized above.
                    let dst = unsafe { std::slice::from_raw_parts_mut(shared.at(band * blocks), blocks) };
                    lay_out_band(x, tokens, blocks, band, dst);
                }
            });
            let layout = &layout[..bands * blocks];
            let mut tasks = Vec::new();
            for (m, w) in ws.iter().enumerate() {
                tasks.extend((0..w.rows.div_ceil(ROWS)).map(|g| (m, g * ROWS)));
            }
            let ptrs: Vec<Shared<f32>> = outs.iter_mut().map(|o| Shared(o.as_mut_ptr())).collect();
            let next = Chunks::new(tasks.len());
            team.run(&|_| {
                SCRATCH.with_borrow_mut(|scratch| {
                    let scratch = scratch.get_or_insert_with(|| Scratch {
                        // SAFETY: all-zero bytes are a valid `Unpacked` (integers and floats).
                        unpacked: unsafe { Box::new_zeroed().assume_init() },
                        acc: Vec::new(),
                    });
                    while let Some(task) = next.take() {
                        let (m, row0) = tasks[task];
                        // SAFETY: the CPU has the features (asserted above); the task's rows
                        // are its own, inside the output checked above.
                        unsafe { rows_task(ws[m], row0, layout, blocks, tokens, scratch, &ptrs[m]) };
                    }
                });
            });
        });
    }

    /// Writes band `band`'s activation layout (one entry per super-block) from `x`.
    fn lay_out_band(x: &[BlockQ8K], tokens: usize, blocks: usize, band: usize, dst: &mut [BandBlock]) {
        for (b, entry) in dst.iter_mut().enumerate() {
            *entry = EMPTY_BAND;
            for t in 0..BAND.min(tokens - band * BAND) {
                let y = &x[(band * BAND + t) * blocks + b];
                for (g, group) in entry.q.iter_mut().enumerate() {
                    group[4 * t..4 * t + 4].copy_from_slice(&y.qs[4 * g..4 * g + 4]);
                }
                for (s, sums) in entry.bsums.iter_mut().enumerate() {
                    sums[t] = i32::from(y.bsums[s]);
                }
                let sum32 = |s: usize| i32::from(y.bsums[2 * s]) + i32::from(y.bsums[2 * s + 1]);
                for (k, pairs) in entry.pairs.iter_mut().enumerate() {
                    pairs[t] = pair(sum32(2 * k), sum32(2 * k + 1));
                }
                entry.d[t] = y.d;
            }
        }
    }

    /// Rows `row0..row0 + 16` of `w` (fewer at the end) against every token.
    ///
    /// # Safety
    /// The CPU has AVX2, FMA, F16C and AVX-512 F/BW/VL/VNNI; `out` points to `tokens × w.rows`
    /// floats of which no other thread writes these rows.
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn rows_task(
        w: &QMatrix,
        row0: usize,
        layout: &[BandBlock],
        blocks: usize,
        tokens: usize,
        scratch: &mut Scratch,
        out: &Shared<f32>,
    ) {
        let bands = tokens.div_ceil(BAND);
        let stride = bands * BAND;
        scratch.acc.clear();
        scratch.acc.resize(ROWS * stride, 0.0);
        let n = ROWS.min(w.rows - row0);
        let acc = scratch.acc.as_mut_ptr();
        let un = &mut *scratch.unpacked;
        for b in 0..blocks {
            for r in 0..ROWS {
                if r < n {
                    unpack(w.kind, w.block(row0 + r, b), un, r);
                } else {
                    un.q[r] = [0; QK_K];
                    un.scales[r] = [0; 16];
                    un.min_pairs[r] = [0; 4];
                    un.d[r] = 0.0;
                    un.dmin[r] = 0.0;
                }
            }
            for band in 0..bands {
                let a = &layout[band * blocks + b];
                for half in 0..2 {
                    let dst = acc.add(8 * half * stride + band * BAND);
                    match w.kind {
                        Kind::Q4K => tile_q4_k(un, 8 * half, a, dst, stride),
                        _ => tile_q6_k(un, 8 * half, a, dst, stride),
                    }
                }
            }
        }
        for t in 0..tokens {
            for r in 0..n {
                *out.at(t * w.rows + row0 + r) = scratch.acc[r * stride + t];
            }
        }
    }

    /// Unpacks one weight super-block into row `r` of `un`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn unpack(kind: Kind, block: &[u8], un: &mut Unpacked, r: usize) {
        let b = block.as_ptr();
        let q = un.q[r].as_mut_ptr();
        match kind {
            Kind::Q4K => {
                assert!(block.len() >= Q4_K_BYTES);
                un.d[r] = half(b);
                un.dmin[r] = half(b.add(2));
                let sm = scales_mins(b.add(4));
                for (scale, s) in un.scales[r].iter_mut().zip(&sm[..8]) {
                    *scale = i32::from(*s);
                }
                for k in 0..4 {
                    un.min_pairs[r][k] = pair(i32::from(sm[8 + 2 * k]), i32::from(sm[9 + 2 * k]));
                }
                // Each 32 bytes hold values 64j..64j+32 (low nibbles) and the next 32 (high).
                let m4 = _mm256_set1_epi8(0xF);
                for j in 0..4 {
                    let bits = _mm256_loadu_si256(b.add(16 + 32 * j) as *const __m256i);
                    _mm256_storeu_si256(q.add(64 * j) as *mut __m256i, _mm256_and_si256(bits, m4));
                    let high = _mm256_and_si256(_mm256_srli_epi16::<4>(bits), m4);
                    _mm256_storeu_si256(q.add(64 * j + 32) as *mut __m256i, high);
                }
            }
            _ => {
                assert!(block.len() >= Q6_K_BYTES);
                un.d[r] = half(b.add(208));
                for s in 0..16 {
                    un.scales[r][s] = i32::from(*b.add(192 + s) as i8);
                }
                // Per half of 128 values: low nibbles of bytes 0..32, then 32..64, then their
                // high nibbles; the high bit pairs of value group k at bits 2k of 32 bytes.
                let m4 = _mm256_set1_epi8(0xF);
                let m3 = _mm256_set1_epi8(3);
                for h in 0..2 {
                    let ql0 = _mm256_loadu_si256(b.add(64 * h) as *const __m256i);
                    let ql1 = _mm256_loadu_si256(b.add(64 * h + 32) as *const __m256i);
                    let qh = _mm256_loadu_si256(b.add(128 + 32 * h) as *const __m256i);
                    let lows = [
                        _mm256_and_si256(ql0, m4),
                        _mm256_and_si256(ql1, m4),
                        _mm256_and_si256(_mm256_srli_epi16::<4>(ql0), m4),
                        _mm256_and_si256(_mm256_srli_epi16::<4>(ql1), m4),
                    ];
                    let highs = [
                        _mm256_and_si256(qh, m3),
                        _mm256_and_si256(_mm256_srli_epi16::<2>(qh), m3),
                        _mm256_and_si256(_mm256_srli_epi16::<4>(qh), m3),
                        _mm256_and_si256(_mm256_srli_epi16::<6>(qh), m3),
                    ];
                    for k in 0..4 {
                        let v = _mm256_or_si256(lows[k], _mm256_slli_epi16::<4>(highs[k]));
                        _mm256_storeu_si256(q.add(128 * h + 32 * k) as *mut __m256i, v);
                    }
                }
            }
        }
    }

    /// Eight rows (`r0..r0 + 8` of `un`) of Q4_K against one band's super-block: adds each
    /// row's sixteen tokens' `r × y.d` into `dst` (rows `stride` apart).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn tile_q4_k(un: &Unpacked, r0: usize, a: &BandBlock, dst: *mut f32, stride: usize) {
        let mut s1 = [_mm512_setzero_si512(); 8];
        for s in 0..8 {
            let mut raw = [_mm512_setzero_si512(); 8];
            for g in 8 * s..8 * s + 8 {
                let y = _mm512_load_si512(a.q[g].as_ptr() as *const __m512i);
                for (t, sums) in raw.iter_mut().enumerate() {
                    let word = std::ptr::read_unaligned(un.q[r0 + t].as_ptr().add(4 * g) as *const i32);
                    *sums = _mm512_dpbusd_epi32(*sums, _mm512_set1_epi32(word), y);
                }
            }
            for t in 0..8 {
                let scaled = _mm512_mullo_epi32(raw[t], _mm512_set1_epi32(un.scales[r0 + t][s]));
                s1[t] = _mm512_add_epi32(s1[t], scaled);
            }
        }
        // Σ min × bsum over the sub-blocks, two at a time (all fit i16: mins < 64, sums of 32
        // quants at most 32 × 127 in magnitude).
        let mut s2 = [_mm512_setzero_si512(); 8];
        for k in 0..4 {
            let pairs = _mm512_load_si512(a.pairs[k].as_ptr() as *const __m512i);
            for (t, sums) in s2.iter_mut().enumerate() {
                *sums = _mm512_dpwssd_epi32(*sums, pairs, _mm512_set1_epi32(un.min_pairs[r0 + t][k]));
            }
        }
        let d1 = _mm512_load_ps(a.d.as_ptr());
        for t in 0..8 {
            let r = _mm512_mul_ps(_mm512_cvtepi32_ps(s1[t]), _mm512_set1_ps(un.d[r0 + t]));
            let r = _mm512_fnmadd_ps(_mm512_set1_ps(un.dmin[r0 + t]), _mm512_cvtepi32_ps(s2[t]), r);
            let p = dst.add(t * stride);
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), _mm512_mul_ps(r, d1)));
        }
    }

    /// As `tile_q4_k`, for Q6_K (sub-blocks of 16, quants offset by 32, no minimums).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn tile_q6_k(un: &Unpacked, r0: usize, a: &BandBlock, dst: *mut f32, stride: usize) {
        let mut s1 = [_mm512_setzero_si512(); 8];
        for s in 0..16 {
            let offset = _mm512_slli_epi32::<5>(_mm512_load_si512(a.bsums[s].as_ptr() as *const __m512i));
            let mut raw = [_mm512_setzero_si512(); 8];
            for g in 4 * s..4 * s + 4 {
                let y = _mm512_load_si512(a.q[g].as_ptr() as *const __m512i);
                for (t, sums) in raw.iter_mut().enumerate() {
                    let word = std::ptr::read_unaligned(un.q[r0 + t].as_ptr().add(4 * g) as *const i32);
                    *sums = _mm512_dpbusd_epi32(*sums, _mm512_set1_epi32(word), y);
                }
            }
            for t in 0..8 {
                let corrected = _mm512_sub_epi32(raw[t], offset);
                let scaled = _mm512_mullo_epi32(corrected, _mm512_set1_epi32(un.scales[r0 + t][s]));
                s1[t] = _mm512_add_epi32(s1[t], scaled);
            }
        }
        let d1 = _mm512_load_ps(a.d.as_ptr());
        for (t, sums) in s1.iter().enumerate() {
            let r = _mm512_mul_ps(_mm512_cvtepi32_ps(*sums), _mm512_set1_ps(un.d[r0 + t]));
            let p = dst.add(t * stride);
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), _mm512_mul_ps(r, d1)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kquant::tests::{dequantize, random_blocks};
    use crate::quant::tests::random;

    /// `tokens` Q8_K rows of `cols` values, each with a -127 and a 127 side by side.
    fn activations(tokens: usize, cols: usize, seed: u32) -> Vec<BlockQ8K> {
        (0..tokens)
            .flat_map(|t| {
                let mut values = random(cols, seed + t as u32);
                values[5 * t] = 2.0;
                values[5 * t + 1] = -2.0;
                let mut q = vec![BlockQ8K::default(); cols / QK_K];
                kquant::quantize(&values, &mut q);
                q
            })
            .collect()
    }

    /// The reference is the float math on the dequantized rows and activations, up to the
    /// order of float additions.
    #[test]
    fn reference_matches_dequantize_then_dot() {
        let cols = 3 * QK_K;
        let x = activations(1, cols, 3);
        let xd: Vec<f32> = (0..cols).map(|i| x[i / QK_K].d * f32::from(x[i / QK_K].qs[i % QK_K])).collect();
        for (kind, block_bytes) in [(Kind::Q4K, Q4_K_BYTES), (Kind::Q6K, Q6_K_BYTES)] {
            let w = random_blocks(block_bytes, 4, cols, 5);
            for row in w.chunks_exact(cols / QK_K * block_bytes) {
                let exact: f64 = dequantize(block_bytes, row)
                    .iter()
                    .zip(&xd)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum();
                let got = f64::from(reference(kind, row, &x));
                assert!((got - exact).abs() <= 1e-4 * (1.0 + exact.abs()), "{kind:?}: {got} vs {exact}");
            }
        }
    }

    /// The VNNI product gives the reference's bits: a Q4_K and a Q6_K matrix in one call, rows
    /// that do not fill the last group of 16, 8 to 40 tokens (bands of 16 with a ragged end),
    /// the largest quants and negative Q6_K scales. On a CPU without AVX-512 VNNI the test
    /// prints "skipped: this CPU has no AVX-512 VNNI, the tiled product was not compared".
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vnni_product_gives_the_reference_bits() {
        use crate::quant::{Kernel, QMatrix};
        if Kernel::best() != Kernel::Avx512Vnni {
            eprintln!("skipped: this CPU has no AVX-512 VNNI, the tiled product was not compared");
            return;
        }
        let cols = 3 * QK_K;
        let rows = 37;
        let mut matrices = Vec::new();
        for (kind, block_bytes) in [(Kind::Q4K, Q4_K_BYTES), (Kind::Q6K, Q6_K_BYTES)] {
            let mut data = random_blocks(block_bytes, rows, cols, 29);
            // All-ones quant bytes in the first block: nibbles of 15, 6-bit quants of 63.
            data[16..144].fill(0xFF);
            matrices.push(QMatrix::new(kind, rows, cols, data.clone()).expect("sizes fit"));
        }
        let x = activations(40, cols, 50);
        let mut team = crate::team::Team::new(2);
        for tokens in [8, 16, 21, 40] {
            let xs = &x[..tokens * cols / QK_K];
            let (mut a, mut b) = (vec![0f32; tokens * rows], vec![0f32; tokens * rows]);
            matmul(&mut team, &[&matrices[0], &matrices[1]], xs, tokens, &mut [&mut a, &mut b]);
            for (w, out) in matrices.iter().zip([&a, &b]) {
                for t in 0..tokens {
                    let xt = &xs[t * cols / QK_K..(t + 1) * cols / QK_K];
                    for r in 0..rows {
                        let expected = reference(w.kind, w.block_row(r), xt);
                        assert_eq!(
                            out[t * rows + r].to_bits(),
                            expected.to_bits(),
                            "{:?}, {tokens} tokens: token {t} row {r}",
                            w.kind
                        );
                    }
                }
            }
        }
    }
}
