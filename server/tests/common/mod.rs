//! What every integration test binary needs: a fresh database, the
//! configuration a test portal starts with, and the `carteiro` binary
//! itself.

use sea_orm::{ConnectionTrait, Database};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A SQLite file in `dir`, or a new database on the PostgreSQL server of
/// `CARTEIRO_TEST_DATABASE_URL` (a URL to its `postgres` database).
pub async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match std::env::var("CARTEIRO_TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("carteiro_test_{}", unique_suffix());
            let admin = Database::connect(admin_url.as_str())
                .await
                .expect("connect to test PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            admin.close().await.ok();
            let (server, _) = admin_url.rsplit_once('/').expect("URL ends with /DATABASE");
            format!("{server}/{name}")
        }
        _ => format!("sqlite://{}/carteiro.db?mode=rwc", dir.path().display()),
    }
}

/// The configuration of a test portal on a fresh database: loopback ports
/// the system picks (HTTP and policy daemon), no first admin, and wrong
/// passwords slowed down but not for seconds each. Tests start it with
/// `server::start::start`, as `carteiro serve` does.
#[allow(dead_code)] // not every test binary starts the portal
pub async fn test_config(dir: &tempfile::TempDir) -> server::config::Config {
    test_config_on(fresh_database(dir).await)
}

/// [`test_config`] on the database at `url`.
#[allow(dead_code)] // not every test binary starts the portal
pub fn test_config_on(url: String) -> server::config::Config {
    let mut cfg = server::config::Config::default();
    cfg.database.url = url;
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.server.create_first_admin = false;
    cfg.defence.policy_listen = "127.0.0.1:0".into();
    cfg.auth.throttle.delay_ms = 1;
    cfg.auth.throttle.max_delay_ms = 5;
    cfg
}

/// Different on every call, across test processes too.
fn unique_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    format!("{nanos:x}{:x}{call}", std::process::id())
}

/// The `carteiro` binary, blind to the developer's database settings.
#[allow(dead_code)] // not every test binary runs the command line
pub fn carteiro() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carteiro"));
    cmd.env_remove("CARTEIRO_DATABASE_URL")
        .env_remove("DATABASE_URL");
    cmd
}

/// Runs `cmd` and returns what it printed; a failure panics with its
/// standard error.
#[allow(dead_code)] // not every test binary runs the command line
pub fn stdout_of(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd.get_args().collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Makes `names` hosted domains (the engine counts their series), in a
/// database migrated first if it was new.
#[allow(dead_code)] // not every test binary needs hosted domains
pub async fn host_domains(db: &sea_orm::DatabaseConnection, names: &[&str]) {
    use app::server::provision::lookup::{DomainLimits, insert_domain};
    server::db::migrate(db).await.unwrap();
    let now = chrono::Utc::now();
    for name in names {
        insert_domain(db, name, String::new(), None, &DomainLimits::NONE, now)
            .await
            .unwrap();
    }
}
