//! Starting the whole portal, once, for `carteiro serve`, the concurrency
//! tests and `carteiro soak`: the database (migrated), the optional demo
//! data, one ingest worker per `[[mailflow.sources]]`, the purge task
//! (deleted mailboxes, Mailgraph tiers, stale sign-in data and expired
//! sessions), the Postfix policy daemon, the first admin and
//! the HTTP server. [`start`] returns once everything listens (port 0 in
//! `server.listen` or `defence.policy_listen` picks a free one: the
//! [`Running`] says which); [`Running::shutdown`] stops it again.

use crate::config::Config;
use crate::web;
use anyhow::{Context, Result};
use app::model::IssuedPassword;
use app::server::staff;
use app::state::AppState;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What [`start`] does besides the configuration.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// On a new database, seed the demo domain and a generated log
    /// (`carteiro serve --demo`).
    pub demo: bool,
}

/// The portal, running. Dropping it leaves everything running until the
/// runtime ends; [`Running::shutdown`] stops the HTTP server gracefully and
/// the background tasks. The policy daemon and its block refresh stop with
/// the runtime.
pub struct Running {
    /// Where the portal answers (the real port when `server.listen` said 0).
    pub http_addr: SocketAddr,
    /// The Postfix policy daemon, unless `defence.policy_listen` is empty.
    pub policyd: Option<crate::defence::Running>,
    /// The server's state: its database connection, the ingest board…
    pub state: AppState,
    /// The account `admin` with its generated password, when this start
    /// created it (an empty staff table and `server.create_first_admin`).
    pub first_admin: Option<IssuedPassword>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

impl Running {
    /// The policy daemon's address, if it runs.
    pub fn policyd_addr(&self) -> Option<SocketAddr> {
        self.policyd.as_ref().map(|p| p.addr)
    }

    /// Serves until `signal` completes (or the server fails), then shuts down.
    pub async fn serve_until(mut self, signal: impl Future<Output = ()>) -> Result<()> {
        tokio::select! {
            ended = &mut self.server => {
                self.stop_background();
                return match ended {
                    Ok(result) => result.context("server error"),
                    Err(e) => Err(e).context("the HTTP server task failed"),
                };
            }
            () = signal => {}
        }
        self.shutdown().await
    }

    /// Stops taking connections, lets the requests in progress finish,
    /// and stops the ingest workers (a batch being written is rolled back,
    /// as after a crash; the next start resumes from its checkpoint) and
    /// the periodic tasks.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let ended = (&mut self.server).await;
        self.stop_background();
        ended
            .context("the HTTP server task failed")?
            .context("server error")
    }

    fn stop_background(&mut self) {
        for task in self.background.drain(..) {
            task.abort();
        }
    }
}

/// Starts everything `cfg` describes; see the module documentation.
pub async fn start(cfg: &Config, opts: Options) -> Result<Running> {
    let addr: SocketAddr = cfg.server.listen.parse().with_context(|| {
        format!(
            "server.listen {:?} is not an address like 127.0.0.1:3000",
            cfg.server.listen
        )
    })?;
    let state = crate::prepare(cfg).await?;
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
    if !cfg.mailflow.sources.is_empty() {
        background.extend(crate::ingest::worker::spawn_all(
            crate::ingest::worker::WorkerContext {
                db: state.db.clone(),
                board: state.ingest.clone(),
                settings: cfg.engine_settings()?,
                poll: Duration::from_millis(cfg.mailflow.poll_millis.max(10)),
                batch_lines: cfg.mailflow.batch_lines.max(1),
            },
            cfg.mailflow.sources.clone(),
        ));
    }
    background.push(spawn_purge(
        state.db.clone(),
        cfg.mailgraph.clone(),
        (*state.auth).clone(),
    ));
    let policyd = crate::defence::start(&state.db, &cfg.defence).await?;
    let first_admin = if cfg.server.create_first_admin {
        staff::ensure_first_admin(&state.db).await?
    } else {
        None
    };

    let app = web::router(state.clone(), cfg);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let http_addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let limits = web::ConnLimits::from_config(&cfg.server);
    let server = tokio::spawn(web::serve(listener, app, limits, shutdown));
    tracing::info!("Carteiro is serving http://{http_addr}");
    Ok(Running {
        http_addr,
        policyd,
        state,
        first_admin,
        stop: Some(stop),
        server,
        background,
    })
}

/// Every ten minutes: purges deleted mailboxes past their retention,
/// the Mailgraph rows each tier no longer keeps, and stale sign-in data.
fn spawn_purge(
    db: sea_orm::DatabaseConnection,
    mailgraph: app::state::MailgraphSettings,
    auth: app::state::AuthSettings,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = chrono::Utc::now();
            match app::server::provision::purge::purge_due(&db, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("purged {n} deleted mailboxes past their retention"),
                Err(e) => {
                    tracing::warn!(error = %e, "purging deleted mailboxes failed; next try in ten minutes")
                }
            }
            match app::server::mailgraph::purge(&db, &mailgraph, now.timestamp()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("purged {n} Mailgraph rows past their tier's retention"),
                Err(e) => {
                    tracing::warn!(error = %e, "purging old Mailgraph rows failed; next try in ten minutes")
                }
            }
            match app::server::auth::purge(&db, &auth, now).await {
                Ok(p) => {
                    tracing::debug!(?p, "purged stale throttle rows, sessions, failed sign-ins")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "purging stale sign-in data failed; next try in ten minutes")
                }
            }
        }
    })
}
