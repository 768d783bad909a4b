//! Starting Carteiro, once, for `carteiro serve`, `carteiro soak` and every
//! integration test that talks to it: the database (migrated), the
//! optional demo data, and what `server.roles` asks for: one ingest worker
//! per `[[mailflow.sources]]` (`ingest`), the purge task (`purge`: deleted
//! mailboxes, Mailgraph tiers, stale sign-in data and expired sessions; on
//! PostgreSQL only in the process holding the singleton lock, see
//! [`crate::singleton`]), the Postfix policy daemon (`policyd`), the first
//! admin and the HTTP server (`portal`). [`start`] is the only way in, so
//! the tests run the same workers, purge and daemon as production; what a
//! test needs differently (port 0, no policy daemon, no first admin, no
//! sources, fewer roles) is configuration. [`start`] returns once
//! everything listens (port 0 in `server.listen` or `defence.policy_listen`
//! picks a free one: the [`Running`] says which); [`Running::shutdown`]
//! stops it again, within `server.shutdown_secs`.

use crate::config::{Config, Roles};
use crate::ingest::Stop;
use crate::singleton::Lock;
use crate::{db, health, web};
use anyhow::{Context, Result};
use app::model::IssuedPassword;
use app::server::staff;
use app::state::AppState;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What [`start`] does besides the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// On a new database, seed the demo domain and a generated log
    /// (`carteiro serve --demo`).
    pub demo: bool,
    /// How often the purge runs: ten minutes (shorter in tests).
    pub purge_every: Duration,
    /// How often a process without the singleton lock tries to take it,
    /// and the holder checks it: a minute (shorter in tests).
    pub lock_retry: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            demo: false,
            purge_every: PURGE_EVERY,
            lock_retry: Duration::from_secs(60),
        }
    }
}

/// Carteiro, running. [`Running::shutdown`] stops it gracefully; dropping
/// it stops the HTTP server too (without waiting) and leaves the
/// background tasks running until the runtime ends. The policy daemon's
/// open connections and its block refresh end with the runtime.
pub struct Running {
    /// What this process runs.
    pub roles: Roles,
    /// Where the portal answers (the real port when `server.listen` said
    /// 0); `None` without the portal role.
    pub http_addr: Option<SocketAddr>,
    /// The Postfix policy daemon, if its role is on and
    /// `defence.policy_listen` is not empty.
    pub policyd: Option<crate::defence::Running>,
    /// The server's state: its database connection, the ingest board…
    pub state: AppState,
    /// The account `admin` with its generated password, when this start
    /// created it (portal role, an empty staff table and
    /// `server.create_first_admin`).
    pub first_admin: Option<IssuedPassword>,
    /// Whether this process holds the singleton lock, and the purge rounds
    /// it ran.
    pub singleton: Arc<crate::singleton::Status>,
    shutdown_within: Duration,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    workers: Vec<JoinHandle<()>>,
    workers_stop: Stop,
    background: Vec<JoinHandle<()>>,
}

impl Running {
    /// The policy daemon's address, if it runs.
    pub fn policyd_addr(&self) -> Option<SocketAddr> {
        self.policyd.as_ref().map(|p| p.addr)
    }

    /// Runs until `signal` completes (or the HTTP server fails), then
    /// shuts down.
    pub async fn serve_until(mut self, signal: impl Future<Output = ()>) -> Result<()> {
        let failed = tokio::select! {
            ended = server_ended(&mut self.server) => ended,
            () = signal => None,
        };
        if let Some(ended) = failed {
            self.abort_all();
            return match ended {
                Ok(result) => result.context("server error"),
                Err(e) => Err(e).context("the HTTP server task failed"),
            };
        }
        self.shutdown().await
    }

    /// Stops within `server.shutdown_secs`: the HTTP server stops taking
    /// connections and lets the requests in progress finish, the policy
    /// daemon stops taking connections, each ingest worker stores the
    /// batch it is writing with its checkpoint and stops, and the purge
    /// stops (a chunk being deleted is rolled back). Whatever still runs
    /// at the bound is aborted, as after a crash: a batch being written is
    /// rolled back and the next start resumes from its checkpoint.
    pub async fn shutdown(mut self) -> Result<()> {
        let started = Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.workers_stop.ask();
        if let Some(policyd) = &self.policyd {
            policyd.stop_accepting();
        }
        for task in self.background.drain(..) {
            task.abort();
        }
        let server = self.server.take();
        let server_abort = server.as_ref().map(JoinHandle::abort_handle);
        let workers = std::mem::take(&mut self.workers);
        let worker_aborts: Vec<_> = workers.iter().map(JoinHandle::abort_handle).collect();
        let ended = async {
            for worker in workers {
                let _ = worker.await;
            }
            match server {
                Some(server) => server.await.map(Some),
                None => Ok(None),
            }
        };
        match tokio::time::timeout(self.shutdown_within, ended).await {
            Ok(served) => {
                tracing::info!(
                    took_ms = started.elapsed().as_millis() as u64,
                    "stopped: every worker at its checkpoint"
                );
                match served.context("the HTTP server task failed")? {
                    Some(result) => result.context("server error"),
                    None => Ok(()),
                }
            }
            Err(_) => {
                tracing::warn!(
                    "not stopped within server.shutdown_secs ({} s): aborting what still runs \
                     (a batch being written is rolled back; the next start resumes from its \
                     checkpoint)",
                    self.shutdown_within.as_secs()
                );
                worker_aborts.iter().for_each(|a| a.abort());
                server_abort.iter().for_each(|a| a.abort());
                Ok(())
            }
        }
    }

    fn abort_all(&mut self) {
        self.workers_stop.ask();
        for task in self.background.drain(..).chain(self.workers.drain(..)) {
            task.abort();
        }
    }
}

/// Completes when the HTTP server task ends; never without one.
async fn server_ended(
    server: &mut Option<JoinHandle<std::io::Result<()>>>,
) -> Option<Result<std::io::Result<()>, tokio::task::JoinError>> {
    match server {
        Some(server) => Some(server.await),
        None => std::future::pending().await,
    }
}

/// Starts everything `cfg` describes; see the module documentation.
pub async fn start(cfg: &Config, opts: Options) -> Result<Running> {
    let roles = cfg.server.roles()?;
    let addr: Option<SocketAddr> = if roles.portal {
        Some(cfg.server.listen.parse().with_context(|| {
            format!(
                "server.listen {:?} is not an address like 127.0.0.1:3000",
                cfg.server.listen
            )
        })?)
    } else {
        None
    };
    tracing::info!("roles: {roles}");
    let db = db::connect(&cfg.database).await?;
    crate::singleton::migrate_alone(&db, &cfg.database.url).await?;
    let state = app_state(cfg, db)?;
    if opts.demo {
        // Domains first: the demo log's mail for them is counted per domain.
        if crate::tools::demo::seed_provisioning(&state.db, cfg).await? {
            tracing::info!(
                "new database: created the demo domain cliente.com.br with mailboxes and aliases"
            );
        }
        let lines = crate::tools::demo::seed(&state.db, cfg).await?;
        if lines > 0 {
            tracing::info!("new database: imported a {lines}-line demo Postfix log");
        }
    }
    let mut background = Vec::new();
    let mut lock = Lock::new(&state.db, &cfg.database.url, opts.lock_retry);
    let singleton = lock.status.clone();
    if roles.purge {
        let purge = Purge::new(state.db.clone(), cfg);
        // The first round before the ingest workers write and anything
        // listens: what they write and what a request sees never depend on
        // whether the purge task got to run yet.
        // Nothing else writes yet: no pause between chunks.
        if lock.hold().await {
            purge.without_pause().once().await;
            singleton.count_round();
        }
        background.push(tokio::spawn(lock.run(purge, opts.purge_every)));
    }
    let workers_stop = Stop::default();
    let mut workers = Vec::new();
    if roles.ingest && !cfg.mailflow.sources.is_empty() {
        workers = crate::ingest::worker::spawn_all(
            crate::ingest::worker::WorkerContext {
                db: state.db.clone(),
                board: state.ingest.clone(),
                settings: cfg.engine_settings()?,
                poll: Duration::from_millis(cfg.mailflow.poll_millis.max(10)),
                batch_lines: cfg.mailflow.batch_lines.max(1),
                stop: workers_stop.clone(),
            },
            cfg.mailflow.sources.clone(),
        );
    }
    let policyd = if roles.policyd {
        if cfg.defence.policy_listen.trim().is_empty() {
            tracing::info!("no policy daemon: defence.policy_listen is empty");
        }
        crate::defence::start(&state.db, &cfg.defence).await?
    } else {
        None
    };
    let mut running = Running {
        roles,
        http_addr: None,
        policyd,
        state: state.clone(),
        first_admin: None,
        singleton,
        shutdown_within: Duration::from_secs(cfg.server.shutdown_secs.max(1)),
        stop: None,
        server: None,
        workers,
        workers_stop,
        background,
    };
    let Some(addr) = addr else {
        return Ok(running);
    };
    if cfg.server.create_first_admin {
        running.first_admin = staff::ensure_first_admin(&state.db).await?;
    }
    let probe = health::Probe {
        roles,
        policyd: running.policyd.as_ref().map(|p| {
            (
                p.blocks.clone(),
                health::Probe::blocks_bound(p.refresh_secs),
            )
        }),
        singleton: running.singleton.clone(),
        ..health::Probe::new(&state, cfg)
    };
    let app = web::router(state, cfg, probe);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let http_addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let limits = web::ConnLimits::from_config(&cfg.server);
    running.server = Some(tokio::spawn(web::serve(listener, app, limits, shutdown)));
    running.stop = Some(stop);
    running.http_addr = Some(http_addr);
    tracing::info!("Carteiro is serving http://{http_addr}");
    Ok(running)
}

/// The server state the router and the server functions share.
fn app_state(cfg: &Config, db: DatabaseConnection) -> Result<AppState> {
    let leptos_options = LeptosOptions::builder()
        .output_name("carteiro")
        .site_root(cfg.server.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(
            cfg.server
                .listen
                .parse::<SocketAddr>()
                .unwrap_or(([127, 0, 0, 1], 3000).into()),
        )
        .build();
    Ok(AppState {
        db,
        leptos_options,
        auth: Arc::new(cfg.auth_settings()?),
        ingest: Default::default(),
        guardrails: Arc::new(cfg.defence.guardrails()?),
        provision: Arc::new(cfg.provision.clone()),
        mailgraph: Arc::new(cfg.mailgraph_settings()),
        locale: Arc::new(cfg.server.locale()?),
    })
}

/// How often the purge task runs.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// What the purge task deletes: deleted mailboxes past their retention,
/// and the old rows of every table that grows with time
/// (`app::server::retention::TABLES`: message trace, subject hours,
/// Mailgraph tiers, decided proposals, ended blocks, sessions…), in short
/// chunks; then, on SQLite, it gives the freed pages back to the file
/// system. `carteiro purge` runs the same [`Purge::round`].
#[derive(Clone)]
pub struct Purge {
    db: DatabaseConnection,
    settings: app::server::retention::Settings,
    opts: app::server::retention::Options,
}

/// What one [`Purge::round`] did (or, in a dry run, would do).
#[derive(Debug)]
pub struct Round {
    /// Deleted mailboxes purged (at most 1,000 a round), and the time taken.
    pub mailboxes: (Result<u64, sea_orm::DbErr>, Duration),
    pub tables: Vec<app::server::retention::Outcome>,
    /// SQLite pages given back to the file system (`None`: not SQLite, a
    /// database without incremental vacuum, or a dry run).
    pub reclaimed: (Result<Option<u64>, sea_orm::DbErr>, Duration),
}

/// Most `PRAGMA incremental_vacuum` statements per round (4,096 pages each).
const RECLAIM_STEPS: u32 = 64;

impl Purge {
    pub fn new(db: DatabaseConnection, cfg: &Config) -> Self {
        Self {
            db,
            settings: cfg.retention_settings(),
            opts: app::server::retention::Options::from_settings(&cfg.retention, false),
        }
    }

    /// The same purge without the pause between chunks (for a round that
    /// no other writer waits on).
    pub fn without_pause(&self) -> Self {
        let mut quick = self.clone();
        quick.opts.pause = Duration::ZERO;
        quick
    }

    /// One round, logged; a failure is left to the next round.
    pub(crate) async fn once(&self) {
        let round = self.round(false).await;
        let again = "next try in ten minutes";
        match &round.mailboxes.0 {
            Ok(0) => {}
            Ok(n) => tracing::info!("purged {n} deleted mailboxes past their retention"),
            Err(e) => tracing::warn!(error = %e, "purging deleted mailboxes failed; {again}"),
        }
        for outcome in &round.tables {
            let (table, setting) = (outcome.table.name, outcome.table.keep.setting());
            match &outcome.rows {
                Ok(None | Some(0)) => {}
                Ok(Some(n)) => tracing::info!(
                    took_ms = outcome.took.as_millis() as u64,
                    "purged {n} rows of {table} past {setting}"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "purging {table} past {setting} failed; {again}")
                }
            }
        }
        match &round.reclaimed.0 {
            Ok(Some(pages)) if *pages > 0 => {
                tracing::info!("gave {pages} free database pages back to the file system")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "giving free pages back failed; {again}"),
        }
    }

    /// Deletes (or with `dry_run` counts) what is past its retention now.
    pub async fn round(&self, dry_run: bool) -> Round {
        let db = &self.db;
        let now = chrono::Utc::now();
        let started = Instant::now();
        let mailboxes = if dry_run {
            app::server::provision::purge::count_due(db, now).await
        } else {
            app::server::provision::purge::purge_due(db, now).await
        };
        let mailboxes = (mailboxes, started.elapsed());
        let opts = app::server::retention::Options {
            dry_run,
            ..self.opts
        };
        let tables =
            app::server::retention::purge(db, &self.settings, now.timestamp(), opts, |_| true)
                .await;
        let started = Instant::now();
        let reclaimed = if dry_run {
            Ok(None)
        } else {
            app::server::retention::reclaim(db, RECLAIM_STEPS, self.opts.pause).await
        };
        Round {
            mailboxes,
            tables,
            reclaimed: (reclaimed, started.elapsed()),
        }
    }
}
