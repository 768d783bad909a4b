//! `carteiro import`: reads Postfix log archives (plain or gzip) through the
//! MailFlow counter and reports what they contain.

use crate::mailflow::count::{Counter, RejectRules, Settings, Totals};
use anyhow::{Context, Result, bail};
use chrono::Datelike;
use serde::Serialize;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
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
}

/// The `--report json` object. Keys are stable; later versions add keys.
#[derive(Serialize)]
pub struct Report {
    pub lines: u64,
    pub unparsed: u64,
    pub totals: Totals,
    pub reject_classes: std::collections::BTreeMap<String, u64>,
    pub sasl_auth_failures: u64,
    pub elapsed_s: f64,
}

pub fn run(opts: Options) -> Result<()> {
    if !opts.dry_run {
        bail!(
            "importing into the database is not available yet; run with --dry-run to count the files without storing anything"
        );
    }
    if opts.files.is_empty() {
        bail!("name at least one log file");
    }
    let started = Instant::now();
    let year = opts.year.unwrap_or_else(|| chrono::Utc::now().year());
    let mut counter = Counter::new(Settings::default(), RejectRules::defaults(), year);
    let mut progress = Progress::new(&opts.files);
    for file in &opts.files {
        count_file(file, &mut counter, &mut progress)
            .with_context(|| format!("cannot read {}", file.display()))?;
    }
    progress.finish();
    let report = Report {
        lines: counter.lines,
        unparsed: counter.unparsed,
        totals: counter.totals,
        reject_classes: counter
            .reject_classes()
            .map(|(k, n)| (k.to_string(), n))
            .collect(),
        sasl_auth_failures: counter.sasl_failures,
        elapsed_s: started.elapsed().as_secs_f64(),
    };
    match opts.report {
        Some(ReportFormat::Json) => println!("{}", serde_json::to_string(&report)?),
        Some(ReportFormat::Text) | None => print!("{}", text_report(&report)),
    }
    Ok(())
}

fn count_file(path: &Path, counter: &mut Counter, progress: &mut Progress) -> Result<()> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 2];
    let gz = file.read(&mut magic)? == 2 && magic == [0x1f, 0x8b];
    let file = File::open(path)?;
    let counted = CountingReader {
        inner: file,
        read: 0,
    };
    let mut reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(counted),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, counted))
    };
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        counter.feed_bytes(&line);
        if counter.lines.is_multiple_of(65_536) {
            progress.tick(counter.lines);
        }
    }
    progress.file_done(path);
    Ok(())
}

struct CountingReader<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// A one-line progress display on standard error, only on a terminal.
struct Progress {
    enabled: bool,
    files: usize,
    done: usize,
    started: Instant,
    last: Instant,
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
        }
    }

    fn tick(&mut self, lines: u64) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.last = Instant::now();
        let rate = lines as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        eprint!(
            "\r  file {}/{}  {:>12} lines  {:>10.0} lines/s ",
            self.done + 1,
            self.files,
            lines,
            rate
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

    fn finish(&self) {
        if self.enabled {
            eprintln!(
                "  {} file(s) in {:.1} s",
                self.files,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// A short pflogsumm-like summary.
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
    text.push_str(&format!(
        "\n{} lines ({} unparsed) in {:.2} s\n",
        r.lines, r.unparsed, r.elapsed_s
    ));
    text
}
