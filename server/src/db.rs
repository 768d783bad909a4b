//! Opening the database (SQLite or PostgreSQL) and bringing its schema up to date.

use crate::config::DatabaseConfig;
use anyhow::{Context, Result};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
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
    let mut opts = ConnectOptions::new(cfg.url.clone());
    opts.max_connections(cfg.max_connections)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(opts)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&cfg.url)))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // Readers never wait for the writer; the setting is stored in the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<()> {
    Migrator::up(db, None)
        .await
        .context("database migration failed")
}

/// The file of a `sqlite://` URL, unless it is in memory.
fn sqlite_path(url: &str) -> Option<&str> {
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
