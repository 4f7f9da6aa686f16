//! The engine end to end, on the real SmolLM2-135M-Instruct GGUF (fetched by `models/fetch`,
//! which `.ci/run` calls first): tokenizer, chat prompt and greedy tokens against llama.cpp's,
//! and clear errors for missing, damaged and unsupported files.
//!
//! Reference data (`test_data/tokens.jsonl`, `greedy.jsonl`) was made with llama-cpp-python on
//! the same file; see `test_data/SOURCE.md`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use llm::generate::{self, Settings};
use llm::{Error, Model};

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
    v.as_array().expect("ids are an array").iter().map(|i| i.as_u64().expect("ids are integers") as u32).collect()
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
    assert!(mismatches.is_empty(), "{} of {} differ:\n{}", mismatches.len(), cases.len(), mismatches.join("\n"));
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
        report.push(format!("{}: {same_local} with llama.cpp here, {same_shared} with the shared reference", case["id"]));
    }
    let report = report.join("\n");
    assert!(with_local >= 8, "{with_local} of 10 prompts agree with llama.cpp here for 32 tokens:\n{report}");
    assert!(with_shared >= 5, "{with_shared} of 10 prompts agree with the shared reference for 32 tokens:\n{report}");
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
        let error = llm::model::inspect(&path).err().expect("a damaged file is refused");
        assert!(matches!(error, Error::Corrupt { .. }), "{name}: {error:?}");
        assert!(error.to_string().contains(name), "{error}");
        assert!(Model::load(&path).is_err());
    }
}

#[test]
fn an_unsupported_architecture_is_named() {
    use candle_core::quantized::gguf_file::{self, Value};
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("neox.gguf");
    let mut file = std::fs::File::create(&path).expect("a temp file");
    let arch = Value::String("gptneox".into());
    gguf_file::write(&mut file, &[("general.architecture", &arch)], &[]).expect("writing a GGUF");
    drop(file);
    let error = llm::model::inspect(&path).err().expect("refused");
    assert!(matches!(&error, Error::Architecture { found, .. } if found == "gptneox"), "{error:?}");
    assert!(error.to_string().contains("\"gptneox\""), "{error}");
}
