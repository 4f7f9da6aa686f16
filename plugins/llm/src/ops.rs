//! The float operations of a llama layer, each computed as llama.cpp's CPU backend computes it
//! (accumulation types, lane order, its vectorised `expf`), for the same reason as in `quant`.

use half::f16;

use crate::quant::hsum8;

/// Defines `pub fn NAME(...)` from a body written in plain Rust, compiled twice: once with AVX2,
/// FMA and F16C enabled (so `mul_add` is one instruction and loops vectorise), chosen at run
/// time, and once portable. Both compute the same bits.
macro_rules! simd_fn {
    ($(#[$meta:meta])* pub fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma,f16c")]
                unsafe fn simd($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                if $crate::quant::Kernel::detect() != $crate::quant::Kernel::Portable {
                    // SAFETY: the CPU has the features `simd` was compiled for.
                    return unsafe { simd($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use simd_fn;

simd_fn! {
    /// `x ← x / rms(x) × weight` for each row of `width`; the sum of squares in f64, as ggml.
    pub fn rms_norm(x: &mut [f32], width: usize, weight: &[f32], eps: f32) {
        for row in x.chunks_exact_mut(width) {
            let sum: f64 = row.iter().map(|v| f64::from(v * v)).sum();
            let mean = (sum / width as f64) as f32;
            let scale = 1.0 / (mean + eps).sqrt();
            for (v, w) in row.iter_mut().zip(weight) {
                *v = (*v * scale) * w;
            }
        }
    }
}

/// Rotary position embedding with angles stepped by repeated multiplication in f32, as ggml's
/// rope cache does.
pub struct Rope {
    half_dims: usize,
    theta_scale: f32,
}

impl Rope {
    /// Rope over `dims` dimensions with base frequency `base`.
    pub fn new(dims: usize, base: f32) -> Rope {
        Rope { half_dims: dims / 2, theta_scale: base.powf(-2.0 / dims as f32) }
    }

    /// `(cos, sin)` per pair of dimensions at `pos`.
    pub fn table(&self, pos: usize) -> Vec<(f32, f32)> {
        let mut theta = pos as f32;
        (0..self.half_dims)
            .map(|_| {
                let cs = (theta.cos(), theta.sin());
                theta *= self.theta_scale;
                cs
            })
            .collect()
    }
}

simd_fn! {
    /// Rotates each head (`head_dim` values) of the row `x` by the angles of `table`, pairs of
    /// neighbours.
    pub fn rope(x: &mut [f32], head_dim: usize, table: &[(f32, f32)]) {
        for head in x.chunks_exact_mut(head_dim) {
            for (pair, (cos, sin)) in head.chunks_exact_mut(2).zip(table) {
                let (x0, x1) = (pair[0], pair[1]);
                // As GCC vectorises ggml's `x0*cos - x1*sin` and `x0*sin + x1*cos` (one
                // `vfmaddsub`: cos times each value fused, the sin products rounded first).
                pair[0] = cos.mul_add(x0, -(x1 * sin));
                pair[1] = cos.mul_add(x1, x0 * sin);
            }
        }
    }
}

simd_fn! {
    /// Rotates each head (`head_dim` values) of the row `x` by the angles of `table`, dimension
    /// `i` with `i + head_dim/2` (llama.cpp's NEOX rope, which `qwen2` uses).
    pub fn rope_neox(x: &mut [f32], head_dim: usize, table: &[(f32, f32)]) {
        let half = head_dim / 2;
        for head in x.chunks_exact_mut(head_dim) {
            let (first, second) = head.split_at_mut(half);
            for ((a, b), (cos, sin)) in first.iter_mut().zip(second.iter_mut()).zip(table) {
                let (x0, x1) = (*a, *b);
                // ggml's `x0*cos - x1*sin` and `x0*sin + x1*cos` as GCC contracts them: the
                // first product of each fused, the second rounded first.
                *a = x0.mul_add(*cos, -(x1 * sin));
                *b = x0.mul_add(*sin, x1 * cos);
            }
        }
    }
}

/// ggml's vectorised `expf` (a polynomial after range reduction), lane by lane: the same bits as
/// its AVX2 form, which differs from libm's `expf` in the last place.
#[inline(always)]
pub fn expf(x: f32) -> f32 {
    let r = f32::from_bits(0x4b40_0000);
    let z = x.mul_add(f32::from_bits(0x3fb8_aa3b), r);
    let n = z - r;
    let b = (-n).mul_add(f32::from_bits(0x35bf_be8e), (-n).mul_add(f32::from_bits(0x3f31_7200), x));
    let e = z.to_bits() << 23;
    let k = f32::from_bits(e.wrapping_add(1f32.to_bits()));
    let u = b * b;
    let j = f32::from_bits(0x3c07_2010)
        .mul_add(b, f32::from_bits(0x3d2b_9f17))
        .mul_add(u, f32::from_bits(0x3e2a_af33).mul_add(b, f32::from_bits(0x3eff_fedb)))
        .mul_add(u, f32::from_bits(0x3f7f_fff6) * b);
    if n.abs() <= 126.0 {
        return k.mul_add(j, k);
    }
    let g: u32 = if n <= 0.0 { 0x8200_0000 } else { 0 };
    let s1 = f32::from_bits(g.wrapping_add(0x7f00_0000));
    let s2 = f32::from_bits(e.wrapping_sub(g));
    if n.abs() > 192.0 {
        s1 * s1
    } else {
        s2.mul_add(j, s2) * s1
    }
}

/// `out ← silu(gate) × up`.
pub fn swiglu(gate: &[f32], up: &[f32], out: &mut [f32]) {
    let n = out.len().min(gate.len()).min(up.len());
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if crate::quant::Kernel::detect() != crate::quant::Kernel::Portable {
        done = n - n % 8;
        // SAFETY: the CPU has AVX2 and FMA (the kernel is not the portable one); `done` values
        // of each slice are read or written.
        unsafe { avx2::swiglu(&gate[..done], &up[..done], &mut out[..done]) };
    }
    for ((o, g), u) in out[done..n].iter_mut().zip(&gate[done..n]).zip(&up[done..n]) {
        *o = (g / (1.0 + expf(-g))) * u;
    }
}

/// `expf` and `swiglu` eight lanes at a time: ggml's AVX2 `ggml_v_expf`, so the bits of the
/// scalar forms.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn expf(x: __m256) -> __m256 {
        let r = _mm256_set1_ps(f32::from_bits(0x4b40_0000));
        let z = _mm256_fmadd_ps(x, _mm256_set1_ps(f32::from_bits(0x3fb8_aa3b)), r);
        let n = _mm256_sub_ps(z, r);
        let b = _mm256_fnmadd_ps(
            n,
            _mm256_set1_ps(f32::from_bits(0x35bf_be8e)),
            _mm256_fnmadd_ps(n, _mm256_set1_ps(f32::from_bits(0x3f31_7200)), x),
        );
        let e = _mm256_slli_epi32::<23>(_mm256_castps_si256(z));
        let k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1.0))));
        let abs_n = _mm256_andnot_ps(_mm256_set1_ps(-0.0), n);
        let c = _mm256_cmp_ps::<_CMP_GT_OQ>(abs_n, _mm256_set1_ps(126.0));
        let u = _mm256_mul_ps(b, b);
        let j = _mm256_fmadd_ps(
            _mm256_fmadd_ps(
                _mm256_fmadd_ps(
                    _mm256_set1_ps(f32::from_bits(0x3c07_2010)),
                    b,
                    _mm256_set1_ps(f32::from_bits(0x3d2b_9f17)),
                ),
                u,
                _mm256_fmadd_ps(
                    _mm256_set1_ps(f32::from_bits(0x3e2a_af33)),
                    b,
                    _mm256_set1_ps(f32::from_bits(0x3eff_fedb)),
                ),
            ),
            u,
            _mm256_mul_ps(_mm256_set1_ps(f32::from_bits(0x3f7f_fff6)), b),
        );
        if _mm256_movemask_ps(c) == 0 {
            return _mm256_fmadd_ps(j, k, k);
        }
        let g = _mm256_and_si256(
            _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LE_OQ>(n, _mm256_setzero_ps())),
            _mm256_set1_epi32(0x8200_0000u32 as i32),
        );
        let s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f00_0000)));
        let s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
        let d = _mm256_cmp_ps::<_CMP_GT_OQ>(abs_n, _mm256_set1_ps(192.0));
        _mm256_or_ps(
            _mm256_and_ps(d, _mm256_mul_ps(s1, s1)),
            _mm256_andnot_ps(
                d,
                _mm256_or_ps(
                    _mm256_and_ps(c, _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1)),
                    _mm256_andnot_ps(c, _mm256_fmadd_ps(k, j, k)),
                ),
            ),
        )
    }

    /// # Safety
    /// The CPU must have AVX2, FMA and F16C; the slices are of one length, a multiple of 8.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn swiglu(gate: &[f32], up: &[f32], out: &mut [f32]) {
        debug_assert!(gate.len() == out.len() && up.len() == out.len() && out.len().is_multiple_of(8));
        let one = _mm256_set1_ps(1.0);
        for i in (0..out.len()).step_by(8) {
            let g = _mm256_loadu_ps(gate.as_ptr().add(i));
            let silu = _mm256_div_ps(g, _mm256_add_ps(one, expf(_mm256_sub_ps(_mm256_setzero_ps(), g))));
            _mm256_storeu_ps(
                out.as_mut_ptr().add(i),
                _mm256_mul_ps(silu, _mm256_loadu_ps(up.as_ptr().add(i))),
            );
        }
    }
}

/// Softmax of `x` in place: exponentials summed per group of eight in f32 and across groups in
/// f64, then scaled by the f32 inverse. `x.len()` must be a multiple of 8 (pad with `-inf`).
#[inline(always)]
pub fn softmax(x: &mut [f32]) {
    debug_assert_eq!(x.len() % 8, 0);
    let max = x.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    let mut sum = 0f64;
    for group in x.chunks_exact_mut(8) {
        let mut lanes = [0f32; 8];
        for (l, v) in lanes.iter_mut().zip(group.iter_mut()) {
            *v = expf(*v - max);
            *l = *v;
        }
        sum += f64::from(hsum8(lanes));
    }
    let inv = (1.0 / sum) as f32;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// Dot product (lengths a multiple of 8) in eight f32 lanes with fused multiply-adds, lanes
/// added as `hsum_float_8`: llama.cpp's f16 matmul, on values already rounded to f16.
#[inline(always)]
pub fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            acc[l] = ca[l].mul_add(cb[l], acc[l]);
        }
    }
    hsum8(acc)
}

/// `dot8` of f16 values `a` (as the KV cache holds them) with `b`.
#[inline(always)]
pub fn dot8_f16(a: &[f16], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            acc[l] = ca[l].to_f32().mul_add(cb[l], acc[l]);
        }
    }
    hsum8(acc)
}

/// `x` rounded to the nearest f16 (ties to even), kept as f32: what storing it as f16 and
/// reading it back gives, without a conversion call in the hot loop.
#[inline(always)]
pub fn round_f16(x: f32) -> f32 {
    let bits = x.to_bits();
    let exp = (bits >> 23) & 0xff;
    if (113..142).contains(&exp) {
        // Normal in f16: drop 13 mantissa bits, rounding half to even.
        f32::from_bits((bits + 0x0fff + ((bits >> 13) & 1)) & !0x1fff)
    } else if exp < 113 {
        // Below f16's normals: a multiple of 2^-24, by letting the FPU round at that scale.
        (x + 0.75) - 0.75
    } else {
        f16::from_f32(x).to_f32()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expf_is_close_to_libm_over_the_useful_range() {
        for i in -1000..=100 {
            let x = i as f32 * 0.087;
            let (a, b) = (expf(x), x.exp());
            // ggml's polynomial is within about two units in the last place.
            assert!((a - b).abs() <= 4e-7 * b.max(f32::MIN_POSITIVE), "{x}: {a} vs {b}");
        }
        assert_eq!(expf(f32::NEG_INFINITY), 0.0);
        assert_eq!(expf(-200.0), 0.0);
    }

    /// The AVX2 `swiglu` gives the scalar bits, over the range where `expf` takes each of its
    /// three paths (and a length that leaves a scalar tail).
    #[test]
    fn swiglu_lanes_give_the_scalar_bits() {
        let gate: Vec<f32> = (0..203).map(|i| (i as f32 - 101.0) * 2.3).collect();
        let up: Vec<f32> = (0..203).map(|i| 1.0 + i as f32 * 0.01).collect();
        let mut out = vec![0f32; 203];
        swiglu(&gate, &up, &mut out);
        for ((o, g), u) in out.iter().zip(&gate).zip(&up) {
            assert_eq!(o.to_bits(), ((g / (1.0 + expf(-g))) * u).to_bits(), "gate {g}");
        }
    }

    #[test]
    fn softmax_sums_to_one_and_ignores_masked_positions() {
        let mut x = vec![
            1.0,
            2.0,
            3.0,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ];
        softmax(&mut x);
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(x[3], 0.0);
        assert!(x[2] > x[1] && x[1] > x[0]);
    }

    #[test]
    fn rope_at_position_zero_changes_nothing() {
        let rope = Rope::new(4, 10000.0);
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        super::rope(&mut x, 4, &rope.table(0));
        assert_eq!(x, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn neox_rope_rotates_each_dimension_with_its_partner_half_a_head_away() {
        let rope = Rope::new(4, 10000.0);
        let table = rope.table(1);
        let mut x = vec![1.0, 0.0, 0.0, 0.0];
        super::rope_neox(&mut x, 4, &table);
        // Dimension 0 pairs with 2 (angle 1 radian at position 1); 1 and 3 stay 0.
        assert!((x[0] - 1f32.cos()).abs() < 1e-6 && (x[2] - 1f32.sin()).abs() < 1e-6, "{x:?}");
        assert_eq!((x[1], x[3]), (0.0, 0.0));
        let mut y = vec![1.0, 2.0, 3.0, 4.0];
        super::rope_neox(&mut y, 4, &rope.table(0));
        assert_eq!(y, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn round_f16_matches_a_real_conversion() {
        let mut s = 12345u32;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            // Magnitudes from 1e-9 to 1e4, both signs, plus exact halfway cases.
            let x = f32::from_bits((s & 0x8000_0000) | (0x3000_0000 + s % 0x1400_0000));
            // Equal as numbers: a value rounding to zero may lose its sign, which no sum notices.
            assert_eq!(round_f16(x), f16::from_f32(x).to_f32(), "{x:e}");
        }
        for x in [0.0f32, 1.0, 65504.0, 6.1035156e-5, 5.9604645e-8, 2.9802322e-8, 1.0 + 1.0 / 2048.0] {
            assert_eq!(round_f16(x), f16::from_f32(x).to_f32(), "{x:e}");
        }
    }
}
