//! `carteiro serve`: starts what `server.roles` (or `--roles`) asks for
//! (see [`crate::start`]), says which roles run, where they listen and with
//! which first admin, and runs until Ctrl-C or SIGTERM, then stops within
//! `server.shutdown_secs` (each ingest worker's current batch and
//! checkpoint stored first). SIGHUP is logged and changes nothing: a
//! changed carteiro.toml takes a restart (detection policies, reject rules
//! and hosted domains are re-read from the database every 30 s anyway).

use crate::config::{Config, Roles};
use anyhow::Result;
use std::io::Write;
use std::net::SocketAddr;

pub(super) async fn serve(
    mut cfg: Config,
    listen: Option<String>,
    demo: bool,
    roles: Option<Vec<String>>,
) -> Result<()> {
    if let Some(addr) = listen {
        cfg.server.listen = addr;
    }
    if let Some(roles) = roles {
        // Checked here, so the error names the flag.
        Roles::parse("--roles", roles.iter().map(String::as_str))?;
        cfg.server.roles = roles;
    }
    // Before anything starts, so that a SIGTERM from then on is a graceful
    // stop rather than the signal's default (the end of the process).
    let signals = Signals::install()?;
    let options = crate::start::Options {
        demo,
        ..Default::default()
    };
    let running = crate::start::start(&cfg, options).await?;
    eprintln!("Carteiro runs: {}", running.roles);
    if let Some(policyd) = &running.policyd {
        eprintln!(
            "Postfix policy daemon on {} ({} active blocks)",
            policyd.addr,
            policyd.blocks.snapshot().len()
        );
    }
    if let Some(http_addr) = running.http_addr {
        if let Some(issued) = &running.first_admin {
            print_first_admin(
                &issued.username,
                issued.password.as_deref().unwrap_or_default(),
                http_addr,
            );
        }
        eprintln!("Carteiro is serving http://{http_addr} (Ctrl-C stops it)");
    } else {
        eprintln!("No web portal in this process (Ctrl-C stops it)");
    }
    running.serve_until(signals.shutdown()).await
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

/// The signals `serve` listens to.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Completes on Ctrl-C (SIGINT) or SIGTERM; SIGHUP meanwhile is logged
    /// and otherwise ignored (its default would end the process).
    async fn shutdown(mut self) {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            loop {
                tokio::select! {
                    _ = self.term.recv() => return,
                    _ = self.hup.recv() => tracing::warn!(
                        "SIGHUP: nothing is re-read; restart Carteiro to apply a changed configuration"
                    ),
                }
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
        tracing::info!("shutting down: stopping within server.shutdown_secs");
    }
}
