//! The command line: `carteiro serve | migrate | user add | user list | config`.

use crate::config::Config;
use crate::{db, prepare, web};
use anyhow::{Context, Result, bail};
use app::model::Roles;
use app::server::audit::Actor;
use app::server::sessions::DbSessionStore;
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
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the effective configuration (file + environment) as TOML, password hidden.
    Config,
    /// Count Postfix log files (plain or .gz) by the MailFlow rules.
    ///
    /// Every line is counted: lines that are not syslog (or not UTF-8, or
    /// longer than 16 KiB) as unparsed. Storing the counts in the database
    /// is not available yet: run with --dry-run.
    Import {
        /// Count without storing anything.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as one JSON object or as a text summary [default: text]
        #[arg(long, value_enum, value_name = "FORMAT")]
        report: Option<crate::import::ReportFormat>,
        /// Year of classic syslog timestamps (which have none) at the start of each file [default: this year]
        #[arg(long)]
        year: Option<i32>,
        /// Log files; .gz files are recognised by their content
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
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
        init_tracing(&cfg);
        match self.command.unwrap_or(Command::Serve { listen: None }) {
            Command::Serve { listen } => serve(cfg, listen).await,
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
                files,
            } => crate::import::run(crate::import::Options {
                files,
                dry_run,
                report,
                year,
            }),
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

async fn serve(mut cfg: Config, listen: Option<String>) -> Result<()> {
    if let Some(addr) = listen {
        cfg.server.listen = addr;
    }
    let addr: SocketAddr = cfg.server.listen.parse().with_context(|| {
        format!(
            "server.listen {:?} is not an address like 127.0.0.1:3000",
            cfg.server.listen
        )
    })?;
    let state = prepare(&cfg).await?;
    if cfg.server.create_first_admin
        && let Some(issued) = staff::ensure_first_admin(&state.db).await?
    {
        print_first_admin(
            &issued.username,
            issued.password.as_deref().unwrap_or_default(),
            addr,
        );
    }

    let store = DbSessionStore::new(state.db.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            match store.delete_expired().await {
                Ok(n) if n > 0 => tracing::debug!(removed = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
            }
        }
    });

    let app = web::router(state, &cfg);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!("Carteiro is serving http://{addr}");
    eprintln!("Carteiro is serving http://{addr} (Ctrl-C stops it)");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server error")
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
