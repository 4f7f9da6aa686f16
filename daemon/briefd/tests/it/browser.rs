//! Issue 18, bar 1: the served pages in a real browser. The daemon takes the seeds, a few saved
//! news pages and a page with a hostile title; `briefd serve` serves the result; headless
//! Chromium, driven by `tests/browser/run.mjs` (Playwright), opens the day and a story page on a
//! desktop and a phone viewport, light and dark, checks the DOM, saves screenshots under
//! `target/browser/` and runs axe-core (a serious or critical violation fails).
//!
//! The test needs node, the system's Chromium and `npm ci` in `tests/browser/` (`.ci/run` sees
//! to all three). Without them it fails, saying what to install: it never passes unrun.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{self, files_in, Env};

/// The saved news pages (of `../shared/eval/extraction/html/`) dropped beside the seeds.
const PAGES: usize = 6;

/// What the hostile page's title holds, which must reach the reader as text.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Fails, naming the fix, when a tool the test needs is missing.
fn require_tools() -> PathBuf {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "node is missing: install Node.js 18 or later (Debian: apt-get install nodejs npm): {node:?}"
    );
    let chromium =
        std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
    assert!(
        chromium.exists(),
        "{} is missing: install it (Debian: apt-get install chromium) or set CHROMIUM",
        chromium.display()
    );
    for package in ["playwright-core", "axe-core"] {
        let path = browser_dir().join("node_modules").join(package);
        assert!(path.exists(), "{} is missing: run `npm ci` in {}", path.display(), browser_dir().display());
    }
    chromium
}

/// `n` saved pages of the extraction set, unzipped into `inbox` (first by name, so every run
/// drops the same ones).
fn drop_pages(inbox: &Path, n: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval/extraction/html");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; the tests need ../shared beside the repo", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".html.gz"))
        .collect();
    names.sort();
    for path in names.into_iter().take(n) {
        let out = Command::new("gzip").arg("-dc").arg(&path).output().unwrap();
        assert!(out.status.success(), "gzip -dc {}: {:?}", path.display(), out);
        let name = path.file_name().unwrap().to_string_lossy().trim_end_matches(".gz").to_string();
        let aside = inbox.parent().unwrap().join(format!(".{name}"));
        std::fs::write(&aside, &out.stdout).unwrap();
        std::fs::rename(&aside, inbox.join(name)).unwrap();
    }
}

#[test]
fn the_served_pages_work_in_headless_chromium_and_pass_axe() {
    let chromium = require_tools();
    let env = Env::new();
    let mut daemon = env.start();
    for seed in ["000_9df954c550cd2be9.txt", "004_74facf148fc9e229.txt"] {
        std::fs::copy(support::shared_sample(seed), env.inbox().join(seed)).unwrap();
    }
    drop_pages(&env.inbox(), PAGES);
    env.drop_file(
        "hostile_title.html",
        &std::fs::read(support::test_data("browser/hostile_title.html")).unwrap(),
    );
    let total = 2 + PAGES + 1;
    env.wait_until("every file archived or failed", Duration::from_secs(120), || {
        env.archived().len() + files_in(&env.failed()).len() == total
    });
    env.wait_for_briefing(
        |md| md.contains("**2 sources**") && md.contains("onerror"),
        Duration::from_secs(30),
    );

    let (mut server, address) = support::start_serve(&env);

    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser");
    let options = serde_json::json!({
        "base": format!("http://{address}"),
        "out": out_dir,
        "hostile": HOSTILE,
        "seed": "Korea-Japan",
    });
    let run = Command::new("node")
        .current_dir(browser_dir())
        .arg("run.mjs")
        .arg(options.to_string())
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    daemon.stop_gracefully();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    // Shown with --nocapture: the figures the report quotes.
    println!("{stdout}");
    assert!(run.status.success(), "the browser checks failed:\n{stdout}\n{stderr}");
    for shot in
        ["day-desktop", "story-desktop", "day-phone", "story-phone", "day-phone-dark", "story-phone-dark"]
    {
        let path = out_dir.join(format!("{shot}.png"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(bytes.starts_with(b"\x89PNG"), "{} is not a PNG", path.display());
    }
}
