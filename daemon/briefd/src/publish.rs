//! Writing a day's briefing: `briefings/YYYY-MM-DD.md`, `.json` and `.html`, then
//! `index.html` (the newest day's page) and `feed.atom` (the stories of the last
//! [`FEED_DAYS`] days). Each file is replaced atomically (temporary file in the same folder,
//! then rename), so a reader never sees half a briefing. Also the debounce that batches many
//! finished articles into one write.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use config::Config;
use store::Store;

/// Days of stories the Atom feed carries.
pub const FEED_DAYS: usize = 7;

/// Days the web page links to.
const LINKED_DAYS: usize = 60;

/// Renders `day` from the store and writes its files, the index and the feed; returns the
/// Markdown. With several daemons on one database, one writes a day at a time (read and
/// write), so the last to write has read the newest stories.
pub fn write_day(config: &Config, store: &Store, day: &str) -> anyhow::Result<String> {
    let _writer = store.lock_day(day)?;
    let views = store.stories_for_day(day)?;
    let stories = briefing::stories(&views);
    let tz = &config.briefing.timezone;
    let markdown = briefing::markdown(day, tz, &stories);
    let json = briefing::json(day, tz, &stories);
    let mut days = store.days(LINKED_DAYS)?;
    if !days.iter().any(|d| d == day) {
        // A day with no story yet still gets its page.
        days.push(day.to_string());
        days.sort_by(|a, b| b.cmp(a));
    }
    let html = briefing::html::day(day, tz, &stories, &days);
    let dir = &config.paths.briefings;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    replace(&dir.join(format!("{day}.md")), &markdown)?;
    replace(&dir.join(format!("{day}.json")), &json)?;
    replace(&dir.join(format!("{day}.html")), &html)?;
    write_index_and_feed(config, store, day, &days, &stories, &html)?;
    Ok(markdown)
}

/// `index.html` (a copy of the newest day's page) and `feed.atom`, from the store.
fn write_index_and_feed(
    config: &Config,
    store: &Store,
    day: &str,
    days: &[String],
    stories: &[briefing::Story],
    html: &str,
) -> anyhow::Result<()> {
    let dir = &config.paths.briefings;
    let tz = &config.briefing.timezone;
    let newest = days.first().map_or(day, String::as_str);
    if newest == day {
        replace(&dir.join("index.html"), html)?;
    } else {
        let newest_stories = briefing::stories(&store.stories_for_day(newest)?);
        replace(&dir.join("index.html"), &briefing::html::day(newest, tz, &newest_stories, days))?;
    }
    let mut by_day: Vec<(String, Vec<briefing::Story>)> = Vec::new();
    for d in days.iter().take(FEED_DAYS) {
        let shown = if d == day { stories.to_vec() } else { briefing::stories(&store.stories_for_day(d)?) };
        by_day.push((d.clone(), shown));
    }
    let feed_days: Vec<briefing::atom::Day<'_>> =
        by_day.iter().map(|(date, stories)| briefing::atom::Day { date, stories }).collect();
    replace(&dir.join("feed.atom"), &briefing::atom::feed(&feed_days, tz))?;
    Ok(())
}

fn replace(path: &Path, content: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // 0666 before the umask, as any file a program creates: tempfile's default of 0600 would
    // leave the briefing unreadable to the web server or the reader's other accounts.
    let mut tmp = tempfile::Builder::new()
        .prefix(".briefing-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(content.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    inbox::durable::sync_open(tmp.as_file()).with_context(|| format!("syncing {}", path.display()))?;
    tmp.persist(path).with_context(|| format!("replacing {}", path.display()))?;
    inbox::durable::sync_dir(dir).with_context(|| format!("syncing {}", dir.display()))?;
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
