//! The `briefd` command line: parses arguments, sets up logging, runs one command, and prints any
//! error once, with its chain of causes. Wiring only: each command is one short function over
//! the library (`briefd::run`, `briefd::ingest`, `briefd::check`, `eval`, ...); the runtime and
//! the shutdown signal live here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use config::Config;
use store::Store;

/// briefd: drop news articles into a folder, read one clean daily briefing.
///
/// Article files (plain text, Markdown, HTML saved from a news site, or JSON) dropped into the
/// inbox run through the stages in config.yaml; the day's briefing (briefings/index.html, .md,
/// .json and an Atom feed) is kept up to date. Nothing leaves the machine.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Examples:\n  briefd run                      # watch ./inbox using ./config.yaml\n  briefd ingest ~/saved/*.html     # process files once and exit\n  briefd status                    # what was done, what failed and why\n  briefd check-config -c my.yaml   # validate a config without running"
)]
struct Cli {
    /// The config file; paths inside it are relative to its folder.
    #[arg(short, long, global = true, default_value = "config.yaml", env = "BRIEFD_CONFIG")]
    config: PathBuf,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the briefing over HTTP: today's page, past days, the Atom feed, /healthz, /metrics.
    ///
    /// Reads the store only, so it runs beside `briefd run`. Listens on the loopback address
    /// unless --public is given.
    #[command(
        after_help = "Example:\n  briefd serve --listen 127.0.0.1:8080 & xdg-open http://127.0.0.1:8080/"
    )]
    Serve {
        /// Address and port to listen on (port 0: any free port, logged).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Allow an address other machines can reach.
        #[arg(long)]
        public: bool,
    },
    /// Set up a folder to run briefd in: a commented config.yaml and the folders it names.
    ///
    /// The config is the one briefd ships (every option explained). Its summarize stage uses a
    /// local model file and its dedupe stage a sentence encoder; init says how to fetch them, or
    /// with --no-model writes `method: extractive` and leaves the encoder out. An existing
    /// config.yaml is never overwritten.
    #[command(
        after_help = "Examples:\n  briefd init ~/news && briefd run -c ~/news/config.yaml\n  briefd init --no-model ."
    )]
    Init {
        /// The folder (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// No model files: extractive summaries, and dedupe without the sentence encoder's veto.
        #[arg(long)]
        no_model: bool,
    },
    /// Print a shell completion script for briefd.
    #[command(
        after_help = "Examples:\n  briefd completions bash > ~/.local/share/bash-completion/completions/briefd\n  briefd completions zsh > ~/.zfunc/_briefd\n  briefd completions fish > ~/.config/fish/completions/briefd.fish"
    )]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print briefd's manual page (roff), made from this command line's own help.
    #[command(after_help = "Example:\n  briefd man > ~/.local/share/man/man1/briefd.1 && man briefd")]
    Man,
    /// Run the daemon: watch the inbox and keep today's briefing up to date until stopped.
    ///
    /// Files are taken once complete: at once when renamed into the inbox (write elsewhere, then
    /// `mv` - the Maildir habit), otherwise once unchanged for inbox.settle_millis. Hidden and
    /// temporary names (.part, .crdownload, .tmp, ~, .swp) wait until renamed. Finished files
    /// move to archive/YYYY-MM-DD/, failed ones to failed/ beside NAME.error.txt. Stop with
    /// Ctrl-C or SIGTERM; work in flight resumes at the next start.
    #[command(
        after_help = "Example:\n  briefd run --config config.yaml\n  cp article.txt inbox/ && cat briefings/$(date +%F).md"
    )]
    Run,
    /// Process the given files (or the files in the given folders) once, then exit.
    ///
    /// The originals stay where they are; copies go to archive/ or failed/. Exits non-zero if any
    /// file failed. Do not run while the daemon runs on the same config (the lock refuses it).
    #[command(after_help = "Example:\n  briefd ingest ../shared/samples/inbox/")]
    Ingest {
        /// Files or folders to process.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Show whether a daemon runs, counts per state and the latest failures with their reasons.
    ///
    /// Only reads: in a folder with no state yet it says so and creates nothing.
    #[command(after_help = "Examples:\n  briefd status --recent 20\n  briefd status --json | jq .files")]
    Status {
        /// How many recent failures and drops to list.
        #[arg(long, default_value_t = 10)]
        recent: usize,
        /// One JSON object instead of text (schema `briefd.status/1`).
        #[arg(long)]
        json: bool,
    },
    /// Validate the config and report every problem at once; exits non-zero if any.
    #[command(after_help = "Example:\n  briefd check-config --config config.yaml")]
    CheckConfig,
    /// Score a stage on a labelled dev set (the layout of ../shared/eval/); one line per figure.
    #[command(
        after_help = "Examples:\n  briefd eval extraction ../shared/eval/extraction\n  briefd eval same-story ../shared/eval/same-story\n  briefd eval keypoints ../shared/eval/summaries"
    )]
    Eval {
        #[command(subcommand)]
        set: EvalSet,
    },
    /// Internal: host one plugin for a running daemon, speaking frames on stdin/stdout.
    ///
    /// The daemon starts one per plugin stage with `isolation: process`; not for people.
    #[command(hide = true)]
    PluginHost {
        /// The plugin library.
        #[arg(long)]
        library: PathBuf,
        /// The process's address-space limit (RLIMIT_AS), in bytes.
        #[arg(long)]
        memory_limit_bytes: Option<u64>,
    },
    /// Rebuild a day's briefing from the store, write it, and print it.
    #[command(after_help = "Example:\n  briefd briefing --date 2025-07-13")]
    Briefing {
        /// The day, YYYY-MM-DD; today (in the config's time zone) by default.
        #[arg(long)]
        date: Option<String>,
    },
    /// Print why an article joined its story (or started one): scores, thresholds, candidates.
    #[command(after_help = "Example:\n  briefd explain 000_9df954c550cd2be9.txt\n  briefd explain 42")]
    Explain {
        /// The article id, or the file name it had in the inbox.
        article: String,
    },
}

#[derive(Subcommand, Debug)]
enum EvalSet {
    /// The ECB+ same-story set: B-cubed and pairwise P/R/F1 against a TF-IDF baseline.
    SameStory {
        /// The set's folder (holding clusters.tsv and text/).
        dir: PathBuf,
        /// Also sweep the thresholds and report leave-topics-out cross-validation.
        #[arg(long)]
        sweep: bool,
        /// A sentence-encoder folder (models/fetch-minilm fills models/all-MiniLM-L6-v2): adds
        /// the embedding signal alone and mixed in, its time per document, and the encoder as a
        /// veto (`min_similarity`) with leave-topics-out cross-validation.
        #[arg(long, value_name = "DIR")]
        embeddings: Option<PathBuf>,
    },
    /// The summarize stage on articles with reference summaries: ROUGE-1/2/L F1 (CNN/DM, XSum,
    /// overall) for what briefd shows, the model alone, the extractive summary and lead-3, with
    /// the guard's rejection rate and reasons. Uses the summarize options of --config.
    Summaries {
        /// Folder holding articles.jsonl.
        dir: PathBuf,
        /// Score only the first N articles.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// The summary guard alone, no model: how often it refuses the true reference summaries
    /// (false rejections) and the same references made false one way (two names swapped, a
    /// number changed, one person's name in another's fact, a negation added), per dataset.
    #[command(after_help = "Example:\n  briefd eval guard ../shared/eval/summaries")]
    Guard {
        /// Folder holding articles.jsonl.
        dir: PathBuf,
    },
    /// The keypoints stage on articles with reference summaries, each a one-source story, against
    /// lead-3 in the same run: grounding rate by an independent checker, ROUGE-1/2 recall of the
    /// reference, redundancy between points. Uses the keypoints options of --config when present.
    #[command(after_help = "Example:\n  briefd eval keypoints ../shared/eval/summaries")]
    Keypoints {
        /// Folder holding articles.jsonl.
        dir: PathBuf,
        /// Score only the first N articles.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// The keypoints stage on pairs of ECB+ documents as two-source stories: how often a point
    /// cites both for two reports of one event, and (false agreements) for two events of the
    /// same kind. Uses the keypoints options of --config when present.
    #[command(after_help = "Example:\n  briefd eval agreement ../shared/eval/same-story")]
    Agreement {
        /// The same-story set's folder (holding clusters.tsv and text/).
        dir: PathBuf,
    },
    /// The clean stage on saved pages and web text: precision, recall, F1 with the benchmark's
    /// token metric, for each HTML extractor and for the text cleaner against keep-everything.
    Extraction {
        /// Folder with html/, text/ and ground-truth.json.
        dir: PathBuf,
    },
    /// One real day of news: the labelled pages run as one inbox through the configured pipeline
    /// (as `ingest` runs them, in a temporary store); the day's briefing scored for grouping
    /// (B-cubed, wrong merges) and for what a reader reads. The model summarizes every article,
    /// so expect minutes (`--no-model` for the extractive summary).
    #[command(after_help = "Example:\n  briefd eval day ../shared/eval/day --write /tmp/day")]
    Day {
        /// The day set's folder (holding clusters.tsv).
        dir: PathBuf,
        /// The folder of <id>.html.gz pages; DIR/../extraction/html by default.
        #[arg(long, value_name = "DIR")]
        pages: Option<PathBuf>,
        /// Keep the day's briefing (YYYY-MM-DD.md, .json and .html, index.html, feed.atom) in this folder.
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
        /// Summarize with `method: extractive` instead of the configured method (no model).
        #[arg(long)]
        no_model: bool,
        /// Also list each headline, summary and key point the reader figures counted.
        #[arg(long)]
        details: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format, default_filter(&cli.command));
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One command, with the config file named on the command line.
fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_path();
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "briefd",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { listen, public } => {
            let config = load(config)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(briefd::serve::serve(config, listen, public, shutdown_signal()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { dir, no_model } => {
            print!("{}", briefd::init::init(&dir, !no_model)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut std::io::stdout())
                .context("writing the manual page")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run => serve(config),
        Command::Ingest { paths } => ingest(config, &paths),
        Command::Status { recent, json } => status(config, recent, json),
        Command::CheckConfig => check_config(config),
        Command::Eval { set } => eval(config, set),
        Command::Briefing { date } => briefing(config, date.as_deref()),
        Command::Explain { article } => explain(config, &article),
        Command::PluginHost { library, memory_limit_bytes } => {
            plugin_host::child::serve(&library, memory_limit_bytes)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The log filter unless `BRIEFD_LOG` gives one.
fn default_filter(command: &Command) -> &'static str {
    match command {
        // An evaluation runs thousands of articles through the pipeline: its per-article lines
        // (story merges) would bury the evaluation's own; BRIEFD_LOG still shows them.
        Command::Eval { .. } => "info,trafilatura=warn,pipeline=warn",
        _ => "info,trafilatura=warn",
    }
}

fn init_logging(format: LogFormat, default_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("BRIEFD_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(briefd::terminal::Stderr::new);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().with_current_span(true).init(),
    }
}

fn load(path: &Path) -> anyhow::Result<Config> {
    // The error already names the file, line and column; no extra context needed.
    Ok(Config::load(path)?)
}

/// `briefd run`: the daemon on a multi-threaded runtime until SIGINT or SIGTERM.
fn serve(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = load(config_path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let reloads = reload_signal();
        briefd::daemon::run_with_reloads(config, shutdown_signal(), reloads).await
    })?;
    // The pipeline thread may still be inside a long stage after the shutdown timeout;
    // everything is recorded, so leaving without waiting for it is safe.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(ExitCode::SUCCESS)
}

/// `briefd ingest PATH...`: the files once, with a progress bar on a terminal; fails if any did.
fn ingest(config_path: &Path, paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let config = load(config_path)?;
    let files = briefd::ingest::expand(paths)?;
    let bar = progress_bar(files.len());
    if let Some(bar) = &bar {
        briefd::terminal::show_bar(bar);
    }
    let summary = briefd::ingest::ingest(config, &files, |report| {
        if let Some(bar) = &bar {
            bar.set_message(report.file.clone());
            bar.inc(1);
        }
        if let briefd::worker::Outcome::Failed { stage, reason } = &report.outcome {
            let line = format!("failed: {}: {stage}: {reason}", report.file);
            match &bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
    })?;
    if let Some(bar) = bar {
        briefd::terminal::hide_bar();
        bar.finish_and_clear();
    }
    println!("ingested {summary}");
    Ok(if summary.failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// A bar of `len` steps when stderr is a terminal (a bar in a log file is noise).
fn progress_bar(len: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let style = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {wide_msg}");
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(style.expect("valid template"));
    Some(bar)
}

/// `briefd status`: counts per state and the latest failures and drops.
fn status(config_path: &Path, recent: usize, json: bool) -> anyhow::Result<ExitCode> {
    let config = load(config_path)?;
    let location = briefd::location(&config.paths.database);
    let store = Store::open_read_only_at(&location)?;
    let daemon = match (&location, &store) {
        // Daemons on PostgreSQL share the inbox's lock; the database knows which are alive.
        (store::Location::Postgres(_), Some(store)) => (!store.live_daemons()?.is_empty()).then_some(None),
        (store::Location::Postgres(_), None) => None,
        (store::Location::File(_), _) => {
            briefd::lock::holder(&config.paths.database, &config.paths.processing())
        }
    };
    let report = match store {
        Some(store) => Some(store.status(recent)?),
        None => None,
    };
    let model = config.stages.iter().find_map(|stage| match stage {
        config::StageConfig::Summarize(o) if o.method.as_str() == "model" => Some(o.model_path.as_path()),
        _ => None,
    });
    let inbox = (
        briefd::status::count_files(&config.paths.inbox),
        briefd::status::count_files(&config.paths.processing()),
    );
    let database = location.display();
    let view = briefd::status::View {
        database: &database,
        daemon,
        report: report.as_ref(),
        inbox,
        model: model.map(|path| (path, path.is_file())),
    };
    if json {
        println!("{}", briefd::status::json(&view));
    } else {
        print!("{}", briefd::status::text(&view));
    }
    Ok(ExitCode::SUCCESS)
}

/// `briefd check-config`: the pipeline `run` would build, or every problem.
fn check_config(config_path: &Path) -> anyhow::Result<ExitCode> {
    let pipeline = briefd::check::check_config(config_path)?;
    println!("{}: ok; stages: {}", config_path.display(), pipeline.stage_names().join(" -> "));
    Ok(ExitCode::SUCCESS)
}

/// `briefd eval SET DIR`: the set's evaluation, with the stage options of the config.
fn eval(config_path: &Path, set: EvalSet) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout();
    match set {
        EvalSet::SameStory { dir, sweep, embeddings } => {
            let options = eval::options::dedupe(config_path)?;
            print!("{}", eval::same_story::run(&dir, &options, sweep, embeddings.as_deref())?);
        }
        EvalSet::Summaries { dir, limit } => {
            let options = eval::options::summarize(config_path)?;
            let model_path = options.model_path.clone();
            eval::summaries::run(&dir, &model_path, options, limit, &mut out)?;
        }
        EvalSet::Guard { dir } => eval::guard::run(&dir, &mut out)?,
        EvalSet::Keypoints { dir, limit } => {
            eval::keypoints::run(&dir, eval::options::keypoints(config_path)?, limit, &mut out)?;
        }
        EvalSet::Agreement { dir } => {
            print!("{}", eval::agreement::run(&dir, &eval::options::keypoints(config_path)?)?);
        }
        EvalSet::Extraction { dir } => eval::extraction::run(&dir)?,
        EvalSet::Day { dir, pages, write, no_model, details } => {
            let config = load(config_path)?;
            let options = briefd::day_eval::Options { pages, write, no_model, details };
            briefd::day_eval::run(&dir, config, &options, &mut out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `briefd briefing [--date DAY]`: rebuilds the day's briefing from the store, writes and prints it.
fn briefing(config_path: &Path, date: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = load(config_path)?;
    let day = match date {
        Some(d) => {
            let parsed: jiff::civil::Date =
                d.parse().with_context(|| format!("--date {d:?} is not a date; write it as YYYY-MM-DD"))?;
            parsed.to_string()
        }
        None => briefd::today(&config.briefing.timezone),
    };
    let store = Store::open_at(&briefd::location(&config.paths.database))?;
    print!("{}", briefd::publish::write_day(&config, &store, &day)?);
    Ok(ExitCode::SUCCESS)
}

/// `briefd explain ARTICLE`: why each article of that id or file name is in its story.
fn explain(config_path: &Path, query: &str) -> anyhow::Result<ExitCode> {
    let config = load(config_path)?;
    let location = briefd::location(&config.paths.database);
    let store = Store::open_read_only_at(&location)?
        .with_context(|| format!("no state yet at {}: nothing was processed", location.display()))?;
    let files = store.find_files(query)?;
    let articles = store.find_articles(query)?;
    anyhow::ensure!(
        !files.is_empty() || !articles.is_empty(),
        "no file or article with id or file name {query:?}; `briefd status` lists recent files"
    );
    let mut shown = std::collections::BTreeSet::new();
    for file in &files {
        let gave = store.file_articles(file.id)?;
        print!("{}", briefd::explain_file(file, &gave));
        for stored in gave {
            shown.insert(stored.article_id);
            explain_article(&store, &stored)?;
        }
    }
    for stored in articles.iter().filter(|a| !shown.contains(&a.article_id)) {
        println!("article {}:", stored.article_id);
        explain_article(&store, stored)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn explain_article(store: &Store, stored: &stage_api::StoredArticle) -> anyhow::Result<()> {
    let merges = store.story_merges(stored.story_id)?;
    print!("{}", briefd::explain(stored, &merges));
    if let Some(record) = store.editor_record(stored.story_id)? {
        print!("{}", briefd::explain_editor(&record));
    }
    for store::StoryStageOutcome { stage, revision, outcome, detail } in
        store.story_stage_outcomes(stored.story_id)?
    {
        let what = match (outcome, detail) {
            (store::StageOutcome::Continue, _) => "set its fields".to_string(),
            (store::StageOutcome::Drop, detail) => format!("set nothing: {}", detail.unwrap_or_default()),
            (store::StageOutcome::Fail, detail) => format!("failed: {}", detail.unwrap_or_default()),
        };
        println!("  story stage {stage} (revision {revision}): {what}");
    }
    Ok(())
}

/// One message per SIGHUP, from now on (so SIGHUP no longer ends the process).
fn reload_signal() -> Option<tokio::sync::mpsc::Receiver<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; reload the config by restarting briefd");
            return None;
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            // A reload already waiting covers this one too.
            let _ = tx.try_send(());
        }
    });
    Some(rx)
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops briefd");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
