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
