//! `carteiro import`: reads Postfix log archives (plain or gzip) through the
//! MailFlow engine into the database, resuming where an interrupted run
//! stopped, and reports what they contained.
//!
//! Each file is checkpointed under its fingerprint (its first line), so a
//! file imported again — even renamed or gzipped by logrotate — continues
//! from where it was, never counting a line twice.

use crate::config::Config;
use crate::ingest::source::{self, LogReader};
use crate::ingest::store::{self, Checkpoint};
use crate::ingest::{self, ReadAhead, RunOptions};
use anyhow::{Context, Result, bail};
use chrono::Datelike;
use mailflow::count::{Counter, Totals};
use mailflow::coverage::Coverage;
use mailflow::detect::Proposal;
use mailflow::syslog::YearGuess;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Json,
    Text,
}

pub struct Options {
    pub files: Vec<PathBuf>,
    pub dry_run: bool,
    pub report: Option<ReportFormat>,
    /// The year of classic timestamps at the start of each file.
    pub year: Option<i32>,
    /// Run abuse detection (and store its proposals, unless a dry run).
    pub detect: bool,
}

/// The `--report json` object. Keys are stable; later versions add keys.
#[derive(Serialize)]
pub struct Report {
    /// Log times (Unix seconds) of the first and the last line read.
    pub first_at: Option<i64>,
    pub last_at: Option<i64>,
    pub lines: u64,
    pub unparsed: u64,
    pub totals: Totals,
    pub reject_classes: std::collections::BTreeMap<String, u64>,
    pub sasl_auth_failures: u64,
    pub elapsed_s: f64,
    /// What happened to each file.
    pub files: Vec<FileReport>,
    /// The blocks detection proposed (or would have, in a dry run).
    pub proposals: Vec<ProposalReport>,
    /// Rates far above their usual (SASL failures, rejects of a class).
    pub alerts: Vec<crate::defence::detection::AlertReport>,
    /// What an operator must look at, per file (see [`WarningReport`]).
    pub warnings: Vec<WarningReport>,
}

/// A file the engine did not read well: many Postfix lines and almost no
/// events (`no_events`: a syslog format it does not read), or repeat
/// lines over the cap (`repeats_capped`). See [`mailflow::coverage`].
#[derive(Serialize)]
pub struct WarningReport {
    pub file: String,
    /// A stable machine name.
    pub kind: &'static str,
    pub message: String,
}

impl WarningReport {
    fn of(file: &Path, coverage: &Coverage) -> impl Iterator<Item = Self> {
        let file = file.display().to_string();
        coverage.warnings().into_iter().map(move |w| Self {
            file: file.clone(),
            kind: w.kind,
            message: w.message,
        })
    }
}

/// A proposal as the report shows it; times are RFC 3339, UTC.
#[derive(Serialize)]
pub struct ProposalReport {
    pub subject: &'static str,
    pub target: String,
    pub policy: String,
    pub reasons: std::collections::BTreeMap<String, u64>,
    pub first_seen: String,
    pub last_seen: String,
}

impl From<&Proposal> for ProposalReport {
    fn from(p: &Proposal) -> Self {
        let time = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default()
        };
        Self {
            subject: p.subject.name(),
            target: p.target.clone(),
            policy: p.policy.clone(),
            reasons: p.reasons.clone(),
            first_seen: time(p.first_seen),
            last_seen: time(p.last_seen),
        }
    }
}

#[derive(Serialize)]
pub struct FileReport {
    pub path: String,
    /// Lines read in this run.
    pub lines: u64,
    /// Byte offset (of the decompressed content) this run started from:
    /// non-zero when an earlier run was interrupted or the file grew.
    pub resumed_from: u64,
}

pub async fn run(cfg: &Config, opts: Options) -> Result<()> {
    if opts.files.is_empty() {
        bail!("name at least one log file");
    }
    for f in &opts.files {
        if !f.is_file() {
            bail!("{} is not a readable file", f.display());
        }
    }
    let started = Instant::now();
    let mut db_cfg = cfg.database.clone();
    // One connection: the import writes one batch after another, and on
    // SQLite a connection keeps its page cache only while no other
    // connection writes (for `:memory:`, each would be a database of its own).
    db_cfg.max_connections = 1;
    // A dry run writes to a throw-away database: in memory when only the
    // counts are reported; in a temporary file when the text report needs
    // the messages stored (a day of them would not fit in memory).
    let scratch = match (opts.dry_run, opts.report) {
        (false, _) => None,
        (true, Some(ReportFormat::Json)) => {
            db_cfg.url = "sqlite::memory:".into();
            None
        }
        (true, _) => {
            let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
            db_cfg.url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("dry-run.db").display()
            );
            Some(dir)
        }
    };
    let db = crate::db::open(&db_cfg).await?;
    let mut report = import(&db, cfg, &opts).await?;
    report.elapsed_s = started.elapsed().as_secs_f64();
    match opts.report {
        Some(ReportFormat::Json) => println!("{}", serde_json::to_string(&report)?),
        Some(ReportFormat::Text) | None => {
            if let (Some(first), Some(last)) = (report.first_at, report.last_at) {
                let now = chrono::Utc::now().timestamp();
                let full = app::server::report::report(
                    &db,
                    &cfg.mailgraph_settings(),
                    first,
                    last + 1,
                    now,
                )
                .await?;
                println!("{}", app::server::report::text(&full));
            }
            print!("{}", text_report(&report));
        }
    }
    if opts.report.is_none() {
        // Seen even when standard output goes to a file.
        for w in &report.warnings {
            eprintln!("carteiro import: warning: {}: {}", w.file, w.message);
        }
    }
    db.close().await.ok();
    drop(scratch);
    Ok(())
}

/// Reads `opts.files` into `db` (a dry run stores nothing) and reports.
pub async fn import(db: &DatabaseConnection, cfg: &Config, opts: &Options) -> Result<Report> {
    let started = Instant::now();
    let rules = store::reject_rules(db).await?;
    // A dry run counts into a throw-away database (see `run`). Only the
    // text report, built from what is stored, needs the messages traced.
    let keep = !opts.dry_run || opts.report != Some(ReportFormat::Json);
    let mut settings = cfg.engine_settings()?;
    settings.traces = keep;
    settings.domains = store::hosted_domains(db).await?;
    let idle = settings.limits.idle_secs;
    let mut counter = Counter::new(settings, rules, opts.year.unwrap_or(0));
    if opts.detect {
        counter.detect_with(crate::defence::detection::detector(db).await?);
    }
    let run_opts = RunOptions {
        batch_lines: cfg.mailflow.batch_lines.max(1),
        archive: true,
        store: keep,
    };
    let mut progress = Progress::new(&opts.files);
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let mut plan = Planned::all(in_time_order(&opts.files, opts.year)?)?;
    for k in 0..plan.len() {
        // The next files are read and parsed while this one is counted.
        for next in plan.iter_mut().skip(k + 1).take(files_ahead()) {
            next.start_ahead(db).await?;
        }
        let file = &mut plan[k];
        let before = counter.lines;
        if file.fp.is_none() {
            files.push(FileReport {
                path: file.path.display().to_string(),
                lines: 0,
                resumed_from: 0,
            });
            continue;
        }
        let (cp, ahead) = file.start(db, 0).await?;
        let path = file.path.as_path();
        counter.resume_years(cp.years);
        if let Some(at) = ingest::first_time(path, cp.offset, cp.years)? {
            ingest::preload(db, &mut counter, at, idle).await?;
        }
        let resumed_from = cp.offset;
        progress.start_file(path, ahead.gzip, cp.offset);
        counter.coverage = Coverage::default();
        let (c, _, result) = ingest::run_ahead(
            db,
            counter,
            ahead,
            cp,
            run_opts,
            &ingest::Stop::default(),
            |cp| progress.tick(cp.offset),
        )
        .await;
        counter = c;
        result.with_context(|| format!("import of {} stopped", path.display()))?;
        progress.file_done(path);
        warnings.extend(WarningReport::of(path, &counter.coverage));
        files.push(FileReport {
            path: path.display().to_string(),
            lines: counter.lines - before,
            resumed_from,
        });
    }
    progress.finish(counter.lines);
    let report = Report {
        first_at: counter.first_at,
        last_at: counter.last_at,
        lines: counter.lines,
        unparsed: counter.unparsed,
        totals: counter.totals,
        reject_classes: counter
            .reject_classes()
            .map(|(k, n)| (k.to_string(), n))
            .collect(),
        sasl_auth_failures: counter.sasl_failures,
        elapsed_s: started.elapsed().as_secs_f64(),
        files,
        proposals: counter
            .proposals()
            .iter()
            .map(ProposalReport::from)
            .collect(),
        alerts: counter.alerts().iter().map(Into::into).collect(),
        warnings,
    };
    Ok(report)
}

/// How many files after the one being counted are read and parsed at the
/// same time: one per core beyond the two that the file being counted
/// keeps busy (its reading thread and the counter), at most 3 (the counter
/// takes one file at a time: more would only hold more memory). None on
/// two cores: there a third thread only took time from the other two
/// (4 gzip files of 2 M lines in all: 0.69 s against 0.59 s, 110 MB more).
fn files_ahead() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get().saturating_sub(2).min(3))
}

/// Blocks a file read ahead may hold before the counter reaches it: 16 MiB
/// of lines, about 40 MiB with their parsed headers and events (see
/// [`ingest::ReadAhead::start`]).
const AHEAD_BLOCKS: usize = (16 << 20) / ingest::BLOCK;

/// A file to import, in the order of the run: its fingerprint, and once
/// started, its checkpoint and its reading thread.
struct Planned {
    path: PathBuf,
    year: i32,
    /// `None`: an empty file.
    fp: Option<String>,
    /// A file earlier in the run has the same fingerprint (a copy, or the
    /// same file named twice): its checkpoint is known only once that one
    /// is read, so it is not read ahead.
    copy: bool,
    started: Option<(Checkpoint, ReadAhead)>,
}

impl Planned {
    fn all(files: Vec<(PathBuf, i32)>) -> Result<Vec<Self>> {
        let mut seen = std::collections::HashSet::new();
        files
            .into_iter()
            .map(|(path, year)| {
                let fp = source::fingerprint(&path, true)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let copy = fp.as_ref().is_some_and(|fp| !seen.insert(fp.clone()));
                Ok(Self {
                    path,
                    year,
                    fp,
                    copy,
                    started: None,
                })
            })
            .collect()
    }

    /// Begins reading ahead, unless begun, empty or a copy.
    async fn start_ahead(&mut self, db: &DatabaseConnection) -> Result<()> {
        if self.started.is_none() && self.fp.is_some() && !self.copy {
            self.started = Some(self.start(db, AHEAD_BLOCKS).await?);
        }
        Ok(())
    }

    /// The checkpoint to continue from and the reading from it: begun
    /// ahead, or now (holding `depth` blocks).
    async fn start(
        &mut self,
        db: &DatabaseConnection,
        depth: usize,
    ) -> Result<(Checkpoint, ReadAhead)> {
        if let Some(started) = self.started.take() {
            return Ok(started);
        }
        let fp = self.fp.clone().unwrap_or_default();
        let source = format!("import:{fp}");
        let mut cp = match store::checkpoint(db, &source).await? {
            Some(cp) => cp,
            None => Checkpoint {
                source,
                file_id: fp,
                path: String::new(),
                offset: 0,
                years: YearGuess::new(self.year),
                lines: 0,
                last_log_at: None,
            },
        };
        cp.path = std::path::absolute(&self.path)?.display().to_string();
        let reader = LogReader::open(&self.path, cp.offset)?;
        let ahead = ReadAhead::start(reader, true, cp.years, depth);
        Ok((cp, ahead))
    }
}

/// `files` in the order their first lines were logged, each with the year
/// its classic timestamps start in (`year`, or guessed). Archives are often
/// named newest first (`mail.log.1 mail.log.2.gz`), but correlation and
/// detection follow log time: read in time order, the same lines give the
/// same counts and proposals whatever order they were named in. Files with
/// no dated line keep their order, after the others.
fn in_time_order(files: &[PathBuf], year: Option<i32>) -> Result<Vec<(PathBuf, i32)>> {
    let mut dated = Vec::with_capacity(files.len());
    for path in files {
        let read = || format!("cannot read {}", path.display());
        let year = match year {
            Some(y) => y,
            None => initial_year(path).with_context(read)?,
        };
        let first = ingest::first_time(path, 0, YearGuess::new(year)).with_context(read)?;
        dated.push((first.unwrap_or(i64::MAX), path.clone(), year));
    }
    // Stable: files starting in the same second keep the order given.
    dated.sort_by_key(|(first, _, _)| *first);
    Ok(dated
        .into_iter()
        .map(|(_, path, year)| (path, year))
        .collect())
}

/// The year of the first classic timestamp: the file's modification year,
/// or the one before when the first line's month is after the modification
/// month (a log that began in December and was last written in January).
fn initial_year(path: &Path) -> Result<i32> {
    let modified: chrono::DateTime<chrono::Utc> = std::fs::metadata(path)?.modified()?.into();
    let year = modified.year();
    let first = ingest::first_time(path, 0, YearGuess::new(year))?;
    Ok(
        match first.and_then(|t| chrono::DateTime::from_timestamp(t, 0)) {
            Some(at) if at > modified + chrono::Duration::days(1) => year - 1,
            _ => year,
        },
    )
}

/// A one-line progress display on standard error, only on a terminal.
struct Progress {
    enabled: bool,
    files: usize,
    done: usize,
    started: Instant,
    last: Instant,
    size: u64,
    gzip: bool,
}

impl Progress {
    fn new(files: &[PathBuf]) -> Self {
        let now = Instant::now();
        Self {
            enabled: std::io::stderr().is_terminal(),
            files: files.len(),
            done: 0,
            started: now,
            last: now,
            size: 0,
            gzip: false,
        }
    }

    fn start_file(&mut self, path: &Path, gzip: bool, offset: u64) {
        self.size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        self.gzip = gzip;
        if self.enabled && offset > 0 {
            eprintln!(
                "  {}: resuming at byte {offset} (already imported before)",
                path.display()
            );
        }
    }

    fn tick(&mut self, offset: u64) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.last = Instant::now();
        let mb = offset as f64 / 1e6;
        let rate = mb / self.started.elapsed().as_secs_f64().max(1e-9);
        let share = if self.gzip || self.size == 0 {
            String::new()
        } else {
            format!(" ({:.0}%)", 100.0 * offset as f64 / self.size as f64)
        };
        eprint!(
            "\r\x1b[2K  file {}/{}  {mb:.0} MB{share}  {rate:.0} MB/s ",
            self.done + 1,
            self.files,
        );
        let _ = std::io::stderr().flush();
    }

    fn file_done(&mut self, path: &Path) {
        self.done += 1;
        if self.enabled {
            eprint!(
                "\r\x1b[2K  {} done ({}/{})\n",
                path.display(),
                self.done,
                self.files
            );
        }
    }

    fn finish(&self, lines: u64) {
        if self.enabled {
            eprintln!(
                "  {} file(s), {lines} lines in {:.1} s",
                self.files,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// What the import read: totals, reject classes, proposals, lines.
pub fn text_report(r: &Report) -> String {
    let t = &r.totals;
    let mut out = String::new();
    let mut row = |label: &str, n: u64| out.push_str(&format!("  {n:>12}  {label}\n"));
    row("received", t.received);
    row("sent (delivered)", t.sent);
    row("bounced", t.bounced);
    row("deferred", t.deferred);
    row("rejected", t.rejected);
    row("spam", t.spam);
    row("virus", t.virus);
    row("SASL authentication failures", r.sasl_auth_failures);
    let mut text =
        format!("Grand totals\n------------\n{out}\nRejects by class\n----------------\n");
    let mut classes: Vec<_> = r.reject_classes.iter().filter(|(_, n)| **n > 0).collect();
    classes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (class, n) in classes {
        text.push_str(&format!("  {n:>12}  {class}\n"));
    }
    if !r.proposals.is_empty() {
        text.push_str(&format!(
            "\nBlock proposals ({})\n---------------\n",
            r.proposals.len()
        ));
        for p in &r.proposals {
            let reasons: Vec<String> = p.reasons.iter().map(|(k, n)| format!("{k} {n}")).collect();
            text.push_str(&format!(
                "  {:<7}  {:<40}  {}  ({}; {} .. {})\n",
                p.subject,
                p.target,
                p.policy,
                reasons.join(", "),
                p.first_seen,
                p.last_seen
            ));
        }
    }
    if !r.alerts.is_empty() {
        text.push_str(&format!("\nAlerts ({})\n------\n", r.alerts.len()));
        for a in &r.alerts {
            text.push_str(&a.text_line());
        }
    }
    text.push_str(&format!(
        "\n{} lines ({} unparsed) in {:.2} s\n",
        r.lines, r.unparsed, r.elapsed_s
    ));
    // Last, where a terminal leaves them in view.
    if !r.warnings.is_empty() {
        text.push_str(&format!(
            "\n!!! WARNINGS ({}): these counts may be wrong\n",
            r.warnings.len()
        ));
        for w in &r.warnings {
            text.push_str(&format!("  ! {}: {}\n", w.file, w.message));
        }
    }
    text
}
