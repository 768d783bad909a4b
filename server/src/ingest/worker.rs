//! The live ingest worker: one per configured source, started by `carteiro
//! serve`. It tails the file, follows both rotation styles, resumes from
//! its checkpoint after a restart and publishes its state for the admin
//! page.
//!
//! - **rename and create** (logrotate's default): the path now names a new
//!   file; the old one is read to its end through the handle kept open,
//!   then the new one from its start.
//! - **copytruncate**: the file shrinks below the offset read; the lines
//!   written between the last read and the truncation are in the copy
//!   (`PATH.1`), recognised by its first line, and read from there first.
//! - **restart**: the checkpoint names the file by its first line; if the
//!   path holds another file now, the rotated `PATH.1` is finished first.
//!
//! The source's status also carries the engine's warnings ("many Postfix
//! lines, almost no events": a syslog format it does not read; see
//! [`mailflow::coverage`]), judged over each stretch of at least
//! [`MIN_POSTFIX_LINES`] Postfix lines: the latest stretch decides, so a
//! warning goes once the log is read again, and after a restart it is
//! judged afresh on the lines read then (nothing stored can go stale).
//!
//! A worker stops when its [`Stop`] is asked (SIGTERM): the batch being
//! written is committed with its checkpoint, and the worker returns
//! without reading further; the next start resumes from that checkpoint.

use super::source::{self, LogReader};
use super::store::{self, Checkpoint};
use super::{RunOptions, Stop, preload, run_until};
use crate::config::SourceConfig;
use crate::defence::detection::Rules;
use anyhow::{Context, Result};
use app::model::{SourceState, SourceStatus};
use app::state::IngestBoard;
use chrono::Datelike;
use mailflow::count::{Counter, RejectRules, Settings};
use mailflow::coverage::{Coverage, MIN_POSTFIX_LINES};
use mailflow::syslog::YearGuess;
use sea_orm::DatabaseConnection;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// What a worker needs; cloned into each source's task.
#[derive(Clone)]
pub struct WorkerContext {
    pub db: DatabaseConnection,
    pub board: IngestBoard,
    pub settings: Settings,
    pub poll: Duration,
    pub batch_lines: u64,
    /// Asked on shutdown: each worker stops at its next batch boundary.
    pub stop: Stop,
}

/// Starts one task per source. Each retries after an error (shown on the
/// admin page) until `ctx.stop` is asked (the task then ends after its
/// current batch) or its handle is aborted (a batch being written is then
/// rolled back, as after a crash).
pub fn spawn_all(ctx: WorkerContext, sources: Vec<SourceConfig>) -> Vec<JoinHandle<()>> {
    {
        let mut board = ctx.board.write().unwrap_or_else(|e| e.into_inner());
        *board = sources
            .iter()
            .map(|s| SourceStatus {
                name: s.name.clone(),
                path: s.path.display().to_string(),
                state: SourceState::Starting,
                // `/readyz` counts a worker silent for too long from here.
                updated_at: chrono::Utc::now().timestamp(),
                ..SourceStatus::default()
            })
            .collect();
    }
    let mut tasks = Vec::new();
    for (i, src) in sources.into_iter().enumerate() {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = follow(&ctx, i, &src).await
                    && !ctx.stop.asked()
                {
                    tracing::warn!(source = %src.name, "ingest stopped: {e:#}; retrying in 5 s");
                    update(&ctx.board, i, |s| {
                        s.state = SourceState::Error;
                        s.last_error = Some(format!("{e:#}"));
                    });
                }
                if ctx.stop.asked() || ctx.stop.sleep(Duration::from_secs(5)).await {
                    tracing::info!(source = %src.name, "ingest stopped at its checkpoint");
                    return;
                }
            }
        }));
    }
    tasks
}

fn update(board: &IngestBoard, i: usize, f: impl FnOnce(&mut SourceStatus)) {
    let mut b = board.write().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = b.get_mut(i) {
        f(s);
        s.updated_at = chrono::Utc::now().timestamp();
    }
}

/// The file rotated away from `path`, as logrotate names it.
fn rotated(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".1");
    PathBuf::from(p)
}

/// Tails one source until an error, or until `ctx.stop` is asked (then
/// `Ok`, having stored nothing past the last committed checkpoint).
async fn follow(ctx: &WorkerContext, i: usize, src: &SourceConfig) -> Result<()> {
    let rules: RejectRules = store::reject_rules(&ctx.db).await?;
    let mut reject_rows = store::rule_rows(&ctx.db).await?;
    let mut settings = ctx.settings.clone();
    let mut domains = store::hosted_domains(&ctx.db).await?;
    settings.domains = domains.clone();
    let idle = settings.limits.idle_secs;
    let mut counter = Counter::new(settings, rules, chrono::Utc::now().year());
    let mut rules = Rules::load(&ctx.db).await?;
    let mut rules_read = Instant::now();
    counter.detect_with(rules.detector());
    let saved = store::checkpoint(&ctx.db, &src.name).await?;
    let mut tail = Tail::new(ctx, i);

    // Where to start: the checkpointed file, wherever it is now.
    let mut cp = match saved {
        Some(cp) => cp,
        None => Checkpoint {
            source: src.name.clone(),
            file_id: String::new(),
            path: src.path.display().to_string(),
            offset: 0,
            years: YearGuess::new(chrono::Utc::now().year()),
            lines: 0,
            last_log_at: None,
        },
    };
    counter.resume_years(cp.years);
    let Some(current) = wait_for_file(&src.path, ctx.poll, &ctx.stop).await else {
        return Ok(());
    };
    let current_id = source::fingerprint(&src.path, false)?;
    if !cp.file_id.is_empty() && current_id.as_deref() != Some(cp.file_id.as_str()) {
        let old = rotated(&src.path);
        if old.is_file() && source::fingerprint(&old, true)?.as_deref() == Some(&cp.file_id) {
            tracing::info!(source = %src.name, "finishing the rotated {}", old.display());
            let file = std::fs::File::open(&old)?;
            (counter, cp) = tail.drain(counter, file, &old, cp, idle).await?;
            if ctx.stop.asked() {
                return Ok(());
            }
        } else {
            tracing::warn!(
                source = %src.name,
                "the checkpointed file is gone; reading {} from its start",
                src.path.display()
            );
        }
        cp.offset = 0;
        cp.file_id = current_id.unwrap_or_default();
    } else if cp.offset > current.len() {
        cp.offset = 0; // truncated while we were down
    }
    let file = std::fs::File::open(&src.path)?;
    let mut ino = file.metadata()?.ino();
    if let Some(at) = super::first_time(&src.path, cp.offset, cp.years)? {
        preload(&ctx.db, &mut counter, at, idle).await?;
    }
    let mut reader = LogReader::from_file(file, &src.path, cp.offset)?;
    loop {
        if cp.file_id.is_empty() {
            cp.file_id = source::fingerprint(&src.path, false)?.unwrap_or_default();
        }
        let result;
        (counter, reader, result) = tail.read(counter, reader, cp.clone()).await;
        cp = result?;
        if ctx.stop.asked() {
            return Ok(());
        }
        tail.judge(&mut counter.coverage);
        let now = match std::fs::metadata(&src.path) {
            Ok(m) => m,
            Err(_) => {
                // Renamed and not yet re-created: keep reading the old file.
                if ctx.stop.sleep(ctx.poll).await {
                    return Ok(());
                }
                continue;
            }
        };
        if now.ino() != ino {
            // Rename and create: finish the old file through our handle,
            // letting the writer close it first.
            if ctx.stop.sleep(ctx.poll).await {
                return Ok(());
            }
            let result;
            (counter, _, result) = tail.read_archive(counter, reader, cp.clone()).await;
            cp = result?;
            if ctx.stop.asked() {
                return Ok(());
            }
            (reader, ino) = start_over(&src.path, &mut cp)?;
            continue;
        }
        // Shorter than what was read, or another first line: truncated
        // (even if the file has grown past the old offset since).
        let replaced = !cp.file_id.is_empty()
            && source::fingerprint(&src.path, false)?.as_deref() != Some(cp.file_id.as_str());
        if now.len() < cp.offset || replaced {
            // Copytruncate: the rest of what we had not read is in the copy.
            let old = rotated(&src.path);
            if old.is_file() && source::fingerprint(&old, true)?.as_deref() == Some(&cp.file_id) {
                let file = std::fs::File::open(&old)?;
                (counter, cp) = tail.drain(counter, file, &old, cp, idle).await?;
                if ctx.stop.asked() {
                    return Ok(());
                }
            } else {
                tracing::warn!(source = %src.name, "{} was truncated; lines between the last read and the truncation may be missing", src.path.display());
            }
            (reader, ino) = start_over(&src.path, &mut cp)?;
            continue;
        }
        tail.publish(&cp, now.len(), SourceState::Following);
        if rules_read.elapsed() >= RULES_EVERY {
            // Between two reads no proposal is waiting to be taken, so the
            // detector can be replaced (its windows start afresh).
            rules_read = Instant::now();
            match Rules::load(&ctx.db).await {
                Ok(fresh) if fresh != rules => {
                    tracing::info!(source = %src.name, "detection policies changed: reloaded");
                    counter.detect_with(fresh.detector());
                    rules = fresh;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot re-read the detection policies: {e:#}"),
            }
            // Reject rules saved since (the Unclassified rejects page):
            // between two reads the batch is empty, so they apply from
            // the next line on.
            match store::rule_rows(&ctx.db).await {
                Ok(fresh) if fresh != reject_rows && !fresh.is_empty() => {
                    match RejectRules::new(&fresh) {
                        Ok(r) => {
                            tracing::info!(source = %src.name, "reject rules changed: reloaded");
                            counter.set_rules(r);
                            reject_rows = fresh;
                        }
                        Err(e) => tracing::warn!("a stored reject rule does not compile: {e}"),
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot re-read the reject rules: {e:#}"),
            }
            // Domains provisioned or removed since: counted per domain now.
            match store::hosted_domains(&ctx.db).await {
                Ok(fresh) if *fresh != *domains => {
                    counter.set_domains(fresh.clone());
                    domains = fresh;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot re-read the hosted domains: {e:#}"),
            }
        }
        if ctx.stop.sleep(ctx.poll).await {
            return Ok(());
        }
    }
}

/// How often a live source looks for changed detection policies, reject
/// rules and hosted domains.
const RULES_EVERY: Duration = Duration::from_secs(30);

/// Reads the file now at `path` from its start: the checkpoint moves to it.
/// Returns the reader and the file's inode (to notice the next rename).
fn start_over(path: &Path, cp: &mut Checkpoint) -> Result<(LogReader, u64)> {
    let file = std::fs::File::open(path)?;
    let ino = file.metadata()?.ino();
    cp.offset = 0;
    cp.file_id = source::fingerprint(path, false)?.unwrap_or_default();
    Ok((LogReader::from_file(file, path, 0)?, ino))
}

/// The file's metadata once it exists; `None` if `stop` is asked first.
async fn wait_for_file(path: &Path, poll: Duration, stop: &Stop) -> Option<std::fs::Metadata> {
    loop {
        if let Ok(m) = std::fs::metadata(path) {
            return Some(m);
        }
        if stop.sleep(poll).await {
            return None;
        }
    }
}

/// Reading rounds of one source, with the figures the admin page shows.
struct Tail<'a> {
    ctx: &'a WorkerContext,
    index: usize,
    rate_from: (Instant, u64),
    rate: f64,
}

impl<'a> Tail<'a> {
    fn new(ctx: &'a WorkerContext, index: usize) -> Self {
        Self {
            ctx,
            index,
            rate_from: (Instant::now(), 0),
            rate: 0.0,
        }
    }

    fn opts(&self, archive: bool) -> RunOptions {
        RunOptions {
            batch_lines: self.ctx.batch_lines,
            archive,
            store: true,
        }
    }

    /// Reads what is there now (a half-written last line waits).
    async fn read(
        &mut self,
        counter: Counter,
        reader: LogReader,
        cp: Checkpoint,
    ) -> (Counter, LogReader, Result<Checkpoint>) {
        let opts = self.opts(false);
        let board = self.ctx.board.clone();
        let index = self.index;
        run_until(
            &self.ctx.db,
            counter,
            reader,
            cp,
            opts,
            &self.ctx.stop,
            |cp| {
                update(&board, index, |s| {
                    s.state = SourceState::CatchingUp;
                    s.offset = cp.offset;
                    s.lines = cp.lines;
                })
            },
        )
        .await
    }

    /// Reads a file that nobody writes any more, to its very end.
    async fn read_archive(
        &mut self,
        counter: Counter,
        reader: LogReader,
        cp: Checkpoint,
    ) -> (Counter, LogReader, Result<Checkpoint>) {
        let opts = self.opts(true);
        run_until(
            &self.ctx.db,
            counter,
            reader,
            cp,
            opts,
            &self.ctx.stop,
            |_| {},
        )
        .await
    }

    /// Reads the rest of a rotated file from the checkpoint's offset.
    async fn drain(
        &mut self,
        mut counter: Counter,
        file: std::fs::File,
        path: &Path,
        cp: Checkpoint,
        idle: i64,
    ) -> Result<(Counter, Checkpoint)> {
        if let Some(at) = super::first_time(path, cp.offset, cp.years)? {
            preload(&self.ctx.db, &mut counter, at, idle).await?;
        }
        let reader = LogReader::from_file(file, path, cp.offset)
            .with_context(|| format!("cannot resume {}", path.display()))?;
        let (counter, _, result) = self.read_archive(counter, reader, cp).await;
        Ok((counter, result?))
    }

    /// Publishes the warnings of what was read since the last verdict,
    /// once there is enough of it to judge (see the module's overview).
    fn judge(&self, coverage: &mut Coverage) {
        let warnings = coverage.warnings();
        if coverage.postfix_lines < MIN_POSTFIX_LINES && warnings.is_empty() {
            return;
        }
        *coverage = Coverage::default();
        update(&self.ctx.board, self.index, |s| {
            s.warnings = warnings.into_iter().map(|w| w.message).collect();
        });
    }

    fn publish(&mut self, cp: &Checkpoint, size: u64, state: SourceState) {
        let (since, lines_then) = self.rate_from;
        let secs = since.elapsed().as_secs_f64();
        if secs >= 5.0 {
            self.rate = (cp.lines.saturating_sub(lines_then)) as f64 / secs;
            self.rate_from = (Instant::now(), cp.lines);
        }
        let now = chrono::Utc::now().timestamp();
        let rate = self.rate;
        update(&self.ctx.board, self.index, |s| {
            s.state = state;
            s.offset = cp.offset;
            s.size = size;
            s.lines = cp.lines;
            s.lines_per_sec = rate;
            s.last_log_at = cp.last_log_at;
            s.lag_secs = cp.last_log_at.map(|t| (now - t).max(0));
            s.last_error = None;
        });
    }
}
