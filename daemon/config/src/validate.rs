//! Turns the raw file into a [`Config`], collecting every problem before giving up.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::raw::{RawConfig, RawInbox, RawIsolation, RawPlugin, RawServe, RawStage};
use crate::{
    BriefingSettings, Config, ConfigError, Database, InboxSettings, Paths, PluginConfig, ServeSettings,
    StageConfig,
};

/// The smallest `memory_limit_mib` a plugin process may have.
const MIN_PLUGIN_MEMORY_MIB: u64 = 64;

/// One thing wrong with a configuration, named by its key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where, e.g. `inbox.settle_millis` or `stages[2].max_new_tokens`.
    pub key: String,
    /// What is wrong and what to write instead.
    pub message: String,
    /// The 1-based line and column of the key in the file, when it is written there.
    pub location: Option<(usize, usize)>,
}

impl Problem {
    /// A problem at `key`, not located yet.
    pub fn new(key: &str, message: &str) -> Problem {
        Problem { key: key.to_string(), message: message.to_string(), location: None }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, column)) = self.location {
            write!(f, "{line}:{column}: ")?;
        }
        write!(f, "{}: {}", self.key, self.message)
    }
}

pub(crate) fn validate(path: &Path, raw: RawConfig) -> Result<Config, ConfigError> {
    let mut problems = Problems::default();
    let base = config_folder(path);
    let resolve = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };

    let paths = check_paths(&raw, &resolve, &mut problems);
    let queue_capacity = check_inbox(&raw.inbox, &mut problems);
    let timezone = timezone(&raw.briefing.timezone, &mut problems);
    let serve = raw.serve.as_ref().and_then(|s| check_serve(s, &mut problems));
    let budget = raw.stage_budget_seconds;
    if !(budget > 0.0 && budget <= MAX_STAGE_BUDGET_SECONDS) {
        problems.add(
            "stage_budget_seconds",
            format!(
                "must be above 0 and at most {MAX_STAGE_BUDGET_SECONDS} (a day), found {budget}; 60 suits \
                 most machines"
            ),
        );
    }
    let indexed = stages(raw.stages, &resolve, &mut problems);
    check_stage_order(&indexed, &mut problems);
    check_stage_options(&indexed, &mut problems);

    if !problems.0.is_empty() {
        let plugins = indexed
            .into_iter()
            .filter_map(|(i, stage)| match stage {
                StageConfig::Plugin(p) => Some((i, p)),
                _ => None,
            })
            .collect();
        return Err(ConfigError::Invalid { path: path.to_path_buf(), problems: problems.0, plugins });
    }
    // With no problem, no entry was refused: the positions are those in the file.
    let stages: Vec<StageConfig> = indexed.into_iter().map(|(_, s)| s).collect();
    Ok(Config {
        source: path.to_path_buf(),
        paths,
        inbox: InboxSettings {
            settle: Duration::from_millis(raw.inbox.settle_millis),
            rescan_interval: Duration::from_secs(raw.inbox.rescan_interval_seconds),
            max_file_bytes: raw.inbox.max_file_bytes,
            queue_capacity,
            claim_lease: Duration::from_secs(raw.inbox.claim_lease_seconds),
            heartbeat: Duration::from_secs(raw.inbox.heartbeat_seconds),
        },
        briefing: BriefingSettings {
            timezone,
            debounce: Duration::from_millis(raw.briefing.debounce_millis),
        },
        shutdown_timeout: Duration::from_secs(raw.shutdown_timeout_seconds),
        serve,
        stage_budget: Duration::from_secs_f64(raw.stage_budget_seconds),
        stages,
    })
}

/// The longest stage budget accepted: a day. Longer is no budget at all.
const MAX_STAGE_BUDGET_SECONDS: f64 = 86_400.0;

/// The problems found so far, in the order they were found (which is the order reported).
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, key: &str, message: String) {
        self.0.push(Problem::new(key, &message));
    }
}

/// The folder every relative path in the config is resolved against: the config file's own.
fn config_folder(path: &Path) -> PathBuf {
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::path::absolute(&base).unwrap_or(base)
}

/// The folders and the database, resolved, with what is wrong about where they are.
fn check_paths(raw: &RawConfig, resolve: &dyn Fn(&Path) -> PathBuf, problems: &mut Problems) -> Paths {
    let paths = Paths {
        inbox: resolve(&raw.inbox.path),
        archive: resolve(&raw.archive),
        failed: resolve(&raw.failed),
        briefings: resolve(&raw.briefing.path),
        database: database(&raw.database, resolve, problems),
    };
    for (key, dir) in [
        ("inbox.path", &paths.inbox),
        ("archive", &paths.archive),
        ("failed", &paths.failed),
        ("briefing.path", &paths.briefings),
    ] {
        if dir.exists() && !dir.is_dir() {
            problems.add(key, format!("{} exists but is not a folder; point it at a folder", dir.display()));
        }
    }
    if paths.archive.starts_with(&paths.inbox) || paths.failed.starts_with(&paths.inbox) {
        problems.add(
            "archive",
            "archive and failed must lie outside the inbox, or finished files would be taken again".into(),
        );
    }
    if let Database::File(file) = &paths.database {
        if file.is_dir() {
            problems.add(
                "database",
                format!("{} is a folder; name a file such as state/briefd.db", file.display()),
            );
        }
    }
    paths
}

/// `database:` as a SQLite file or a PostgreSQL URL. A URL of another scheme is refused rather
/// than taken as a file name.
fn database(raw: &Path, resolve: &dyn Fn(&Path) -> PathBuf, problems: &mut Problems) -> Database {
    let Some(text) = raw.to_str() else { return Database::File(resolve(raw)) };
    let Some((scheme, rest)) = text.split_once("://") else { return Database::File(resolve(raw)) };
    if !matches!(scheme, "postgres" | "postgresql") {
        problems.add(
            "database",
            format!("`{scheme}://` is not a database briefd can use: give a file path (SQLite) or a postgres:// URL"),
        );
        return Database::File(resolve(raw));
    }
    let shape = "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE";
    if rest.chars().any(char::is_whitespace) {
        problems.add("database", format!("a PostgreSQL URL holds no spaces; expected {shape}"));
    } else {
        let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let name = tail.split('?').next().unwrap_or("");
        if host.is_empty() && !tail.contains("host=") {
            problems.add("database", format!("the PostgreSQL URL names no host; expected {shape}"));
        } else if name.is_empty() {
            problems.add("database", format!("the PostgreSQL URL names no database; expected {shape}"));
        }
    }
    Database::Postgres(text.to_string())
}

/// The server's address: an IP address and port, reachable from other machines only when
/// `public: true` says so on purpose.
fn check_serve(serve: &RawServe, problems: &mut Problems) -> Option<ServeSettings> {
    let Ok(listen) = serve.listen.trim().parse::<std::net::SocketAddr>() else {
        problems.add(
            "serve.listen",
            format!("expected an IP address and port such as 127.0.0.1:8080, found `{}`", serve.listen),
        );
        return None;
    };
    if !listen.ip().is_loopback() && !serve.public {
        problems.add(
            "serve.listen",
            format!(
                "{listen} is reachable from other machines; add `public: true` under `serve:` to serve there on purpose"
            ),
        );
        return None;
    }
    Some(ServeSettings { listen, public: serve.public })
}

/// Checks the inbox's numbers; returns the queue capacity (1 in place of a refused 0).
fn check_inbox(inbox: &RawInbox, problems: &mut Problems) -> NonZeroUsize {
    if inbox.rescan_interval_seconds == 0 {
        problems.add("inbox.rescan_interval_seconds", "must be at least 1".into());
    }
    if inbox.max_file_bytes == 0 {
        problems.add("inbox.max_file_bytes", "must be at least 1".into());
    }
    if inbox.heartbeat_seconds == 0 {
        problems.add("inbox.heartbeat_seconds", "must be at least 1".into());
    }
    // Three renewals per lease: one late or lost renewal must not let another daemon take over
    // the files of one that is alive.
    if inbox.claim_lease_seconds < 3 * inbox.heartbeat_seconds.max(1) {
        problems.add(
            "inbox.claim_lease_seconds",
            format!(
                "must be at least three heartbeats ({} s with heartbeat_seconds: {}), so that one late renewal does not hand a live daemon's files to another",
                3 * inbox.heartbeat_seconds.max(1),
                inbox.heartbeat_seconds.max(1)
            ),
        );
    }
    NonZeroUsize::new(inbox.queue_capacity).unwrap_or_else(|| {
        problems.add("inbox.queue_capacity", "must be at least 1".into());
        NonZeroUsize::MIN
    })
}

/// The briefing's time zone: `local` or an IANA name (UTC in place of an unknown one).
fn timezone(name: &str, problems: &mut Problems) -> jiff::tz::TimeZone {
    if name == "local" {
        return jiff::tz::TimeZone::system();
    }
    jiff::tz::TimeZone::get(name).unwrap_or_else(|_| {
        problems.add(
            "briefing.timezone",
            format!("unknown time zone {name:?}; write an IANA name such as Europe/Berlin, or local"),
        );
        jiff::tz::TimeZone::UTC
    })
}

/// The stage entries with their positions in the file, paths resolved; a plugin entry that is
/// refused is reported and left out. Keeping the positions lets later problems name the right
/// entry even when an entry before them was refused.
fn stages(
    raw: Vec<RawStage>,
    resolve: &dyn Fn(&Path) -> PathBuf,
    problems: &mut Problems,
) -> Vec<(usize, StageConfig)> {
    if raw.is_empty() {
        problems.add("stages", "lists no stage; start with `- kind: clean`".into());
    }
    let mut indexed: Vec<(usize, StageConfig)> = Vec::new();
    for (i, stage) in raw.into_iter().enumerate() {
        match stage {
            RawStage::Clean(o) => indexed.push((i, StageConfig::Clean(o))),
            RawStage::Dedupe(mut o) => {
                // The encoder's folder, like every path in the config, is relative to its folder.
                if let Some(e) = o.embeddings.as_mut() {
                    e.model_dir = resolve(&e.model_dir);
                }
                indexed.push((i, StageConfig::Dedupe(o)))
            }
            RawStage::Summarize(mut o) => {
                // Like every path in the config, the model file is relative to the config's folder.
                o.model_path = resolve(&o.model_path);
                indexed.push((i, StageConfig::Summarize(o)))
            }
            RawStage::Keypoints(o) => indexed.push((i, StageConfig::Keypoints(o))),
            RawStage::Plugin(p) => match plugin(p, resolve) {
                Ok(p) => indexed.push((i, StageConfig::Plugin(p))),
                Err(message) => problems.add(&format!("stages[{i}] (plugin)"), message),
            },
        }
    }
    indexed
}

/// The first stage must be `clean`, which decodes the file.
fn check_stage_order(indexed: &[(usize, StageConfig)], problems: &mut Problems) {
    match indexed.first() {
        Some((0, StageConfig::Clean(_))) | None => {}
        // Entry 0 was refused: that problem is already reported.
        Some((index, _)) if *index > 0 => {}
        Some((_, other)) => problems.add(
            "stages[0]",
            format!("is `{}`, but the first stage must be `clean`, which decodes the file", other.kind()),
        ),
    }
}

/// Each built-in stage's own checks of its options, and `clean` appearing only first.
fn check_stage_options(indexed: &[(usize, StageConfig)], problems: &mut Problems) {
    for (i, stage) in indexed.iter().map(|(i, s)| (*i, s)) {
        let issues = match stage {
            StageConfig::Clean(o) => o.problems(),
            StageConfig::Dedupe(o) => o.problems(),
            StageConfig::Summarize(o) => o.problems(),
            StageConfig::Keypoints(o) => o.problems(),
            StageConfig::Plugin(_) => Vec::new(),
        };
        for message in issues {
            problems.add(&format!("stages[{i}] ({})", stage.kind()), message);
        }
        if i > 0 && matches!(stage, StageConfig::Clean(_)) {
            problems.add(&format!("stages[{i}]"), "`clean` may appear only once, first".into());
        }
    }
}

/// The plugin entry as data: its settings checked and its path resolved. The library is loaded,
/// and the plugin checks its options, when the pipeline is built.
fn plugin(raw: RawPlugin, resolve: &dyn Fn(&Path) -> PathBuf) -> Result<PluginConfig, String> {
    if raw.timeout_millis == 0 {
        return Err("timeout_millis must be at least 1".into());
    }
    if raw.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err("name is empty; leave it out to use the plugin's own name".into());
    }
    let isolation = match raw.isolation {
        RawIsolation::InProcess => {
            for (key, given) in [
                ("memory_limit_mib", raw.memory_limit_mib.is_some()),
                ("max_consecutive_crashes", raw.max_consecutive_crashes.is_some()),
            ] {
                if given {
                    return Err(format!(
                        "{key} bounds a plugin's own process; it has no effect with isolation: in_process (remove it, or use isolation: process)"
                    ));
                }
            }
            plugin_host::Isolation::InProcess
        }
        RawIsolation::Process => {
            let defaults = plugin_host::ProcessLimits::default();
            let memory_limit_bytes = match raw.memory_limit_mib {
                None => defaults.memory_limit_bytes,
                // The host process itself (briefd's code, the loader, the pipe buffers) needs
                // some room before the plugin allocates anything.
                Some(mib) if mib < MIN_PLUGIN_MEMORY_MIB => {
                    return Err(format!(
                        "memory_limit_mib must be at least {MIN_PLUGIN_MEMORY_MIB}: the plugin host needs that much to start"
                    ))
                }
                Some(mib) => mib.checked_mul(1 << 20).ok_or("memory_limit_mib is too large")?,
            };
            let max_consecutive_crashes = match raw.max_consecutive_crashes {
                None => defaults.max_consecutive_crashes,
                Some(0) => return Err("max_consecutive_crashes must be at least 1".into()),
                Some(n) => n,
            };
            plugin_host::Isolation::Process(plugin_host::ProcessLimits {
                memory_limit_bytes,
                max_consecutive_crashes,
            })
        }
    };
    let settings = plugin_host::PluginSettings {
        name: raw.name,
        on_error: raw.on_error,
        timeout: Duration::from_millis(raw.timeout_millis),
        options: raw.options,
        isolation,
    };
    Ok(PluginConfig { path: resolve(&raw.path), settings })
}

#[cfg(test)]
mod tests {
    use crate::{Config, ConfigError, Database, StageConfig};

    /// Loading is the pipeline's job: a plugin file that is not there is still valid data, its
    /// path resolved against the config's folder and its settings kept as written.
    #[test]
    fn a_plugin_entry_is_data_with_its_path_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: plugin\n    \
                    path: plugins/libnone.so\n    on_error: pass\n    options: { any: [thing] }\n";
        let config = Config::from_yaml(&dir.path().join("c.yaml"), text).expect("valid as data");
        let [_, StageConfig::Plugin(plugin)] = &config.stages[..] else { panic!("{:?}", config.stages) };
        let base = std::path::absolute(dir.path()).unwrap();
        assert_eq!(plugin.path, base.join("plugins/libnone.so"));
        assert_eq!(plugin.settings.on_error, plugin_host::OnError::Pass);
        assert_eq!(plugin.settings.options, serde_json::json!({ "any": ["thing"] }));
        assert_eq!(plugin.settings.isolation, plugin_host::Isolation::default(), "process by default");
    }

    /// Issue 21: `database:` is a SQLite file unless it is a postgres:// URL; a URL briefd
    /// cannot use is refused by its key, never taken as a file name.
    #[test]
    fn a_postgres_url_selects_postgresql_and_a_path_stays_sqlite() {
        let path = std::path::Path::new("/srv/briefd/c.yaml");
        let database = |value: &str| {
            Config::from_yaml(
                path,
                &format!("inbox: {{ path: inbox }}\ndatabase: \"{value}\"\nstages:\n  - kind: clean\n"),
            )
            .map(|c| c.paths.database)
            .map_err(|e| e.to_string())
        };
        assert_eq!(database("state/briefd.db"), Ok(Database::File("/srv/briefd/state/briefd.db".into())));
        for url in
            ["postgres://briefd:pw@db.example:5432/news", "postgresql://briefd@/news?host=/run/postgresql"]
        {
            assert_eq!(database(url), Ok(Database::Postgres(url.into())));
        }
        for (url, needle) in [
            ("mysql://db/news", "`mysql://` is not a database briefd can use"),
            ("postgres://db.example", "names no database"),
            ("postgres:///news", "names no host"),
            ("postgres://db example/news", "holds no spaces"),
        ] {
            let error = database(url).expect_err(url);
            assert!(error.contains("database") && error.contains(needle), "{url}: {error}");
        }
    }

    #[test]
    fn isolation_and_its_limits_are_read_and_checked() {
        let path = std::path::Path::new("c.yaml");
        let entry = |keys: &str| {
            format!("inbox: {{ path: inbox }}\nstages:\n  - kind: clean\n  - kind: plugin\n    path: x.so\n{keys}")
        };
        let isolation = |keys: &str| match &Config::from_yaml(path, &entry(keys)).unwrap().stages[1] {
            StageConfig::Plugin(plugin) => plugin.settings.isolation,
            other => panic!("{other:?}"),
        };
        assert_eq!(isolation("    isolation: in_process\n"), plugin_host::Isolation::InProcess);
        assert_eq!(
            isolation("    isolation: process\n    memory_limit_mib: 256\n    max_consecutive_crashes: 5\n"),
            plugin_host::Isolation::Process(plugin_host::ProcessLimits {
                memory_limit_bytes: 256 << 20,
                max_consecutive_crashes: 5
            })
        );
        for (keys, needle) in [
            ("    isolation: thread\n", "unknown variant `thread`"),
            ("    memory_limit_mib: 8\n", "memory_limit_mib must be at least 64"),
            ("    max_consecutive_crashes: 0\n", "max_consecutive_crashes must be at least 1"),
            (
                "    isolation: in_process\n    memory_limit_mib: 512\n",
                "no effect with isolation: in_process",
            ),
        ] {
            let error = Config::from_yaml(path, &entry(keys)).unwrap_err().to_string();
            assert!(error.contains(needle), "{keys:?}: {error}");
        }
    }

    /// Issue 20: the stage budget is 60 s unless set; a fraction of a second is a budget, zero,
    /// a negative number or more than a day is refused, by its key and line.
    #[test]
    fn the_stage_budget_defaults_to_a_minute_and_must_be_positive() {
        let path = std::path::Path::new("c.yaml");
        let base = "inbox: { path: inbox }
stages:
  - kind: clean
";
        let config = Config::from_yaml(path, base).expect("valid");
        assert_eq!(config.stage_budget, std::time::Duration::from_secs(60));
        let config = Config::from_yaml(
            path,
            &format!(
                "stage_budget_seconds: 0.25
{base}"
            ),
        )
        .expect("valid");
        assert_eq!(config.stage_budget, std::time::Duration::from_millis(250));
        for bad in ["0", "-1", "100000", ".nan"] {
            let text = format!(
                "stage_budget_seconds: {bad}
{base}"
            );
            let Err(ConfigError::Invalid { problems, .. }) = Config::from_yaml(path, &text) else {
                panic!("accepted a budget of {bad}")
            };
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].key, "stage_budget_seconds");
            assert_eq!(problems[0].location, Some((1, 1)), "{bad}");
        }
    }

    /// Issue 21: a daemon's lease is 30 s renewed every 5 s unless set; a heartbeat of zero, or
    /// a lease shorter than three heartbeats, is refused by its key.
    #[test]
    fn the_claim_lease_outlasts_three_heartbeats() {
        let path = std::path::Path::new("c.yaml");
        let with = |inbox: &str| format!("inbox: {{ path: inbox{inbox} }}\nstages:\n  - kind: clean\n");
        let config = Config::from_yaml(path, &with("")).expect("valid");
        assert_eq!(config.inbox.claim_lease, std::time::Duration::from_secs(30));
        assert_eq!(config.inbox.heartbeat, std::time::Duration::from_secs(5));
        let config =
            Config::from_yaml(path, &with(", claim_lease_seconds: 3, heartbeat_seconds: 1")).expect("valid");
        assert_eq!(config.inbox.claim_lease, std::time::Duration::from_secs(3));
        for (bad, key) in [
            (", heartbeat_seconds: 0", "inbox.heartbeat_seconds"),
            (", claim_lease_seconds: 14", "inbox.claim_lease_seconds"),
            (", claim_lease_seconds: 5, heartbeat_seconds: 2", "inbox.claim_lease_seconds"),
        ] {
            let Err(ConfigError::Invalid { problems, .. }) = Config::from_yaml(path, &with(bad)) else {
                panic!("accepted {bad}")
            };
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].key, key, "{bad}");
        }
    }

    /// An invalid config still hands over its plugin entries, at their positions in the file, so
    /// that `check-config` can report their problems with the others.
    #[test]
    fn an_invalid_config_carries_its_plugin_entries() {
        let text = "inbox: { path: inbox }\nbriefing: { timezone: Nowhere/Else }\nstages:\n  \
                    - kind: clean\n  - kind: plugin\n    path: a.so\n    timeout_millis: 0\n  \
                    - kind: plugin\n    path: b.so\n";
        let path = std::path::Path::new("c.yaml");
        let Err(ConfigError::Invalid { problems, plugins, .. }) = Config::from_yaml(path, text) else {
            panic!("accepted an unknown time zone")
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["briefing.timezone", "stages[1] (plugin)"]);
        assert_eq!(plugins.len(), 1);
        assert_eq!(plugins[0].0, 2);
        assert!(plugins[0].1.path.ends_with("b.so"), "{:?}", plugins[0].1.path);
    }

    /// Issue 18: `serve:` is typed and checked with the rest, each problem named by its path and line.
    #[test]
    fn serve_takes_a_loopback_address_or_public_on_purpose() {
        let path = std::path::Path::new("c.yaml");
        let config = |serve: &str| {
            Config::from_yaml(
                path,
                &format!("inbox: {{ path: inbox }}\nserve: {serve}\nstages:\n  - kind: clean\n"),
            )
        };
        let on = config("{ listen: 127.0.0.1:8080 }").expect("valid");
        assert_eq!(
            on.serve.map(|s| (s.listen.to_string(), s.public)),
            Some(("127.0.0.1:8080".into(), false))
        );
        assert_eq!(
            config("{ listen: \"0.0.0.0:80\", public: true }")
                .expect("public on purpose")
                .serve
                .map(|s| s.public),
            Some(true)
        );
        let off = Config::from_yaml(path, "inbox: { path: inbox }\nstages:\n  - kind: clean\n").unwrap();
        assert_eq!(off.serve, None);
        for (serve, key, words) in [
            ("{ listen: 0.0.0.0:8080 }", "serve.listen", "public: true"),
            ("{ listen: localhost }", "serve.listen", "such as 127.0.0.1:8080"),
            ("{ listen: 127.0.0.1:8080, publik: true }", "serve.publik", "did you mean `public`?"),
            ("{ public: true }", "serve", "missing field `listen`"),
        ] {
            let error = config(serve).expect_err(serve).to_string();
            assert!(error.contains(key) && error.contains(words), "{serve}: {error}");
        }
    }

    #[test]
    fn plugin_entries_refuse_unknown_keys_and_zero_timeouts() {
        let path = std::path::Path::new("c.yaml");
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: plugin\n    path: x.so\n    timeout_ms: 5\n";
        let error = Config::from_yaml(path, text).unwrap_err().to_string();
        assert!(
            error.contains("unknown field `timeout_ms`") && error.contains("did you mean `timeout_millis`?"),
            "{error}"
        );
        let text = "inbox: { path: inbox }\nstages:\n  - kind: clean\n  - kind: plugin\n    path: x.so\n    timeout_millis: 0\n";
        let error = Config::from_yaml(path, text).unwrap_err().to_string();
        assert!(error.contains("timeout_millis must be at least 1"), "{error}");
    }
}
