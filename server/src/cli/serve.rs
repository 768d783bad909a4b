//! `carteiro serve`: starts the portal (see [`crate::start`]), says where
//! it listens and with which first admin, and runs until Ctrl-C or SIGTERM.

use crate::config::Config;
use anyhow::Result;
use std::io::Write;
use std::net::SocketAddr;

pub(super) async fn serve(mut cfg: Config, listen: Option<String>, demo: bool) -> Result<()> {
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
