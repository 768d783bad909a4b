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
//! **The file.** UTF-8, with or without a byte-order mark, or else
//! Windows-1252 (what Excel in Portuguese saves as "CSV"); a file that
//! mixes the two, or is UTF-16, is refused naming the line. The separator
//! is the header line's: `,`, `;` (Excel in Portuguese) or a tab. Lines end
//! in LF or CRLF; rows whose cells are all empty are skipped (spreadsheets
//! add them). Every message names the line, and the column as the file
//! names it, in the caller's language.
//!
//! **Preview first.** Each job stores its file's fingerprint (SHA-256 of
//! the bytes). An import from the portal names the fingerprint of its
//! preview and runs only after a preview of that same file, by the same
//! staff member, within [`PREVIEW_VALID`], that had no errors.
//!
//! **Generated passwords** are never stored readable: they stay in the
//! memory of the server that ran the job, for [`SECRETS_KEPT`] at most.
//! The one who started the job gets them once in the first answer after
//! the end, and once (or an admin does) as a CSV download
//! ([`take_passwords`]), which forgets them.
//!
//! Columns (header required, any order; each also by its Portuguese
//! name): `kind`/`tipo` (`mailbox`/`caixa` or `alias`),
//! `address`/`endereco`, and for mailboxes `name`/`nome`,
//! `password`/`senha` (empty: generated), `quota_mb`/`cota_mb` (empty: the
//! domain's default), `send_only`/`somente_envio`,
//! `receive_only`/`somente_recebimento` (`yes`/`no`, `sim`/`não`, `s`/`n`,
//! `1`/`0`…); for aliases `targets`/`destinos` (separated by spaces) and
//! `description`/`descricao`. Case, accents, spaces and hyphens in the
//! names do not matter (`Endereço`, `Somente envio`).

use super::{Context, Prepared, dispatch};
use crate::errors::AppError;
use crate::i18n::Lang;
use crate::i18n::common::Common;
use crate::model::Roles;
use crate::pages::mailbox_import::ImportTexts;
use crate::provision::{ImportJob, ImportOutcome, ImportRow, ImportStatus};
use crate::server::audit::{self, Actor};
use crate::server::entities::import_job;
use crate::server::retry;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde_json::{Map, Value};
use std::borrow::Cow;
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
/// Generated passwords not downloaded within this long are forgotten.
pub const SECRETS_KEPT: Duration = Duration::from_secs(30 * 60);
/// How long a clean preview lets the same file be imported.
pub const PREVIEW_VALID: chrono::TimeDelta = chrono::TimeDelta::hours(2);
/// The longest cell kept in a row's result or quoted in a message (an
/// address has at most 254 characters).
const CELL_SHOWN: usize = 256;

/// The columns, each with the Portuguese name a file may use instead
/// (compared after [`fold`]).
const COLUMNS: [(&str, &str); 9] = [
    ("kind", "tipo"),
    ("address", "endereco"),
    ("name", "nome"),
    ("password", "senha"),
    ("quota_mb", "cota_mb"),
    ("send_only", "somente_envio"),
    ("receive_only", "somente_recebimento"),
    ("targets", "destinos"),
    ("description", "descricao"),
];

/// What an import is asked to read.
pub struct Upload<'a> {
    /// The file as sent.
    pub bytes: &'a [u8],
    /// The caller's language, for the messages.
    pub lang: Lang,
    /// For an import (not a preview) from the portal: the fingerprint of
    /// the clean preview it follows (empty: none). `None` for scripts,
    /// which import without a preview.
    pub previewed: Option<&'a str>,
    /// Whether the answer of [`start_and_wait`] may carry the generated
    /// passwords (their one showing). Not when the caller is sent on to
    /// the page, which shows them.
    pub reveal: bool,
}

/// One row of the file: its request, or why it has none.
#[derive(Clone)]
struct CsvRow {
    line: usize,
    kind: String,
    address: String,
    request: Result<(&'static str, Value), String>,
}

/// The SHA-256 of the file's bytes, in hex: what a preview and the import
/// after it must agree on.
pub fn fingerprint(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The file's text: UTF-8 (without its byte-order mark) or, when it is not
/// UTF-8 at all, Windows-1252. A file that is partly UTF-8, UTF-16, or has
/// bytes that are text in neither is refused, naming the line.
fn decode(bytes: &[u8], t: ImportTexts) -> Result<Cow<'_, str>, AppError> {
    let refuse = |message: String| AppError::field("csv", message);
    if bytes.len() > MAX_BYTES {
        return Err(refuse(t.file_too_large(MAX_BYTES >> 20)));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(refuse(t.utf16().into()));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bad = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(Cow::Borrowed(text)),
        Err(e) => e.valid_up_to(),
    };
    let line_of = |at: usize| bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    if has_utf8_sequence(bytes) {
        return Err(refuse(t.not_utf8(line_of(bad))));
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    for (at, &b) in bytes.iter().enumerate() {
        match windows_1252(b) {
            Some(c) => text.push(c),
            None => return Err(refuse(t.not_text(line_of(at)))),
        }
    }
    Ok(Cow::Owned(text))
}

/// Whether the bytes hold a well-formed multi-byte UTF-8 sequence: Latin
/// text in Windows-1252 practically never does (`Ã` followed by `©`…).
fn has_utf8_sequence(bytes: &[u8]) -> bool {
    let cont = |b: u8| (0x80..=0xBF).contains(&b);
    bytes
        .windows(2)
        .any(|w| (0xC2..=0xDF).contains(&w[0]) && cont(w[1]))
        || bytes
            .windows(3)
            .any(|w| (0xE0..=0xEF).contains(&w[0]) && cont(w[1]) && cont(w[2]))
}

/// A Windows-1252 byte as a character; `None` for the five it leaves undefined.
fn windows_1252(b: u8) -> Option<char> {
    const HIGH: [char; 32] = [
        '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', '\0',
        '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => Some(HIGH[usize::from(b - 0x80)]).filter(|&c| c != '\0'),
        _ => Some(char::from(b)),
    }
}

/// The separator the header line uses most, outside quotes: `,`, `;` or tab.
fn separator(text: &str) -> u8 {
    let header = text.split('\n').next().unwrap_or("");
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in header.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let [comma, semicolon, tab] = counts;
    if semicolon > comma && semicolon >= tab {
        b';'
    } else if tab > comma && tab > semicolon {
        b'\t'
    } else {
        b','
    }
}

/// A column name compared: lower case, without accents, spaces and
/// hyphens as `_` (`Endereço` → `endereco`, `Somente envio` → `somente_envio`).
fn fold(name: &str) -> String {
    name.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            ' ' | '-' => '_',
            c => c,
        })
        .collect()
}

/// The column a header cell names, by its English or Portuguese name.
fn column_named(cell: &str) -> Option<&'static str> {
    let folded = fold(cell);
    COLUMNS
        .iter()
        .find(|(en, pt)| folded == *en || folded == *pt)
        .map(|(en, _)| *en)
}

/// At most [`CELL_SHOWN`] characters of a cell.
fn clip(cell: &str) -> String {
    cell.chars().take(CELL_SHOWN).collect()
}

/// The header: for each column of the file, its name (English) and how
/// the file writes it.
struct Header {
    columns: Vec<(&'static str, String)>,
}

impl Header {
    fn read(cells: &csv::StringRecord, t: ImportTexts) -> Result<Header, AppError> {
        let mut columns: Vec<(&'static str, String)> = Vec::with_capacity(cells.len());
        for (i, cell) in cells.iter().enumerate() {
            let n = i + 1;
            if cell.trim().is_empty() {
                return Err(AppError::field("csv", t.unnamed_column(n)));
            }
            let known = COLUMNS
                .iter()
                .map(|(en, pt)| format!("{en}/{pt}"))
                .collect::<Vec<_>>()
                .join(", ");
            let name = column_named(cell)
                .ok_or_else(|| AppError::field("csv", t.unknown_column(n, &clip(cell), &known)))?;
            if columns.iter().any(|(c, _)| *c == name) {
                return Err(AppError::field("csv", t.twice_column(n, &clip(cell))));
            }
            columns.push((name, cell.trim().to_string()));
        }
        for needed in ["kind", "address"] {
            if !columns.iter().any(|(c, _)| *c == needed) {
                return Err(AppError::field("csv", t.missing_column(needed)));
            }
        }
        Ok(Header { columns })
    }

    /// The cell of column `name` in `record` ("" when the file has none).
    fn cell<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        self.columns
            .iter()
            .position(|(c, _)| *c == name)
            .and_then(|i| record.get(i))
            .unwrap_or("")
    }

    /// How the file names column `name` (a request's field).
    fn written(&self, name: &str) -> String {
        self.columns
            .iter()
            .find(|(c, _)| *c == name)
            .map_or_else(|| name.to_string(), |(_, w)| w.clone())
    }
}

/// Checks the file (encoding, size, header, row count) and reads its rows;
/// a problem with the file as a whole is an error of the field `csv`.
fn parse(bytes: &[u8], t: ImportTexts) -> Result<(Header, Vec<CsvRow>), AppError> {
    let mut text = decode(bytes, t)?;
    // The reader counts a record's line before the LF of a CRLF: as LF,
    // its lines are the file's.
    if text.contains("\r\n") {
        text = Cow::Owned(text.replace("\r\n", "\n"));
    }
    if text.trim().is_empty() {
        return Err(AppError::field("csv", t.empty_file()));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(&text))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = Header::read(
        reader
            .headers()
            .map_err(|e| AppError::field("csv", t.unreadable(1, &e.to_string())))?,
        t,
    )?;
    let width = header.columns.len();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line() as usize);
                return Err(AppError::field("csv", t.unreadable(line, &e.to_string())));
            }
        }
        // Spreadsheets end a sheet with rows of empty cells.
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(AppError::field("csv", t.too_many_rows(MAX_ROWS)));
        }
        let line = record.position().map_or(line, |p| p.line() as usize);
        let extra_is_empty = record.iter().skip(width).all(str::is_empty);
        let request = if record.len() < width || !extra_is_empty {
            Err(t.row_width(record.len(), width))
        } else {
            request_of(&header, &record, t)
        };
        rows.push(CsvRow {
            line,
            kind: clip(header.cell(&record, "kind")),
            address: clip(header.cell(&record, "address")),
            request,
        });
    }
    if rows.is_empty() {
        return Err(AppError::field("csv", t.no_rows()));
    }
    Ok((header, rows))
}

/// Refuses an import from the portal that does not follow a clean preview
/// of the same file by the same staff member.
async fn check_previewed(
    db: &DatabaseConnection,
    actor: &Actor,
    bytes: &[u8],
    claimed: &str,
    t: ImportTexts,
) -> Result<String, AppError> {
    let refuse = |message: String| AppError::field("csv", message);
    if claimed.is_empty() {
        return Err(refuse(t.preview_first().into()));
    }
    let actual = fingerprint(bytes);
    if claimed != actual {
        return Err(refuse(t.not_previewed_file().into()));
    }
    let mut previews = import_job::Entity::find()
        .filter(import_job::Column::DryRun.eq(true))
        .filter(import_job::Column::Fingerprint.eq(actual.as_str()))
        .filter(import_job::Column::CreatedAt.gt(chrono::Utc::now() - PREVIEW_VALID));
    previews = match actor.id {
        Some(staff) => previews.filter(import_job::Column::StaffId.eq(staff)),
        None => previews
            .filter(import_job::Column::StaffId.is_null())
            .filter(import_job::Column::StartedBy.eq(actor.name.as_str())),
    };
    let preview = previews
        .order_by_desc(import_job::Column::Id)
        .one(db)
        .await?;
    match preview {
        None => Err(refuse(t.preview_first().into())),
        Some(p) if p.status == ImportStatus::Running => Err(refuse(t.preview_running().into())),
        Some(p) if p.status == ImportStatus::Failed => Err(refuse(t.preview_first().into())),
        Some(p) if p.errors > 0 => Err(refuse(t.preview_had_errors(p.errors))),
        Some(_) => Ok(actual),
    }
}

/// Checks the file, records the job and starts it in the background.
pub async fn start(
    db: &DatabaseConnection,
    actor: &Actor,
    ctx: &Context,
    roles: &Roles,
    upload: Upload<'_>,
) -> Result<(ImportJob, tokio::task::JoinHandle<()>), AppError> {
    let t = ImportTexts(upload.lang);
    let (header, rows) = parse(upload.bytes, t)?;
    let print = match upload.previewed.filter(|_| !ctx.dry_run) {
        Some(claimed) => check_previewed(db, actor, upload.bytes, claimed, t).await?,
        None => fingerprint(upload.bytes),
    };
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
        fingerprint: Set(Some(print)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let view = view_of(&job, None);
    let (db, actor, ctx, roles) = (db.clone(), actor.clone(), ctx.clone(), roles.clone());
    let id = job.id;
    // The rows' messages and summaries are in the language of whoever
    // started the import, though the job outlives their request.
    let handle = tokio::spawn(crate::server::locale::with_lang(t.0, async move {
        let finish = match work(&db, id, &actor, &ctx, &roles, &header, rows).await {
            Ok(outcome) => finish(&db, &job, &actor, outcome).await,
            Err(e) => {
                tracing::error!(job = id, "CSV import failed: {e}");
                fail(&db, id, &t.stopped_by(&Common(t.0).error(&e))).await
            }
        };
        if let Err(e) = finish {
            tracing::error!(job = id, "cannot record the end of a CSV import: {e}");
        }
    }));
    Ok((view, handle))
}

/// Starts an import and waits up to `wait` for it: the job, finished or not.
pub async fn start_and_wait(
    db: &DatabaseConnection,
    actor: &Actor,
    ctx: &Context,
    roles: &Roles,
    upload: Upload<'_>,
    wait: Duration,
) -> Result<ImportJob, AppError> {
    let (lang, reveal) = (upload.lang, upload.reveal);
    let (job, handle) = start(db, actor, ctx, roles, upload).await?;
    let _ = tokio::time::timeout(wait, handle).await;
    read_status(db, job.id, actor, lang, reveal).await
}

/// The rows, a chunk at a time.
async fn work(
    db: &DatabaseConnection,
    id: i32,
    actor: &Actor,
    ctx: &Context,
    roles: &Roles,
    header: &Header,
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
            || run_chunk(db, actor, ctx, header, &rows[start..end], &prepared),
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
    header: &Header,
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
                out.push(failed(row_error(header, e)));
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
                out.push(failed(row_error(header, &e)));
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
    let secrets: Vec<(usize, String, String)> = outcome
        .rows
        .iter_mut()
        .enumerate()
        .filter_map(|(i, r)| r.secret.take().map(|s| (i, r.target.clone(), s)))
        .collect();
    if !secrets.is_empty() {
        let entry = Kept {
            at: Instant::now(),
            shown: false,
            rows: secrets,
        };
        kept().insert(job.nonce.clone(), entry);
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

/// A finished job's generated passwords, until downloaded or
/// [`SECRETS_KEPT`] has passed.
struct Kept {
    at: Instant,
    /// Already handed out in a status answer (which does so once).
    shown: bool,
    /// (row, address, password).
    rows: Vec<(usize, String, String)>,
}

/// Generated passwords of finished jobs, by the job's nonce (ids repeat
/// across databases; one process may serve several, as the tests do).
static SECRETS: LazyLock<Mutex<HashMap<String, Kept>>> = LazyLock::new(Default::default);

/// The passwords kept, after forgetting those kept too long.
fn kept() -> std::sync::MutexGuard<'static, HashMap<String, Kept>> {
    let mut kept = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    kept.retain(|_, k| k.at.elapsed() < SECRETS_KEPT);
    kept
}

/// Whether `caller` started `job`.
fn started(job: &import_job::Model, caller: &Actor) -> bool {
    match caller.id {
        Some(staff) => job.staff_id == Some(staff),
        None => job.staff_id.is_none() && job.started_by == caller.name,
    }
}

async fn job_of(db: &DatabaseConnection, id: i32) -> Result<import_job::Model, AppError> {
    import_job::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("#{id}")))
}

/// A job as its page and the API see it. A job that stopped moving (its
/// server stopped) is marked failed here. The job's generated passwords
/// go, once, to the one who started it.
pub async fn status(
    db: &DatabaseConnection,
    id: i32,
    caller: &Actor,
    lang: Lang,
) -> Result<ImportJob, AppError> {
    read_status(db, id, caller, lang, true).await
}

async fn read_status(
    db: &DatabaseConnection,
    id: i32,
    caller: &Actor,
    lang: Lang,
    reveal: bool,
) -> Result<ImportJob, AppError> {
    let mut job = job_of(db, id).await?;
    if job.status == ImportStatus::Running && job.updated_at < chrono::Utc::now() - STALE_AFTER {
        fail(db, id, ImportTexts(lang).interrupted()).await?;
        job = job_of(db, id).await?;
    }
    let mut outcome: Option<ImportOutcome> = match &job.result {
        Some(json) => Some(serde_json::from_str(json).map_err(|e| {
            tracing::error!(job = id, "unreadable import result: {e}");
            AppError::Internal
        })?),
        None => None,
    };
    if let Some(outcome) = &mut outcome
        && reveal
        && started(&job, caller)
        && let Some(kept) = kept().get_mut(&job.nonce).filter(|k| !k.shown)
    {
        kept.shown = true;
        for (row, _, secret) in &kept.rows {
            if let Some(r) = outcome.rows.get_mut(*row) {
                r.secret = Some(secret.clone());
            }
        }
    }
    Ok(view_of(&job, outcome))
}

/// A job's generated passwords as CSV (`address;password`, cells made
/// spreadsheet-safe), for the one who started it or an admin, once: they
/// are forgotten here. `None` when they were downloaded already, expired,
/// or the server that ran the job stopped.
pub async fn take_passwords(
    db: &DatabaseConnection,
    id: i32,
    caller: &Actor,
    admin: bool,
) -> Result<Option<String>, AppError> {
    let job = job_of(db, id).await?;
    if !(admin || started(&job, caller)) {
        return Err(AppError::Forbidden);
    }
    let Some(kept) = kept().remove(&job.nonce) else {
        return Ok(None);
    };
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::from("\u{FEFF}"));
    let safe = |cell: &str| crate::server::report::spreadsheet_safe(cell).into_owned();
    let mut write = |a: &str, b: &str| {
        out.write_record([safe(a), safe(b)])
            .map_err(|_| AppError::Internal)
    };
    write("address", "password")?;
    for (_, address, password) in &kept.rows {
        write(address, password)?;
    }
    let bytes = out.into_inner().map_err(|_| AppError::Internal)?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| AppError::Internal)
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
        fingerprint: job.fingerprint.clone(),
        started_by: job.started_by.clone(),
        created_at: job.created_at,
        updated_at: job.updated_at,
    }
}

/// The request kind and its JSON body for one row, or what is wrong with
/// it (naming the column as the file names it).
fn request_of(
    header: &Header,
    record: &csv::StringRecord,
    t: ImportTexts,
) -> Result<(&'static str, Value), String> {
    let field = |name: &str| header.cell(record, name).to_string();
    let mut body = Map::new();
    body.insert("address".into(), field("address").into());
    let kind = match fold(&field("kind")).as_str() {
        "mailbox" | "caixa" | "caixa_postal" => {
            for k in ["name", "password", "quota_mb"] {
                body.insert(k.into(), field(k).into());
            }
            for k in ["send_only", "receive_only"] {
                let cell = field(k);
                let yes =
                    yes_no(&cell).ok_or_else(|| t.not_yes_no(&header.written(k), &clip(&cell)))?;
                body.insert(k.into(), yes.into());
            }
            "mailbox_create"
        }
        "alias" | "apelido" => {
            body.insert("targets".into(), field("targets").into());
            body.insert("description".into(), field("description").into());
            "alias_create"
        }
        _ => {
            let cell = clip(&field("kind"));
            return Err(t.unknown_kind(&header.written("kind"), &cell));
        }
    };
    Ok((kind, Value::Object(body)))
}

/// A yes/no cell, in English or Portuguese; empty is no.
fn yes_no(s: &str) -> Option<bool> {
    match fold(s).as_str() {
        "" | "no" | "n" | "false" | "0" | "nao" | "falso" => Some(false),
        "yes" | "y" | "true" | "1" | "sim" | "s" | "verdadeiro" => Some(true),
        _ => None,
    }
}

/// A row's error as its result says it: each bad field named as the file
/// names its column.
fn row_error(header: &Header, e: &AppError) -> String {
    match e {
        AppError::Fields(list) => list
            .iter()
            .map(|f| format!("{}: {}", header.written(&f.field), f.message))
            .collect::<Vec<_>>()
            .join(" "),
        other => Common(crate::server::locale::request_lang()).error(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EN: ImportTexts = ImportTexts(Lang::En);
    const PT: ImportTexts = ImportTexts(Lang::PtBr);

    /// The requests of a file, or the message about the whole file.
    fn requests(bytes: &[u8], t: ImportTexts) -> Result<Vec<(usize, String)>, String> {
        let (_, rows) = parse(bytes, t).map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let said = match r.request {
                    Ok((kind, body)) => format!("{kind} {body}"),
                    Err(e) => format!("error: {e}"),
                };
                (r.line, said)
            })
            .collect())
    }

    #[test]
    fn an_excel_pt_br_file_reads_like_the_english_one() {
        let english = b"kind,address,name,send_only,receive_only\n\
            mailbox,maria@exemplo.com.br,Maria Silva,yes,no\n\
            alias,contato@exemplo.com.br,,,\n";
        // BOM, semicolons, CRLF, Portuguese names with accents and spaces,
        // sim/não, and the empty rows Excel adds at the end.
        let excel = "\u{FEFF}Tipo;Endereço;Nome;Somente envio;SOMENTE_RECEBIMENTO\r\n\
            caixa;maria@exemplo.com.br;Maria Silva;Sim;Não\r\n\
            alias;contato@exemplo.com.br;;;\r\n\
            ;;;;\r\n;;;;\r\n";
        let expected = requests(english, EN).unwrap();
        assert_eq!(requests(excel.as_bytes(), PT).unwrap(), expected);
        assert_eq!(expected.len(), 2);
        assert!(
            expected[0].1.contains(r#""send_only":true"#),
            "{expected:?}"
        );
        assert!(
            expected[0].1.contains(r#""receive_only":false"#),
            "{expected:?}"
        );
        assert_eq!(
            (expected[0].0, expected[1].0),
            (2, 3),
            "lines as in the file"
        );
    }

    #[test]
    fn the_separator_is_the_header_lines() {
        assert_eq!(separator("kind,address\n"), b',');
        assert_eq!(separator("kind;address;name\n"), b';');
        assert_eq!(separator("kind\taddress\n"), b'\t');
        assert_eq!(
            separator("\"a,b\";address\n"),
            b';',
            "commas in quotes do not count"
        );
        assert_eq!(separator("kind\n"), b',');
        let tabs = requests(b"kind\taddress\nmailbox\tana@exemplo.com.br\n", EN).unwrap();
        assert!(tabs[0].1.contains("ana@exemplo.com.br"), "{tabs:?}");
    }

    #[test]
    fn yes_and_no_in_both_languages() {
        for yes in ["yes", "Y", "true", "1", "sim", "SIM", "s", "Verdadeiro"] {
            assert_eq!(yes_no(yes), Some(true), "{yes}");
        }
        for no in [
            "", " ", "no", "N", "false", "0", "não", "NÃO", "nao", "n", "falso",
        ] {
            assert_eq!(yes_no(no), Some(false), "{no}");
        }
        for neither in ["talvez", "2", "oui", "sí"] {
            assert_eq!(yes_no(neither), None, "{neither}");
        }
        let rows = requests(
            "tipo;endereco;somente_envio\ncaixa;a@exemplo.com.br;talvez\n".as_bytes(),
            PT,
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![(
                2,
                "error: somente_envio: \"talvez\" não é sim nem não (use sim/não, s/n, yes/no, true/false, 1/0).".into()
            )]
        );
    }

    #[test]
    fn windows_1252_is_decoded_and_a_mixed_file_is_refused_naming_the_line() {
        // "João;Conceição" as Excel in Portuguese saves "CSV": Windows-1252.
        let latin1 =
            b"kind;address;name\nmailbox;joao@exemplo.com.br;Jo\xe3o Concei\xe7\xe3o \x96 \x80\n";
        let rows = requests(latin1, EN).unwrap();
        assert!(rows[0].1.contains("João Conceição – €"), "{rows:?}");

        let mixed =
            "kind;address;name\nmailbox;a@exemplo.com.br;João\nmailbox;b@exemplo.com.br;Jo\u{0}o\n"
                .replace('\u{0}', "\u{FFFD}");
        let mut mixed = mixed.into_bytes();
        let at = mixed.iter().rposition(|&b| b == 0xEF).unwrap();
        mixed.splice(at..at + 3, [0xE3]);
        let message = requests(&mixed, PT).unwrap_err();
        assert!(
            message.starts_with("A linha 3 não está em UTF-8"),
            "{message}"
        );
        let message = requests(&mixed, EN).unwrap_err();
        assert!(message.starts_with("Line 3 is not UTF-8"), "{message}");

        // 0x81 is text in neither.
        let message = requests(b"kind,address\nmailbox,a@x\x81.com\n", EN).unwrap_err();
        assert!(message.starts_with("Line 2 has a byte"), "{message}");
        let message = requests(b"\xFF\xFEk\0i\0n\0d\0", EN).unwrap_err();
        assert!(message.contains("UTF-16"), "{message}");
    }

    #[test]
    fn header_problems_name_the_line_and_column() {
        let message = requests(b"kind;address;colour\n", EN).unwrap_err();
        assert!(
            message.starts_with("Line 1, column 3: unknown column \"colour\""),
            "{message}"
        );
        let message = requests("tipo;endereço;Endereco\n".as_bytes(), PT).unwrap_err();
        assert_eq!(
            message,
            "Linha 1, coluna 3: a coluna \"Endereco\" aparece duas vezes."
        );
        let message = requests(b"kind;name\n", PT).unwrap_err();
        assert_eq!(
            message,
            "Linha 1: o cabeçalho não tem a coluna \"address\"."
        );
        let rows = requests(b"kind;address\nmailbox;a@exemplo.com.br;extra\n", EN).unwrap();
        assert_eq!(
            rows,
            vec![(
                2,
                "error: This line has 3 columns; the header has 2.".into()
            )]
        );
        let rows = requests(b"kind;address\ncaixote;a@exemplo.com.br\n", PT).unwrap();
        assert_eq!(
            rows,
            vec![(
                2,
                "error: kind: tipo desconhecido \"caixote\"; use caixa (mailbox) ou alias.".into()
            )]
        );
    }

    #[test]
    fn hostile_files_get_clear_errors_quickly() {
        let started = Instant::now();
        // A 2 MB single field: one row's error, and only 256 characters of it kept.
        let huge = format!("kind,address\nmailbox,{}\n", "a".repeat(2 << 20));
        let (_, rows) = parse(huge.as_bytes(), EN).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].address.chars().count(), CELL_SHOWN);
        let huge_kind = format!("kind,address\n{},a@exemplo.com.br\n", "x".repeat(2 << 20));
        let rows = requests(huge_kind.as_bytes(), EN).unwrap();
        assert!(rows[0].1.len() < 400, "the message quotes a clipped cell");
        // A 2 MB header cell.
        let message = requests(format!("{}\n", "z".repeat(2 << 20)).as_bytes(), EN).unwrap_err();
        assert!(message.len() < 600, "{}", message.len());

        // A million empty lines, or lines of separators only, under a header.
        for filler in ["\n", "\r\n", ";;;;;;;;\n"] {
            let file = format!("kind;address\n{}", filler.repeat(1_000_000));
            let message = requests(file.as_bytes(), PT).unwrap_err();
            assert_eq!(
                message, "O arquivo não tem linhas abaixo do cabeçalho.",
                "{filler:?}"
            );
        }
        // All separators, the header too.
        let message = requests(";;;;;;;;\n;;;;;;;;\n".repeat(1000).as_bytes(), EN).unwrap_err();
        assert_eq!(
            message,
            "Line 1, column 1: the header line gives this column no name."
        );
        // Only a BOM, or nothing.
        for empty in [&b"\xEF\xBB\xBF"[..], b"", b"\r\n\r\n"] {
            assert_eq!(requests(empty, PT).unwrap_err(), "O arquivo está vazio.");
        }
        // Over 20 MB.
        let message = requests(&vec![b'a'; MAX_BYTES + 1], EN).unwrap_err();
        assert!(message.contains("larger than 20 MB"), "{message}");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(30), "took {took:?}");
        eprintln!("hostile files parsed in {took:?}");
    }

    #[test]
    fn too_many_rows_are_refused_whole() {
        let mut file = String::from("kind,address\n");
        for i in 0..=MAX_ROWS {
            file.push_str(&format!("mailbox,m{i}@exemplo.com.br\n"));
        }
        let message = requests(file.as_bytes(), PT).unwrap_err();
        assert_eq!(message, "No máximo 50000 linhas por importação.");
    }

    #[test]
    fn the_fingerprint_is_the_sha256_of_the_bytes() {
        assert_eq!(
            fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(fingerprint(b"abc\n"), fingerprint(b"abc\r\n"));
    }
}
