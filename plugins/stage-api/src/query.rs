//! The context as JSON requests: how a loaded plugin asks the host about earlier stories.
//!
//! The C ABI has one generic callback, [`crate::abi::HostV1::query`]; the request names a
//! `method`, so adding a [`Context`] method means adding a name here on both sides, never
//! changing the ABI. The host answers with [`answer`]; a plugin built with the SDK sees a
//! [`Context`] whose calls become requests ([`HostContext`]).

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::abi::{Buf, HostV1, Status};
use crate::{Context, KeyHit, StoredArticle};

/// Method name of [`Context::stories_with_fingerprint`]: `kind`, `value` → `{"stories": [ids]}`.
pub const STORIES_WITH_FINGERPRINT: &str = "stories_with_fingerprint";
/// Method name of [`Context::article_count`]: → `{"count": n}`.
pub const ARTICLE_COUNT: &str = "article_count";
/// Method name of [`Context::key_counts`]: `kind`, `values` → `{"counts": [n, ...]}`.
pub const KEY_COUNTS: &str = "key_counts";
/// Method name of [`Context::articles_with_keys`]: `kind`, `values`, `limit` → `{"hits": [...]}`.
pub const ARTICLES_WITH_KEYS: &str = "articles_with_keys";
/// Method name of [`Context::story_articles`]: `story_id`, `limit` → `{"articles": [...]}`.
pub const STORY_ARTICLES: &str = "story_articles";
/// Method name of [`Context::story_size`]: `story_id` → `{"size": n}`.
pub const STORY_SIZE: &str = "story_size";

/// Every method this host answers, for the error that names them.
const METHODS: [&str; 6] =
    [STORIES_WITH_FINGERPRINT, ARTICLE_COUNT, KEY_COUNTS, ARTICLES_WITH_KEYS, STORY_ARTICLES, STORY_SIZE];

/// A plugin asks for at most this many values or results in one request: the host answers from
/// its store inside the plugin's time box, so one request must stay a bounded amount of work.
pub const MAX_ITEMS: usize = 1000;

/// Answers one JSON request against `context`; the error is a message for the plugin.
pub fn answer(context: &dyn Context, request: &[u8]) -> Result<Vec<u8>, String> {
    let request: Value =
        serde_json::from_slice(request).map_err(|e| format!("the request is not JSON: {e}"))?;
    let method = request.get("method").and_then(Value::as_str).ok_or("the request names no \"method\"")?;
    let text = |key: &str| {
        request
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{method}: \"{key}\" must be a string"))
    };
    let integer = |key: &str| {
        request
            .get(key)
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("{method}: \"{key}\" must be an integer"))
    };
    let limit = || {
        let n = integer("limit")?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= MAX_ITEMS)
            .ok_or_else(|| format!("{method}: \"limit\" is {n}; ask for 0 to {MAX_ITEMS}"))
    };
    let values = || {
        let values: Vec<String> = request
            .get("values")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .ok_or_else(|| format!("{method}: \"values\" must be a list of strings"))?;
        if values.len() > MAX_ITEMS {
            return Err(format!("{method}: {} values; ask for at most {MAX_ITEMS} at once", values.len()));
        }
        Ok(values)
    };
    let response = match method {
        STORIES_WITH_FINGERPRINT => {
            json!({ "stories": context.stories_with_fingerprint(text("kind")?, text("value")?) })
        }
        ARTICLE_COUNT => json!({ "count": context.article_count() }),
        KEY_COUNTS => json!({ "counts": context.key_counts(text("kind")?, values()?) }),
        ARTICLES_WITH_KEYS => {
            json!({ "hits": context.articles_with_keys(text("kind")?, values()?, limit()?) })
        }
        STORY_ARTICLES => json!({ "articles": context.story_articles(integer("story_id")?, limit()?) }),
        STORY_SIZE => json!({ "size": context.story_size(integer("story_id")?) }),
        other => return Err(format!("unknown method {other:?}; this host knows: {}", METHODS.join(", "))),
    };
    Ok(response.to_string().into_bytes())
}

/// The host's context as a plugin sees it: each call is one request through `host.query`.
pub struct HostContext<'a> {
    host: &'a HostV1,
}

impl<'a> HostContext<'a> {
    /// Wraps the host table passed to `process`.
    pub fn new(host: &'a HostV1) -> Self {
        HostContext { host }
    }

    /// Sends `request` and returns the host's JSON answer.
    pub fn query(&self, request: &Value) -> Result<Value, String> {
        let bytes = request.to_string().into_bytes();
        let input = Buf { ptr: bytes.as_ptr(), len: bytes.len() };
        let mut out = Buf::EMPTY;
        // SAFETY: the host table is valid for the duration of `process`, which outlives `self`;
        // `input` points to live bytes for the call.
        let status = unsafe { (self.host.query)(self.host.ctx, input, &mut out) };
        // SAFETY: the host filled `out` with a buffer it owns; we copy then free it once.
        let answer = unsafe { out.as_bytes() }.to_vec();
        unsafe { (self.host.free_buf)(self.host.ctx, out) };
        let text = String::from_utf8_lossy(&answer);
        if status != Status::CONTINUE {
            return Err(text.into_owned());
        }
        serde_json::from_str(&text).map_err(|e| format!("the host's answer is not JSON: {e}"))
    }

    /// The `field` of the answer to `request`, or its default when the request failed: the
    /// trait has no error channel, so a failed lookup reads as "nothing known".
    fn ask<T: DeserializeOwned + Default>(&self, request: Value, field: &str) -> T {
        self.query(&request)
            .ok()
            .and_then(|mut v| serde_json::from_value(v[field].take()).ok())
            .unwrap_or_default()
    }
}

impl Context for HostContext<'_> {
    fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
        self.ask(json!({ "method": STORIES_WITH_FINGERPRINT, "kind": kind, "value": value }), "stories")
    }

    fn article_count(&self) -> u64 {
        self.ask(json!({ "method": ARTICLE_COUNT }), "count")
    }

    fn key_counts(&self, kind: &str, values: Vec<String>) -> Vec<u64> {
        // In requests the host accepts; the trait promises one count per value.
        let mut all = Vec::with_capacity(values.len());
        for chunk in values.chunks(MAX_ITEMS) {
            let counts: Vec<u64> =
                self.ask(json!({ "method": KEY_COUNTS, "kind": kind, "values": chunk }), "counts");
            if counts.len() == chunk.len() {
                all.extend(counts);
            } else {
                all.extend(std::iter::repeat_n(0, chunk.len()));
            }
        }
        all
    }

    fn articles_with_keys(&self, kind: &str, mut values: Vec<String>, limit: usize) -> Vec<KeyHit> {
        // One request ranks over one set of keys, so the set is cut rather than split.
        values.truncate(MAX_ITEMS);
        let limit = limit.min(MAX_ITEMS);
        self.ask(
            json!({ "method": ARTICLES_WITH_KEYS, "kind": kind, "values": values, "limit": limit }),
            "hits",
        )
    }

    fn story_articles(&self, story_id: i64, limit: usize) -> Vec<StoredArticle> {
        let limit = limit.min(MAX_ITEMS);
        self.ask(json!({ "method": STORY_ARTICLES, "story_id": story_id, "limit": limit }), "articles")
    }

    fn story_size(&self, story_id: i64) -> u64 {
        self.ask(json!({ "method": STORY_SIZE, "story_id": story_id }), "size")
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::c_void;

    use super::*;
    use crate::{Article, ABI_MAJOR};

    /// A store of two stories: 10 (articles 1 and 2) and 20 (article 3).
    struct Fixed;

    impl Context for Fixed {
        fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
            if kind == "k" && value == "v" {
                vec![7]
            } else {
                vec![]
            }
        }

        fn article_count(&self) -> u64 {
            3
        }

        fn key_counts(&self, kind: &str, values: Vec<String>) -> Vec<u64> {
            values.iter().map(|v| if kind == "word" && v == "quake" { 2 } else { 0 }).collect()
        }

        fn articles_with_keys(&self, _kind: &str, values: Vec<String>, limit: usize) -> Vec<KeyHit> {
            let hits = [
                KeyHit { article_id: 2, story_id: 10, shared: values.len() as u64 },
                KeyHit { article_id: 3, story_id: 20, shared: 1 },
            ];
            hits.into_iter().take(limit).collect()
        }

        fn story_articles(&self, story_id: i64, limit: usize) -> Vec<StoredArticle> {
            let article = |id: i64| StoredArticle {
                article_id: id,
                story_id,
                article: Article {
                    file_name: format!("{id}.txt"),
                    text: format!("text {id}"),
                    ..Article::default()
                },
            };
            let ids: &[i64] = if story_id == 10 { &[2, 1] } else { &[] };
            ids.iter().take(limit).map(|&id| article(id)).collect()
        }

        fn story_size(&self, story_id: i64) -> u64 {
            if story_id == 10 {
                2
            } else {
                0
            }
        }
    }

    #[test]
    fn answers_a_known_method_and_refuses_an_unknown_one() {
        let ok = answer(&Fixed, br#"{"method":"stories_with_fingerprint","kind":"k","value":"v"}"#).unwrap();
        assert_eq!(ok, br#"{"stories":[7]}"#);
        let err = answer(&Fixed, br#"{"method":"nope"}"#).unwrap_err();
        assert!(err.contains("unknown method \"nope\"") && err.contains("story_articles"), "{err}");
        assert!(answer(&Fixed, b"{").is_err());
    }

    #[test]
    fn malformed_and_oversized_requests_are_refused_with_a_reason() {
        let err = answer(&Fixed, br#"{"method":"story_size","story_id":"ten"}"#).unwrap_err();
        assert!(err.contains("\"story_id\" must be an integer"), "{err}");
        let err = answer(&Fixed, br#"{"method":"story_articles","story_id":10,"limit":-1}"#).unwrap_err();
        assert!(err.contains("\"limit\" is -1"), "{err}");
        let too_many = json!({ "method": KEY_COUNTS, "kind": "word", "values": vec!["x"; MAX_ITEMS + 1] });
        let err = answer(&Fixed, too_many.to_string().as_bytes()).unwrap_err();
        assert!(err.contains("at most 1000"), "{err}");
    }

    unsafe extern "C" fn fixed_query(_ctx: *mut c_void, request: Buf, out: *mut Buf) -> Status {
        // SAFETY: the caller passes a readable request and a writable `out`.
        let (status, bytes) = match answer(&Fixed, unsafe { request.as_bytes() }) {
            Ok(bytes) => (Status::CONTINUE, bytes),
            Err(message) => (Status::FAIL, message.into_bytes()),
        };
        unsafe { *out = Buf::from_vec(bytes) };
        status
    }

    unsafe extern "C" fn fixed_free(_ctx: *mut c_void, buf: Buf) {
        // SAFETY: every buffer handed out above comes from `Buf::from_vec`.
        unsafe { buf.reclaim() }
    }

    /// Every `Context` method a plugin calls crosses the JSON callback and comes back as the
    /// host's own answer.
    #[test]
    fn a_plugin_sees_the_same_context_as_a_built_in_stage() {
        let host = HostV1 {
            abi_major: ABI_MAJOR,
            struct_size: std::mem::size_of::<HostV1>() as u32,
            ctx: std::ptr::null_mut(),
            query: fixed_query,
            free_buf: fixed_free,
        };
        let plugin = HostContext::new(&host);
        assert_eq!(plugin.stories_with_fingerprint("k", "v"), Fixed.stories_with_fingerprint("k", "v"));
        assert_eq!(plugin.article_count(), 3);
        let words = || vec!["quake".to_string(), "bridge".to_string()];
        assert_eq!(plugin.key_counts("word", words()), vec![2, 0]);
        assert_eq!(plugin.key_counts("word", vec!["quake".to_string(); MAX_ITEMS + 5]).len(), MAX_ITEMS + 5);
        assert_eq!(
            plugin.articles_with_keys("word", words(), 1),
            Fixed.articles_with_keys("word", words(), 1)
        );
        assert_eq!(plugin.story_articles(10, 5), Fixed.story_articles(10, 5));
        assert_eq!(plugin.story_articles(10, 5).len(), 2);
        assert_eq!(plugin.story_size(10), 2);
        assert_eq!(plugin.story_size(99), 0);
    }
}
