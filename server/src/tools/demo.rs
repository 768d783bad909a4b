//! Demo data for a newcomer's first `make run`: on a new database, a
//! generated three-day Postfix log ending now is imported, so counters,
//! traces and charts show real numbers at once, with the generator's
//! attacks in its last hours (a dictionary attack, a SASL brute force from
//! one IP and a distributed one, a compromised account), so MailFlow shows
//! proposals and their evidence at once; and a demo domain with mailboxes
//! and aliases to try every provisioning form on (the attacked and the
//! compromised accounts among them).

use crate::config::Config;
use crate::log_import::{self as import, Options};
use crate::tools::generate_log::attacks_start;
use anyhow::{Context, Result};
use mailflow::generate::{Generator, Shape};
use mailflow::time::{DAY, MINUTE};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

/// Days of demo log, and lines per day (a small ISP's relay).
const DAYS: i64 = 3;
const LINES_PER_DAY: u64 = 100_000;

/// Imports the demo log unless something was ever imported into `db`.
/// Returns the lines imported (0 when the database was not new).
pub async fn seed(db: &DatabaseConnection, cfg: &Config) -> Result<u64> {
    use app::server::entities::ingest_checkpoint;
    if ingest_checkpoint::Entity::find().count(db).await? > 0 {
        return Ok(0);
    }
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let path = dir.path().join("demo-mail.log");
    let now = chrono::Utc::now().timestamp();
    // The generator's clock drifts by a few minutes over three days: end a
    // little before now rather than in the future.
    let start = now - DAYS * DAY - 30 * MINUTE;
    let lines = DAYS as u64 * LINES_PER_DAY;
    let mut generator = Generator::new(Shape {
        seed: 2026,
        start,
        lines_per_day: LINES_PER_DAY,
        hosts: vec!["mx1".into(), "mx2".into(), "smtp1".into()],
        rfc3339: true,
    })
    .with_attacks(attacks_start(start, lines, LINES_PER_DAY));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    generator.write_lines(lines, &mut out)?;
    drop(out);
    let report = import::import(
        db,
        cfg,
        &Options {
            files: vec![path],
            dry_run: false,
            report: None,
            year: None,
            detect: true,
        },
    )
    .await
    .context("cannot import the demo log")?;
    Ok(report.lines)
}

/// On a database without domains, a demo domain with a few mailboxes
/// (one suspended, one send-only, one forwarding), aliases and an alias
/// domain, all made through the same requests the forms send (and so in
/// the audit log). The addresses are ones the demo log uses, so the
/// message trace finds their mail. Returns whether it seeded.
pub async fn seed_provisioning(db: &DatabaseConnection, cfg: &Config) -> Result<bool> {
    use app::provision::*;
    use app::server::entities::mail_domain;
    use app::server::provision::{Context as RequestContext, Request, run};
    if mail_domain::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let actor = app::server::audit::Actor {
        id: None,
        name: "demo".into(),
        client_addr: None,
    };
    let ctx = RequestContext {
        now: chrono::Utc::now(),
        retention_days: cfg.provision.retention_days,
        dry_run: false,
    };
    async fn apply<R: Request>(
        db: &DatabaseConnection,
        actor: &app::server::audit::Actor,
        ctx: &RequestContext,
        r: R,
    ) -> Result<()> {
        run(db, actor, ctx, r)
            .await
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("demo {}: {e}", R::KIND))
    }
    let domain = |name: &str, max: &str| domain_create::DomainCreate {
        name: name.into(),
        description: "Demo domain".into(),
        max_mailboxes: max.into(),
        max_aliases: max.into(),
        max_quota_mb: "10240".into(),
        default_quota_mb: "2048".into(),
    };
    apply(db, &actor, &ctx, domain("cliente.com.br", "500")).await?;
    apply(db, &actor, &ctx, domain("açaí.com.br", "50")).await?;
    apply(
        db,
        &actor,
        &ctx,
        domain_alias_create::DomainAliasCreate {
            name: "cliente.net.br".into(),
            target: "cliente.com.br".into(),
        },
    )
    .await?;
    for (address, name, send_only) in [
        ("ana17@cliente.com.br", "Ana Beatriz Costa", false),
        ("bruno42@cliente.com.br", "Bruno Almeida", false),
        ("carla7@cliente.com.br", "Carla Nunes", false),
        ("diego3@cliente.com.br", "Boletos Diego Ltda", true),
        ("eva99@cliente.com.br", "Eva Martins", false),
        ("joao5@cliente.com.br", "João Pereira", false),
        ("loja@açaí.com.br", "Açaí da Praça", false),
    ] {
        let request = mailbox_create::MailboxCreate {
            address: address.into(),
            name: name.into(),
            send_only,
            ..Default::default()
        };
        apply(db, &actor, &ctx, request).await?;
    }
    apply(
        db,
        &actor,
        &ctx,
        mailbox_suspend::MailboxSuspend {
            address: "carla7@cliente.com.br".into(),
            reason: "Unpaid invoice (demo)".into(),
        },
    )
    .await?;
    apply(
        db,
        &actor,
        &ctx,
        mailbox_forward::MailboxForward {
            address: "eva99@cliente.com.br".into(),
            forward_to: "eva.martins@gmail.com".into(),
            keep_copy: true,
        },
    )
    .await?;
    for (address, targets) in [
        (
            "contato@cliente.com.br",
            "ana17@cliente.com.br joao5@cliente.com.br",
        ),
        ("vendas@cliente.com.br", "bruno42@cliente.com.br"),
    ] {
        let request = alias_create::AliasCreate {
            address: address.into(),
            targets: targets.into(),
            description: "Demo alias".into(),
        };
        apply(db, &actor, &ctx, request).await?;
    }
    Ok(true)
}
