//! Work done once per installation, whatever the number of processes: the
//! purge (`server.roles` `purge`). On PostgreSQL, several processes may have
//! that role (portal replicas); only the one holding a session advisory
//! lock ([`LOCK_KEY`], on a connection of its own kept open) runs it. The
//! others try to take the lock every `retry` (a minute in production), so
//! one of them takes over within that time when the holder stops or loses
//! its connection. The holder checks its connection as often, and before
//! each round: a holder whose connection dropped stops purging until it
//! holds the lock again. SQLite has one process: it always holds it.
//!
//! Migrating on start is serialised the same way ([`migrate_alone`]), so
//! that processes started together on one PostgreSQL database do not create
//! the same tables at once.

use crate::start::Purge;
use sea_orm::sqlx::{self, Connection, postgres::PgConnection};
use sea_orm::{DatabaseConnection, DbBackend};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The advisory lock's key: "carteiro" in ASCII. Advisory locks are per
/// database, so installations sharing a PostgreSQL server do not meet.
pub const LOCK_KEY: i64 = 0x6361_7274_6569_726f;

/// The key of the lock that lets one process at a time migrate the
/// database ("carteirm"): processes started together (portal replicas and
/// relays after an upgrade) would otherwise create the same tables at once.
pub const MIGRATION_KEY: i64 = 0x6361_7274_6569_726d;

/// Applies the pending migrations, on PostgreSQL one process at a time:
/// the others wait for it (at most ten minutes), then find nothing pending.
pub async fn migrate_alone(db: &DatabaseConnection, url: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    if db.get_database_backend() != DbBackend::Postgres {
        return crate::db::migrate(db).await;
    }
    let mut conn = PgConnection::connect(url)
        .await
        .context("cannot connect to take the migration lock")?;
    tokio::time::timeout(
        Duration::from_secs(600),
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_KEY)
            .execute(&mut conn),
    )
    .await
    .context("another process has been migrating the database for ten minutes")?
    .context("cannot take the migration lock")?;
    let migrated = crate::db::migrate(db).await;
    // Closing the session releases the lock.
    let _ = conn.close().await;
    migrated
}

/// How long checking or taking the lock may take before it counts as
/// failed (a connection lost without a reset can hang much longer).
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether this process holds the lock, and what it did with it; read by
/// `/readyz` and the tests.
#[derive(Debug, Default)]
pub struct Status {
    held: AtomicBool,
    rounds: AtomicU64,
}

impl Status {
    /// Whether this process runs the singletons now.
    pub fn held(&self) -> bool {
        self.held.load(Ordering::Relaxed)
    }

    /// Purge rounds this process has run.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Records a round (also the one `start` runs first).
    pub fn count_round(&self) {
        self.rounds.fetch_add(1, Ordering::Relaxed);
    }
}

/// The lock, held or not.
pub struct Lock {
    /// `None` on SQLite (always held).
    postgres: Option<PgLock>,
    pub status: Arc<Status>,
    retry: Duration,
}

struct PgLock {
    url: String,
    conn: Option<PgConnection>,
}

impl Lock {
    /// The lock of the database `db` (opened from `url`), checked and
    /// retried every `retry`.
    pub fn new(db: &DatabaseConnection, url: &str, retry: Duration) -> Self {
        let postgres = (db.get_database_backend() == DbBackend::Postgres).then(|| PgLock {
            url: url.to_string(),
            conn: None,
        });
        Self {
            postgres,
            status: Arc::default(),
            retry,
        }
    }

    /// Whether this process holds the lock now: its connection still
    /// answers, or the lock was free and is taken now.
    pub async fn hold(&mut self) -> bool {
        let held = match &mut self.postgres {
            None => true,
            Some(pg) => pg.hold().await,
        };
        let was = self.status.held.swap(held, Ordering::Relaxed);
        match (was, held) {
            (false, true) if self.postgres.is_some() => {
                tracing::info!("this process holds the singleton lock: it runs the purge")
            }
            (true, false) => tracing::warn!(
                "the singleton lock is lost: the purge stops here until this process holds it again"
            ),
            _ => {}
        }
        held
    }

    /// Runs `purge` every `every` while holding the lock (a first round at
    /// once when the lock is taken over; `start` ran one if it held the
    /// lock from the start), checking the lock every `retry`.
    pub async fn run(mut self, purge: Purge, every: Duration) {
        let mut next_round = if self.status.held() {
            Instant::now() + every
        } else {
            Instant::now()
        };
        loop {
            if self.hold().await {
                if Instant::now() >= next_round {
                    purge.once().await;
                    self.status.count_round();
                    next_round = Instant::now() + every;
                }
                tokio::time::sleep_until(next_round.min(Instant::now() + self.retry)).await;
            } else {
                // Whoever takes it over purges at once.
                next_round = Instant::now();
                tokio::time::sleep(self.retry).await;
            }
        }
    }
}

impl PgLock {
    async fn hold(&mut self) -> bool {
        if let Some(conn) = &mut self.conn {
            let alive = tokio::time::timeout(CHECK_TIMEOUT, sqlx::query("SELECT 1").execute(conn))
                .await
                .is_ok_and(|r| r.is_ok());
            if alive {
                return true;
            }
            self.conn = None;
        }
        let taken = tokio::time::timeout(CHECK_TIMEOUT, async {
            let mut conn = PgConnection::connect(&self.url).await?;
            let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(LOCK_KEY)
                .fetch_one(&mut conn)
                .await?;
            if taken {
                Ok(Some(conn))
            } else {
                let _ = conn.close().await;
                Ok::<_, sqlx::Error>(None)
            }
        })
        .await;
        match taken {
            Ok(Ok(conn)) => {
                self.conn = conn;
                self.conn.is_some()
            }
            Ok(Err(e)) => {
                tracing::warn!("cannot take the singleton lock: {e}");
                false
            }
            Err(_) => {
                tracing::warn!("cannot take the singleton lock: no answer within 10 s");
                false
            }
        }
    }
}
