//! Bulk CSV import of mailboxes and aliases, run as a background job. Every
//! row becomes the same request a form would send (`mailbox_create` or
//! `alias_create`).
//!
//! **How it holds up under load.** The file is checked and parsed first
//! (header, size, row count) and the job recorded in `import_job`; the
//! rows then run in the background, a chunk at a time: a chunk's new
//! passwords are hashed *before* its transaction opens (the slow part,
//! holding no lock), then the chunk runs in one short write transaction,
//! each row in a savepoint. So a 50,000-row file never keeps sign-ins,
//! other provisioning or log ingestion waiting for more than one chunk.
//! Imports take turns hashing (one password at a time in the process), so
//! several large imports at once still leave the other cores free.
//! Progress (rows done / total) is stored after each chunk; the page polls
//! it and the API answers it at `GET /api/v1/import/{id}`.
//!
//! **Atomicity: per row.** Each row is applied completely, with its audit
//! entry, or not at all; a real import writes every row without errors and
//! reports the others by line (fix them and import those rows again). A
//! job interrupted by a restart is marked failed when next read: the rows
//! it had committed stay (each complete and audited); its progress says how
//! far it got. A preview (dry run) writes nothing: each chunk is rolled
//! back. Later rows see earlier ones, so an alias may point to a mailbox
//! created higher up in the same file — in a preview, within its chunk of
//! [`PREVIEW_CHUNK`] rows.
//!
//! Generated passwords are never stored readable: they stay in the memory
//! of the server that ran the job and are handed out once, in the first
//! answer after the end, to the one who started it.
//!
//! Columns (header required, any order): `kind` (`mailbox` or `alias`),
//! `address`, and for mailboxes `name`, `password` (empty: generated),
//! `quota_mb` (empty: the domain's default), `send_only`, `receive_only`
//! (`yes`/`no`); for aliases `targets` (separated by spaces or `;`) and
//! `description`.

use super::{Context, Prepared, dispatch};
use crate::errors::AppError;
use crate::model::Roles;
use crate::provision::{ImportJob, ImportOutcome, ImportRow, ImportStatus};
use crate::server::audit::{self, Actor};
use crate::server::entities::import_job;
use crate::server::retry;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// Largest file accepted.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// Most rows in one import.
pub const MAX_ROWS: usize = 50_000;
/// Rows hashed, then written in one transaction, in a real import.
pub const APPLY_CHUNK: usize = 50;
/// Rows checked in one rolled-back transaction in a preview.
pub const PREVIEW_CHUNK: usize = 500;
/// A preview chunk's transaction ends early after this long (once it has
/// done [`APPLY_CHUNK`] rows, so it holds the write lock no longer than an
/// import's chunk would).
const CHUNK_TIME: Duration = Duration::from_millis(250);
/// A running job whose progress has not moved for this long was
/// interrupted (its server stopped).
pub const STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(2);
/// How long a request starting an import waits for it to end before
/// answering with its progress instead.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(3);
/// Generated passwords not collected within this long are forgotten.
const SECRETS_KEPT: Duration = Duration::from_secs(3600);

const COLUMNS: [&str; 9] = [
    "kind",
    "address",
    "name",
    "password",
    "quota_mb",
    "send_only",
    "receive_only",
    "targets",
    "description",
];

/// One row of the file: its request, or why it has none.
#[derive(Clone)]
struct CsvRow {
    line: usize,
    kind: String,
    address: String,
    request: Result<(&'static str, Value), String>,
}

/// Checks the file (size, header, row count) and reads its rows; a
/// problem with the file as a whole is an error of the field `csv`.
fn parse(csv_text: &str) -> Result<Vec<CsvRow>, AppError> {
    if csv_text.len() > MAX_BYTES {
        return Err(AppError::field(
            "csv",
            format!("The file is larger than {} MB.", MAX_BYTES >> 20),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(csv_text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| AppError::field("csv", format!("Cannot read the header line: {e}")))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    if let Some(bad) = headers.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(AppError::field(
            "csv",
            format!(
                "Unknown column {bad:?}; the columns are {}.",
                COLUMNS.join(", ")
            ),
        ));
    }
    for needed in ["kind", "address"] {
        if !headers.iter().any(|h| h == needed) {
            return Err(AppError::field(
                "csv",
                format!("The header has no {needed:?} column."),
            ));
        }
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if i >= MAX_ROWS {
            return Err(AppError::field(
                "csv",
                format!("At most {MAX_ROWS} rows per import."),
            ));
        }
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push(CsvRow {
                    line: e.position().map(|p| p.line() as usize).unwrap_or(line),
                    kind: String::new(),
                    address: String::new(),
                    request: Err(format!("Unreadable row: {e}")),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(line);
        let field = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .to_string()
        };
        rows.push(CsvRow {
            line,
            kind: field("kind"),
            address: field("address"),
            request: request_of(&field),
        });
    }
    if rows.is_empty() {
        return Err(AppError::field(
            "csv",
            "The file has no rows under its header.",
        ));
    }
    Ok(rows)
}

/// Checks the file, records the job and starts it in the background.
pub async fn start(
    db: &DatabaseConnection,
    actor: &Actor,
    ctx: &Context,
    roles: &Roles,
    csv_text: &str,
) -> Result<(ImportJob, tokio::task::JoinHandle<()>), AppError> {
    let rows = parse(csv_text)?;
    let now = chrono::Utc::now();
    let job = import_job::ActiveModel {
        nonce: Set(nonce()),
        staff_id: Set(actor.id),
        started_by: Set(actor.name.chars().take(128).collect()),
        dry_run: Set(ctx.dry_run),
        status: Set(ImportStatus::Running),
        total: Set(rows.len() as i32),
        done: Set(0),
        errors: Set(0),
        applied: Set(0),
        message: Set(None),
        result: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let view = view_of(&job, None);
    let (db, actor, ctx, roles) = (db.clone(), actor.clone(), ctx.clone(), roles.clone());
    let id = job.id;
    let handle = tokio::spawn(async move {
        let finish = match work(&db, id, &actor, &ctx, &roles, rows).await {
            Ok(outcome) => finish(&db, &job, &actor, outcome).await,
            Err(e) => {
                tracing::error!(job = id, "CSV import failed: {e}");
                fail(&db, id, &format!("The import stopped: {e}")).await
            }
        };
        if let Err(e) = finish {
            tracing::error!(job = id, "cannot record the end of a CSV import: {e}");
        }
    });
    Ok((view, handle))
}

/// Starts an import and waits up to `wait` for it: the job, finished or not.
pub async fn start_and_wait(
    db: &DatabaseConnection,
    actor: &Actor,
    ctx: &Context,
    roles: &Roles,
    csv_text: &str,
    wait: Duration,
) -> Result<ImportJob, AppError> {
    let (job, handle) = start(db, actor, ctx, roles, csv_text).await?;
    let _ = tokio::time::timeout(wait, handle).await;
    status(db, job.id, actor).await
}

/// The rows, a chunk at a time.
async fn work(
    db: &DatabaseConnection,
    id: i32,
    actor: &Actor,
    ctx: &Context,
    roles: &Roles,
    rows: Vec<CsvRow>,
) -> Result<ImportOutcome, AppError> {
    let chunk = if ctx.dry_run {
        PREVIEW_CHUNK
    } else {
        APPLY_CHUNK
    };
    let mut results: Vec<ImportRow> = Vec::with_capacity(rows.len());
    let mut written = 0;
    while results.len() < rows.len() {
        let start = results.len();
        let end = (start + chunk).min(rows.len());
        // The slow part (hashing new passwords) before the transaction.
        let mut prepared = Vec::with_capacity(end - start);
        for row in &rows[start..end] {
            // One row hashed at a time across all imports: however many
            // run, they keep at most one core busy hashing.
            let _turn = HASHING.acquire().await.map_err(|_| AppError::Internal)?;
            prepared.push(match &row.request {
                Err(message) => Err(AppError::Validation(message.clone())),
                Ok((kind, body)) => match dispatch(ctx, roles, kind, body.clone()).await {
                    Err(AppError::Internal) => return Err(AppError::Internal),
                    other => other,
                },
            });
        }
        let done = retry::retrying(
            "CSV import chunk",
            |e| matches!(e, AppError::Busy),
            || run_chunk(db, actor, ctx, &rows[start..end], &prepared),
        )
        .await?;
        written += done.iter().filter(|r| r.error.is_none()).count();
        results.extend(done);
        let errors = results.iter().filter(|r| r.error.is_some()).count();
        progress(
            db,
            id,
            results.len(),
            errors,
            if ctx.dry_run { 0 } else { written },
        )
        .await?;
        // Let waiting writers (sign-ins, other requests) in between chunks.
        tokio::task::yield_now().await;
    }
    Ok(ImportOutcome {
        dry_run: ctx.dry_run,
        applied: !ctx.dry_run && written == results.len(),
        written: if ctx.dry_run { 0 } else { written },
        rows: results,
    })
}

/// Runs the prepared rows in one write transaction, each in a savepoint;
/// committed unless a preview. A preview chunk may stop early (after
/// [`APPLY_CHUNK`] rows and [`CHUNK_TIME`]): it returns the rows it did.
async fn run_chunk(
    db: &DatabaseConnection,
    actor: &Actor,
    ctx: &Context,
    rows: &[CsvRow],
    prepared: &[Result<Prepared, AppError>],
) -> Result<Vec<ImportRow>, AppError> {
    let tx = retry::begin_write(db).await?;
    let started = Instant::now();
    let mut out = Vec::with_capacity(rows.len());
    for (row, request) in rows.iter().zip(prepared) {
        // Not before APPLY_CHUNK rows: a small file is previewed in one
        // transaction whatever the load, so its rows always see each other.
        if ctx.dry_run && out.len() >= APPLY_CHUNK && started.elapsed() > CHUNK_TIME {
            break;
        }
        let failed = |message: String| ImportRow {
            line: row.line,
            kind: row.kind.clone(),
            target: row.address.clone(),
            summary: None,
            error: Some(message),
            secret: None,
        };
        let request = match request {
            Ok(r) => r,
            Err(e) => {
                out.push(failed(e.to_string()));
                continue;
            }
        };
        let savepoint = tx.begin().await?;
        match request.run_in(&savepoint, actor, ctx).await {
            Ok(done) => {
                savepoint.commit().await?;
                out.push(ImportRow {
                    line: row.line,
                    kind: request.kind.into(),
                    target: done.target,
                    summary: Some(done.summary),
                    error: None,
                    secret: done.secret,
                });
            }
            // The database, not the row: the whole chunk fails (or is tried again).
            Err(e @ (AppError::Internal | AppError::Busy)) => return Err(e),
            Err(e) => {
                savepoint.rollback().await?;
                out.push(failed(e.to_string()));
            }
        }
    }
    if ctx.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(out)
}

/// Stores how far a job got (also its sign of life).
async fn progress(
    db: &DatabaseConnection,
    id: i32,
    done: usize,
    errors: usize,
    written: usize,
) -> Result<(), AppError> {
    import_job::Entity::update_many()
        .col_expr(import_job::Column::Done, Expr::value(done as i32))
        .col_expr(import_job::Column::Errors, Expr::value(errors as i32))
        .col_expr(import_job::Column::Applied, Expr::value(written as i32))
        .col_expr(
            import_job::Column::UpdatedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(import_job::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records the outcome (without passwords, which stay here in memory
/// until collected) and, for a real import that wrote rows, one audit entry.
async fn finish(
    db: &DatabaseConnection,
    job: &import_job::Model,
    actor: &Actor,
    mut outcome: ImportOutcome,
) -> Result<(), AppError> {
    let id = job.id;
    let secrets: Vec<(usize, String)> = outcome
        .rows
        .iter_mut()
        .enumerate()
        .filter_map(|(i, r)| r.secret.take().map(|s| (i, s)))
        .collect();
    if !secrets.is_empty() {
        let mut kept = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|_, (at, _)| at.elapsed() < SECRETS_KEPT);
        kept.insert(job.nonce.clone(), (Instant::now(), secrets));
    }
    let result = serde_json::to_string(&outcome).map_err(|_| AppError::Internal)?;
    let tx = retry::begin_write(db).await?;
    if outcome.written > 0 {
        let summary = serde_json::json!({
            "job": id,
            "rows": outcome.rows.len(),
            "written": outcome.written,
            "errors": outcome.errors(),
        });
        audit::record(
            &tx,
            actor,
            "provision.import",
            "csv",
            audit::NONE,
            Some(&summary),
        )
        .await?;
    }
    import_job::Entity::update_many()
        .col_expr(import_job::Column::Status, Expr::value(ImportStatus::Done))
        .col_expr(
            import_job::Column::Done,
            Expr::value(outcome.rows.len() as i32),
        )
        .col_expr(
            import_job::Column::Errors,
            Expr::value(outcome.errors() as i32),
        )
        .col_expr(
            import_job::Column::Applied,
            Expr::value(outcome.written as i32),
        )
        .col_expr(import_job::Column::Result, Expr::value(result))
        .col_expr(
            import_job::Column::UpdatedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(import_job::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn fail(db: &DatabaseConnection, id: i32, message: &str) -> Result<(), AppError> {
    import_job::Entity::update_many()
        .col_expr(
            import_job::Column::Status,
            Expr::value(ImportStatus::Failed),
        )
        .col_expr(import_job::Column::Message, Expr::value(message))
        .col_expr(
            import_job::Column::UpdatedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(import_job::Column::Id.eq(id))
        .filter(import_job::Column::Status.eq(ImportStatus::Running))
        .exec(db)
        .await?;
    Ok(())
}

/// Imports take turns hashing new passwords (see [`work`]).
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| tokio::sync::Semaphore::new(1));

/// Generated passwords of finished jobs, by the job's nonce (ids repeat
/// across databases; one process may serve several, as the tests do):
/// (when, [(row, password)]).
type Secrets = HashMap<String, (Instant, Vec<(usize, String)>)>;
static SECRETS: LazyLock<Mutex<Secrets>> = LazyLock::new(Default::default);

/// A job as its page and the API see it. A job that stopped moving (its
/// server stopped) is marked failed here. The job's generated passwords
/// go, once, to the one who started it.
pub async fn status(
    db: &DatabaseConnection,
    id: i32,
    caller: &Actor,
) -> Result<ImportJob, AppError> {
    let not_found = || AppError::NotFound(format!("The import {id}"));
    let mut job = import_job::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if job.status == ImportStatus::Running && job.updated_at < chrono::Utc::now() - STALE_AFTER {
        fail(
            db,
            id,
            "Interrupted: the server running it stopped. The rows it had written stay; \
             import the rest again (rows already there are reported as existing).",
        )
        .await?;
        job = import_job::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(not_found)?;
    }
    let mut outcome: Option<ImportOutcome> = match &job.result {
        Some(json) => Some(serde_json::from_str(json).map_err(|e| {
            tracing::error!(job = id, "unreadable import result: {e}");
            AppError::Internal
        })?),
        None => None,
    };
    let starter = match caller.id {
        Some(staff) => job.staff_id == Some(staff),
        None => job.staff_id.is_none() && job.started_by == caller.name,
    };
    if let Some(outcome) = &mut outcome
        && starter
    {
        let secrets = SECRETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&job.nonce);
        for (row, secret) in secrets.map(|(_, s)| s).unwrap_or_default() {
            if let Some(r) = outcome.rows.get_mut(row) {
                r.secret = Some(secret);
            }
        }
    }
    Ok(view_of(&job, outcome))
}

/// A random key for the job's generated passwords in memory.
fn nonce() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn view_of(job: &import_job::Model, outcome: Option<ImportOutcome>) -> ImportJob {
    ImportJob {
        id: job.id,
        dry_run: job.dry_run,
        status: job.status,
        total: job.total.max(0) as usize,
        done: job.done.max(0) as usize,
        errors: job.errors.max(0) as usize,
        written: job.applied.max(0) as usize,
        message: job.message.clone(),
        outcome,
        started_by: job.started_by.clone(),
        created_at: job.created_at,
        updated_at: job.updated_at,
    }
}

/// The request kind and its JSON body for one row.
fn request_of(field: &dyn Fn(&str) -> String) -> Result<(&'static str, Value), String> {
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        body.insert(k.to_string(), v);
    };
    put("address", field("address").into());
    let kind = match field("kind").to_lowercase().as_str() {
        "mailbox" => {
            for k in ["name", "password", "quota_mb"] {
                put(k, field(k).into());
            }
            for k in ["send_only", "receive_only"] {
                put(
                    k,
                    yes_no(&field(k)).map_err(|e| format!("{k}: {e}"))?.into(),
                );
            }
            "mailbox_create"
        }
        "alias" => {
            put("targets", field("targets").into());
            put("description", field("description").into());
            "alias_create"
        }
        other => return Err(format!("Unknown kind {other:?}: use mailbox or alias.")),
    };
    Ok((kind, Value::Object(body)))
}

fn yes_no(s: &str) -> Result<bool, String> {
    match s.trim().to_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => Ok(false),
        "yes" | "y" | "true" | "1" => Ok(true),
        other => Err(format!("{other:?} is not yes or no")),
    }
}
