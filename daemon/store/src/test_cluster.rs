//! A throwaway PostgreSQL server for tests: one per test binary, started on first use with
//! `initdb` into a temporary folder and `postgres` listening only on a Unix socket in it, and a
//! fresh database per test ([`database`]).
//!
//! The server is started under a small shell that waits on a pipe from the test process: when
//! the test binary exits, however it exits (success, a failed assertion, an abort), the pipe
//! closes, and the shell stops the server and removes the folder. `pg_ctl` would leave the
//! server running after a test binary that died. As root (CI), `initdb` and `postgres` refuse
//! to run, so the shell runs them as the `postgres` user (or `nobody`) through `setpriv`.
//!
//! Every role but `briefd_password` is let in without a password; that one must give its
//! password (`scram-sha-256`), for the tests of a refused password.
//!
//! No PostgreSQL installed is a failure that says what to install, never a skipped test.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The running server of this test binary.
pub struct Cluster {
    socket_dir: PathBuf,
    /// The shell that stops the server when this end of its pipe closes (at exit).
    _keeper: Mutex<(Child, ChildStdin)>,
}

const KEEPER: &str = r#"
set -e
dir="$1"; bin="$2"
# A prefix, not a function: the server must be the background job itself (setpriv execs it),
# so that the signal below reaches it rather than a subshell waiting on it.
as_user=""
if [ "$(id -u)" = 0 ]; then
    if id postgres >/dev/null 2>&1; then user=postgres; else user=nobody; fi
    chown "$user" "$dir"
    as_user="setpriv --reuid=$user --regid=$(id -g "$user") --clear-groups"
fi
$as_user "$bin/initdb" -D "$dir/data" -U briefd --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1
# One role must give its password, for the tests of a refused one: its rule comes first.
{ echo "local all briefd_password scram-sha-256"; cat "$dir/data/pg_hba.conf"; } >"$dir/hba"
cat "$dir/hba" >"$dir/data/pg_hba.conf"
$as_user "$bin/postgres" -D "$dir/data" -k "$dir" -c listen_addresses= -c fsync=off \
    -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 >"$dir/server.log" 2>&1 &
pid=$!
cat >/dev/null || true
# Fast shutdown (the server sets its own handler, so the background job's ignored SIGINT does
# not stop it); a server still there after 10 s is killed.
kill -INT "$pid" 2>/dev/null || true
( sleep 10; kill -KILL "$pid" 2>/dev/null ) &
watchdog=$!
wait "$pid" 2>/dev/null || true
kill "$watchdog" 2>/dev/null || true
rm -rf "$dir"
"#;

/// The folder holding `initdb`, `postgres` and `pg_ctl`: Debian's newest
/// `/usr/lib/postgresql/*/bin`, else the folder of `initdb` on the `PATH`.
fn binaries() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Some(bin);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
}

/// The cluster of this test binary, started on first use. Panics, saying what to install,
/// when PostgreSQL is not installed, and with the server's log when it does not start.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(start)
}

fn start() -> Cluster {
    let bin = binaries().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server programs (initdb, postgres) are not installed, so the PostgreSQL \
             tests cannot run: install the `postgresql` package (apt-get install postgresql)"
        )
    });
    // Under /tmp, not TMPDIR: a Unix socket's path must fit in 107 bytes.
    let dir = tempfile::Builder::new().prefix("briefd-pg-").tempdir_in("/tmp").expect("temp dir").keep();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(KEEPER)
        .arg("sh")
        .arg(&dir)
        .arg(&bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sh");
    let stdin = child.stdin.take().expect("piped");
    let socket = dir.join(".s.PGSQL.5432");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if socket.exists() && postgres::Client::connect(&admin_url(&dir), postgres::NoTls).is_ok() {
            break;
        }
        let exited = child.try_wait().ok().flatten();
        if exited.is_some() || Instant::now() > deadline {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            panic!(
                "the test PostgreSQL server in {} did not start ({}): {stderr}\ninitdb: {}\nserver: {}",
                dir.display(),
                exited.map(|s| s.to_string()).unwrap_or_else(|| "no answer in 60 s".into()),
                log(&dir.join("initdb.log")),
                log(&dir.join("server.log")),
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Cluster { socket_dir: dir, _keeper: Mutex::new((child, stdin)) }
}

fn log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("({e})"))
}

fn admin_url(dir: &Path) -> String {
    format!("postgresql://briefd@/postgres?host={}", dir.display())
}

impl Cluster {
    /// The URL of a database of this cluster (which may not exist).
    pub fn url(&self, database: &str) -> String {
        format!("postgresql://briefd@/{database}?host={}", self.socket_dir.display())
    }

    /// The folder of the server's socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// A new, empty database; returns its URL.
    pub fn database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let mut admin = postgres::Client::connect(&admin_url(&self.socket_dir), postgres::NoTls)
            .expect("connect to the test cluster");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
        self.url(&name)
    }
}

/// A new, empty database on this test binary's cluster; returns its URL.
pub fn database() -> String {
    cluster().database()
}
