//! What `carteiro` accepts on its command line: the clap definitions of
//! every command and option, with the texts `--help` prints. The commands'
//! bodies are elsewhere: [`super`] dispatches them.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "carteiro",
    version,
    about = "Carteiro: the mail operations portal of an ISP's mail team.",
    long_about = "Carteiro: the mail operations portal of an ISP's mail team.\n\n\
        One server with a browser UI for provisioning customer mailboxes, reviewing \
        abuse detections from the Postfix logs and charting mail flow.\n\n\
        Settings come from carteiro.toml (see carteiro.example.toml), overridden by \
        CARTEIRO_<TABLE>__<KEY> environment variables. Without a command, `serve` runs."
)]
pub struct Cli {
    /// Configuration file [default: ./carteiro.toml when it exists]
    #[arg(
        long,
        short,
        global = true,
        env = "CARTEIRO_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Database URL, overriding the configuration: sqlite://PATH?mode=rwc or postgres://USER:PASS@HOST/DB
    #[arg(long, global = true, value_name = "URL")]
    pub db: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web portal, the live ingest workers, the policy daemon and the
    /// purge, or the roles chosen (migrates the database first).
    ///
    /// SIGTERM or Ctrl-C stops it within server.shutdown_secs, each ingest
    /// worker's current batch and checkpoint stored first; SIGHUP is logged
    /// and changes nothing (restart to apply a changed carteiro.toml).
    ///
    /// With the portal role, on an empty staff table it creates the account
    /// `admin` and prints its generated password once (turn off with
    /// server.create_first_admin = false).
    Serve {
        /// Address to listen on, overriding server.listen, e.g. 0.0.0.0:8080
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// On a new database, import a generated three-day Postfix log
        /// ending now and create the demo domain cliente.com.br with a few
        /// mailboxes and aliases, so every page and form has something to
        /// show at once. `make run` passes it; `make run DEMO=0` does not.
        #[arg(long)]
        demo: bool,
        /// What this process runs, overriding server.roles: a comma-separated
        /// list of portal, ingest, policyd, purge (e.g. a mail relay:
        /// --roles ingest,policyd) [default: all four]
        #[arg(long, value_name = "ROLES", value_delimiter = ',')]
        roles: Option<Vec<String>>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the effective configuration (file + environment) as TOML, password hidden.
    Config,
    /// Write a realistic, seeded Postfix log for tests, benchmarks and demos.
    ///
    /// The mix: inbound mail (some through the crm= content filter and its
    /// pickup re-injection, some through amavis), authenticated submissions
    /// delivered, deferred or bounced, NOQUEUE rejects of every class,
    /// postscreen, SASL brute force and unrelated noise, from several relays.
    ///
    /// Example: carteiro generate-log --lines 2000000 --out /tmp/mail.log
    GenerateLog(GenerateLog),
    /// Import Postfix log files (plain or .gz) into the MailFlow tables.
    ///
    /// Every line is counted: lines that are not syslog (or not UTF-8, or
    /// longer than 16 KiB) as unparsed. Counters, message traces and a
    /// checkpoint are stored together every mailflow.batch_lines lines, so an
    /// interrupted import run again continues where it stopped, and a file
    /// imported twice (even renamed or gzipped) is not counted twice.
    /// "last message repeated N times" lines count as N more copies (at
    /// most 10,000). A file with many Postfix lines giving almost no events
    /// (a syslog format Carteiro does not read) is reported as a warning.
    ///
    /// Example: carteiro import --report text /var/log/mail.log.1 /var/log/mail.log.2.gz
    Import {
        /// Count into a throw-away in-memory database: nothing is stored.
        #[arg(long)]
        dry_run: bool,
        /// Print the import's counts as one JSON object, or as text: the
        /// Mailgraph report of the imported period (as on the Report page:
        /// totals, per day and hour, top senders, recipients and domains,
        /// rejects, bounces, deferrals) and the import's summary [default: text]
        #[arg(long, value_enum, value_name = "FORMAT")]
        report: Option<crate::log_import::ReportFormat>,
        /// Year of classic syslog timestamps (which have none) at the start of each file [default: from the file's modification time]
        #[arg(long)]
        year: Option<i32>,
        /// Skip abuse detection: no block proposals are made or reported
        /// (for backfilling old archives whose attacks are long over)
        #[arg(long)]
        no_detect: bool,
        /// Log files; .gz files are recognised by their content. They are
        /// read in the order of their first lines' times, whatever the order
        /// given (archives are often named newest first)
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Delete what is past its retention now, as `serve` does every ten minutes.
    ///
    /// Per table it prints the setting that keeps its rows, the rows deleted
    /// (or, with --dry-run, the rows that would be) and the time taken: the
    /// message trace, per-subject hours, Mailgraph tiers, decided proposals,
    /// ended blocks, acknowledged alerts, unclassified rejects, the audit log,
    /// import jobs, sessions, sign-in throttle rows, and deleted mailboxes
    /// (at most 1,000 a run). Settings: [retention] in carteiro.toml (0 keeps
    /// forever). Rows go in chunks of retention.chunk_rows, each its own short
    /// write with retention.pause_ms between them, so a running `serve`
    /// (ingest, the portal) keeps writing meanwhile. On SQLite the freed pages
    /// are then given back to the file system when the database was created
    /// with incremental auto-vacuum (every database this version creates).
    ///
    /// Example: carteiro purge --dry-run
    Purge {
        /// Count what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// After the purge, rewrite the whole database once: on SQLite this
        /// switches an older database to incremental auto-vacuum and
        /// compacts it. WARNING: it locks the database until done (ingest
        /// and the portal wait; stop `serve` first) and needs free disk
        /// about the database's size. On PostgreSQL: VACUUM ANALYZE of the
        /// purged tables (does not lock).
        #[arg(long, conflicts_with = "dry_run")]
        vacuum: bool,
    },
    /// Measure the Postfix policy daemon: requests per second and latency.
    ///
    /// Without --addr it starts a daemon of its own on a free loopback port
    /// with --blocks synthetic IP blocks (nothing is read or written in a
    /// database). Each connection sends a typical Postfix RCPT request,
    /// waits for the answer, and sends the next; one request in ten comes
    /// from a blocked client.
    ///
    /// Example: carteiro policyd-bench --connections 50 --seconds 10
    PolicydBench(PolicydBench),
    /// Measure mailbox search and Postfix/Dovecot lookups on many mailboxes.
    ///
    /// Fills the database (use a scratch one: --db) with synthetic mailboxes
    /// in 50 domains up to --mailboxes, then runs each kind of support
    /// search and each Postfix/Dovecot map query --queries times and prints
    /// p50/p95/p99/max latencies.
    ///
    /// Example: carteiro --db 'sqlite:///tmp/bench.db?mode=rwc' provision-bench --mailboxes 1000000
    ProvisionBench {
        /// Mailboxes to have in the database before measuring.
        #[arg(long, default_value_t = 1_000_000)]
        mailboxes: u64,
        /// Queries of each kind.
        #[arg(long, default_value_t = 500)]
        queries: usize,
    },
    /// Measure the Mailgraph charts on a year of data at the ISP's volume.
    ///
    /// On a database without Mailgraph rows it first writes what --days of
    /// ingest would leave under the configured retention (per-minute rows
    /// for the minute tier's days, hours and days for theirs, per host and
    /// per domain); then it asks for year, month, week and day charts
    /// --queries times each and prints p50/p95/p99/max latencies. Use a
    /// throw-away database: the rows are synthetic.
    ///
    /// Example: carteiro --db 'sqlite:///tmp/mg.db?mode=rwc' mailgraph-bench
    MailgraphBench {
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// Messages received per day, all hosts together (sent, rejected… follow).
        #[arg(long, default_value_t = 2_000_000)]
        messages_per_day: u64,
        #[arg(long, default_value_t = 4)]
        hosts: usize,
        /// Hosted domains sharing the traffic (by a Zipf law).
        #[arg(long, default_value_t = 1000)]
        domains: usize,
        /// Charts of each kind.
        #[arg(long, default_value_t = 200)]
        queries: usize,
    },
    /// Run the concurrency load mix against the portal and print
    /// requests/s, p50/p99 latency per kind of request and error counts.
    ///
    /// At the same time: --staff support members (each signed in with its
    /// own session) creating, editing, suspending and reactivating
    /// mailboxes and aliases, searching, and racing each other for the same
    /// addresses and for a small domain's last free slots; --security
    /// members approving the block proposals detection stores and lifting
    /// blocks; a CSV import of --import-rows mailboxes through the REST API
    /// every --import-every seconds; --intruders signing in with wrong
    /// passwords; staff signing in; a Postfix log growing by --ingest-rate
    /// lines a second, tailed by the portal's ingest worker; and Postfix
    /// policy requests.
    ///
    /// Without --url it starts a portal of its own (with its policy daemon
    /// and an ingest worker) on free loopback ports, on --db or else a
    /// throw-away SQLite database; never on the configured database.
    /// Everything it creates is named after the run (accounts
    /// soak<run>.staff0…, domains *-<run>.example.net, an API token).
    ///
    /// Afterwards it checks the database: no domain over its limits, no
    /// address both a mailbox and an alias, one audit entry per change the
    /// portal reported done, and (own portal) the ingested counters equal
    /// to a quiet import of the same log. It fails (exit status 1) on any
    /// 5xx, unanswered request, unclear refusal or broken check.
    ///
    /// Example: carteiro --db 'sqlite:///tmp/soak.db?mode=rwc' soak --seconds 60 --staff 50
    Soak(Soak),
}

/// `carteiro soak`'s options.
#[derive(clap::Args, Debug)]
pub struct Soak {
    /// How long to run the mix.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Staff clients (role support), each with its own session, sending
    /// requests one after the other without pause.
    #[arg(long, default_value_t = 50)]
    pub staff: usize,
    /// Security clients approving proposals and lifting blocks.
    #[arg(long, default_value_t = 2)]
    pub security: usize,
    /// Clients signing in with wrong passwords, each under its own username.
    #[arg(long, default_value_t = 2)]
    pub intruders: usize,
    /// Rows of each CSV import (mailboxes with taken-over password hashes); 0: no imports.
    #[arg(long, default_value_t = 5000)]
    pub import_rows: usize,
    /// Seconds from the end of one import to the start of the next.
    #[arg(long, default_value_t = 30)]
    pub import_every: u64,
    /// Log lines appended per second to the tailed log (the ISP's ~20
    /// million lines a day are ~230 a second); 0: none.
    #[arg(long, default_value_t = 230)]
    pub ingest_rate: u64,
    /// Connections to the policy daemon; 0: no policy requests.
    #[arg(long, default_value_t = 8)]
    pub policy_connections: usize,
    /// Policy requests per second, all connections together.
    #[arg(long, default_value_t = 200)]
    pub policy_rate: u64,
    /// Mailboxes, and aliases, the race domain holds.
    #[arg(long, default_value_t = 20)]
    pub race_slots: i32,
    /// A running portal instead of one of its own, e.g.
    /// http://127.0.0.1:3000; --db must then be its database (the run's
    /// accounts and proposals are written there).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// With --url: the running portal's policy daemon, e.g. 127.0.0.1:10040 [default: no policy requests]
    #[arg(long, value_name = "ADDR", requires = "url")]
    pub policyd: Option<SocketAddr>,
    /// With --url: a log file the running portal tails; lines are appended to it [default: no log lines]
    #[arg(long, value_name = "FILE", requires = "url")]
    pub log: Option<PathBuf>,
    /// Seeds the clients' choices and the generated log.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `carteiro policyd-bench`'s options.
#[derive(clap::Args, Debug)]
pub struct PolicydBench {
    /// A running daemon to measure, e.g. 127.0.0.1:10040 [default: start one]
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<SocketAddr>,
    /// Connections kept open at once.
    #[arg(long, default_value_t = 50)]
    pub connections: usize,
    /// How long to send requests.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// IP blocks in the daemon it starts itself.
    #[arg(long, default_value_t = 10_000)]
    pub blocks: u32,
    /// The client address sent in one request of ten (blocked in the daemon it starts).
    #[arg(long, default_value = "10.0.0.1")]
    pub blocked_client: String,
}

/// `carteiro generate-log`'s options.
#[derive(clap::Args, Debug)]
pub struct GenerateLog {
    /// How many lines to write.
    #[arg(long, value_name = "N")]
    pub lines: u64,
    /// Seed: the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Log date of the first line (UTC), YYYY-MM-DD.
    #[arg(long, default_value = "2026-11-01")]
    pub start: chrono::NaiveDate,
    /// Pace of the log clock: lines per day (the ISP writes ~20 million).
    #[arg(long, default_value_t = 20_000_000)]
    pub lines_per_day: u64,
    /// Mail relays writing to the file, comma separated.
    #[arg(long, default_value = "mx1,mx2,smtp1", value_delimiter = ',')]
    pub hosts: Vec<String>,
    /// Write RFC 3339 timestamps instead of classic syslog ones.
    #[arg(long)]
    pub rfc3339: bool,
    /// Add the attacks the defence should catch, in the log's last five and
    /// a half hours, on top of the --lines usual ones (which stay the same):
    /// a dictionary attack, a SASL brute force from one IP, a compromised
    /// account (bruno42@cliente.com.br) and a distributed SASL brute force
    /// (1,040 failures from 160 IPs against ana17@cliente.com.br); a log
    /// shorter than six hours holds only their beginning. The demo
    /// (`serve --demo`) turns it on
    #[arg(long)]
    pub attacks: bool,
    /// Output file (gzip-compressed when it ends in .gz) [default: standard output]
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a staff account. The password is read from standard input (first
    /// line); an empty line makes Carteiro generate one and print it.
    ///
    /// Example: echo 'a long passphrase' | carteiro user add --username ana --role support
    Add {
        /// Login name: 2-64 characters of a-z 0-9 . _ -
        #[arg(long, short)]
        username: String,
        /// Role: admin, support, security or manager. Repeat or separate with commas.
        #[arg(long = "role", short, required = true, value_name = "ROLE")]
        roles: Vec<String>,
        /// Full name shown in the portal [default: the username]
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List staff accounts.
    List,
}
