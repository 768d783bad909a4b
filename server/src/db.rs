//! Opening the database (SQLite or PostgreSQL) and bringing its schema up to date.

use crate::config::DatabaseConfig;
use anyhow::{Context, Result};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::time::Duration;

/// Connects, creating the SQLite file (and its folder) when needed.
pub async fn connect(cfg: &DatabaseConfig) -> Result<DatabaseConnection> {
    if let Some(path) = sqlite_path(&cfg.url)
        && let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // A negative cache_size is in KiB.
    let cache_kib = format!("-{}", u64::from(cfg.sqlite_cache_mb.max(1)) * 1024);
    let mut opts = ConnectOptions::new(cfg.url.clone());
    opts.max_connections(cfg.max_connections)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |o| {
            // WAL: readers never wait for the writer. In WAL mode NORMAL
            // still keeps every commit atomic (a killed process loses
            // nothing committed); only a power cut may undo the last ones,
            // together with their checkpoint. A page cache that holds the
            // current hour of the MailFlow indexes keeps the importer from
            // re-reading the file.
            //
            // Incremental auto-vacuum lets the purge give freed pages back
            // to the file system (`retention::reclaim`). It takes effect
            // only on a new file (sqlx sets it before `journal_mode`, so
            // before the first table); an older database switches with
            // `carteiro purge --vacuum`.
            o.auto_vacuum(sea_orm::sqlx::sqlite::SqliteAutoVacuum::Incremental)
                .pragma("journal_mode", "WAL")
                .pragma("synchronous", "NORMAL")
                .pragma("cache_size", cache_kib.clone())
                // Copy the WAL into the database every ~64 MB rather than
                // every 4 MB: pages changed by several batches (the ends of
                // the MailFlow B-trees) are copied once, not once a batch.
                .pragma("wal_autocheckpoint", "16384")
                .pragma("temp_store", "MEMORY")
                // Writers queue for the write lock (every write
                // transaction takes it at BEGIN IMMEDIATE, see
                // app::server::retry) for up to this long; only past it
                // does a request see "busy" (then tried again, and finally
                // a 503 that says nothing was changed). Writes are kept
                // short (passwords are hashed before, imports are chunked),
                // so this is a backstop, not a wait anyone should meet.
                .busy_timeout(Duration::from_secs(10))
        });
    Database::connect(opts)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&cfg.url)))
}

/// Connects and applies every pending migration: what each command that
/// uses the database does first.
pub async fn open(cfg: &DatabaseConfig) -> Result<DatabaseConnection> {
    let db = connect(cfg).await?;
    migrate(&db).await?;
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<()> {
    Migrator::up(db, None)
        .await
        .context("database migration failed")
}

/// The file of a `sqlite://` URL, unless it is in memory.
pub(crate) fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then_some(path)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://carteiro:s3cret@db/carteiro"),
            "postgres://carteiro:***@db/carteiro"
        );
        assert_eq!(
            redact("sqlite://data/carteiro.db?mode=rwc"),
            "sqlite://data/carteiro.db?mode=rwc"
        );
    }

    #[test]
    fn sqlite_paths_are_found_but_memory_is_not_a_file() {
        assert_eq!(
            sqlite_path("sqlite://data/carteiro.db?mode=rwc"),
            Some("data/carteiro.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
