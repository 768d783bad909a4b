//! How writers share the database: every write transaction announces
//! itself at `BEGIN` ([`begin_write`]), so on SQLite writers queue on the
//! database's write lock (for up to its `busy_timeout`) instead of failing
//! when a read turns into a write; and one policy ([`is_transient`])
//! decides from the database's error *code* which failures are worth a
//! second attempt ([`retrying`]): SQLite's busy and locked families, and
//! PostgreSQL's serialization failure and deadlock.

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::future::Future;
use std::time::Duration;

/// How many times a transient failure is tried in all.
pub const ATTEMPTS: u32 = 5;

/// Starts a transaction that will write: `BEGIN IMMEDIATE` on SQLite (it
/// takes the write lock now, waiting for it, rather than failing with
/// `SQLITE_BUSY_SNAPSHOT` when its first write finds that another writer
/// committed since its first read); a plain `BEGIN` on PostgreSQL.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// A failure that says nothing about the request, only about its timing: the
/// same transaction may succeed when tried again. Decided by the error code:
/// SQLite `SQLITE_BUSY` (5) and `SQLITE_LOCKED` (6) with their extended codes
/// (e.g. 517, `SQLITE_BUSY_SNAPSHOT`); PostgreSQL `40001` (serialization
/// failure) and `40P01` (deadlock detected).
pub fn is_transient(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db) = &**e else {
        return false;
    };
    let code = db.code().unwrap_or_default();
    if db
        .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
    {
        return code.parse::<i32>().is_ok_and(sqlite_code_is_transient);
    }
    if db
        .try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        return pg_state_is_transient(&code);
    }
    false
}

/// Whether `err` or any error in its chain of causes (its `source()`s) is a
/// [`DbErr`] that [`is_transient`]: for writers whose errors wrap the
/// database's in context (the ingest engine's batches).
pub fn caused_by_transient(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |e| e.source())
        .filter_map(|e| e.downcast_ref::<DbErr>())
        .any(is_transient)
}

/// SQLite's primary code is the low byte of the extended code.
fn sqlite_code_is_transient(extended: i32) -> bool {
    matches!(extended & 0xff, 5 | 6)
}

fn pg_state_is_transient(state: &str) -> bool {
    matches!(state, "40001" | "40P01")
}

/// Runs `attempt` until it succeeds, fails for good, or has been tried
/// [`ATTEMPTS`] times; `transient` says which errors are worth another try.
/// Waits a little longer (with jitter) before each new attempt, so racing
/// writers do not meet again at once.
pub async fn retrying<T, E, Fut>(
    what: &str,
    transient: impl Fn(&E) -> bool,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut n = 1;
    loop {
        match attempt().await {
            Err(e) if n < ATTEMPTS && transient(&e) => {
                tracing::info!("{what} tried again (attempt {n}) after: {e:#}");
                tokio::time::sleep(backoff(n)).await;
                n += 1;
            }
            other => return other,
        }
    }
}

/// 20, 40, 80, 160 ms, each plus up to as much again at random.
fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let base = 20u64 << attempt.min(6).saturating_sub(1);
    Duration::from_millis(base + rand::thread_rng().gen_range(0..=base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_locked_families_are_transient_by_code() {
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_TIMEOUT,
        // SQLITE_LOCKED, SQLITE_LOCKED_SHAREDCACHE.
        for code in [5, 517, 773, 6, 262] {
            assert!(sqlite_code_is_transient(code), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_ERROR, SQLITE_READONLY, SQLITE_FULL.
        for code in [2067, 1, 8, 13] {
            assert!(!sqlite_code_is_transient(code), "{code}");
        }
        assert!(pg_state_is_transient("40001"));
        assert!(pg_state_is_transient("40P01"));
        assert!(!pg_state_is_transient("23505"));
        // Message text decides nothing.
        assert!(!is_transient(&DbErr::Custom("database is locked".into())));
    }

    /// An error that wraps another in context, as `anyhow` does.
    #[derive(Debug, thiserror::Error)]
    #[error("cannot commit a MailFlow batch")]
    struct Context(#[source] DbErr);

    /// A real `SQLITE_BUSY`: a second writer that may not wait.
    #[tokio::test]
    async fn a_busy_database_is_transient_by_its_code_and_text_alone_is_not() {
        use sea_orm::{ConnectOptions, ConnectionTrait, Database};
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path =
            std::env::temp_dir().join(format!("carteiro-busy-{}-{nanos}.db", std::process::id()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let connect = |wait: Duration| {
            let mut opts = ConnectOptions::new(url.clone());
            opts.max_connections(1)
                .map_sqlx_sqlite_opts(move |o| o.busy_timeout(wait));
            Database::connect(opts)
        };
        let first = connect(Duration::from_secs(5)).await.unwrap();
        first
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let second = connect(Duration::ZERO).await.unwrap();
        let tx = begin_write(&first).await.unwrap();

        let busy = begin_write(&second).await.unwrap_err();

        assert!(is_transient(&busy), "{busy}");
        let wrapped = Context(busy);
        assert!(caused_by_transient(&wrapped), "{wrapped}");
        let text_only = Context(DbErr::Custom("database is locked (busy, deadlock)".into()));
        assert!(!caused_by_transient(&text_only));
        drop(tx);
        for db in [first, second] {
            db.close().await.unwrap();
        }
        std::fs::remove_file(&path).ok();
    }

    #[tokio::test]
    async fn a_transient_failure_is_tried_again_and_a_permanent_one_is_not() {
        let mut calls = 0;
        let out: Result<u32, String> = retrying(
            "test",
            |e: &String| e == "busy",
            || {
                calls += 1;
                let c = calls;
                async move { if c < 3 { Err("busy".into()) } else { Ok(c) } }
            },
        )
        .await;
        assert_eq!(out, Ok(3));
        let mut calls = 0;
        let out: Result<u32, String> = retrying(
            "test",
            |e: &String| e == "busy",
            || {
                calls += 1;
                async { Err("bad".into()) }
            },
        )
        .await;
        assert_eq!((out, calls), (Err("bad".into()), 1));
    }
}
