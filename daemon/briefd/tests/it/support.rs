//! Helpers for driving the real binary: a temporary root with a config, an inbox and the
//! daemon's folders; waiting against deadlines, never bare sleeps.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub fn test_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

/// A file of `../shared/samples/inbox/` (the repo's sibling folder, as in CI).
pub fn shared_sample(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/inbox").join(name);
    assert!(path.exists(), "{} is missing: the tests need ../shared beside the repo", path.display());
    path
}

pub fn today_utc() -> String {
    jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date().to_string()
}

/// Regular files under `dir` (recursively), skipping hidden names and error reports.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => out.extend(files_in(&path)),
            _ if name.ends_with(".error.txt") => {}
            _ => out.push(path),
        }
    }
    out
}

/// A small deterministic generator, so a failing run can be repeated.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A distinct, plausible article for number `i`.
pub fn article_text(i: usize) -> String {
    const PLACES: [&str; 6] = ["Lisbon", "Osaka", "Nairobi", "Quito", "Tallinn", "Perth"];
    const THINGS: [&str; 5] = ["bridge", "library", "tram line", "harbour wall", "market hall"];
    let place = PLACES[i % PLACES.len()];
    let thing = THINGS[(i / PLACES.len()) % THINGS.len()];
    format!(
        "City of {place} opens {thing} number {i}\n\n\
         The council of {place} opened {thing} number {i} on Monday after {years} years of work, officials said.\n\n\
         About {people} residents attended the ceremony, and the project cost {cost} million euros in total.\n",
        years = 2 + i % 7,
        people = 100 + i * 3,
        cost = 10 + i % 50,
    )
}

pub struct Env {
    dir: tempfile::TempDir,
}

pub struct Daemon {
    child: Child,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits (bounded) for the process to exit on its own and returns how it ended.
    pub fn wait_for_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "briefd did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Peak resident set size (VmHWM) in KiB, from `/proc/<pid>/status`.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait (bounded) for exit.
    pub fn stop_gracefully(&mut self) -> ExitStatus {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "briefd did not stop within 15 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(test_data("config.yaml"), dir.path().join("config.yaml")).unwrap();
        std::fs::create_dir_all(dir.path().join("inbox")).unwrap();
        Env { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn inbox(&self) -> PathBuf {
        self.root().join("inbox")
    }
    pub fn failed(&self) -> PathBuf {
        self.root().join("failed")
    }
    pub fn briefings(&self) -> PathBuf {
        self.root().join("briefings")
    }
    pub fn archived(&self) -> Vec<PathBuf> {
        files_in(&self.root().join("archive"))
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_briefd"));
        cmd.arg("--config").arg(self.root().join("config.yaml")).env("BRIEFD_LOG", "warn");
        cmd
    }

    pub fn start(&self) -> Daemon {
        self.start_with(|_| {})
    }

    /// Starts the daemon after `configure` adjusted the command (limits, user, ...).
    pub fn start_with(&self, configure: impl FnOnce(&mut Command)) -> Daemon {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root().join("daemon.log"))
            .unwrap();
        let mut cmd = self.command();
        // Through a pipe, not straight into the file: a test that limits the daemon's file sizes
        // (a simulated full disk) still sees every line it logs.
        cmd.arg("run").stdout(Stdio::null()).stderr(Stdio::piped());
        configure(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut log = log;
            let _ = std::io::copy(&mut stderr, &mut log);
        });
        Daemon { child }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root().join("daemon.log")).unwrap_or_default()
    }

    fn output(&self, args: &[&str]) -> (bool, String) {
        let out = self.command().args(args).output().unwrap();
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    /// Runs a command that must succeed; returns stdout and stderr.
    pub fn briefd(&self, args: &[&str]) -> String {
        let (ok, text) = self.output(args);
        assert!(ok, "briefd {args:?} failed: {text}");
        text
    }

    /// Runs a command that must fail; returns stdout and stderr.
    pub fn briefd_fails(&self, args: &[&str]) -> String {
        let (ok, text) = self.output(args);
        assert!(!ok, "briefd {args:?} succeeded: {text}");
        text
    }

    /// Writes `content` aside, then renames it into the inbox.
    pub fn drop_file(&self, name: &str, content: &[u8]) {
        let aside = self.root().join(format!(".drop-{name}"));
        std::fs::write(&aside, content).unwrap();
        std::fs::rename(&aside, self.inbox().join(name)).unwrap();
    }

    pub fn briefing_today(&self) -> String {
        std::fs::read_to_string(self.briefings().join(format!("{}.md", today_utc()))).unwrap_or_default()
    }

    pub fn wait_until(&self, what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + limit;
        while !done() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.root().join("daemon.log")).unwrap_or_default();
                panic!("timed out after {limit:?} waiting for: {what}\ndaemon log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for a briefing `ready` accepts that has stood unchanged for 1.5 s (three debounce
    /// windows): the briefing follows every committed change, so one written between an
    /// article's commit and its story stages shows the new source with the old points for a
    /// moment. For tests that judge the points once the daemon is idle.
    pub fn wait_for_settled_briefing(&self, mut ready: impl FnMut(&str) -> bool, limit: Duration) -> String {
        let path = self.briefings().join(format!("{}.md", today_utc()));
        let settled = || {
            std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > Duration::from_millis(1500)))
        };
        self.wait_for_briefing(|md| ready(md) && settled(), limit)
    }

    /// Waits for a briefing `ready` accepts; on a timeout the panic shows the last one read.
    pub fn wait_for_briefing(&self, mut ready: impl FnMut(&str) -> bool, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let last = self.briefing_today();
            if ready(&last) {
                return last;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.root().join("daemon.log")).unwrap_or_default();
                panic!("timed out after {limit:?} waiting for the briefing; the last one:\n{last}\ndaemon log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// How many sources the briefing lists, from its "N stories · M sources" line. Dedupe may group
/// similar generated articles into one story, so tests about files count sources, not stories.
pub fn sources_in(briefing: &str) -> usize {
    briefing
        .lines()
        .find_map(|l| l.split(" · ").nth(1))
        .and_then(|part| part.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The address (`host:port`) a `briefd serve` or `briefd run` log line says it serves at.
pub fn served_address(line: &str) -> Option<String> {
    line.split("address=http://").nth(1).map(|a| a.trim_end_matches('/').to_string())
}

/// `briefd serve` on a free loopback port over `env`'s config: the child and its address, once
/// it logs one. The rest of its log is read away in the background so it never blocks.
pub fn start_serve(env: &Env) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut server = Command::new(env!("CARGO_BIN_EXE_briefd"))
        .arg("--config")
        .arg(env.root().join("config.yaml"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("BRIEFD_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("briefd serve starts");
    let mut lines = BufReader::new(server.stderr.take().expect("stderr is piped")).lines();
    let address =
        lines.by_ref().map_while(Result::ok).find_map(|l| served_address(&l)).expect("the address logged");
    std::thread::spawn(move || lines.for_each(drop));
    (server, address)
}
