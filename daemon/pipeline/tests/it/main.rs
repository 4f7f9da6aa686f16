//! Integration tests of the pipeline: every stage, built-in or loaded, meets one contract.

mod conformance;
/// The plugin builder of the plugin-host tests, shared so both build the same way.
#[allow(dead_code)]
#[path = "../../../plugin-host/tests/it/support.rs"]
mod support;
