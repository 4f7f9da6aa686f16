//! The three inner loops of attention over the KV cache (query·key scores, the softmax rounded to
//! f16, probabilities times values), with llama.cpp's arithmetic for each (see `ops::dot8`,
//! `ops::softmax`, `ops::round_f16`).
//!
//! Why a module of their own: one dot product of 64 values is a chain of dependent fused
//! multiply-adds, so computed one at a time the core mostly waits. The AVX2 kernels run eight
//! independent products side by side, each still adding its own terms in its own order, so the
//! results are the portable ones to the bit (a test checks).

use half::f16;

use crate::ops;
use crate::quant::Kernel;

/// `out[pos] = (keys[pos] · q) × scale` for `positions` keys, key `pos` starting at
/// `keys[pos * stride]`, each `q.len()` long (a multiple of 8).
pub fn scores(
    kernel: Kernel,
    keys: &[f16],
    stride: usize,
    positions: usize,
    q: &[f32],
    scale: f32,
    out: &mut Vec<f32>,
) {
    let dim = q.len();
    assert!(
        dim.is_multiple_of(8) && (positions == 0 || (positions - 1) * stride + dim <= keys.len()),
        "keys out of range"
    );
    out.clear();
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Avx2` and `Avx512Vnni` are only chosen when the CPU has the features; the bounds are checked.
        Kernel::Avx2 | Kernel::Avx512Vnni => unsafe { avx2::scores(keys, stride, positions, q, scale, out) },
        Kernel::Portable => {
            out.extend((0..positions).map(|pos| ops::dot8_f16(&keys[pos * stride..][..dim], q) * scale));
        }
    }
}

/// Softmax of `x` in place (`x.len()` a multiple of 8, padded with `-inf`), each probability
/// then rounded to f16.
pub fn softmax_f16(kernel: Kernel, x: &mut [f32]) {
    assert!(x.len().is_multiple_of(8), "softmax over a length that is not a multiple of 8");
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Avx2` and `Avx512Vnni` are only chosen when the CPU has the features.
        Kernel::Avx2 | Kernel::Avx512Vnni => unsafe { avx2::softmax_f16(x) },
        Kernel::Portable => {
            ops::softmax(x);
            for p in x.iter_mut() {
                *p = ops::round_f16(*p);
            }
        }
    }
}

/// `out[i] = values[i * stride..][..p.len()] · p` for each of `out.len()` (a multiple of 8)
/// rows of values.
pub fn weighted(kernel: Kernel, values: &[f16], stride: usize, p: &[f32], out: &mut [f32]) {
    let len = p.len();
    assert!(len.is_multiple_of(8) && out.len().is_multiple_of(8), "lengths must be multiples of 8");
    assert!(out.is_empty() || (out.len() - 1) * stride + len <= values.len(), "values out of range");
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Avx2` and `Avx512Vnni` are only chosen when the CPU has the features; the bounds are checked.
        Kernel::Avx2 | Kernel::Avx512Vnni => unsafe { avx2::weighted(values, stride, p, out) },
        Kernel::Portable => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = ops::dot8_f16(&values[i * stride..][..len], p);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use half::f16;

    use crate::ops;
    use crate::quant::hsum_avx2 as hsum;

    /// `N` dot products of `len` (a multiple of 8) values: f16 row `r` at `rows[r]` with `b`, each
    /// in its own eight lanes, so the `N` chains of fused multiply-adds overlap.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn dots<const N: usize>(rows: [*const f16; N], b: *const f32, len: usize) -> [f32; N] {
        let mut acc = [_mm256_setzero_ps(); N];
        let mut i = 0;
        while i < len {
            let vb = _mm256_loadu_ps(b.add(i));
            for r in 0..N {
                let row = _mm256_cvtph_ps(_mm_loadu_si128(rows[r].add(i) as *const __m128i));
                acc[r] = _mm256_fmadd_ps(row, vb, acc[r]);
            }
            i += 8;
        }
        let mut out = [0f32; N];
        for r in 0..N {
            out[r] = hsum(acc[r]);
        }
        out
    }

    /// # Safety
    /// AVX2, FMA and F16C; the bounds checked by `super::scores`.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn scores(
        keys: &[f16],
        stride: usize,
        positions: usize,
        q: &[f32],
        scale: f32,
        out: &mut Vec<f32>,
    ) {
        let (k, b, dim) = (keys.as_ptr(), q.as_ptr(), q.len());
        let mut pos = 0;
        while pos + 8 <= positions {
            let rows = [0, 1, 2, 3, 4, 5, 6, 7].map(|r| k.add((pos + r) * stride));
            for s in dots::<8>(rows, b, dim) {
                out.push(s * scale);
            }
            pos += 8;
        }
        for pos in pos..positions {
            out.push(dots::<1>([k.add(pos * stride)], b, dim)[0] * scale);
        }
    }

    /// # Safety
    /// AVX2, FMA and F16C; the bounds checked by `super::weighted`.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn weighted(values: &[f16], stride: usize, p: &[f32], out: &mut [f32]) {
        let (v, b, len) = (values.as_ptr(), p.as_ptr(), p.len());
        for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
            let rows = [0, 1, 2, 3, 4, 5, 6, 7].map(|r| v.add((i * 8 + r) * stride));
            chunk.copy_from_slice(&dots::<8>(rows, b, len));
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn c(bits: u32) -> __m256 {
        _mm256_set1_ps(f32::from_bits(bits))
    }

    /// ggml's AVX2 `expf`; a group with a lane out of its fast range (masked positions, very
    /// small probabilities) takes the lane-by-lane form, which gives the same bits.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn expf(x: __m256) -> __m256 {
        let r = c(0x4b40_0000);
        let z = _mm256_fmadd_ps(x, c(0x3fb8_aa3b), r);
        let n = _mm256_sub_ps(z, r);
        let b = _mm256_fnmadd_ps(n, c(0x35bf_be8e), _mm256_fnmadd_ps(n, c(0x3f31_7200), x));
        let e = _mm256_slli_epi32::<23>(_mm256_castps_si256(z));
        let k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1.0))));
        let out_of_range =
            _mm256_cmp_ps::<_CMP_GT_OQ>(_mm256_andnot_ps(_mm256_set1_ps(-0.0), n), _mm256_set1_ps(126.0));
        if _mm256_movemask_ps(out_of_range) != 0 {
            let mut lanes = [0f32; 8];
            _mm256_storeu_ps(lanes.as_mut_ptr(), x);
            for l in lanes.iter_mut() {
                *l = ops::expf(*l);
            }
            return _mm256_loadu_ps(lanes.as_ptr());
        }
        let u = _mm256_mul_ps(b, b);
        let j = _mm256_fmadd_ps(
            _mm256_fmadd_ps(
                _mm256_fmadd_ps(c(0x3c07_2010), b, c(0x3d2b_9f17)),
                u,
                _mm256_fmadd_ps(c(0x3e2a_af33), b, c(0x3eff_fedb)),
            ),
            u,
            _mm256_mul_ps(c(0x3f7f_fff6), b),
        );
        _mm256_fmadd_ps(k, j, k)
    }

    /// # Safety
    /// AVX2, FMA and F16C; `x.len()` a multiple of 8.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn softmax_f16(x: &mut [f32]) {
        let p = x.as_mut_ptr();
        let len = x.len();
        let mut m = _mm256_set1_ps(f32::NEG_INFINITY);
        for i in (0..len).step_by(8) {
            m = _mm256_max_ps(m, _mm256_loadu_ps(p.add(i)));
        }
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), m);
        let max = _mm256_set1_ps(lanes.iter().fold(f32::NEG_INFINITY, |a, v| a.max(*v)));
        let mut sum = 0f64;
        for i in (0..len).step_by(8) {
            let e = expf(_mm256_sub_ps(_mm256_loadu_ps(p.add(i)), max));
            _mm256_storeu_ps(p.add(i), e);
            sum += f64::from(hsum(e));
        }
        let inv = _mm256_set1_ps((1.0 / sum) as f32);
        for i in (0..len).step_by(8) {
            let y = _mm256_mul_ps(_mm256_loadu_ps(p.add(i)), inv);
            _mm256_storeu_ps(p.add(i), _mm256_cvtph_ps(_mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(y)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u32, spread: f32) -> Vec<f32> {
        crate::quant::tests::random(n, seed).into_iter().map(|v| ops::round_f16(v * spread)).collect()
    }

    /// The AVX2 scores, softmax and weighted sum give the portable ones' bits. On a CPU without
    /// AVX2, FMA and F16C there is no SIMD kernel to compare: the test prints "skipped: this CPU
    /// has no AVX2, the SIMD kernel was not compared" and returns.
    #[test]
    fn simd_and_portable_give_the_same_bits() {
        let Some(fast) = crate::quant::tests::simd_kernel_or_skip() else { return };
        let (dim, stride, positions) = (64, 192, 77);
        let to_f16 = |v: Vec<f32>| v.into_iter().map(f16::from_f32).collect::<Vec<_>>();
        let keys = to_f16(random(positions * stride, 1, 3.0));
        let q = random(dim, 2, 3.0);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        scores(fast, &keys, stride, positions, &q, 0.125, &mut a);
        scores(Kernel::Portable, &keys, stride, positions, &q, 0.125, &mut b);
        assert_eq!(
            a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );

        // Padded to a multiple of 8 with masked positions, and wide enough to reach ggml's slow
        // `expf` lanes (scores more than 87 below the maximum).
        a.resize(80, f32::NEG_INFINITY);
        a[3] = -200.0;
        let mut pa = a.clone();
        let mut pb = a.clone();
        softmax_f16(fast, &mut pa);
        softmax_f16(Kernel::Portable, &mut pb);
        assert_eq!(
            pa.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            pb.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert!((pa.iter().sum::<f32>() - 1.0).abs() < 1e-2);

        let values = to_f16(random(dim * 100, 3, 2.0));
        let (mut oa, mut ob) = (vec![0f32; dim], vec![0f32; dim]);
        weighted(fast, &values, 100, &pa, &mut oa);
        weighted(Kernel::Portable, &values, 100, &pa, &mut ob);
        assert_eq!(
            oa.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            ob.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}
