//! The command line: `carteiro serve | migrate | user | config | import |
//! purge | generate-log | policyd-bench | provision-bench | mailgraph-bench | soak`.
//!
//! [`args`] defines what can be typed (and `--help`); [`Cli::run`] loads
//! the configuration and runs the command: `serve` through [`serve`] (which
//! starts everything with [`crate::start::start`]), `user` through
//! [`user`], the import through [`crate::log_import`], and the benchmarks,
//! load generators and the soak run through [`crate::tools`].

pub mod args;
mod purge;
mod serve;
mod user;

pub use args::{Cli, Command, UserCommand};

use crate::config::Config;
use crate::db;
use anyhow::Result;

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
        cfg.warnings.iter().for_each(|w| tracing::warn!("{w}"));
        let default = Command::Serve {
            listen: None,
            demo: false,
            roles: None,
        };
        match self.command.unwrap_or(default) {
            Command::Serve {
                listen,
                demo,
                roles,
            } => serve::serve(cfg, listen, demo, roles).await,
            Command::Migrate => {
                let db = db::connect(&cfg.database).await?;
                crate::singleton::migrate_alone(&db, &cfg.database.url).await?;
                println!("Database {} is up to date.", db::redact(&cfg.database.url));
                Ok(())
            }
            Command::User(UserCommand::Add {
                username,
                roles,
                display_name,
            }) => user::add(&cfg, username, roles, display_name).await,
            Command::User(UserCommand::List) => user::list(&cfg).await,
            Command::Import {
                dry_run,
                report,
                year,
                no_detect,
                files,
            } => {
                crate::log_import::run(
                    &cfg,
                    crate::log_import::Options {
                        files,
                        dry_run,
                        report,
                        year,
                        detect: !no_detect,
                    },
                )
                .await
            }
            Command::Purge { dry_run, vacuum } => purge::run(&cfg, dry_run, vacuum).await,
            Command::GenerateLog(args) => crate::tools::generate_log::run(args),
            Command::Soak(args) => crate::tools::soak::command::run(cfg, db_given, args).await,
            Command::PolicydBench(args) => crate::tools::policyd_bench::bench(&cfg, args).await,
            Command::ProvisionBench { mailboxes, queries } => {
                let db = db::open(&cfg.database).await?;
                crate::tools::provision_bench::run(&db, mailboxes, queries).await
            }
            Command::MailgraphBench {
                days,
                messages_per_day,
                hosts,
                domains,
                queries,
            } => {
                let db = db::open(&cfg.database).await?;
                let options = crate::tools::mailgraph_bench::Options {
                    days: days.max(1),
                    messages_per_day,
                    hosts: hosts.max(1),
                    domains: domains.max(1),
                    queries: queries.max(1),
                };
                crate::tools::mailgraph_bench::run(&db, &cfg.mailgraph, options).await
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
