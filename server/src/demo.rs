//! Demo data for a newcomer's first `make run`: on a new database, a
//! generated three-day Postfix log ending now is imported, so counters,
//! traces and (later) charts show real numbers at once.

use crate::config::Config;
use crate::import::{self, Options};
use crate::mailflow::generate::{Generator, Shape};
use anyhow::{Context, Result};
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
    let start = now - DAYS * 86_400 - 1800;
    let mut generator = Generator::new(Shape {
        seed: 2026,
        start,
        lines_per_day: LINES_PER_DAY,
        hosts: vec!["mx1".into(), "mx2".into(), "smtp1".into()],
        rfc3339: true,
    });
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    generator.write_lines(DAYS as u64 * LINES_PER_DAY, &mut out)?;
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
