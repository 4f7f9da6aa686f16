//! briefd's own forward pass for `llama` and `qwen2` GGUF models whose matrices are Q4_1, Q8_0,
//! Q4_K or Q6_K (the SmolLM2 and Qwen2.5-Coder files): the reason it exists is speed and
//! fidelity. Stock candle runs Q4_1 with a scalar dot product and drifts from llama.cpp's greedy
//! output after a few tokens; this module runs AVX2 kernels over the file's own blocks, computes
//! every step as llama.cpp does (f16 KV cache, 8-bit activations, its `expf`), keeps one
//! preallocated KV cache, and batches the prompt through each matrix in one pass. Llama files
//! with other block types go to candle (`Engine::Candle`), so any llama-family GGUF still runs.
//!
//! The two architectures differ where llama.cpp's graphs differ: `qwen2` adds a bias to the q,
//! k and v projections and rotates dimension `i` with `i + head_dim/2` (llama.cpp's NEOX rope
//! type for `LLM_ARCH_QWEN2`), where `llama` rotates neighbours. Both take their sizes from
//! `ARCH.*` keys, the rope base from `ARCH.rope.freq_base`, and use `token_embd` as the output
//! matrix when the file has no `output.weight` (tied embeddings).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use candle_core::quantized::gguf_file::Content;
use candle_core::quantized::GgmlDType;
use half::{f16, slice::HalfBitsSliceExt};

use crate::attention;
use crate::error::Error;
use crate::kquant::{self, BlockQ8K, QK_K};
use crate::model;
use crate::ops::{self, simd_fn, Rope};
use crate::quant::{self, Acts, BlockQ8, Kind, QMatrix, QK};
use crate::team::{Chunks, Team};

/// One transformer block's weights and its slice of the KV cache.
pub struct Layer {
    attn_norm: Vec<f32>,
    wq: QMatrix,
    wk: QMatrix,
    wv: QMatrix,
    /// q, k and v biases (`qwen2`), `None` for `llama`.
    biases: Option<[Vec<f32>; 3]>,
    wo: QMatrix,
    ffn_norm: Vec<f32>,
    gate: QMatrix,
    up: QMatrix,
    down: QMatrix,
    /// Keys by position, `[position][kv_head * head_dim + d]`, in f16 as llama.cpp's cache
    /// holds them (half the memory to stream per token of a long article).
    k: Vec<u16>,
    /// Values transposed, as llama.cpp keeps them: `[kv_head * head_dim + d][position]`.
    v: Vec<u16>,
}

/// Sizes read from the file's metadata.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    embed: usize,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    eps: f32,
}

/// A loaded llama model and its KV cache.
pub struct Llama {
    dims: Dims,
    embeddings: QMatrix,
    output: QMatrix,
    output_norm: Vec<f32>,
    layers: Vec<Layer>,
    rope: Rope,
    /// Rotate `i` with `i + head_dim/2` (llama.cpp's NEOX type) rather than neighbours.
    rope_neox: bool,
    /// Which activation formats the matrices read: (blocks of 32, Q8_K).
    needs: (bool, bool),
    /// Positions the KV cache holds.
    capacity: usize,
    /// Positions filled.
    filled: usize,
    /// The threads of a pass: as many as the rayon pool the call runs in (the stage's
    /// `threads`), made again when that changes.
    team: Team,
}

impl Llama {
    /// Loads the weights of `content` (read from the file at `path`) from `reader`, with room
    /// for `capacity` positions; `Err` names why this engine cannot run the file.
    pub fn load<R: Read + Seek>(
        path: &Path,
        content: &Content,
        reader: &mut R,
        capacity: usize,
    ) -> Result<Llama, Error> {
        let arch = model::metadata_str(content, path, "general.architecture")?;
        let rope_neox = match arch {
            "llama" => false,
            "qwen2" => true,
            _ => return Err(Error::Architecture { path: path.to_path_buf(), found: arch.to_string() }),
        };
        let u = |key: &str| -> Result<usize, Error> {
            let key = format!("{arch}.{key}");
            let v = model::value(content, path, &key)?;
            v.to_u32().map(|v| v as usize).map_err(|_| model::key_type(path, &key, "a u32", v.value_type()))
        };
        let f = |key: &str| content.metadata.get(&format!("{arch}.{key}")).and_then(|v| v.to_f32().ok());
        let embed = u("embedding_length")?;
        let heads = u("attention.head_count")?;
        let kv_heads = u("attention.head_count_kv")?;
        let blocks = u("block_count")?;
        let head_dim = embed / heads.max(1);
        // llama.cpp's default when the key is absent (the Qwen2.5 files leave it out).
        let rope_dims = match content.metadata.contains_key(&format!("{arch}.rope.dimension_count")) {
            true => u("rope.dimension_count")?,
            false => head_dim,
        };
        if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 || head_dim % 8 != 0 || rope_dims != head_dim
        {
            return Err(Error::AttentionShape {
                path: path.to_path_buf(),
                heads,
                kv_heads,
                embed,
                rope_dims,
            });
        }
        let scaling =
            content.metadata.get(&format!("{arch}.rope.scaling.type")).and_then(|v| v.to_string().ok());
        if scaling.is_some_and(|kind| kind != "none") {
            return Err(Error::RopeScaling { path: path.to_path_buf() });
        }
        let eps_key = "attention.layer_norm_rms_epsilon";
        let eps = match f(eps_key) {
            Some(eps) => eps,
            None => {
                let key = format!("{arch}.{eps_key}");
                let v = model::value(content, path, &key)?;
                return Err(model::key_type(path, &key, "an f32", v.value_type()));
            }
        };
        let base = f("rope.freq_base").unwrap_or(10000.0);
        let dims = Dims { embed, heads, kv_heads, head_dim, eps };

        let mut tensors = Tensors { path, content, reader };
        let embeddings = tensors.matrix("token_embd.weight")?;
        let output = if content.tensor_infos.contains_key("output.weight") {
            tensors.matrix("output.weight")?
        } else {
            tensors.matrix("token_embd.weight")?
        };
        let output_norm = tensors.floats("output_norm.weight")?;
        let kv = kv_heads * head_dim;
        let mut layers = Vec::with_capacity(blocks);
        for i in 0..blocks {
            let name = |s: &str| format!("blk.{i}.{s}.weight");
            let bias = |s: &str| format!("blk.{i}.{s}.bias");
            let biases = match rope_neox {
                true => Some([
                    tensors.vector(&bias("attn_q"), embed)?,
                    tensors.vector(&bias("attn_k"), kv)?,
                    tensors.vector(&bias("attn_v"), kv)?,
                ]),
                false => None,
            };
            layers.push(Layer {
                attn_norm: tensors.floats(&name("attn_norm"))?,
                wq: tensors.matrix(&name("attn_q"))?,
                wk: tensors.matrix(&name("attn_k"))?,
                wv: tensors.matrix(&name("attn_v"))?,
                biases,
                wo: tensors.matrix(&name("attn_output"))?,
                ffn_norm: tensors.floats(&name("ffn_norm"))?,
                gate: tensors.matrix(&name("ffn_gate"))?,
                up: tensors.matrix(&name("ffn_up"))?,
                down: tensors.matrix(&name("ffn_down"))?,
                // Zeroed allocations are not resident until written, so a large capacity costs
                // memory only for the positions an article uses.
                k: vec![0; capacity * kv],
                v: vec![0; capacity * kv],
            });
        }
        let mut kinds = vec![output.kind];
        for l in &layers {
            kinds.extend([l.wq.kind, l.wk.kind, l.wv.kind, l.wo.kind, l.gate.kind, l.up.kind, l.down.kind]);
        }
        let needs = (kinds.iter().any(|k| !k.is_k()), kinds.iter().any(|k| k.is_k()));
        let ffn = layers.first().map_or(0, |l| l.gate.rows);
        let per_block = if needs.1 { QK_K } else { QK };
        if !embed.is_multiple_of(per_block) || !ffn.is_multiple_of(per_block) {
            return Err(Error::TensorShape {
                path: path.to_path_buf(),
                tensor: "blk.0.ffn_gate.weight".into(),
                shape: vec![ffn, embed],
            });
        }
        Ok(Llama {
            dims,
            embeddings,
            output,
            output_norm,
            layers,
            rope: Rope::new(rope_dims, base),
            rope_neox,
            needs,
            capacity,
            filled: 0,
            team: Team::new(1),
        })
    }

    /// Positions the KV cache can hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Forgets every position (a new prompt follows).
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Runs `tokens` at positions `start..` (which must be the positions filled so far) and
    /// returns the logits after the last one.
    pub fn forward(&mut self, tokens: &[u32], start: usize) -> Result<Vec<f32>, Error> {
        let d = self.dims;
        let n = tokens.len();
        if start != self.filled {
            return Err(Error::Position { given: start, filled: self.filled });
        }
        if n == 0 {
            return Err(Error::EmptyPrompt);
        }
        if start + n > self.capacity {
            return Err(Error::ContextFull { positions: start + n, capacity: self.capacity });
        }
        let vocab = self.embeddings.rows;
        let mut x = vec![0f32; n * d.embed];
        for (row, t) in x.chunks_exact_mut(d.embed).zip(tokens) {
            if *t as usize >= vocab {
                return Err(Error::Token { token: *t, vocabulary: vocab });
            }
            self.embeddings.dequantize_row(*t as usize, row);
        }
        let kv = d.kv_heads * d.head_dim;
        let ffn = self.layers.first().map_or(0, |l| l.gate.rows);
        let mut normed = vec![0f32; n * d.embed];
        let mut act = Input::new(self.needs, n * d.embed.max(ffn));
        let (mut q, mut k, mut v) = (vec![0f32; n * d.embed], vec![0f32; n * kv], vec![0f32; n * kv]);
        let mut attn = vec![0f32; n * d.embed];
        let mut proj = vec![0f32; n * d.embed];
        let (mut g, mut u, mut h) = (vec![0f32; n * ffn], vec![0f32; n * ffn], vec![0f32; n * ffn]);
        let tables: Vec<Vec<(f32, f32)>> = (0..n).map(|i| self.rope.table(start + i)).collect();

        if self.team.threads() != rayon::current_num_threads() {
            self.team = Team::new(rayon::current_num_threads());
        }
        let team = &mut self.team;
        let rope = if self.rope_neox { ops::rope_neox } else { ops::rope };
        for layer in &mut self.layers {
            norm_and_quantize(team, &x, d, &layer.attn_norm, &mut normed, &mut act);
            quant::matmul(
                team,
                &[&layer.wq, &layer.wk, &layer.wv],
                act.acts(),
                n,
                &mut [&mut q, &mut k, &mut v],
            );
            if let Some([bq, bk, bv]) = &layer.biases {
                add_rows(&mut q, bq);
                add_rows(&mut k, bk);
                add_rows(&mut v, bv);
            }
            for (i, (qi, ki)) in q.chunks_exact_mut(d.embed).zip(k.chunks_exact_mut(kv)).enumerate() {
                rope(qi, d.head_dim, &tables[i]);
                rope(ki, d.head_dim, &tables[i]);
            }
            store_kv(&k, &v, kv, start, self.capacity, &mut layer.k, &mut layer.v);
            attention(team, &d, layer, self.capacity, &q, start, n, &mut attn);
            act.quantize(team, &attn, d.embed);
            quant::matmul(team, &[&layer.wo], act.acts(), n, &mut [&mut proj]);
            for (xi, p) in x.iter_mut().zip(&proj) {
                *xi += p;
            }

            norm_and_quantize(team, &x, d, &layer.ffn_norm, &mut normed, &mut act);
            quant::matmul(team, &[&layer.gate, &layer.up], act.acts(), n, &mut [&mut g, &mut u]);
            swiglu_rows(team, &g, &u, &mut h, ffn);
            act.quantize(team, &h, ffn);
            quant::matmul(team, &[&layer.down], act.acts(), n, &mut [&mut proj]);
            for (xi, p) in x.iter_mut().zip(&proj) {
                *xi += p;
            }
        }
        self.filled = start + n;

        // Only the last position's logits are needed, as llama.cpp computes them.
        let mut last = x[(n - 1) * d.embed..].to_vec();
        ops::rms_norm(&mut last, d.embed, &self.output_norm, d.eps);
        act.quantize(&mut self.team, &last, d.embed);
        let mut logits = vec![0f32; vocab];
        quant::matmul(&mut self.team, &[&self.output], act.acts(), 1, &mut [&mut logits]);
        Ok(logits)
    }
}

/// A matrix input quantized into the formats the model's matrices read.
struct Input {
    needs: (bool, bool),
    q8: Vec<BlockQ8>,
    q8k: Vec<BlockQ8K>,
    /// Values quantized by the last `quantize` (all rows).
    len: usize,
}

impl Input {
    /// Room for `values` activations in each needed format.
    fn new(needs: (bool, bool), values: usize) -> Input {
        let q8 = if needs.0 { vec![BlockQ8::default(); values / QK] } else { Vec::new() };
        let q8k = if needs.1 { vec![BlockQ8K::default(); values / QK_K] } else { Vec::new() };
        Input { needs, q8, q8k, len: 0 }
    }

    /// Quantizes the rows (`width` each) of `x`, split over the team.
    fn quantize(&mut self, team: &mut Team, x: &[f32], width: usize) {
        self.len = x.len();
        if self.needs.0 {
            let out = Shared(self.q8[..x.len() / QK].as_mut_ptr());
            let per_row = width / QK;
            split_rows(team, x.len() / width, &|rows| {
                // SAFETY: `out` holds `x.len() / QK` blocks (sliced above); each call writes only
                // its own rows' blocks.
                let dst = unsafe {
                    std::slice::from_raw_parts_mut(out.at(rows.start * per_row), rows.len() * per_row)
                };
                quantize_rows(&x[rows.start * width..rows.end * width], width, dst);
            });
        }
        if self.needs.1 {
            let out = Shared(self.q8k[..x.len() / QK_K].as_mut_ptr());
            let per_row = width / QK_K;
            split_rows(team, x.len() / width, &|rows| {
                // SAFETY: as above.
                let dst = unsafe {
                    std::slice::from_raw_parts_mut(out.at(rows.start * per_row), rows.len() * per_row)
                };
                quantize_rows_k(&x[rows.start * width..rows.end * width], width, dst);
            });
        }
    }

    fn acts(&self) -> Acts<'_> {
        let q8 = if self.needs.0 { &self.q8[..self.len / QK] } else { &[][..] };
        let q8k = if self.needs.1 { &self.q8k[..self.len / QK_K] } else { &[][..] };
        Acts { q8, q8k }
    }
}

/// The input of a block's matrices: `x` RMS-normed with `weight` (into `normed`, leaving the
/// residual stream as it is), then quantized into `act`.
fn norm_and_quantize(
    team: &mut Team,
    x: &[f32],
    d: Dims,
    weight: &[f32],
    normed: &mut [f32],
    act: &mut Input,
) {
    normed.copy_from_slice(x);
    ops::rms_norm(normed, d.embed, weight, d.eps);
    act.quantize(team, normed, d.embed);
}

/// A buffer that the calls of one `split_rows` write, each its own rows.
struct Shared<T>(*mut T);
// SAFETY: only used by `split_rows` calls, which write disjoint rows.
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The element at `offset` (a method, so closures capture the whole wrapper).
    fn at(&self, offset: usize) -> *mut T {
        self.0.wrapping_add(offset)
    }
}

/// Runs `f` over the rows `0..n` in ranges split across the team (one call when there is
/// one row: a token being generated is not worth a parallel step).
fn split_rows(team: &mut Team, n: usize, f: &(dyn Fn(std::ops::Range<usize>) + Sync)) {
    if n < 2 {
        f(0..n);
        return;
    }
    let per = n.div_ceil(team.threads() * 4);
    let chunks = Chunks::new(n.div_ceil(per));
    team.run(&|_| {
        while let Some(c) = chunks.take() {
            f(c * per..((c + 1) * per).min(n));
        }
    });
}

/// `ops::swiglu` over rows of `width`, split over the team.
fn swiglu_rows(team: &mut Team, g: &[f32], u: &[f32], h: &mut [f32], width: usize) {
    assert!(g.len() == h.len() && u.len() == h.len(), "swiglu sizes");
    let out = Shared(h.as_mut_ptr());
    split_rows(team, h.len() / width, &|rows| {
        let span = rows.start * width..rows.end * width;
        // SAFETY: `out` holds `h.len()` values (the size checked above); each call writes only
        // its own rows.
        let dst = unsafe { std::slice::from_raw_parts_mut(out.at(span.start), span.len()) };
        ops::swiglu(&g[span.clone()], &u[span], dst);
    });
}

/// Adds `bias` to each row of `x` (ggml's `add` with a broadcast row: one f32 addition each).
fn add_rows(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

simd_fn! {
    /// Quantizes each row of `width` values of `x` into its blocks of `out`.
    pub fn quantize_rows(x: &[f32], width: usize, out: &mut [BlockQ8]) {
        for (row, blocks) in x.chunks_exact(width).zip(out.chunks_exact_mut(width / QK)) {
            quant::quantize(row, blocks);
        }
    }
}

simd_fn! {
    /// Quantizes each row of `width` values of `x` into its Q8_K blocks of `out`.
    pub fn quantize_rows_k(x: &[f32], width: usize, out: &mut [BlockQ8K]) {
        for (row, blocks) in x.chunks_exact(width).zip(out.chunks_exact_mut(width / QK_K)) {
            kquant::quantize(row, blocks);
        }
    }
}

simd_fn! {
    /// Writes the new positions' keys and values (rounded to f16) into the cache.
    pub fn store_kv(k: &[f32], v: &[f32], kv: usize, start: usize, capacity: usize, cache_k: &mut [u16], cache_v: &mut [u16]) {
        for (i, (ki, vi)) in k.chunks_exact(kv).zip(v.chunks_exact(kv)).enumerate() {
            let pos = start + i;
            for (dst, value) in cache_k[pos * kv..(pos + 1) * kv].iter_mut().zip(ki) {
                *dst = f16::from_f32(*value).to_bits();
            }
            for (j, value) in vi.iter().enumerate() {
                cache_v[j * capacity + pos] = f16::from_f32(*value).to_bits();
            }
        }
    }
}

/// Causal attention of `n` new positions (queries `q`, starting at `start`) over the cache,
/// one head per task.
#[allow(clippy::too_many_arguments)]
fn attention(
    team: &mut Team,
    d: &Dims,
    layer: &Layer,
    capacity: usize,
    q: &[f32],
    start: usize,
    n: usize,
    out: &mut [f32],
) {
    assert_eq!(out.len(), n * d.embed, "attention output size");
    let heads = Chunks::new(d.heads);
    let out = quant::SharedOut(out.as_mut_ptr());
    team.run(&|_| {
        while let Some(h) = heads.take() {
            let result = head(d, layer, capacity, q, start, n, h);
            for i in 0..n {
                // SAFETY: head `h` writes only its own columns of each row, inside `out`
                // (its size checked above).
                let dst = unsafe {
                    std::slice::from_raw_parts_mut(out.at(i * d.embed + h * d.head_dim), d.head_dim)
                };
                dst.copy_from_slice(&result[i * d.head_dim..][..d.head_dim]);
            }
        }
    });
}

simd_fn! {
    /// One head of attention, llama.cpp's non-flash path: scores of f16-rounded queries and
    /// keys, softmax, f16-rounded probabilities times the transposed values.
    pub fn head(d: &Dims, layer: &Layer, capacity: usize, q: &[f32], start: usize, n: usize, h: usize) -> Vec<f32> {
        let kernel = quant::Kernel::detect();
        let kv = d.kv_heads * d.head_dim;
        let kvh = h / (d.heads / d.kv_heads);
        let scale = 1.0 / (d.head_dim as f32).sqrt();
        let mut result = vec![0f32; n * d.head_dim];
        let mut qh = vec![0f32; d.head_dim];
        // Room for padding to a multiple of 8 past the last position.
        let mut scores = Vec::with_capacity(start + n + 8);
        let mut padded_v = Vec::new();
        let values = &layer.v.reinterpret_cast::<f16>()[kvh * d.head_dim * capacity..][..d.head_dim * capacity];
        for i in 0..n {
            let len = start + i + 1;
            let padded = len.div_ceil(8) * 8;
            for (dst, src) in qh.iter_mut().zip(&q[i * d.embed + h * d.head_dim..][..d.head_dim]) {
                *dst = ops::round_f16(*src);
            }
            attention::scores(kernel, &layer.k.reinterpret_cast::<f16>()[kvh * d.head_dim..], kv, len, &qh, scale, &mut scores);
            scores.resize(padded, f32::NEG_INFINITY);
            attention::softmax_f16(kernel, &mut scores);
            let out = &mut result[i * d.head_dim..(i + 1) * d.head_dim];
            if padded <= capacity {
                // Past `len` the probabilities are 0, so whatever the cache holds adds 0.
                attention::weighted(kernel, values, capacity, &scores, out);
            } else {
                for (dim, o) in out.iter_mut().enumerate() {
                    padded_v.clear();
                    padded_v.extend_from_slice(&values[dim * capacity..][..capacity]);
                    padded_v.resize(padded, f16::ZERO);
                    *o = ops::dot8_f16(&padded_v, &scores);
                }
            }
        }
        result
    }
}

/// Reads tensors of a GGUF by name.
struct Tensors<'a, R> {
    path: &'a Path,
    content: &'a Content,
    reader: &'a mut R,
}

impl<R: Read + Seek> Tensors<'_, R> {
    fn bytes(&mut self, name: &str) -> Result<(GgmlDType, Vec<usize>, Vec<u8>), Error> {
        let path = self.path.to_path_buf();
        let info = self
            .content
            .tensor_infos
            .get(name)
            .ok_or_else(|| Error::MissingTensor { path: path.clone(), tensor: name.into() })?;
        let elements = info.shape.elem_count();
        let block = info.ggml_dtype.block_size();
        let size = elements / block * info.ggml_dtype.type_size();
        let mut data = vec![0u8; size];
        self.reader
            .seek(SeekFrom::Start(self.content.tensor_data_offset + info.offset))
            .and_then(|_| self.reader.read_exact(&mut data))
            .map_err(|source| Error::ReadTensor { path, tensor: name.into(), source })?;
        Ok((info.ggml_dtype, info.shape.dims().to_vec(), data))
    }

    fn matrix(&mut self, name: &str) -> Result<QMatrix, Error> {
        let (dtype, dims, data) = self.bytes(name)?;
        let kind = match dtype {
            GgmlDType::Q4_1 => Kind::Q4_1,
            GgmlDType::Q8_0 => Kind::Q8_0,
            GgmlDType::Q4K => Kind::Q4K,
            GgmlDType::Q6K => Kind::Q6K,
            found => return Err(self.type_error(name, found)),
        };
        let shape_error =
            || Error::TensorShape { path: self.path.to_path_buf(), tensor: name.into(), shape: dims.clone() };
        // candle lists dims outermost first: [rows, cols].
        let [rows, cols] = dims[..] else { return Err(shape_error()) };
        QMatrix::new(kind, rows, cols, data).ok_or_else(shape_error)
    }

    fn floats(&mut self, name: &str) -> Result<Vec<f32>, Error> {
        let (dtype, _, data) = self.bytes(name)?;
        if dtype != GgmlDType::F32 {
            return Err(self.type_error(name, dtype));
        }
        Ok(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    /// An f32 vector of `len` values (a bias).
    fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>, Error> {
        let values = self.floats(name)?;
        if values.len() != len {
            return Err(Error::TensorShape {
                path: self.path.to_path_buf(),
                tensor: name.into(),
                shape: vec![values.len()],
            });
        }
        Ok(values)
    }

    fn type_error(&self, name: &str, found: GgmlDType) -> Error {
        Error::TensorType { path: self.path.to_path_buf(), tensor: name.into(), found }
    }
}
