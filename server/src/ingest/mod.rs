//! Ingest: feeding log files through the MailFlow engine into the database.
//!
//! [`source`] reads lines from a byte offset (plain or gzip); [`store`]
//! writes each batch of counters and traces in one transaction with the
//! checkpoint after it; [`run`] ties them: a blocking thread reads and
//! counts while the async side commits the previous batch, so parsing and
//! writing overlap on two cores. [`worker`] is the live tail that `carteiro
//! serve` runs for each configured source.

pub mod source;
pub mod store;
pub mod worker;

use anyhow::{Context, Result};
use mailflow::count::{Batch, Counter, parse_bytes, parse_text};
use mailflow::event::{self, EventSpans};
use mailflow::syslog::{self, Header, Spans, UnixTime, YearGuess};
use sea_orm::DatabaseConnection;
use source::{Line, LogReader};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use store::Checkpoint;

/// How a run reads and when it commits.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Commit after this many lines.
    pub batch_lines: u64,
    /// The last line of the data may lack its `\n` (archives); a live file's
    /// half-written line waits instead.
    pub archive: bool,
    /// Write batches to the database. Off for a dry run, which only counts:
    /// its in-memory database would be thrown away anyway.
    pub store: bool,
}

/// Asks a run (and the live workers) to stop at the next batch boundary:
/// a batch being written is committed with its checkpoint first; lines
/// counted but not yet handed to the writer are read again on the next
/// start. Cloning gives another handle on the same request.
#[derive(Clone, Debug)]
pub struct Stop(std::sync::Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Stop {
    fn default() -> Self {
        Self(std::sync::Arc::new(tokio::sync::watch::Sender::new(false)))
    }
}

impl Stop {
    /// Asks every holder to stop.
    pub fn ask(&self) {
        self.0.send_replace(true);
    }

    pub fn asked(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once stopping is asked.
    pub async fn wait(&self) {
        let mut asked = self.0.subscribe();
        // The sender lives in `self`: waiting cannot fail.
        let _ = asked.wait_for(|&stop| stop).await;
    }

    /// Sleeps `pause`, or less if stopping is asked meanwhile; says
    /// whether it was.
    pub async fn sleep(&self, pause: std::time::Duration) -> bool {
        tokio::time::timeout(pause, self.wait()).await.is_ok()
    }
}

/// Reads `reader` to its end through `counter`, committing a batch (with the
/// checkpoint `cp` advanced past it) every `batch_lines` lines and at the
/// end. `progress` sees each committed checkpoint. Returns the counter and
/// the reader (to continue) and the checkpoint reached.
pub async fn run(
    db: &DatabaseConnection,
    counter: Counter,
    reader: LogReader,
    cp: Checkpoint,
    opts: RunOptions,
    progress: impl FnMut(&Checkpoint),
) -> (Counter, LogReader, Result<Checkpoint>) {
    run_until(db, counter, reader, cp, opts, &Stop::default(), progress).await
}

/// [`run`], ending early when `stop` is asked: the batch being committed
/// then is committed, nothing after it, and the checkpoint returned is the
/// last one committed (the counter and the reader are past it: start
/// again from the checkpoint).
pub async fn run_until(
    db: &DatabaseConnection,
    counter: Counter,
    reader: LogReader,
    cp: Checkpoint,
    opts: RunOptions,
    stop: &Stop,
    progress: impl FnMut(&Checkpoint),
) -> (Counter, LogReader, Result<Checkpoint>) {
    let ahead = ReadAhead::start(reader, opts.archive, counter.years(), 0);
    run_ahead(db, counter, ahead, cp, opts, stop, progress).await
}

/// [`run_until`] on a file whose reading (and parsing) began earlier, maybe
/// while the counter was still busy with the files before it: `ahead` must
/// have started at `cp.offset` with the year inference of `cp.years`.
pub async fn run_ahead(
    db: &DatabaseConnection,
    counter: Counter,
    ahead: ReadAhead,
    mut cp: Checkpoint,
    opts: RunOptions,
    stop: &Stop,
    mut progress: impl FnMut(&Checkpoint),
) -> (Counter, LogReader, Result<Checkpoint>) {
    // A hand-over: the counter fills the next batch while the writer stores
    // this one, then waits for the writer to take it, so at most two
    // batches are in memory.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Batch, Checkpoint)>(1);
    let (taken_tx, taken) = std::sync::mpsc::sync_channel::<()>(1);
    let start = cp.clone();
    let stopping = stop.clone();
    let producer = tokio::task::spawn_blocking(move || {
        let hand_over =
            |batch: (Batch, Checkpoint)| tx.blocking_send(batch).is_ok() && taken.recv().is_ok();
        let mut counter = counter;
        let mut cp = start;
        let mut since = 0u64;
        let mut offset = cp.offset;
        let mut outcome = Ok(());
        'blocks: for parsed in &ahead.full {
            if stopping.asked() {
                break; // the writer stops too
            }
            let (block, heads) = match parsed {
                Ok(p) => p,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            ahead.backlog.fetch_sub(1, Ordering::Relaxed);
            for ((line, end), (parsed, years)) in block.lines().zip(&heads) {
                let text = line.text().unwrap_or_default();
                let header = parsed.and_then(|(h, _)| h.header(text));
                match (header, parsed.and_then(|(_, e)| e)) {
                    (Some(h), Some(e)) => counter.feed_classified(Some(h), e.event(text), *years),
                    (h, _) => counter.feed_parsed(h, *years),
                }
                since += 1;
                if since >= opts.batch_lines {
                    advance(&mut cp, &counter, end, since);
                    since = 0;
                    if !hand_over((counter.take_batch(), cp.clone())) {
                        break 'blocks; // the writer failed; it reports why
                    }
                }
            }
            offset = block.start + block.len() as u64;
            let _ = ahead.empty.try_send((block.into_buffer(), heads));
        }
        let reader = ahead.finish();
        advance(&mut cp, &counter, offset, since);
        let _ = hand_over((counter.take_batch(), cp));
        (counter, reader, outcome)
    });
    let mut written = Ok(());
    loop {
        // A commit under way is never interrupted: the stop is heard
        // between batches.
        let received = tokio::select! {
            received = rx.recv() => received,
            () = stop.wait() => None,
        };
        let Some((batch, next)) = received else {
            break;
        };
        let _ = taken_tx.try_send(());
        if batch.is_empty() && next.offset == cp.offset {
            continue;
        }
        if opts.store
            && let Err(e) = store::commit(db, &batch, &next).await
        {
            written = Err(e);
            break;
        }
        cp = next;
        progress(&cp);
    }
    drop((rx, taken_tx));
    let (counter, reader, read) = match producer.await {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    let result = written.and(read).map(|()| cp);
    (counter, reader, result)
}

/// Bytes per block read ahead.
pub const BLOCK: usize = 1 << 18;

/// What the reading thread knows of each line of a block: its syslog
/// header and maybe its event (`None`: unparsed; no event: the counter
/// classifies it), and the year inference after it.
type Head = (Option<(Spans, Option<EventSpans>)>, YearGuess);

/// The [`Head`] of one line: its header parsed and, if `classify`, its
/// event classified.
fn head(line: &Line<'_>, years: &mut YearGuess, classify: bool) -> Head {
    let parsed = match *line {
        Line::Text(t) => parse_text(t, years).map(|h| spans(&h, t.as_bytes(), classify)),
        Line::Bytes(b) => parse_bytes(b, years).map(|h| spans(&h, b, classify)),
    };
    (parsed, *years)
}

fn spans(h: &Header<'_>, line: &[u8], classify: bool) -> (Spans, Option<EventSpans>) {
    let event = classify.then(|| event::classify(h).spans(line));
    (h.spans(line), event)
}

/// Reads blocks of lines on a thread of its own, so that the kernel's
/// copying (or gzip's inflating) and the parsing of each line's syslog
/// header overlap with the counting; used buffers come back through
/// `empty`. The work is balanced between the two threads: while the
/// counter has blocks waiting (it is the slower one), the reading thread
/// also classifies each line's event; when the counter waits for blocks,
/// it classifies them itself. Either way a line counts the same.
/// Started for the next files of an import while the counter still reads
/// an earlier one, it runs ahead by at most its `depth` blocks.
pub struct ReadAhead {
    /// The file is gzip (offsets count decompressed bytes).
    pub gzip: bool,
    /// Blocks handed over and not yet taken by the counter.
    backlog: Arc<AtomicUsize>,
    full: std::sync::mpsc::Receiver<Result<(source::Block, Vec<Head>)>>,
    empty: std::sync::mpsc::SyncSender<(Vec<u8>, Vec<Head>)>,
    thread: std::thread::JoinHandle<LogReader>,
}

impl ReadAhead {
    /// Starts reading `reader` (its classic timestamps from `years` on),
    /// holding up to `depth` parsed blocks (at least 2) of [`BLOCK`] bytes
    /// that the counter has not taken yet: with their headers, about
    /// `depth` × 0.6 MiB.
    pub fn start(mut reader: LogReader, archive: bool, mut years: YearGuess, depth: usize) -> Self {
        let (full_tx, full) = std::sync::mpsc::sync_channel(depth.max(2));
        let (empty, empty_rx) = std::sync::mpsc::sync_channel::<(Vec<u8>, Vec<Head>)>(4);
        let gzip = reader.gzip;
        let backlog = Arc::new(AtomicUsize::new(0));
        let waiting = backlog.clone();
        let thread = std::thread::Builder::new()
            .name("log-reader".into())
            .spawn(move || {
                loop {
                    let (buf, mut heads) = empty_rx.try_recv().unwrap_or_default();
                    let sent = match reader.next_block(buf, BLOCK, archive) {
                        Ok(Some(block)) => {
                            heads.clear();
                            let classify = waiting.load(Ordering::Relaxed) > 0;
                            heads.extend(
                                block
                                    .lines()
                                    .map(|(line, _)| head(&line, &mut years, classify)),
                            );
                            waiting.fetch_add(1, Ordering::Relaxed);
                            full_tx.send(Ok((block, heads)))
                        }
                        Ok(None) => break,
                        Err(e) => {
                            let _ = full_tx.send(Err(e));
                            break;
                        }
                    };
                    if sent.is_err() {
                        break; // the parser stopped early
                    }
                }
                reader
            })
            .expect("cannot start the log reader thread");
        Self {
            gzip,
            backlog,
            full,
            empty,
            thread,
        }
    }

    /// Stops reading and gives the reader back (its offset is past every
    /// block it handed over).
    fn finish(self) -> LogReader {
        drop(self.full);
        match self.thread.join() {
            Ok(reader) => reader,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

fn advance(cp: &mut Checkpoint, counter: &Counter, offset: u64, lines: u64) {
    cp.offset = offset;
    cp.years = counter.years();
    cp.lines += lines;
    cp.last_log_at = counter.last_at.or(cp.last_log_at);
}

/// The log time of the first parsable line at or after `offset`, reading at
/// most a few thousand lines.
pub fn first_time(path: &Path, offset: u64, years: YearGuess) -> Result<Option<UnixTime>> {
    let mut reader = LogReader::open(path, offset)?;
    let mut years = years;
    let mut line = Vec::new();
    for _ in 0..5000 {
        if !reader.next_line(&mut line, true)? {
            break;
        }
        if let Ok(text) = std::str::from_utf8(&line)
            && let Some(h) = syslog::parse(text.trim_end(), &mut years)
        {
            return Ok(Some(h.at));
        }
    }
    Ok(None)
}

/// Holds again the messages stored unfinished around `at` (the first line
/// about to be read), so a resumed stream completes their records.
pub async fn preload(
    db: &DatabaseConnection,
    counter: &mut Counter,
    at: UnixTime,
    idle_secs: i64,
) -> Result<()> {
    let messages = store::unfinished_messages(db, at, idle_secs)
        .await
        .context("cannot read the messages in flight")?;
    counter.preload(messages);
    Ok(())
}
