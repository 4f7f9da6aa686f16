//! The context as JSON requests: how a loaded plugin asks the host about earlier stories.
//!
//! The C ABI has one generic callback, [`crate::abi::HostV1::query`]; the request names a
//! `method`, so adding a [`Context`] method means adding a name here on both sides, never
//! changing the ABI. The host answers with [`answer`]; a plugin built with the SDK sees a
//! [`Context`] whose calls become requests ([`HostContext`]).

use serde_json::{json, Value};

use crate::abi::{Buf, HostV1, Status};
use crate::Context;

/// Method name of [`Context::stories_with_fingerprint`].
pub const STORIES_WITH_FINGERPRINT: &str = "stories_with_fingerprint";

/// Answers one JSON request against `context`; the error is a message for the plugin.
pub fn answer(context: &dyn Context, request: &[u8]) -> Result<Vec<u8>, String> {
    let request: Value = serde_json::from_slice(request).map_err(|e| format!("the request is not JSON: {e}"))?;
    let method = request.get("method").and_then(Value::as_str).ok_or("the request names no \"method\"")?;
    let text = |key: &str| {
        request.get(key).and_then(Value::as_str).ok_or_else(|| format!("{method}: \"{key}\" must be a string"))
    };
    let response = match method {
        STORIES_WITH_FINGERPRINT => json!({ "stories": context.stories_with_fingerprint(text("kind")?, text("value")?) }),
        other => return Err(format!("unknown method {other:?}; this host knows: {STORIES_WITH_FINGERPRINT}")),
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
}

impl Context for HostContext<'_> {
    fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
        // The trait has no error channel: a failed lookup reads as "no earlier story".
        self.query(&json!({ "method": STORIES_WITH_FINGERPRINT, "kind": kind, "value": value }))
            .ok()
            .and_then(|v| serde_json::from_value(v["stories"].clone()).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Context for Fixed {
        fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
            if kind == "k" && value == "v" { vec![7] } else { vec![] }
        }
    }

    #[test]
    fn answers_a_known_method_and_refuses_an_unknown_one() {
        let ok = answer(&Fixed, br#"{"method":"stories_with_fingerprint","kind":"k","value":"v"}"#).unwrap();
        assert_eq!(ok, br#"{"stories":[7]}"#);
        let err = answer(&Fixed, br#"{"method":"nope"}"#).unwrap_err();
        assert!(err.contains("unknown method \"nope\""), "{err}");
        assert!(answer(&Fixed, b"{").is_err());
    }
}
