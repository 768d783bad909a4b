//! MailFlow defence: blocks the security team approved, enforced in
//! Postfix within seconds and without a reload.
//!
//! [`blocks`] keeps the active blocks as an in-memory snapshot refreshed
//! from the database (and, if configured, as a Postfix `cidr:` table);
//! [`policyd`] answers Postfix's policy requests from it; [`detection`]
//! loads the detection policies and the allowlist the counter applies. Postfix can also read
//! the blocks straight from the database through the views
//! `postfix_client_access` and `postfix_sasl_access` (see docs/postfix/).

pub mod blocks;
pub mod detection;
pub mod policyd;

use crate::config::DefenceConfig;
use anyhow::{Context, Result};
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The running policy daemon.
pub struct Running {
    pub addr: SocketAddr,
    pub blocks: Arc<blocks::Shared>,
    /// `defence.refresh_secs`.
    pub refresh_secs: u64,
    accepting: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops taking connections (those open end with the runtime).
    pub fn stop_accepting(&self) {
        self.accepting.abort();
    }
}

/// Loads the active blocks, keeps them fresh and starts the policy daemon
/// as `cfg` says; `None` when `defence.policy_listen` is empty.
pub async fn start(db: &DatabaseConnection, cfg: &DefenceConfig) -> Result<Option<Running>> {
    if cfg.policy_listen.trim().is_empty() {
        return Ok(None);
    }
    let addr: SocketAddr = cfg.policy_listen.parse().with_context(|| {
        format!(
            "defence.policy_listen {:?} is not an address like 127.0.0.1:10040",
            cfg.policy_listen
        )
    })?;
    let shared = blocks::start(
        db.clone(),
        blocks::RefreshOptions {
            every: Duration::from_secs(cfg.refresh_secs.max(1)),
            cidr_file: (!cfg.cidr_file.is_empty()).then(|| PathBuf::from(&cfg.cidr_file)),
            reject_text: cfg.reject_text.clone(),
        },
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("the policy daemon cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    let accepting = tokio::spawn(policyd::serve(
        listener,
        shared.clone(),
        policyd::Options::from_config(cfg),
    ));
    tracing::info!("Postfix policy daemon listening on {addr}");
    Ok(Some(Running {
        addr,
        blocks: shared,
        refresh_secs: cfg.refresh_secs.max(1),
        accepting,
    }))
}
