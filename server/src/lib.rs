//! The `carteiro` binary's library: configuration, database start-up, the
//! web server and the command line.
//!
//! `main.rs` only parses the command line and calls into [`cli`]. `carteiro
//! serve` starts everything through [`start::start`], as the concurrency
//! tests and `carteiro soak` do on ephemeral ports; the other integration
//! tests build the very same router through [`prepare`] and [`web::router`].

pub mod cli;
pub mod config;
pub mod db;
pub mod defence;
pub mod demo;
pub mod import;
pub mod ingest;
pub mod mailgraph;
pub mod mailgraph_bench;
pub mod provision_bench;
pub mod rest;
pub mod soak;
pub mod start;
pub mod web;

use anyhow::Result;
use app::state::AppState;
use config::Config;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Connects to the database, migrates it, and builds the server state.
pub async fn prepare(cfg: &Config) -> Result<AppState> {
    let db = db::connect(&cfg.database).await?;
    db::migrate(&db).await?;
    let leptos_options = LeptosOptions::builder()
        .output_name("carteiro")
        .site_root(cfg.server.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(
            cfg.server
                .listen
                .parse::<std::net::SocketAddr>()
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
    })
}
