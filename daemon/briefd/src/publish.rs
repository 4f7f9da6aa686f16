//! Writing a day's briefing: `briefings/YYYY-MM-DD.md` and `.json`, each replaced atomically
//! (temporary file in the same folder, then rename), so a reader never sees half a briefing.
//! Also the debounce that batches many finished articles into one write.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use config::Config;
use store::Store;

/// Renders `day` from the store and writes both files; returns the Markdown.
pub fn write_day(config: &Config, store: &Store, day: &str) -> anyhow::Result<String> {
    let views = store.stories_for_day(day)?;
    let stories = briefing::stories(&views);
    let tz = &config.briefing.timezone;
    let markdown = briefing::markdown(day, tz, &stories);
    let json = briefing::json(day, tz, &stories);
    let dir = &config.paths.briefings;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    replace(&dir.join(format!("{day}.md")), &markdown)?;
    replace(&dir.join(format!("{day}.json")), &json)?;
    Ok(markdown)
}

fn replace(path: &Path, content: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".briefing-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(content.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("syncing {}", path.display()))?;
    tmp.persist(path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// Days whose briefing needs rewriting; many changes to one day collapse into one entry.
#[derive(Default)]
pub struct Dirty {
    days: Mutex<BTreeSet<String>>,
    /// Wakes the writer.
    pub notify: tokio::sync::Notify,
}

impl Dirty {
    /// Marks `day` as changed.
    pub fn mark(&self, day: &str) {
        self.days.lock().unwrap_or_else(|e| e.into_inner()).insert(day.to_string());
        self.notify.notify_one();
    }

    /// Takes every day marked so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.days.lock().unwrap_or_else(|e| e.into_inner())).into_iter().collect()
    }
}

/// Paths of a day's two briefing files.
pub fn files_for(config: &Config, day: &str) -> (PathBuf, PathBuf) {
    let dir = &config.paths.briefings;
    (dir.join(format!("{day}.md")), dir.join(format!("{day}.json")))
}
