//! `carteiro soak`: runs the mix of [`super`] against a portal of its own
//! (started by [`crate::start::start`] on loopback ports, on a scratch
//! database unless `--db` names one) or a running one on this machine,
//! prints the figures and fails on any failed request or broken check.

use crate::cli::args::Soak;
use crate::config::Config;
use crate::db;
use anyhow::{Context, Result, bail};
use std::time::Duration;

/// A load run targets this machine only: `--url` must name a loopback
/// address (or `localhost`), never another host.
fn ensure_loopback_url(url: &str) -> Result<()> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("--url {url:?} is not a URL like http://127.0.0.1:3000"))?;
    if uri.scheme_str() != Some("http") {
        bail!("--url {url:?}: only http:// on this machine");
    }
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!(
            "--url {url:?}: a soak run only targets this machine (127.0.0.0/8, ::1 or localhost)"
        );
    }
    Ok(())
}

/// `carteiro soak`: see its `--help`.
pub async fn run(mut cfg: Config, db_given: bool, args: Soak) -> Result<()> {
    use crate::tools::soak::{self, Mix, Target};
    let seconds = args.seconds.max(1);
    let mix = Mix {
        staff: args.staff.max(1),
        security: args.security,
        intruders: args.intruders,
        budget: None,
        duration: Duration::from_secs(seconds),
        import_rows: args.import_rows,
        import_every: (args.import_rows > 0).then(|| Duration::from_secs(args.import_every)),
        ingest_per_sec: args.ingest_rate,
        ingest_lines: None,
        policy_connections: args.policy_connections,
        policy_per_sec: args.policy_rate,
        race_slots: args.race_slots.max(1),
        sign_in_every: Duration::from_millis(500),
        propose_every: Duration::from_millis(200),
        security_pause: Duration::from_millis(20),
        intruder_pause: Duration::from_millis(20),
        seed: args.seed,
    };
    if let Some(url) = &args.url {
        ensure_loopback_url(url)?;
    }
    if let Some(addr) = args.policyd
        && !addr.ip().is_loopback()
    {
        bail!("--policyd {addr}: a soak run only targets this machine (127.0.0.0/8 or ::1)");
    }
    if args.url.is_some() && !db_given {
        bail!(
            "--url needs --db: the running portal's database (the run's accounts are created there)"
        );
    }
    let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
    if !db_given {
        cfg.database.url = format!(
            "sqlite://{}?mode=rwc",
            scratch.path().join("soak.db").display()
        );
    }
    let db_shown = db::redact(&cfg.database.url);
    // The run's accounts and domains exist before the portal starts.
    let plan = { soak::seed(&db::open(&cfg.database).await?, &mix).await? };
    // Own portal: on free loopback ports, tailing a log of its own.
    let mut running = None;
    let target = match &args.url {
        Some(url) => Target {
            base: url.clone(),
            policyd: args.policyd,
            db: db::connect(&cfg.database).await?,
            log: args.log.clone(),
            board: None,
        },
        None => {
            let log = scratch.path().join("mail.log");
            cfg.server.listen = "127.0.0.1:0".into();
            cfg.server.create_first_admin = false;
            cfg.defence.policy_listen = "127.0.0.1:0".into();
            cfg.mailflow.sources = vec![crate::config::SourceConfig {
                name: format!("soak-{}", plan.run),
                path: log.clone(),
            }];
            let r = crate::start::start(&cfg, crate::start::Options::default()).await?;
            let target = Target {
                base: format!(
                    "http://{}",
                    r.http_addr.context("soak needs the portal role")?
                ),
                policyd: r.policyd_addr(),
                db: r.state.db.clone(),
                log: Some(log),
                board: Some(r.state.ingest.clone()),
            };
            running = Some(r);
            target
        }
    };
    eprintln!(
        "soak: {} staff, {} security, {} intruders, {} imported rows every {} s, \
         {} log lines/s, {} policy requests/s on {} connections, for {seconds} s against {} ({db_shown})",
        mix.staff,
        mix.security,
        mix.intruders,
        mix.import_rows,
        args.import_every,
        if target.log.is_some() {
            mix.ingest_per_sec
        } else {
            0
        },
        if target.policyd.is_some() {
            mix.policy_per_sec
        } else {
            0
        },
        mix.policy_connections,
        target.base
    );
    let outcome = soak::run(&target, &plan, &mix).await?;
    println!("{}", outcome.report);

    let mut problems = soak::checks::database(&target.db, &plan, &outcome.report).await?;
    if running.is_some()
        && let Some(log) = &target.log
    {
        let quiet_cfg = crate::config::DatabaseConfig {
            url: format!(
                "sqlite://{}?mode=rwc",
                scratch.path().join("quiet.db").display()
            ),
            ..cfg.database.clone()
        };
        let quiet = db::connect(&quiet_cfg).await?;
        let lines = soak::checks::quiet_import(&cfg, &quiet, log).await?;
        let started = std::time::Instant::now();
        match soak::checks::ingest(&target.db, &quiet, &plan.hosts, Duration::from_secs(60)).await {
            Ok(rows) => println!(
                "ingest: the worker's counters equal a quiet import's ({lines} lines, {rows} minute rows; caught up {:.1} s after the run)",
                started.elapsed().as_secs_f64()
            ),
            Err(e) => problems.push(format!("ingest: {e}")),
        }
    } else {
        println!("ingest: not compared (only with the soak's own portal)");
    }
    if let Some(r) = running {
        r.shutdown().await?;
    }
    if problems.is_empty() {
        println!("checks: limits, mailbox/alias overlap and audit entries hold");
    }
    for p in &problems {
        println!("CHECK FAILED: {p}");
    }
    if outcome.report.failure_count > 0 || !problems.is_empty() {
        bail!(
            "{} failed requests, {} broken checks",
            outcome.report.failure_count,
            problems.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ensure_loopback_url;

    #[test]
    fn soak_targets_this_machine_only() {
        for ok in [
            "http://127.0.0.1:3000",
            "http://127.8.9.10/",
            "http://[::1]:3000",
            "http://localhost:3000",
        ] {
            assert!(ensure_loopback_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.5:3000",
            "http://192.168.1.1",
            "http://portal.example.net",
            "https://127.0.0.1",
            "http://[2001:db8::1]:3000",
            "not a url",
        ] {
            assert!(ensure_loopback_url(bad).is_err(), "{bad}");
        }
    }
}
