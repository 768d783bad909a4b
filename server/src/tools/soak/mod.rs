//! The concurrency load mix: what a busy mail team and its mail relays do
//! to the portal at once. The concurrency test suite runs it with small
//! budgets and checks the database afterwards; `carteiro soak` runs it for
//! a given time at higher rates and prints the figures.
//!
//! All at the same time:
//! - staff clients (role support, each with its own session) create, edit,
//!   suspend and reactivate mailboxes and aliases, search, race each other
//!   for the same addresses (one as a mailbox, another as an alias) and
//!   for a small domain's last free slots;
//! - security clients approve the block proposals detection keeps storing
//!   and lift blocks, racing each other for the same ones;
//! - a CSV import of thousands of mailboxes through the REST API;
//! - sign-ins with wrong passwords (each client under its own username),
//!   and staff signing in with the right one;
//! - a log file growing at a set pace, tailed by the portal's ingest worker;
//! - Postfix policy requests to the policy daemon.
//!
//! [`seed`] creates what a run needs (its staff, domains and API token,
//! all named after the run, so runs never share them); [`run`] drives the
//! load and returns a [`Report`]; [`checks`] holds the database against it.

pub mod checks;
mod clients;
pub mod command;
pub mod record;

pub use record::{Expect, Recorder, Report, Verdict};

use anyhow::{Context, Result};
use app::model::{Role, Roles};
use app::server::audit::Actor;
use app::server::entities::mail_domain;
use app::server::provision::lookup::{self, DomainLimits};
use app::server::staff::{self, NewStaff};
use app::state::IngestBoard;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The password of every account a run creates.
pub const PASSWORD: &str = "soak-password-123";

/// How much load, and for how long.
#[derive(Clone, Debug)]
pub struct Mix {
    /// Staff clients (role support), each with its own session.
    pub staff: usize,
    /// Security clients approving proposals and lifting blocks.
    pub security: usize,
    /// Clients signing in with wrong passwords, each under its own username.
    pub intruders: usize,
    /// Requests per client; `None`: every client runs until `duration` ends.
    pub budget: Option<Budget>,
    /// How long the run may last: with a budget, a run still going then
    /// stops unfinished.
    pub duration: Duration,
    /// Rows of each CSV import (mailboxes with taken-over password hashes).
    pub import_rows: usize,
    /// Start another import this long after the previous one ended;
    /// `None`: one import.
    pub import_every: Option<Duration>,
    /// Log lines appended per second to the file the worker tails.
    pub ingest_per_sec: u64,
    /// Lines in all; `None`: until the run ends.
    pub ingest_lines: Option<u64>,
    /// Connections to the policy daemon.
    pub policy_connections: usize,
    /// Policy requests per second, all connections together.
    pub policy_per_sec: u64,
    /// Mailboxes, and aliases, the race domain may hold.
    pub race_slots: i32,
    /// A staff member signs in with a fresh client this often.
    pub sign_in_every: Duration,
    /// Detection stores a new block proposal this often.
    pub propose_every: Duration,
    /// A security client's pause between two decisions.
    pub security_pause: Duration,
    /// An intruder's pause between two attempts.
    pub intruder_pause: Duration,
    /// Seeds the clients' choices and the generated log.
    pub seed: u64,
}

/// Requests per client of each kind, for a run that must finish.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub staff: u64,
    pub security: u64,
    pub intruder: u64,
}

impl Mix {
    /// The issue's mix, sized to finish in well under a minute on a debug
    /// build: 8 staff, 2 security, 2 intruders, 5,000 imported rows.
    pub fn test() -> Self {
        Self {
            staff: 8,
            security: 2,
            intruders: 2,
            budget: Some(Budget {
                staff: 40,
                security: 30,
                intruder: 15,
            }),
            duration: Duration::from_secs(90),
            import_rows: 5_000,
            import_every: None,
            ingest_per_sec: 2_000,
            ingest_lines: Some(30_000),
            policy_connections: 4,
            policy_per_sec: 200,
            race_slots: 6,
            sign_in_every: Duration::from_millis(700),
            propose_every: Duration::from_millis(150),
            security_pause: Duration::from_millis(40),
            intruder_pause: Duration::from_millis(60),
            seed: 1,
        }
    }
}

/// Where the load goes.
pub struct Target {
    /// The portal, e.g. `http://127.0.0.1:3000`.
    pub base: String,
    /// The policy daemon, if requests should go to one.
    pub policyd: Option<SocketAddr>,
    /// The portal's database: the run creates its accounts and domains
    /// there, stores block proposals as detection would, and is checked.
    pub db: DatabaseConnection,
    /// The log file the portal's ingest worker tails; lines are appended
    /// to it during the run.
    pub log: Option<PathBuf>,
    /// The ingest worker's status, when the portal runs in this process:
    /// any error it shows is a failure.
    pub board: Option<IngestBoard>,
}

/// What [`seed`] created for one run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Names everything of this run: `soak<run>.staff3`, `shared-<run>.example.net`…
    pub run: String,
    pub staff: Vec<String>,
    pub security: Vec<String>,
    pub intruders: Vec<String>,
    /// Where staff create and edit their mailboxes and aliases and race for addresses.
    pub shared_domain: String,
    /// A domain with room for [`Mix::race_slots`] mailboxes and as many aliases.
    pub race_domain: String,
    /// Where the CSV imports create their mailboxes.
    pub import_domain: String,
    /// The REST API token (role support) the imports use, and its audit actor.
    pub token: String,
    pub token_actor: String,
    /// The relays writing the generated log (their rows are compared).
    pub hosts: Vec<String>,
    /// Log time of the generated log's first line.
    pub log_start: i64,
    /// Written to every audit entry of this run's accounts: `soak<run>.`.
    pub actor_prefix: String,
}

/// Creates the run's accounts (with [`PASSWORD`]), domains and API token.
pub async fn seed(db: &DatabaseConnection, mix: &Mix) -> Result<Plan> {
    let now = chrono::Utc::now();
    let run = format!("{:x}", now.timestamp_micros() & 0xffff_ffff);
    let prefix = format!("soak{run}.");
    let names = |what: &str, n: usize| -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{what}{i}")).collect()
    };
    let plan = Plan {
        staff: names("staff", mix.staff),
        security: names("sec", mix.security),
        intruders: names("intruder", mix.intruders),
        shared_domain: format!("shared-{run}.example.net"),
        race_domain: format!("race-{run}.example.net"),
        import_domain: format!("import-{run}.example.net"),
        token: String::new(),
        token_actor: String::new(),
        hosts: vec![format!("mx1-{run}"), format!("smtp1-{run}")],
        log_start: mailflow::time::floor(
            now.timestamp() - mailflow::time::HOUR,
            mailflow::time::MINUTE,
        ),
        actor_prefix: prefix,
        run,
    };
    let cli = Actor::cli();
    for (names, role) in [
        (&plan.staff, Role::Support),
        (&plan.security, Role::Security),
        (&plan.intruders, Role::Support),
    ] {
        for username in names {
            staff::create(
                db,
                &cli,
                NewStaff {
                    username: username.clone(),
                    display_name: String::new(),
                    roles: Roles::new([role]),
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the account {username}: {e}"))?;
        }
    }
    for (name, slots) in [
        (&plan.shared_domain, 0),
        (&plan.race_domain, mix.race_slots.max(1)),
        (&plan.import_domain, 0),
    ] {
        add_domain(db, name, slots).await?;
    }
    // The generated log's customer domains, so the worker counts them too.
    for name in ["cliente.com.br", "provedor.net.br"] {
        let known = mail_domain::Entity::find()
            .filter(mail_domain::Column::Name.eq(name))
            .one(db)
            .await?
            .is_some();
        if !known {
            add_domain(db, name, 0).await?;
        }
    }
    let token_name = format!("soak{}-import", plan.run);
    let issued = app::server::provision::tokens::issue(db, &cli, &token_name, "support", 1, now)
        .await
        .map_err(|e| anyhow::anyhow!("cannot issue the import's API token: {e}"))?;
    Ok(Plan {
        token: issued.token,
        token_actor: format!("api:{token_name}"),
        ..plan
    })
}

/// A hosted domain holding at most `slots` mailboxes and as many aliases
/// (0: no limit), 1024 MB per mailbox by default.
async fn add_domain(db: &DatabaseConnection, name: &str, slots: i32) -> Result<()> {
    let limits = DomainLimits {
        max_mailboxes: slots,
        max_aliases: slots,
        max_quota_mb: 0,
        default_quota_mb: 1024,
    };
    let description = "carteiro soak".into();
    lookup::insert_domain(db, name, description, None, &limits, chrono::Utc::now())
        .await
        .with_context(|| format!("cannot create the domain {name}"))?;
    Ok(())
}

/// What a run did.
pub struct Outcome {
    pub report: Report,
    /// Every budget was spent before [`Mix::duration`] ran out (always
    /// true for a run without a budget).
    pub finished: bool,
    /// Lines appended to the log.
    pub ingest_lines: u64,
}

/// Runs `mix` against `target`, with the accounts and domains of `plan`.
pub async fn run(target: &Target, plan: &Plan, mix: &Mix) -> Result<Outcome> {
    clients::run(target, plan, mix).await
}
