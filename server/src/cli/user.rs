//! `carteiro user add | list`: staff accounts from the command line, as the
//! audit log's `cli` actor.

use crate::config::Config;
use crate::db;
use anyhow::{Context, Result, bail};
use app::model::Roles;
use app::server::audit::Actor;
use app::server::staff::{self, NewStaff};
use std::io::{BufRead, IsTerminal};

pub(super) async fn add(
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
    let conn = db::open(&cfg.database).await?;
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

pub(super) async fn list(cfg: &Config) -> Result<()> {
    let conn = db::open(&cfg.database).await?;
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
