//! The command line: `carteiro serve | migrate | user add | user list | config`.

use crate::config::Config;
use crate::{db, prepare};
use anyhow::{Context, Result, bail};
use app::model::Roles;
use app::server::audit::Actor;
use app::server::staff::{self, NewStaff};
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
    /// Run the web portal (migrates the database first).
    ///
    /// On an empty staff table it creates the account `admin` and prints its
    /// generated password once (turn off with server.create_first_admin = false).
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
        report: Option<crate::import::ReportFormat>,
        /// Year of classic syslog timestamps (which have none) at the start of each file [default: from the file's modification time]
        #[arg(long)]
        year: Option<i32>,
        /// Skip abuse detection: no block proposals are made or reported
        /// (for backfilling old archives whose attacks are long over)
        #[arg(long)]
        no_detect: bool,
        /// Log files; .gz files are recognised by their content
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
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

impl Cli {
    /// The configuration this invocation runs with.
    pub fn load_config(&self) -> Result<Config> {
        let mut cfg = Config::load(self.config.as_deref(), std::env::vars())?;
        if let Some(url) = &self.db {
            cfg.database.url = url.clone();
        }
        Ok(cfg)
    }

    pub async fn run(self) -> Result<()> {
        let cfg = self.load_config()?;
        let db_given = self.db.is_some();
        init_tracing(&cfg);
        let default = Command::Serve {
            listen: None,
            demo: false,
        };
        match self.command.unwrap_or(default) {
            Command::Serve { listen, demo } => serve(cfg, listen, demo).await,
            Command::Migrate => {
                let conn = db::connect(&cfg.database).await?;
                db::migrate(&conn).await?;
                println!("Database {} is up to date.", db::redact(&cfg.database.url));
                Ok(())
            }
            Command::User(UserCommand::Add {
                username,
                roles,
                display_name,
            }) => user_add(&cfg, username, roles, display_name).await,
            Command::User(UserCommand::List) => user_list(&cfg).await,
            Command::Import {
                dry_run,
                report,
                year,
                no_detect,
                files,
            } => {
                crate::import::run(
                    &cfg,
                    crate::import::Options {
                        files,
                        dry_run,
                        report,
                        year,
                        detect: !no_detect,
                    },
                )
                .await
            }
            Command::GenerateLog(args) => generate_log(args),
            Command::Soak(args) => soak(cfg, db_given, args).await,
            Command::PolicydBench(args) => policyd_bench(&cfg, args).await,
            Command::ProvisionBench { mailboxes, queries } => {
                let db = prepare(&cfg).await?.db;
                crate::provision_bench::run(&db, mailboxes, queries).await
            }
            Command::MailgraphBench {
                days,
                messages_per_day,
                hosts,
                domains,
                queries,
            } => {
                let db = prepare(&cfg).await?.db;
                let options = crate::mailgraph_bench::Options {
                    days: days.max(1),
                    messages_per_day,
                    hosts: hosts.max(1),
                    domains: domains.max(1),
                    queries: queries.max(1),
                };
                crate::mailgraph_bench::run(&db, &cfg.mailgraph, options).await
            }
            Command::Config => {
                let mut shown = cfg.clone();
                shown.database.url = db::redact(&shown.database.url);
                print!("{}", toml::to_string_pretty(&shown)?);
                Ok(())
            }
        }
    }
}

fn init_tracing(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log.filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn serve(mut cfg: Config, listen: Option<String>, demo: bool) -> Result<()> {
    if let Some(addr) = listen {
        cfg.server.listen = addr;
    }
    let running = crate::start::start(&cfg, crate::start::Options { demo }).await?;
    if let Some(policyd) = &running.policyd {
        eprintln!(
            "Postfix policy daemon on {} ({} active blocks)",
            policyd.addr,
            policyd.blocks.snapshot().len()
        );
    }
    if let Some(issued) = &running.first_admin {
        print_first_admin(
            &issued.username,
            issued.password.as_deref().unwrap_or_default(),
            running.http_addr,
        );
    }
    eprintln!(
        "Carteiro is serving http://{} (Ctrl-C stops it)",
        running.http_addr
    );
    running.serve_until(shutdown_signal()).await
}

fn print_first_admin(username: &str, password: &str, addr: SocketAddr) {
    let line = "=".repeat(72);
    println!(
        "{line}\n  First administrator account created.\n\n    username: {username}\n    password: {password}\n\n  \
         This password is shown only once. Sign in at http://{addr}/login\n  \
         and change it under \"Your account\" (click your name).\n{line}"
    );
    let _ = std::io::stdout().flush();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn user_add(
    cfg: &Config,
    username: String,
    roles: Vec<String>,
    display_name: Option<String>,
) -> Result<()> {
    let roles: Roles = roles.join(",").parse().map_err(anyhow::Error::msg)?;
    if roles.is_empty() {
        bail!("give at least one --role (admin, support, security, manager)");
    }
    let password = read_password_line()?;
    let conn = db::connect(&cfg.database).await?;
    db::migrate(&conn).await?;
    let issued = staff::create(
        &conn,
        &Actor::cli(),
        NewStaff {
            username,
            display_name: display_name.unwrap_or_default(),
            roles: roles.clone(),
            password: Some(password),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "Created staff account {} with role(s) {}.",
        issued.username,
        roles.to_db()
    );
    if let Some(p) = issued.password {
        println!("Generated password (shown only once): {p}");
    }
    Ok(())
}

/// One line from standard input, without echo when it is a terminal.
fn read_password_line() -> Result<String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    if tty {
        eprint!("Password (empty to generate one): ");
        let _ = std::process::Command::new("stty").arg("-echo").status();
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if tty {
        let _ = std::process::Command::new("stty").arg("echo").status();
        eprintln!();
    }
    read.context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn user_list(cfg: &Config) -> Result<()> {
    let conn = db::connect(&cfg.database).await?;
    db::migrate(&conn).await?;
    let members = staff::list(&conn)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{:<24} {:<28} {:<32} {:<8} LAST SIGN-IN",
        "USERNAME", "NAME", "ROLES", "STATUS"
    );
    for m in members {
        println!(
            "{:<24} {:<28} {:<32} {:<8} {}",
            m.username,
            m.display_name,
            m.roles.to_db(),
            if m.active { "active" } else { "disabled" },
            m.last_login_at
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "never".into())
        );
    }
    Ok(())
}

fn generate_log(args: GenerateLog) -> Result<()> {
    use mailflow::generate::{Generator, Shape};
    if args.hosts.iter().any(|h| h.is_empty() || h.contains(' ')) {
        bail!("--hosts: names must be non-empty and without spaces");
    }
    let start = args
        .start
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or_default();
    let mut generator = Generator::new(Shape {
        seed: args.seed,
        start,
        lines_per_day: args.lines_per_day,
        hosts: args.hosts,
        rfc3339: args.rfc3339,
    });
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            if path.extension().is_some_and(|e| e == "gz") {
                Box::new(flate2::write::GzEncoder::new(
                    file,
                    flate2::Compression::fast(),
                ))
            } else {
                Box::new(file)
            }
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, sink);
    generator.write_lines(args.lines, &mut out)?;
    Ok(())
}

async fn policyd_bench(cfg: &Config, args: PolicydBench) -> Result<()> {
    use crate::defence::{blocks, load, policyd};
    let addr = match args.addr {
        Some(addr) => addr,
        None => {
            // Synthetic blocks: 10.x.y.z addresses from 10.0.0.1 up.
            let list = (0..args.blocks)
                .map(|i| blocks::ActiveBlock {
                    id: i64::from(i) + 1,
                    subject: mailflow::SubjectKind::Ip,
                    target: std::net::Ipv4Addr::from(0x0a00_0001 + i).to_string(),
                })
                .collect();
            let shared = std::sync::Arc::new(blocks::Shared::new(blocks::Snapshot::new(list)));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            tokio::spawn(policyd::serve(
                listener,
                shared,
                policyd::Options {
                    max_connections: args.connections.max(cfg.defence.max_connections),
                    max_per_client: args.connections.max(cfg.defence.max_connections_per_client),
                    ..policyd::Options::from_config(&cfg.defence)
                },
            ));
            eprintln!(
                "policy daemon with {} blocks on {addr} (this process)",
                args.blocks
            );
            addr
        }
    };
    eprintln!(
        "{} connections for {} s against {addr} …",
        args.connections, args.seconds
    );
    let report = load::run(
        addr,
        args.connections,
        Duration::from_secs(args.seconds.max(1)),
        &args.blocked_client,
    )
    .await?;
    println!("{report}");
    Ok(())
}

/// `carteiro soak`: see its `--help`.
/// A load run targets this machine only: `--url` must name a loopback
/// address (or `localhost`), never another host.
fn ensure_loopback_url(url: &str) -> Result<()> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("--url {url:?} is not a URL like http://127.0.0.1:3000"))?;
    if uri.scheme_str() != Some("http") {
        bail!("--url {url:?}: only http:// on this machine");
    }
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!(
            "--url {url:?}: a soak run only targets this machine (127.0.0.0/8, ::1 or localhost)"
        );
    }
    Ok(())
}

async fn soak(mut cfg: Config, db_given: bool, args: Soak) -> Result<()> {
    use crate::soak::{self, Mix, Target};
    let seconds = args.seconds.max(1);
    let mix = Mix {
        staff: args.staff.max(1),
        security: args.security,
        intruders: args.intruders,
        budget: None,
        duration: Duration::from_secs(seconds),
        import_rows: args.import_rows,
        import_every: (args.import_rows > 0).then(|| Duration::from_secs(args.import_every)),
        ingest_per_sec: args.ingest_rate,
        ingest_lines: None,
        policy_connections: args.policy_connections,
        policy_per_sec: args.policy_rate,
        race_slots: args.race_slots.max(1),
        sign_in_every: Duration::from_millis(500),
        propose_every: Duration::from_millis(200),
        security_pause: Duration::from_millis(20),
        intruder_pause: Duration::from_millis(20),
        seed: args.seed,
    };
    if let Some(url) = &args.url {
        ensure_loopback_url(url)?;
    }
    if let Some(addr) = args.policyd
        && !addr.ip().is_loopback()
    {
        bail!("--policyd {addr}: a soak run only targets this machine (127.0.0.0/8 or ::1)");
    }
    if args.url.is_some() && !db_given {
        bail!(
            "--url needs --db: the running portal's database (the run's accounts are created there)"
        );
    }
    let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
    if !db_given {
        cfg.database.url = format!(
            "sqlite://{}?mode=rwc",
            scratch.path().join("soak.db").display()
        );
    }
    let db_shown = db::redact(&cfg.database.url);
    // The run's accounts and domains exist before the portal starts.
    let plan = {
        let conn = db::connect(&cfg.database).await?;
        db::migrate(&conn).await?;
        soak::seed(&conn, &mix).await?
    };
    // Own portal: on free loopback ports, tailing a log of its own.
    let mut running = None;
    let target = match &args.url {
        Some(url) => Target {
            base: url.clone(),
            policyd: args.policyd,
            db: db::connect(&cfg.database).await?,
            log: args.log.clone(),
            board: None,
        },
        None => {
            let log = scratch.path().join("mail.log");
            cfg.server.listen = "127.0.0.1:0".into();
            cfg.server.create_first_admin = false;
            cfg.defence.policy_listen = "127.0.0.1:0".into();
            cfg.mailflow.sources = vec![crate::config::SourceConfig {
                name: format!("soak-{}", plan.run),
                path: log.clone(),
            }];
            let r = crate::start::start(&cfg, crate::start::Options::default()).await?;
            let target = Target {
                base: format!("http://{}", r.http_addr),
                policyd: r.policyd_addr(),
                db: r.state.db.clone(),
                log: Some(log),
                board: Some(r.state.ingest.clone()),
            };
            running = Some(r);
            target
        }
    };
    eprintln!(
        "soak: {} staff, {} security, {} intruders, {} imported rows every {} s, \
         {} log lines/s, {} policy requests/s on {} connections, for {seconds} s against {} ({db_shown})",
        mix.staff,
        mix.security,
        mix.intruders,
        mix.import_rows,
        args.import_every,
        if target.log.is_some() {
            mix.ingest_per_sec
        } else {
            0
        },
        if target.policyd.is_some() {
            mix.policy_per_sec
        } else {
            0
        },
        mix.policy_connections,
        target.base
    );
    let outcome = soak::run(&target, &plan, &mix).await?;
    println!("{}", outcome.report);

    let mut problems = soak::checks::database(&target.db, &plan, &outcome.report).await?;
    if running.is_some()
        && let Some(log) = &target.log
    {
        let quiet_cfg = crate::config::DatabaseConfig {
            url: format!(
                "sqlite://{}?mode=rwc",
                scratch.path().join("quiet.db").display()
            ),
            ..cfg.database.clone()
        };
        let quiet = db::connect(&quiet_cfg).await?;
        let lines = soak::checks::quiet_import(&cfg, &quiet, log).await?;
        let started = std::time::Instant::now();
        match soak::checks::ingest(&target.db, &quiet, &plan.hosts, Duration::from_secs(60)).await {
            Ok(rows) => println!(
                "ingest: the worker's counters equal a quiet import's ({lines} lines, {rows} minute rows; caught up {:.1} s after the run)",
                started.elapsed().as_secs_f64()
            ),
            Err(e) => problems.push(format!("ingest: {e}")),
        }
    } else {
        println!("ingest: not compared (only with the soak's own portal)");
    }
    if let Some(r) = running {
        r.shutdown().await?;
    }
    if problems.is_empty() {
        println!("checks: limits, mailbox/alias overlap and audit entries hold");
    }
    for p in &problems {
        println!("CHECK FAILED: {p}");
    }
    if outcome.report.failure_count > 0 || !problems.is_empty() {
        bail!(
            "{} failed requests, {} broken checks",
            outcome.report.failure_count,
            problems.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ensure_loopback_url;

    #[test]
    fn soak_targets_this_machine_only() {
        for ok in [
            "http://127.0.0.1:3000",
            "http://127.8.9.10/",
            "http://[::1]:3000",
            "http://localhost:3000",
        ] {
            assert!(ensure_loopback_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.5:3000",
            "http://192.168.1.1",
            "http://portal.example.net",
            "https://127.0.0.1",
            "http://[2001:db8::1]:3000",
            "not a url",
        ] {
            assert!(ensure_loopback_url(bad).is_err(), "{bad}");
        }
    }
}
