//! The plugin host: loads stage libraries that speak the v1 C ABI of `stage-api` and wraps each
//! one as a [`stage_api::Stage`], exactly like a built-in stage.
//!
//! Loading ([`library`]) checks the ABI major before anything else in the library is called and
//! refuses a mismatch with a message naming the file, both versions and the fix. Libraries are
//! loaded once and never unloaded: a stage may be stuck in a call we gave up on, and unloading
//! code that is still running would crash. Each instance ([`plugin_stage`]) runs its calls on a
//! helper thread ([`worker`]) so that a call can be time-boxed; a plugin that overruns is
//! disabled, and its errors are handled as the stage's `on_error` says.
//!
//! What in-process loading cannot contain: a plugin that segfaults, aborts or corrupts memory
//! takes the daemon down with it. Untrusted stages belong out of process (see `PLUGINS.md`).

pub mod library;
pub mod plugin_stage;
mod worker;

pub use library::Library;
pub use plugin_stage::{OnError, PluginSettings, PluginStage};

use std::path::PathBuf;

/// Why a plugin could not be loaded or started.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The file is not there.
    #[error("{}: no such plugin file; build the plugin (e.g. `cargo build --release -p my-stage`) or fix `path`", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The dynamic loader refused the file.
    #[error("{}: cannot load the plugin: {message}; is it a shared library built for this machine?", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// The library exports no v1 entry symbol.
    #[error("{}: not a briefd stage plugin for ABI {expected}: it exports no `{symbol}` symbol{}; export it with `stage_api::export_stage!` or implement `briefd_stage.h`", path.display(), found.map(|v| format!(" (it exports the ABI {v} symbol instead; rebuild it against stage-api {expected}.x)")).unwrap_or_default())]
    MissingSymbol {
        /// The file.
        path: PathBuf,
        /// The symbol looked up.
        symbol: String,
        /// The ABI major of another entry symbol the library does export, if any.
        found: Option<u32>,
        /// The ABI major this host speaks.
        expected: u32,
    },
    /// The library was built for another ABI major.
    #[error("{}: plugin built for stage ABI {found}, but this briefd speaks ABI {expected}; rebuild the plugin against stage-api {expected}.x (or use a briefd that speaks ABI {found})", path.display())]
    AbiMismatch {
        /// The file.
        path: PathBuf,
        /// The plugin's ABI major.
        found: u32,
        /// The host's ABI major.
        expected: u32,
    },
    /// The descriptor is malformed (null, too small, no name).
    #[error("{}: the plugin's descriptor is unusable: {message}; rebuild it against stage-api 1.x", path.display())]
    BadDescriptor {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The plugin refused its options or failed to start.
    #[error("plugin `{name}` did not start: {message}")]
    Create {
        /// The stage name.
        name: String,
        /// The plugin's message.
        message: String,
    },
}
