//! Integration tests of the pipeline: building it from a config, and one contract that every
//! stage, built-in or loaded, meets.

mod build;
mod conformance;
/// The plugin builder of the plugin-host tests, shared so both build the same way.
#[allow(dead_code)]
#[path = "../../../plugin-host/tests/it/support.rs"]
mod support;
