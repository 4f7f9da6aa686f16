//! K-quant weights (Q4_K, Q6_K: super-blocks of 256 values with 6- or 8-bit sub-block scales)
//! and their products with activations quantized to Q8_K, each computed as llama.cpp's CPU
//! backend computes it on an AVX2 machine, for the same reason as in `quant`: the same
//! operations in the same order give the same greedy tokens.
//!
//! What llama.cpp (the version llama-cpp-python 0.3.36 vendors) does on AVX2, and so this module:
//!
//! - Activations: `quantize_row_q8_K_ref`: per 256 values, `iscale = -127 / max` where `max` is
//!   the value of largest magnitude (the first one, with its sign), `q = min(127, round(iscale ×
//!   x))` ties to even, sums of each 16 quants (`bsums`), and `d = 1 / iscale` kept in f32.
//! - Q4_K: `ggml_vec_dot_q4_K_q8_K`'s AVX2 form: eight i32 lanes per super-block (lane `l` takes
//!   bytes `4l..4l+4` of each 32-byte run of nibbles, low and high halves with their sub-block
//!   scales), `fma(d, lane, acc)` into eight f32 lanes with `d = y.d × x.d`; the minimums apart,
//!   four lanes of `min × bsum` pairs times `dmin = -y.d × x.dmin`; then `hsum_float_8(acc)` plus
//!   the four minimum lanes added `(0+2)+(1+3)`. (llama.cpp repacks Q4_K matrices into
//!   interleaved rows where its extra buffer types run, with other float steps; the one
//!   machine kind measured here crashes in that path, so the plain product is the reference.
//!   Products of 8 tokens or more go to llama.cpp's tiled path instead, whose numbers on an
//!   AVX-512 VNNI CPU `gemm` computes.)
//! - Q6_K: not repacked on x86; `ggml_vec_dot_q6_K_q8_K`'s AVX2 form keeps eight i32 lanes per
//!   super-block (lane `l` takes bytes `4l..4l+4` of every 32-value chunk, minus `32 ×` the `bsums`
//!   of sub-blocks `2l, 2l+1` times their scales), adds `d · lane` into eight f32 lanes with
//!   fused multiply-adds, and sums the lanes as `hsum_float_8`.
//!
//! Every kernel has a portable form, an AVX2 form and an AVX-512 VNNI form computing the same
//! bits; the integer sums are exact, so only where the float steps happen matters.

use half::f16;

use crate::quant::hsum8;

/// Values per K-quant super-block.
pub const QK_K: usize = 256;
/// Bytes of one Q4_K block: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 of nibbles.
pub const Q4_K_BYTES: usize = 144;
/// Bytes of one Q6_K block: 128 bytes of low nibbles, 64 of high bit pairs, 16 i8 scales, f16 d.
pub const Q6_K_BYTES: usize = 210;

/// 256 activations quantized to 8 bits, as llama.cpp's `block_q8_K` (the fields in another
/// order: the quants first, on a cache line of their own, so no load of them straddles two).
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub struct BlockQ8K {
    /// The quants.
    pub qs: [i8; QK_K],
    /// The scale (f32, not rounded to f16).
    pub d: f32,
    /// Sum of each 16 quants.
    pub bsums: [i16; QK_K / 16],
}

impl Default for BlockQ8K {
    fn default() -> BlockQ8K {
        BlockQ8K { qs: [0; QK_K], d: 0.0, bsums: [0; QK_K / 16] }
    }
}

/// Quantizes `x` (a multiple of 256 long) into `out`, as `quantize_row_q8_K_ref`.
#[inline(always)]
pub fn quantize(x: &[f32], out: &mut [BlockQ8K]) {
    for (block, xs) in out.iter_mut().zip(x.chunks_exact(QK_K)) {
        // The value of largest magnitude, the first one if several (llama.cpp's `if (ax >
        // amax)` loop), found in two passes that vectorise.
        let amax = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
        let max = xs.iter().copied().find(|v| v.abs() == amax).unwrap_or(0.0);
        if amax == 0.0 {
            *block = BlockQ8K::default();
            continue;
        }
        let iscale = -127.0 / max;
        for (q, v) in block.qs.iter_mut().zip(xs) {
            *q = ((iscale * v).round_ties_even() as i32).min(127) as i8;
        }
        for (sum, qs) in block.bsums.iter_mut().zip(block.qs.chunks_exact(16)) {
            *sum = qs.iter().map(|q| i16::from(*q)).sum();
        }
        block.d = 1.0 / iscale;
    }
}

pub(crate) fn half_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([bytes[at], bytes[at + 1]])).to_f32()
}

/// The 6-bit scale and min of sub-block `j` (0..8) of a Q4_K block's 12 scale bytes
/// (`get_scale_min_k4`).
#[inline(always)]
pub(crate) fn scale_min(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}

/// One Q4_K block (144 bytes) as 256 floats.
pub fn dequantize_q4_k(b: &[u8], out: &mut [f32]) {
    let (d, dmin) = (half_at(b, 0), half_at(b, 2));
    let scales = &b[4..16];
    for j in 0..4 {
        let (s0, m0) = scale_min(2 * j, scales);
        let (s1, m1) = scale_min(2 * j + 1, scales);
        let (d0, min0) = (d * f32::from(s0), dmin * f32::from(m0));
        let (d1, min1) = (d * f32::from(s1), dmin * f32::from(m1));
        for l in 0..32 {
            let q = b[16 + 32 * j + l];
            out[64 * j + l] = d0 * f32::from(q & 0xF) - min0;
            out[64 * j + 32 + l] = d1 * f32::from(q >> 4) - min1;
        }
    }
}

/// The unsigned 6-bit quant (0..64) of value `i` (0..256) of a Q6_K block.
#[inline(always)]
pub(crate) fn q6(b: &[u8], i: usize) -> u8 {
    let (half, within) = (i / 128, i % 128);
    let (k, l) = (within / 32, within % 32);
    let ql = b[64 * half + 32 * (k & 1) + l];
    let low = if k < 2 { ql & 0xF } else { ql >> 4 };
    let high = (b[128 + 32 * half + l] >> (2 * k)) & 3;
    low | (high << 4)
}

/// One Q6_K block (210 bytes) as 256 floats.
pub fn dequantize_q6_k(b: &[u8], out: &mut [f32]) {
    let d = half_at(b, 208);
    for (i, o) in out.iter_mut().enumerate().take(QK_K) {
        let scale = f32::from(b[192 + i / 16] as i8);
        *o = d * scale * f32::from(q6(b, i) as i8 - 32);
    }
}

/// Portable kernels: the reference for the AVX2 ones, bit for bit.
pub mod portable {
    use super::*;

    /// A Q4_K row dotted with Q8_K activations, as `ggml_vec_dot_q4_K_q8_K` on AVX2.
    pub fn dot_q4_k(w: &[u8], x: &[BlockQ8K]) -> f32 {
        let mut acc = [0f32; 8];
        let mut acc_min = [0f32; 4];
        for (b, y) in w.chunks_exact(Q4_K_BYTES).zip(x) {
            let d = y.d * half_at(b, 0);
            let dmin = -y.d * half_at(b, 2);
            let scales = &b[4..16];
            let bsum = |s: usize| i32::from(y.bsums[2 * s]) + i32::from(y.bsums[2 * s + 1]);
            for (k, a) in acc_min.iter_mut().enumerate() {
                let (_, m0) = scale_min(2 * k, scales);
                let (_, m1) = scale_min(2 * k + 1, scales);
                let prod = i32::from(m0) * bsum(2 * k) + i32::from(m1) * bsum(2 * k + 1);
                *a = dmin.mul_add(prod as f32, *a);
            }
            let mut lanes = [0i32; 8];
            for j in 0..4 {
                let (s0, _) = scale_min(2 * j, scales);
                let (s1, _) = scale_min(2 * j + 1, scales);
                for (l, lane) in lanes.iter_mut().enumerate() {
                    let (mut lo, mut hi) = (0i32, 0i32);
                    for byte in 4 * l..4 * l + 4 {
                        let q = b[16 + 32 * j + byte];
                        lo += i32::from(q & 0xF) * i32::from(y.qs[64 * j + byte]);
                        hi += i32::from(q >> 4) * i32::from(y.qs[64 * j + 32 + byte]);
                    }
                    *lane += i32::from(s0) * lo + i32::from(s1) * hi;
                }
            }
            for (a, lane) in acc.iter_mut().zip(lanes) {
                *a = d.mul_add(lane as f32, *a);
            }
        }
        hsum8(acc) + ((acc_min[0] + acc_min[2]) + (acc_min[1] + acc_min[3]))
    }

    /// A Q6_K row dotted with Q8_K activations, as `ggml_vec_dot_q6_K_q8_K` on AVX2.
    pub fn dot_q6_k(w: &[u8], x: &[BlockQ8K]) -> f32 {
        let mut acc = [0f32; 8];
        for (b, y) in w.chunks_exact(Q6_K_BYTES).zip(x) {
            let d = y.d * half_at(b, 208);
            let scale = |s: usize| i32::from(b[192 + s] as i8);
            let mut lanes = [0i32; 8];
            for chunk in 0..8 {
                for (l, lane) in lanes.iter_mut().enumerate() {
                    for byte in 4 * l..4 * l + 4 {
                        let i = 32 * chunk + byte;
                        *lane += scale(i / 16) * i32::from(q6(b, i)) * i32::from(y.qs[i]);
                    }
                }
            }
            for (l, (a, lane)) in acc.iter_mut().zip(lanes).enumerate() {
                let offset = i32::from(y.bsums[2 * l]) * scale(2 * l)
                    + i32::from(y.bsums[2 * l + 1]) * scale(2 * l + 1);
                *a = d.mul_add((lane - 32 * offset) as f32, *a);
            }
        }
        hsum8(acc)
    }
}

/// AVX2 kernels (with FMA and F16C).
#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    use std::arch::x86_64::*;

    use super::{BlockQ8K, Q4_K_BYTES, Q6_K_BYTES};
    use crate::quant::hsum_avx2;

    /// The f16 at `p` as f32, converted in integer registers: with F16C the compiler inserts
    /// the 16 bits into whatever vector register is at hand, which in these loops was an
    /// accumulator, chaining each block's scale to the previous block's arithmetic.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn half(p: *const u8) -> f32 {
        half::f16::from_bits(std::ptr::read_unaligned(p as *const u16)).to_f32_const()
    }

    /// Asks for the cache lines of the block `AHEAD` bytes past the one at `b` (`bytes`
    /// long): a one-token product streams its weights once, and the hardware prefetcher
    /// stops at each 4 KiB page (measured: a third less CPU time per generated token). A hint
    /// only: prefetches past the end of the row do not fault.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn prefetch_ahead(b: *const u8, bytes: usize) {
        const AHEAD: usize = 2048;
        let ahead = b.wrapping_add(AHEAD);
        for line in (0..bytes).step_by(64) {
            _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(line) as *const i8);
        }
    }

    /// The eight scales and eight mins of a Q4_K block as `[s0..s8, m0..m8]` bytes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn scales_mins(p: *const u8) -> [u8; 16] {
        const K1: u32 = 0x3f3f_3f3f;
        const K2: u32 = 0x0f0f_0f0f;
        const K3: u32 = 0x0303_0303;
        let mut u = [0u32; 4];
        std::ptr::copy_nonoverlapping(p, u.as_mut_ptr() as *mut u8, 12);
        u[3] = ((u[2] >> 4) & K2) | (((u[1] >> 6) & K3) << 4);
        let aux = u[1] & K1;
        u[1] = (u[2] & K2) | (((u[0] >> 6) & K3) << 4);
        u[2] = aux;
        u[0] &= K1;
        std::mem::transmute::<[u32; 4], [u8; 16]>(u)
    }

    /// `N` activation rows against one Q4_K row.
    ///
    /// # Safety
    /// The CPU must have AVX2, FMA and F16C; `w` holds as many Q4_K blocks as each `x` row.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_q4_k<const N: usize>(w: &[u8], x: [&[BlockQ8K]; N]) -> [f32; N] {
        let blocks = x[0].len();
        debug_assert!(x.iter().all(|r| r.len() == blocks) && w.len() >= blocks * Q4_K_BYTES);
        let m4 = _mm256_set1_epi8(0xF);
        let mut acc = [_mm256_setzero_ps(); N];
        let mut acc_min = [_mm_setzero_ps(); N];
        let p = w.as_ptr();
        for i in 0..blocks {
            let b = p.add(i * Q4_K_BYTES);
            prefetch_ahead(b, Q4_K_BYTES);
            let (dx, dminx) = (half(b), half(b.add(2)));
            let sm = scales_mins(b.add(4));
            let mins = _mm_cvtepu8_epi16(_mm_loadl_epi64(sm.as_ptr().add(8) as *const __m128i));
            let mut sumi = [_mm256_setzero_si256(); N];
            for j in 0..4 {
                let s_lo = _mm256_set1_epi16(i16::from(sm[2 * j]));
                let s_hi = _mm256_set1_epi16(i16::from(sm[2 * j + 1]));
                let bits = _mm256_loadu_si256(b.add(16 + 32 * j) as *const __m256i);
                let lo = _mm256_and_si256(bits, m4);
                let hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
                for t in 0..N {
                    let q = x[t].get_unchecked(i).qs.as_ptr().add(64 * j);
                    let yl = _mm256_loadu_si256(q as *const __m256i);
                    let yh = _mm256_loadu_si256(q.add(32) as *const __m256i);
                    let pl = _mm256_madd_epi16(s_lo, _mm256_maddubs_epi16(lo, yl));
                    let ph = _mm256_madd_epi16(s_hi, _mm256_maddubs_epi16(hi, yh));
                    sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(pl, ph));
                }
            }
            for t in 0..N {
                let y = x[t].get_unchecked(i);
                let bs = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
                let pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
                let prod = _mm_cvtepi32_ps(_mm_madd_epi16(mins, pairs));
                acc_min[t] = _mm_fmadd_ps(_mm_set1_ps(-y.d * dminx), prod, acc_min[t]);
                acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(y.d * dx), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
            }
        }
        let mut out = [0f32; N];
        for t in 0..N {
            let m = _mm_add_ps(acc_min[t], _mm_movehl_ps(acc_min[t], acc_min[t]));
            let m = _mm_add_ss(m, _mm_movehdup_ps(m));
            out[t] = hsum_avx2(acc[t]) + _mm_cvtss_f32(m);
        }
        out
    }

    /// `N` activation rows against one Q6_K row.
    ///
    /// # Safety
    /// The CPU must have AVX2, FMA and F16C; `w` holds as many Q6_K blocks as each `x` row.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_q6_k<const N: usize>(w: &[u8], x: [&[BlockQ8K]; N]) -> [f32; N] {
        let blocks = x[0].len();
        debug_assert!(x.iter().all(|r| r.len() == blocks) && w.len() >= blocks * Q6_K_BYTES);
        let m3 = _mm256_set1_epi8(3);
        let m15 = _mm256_set1_epi8(15);
        let mut acc = [_mm256_setzero_ps(); N];
        let p = w.as_ptr();
        for i in 0..blocks {
            let b = p.add(i * Q6_K_BYTES);
            prefetch_ahead(b, Q6_K_BYTES);
            let dx = half(b.add(208));
            let scales = _mm_loadu_si128(b.add(192) as *const __m128i);
            let scales16 = _mm256_cvtepi8_epi16(scales);
            let mut sumi = [_mm256_setzero_si256(); N];
            for j in 0..2 {
                let ql = b.add(64 * j);
                let bits1 = _mm256_loadu_si256(ql as *const __m256i);
                let bits2 = _mm256_loadu_si256(ql.add(32) as *const __m256i);
                let bits_h = _mm256_loadu_si256(b.add(128 + 32 * j) as *const __m256i);
                let h0 = _mm256_slli_epi16(_mm256_and_si256(bits_h, m3), 4);
                let h1 = _mm256_slli_epi16(_mm256_and_si256(bits_h, _mm256_set1_epi8(12)), 2);
                let h2 = _mm256_and_si256(bits_h, _mm256_set1_epi8(48));
                let h3 = _mm256_srli_epi16(_mm256_and_si256(bits_h, _mm256_set1_epi8(-64)), 2);
                let q = [
                    _mm256_or_si256(_mm256_and_si256(bits1, m15), h0),
                    _mm256_or_si256(_mm256_and_si256(bits2, m15), h1),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits1, 4), m15), h2),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits2, 4), m15), h3),
                ];
                // Each 32 values take two scales: the first 16 bytes one, the last 16 the next.
                let mut sc = [_mm256_setzero_si256(); 4];
                for (k, scale) in sc.iter_mut().enumerate() {
                    let s = 8 * j + 2 * k;
                    let lo = _mm_set1_epi16(i16::from(*b.add(192 + s) as i8));
                    let hi = _mm_set1_epi16(i16::from(*b.add(192 + s + 1) as i8));
                    *scale = _mm256_set_m128i(hi, lo);
                }
                for t in 0..N {
                    let qy = x[t].get_unchecked(i).qs.as_ptr().add(128 * j);
                    for k in 0..4 {
                        let y = _mm256_loadu_si256(qy.add(32 * k) as *const __m256i);
                        let p16 = _mm256_madd_epi16(sc[k], _mm256_maddubs_epi16(q[k], y));
                        sumi[t] = _mm256_add_epi32(sumi[t], p16);
                    }
                }
            }
            for t in 0..N {
                let y = x[t].get_unchecked(i);
                let bs = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
                let offset = _mm256_slli_epi32(_mm256_madd_epi16(bs, scales16), 5);
                let lanes = _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[t], offset));
                acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(y.d * dx), lanes, acc[t]);
            }
        }
        let mut out = [0f32; N];
        for t in 0..N {
            out[t] = hsum_avx2(acc[t]);
        }
        out
    }
}

/// AVX-512 VNNI kernels: the integer sums of the AVX2 kernels, made with `vpdpbusd` over 64
/// bytes at a time (one instruction for what `maddubs` + `madd` do over 32), then scaled with
/// `vpdpwssd`. Each 64-byte product holds two of the AVX2 kernel's 32-byte runs, one per 256-bit
/// half; adding the halves gives its eight i32 lanes exactly (integer sums do not depend on their
/// order, and no partial sum comes near overflow: at most 4 × 63 × 127 per four bytes, which
/// also fits the i16 that `vpdpwssd` reads), and from there the float steps are the AVX2 ones.
#[cfg(target_arch = "x86_64")]
pub mod avx512 {
    use std::arch::x86_64::*;

    use super::avx2::{half, prefetch_ahead, scales_mins};
    use super::{BlockQ8K, Q4_K_BYTES, Q6_K_BYTES};
    use crate::quant::hsum8;

    /// One weight block unpacked: `q[g]` the unsigned quants of 64 values (activations
    /// `64g..64g + 64`), `sc[h]` the i16 scale pairs of groups `2h` and `2h + 1` (see
    /// `block_sums`).
    struct Unpacked {
        q: [__m512i; 4],
        sc: [__m512i; 2],
    }

    /// Two groups' sixteen i32 lanes (each fits an i16: at most 4 × 63 × 127) interleaved as
    /// i16 pairs, low word from `a`, high word from `b`: one `vpdpwssd` then scales both.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn interleave(a: __m512i, b: __m512i) -> __m512i {
        _mm512_mask_blend_epi16(0xAAAA_AAAA, a, _mm512_bslli_epi128::<2>(b))
    }

    /// One token's sixteen-lane integer sums over a block (`y`: its 256 quants): lane `l` of
    /// each 256-bit half is lane `l` of the AVX2 kernel's sum over half of the block's runs.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn block_sums(w: &Unpacked, y: *const i8) -> __m512i {
        let mut sumi = _mm512_setzero_si512();
        for h in 0..2 {
            let ya = _mm512_loadu_si512(y.add(128 * h) as *const __m512i);
            let yb = _mm512_loadu_si512(y.add(128 * h + 64) as *const __m512i);
            let a = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.q[2 * h], ya);
            let b = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.q[2 * h + 1], yb);
            sumi = _mm512_dpwssd_epi32(sumi, interleave(a, b), w.sc[h]);
        }
        sumi
    }

    /// The two 256-bit halves of `v` added: the AVX2 kernel's eight lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn fold(v: __m512i) -> __m256i {
        _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v))
    }

    /// A Q4_K block's quants and scales. Each group of 64 is one 32-byte run of nibbles in
    /// both halves: the low half keeps the low nibbles (sub-block 2j, activations 64j..64j+32),
    /// the high half the high ones (2j+1, the next 32), so the activations are one load.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn unpack_q4_k(b: *const u8, sm: &[u8; 16]) -> Unpacked {
        let m4 = _mm512_set1_epi8(0xF);
        let shifts = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
        let q = std::array::from_fn(|j| {
            let bits = _mm512_broadcast_i64x4(_mm256_loadu_si256(b.add(16 + 32 * j) as *const __m256i));
            _mm512_and_si512(_mm512_srlv_epi16(bits, shifts), m4)
        });
        // Pair lanes of groups 2h, 2h+1: (s[4h], s[4h+2]) in the low half, (s[4h+1], s[4h+3])
        // in the high half.
        let s = |k: usize| i32::from(sm[k]);
        let sc = std::array::from_fn(|h| {
            let lo = _mm256_set1_epi32(s(4 * h) | (s(4 * h + 2) << 16));
            let hi = _mm256_set1_epi32(s(4 * h + 1) | (s(4 * h + 3) << 16));
            _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1)
        });
        Unpacked { q, sc }
    }

    /// A Q6_K block's quants and scales. The high bit pairs of values 32k.. sit at bits
    /// 2k..2k+2 of the same 32 bytes: the halves of one 64-value group take pairs 0 and 1
    /// (shifted up 4 and 2), or 2 and 3 (shifted down 0 and 2), into bits 4..6. Each 16 values
    /// take one scale: group g's four, each over four i32 lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn unpack_q6_k(b: *const u8, scales: __m128i) -> Unpacked {
        let m15 = _mm512_set1_epi8(15);
        let m48 = _mm512_set1_epi8(48);
        let up = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(4)), _mm256_set1_epi16(2), 1);
        let down = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
        let mut q = [_mm512_setzero_si512(); 4];
        for j in 0..2 {
            let ql = _mm512_loadu_si512(b.add(64 * j) as *const __m512i);
            let hb = _mm512_broadcast_i64x4(_mm256_loadu_si256(b.add(128 + 32 * j) as *const __m256i));
            let h01 = _mm512_and_si512(_mm512_sllv_epi16(hb, up), m48);
            let h23 = _mm512_and_si512(_mm512_srlv_epi16(hb, down), m48);
            q[2 * j] = _mm512_or_si512(_mm512_and_si512(ql, m15), h01);
            q[2 * j + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16::<4>(ql), m15), h23);
        }
        let group = |g: i8| {
            let s = 4 * g;
            let spread = _mm_setr_epi8(
                s,
                s,
                s,
                s,
                s + 1,
                s + 1,
                s + 1,
                s + 1,
                s + 2,
                s + 2,
                s + 2,
                s + 2,
                s + 3,
                s + 3,
                s + 3,
                s + 3,
            );
            _mm512_cvtepu16_epi32(_mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, spread)))
        };
        let sc = std::array::from_fn(|h| {
            let g = 2 * h as i8;
            _mm512_or_si512(group(g), _mm512_slli_epi32::<16>(group(g + 1)))
        });
        Unpacked { q, sc }
    }

    /// Adds the minimum lanes as `avx2::dot_q4_k` does: `(m0 + m2) + (m1 + m3)`.
    #[inline(always)]
    fn min_sum(m: &[f32]) -> f32 {
        (m[0] + m[2]) + (m[1] + m[3])
    }

    /// `N` activation rows against one Q4_K row: the bits of `avx2::dot_q4_k`.
    ///
    /// # Safety
    /// The CPU must have AVX2, FMA, F16C and AVX-512 F/BW/VL/VNNI; `w` holds as many Q4_K blocks
    /// as each `x` row.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    pub unsafe fn dot_q4_k<const N: usize>(w: &[u8], x: [&[BlockQ8K]; N]) -> [f32; N] {
        let blocks = x[0].len();
        debug_assert!(x.iter().all(|r| r.len() == blocks) && w.len() >= blocks * Q4_K_BYTES);
        let mut acc = [_mm256_setzero_ps(); N];
        let mut acc_min = [_mm_setzero_ps(); N];
        let p = w.as_ptr();
        for i in 0..blocks {
            let b = p.add(i * Q4_K_BYTES);
            prefetch_ahead(b, Q4_K_BYTES);
            let (dx, dminx) = (half(b), half(b.add(2)));
            let sm = scales_mins(b.add(4));
            let mins = _mm_cvtepu8_epi16(_mm_loadl_epi64(sm.as_ptr().add(8) as *const __m128i));
            let unpacked = unpack_q4_k(b, &sm);
            for t in 0..N {
                let y = x[t].get_unchecked(i);
                let sumi = block_sums(&unpacked, y.qs.as_ptr());
                let bs = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
                let pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
                let prod = _mm_cvtepi32_ps(_mm_madd_epi16(mins, pairs));
                acc_min[t] = _mm_fmadd_ps(_mm_set1_ps(-y.d * dminx), prod, acc_min[t]);
                acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(y.d * dx), _mm256_cvtepi32_ps(fold(sumi)), acc[t]);
            }
        }
        std::array::from_fn(|t| {
            let m = std::mem::transmute::<__m128, [f32; 4]>(acc_min[t]);
            hsum8(std::mem::transmute::<__m256, [f32; 8]>(acc[t])) + min_sum(&m)
        })
    }

    /// `N` activation rows against one Q6_K row: the bits of `avx2::dot_q6_k`.
    ///
    /// # Safety
    /// As `dot_q4_k`, with Q6_K blocks.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    pub unsafe fn dot_q6_k<const N: usize>(w: &[u8], x: [&[BlockQ8K]; N]) -> [f32; N] {
        let blocks = x[0].len();
        debug_assert!(x.iter().all(|r| r.len() == blocks) && w.len() >= blocks * Q6_K_BYTES);
        let mut acc = [_mm256_setzero_ps(); N];
        let p = w.as_ptr();
        for i in 0..blocks {
            let b = p.add(i * Q6_K_BYTES);
            prefetch_ahead(b, Q6_K_BYTES);
            let dx = half(b.add(208));
            let scales = _mm_loadu_si128(b.add(192) as *const __m128i);
            let scales16 = _mm256_cvtepi8_epi16(scales);
            let unpacked = unpack_q6_k(b, scales);
            for t in 0..N {
                let y = x[t].get_unchecked(i);
                let sumi = block_sums(&unpacked, y.qs.as_ptr());
                let bs = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
                let offset = _mm256_slli_epi32(_mm256_madd_epi16(bs, scales16), 5);
                let lanes = _mm256_cvtepi32_ps(_mm256_sub_epi32(fold(sumi), offset));
                acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(y.d * dx), lanes, acc[t]);
            }
        }
        std::array::from_fn(|t| hsum8(std::mem::transmute::<__m256, [f32; 8]>(acc[t])))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::quant::tests::random;

    /// Random blocks with small finite f16 scales: `rows` rows of `cols` values.
    pub(crate) fn random_blocks(block_bytes: usize, rows: usize, cols: usize, seed: u32) -> Vec<u8> {
        let raw = random(rows * cols / QK_K * block_bytes, seed);
        let mut data: Vec<u8> = raw.iter().map(|v| ((v + 1.0) * 127.9) as u8).collect();
        for b in data.chunks_exact_mut(block_bytes) {
            if block_bytes == Q4_K_BYTES {
                b[..2].copy_from_slice(&f16::from_f32(0.003).to_bits().to_le_bytes());
                b[2..4].copy_from_slice(&f16::from_f32(0.002).to_bits().to_le_bytes());
            } else {
                b[208..210].copy_from_slice(&f16::from_f32(0.0007).to_bits().to_le_bytes());
            }
        }
        data
    }

    pub(crate) fn dequantize(block_bytes: usize, row: &[u8]) -> Vec<f32> {
        let mut out = vec![0f32; row.len() / block_bytes * QK_K];
        for (b, o) in row.chunks_exact(block_bytes).zip(out.chunks_exact_mut(QK_K)) {
            if block_bytes == Q4_K_BYTES {
                dequantize_q4_k(b, o);
            } else {
                dequantize_q6_k(b, o);
            }
        }
        out
    }

    #[test]
    fn q8_k_keeps_the_largest_value_exact_and_sums_its_groups() {
        let mut x = random(512, 11);
        x[300] = -3.0;
        x[10] = 3.0;
        let mut q = vec![BlockQ8K::default(); 2];
        quantize(&x, &mut q);
        // llama.cpp's `iscale = -127 / max` maps the value of largest magnitude to -127 whatever
        // its sign, and the scale carries the sign.
        assert_eq!((q[0].qs[10], q[1].qs[300 - 256]), (-127, -127));
        assert!(q[0].d < 0.0 && q[1].d > 0.0, "{} {}", q[0].d, q[1].d);
        for block in &q {
            for (g, sum) in block.bsums.iter().enumerate() {
                assert_eq!(*sum, block.qs[16 * g..16 * g + 16].iter().map(|v| i16::from(*v)).sum::<i16>());
            }
        }
        for (i, v) in x.iter().enumerate() {
            let back = q[i / QK_K].d * f32::from(q[i / QK_K].qs[i % QK_K]);
            assert!((back - v).abs() <= q[i / QK_K].d.abs() * 0.5 + 1e-6, "{i}: {v} vs {back}");
        }
    }

    #[test]
    fn q6_k_dequantizes_its_documented_layout() {
        // One block: low nibbles 1, high pairs 2 (so q = 1 + 32 = 33, value 1 × scale × d).
        let mut b = vec![0x11u8; 128];
        b.extend(std::iter::repeat_n(0b1010_1010u8, 64));
        b.extend((0..16).map(|s| s as u8));
        b.extend_from_slice(&f16::from_f32(0.5).to_bits().to_le_bytes());
        let mut out = vec![0f32; QK_K];
        dequantize_q6_k(&b, &mut out);
        for (i, v) in out.iter().enumerate() {
            assert_eq!(*v, 0.5 * (i / 16) as f32, "value {i}");
        }
    }

    /// Each portable kernel is close to the float math on the dequantized row and the
    /// dequantized activations (the only difference: the order of float additions).
    #[test]
    fn kernels_match_a_dequantize_then_dot_reference() {
        for block_bytes in [Q4_K_BYTES, Q6_K_BYTES] {
            let cols = 3 * QK_K;
            let w = random_blocks(block_bytes, 4, cols, 5);
            let x = random(cols, 9);
            let mut q = vec![BlockQ8K::default(); cols / QK_K];
            quantize(&x, &mut q);
            let xd: Vec<f32> =
                (0..cols).map(|i| q[i / QK_K].d * f32::from(q[i / QK_K].qs[i % QK_K])).collect();
            for row in w.chunks_exact(cols / QK_K * block_bytes) {
                let reference: f64 = dequantize(block_bytes, row)
                    .iter()
                    .zip(&xd)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum();
                let got = if block_bytes == Q4_K_BYTES {
                    portable::dot_q4_k(row, &q)
                } else {
                    portable::dot_q6_k(row, &q)
                };
                let close = (f64::from(got) - reference).abs() <= 1e-4 * (1.0 + reference.abs());
                assert!(close, "{block_bytes}-byte blocks: {got} vs {reference}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_kernels_give_the_portable_bits() {
        let Some(_) = crate::quant::tests::simd_kernel_or_skip() else { return };
        let cols = 6 * QK_K;
        let x: Vec<Vec<BlockQ8K>> = (0..4)
            .map(|t| {
                let mut q = vec![BlockQ8K::default(); cols / QK_K];
                quantize(&random(cols, 20 + t), &mut q);
                q
            })
            .collect();
        let xs = [&x[0][..], &x[1][..], &x[2][..], &x[3][..]];
        for block_bytes in [Q4_K_BYTES, Q6_K_BYTES] {
            let w = random_blocks(block_bytes, 3, cols, 13);
            for row in w.chunks_exact(cols / QK_K * block_bytes) {
                // SAFETY: the CPU has AVX2, FMA and F16C (checked above); sizes match.
                let (one, four) = unsafe {
                    if block_bytes == Q4_K_BYTES {
                        (avx2::dot_q4_k(row, [xs[0]]), avx2::dot_q4_k(row, xs))
                    } else {
                        (avx2::dot_q6_k(row, [xs[0]]), avx2::dot_q6_k(row, xs))
                    }
                };
                for t in 0..4 {
                    let portable = if block_bytes == Q4_K_BYTES {
                        portable::dot_q4_k(row, xs[t])
                    } else {
                        portable::dot_q6_k(row, xs[t])
                    };
                    assert_eq!(four[t].to_bits(), portable.to_bits(), "{block_bytes}-byte blocks, token {t}");
                }
                assert_eq!(one[0].to_bits(), four[0].to_bits());
            }
        }
    }

    /// The VNNI kernels (one token, four, eight) give the AVX2 kernels' bits (which give the
    /// portable ones, above), on rows with negative Q6_K scales and the largest quants. On a CPU
    /// without AVX-512 VNNI the test prints "skipped: this CPU has no AVX-512 VNNI, the VNNI
    /// kernels were not compared" and returns.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vnni_kernels_give_the_avx2_bits() {
        if crate::quant::tests::simd_kernel_or_skip() != Some(crate::quant::Kernel::Avx512Vnni) {
            eprintln!("skipped: this CPU has no AVX-512 VNNI, the VNNI kernels were not compared");
            return;
        }
        let cols = 5 * QK_K;
        let x: Vec<Vec<BlockQ8K>> = (0..8)
            .map(|t| {
                let mut values = random(cols, 40 + t);
                // The extremes: quants of -127 and 127 next to each other.
                values[7 * t as usize] = 2.0;
                values[7 * t as usize + 1] = -2.0;
                let mut q = vec![BlockQ8K::default(); cols / QK_K];
                quantize(&values, &mut q);
                q
            })
            .collect();
        let xs: [&[BlockQ8K]; 8] = std::array::from_fn(|t| &x[t][..]);
        let x4: [&[BlockQ8K]; 4] = std::array::from_fn(|t| xs[t]);
        for block_bytes in [Q4_K_BYTES, Q6_K_BYTES] {
            let mut w = random_blocks(block_bytes, 4, cols, 17);
            // All-ones bytes: the largest nibbles and 6-bit quants.
            w[16..144].fill(0xFF);
            for row in w.chunks_exact(cols / QK_K * block_bytes) {
                // SAFETY: the CPU has AVX2, FMA, F16C and AVX-512 F/BW/VL/VNNI (checked
                // above); sizes match.
                let (avx2, one, four, eight) = unsafe {
                    if block_bytes == Q4_K_BYTES {
                        (
                            avx2::dot_q4_k(row, xs),
                            avx512::dot_q4_k(row, [xs[0]]),
                            avx512::dot_q4_k(row, x4),
                            avx512::dot_q4_k(row, xs),
                        )
                    } else {
                        (
                            avx2::dot_q6_k(row, xs),
                            avx512::dot_q6_k(row, [xs[0]]),
                            avx512::dot_q6_k(row, x4),
                            avx512::dot_q6_k(row, xs),
                        )
                    }
                };
                for t in 0..8 {
                    assert_eq!(eight[t].to_bits(), avx2[t].to_bits(), "{block_bytes}-byte blocks, token {t}");
                }
                for t in 0..4 {
                    assert_eq!(
                        four[t].to_bits(),
                        avx2[t].to_bits(),
                        "{block_bytes}-byte blocks, token {t} of 4"
                    );
                }
                assert_eq!(one[0].to_bits(), avx2[0].to_bits(), "{block_bytes}-byte blocks, one token");
            }
        }
    }

    /// Through `matmul` as the engine calls it, whatever kernel this CPU runs: 1, 4, 7, 8 and
    /// 21 tokens give each token the bits of the portable one-token product, except products
    /// of 8 tokens or more on a VNNI CPU, which give the bits of llama.cpp's tiled path there
    /// (`gemm::reference`).
    #[test]
    fn matmul_gives_each_token_the_bits_llama_cpp_computes() {
        use crate::quant::{matmul, Acts, Kernel, Kind, QMatrix};
        let cols = 2 * QK_K;
        let rows = 9;
        let x: Vec<BlockQ8K> = (0..21)
            .flat_map(|t| {
                let mut q = vec![BlockQ8K::default(); cols / QK_K];
                quantize(&random(cols, 60 + t), &mut q);
                q
            })
            .collect();
        let mut team = crate::team::Team::new(2);
        #[cfg(target_arch = "x86_64")]
        let vnni = Kernel::detect() == Kernel::Avx512Vnni;
        #[cfg(not(target_arch = "x86_64"))]
        let vnni = false;
        for (kind, block_bytes) in [(Kind::Q4K, Q4_K_BYTES), (Kind::Q6K, Q6_K_BYTES)] {
            let data = random_blocks(block_bytes, rows, cols, 23);
            let row_bytes = cols / QK_K * block_bytes;
            let w = QMatrix::new(kind, rows, cols, data.clone()).expect("sizes fit");
            for tokens in [1, 4, 7, 8, 21] {
                let mut out = vec![0f32; tokens * rows];
                let acts = Acts { q8: &[], q8k: &x[..tokens * cols / QK_K] };
                matmul(&mut team, &[&w], acts, tokens, &mut [&mut out]);
                for t in 0..tokens {
                    let xt = &x[t * cols / QK_K..(t + 1) * cols / QK_K];
                    for r in 0..rows {
                        let row = &data[r * row_bytes..(r + 1) * row_bytes];
                        let tiled = tokens >= crate::gemm::MIN_TOKENS && vnni;
                        let expected = match tiled {
                            true => crate::gemm::reference(kind, row, xt),
                            false => Kernel::Portable.dot_k(kind, row, xt),
                        };
                        let got = out[t * rows + r];
                        assert_eq!(
                            got.to_bits(),
                            expected.to_bits(),
                            "{kind:?}, {tokens} tokens (tiled: {tiled}): token {t} row {r}"
                        );
                    }
                }
            }
        }
    }
}
