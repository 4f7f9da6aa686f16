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
//! takes the daemon down with it. So by default ([`Isolation::Process`]) the daemon does not
//! load the library at all: [`ProcessStage`] runs it in a `briefd plugin-host` process of its
//! own ([`child`]), speaking the same ABI's JSON over a pipe ([`frame`]), and turns a crash, an
//! overrun or runaway memory there into the failure of one article.
//!
//! A plugin whose descriptor has a `process_story` entry (stage-api 1.4) is a story stage: both
//! hosts then wrap it as a [`stage_api::StoryStage`] too ([`start`] says which kind it is), with
//! the same time box, containment and `on_error`.

pub mod child;
mod frame;
pub mod library;
pub mod plugin_stage;
pub mod process_stage;
mod worker;

pub use library::Library;
pub use plugin_stage::{Isolation, OnError, PluginSettings, PluginStage, ProcessLimits};
pub use process_stage::ProcessStage;

use std::path::{Path, PathBuf};

use stage_api::{Stage, StoryStage};

/// The environment variable naming the program to run as `PROGRAM plugin-host` (a briefd
/// binary); by default the running executable, which is briefd itself. Tests and benchmarks
/// that build pipelines outside the briefd binary set it.
pub const HOST_PROGRAM_VAR: &str = "BRIEFD_PLUGIN_HOST";

/// The program that runs plugin hosts: `$BRIEFD_PLUGIN_HOST`, else the running executable.
pub fn host_program() -> Result<PathBuf, PluginError> {
    if let Some(program) = std::env::var_os(HOST_PROGRAM_VAR) {
        return Ok(PathBuf::from(program));
    }
    std::env::current_exe().map_err(|e| PluginError::Host {
        message: format!("cannot find briefd's own executable to run plugins in: {e}"),
    })
}

/// A started plugin, as the kind of stage it declares itself.
pub enum Started {
    /// An article stage (`process`).
    Article(Box<dyn Stage>),
    /// A story stage (`process_story`, stage-api 1.4).
    Story(Box<dyn StoryStage>),
}

/// Starts the plugin at `path` as its settings' isolation says: loaded into this process, or in
/// a host process of its own; as an article or a story stage, as its descriptor says.
pub fn start(path: &Path, settings: PluginSettings) -> Result<Started, PluginError> {
    match settings.isolation {
        Isolation::InProcess => {
            let library = Library::load(path)?;
            let stage = PluginStage::new(library, settings)?;
            Ok(if library.is_story_stage() {
                Started::Story(Box::new(stage))
            } else {
                Started::Article(Box::new(stage))
            })
        }
        Isolation::Process(_) => {
            let stage = ProcessStage::start(&host_program()?, path, settings)?;
            Ok(if stage.is_story_stage() {
                Started::Story(Box::new(stage))
            } else {
                Started::Article(Box::new(stage))
            })
        }
    }
}

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
    /// The plugin's host process could not load it or failed (the message names the file).
    #[error("{message}")]
    Host {
        /// What went wrong.
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
