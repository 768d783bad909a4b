//! `carteiro backup --out FILE` and `carteiro restore --from FILE`: a
//! consistent copy of a SQLite database taken while `serve` and imports
//! keep writing, and putting such a copy back while nothing runs.
//!
//! **How the copy is made: `VACUUM INTO`**, on a connection of its own. It
//! reads the whole database inside one read transaction, so the copy is the
//! database as of one commit (an import batch and its checkpoint are both
//! in it or both not), and in WAL mode (which [`crate::db::connect`] sets)
//! a reader never blocks the writers: ingest, the portal and the purge go on
//! meanwhile. The copy is written compacted, in rollback-journal mode, with
//! the source's page size and `auto_vacuum`. SQLite's online backup API
//! (`sqlite3_backup_step`) would copy pages instead, but sqlx does not wrap
//! it: it would take unsafe FFI through the raw handle and a direct
//! `libsqlite3-sys` dependency, and copied in steps it starts again whenever
//! another connection writes (a busy ingest may never let it finish); in one
//! step it is one read transaction, as `VACUUM INTO` is. While the copy
//! runs, the WAL cannot be reset past its snapshot, so it grows by what is
//! written meanwhile and is folded back afterwards.
//!
//! Both commands check a copy before anyone relies on it: `PRAGMA
//! integrity_check`, and its migrations: at least Carteiro's first, none
//! this binary does not know (a newer version's). A copy older than this
//! binary is fine: `serve` migrates it on start.
//!
//! PostgreSQL is backed up with its own tools: both commands say which
//! command line to use and point to `docs/deploy.md`.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteLockingMode, SqlitePoolOptions};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _, SqliteConnection};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long `restore` waits for another process to let go of the database
/// before it says the database is in use.
const IN_USE_WAIT: Duration = Duration::from_secs(2);

/// `carteiro backup --out FILE [--force]`.
pub(super) async fn backup(cfg: &Config, out: &Path, force: bool) -> Result<()> {
    let source = sqlite_file(cfg, Verb::Backup, out)?;
    if !source.is_file() {
        bail!("there is no database at {}", source.display());
    }
    if out.exists() {
        if same_file(out, &source)? {
            bail!("{} is the database itself", out.display());
        }
        if !force {
            bail!(
                "{} exists: choose another file, or --force to replace it",
                out.display()
            );
        }
    }
    let partial = beside(out, "partial")?;
    let started = Instant::now();
    let made = async {
        vacuum_into(&source, &partial, false).await?;
        let copied = started.elapsed();
        let schema = check(&partial).await?;
        put_in_place(&partial, out, force)?;
        anyhow::Ok((copied, schema))
    }
    .await;
    let (copied, schema) = made.inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })?;
    let total = started.elapsed();
    let size = std::fs::metadata(out)?.len();
    println!(
        "Backed up {} to {}: {} in {:.1} s (copy {:.1} s, check {:.1} s).",
        source.display(),
        out.display(),
        megabytes(size),
        total.as_secs_f64(),
        copied.as_secs_f64(),
        (total - copied).as_secs_f64()
    );
    println!("Integrity check: ok. Schema: {schema}.");
    Ok(())
}

/// `carteiro restore --from FILE`.
pub(super) async fn restore(cfg: &Config, from: &Path) -> Result<()> {
    let target = sqlite_file(cfg, Verb::Restore, from)?;
    if !from.is_file() {
        bail!("{} is not a readable file", from.display());
    }
    let schema = check(from)
        .await
        .with_context(|| format!("{} cannot be restored", from.display()))?;
    let dir = folder(&target);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let kept = with_suffix(&target, ".before-restore");
    if target.exists() && kept.exists() {
        bail!(
            "{} exists (from an earlier restore): move it away first",
            kept.display()
        );
    }
    let incoming = beside(&target, "restoring")?;
    let done = async {
        // Through VACUUM INTO rather than a file copy: a WAL beside FILE is
        // folded in, and the result has no WAL of its own.
        vacuum_into(from, &incoming, true).await?;
        if target.exists() {
            take_over(&target).await?;
            let old = std::fs::metadata(&target)?;
            std::fs::set_permissions(&incoming, old.permissions())?;
            same_owner(&old, &incoming)?;
            std::fs::rename(&target, &kept)
                .with_context(|| format!("cannot rename {}", target.display()))?;
        } else {
            // A first database: the data directory's owner's, when this
            // user may give it (root restoring into /var/lib/carteiro).
            let _ = same_owner(&std::fs::metadata(folder(&target))?, &incoming);
        }
        // A WAL left beside the database would be replayed into the
        // restored file: with the old database checkpointed above, what is
        // left is stale.
        for stale in [with_suffix(&target, "-wal"), with_suffix(&target, "-shm")] {
            match std::fs::remove_file(&stale) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot remove {}", stale.display()));
                }
                _ => {}
            }
        }
        std::fs::rename(&incoming, &target)
            .with_context(|| format!("cannot rename {}", incoming.display()))?;
        sync_dir(&target)
    }
    .await;
    done.inspect_err(|_| {
        let _ = std::fs::remove_file(&incoming);
    })?;
    println!(
        "Restored {} into {} (schema: {schema}).",
        from.display(),
        target.display()
    );
    if kept.exists() {
        println!("The previous database is kept as {}.", kept.display());
    }
    if schema.pending > 0 {
        println!("`carteiro serve` (or `carteiro migrate`) brings it up to this version's schema.");
    }
    Ok(())
}

/// The two commands, for the PostgreSQL advice.
#[derive(Clone, Copy)]
enum Verb {
    Backup,
    Restore,
}

/// The configured SQLite file; on PostgreSQL, an error naming the tool to
/// use instead (`file` is the command's FILE, for the example line).
fn sqlite_file(cfg: &Config, verb: Verb, file: &Path) -> Result<PathBuf> {
    let url = &cfg.database.url;
    if url.starts_with("postgres") {
        let url = without_password(url);
        let file = file.display();
        let command = match verb {
            Verb::Backup => format!("pg_dump --format=custom --file='{file}' '{url}'"),
            Verb::Restore => {
                format!("pg_restore --clean --if-exists --no-owner --dbname='{url}' '{file}'")
            }
        };
        bail!(
            "this database is PostgreSQL: carteiro backup and restore copy SQLite files only. \
             Use PostgreSQL's tools, e.g.\n    {command}\n\
             (the password from ~/.pgpass or PGPASSWORD). Point-in-time recovery, and the \
             tables a dump may leave out, are in docs/deploy.md (\"Backups\")."
        );
    }
    match crate::db::sqlite_path(url) {
        Some(path) => Ok(PathBuf::from(path)),
        None => bail!(
            "{} is not a SQLite file (an in-memory database has nothing to copy)",
            crate::db::redact(url)
        ),
    }
}

/// A database URL without its password: a `pg_dump` command line to show
/// (libpq then reads the password from `~/.pgpass` or `PGPASSWORD`).
fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            let user = user.split_once(':').map_or(user, |(user, _)| user);
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Connection options for an existing file (never creates one). A copy
/// takes long by design: no "slow statement" warnings.
fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10))
        .disable_statement_logging()
}

/// Writes a consistent copy of the database at `from` to the new file `to`.
async fn vacuum_into(from: &Path, to: &Path, read_only: bool) -> Result<()> {
    let mut conn = SqliteConnection::connect_with(&options(from).read_only(read_only))
        .await
        .with_context(|| format!("cannot open {}", from.display()))?;
    let to_text = to
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", to.display()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(to_text)
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    conn.close().await.ok();
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", to.display()))
}

/// Where a copy stands in its migrations.
struct Schema {
    applied: usize,
    pending: usize,
}

impl std::fmt::Display for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} migrations", self.applied)?;
        match self.pending {
            0 => write!(f, ", this version's"),
            n => write!(f, ", {n} older than this version"),
        }
    }
}

/// Checks the SQLite file at `path`: SQLite's integrity check, and a
/// Carteiro schema this binary can open (older is fine, newer is not).
async fn check(path: &Path) -> Result<Schema> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options(path).read_only(true))
        .await
        .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await
        .with_context(|| format!("{} is not a sound SQLite database", path.display()))?;
    if problems != ["ok"] {
        let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
        bail!(
            "{} fails SQLite's integrity check: {}",
            path.display(),
            shown.join("; ")
        );
    }
    let db = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    let pending = Migrator::get_pending_migrations_read_only(&db)
        .await
        .with_context(|| {
            format!(
                "{} holds migrations this carteiro does not know: a newer version's \
                 database (upgrade carteiro first), or not Carteiro's",
                path.display()
            )
        })?
        .len();
    db.close().await.ok();
    let applied = Migrator::migrations().len() - pending;
    if applied == 0 {
        bail!(
            "{} is not a Carteiro database (none of Carteiro's migrations applied)",
            path.display()
        );
    }
    Ok(Schema { applied, pending })
}

/// Makes sure no other process has the database at `path` open (a running
/// `serve` keeps it open), then folds its WAL into the file, so the file
/// alone holds everything committed.
async fn take_over(path: &Path) -> Result<()> {
    // In WAL mode every open connection holds a shared lock on the file;
    // only a connection in exclusive locking mode asks for an exclusive one
    // (a plain BEGIN EXCLUSIVE in WAL mode still lets readers in).
    let in_use = || {
        format!(
            "{} is in use by another process: stop `carteiro serve` (systemctl stop carteiro) \
             and any import first",
            path.display()
        )
    };
    let mut conn = SqliteConnection::connect_with(
        &options(path)
            .busy_timeout(IN_USE_WAIT)
            .locking_mode(SqliteLockingMode::Exclusive),
    )
    .await
    .with_context(in_use)?;
    // The lock, once taken, is kept until the connection closes.
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut conn)
        .await
        .with_context(in_use)?;
    sqlx::query("COMMIT").execute(&mut conn).await?;
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("cannot checkpoint {}", path.display()))?;
    if busy != 0 {
        bail!(in_use());
    }
    conn.close().await.ok();
    Ok(())
}

/// Gives `file` the owner `like` has (a restore run as root must leave a
/// file the `carteiro` user can write).
fn same_owner(like: &std::fs::Metadata, file: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mine = std::fs::metadata(file)?;
    if (mine.uid(), mine.gid()) != (like.uid(), like.gid()) {
        std::os::unix::fs::chown(file, Some(like.uid()), Some(like.gid())).with_context(|| {
            format!(
                "cannot give {} the database's owner (run restore as that user or as root)",
                file.display()
            )
        })?;
    }
    Ok(())
}

/// The folder `path` is in.
fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Puts the checked copy `partial` at `out`: over it with `force`, else
/// only if `out` still does not exist (a hard link fails rather than
/// replace a file that appeared meanwhile).
fn put_in_place(partial: &Path, out: &Path, force: bool) -> Result<()> {
    let placed = if force {
        std::fs::rename(partial, out)
    } else {
        match std::fs::hard_link(partial, out) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                bail!("{} appeared meanwhile: not replaced", out.display())
            }
            // A file system without hard links.
            Err(_) if !out.exists() => std::fs::rename(partial, out),
            linked => linked.and_then(|()| std::fs::remove_file(partial)),
        }
    };
    placed.with_context(|| format!("cannot write {}", out.display()))?;
    sync_dir(out)
}

/// Whether `a` and `b` are the same file (through links too).
fn same_file(a: &Path, b: &Path) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (std::fs::metadata(a)?, std::fs::metadata(b)?);
    Ok((a.dev(), a.ino()) == (b.dev(), b.ino()))
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A new file name in `path`'s folder (so a rename onto `path` is atomic),
/// unique to this process; a leftover of an earlier run is removed.
fn beside(path: &Path, what: &str) -> Result<PathBuf> {
    let tmp = with_suffix(path, &format!(".{what}-{}", std::process::id()));
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", tmp.display()))
        }
        _ => Ok(tmp),
    }
}

/// Makes a rename in `path`'s folder durable.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = folder(path);
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pg_dump_line_carries_no_password() {
        assert_eq!(
            without_password("postgres://carteiro:s3cr:et@db.example.net:5432/carteiro"),
            "postgres://carteiro@db.example.net:5432/carteiro"
        );
        assert_eq!(
            without_password("postgres://carteiro@db/carteiro"),
            "postgres://carteiro@db/carteiro"
        );
        assert_eq!(
            without_password("postgres://db/carteiro"),
            "postgres://db/carteiro"
        );
    }
}
