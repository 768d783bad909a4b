//! Integration tests of Configurador against the real consumers of its
//! tables: Debian's Postfix (`postmap -q` through the map files shipped in
//! `docs/postfix/`) and Dovecot (`doveadm pw -t` on the stored hashes).
//! SQLite by default; PostgreSQL (and the `pgsql:` maps) when
//! `CARTEIRO_TEST_DATABASE_URL` names a server.

#[path = "../common/mod.rs"]
mod common;
mod dovecot;
#[path = "../common/mailhost.rs"]
mod mailhost;
mod maps;

use app::server::audit::Actor;
use app::server::provision::{Context, Request, run};
use sea_orm::DatabaseConnection;

/// A migrated fresh database and its URL.
pub async fn database(dir: &tempfile::TempDir) -> (String, DatabaseConnection) {
    let url = common::fresh_database(dir).await;
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    server::db::migrate(&db).await.unwrap();
    (url, db)
}

/// Runs a request as the command line would; panics on refusal.
pub async fn apply<R: Request>(db: &DatabaseConnection, request: R) -> app::provision::RequestDone {
    let ctx = Context {
        now: chrono::Utc::now(),
        retention_days: 30,
        dry_run: false,
    };
    match run(db, &Actor::cli(), &ctx, request).await {
        Ok(done) => done,
        Err(e) => panic!("request refused: {e}"),
    }
}
