//! Builds the plugins the tests load: the Rust example and fixture crates through cargo (into
//! the same target folder as this test, so an up-to-date build is a no-op) and the C files with
//! the system C compiler.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Paths of the built plugin libraries.
pub struct Plugins {
    /// `plugins/example-stage`: the topic tagger.
    pub topics: PathBuf,
    /// `plugins/misbehaving-stage`: noop / panic / hang / query by options.
    pub misbehaving: PathBuf,
    /// `plugins/example-c/phrase_filter.c`.
    pub phrase_filter: PathBuf,
    /// The same file built with `-DPHRASE_STORY_STAGE`: a story stage in C.
    pub phrase_tagger: PathBuf,
    /// `plugins/misbehaving-stage/c/wrong_abi.c`.
    pub wrong_abi: PathBuf,
    /// `plugins/misbehaving-stage/c/no_symbol.c`.
    pub no_symbol: PathBuf,
    /// `plugins/misbehaving-stage/c/garbage.c`.
    pub garbage: PathBuf,
    /// `plugins/misbehaving-stage/c/crash.c`: segfault, abort, endless loop or 2 GiB by options.
    pub crash: PathBuf,
    /// `plugins/example-story`: the story tagger (a story stage).
    pub story_topics: PathBuf,
    /// `plugins/misbehaving-stage/c/v1_0.c`: an article stage with stage-api 1.0's descriptor.
    pub v1_0: PathBuf,
    _dir: tempfile::TempDir,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds every test plugin once per test binary.
pub fn plugins() -> &'static Plugins {
    static BUILT: OnceLock<Plugins> = OnceLock::new();
    BUILT.get_or_init(build)
}

fn build() -> Plugins {
    // This binary lives in <target>/<profile>/deps/; cargo puts the libraries in <target>/<profile>/.
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("the test binary sits in <profile>/deps");
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(repo()).args([
        "build",
        "--quiet",
        "-p",
        "example-stage",
        "-p",
        "example-story",
        "-p",
        "misbehaving-stage",
    ]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    let status = cargo.status().expect("running cargo to build the plugins");
    assert!(status.success(), "cargo build of the example plugins failed");
    let library = |crate_name: &str| {
        let path = profile_dir.join(format!(
            "{}{crate_name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
        assert!(
            path.exists(),
            "{} was not built (is CARGO_TARGET_DIR the same for cargo test and cargo build?)",
            path.display()
        );
        path
    };
    let dir = tempfile::tempdir().unwrap();
    let c_with = |source: &str, name: &str, defines: &[&str]| {
        let out = dir.path().join(format!("lib{name}.so"));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let built = Command::new(&cc)
            .args(["-std=c99", "-Wall", "-Werror", "-O2", "-shared", "-fPIC"])
            .args(defines)
            .arg("-I")
            .arg(repo().join("plugins/stage-api"))
            .arg(repo().join(source))
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?} (set CC): {e}"));
        assert!(
            built.status.success(),
            "{source} does not compile:\n{}",
            String::from_utf8_lossy(&built.stderr)
        );
        out
    };
    let c = |source: &str, name: &str| c_with(source, name, &[]);
    Plugins {
        topics: library("example_stage"),
        misbehaving: library("misbehaving_stage"),
        phrase_filter: c("plugins/example-c/phrase_filter.c", "phrase_filter"),
        phrase_tagger: c_with(
            "plugins/example-c/phrase_filter.c",
            "phrase_tagger",
            &["-DPHRASE_STORY_STAGE"],
        ),
        wrong_abi: c("plugins/misbehaving-stage/c/wrong_abi.c", "wrong_abi"),
        garbage: c("plugins/misbehaving-stage/c/garbage.c", "garbage"),
        no_symbol: c("plugins/misbehaving-stage/c/no_symbol.c", "no_symbol"),
        crash: c("plugins/misbehaving-stage/c/crash.c", "crash"),
        story_topics: library("example_story"),
        v1_0: c("plugins/misbehaving-stage/c/v1_0.c", "v1_0"),
        _dir: dir,
    }
}
