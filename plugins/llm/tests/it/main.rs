//! The engine end to end, on the real SmolLM2-135M-Instruct GGUF (fetched by `models/fetch`,
//! which `.ci/run` calls first): tokenizer, chat prompt and greedy tokens against llama.cpp's,
//! and clear errors for missing, damaged and unsupported files.
//!
//! Reference data (`test_data/tokens.jsonl`, `greedy.jsonl`) was made with llama-cpp-python on
//! the same file; see `test_data/SOURCE.md`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use candle_core::quantized::gguf_file::{self, ValueType};
use candle_core::quantized::QTensor;
use llm::generate::{self, Settings};
use llm::{Error, Model};
use serde_json::Value;

/// The default model file, as `models/fetch` leaves it (relative to the repository).
const MODEL_PATH: &str = "models/SmolLM2-135M-Instruct-Q4_1.gguf";

fn model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../").join(MODEL_PATH)
}

/// The model, loaded once for every test of this binary.
fn model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = model_path();
            match Model::load(&path) {
                Ok(m) => Arc::new(m),
                Err(e) => panic!("{e}\n(the model tests need the default model: run models/fetch)"),
            }
        })
        .clone()
}

fn jsonl(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name);
    let text = std::fs::read_to_string(&path).expect("reference data is in the repository");
    text.lines().map(|l| serde_json::from_str(l).expect("reference lines are JSON")).collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("ids are an array")
        .iter()
        .map(|i| i.as_u64().expect("ids are integers") as u32)
        .collect()
}

#[test]
fn tokenizer_matches_llama_cpp() {
    let model = model();
    let mut mismatches = Vec::new();
    let cases = jsonl("tokens.jsonl");
    for case in &cases {
        let text = case["text"].as_str().expect("text is a string");
        let got = model.tokenizer.encode(text);
        if got != ids(&case["ids"]) {
            mismatches.push(format!("{text:?}\n  got  {got:?}\n  want {:?}", ids(&case["ids"])));
        }
    }
    assert_eq!(cases.len(), 57);
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}

/// The ChatML template inserts control tokens by id and encodes the rest as text; that must give
/// llama.cpp's ids for the reference prompts (which it tokenised with special tokens parsed).
#[test]
fn chat_prompt_matches_llama_cpp() {
    let model = model();
    for case in jsonl("greedy.jsonl") {
        let prompt = case["prompt"].as_str().expect("prompt is a string");
        let mut got = Vec::new();
        for (i, part) in prompt.split("<|im_start|>").enumerate() {
            if i > 0 {
                got.push(model.tokenizer.control("<|im_start|>").expect("ChatML model"));
            }
            for (j, piece) in part.split("<|im_end|>").enumerate() {
                if j > 0 {
                    got.push(model.tokenizer.control("<|im_end|>").expect("ChatML model"));
                }
                got.extend(model.tokenizer.encode(piece));
            }
        }
        assert_eq!(got, ids(&case["prompt_ids"]), "prompt of {}", case["id"]);
    }
}

/// Greedy decoding of the 10 reference prompts, 32 tokens each, against two references (see
/// `test_data/SOURCE.md`): `greedy_local.jsonl`, llama.cpp built and run on this project's
/// machine kind, and the shared `greedy.jsonl`, made where llama.cpp's floating-point path
/// differs (llama.cpp built here matches that file on only 3 of 10).
///
/// Measured 2026-11-24: briefd's engine agrees with llama.cpp-here for all 32 tokens on 8 of 10
/// prompts (32, 32, 32, 32, 32, 32, 0, 32, 32, 18), and with the shared file on 5 of 10
/// (32, 7, 0, 16, 20, 32, 32, 17, 32, 32; stock candle: 5 of 10 too). Both counts are asserted.
#[test]
fn greedy_tokens_agree_with_llama_cpp() {
    let model = model();
    let settings = Settings {
        max_new_tokens: 32,
        temperature: 0.0,
        seed: 0,
        repeat_penalty: 1.0,
        repeat_last_n: 64,
        stop_tokens: vec![model.tokenizer.eos],
        banned_tokens: Vec::new(),
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a thread pool");
    let local: Vec<Vec<u32>> = jsonl("greedy_local.jsonl").iter().map(|c| ids(&c["greedy_ids"])).collect();
    let (mut with_local, mut with_shared) = (0, 0);
    let mut report = Vec::new();
    for (case, local) in jsonl("greedy.jsonl").iter().zip(&local) {
        let prompt = ids(&case["prompt_ids"]);
        let generation = pool.install(|| {
            let mut weights = model.weights.lock().expect("no test panics while holding the model");
            generate::generate_unguarded(&mut weights, &prompt, &settings).expect("generation runs")
        });
        let agree = |want: &[u32]| {
            let same = generation.ids.iter().zip(want).take_while(|(a, b)| a == b).count();
            (same, same >= want.len().min(32))
        };
        let (same_local, full_local) = agree(local);
        let (same_shared, full_shared) = agree(&ids(&case["greedy_ids"]));
        with_local += usize::from(full_local);
        with_shared += usize::from(full_shared);
        report.push(format!(
            "{}: {same_local} with llama.cpp here, {same_shared} with the shared reference",
            case["id"]
        ));
    }
    let report = report.join("\n");
    assert!(with_local >= 8, "{with_local} of 10 prompts agree with llama.cpp here for 32 tokens:\n{report}");
    assert!(
        with_shared >= 5,
        "{with_shared} of 10 prompts agree with the shared reference for 32 tokens:\n{report}"
    );
}

#[test]
fn a_missing_model_is_a_clear_error() {
    let error = Model::load(Path::new("/nonexistent/model.gguf")).err().expect("no such file");
    assert!(matches!(error, Error::Open { .. }));
    let message = error.to_string();
    assert!(message.contains("/nonexistent/model.gguf") && message.contains("models/fetch"), "{message}");
}

#[test]
fn a_truncated_model_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bytes = std::fs::read(model_path()).expect("the model was fetched");
    for (name, len) in [("header.gguf", 1000), ("half.gguf", bytes.len() / 2), ("empty.gguf", 0)] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes[..len]).expect("writing a temp file");
        let error = llm::model::inspect(&path).expect_err("a damaged file is refused");
        // A cut header does not parse; a whole header with the tensors cut off is caught by the
        // tensor table, which names the first tensor it finds past the end.
        match name {
            "half.gguf" => {
                assert!(matches!(&error, Error::Truncated { tensor, .. } if !tensor.is_empty()), "{error:?}")
            }
            _ => assert!(matches!(error, Error::Corrupt { .. }), "{name}: {error:?}"),
        }
        assert!(error.to_string().contains(name), "{error}");
        assert!(Model::load(&path).is_err());
    }
}

#[test]
fn an_unsupported_architecture_is_named() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("neox.gguf");
    let mut file = std::fs::File::create(&path).expect("a temp file");
    let arch = gguf_file::Value::String("gptneox".into());
    gguf_file::write(&mut file, &[("general.architecture", &arch)], &[]).expect("writing a GGUF");
    drop(file);
    let error = llm::model::inspect(&path).expect_err("refused");
    assert!(matches!(&error, Error::Architecture { found, .. } if found == "gptneox"), "{error:?}");
    assert!(error.to_string().contains("\"gptneox\""), "{error}");
}

/// A GGUF at `path` holding `metadata` and `tensors`, written by candle.
fn write_gguf(path: &Path, metadata: &[(&str, gguf_file::Value)], tensors: &[(&str, &QTensor)]) {
    let mut file = std::fs::File::create(path).expect("a temp file");
    let metadata: Vec<(&str, &gguf_file::Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    gguf_file::write(&mut file, &metadata, tensors).expect("writing a GGUF");
}

/// The metadata of a tiny llama: `heads` heads of a 64-wide model, one block.
fn llama_metadata(heads: u32) -> Vec<(&'static str, gguf_file::Value)> {
    vec![
        ("general.architecture", gguf_file::Value::String("llama".into())),
        ("llama.embedding_length", gguf_file::Value::U32(64)),
        ("llama.attention.head_count", gguf_file::Value::U32(heads)),
        ("llama.attention.head_count_kv", gguf_file::Value::U32(heads)),
        ("llama.block_count", gguf_file::Value::U32(1)),
        ("llama.rope.dimension_count", gguf_file::Value::U32(64 / heads)),
        ("llama.attention.layer_norm_rms_epsilon", gguf_file::Value::F32(1e-5)),
    ]
}

#[test]
fn a_missing_or_mistyped_key_is_named() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("keys.gguf");
    let mut metadata = llama_metadata(2);
    metadata.retain(|(key, _)| *key != "llama.block_count");
    write_gguf(&path, &metadata, &[]);
    let error = llm::model::inspect(&path).expect_err("refused");
    assert!(matches!(&error, Error::MissingKey { key, .. } if key == "llama.block_count"), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("keys.gguf") && message.contains("llama.block_count"), "{message}");

    metadata.push(("llama.block_count", gguf_file::Value::String("one".into())));
    write_gguf(&path, &metadata, &[]);
    let error = llm::model::inspect(&path).expect_err("refused");
    assert!(
        matches!(&error, Error::KeyType { key, found: ValueType::String, .. } if key == "llama.block_count"),
        "{error:?}"
    );
}

/// What briefd's engine cannot run it declines with the reason named (`Model::load` then runs
/// the file on candle): an attention shape its kernels do not cover, a tensor type it does not read.
#[test]
fn the_engine_names_what_it_cannot_run() {
    use candle_core::quantized::gguf_file::Content;
    use candle_core::quantized::GgmlDType;
    use llm::llama::Llama;
    let dir = tempfile::tempdir().expect("a temp dir");
    let embeddings = candle_core::Tensor::zeros((8, 64), candle_core::DType::F32, &candle_core::Device::Cpu)
        .and_then(|t| QTensor::quantize(&t, GgmlDType::F32))
        .expect("an f32 tensor");
    let load = |heads: u32| {
        let path = dir.path().join(format!("heads{heads}.gguf"));
        write_gguf(&path, &llama_metadata(heads), &[("token_embd.weight", &embeddings)]);
        let mut reader = std::fs::File::open(&path).expect("the file just written");
        let content = Content::read(&mut reader).expect("a GGUF candle wrote");
        Llama::load(&path, &content, &mut reader, 16).err().expect("declined")
    };
    // Three heads of 64 make heads of 21 values, not a multiple of the kernels' 8 lanes.
    let error = load(3);
    assert!(matches!(error, Error::AttentionShape { heads: 3, kv_heads: 3, embed: 64, .. }), "{error:?}");
    let error = load(2);
    let named = matches!(&error, Error::TensorType { tensor, found: GgmlDType::F32, .. }
        if tensor == "token_embd.weight");
    assert!(named, "{error:?}");
    assert!(error.to_string().contains("heads2.gguf"), "{error}");
}

/// A forward pass refuses, with a typed error, what would write outside the KV cache or the
/// embedding table, and the model still runs afterwards.
#[test]
fn the_forward_pass_refuses_bad_positions_and_tokens() {
    let model = model();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a thread pool");
    pool.install(|| {
        let mut weights = model.weights.lock().expect("no test panics while holding the model");
        weights.clear();
        let error = weights.forward(&[1], 5).expect_err("position 5 of an empty cache");
        assert!(matches!(error, Error::Position { given: 5, filled: 0 }), "{error:?}");
        let error = weights.forward(&[u32::MAX], 0).expect_err("no such token");
        assert!(matches!(error, Error::Token { token: u32::MAX, .. }), "{error:?}");
        let too_long = vec![1u32; model.info.context_length + 1];
        let error = weights.forward(&too_long, 0).expect_err("longer than the context");
        assert!(matches!(error, Error::ContextFull { .. }), "{error:?}");
        let error = weights.forward(&[], 0).expect_err("nothing to run");
        assert!(matches!(error, Error::EmptyPrompt), "{error:?}");
        assert!(weights.forward(&[1, 2, 3], 0).is_ok());
    });
}

/// A tiny `qwen2` file (written by candle: Q4_K and Q6_K matrices, q/k/v biases, grouped-query
/// attention, no `output.weight` so the embeddings are the output, no `rope.dimension_count`)
/// loads on briefd's engine, and three tokens through it give the logits a plain f32 forward
/// pass gives from the dequantized weights (NEOX rope, biases, one kv head shared by two query
/// heads), within the error of 8-bit activations.
#[test]
fn a_tiny_qwen2_file_computes_what_a_plain_float_forward_pass_computes() {
    use candle_core::quantized::gguf_file::Content;
    use candle_core::quantized::GgmlDType;
    use candle_core::{Device, Tensor};
    use llm::llama::Llama;

    const EMBED: usize = 256;
    const HEAD: usize = 128;
    const KV: usize = HEAD; // one kv head
    const FFN: usize = 512;
    const VOCAB: usize = 8;
    const EPS: f32 = 1e-6;
    const BASE: f32 = 1_000_000.0;

    let mut seed = 7u32;
    let mut random = |n: usize, scale: f32| -> Vec<f32> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                ((seed % 2001) as f32 / 1000.0 - 1.0) * scale
            })
            .collect()
    };
    let quantize = |values: &[f32], rows: usize, cols: usize, dtype: GgmlDType| -> (QTensor, Vec<f32>) {
        let t = Tensor::from_vec(values.to_vec(), (rows, cols), &Device::Cpu).expect("a tensor");
        let q = QTensor::quantize(&t, dtype).expect("quantized");
        let back =
            q.dequantize(&Device::Cpu).and_then(|t| t.flatten_all()).and_then(|t| t.to_vec1()).expect("f32");
        (q, back)
    };
    let vector = |values: &[f32]| {
        let t = Tensor::from_vec(values.to_vec(), values.len(), &Device::Cpu).expect("a tensor");
        QTensor::quantize(&t, GgmlDType::F32).expect("an f32 tensor")
    };
    let (embd, embd_f) = quantize(&random(VOCAB * EMBED, 1.0), VOCAB, EMBED, GgmlDType::Q4K);
    let (wq, wq_f) = quantize(&random(EMBED * EMBED, 0.2), EMBED, EMBED, GgmlDType::Q4K);
    let (wk, wk_f) = quantize(&random(KV * EMBED, 0.2), KV, EMBED, GgmlDType::Q4K);
    let (wv, wv_f) = quantize(&random(KV * EMBED, 0.2), KV, EMBED, GgmlDType::Q6K);
    let (wo, wo_f) = quantize(&random(EMBED * EMBED, 0.1), EMBED, EMBED, GgmlDType::Q4K);
    let (gate, gate_f) = quantize(&random(FFN * EMBED, 0.2), FFN, EMBED, GgmlDType::Q4K);
    let (up, up_f) = quantize(&random(FFN * EMBED, 0.2), FFN, EMBED, GgmlDType::Q4K);
    let (down, down_f) = quantize(&random(EMBED * FFN, 0.1), EMBED, FFN, GgmlDType::Q6K);
    let (bq, bk, bv) = (random(EMBED, 0.5), random(KV, 0.5), random(KV, 0.5));
    let norms = [random(EMBED, 0.5), random(EMBED, 0.5), random(EMBED, 0.5)]
        .map(|v| v.iter().map(|x| 1.0 + x).collect::<Vec<f32>>());
    let (attn_norm, ffn_norm, out_norm) = (vector(&norms[0]), vector(&norms[1]), vector(&norms[2]));
    let (bq_t, bk_t, bv_t) = (vector(&bq), vector(&bk), vector(&bv));

    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("qwen2.gguf");
    let metadata = vec![
        ("general.architecture", gguf_file::Value::String("qwen2".into())),
        ("qwen2.embedding_length", gguf_file::Value::U32(EMBED as u32)),
        ("qwen2.attention.head_count", gguf_file::Value::U32(2)),
        ("qwen2.attention.head_count_kv", gguf_file::Value::U32(1)),
        ("qwen2.block_count", gguf_file::Value::U32(1)),
        ("qwen2.rope.freq_base", gguf_file::Value::F32(BASE)),
        ("qwen2.attention.layer_norm_rms_epsilon", gguf_file::Value::F32(EPS)),
    ];
    let tensors: Vec<(&str, &QTensor)> = vec![
        ("token_embd.weight", &embd),
        ("output_norm.weight", &out_norm),
        ("blk.0.attn_norm.weight", &attn_norm),
        ("blk.0.attn_q.weight", &wq),
        ("blk.0.attn_k.weight", &wk),
        ("blk.0.attn_v.weight", &wv),
        ("blk.0.attn_q.bias", &bq_t),
        ("blk.0.attn_k.bias", &bk_t),
        ("blk.0.attn_v.bias", &bv_t),
        ("blk.0.attn_output.weight", &wo),
        ("blk.0.ffn_norm.weight", &ffn_norm),
        ("blk.0.ffn_gate.weight", &gate),
        ("blk.0.ffn_up.weight", &up),
        ("blk.0.ffn_down.weight", &down),
    ];
    write_gguf(&path, &metadata, &tensors);
    let mut reader = std::fs::File::open(&path).expect("the file just written");
    let content = Content::read(&mut reader).expect("a GGUF candle wrote");
    let mut engine = match Llama::load(&path, &content, &mut reader, 16) {
        Ok(engine) => engine,
        Err(e) => panic!("the tiny qwen2 file loads on briefd's engine: {e}"),
    };
    let tokens = [3u32, 5, 1];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a thread pool");
    let logits = pool.install(|| engine.forward(&tokens, 0)).expect("a forward pass");

    // The plain f32 forward pass of the same weights.
    let matvec = |w: &[f32], rows: usize, x: &[f32]| -> Vec<f32> {
        (0..rows).map(|r| w[r * x.len()..(r + 1) * x.len()].iter().zip(x).map(|(a, b)| a * b).sum()).collect()
    };
    let rms = |x: &[f32], w: &[f32]| -> Vec<f32> {
        let scale = 1.0 / (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32 + EPS).sqrt();
        x.iter().zip(w).map(|(v, w)| v * scale * w).collect()
    };
    let rope = |x: &mut [f32], pos: usize| {
        for head in x.chunks_exact_mut(HEAD) {
            for i in 0..HEAD / 2 {
                let theta = pos as f64 * f64::from(BASE).powf(-2.0 * i as f64 / HEAD as f64);
                let (c, s) = (theta.cos() as f32, theta.sin() as f32);
                let (a, b) = (head[i], head[i + HEAD / 2]);
                head[i] = a * c - b * s;
                head[i + HEAD / 2] = a * s + b * c;
            }
        }
    };
    let add = |x: &mut Vec<f32>, b: &[f32]| x.iter_mut().zip(b).for_each(|(v, b)| *v += b);
    let mut xs: Vec<Vec<f32>> =
        tokens.iter().map(|t| embd_f[*t as usize * EMBED..][..EMBED].to_vec()).collect();
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    let mut queries = Vec::new();
    for (pos, x) in xs.iter().enumerate() {
        let h = rms(x, &norms[0]);
        let (mut q, mut k, mut v) = (matvec(&wq_f, EMBED, &h), matvec(&wk_f, KV, &h), matvec(&wv_f, KV, &h));
        add(&mut q, &bq);
        add(&mut k, &bk);
        add(&mut v, &bv);
        rope(&mut q, pos);
        rope(&mut k, pos);
        queries.push(q);
        keys.push(k);
        values.push(v);
    }
    for (pos, x) in xs.iter_mut().enumerate() {
        let mut attn = vec![0f32; EMBED];
        for head in 0..2 {
            let q = &queries[pos][head * HEAD..][..HEAD];
            let scores: Vec<f32> = (0..=pos)
                .map(|p| q.iter().zip(&keys[p]).map(|(a, b)| a * b).sum::<f32>() / (HEAD as f32).sqrt())
                .collect();
            let max = scores.iter().fold(f32::NEG_INFINITY, |m, s| m.max(*s));
            let weights: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
            let total: f32 = weights.iter().sum();
            for (p, w) in weights.iter().enumerate() {
                for d in 0..HEAD {
                    attn[head * HEAD + d] += w / total * values[p][d];
                }
            }
        }
        add(x, &matvec(&wo_f, EMBED, &attn));
        let h = rms(x, &norms[1]);
        let (g, u) = (matvec(&gate_f, FFN, &h), matvec(&up_f, FFN, &h));
        let act: Vec<f32> = g.iter().zip(&u).map(|(g, u)| g / (1.0 + (-g).exp()) * u).collect();
        add(x, &matvec(&down_f, EMBED, &act));
    }
    let last = rms(&xs[tokens.len() - 1], &norms[2]);
    let expected = matvec(&embd_f, VOCAB, &last);
    let spread = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (i, (got, want)) in logits.iter().zip(&expected).enumerate() {
        assert!((got - want).abs() <= 0.03 * spread, "logit {i}: {got} vs {want}\n{logits:?}\n{expected:?}");
    }
    assert_eq!(logits.len(), VOCAB, "the embeddings are the output matrix");

    // Without its biases the file is refused by name, not run wrongly.
    let path = dir.path().join("no_bias.gguf");
    let tensors: Vec<(&str, &QTensor)> =
        tensors.into_iter().filter(|(n, _)| *n != "blk.0.attn_k.bias").collect();
    write_gguf(&path, &metadata, &tensors);
    let mut reader = std::fs::File::open(&path).expect("the file just written");
    let content = Content::read(&mut reader).expect("a GGUF candle wrote");
    let error = Llama::load(&path, &content, &mut reader, 16).err().expect("refused");
    assert!(
        matches!(&error, Error::MissingTensor { tensor, .. } if tensor == "blk.0.attn_k.bias"),
        "{error:?}"
    );
}

/// A banned token is never generated, even where the model would pick it: asked for HTML, the
/// model writes no angle bracket once the tokens holding one are banned, while the turn's end
/// (a control token spelled with angle brackets) still ends generation.
#[test]
fn banned_tokens_are_never_generated() {
    let model = model();
    let banned = model.tokenizer.ids_containing(&['<', '>']);
    assert!(banned.len() > 10, "the vocabulary has tokens with angle brackets: {}", banned.len());
    let stop_tokens = model.template.stop_tokens(&model.tokenizer);
    assert!(stop_tokens.iter().all(|t| !banned.contains(t)), "control tokens are never banned");
    let user = model.tokenizer.encode("Write an HTML page with a title and a paragraph, in HTML tags.");
    let prompt = model.template.render(&model.tokenizer, "You write HTML.", &user);
    let mut settings = Settings {
        max_new_tokens: 24,
        temperature: 0.0,
        seed: 0,
        repeat_penalty: 1.0,
        repeat_last_n: 64,
        stop_tokens,
        banned_tokens: Vec::new(),
    };
    let run = |settings: &Settings| {
        let mut weights = model.weights.lock().expect("no test panics while holding the model");
        let ids = generate::generate(&mut weights, &prompt, settings).expect("generation runs").ids;
        model.tokenizer.decode(&ids)
    };
    let free = run(&settings);
    assert!(free.contains('<'), "unconstrained, the model writes tags: {free:?}");
    settings.banned_tokens = banned;
    let constrained = run(&settings);
    assert!(!constrained.contains(['<', '>']), "{constrained:?}");
}
