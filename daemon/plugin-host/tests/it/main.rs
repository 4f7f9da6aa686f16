//! Integration tests of the plugin host: real plugin libraries, loaded and called.

mod loading;
mod support;
