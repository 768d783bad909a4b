//! Bulk CSV import of mailboxes and aliases. Every row becomes the same
//! request a form would send (`mailbox_create` or `alias_create`), run in
//! one transaction, each row in a savepoint: a dry run reports what each
//! row would do or why it cannot and rolls everything back; a real run
//! commits only if every row succeeded. Later rows see earlier ones, so an
//! alias may point to a mailbox created higher up in the same file.
//!
//! Columns (header required, any order): `kind` (`mailbox` or `alias`),
//! `address`, and for mailboxes `name`, `password` (empty: generated),
//! `quota_mb` (empty: the domain's default), `send_only`, `receive_only`
//! (`yes`/`no`); for aliases `targets` (separated by spaces or `;`) and
//! `description`.

use super::{Context, dispatch};
use crate::errors::AppError;
use crate::model::Roles;
use crate::provision::{ImportOutcome, ImportRow};
use crate::server::audit::{self, Actor};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::{Map, Value};

/// Largest file accepted.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// Most rows in one import.
pub const MAX_ROWS: usize = 50_000;

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

pub async fn import(
    db: &DatabaseConnection,
    actor: &Actor,
    ctx: &Context,
    roles: &Roles,
    csv_text: &str,
) -> Result<ImportOutcome, AppError> {
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

    let tx = db.begin().await?;
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
                rows.push(ImportRow {
                    line: e.position().map(|p| p.line() as usize).unwrap_or(line),
                    kind: String::new(),
                    target: String::new(),
                    summary: None,
                    error: Some(format!("Unreadable row: {e}")),
                    secret: None,
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
        let address = field("address");
        let (kind, body) = match request_of(&field) {
            Ok(x) => x,
            Err(message) => {
                rows.push(ImportRow {
                    line,
                    kind: field("kind"),
                    target: address,
                    summary: None,
                    error: Some(message),
                    secret: None,
                });
                continue;
            }
        };
        let savepoint = tx.begin().await?;
        match dispatch(&savepoint, actor, ctx, roles, kind, body).await {
            Ok(done) => {
                savepoint.commit().await?;
                rows.push(ImportRow {
                    line,
                    kind: kind.into(),
                    target: done.target,
                    summary: Some(done.summary),
                    error: None,
                    secret: done.secret,
                });
            }
            Err(AppError::Internal) => return Err(AppError::Internal),
            Err(e) => {
                savepoint.rollback().await?;
                rows.push(ImportRow {
                    line,
                    kind: kind.into(),
                    target: address,
                    summary: None,
                    error: Some(e.to_string()),
                    secret: None,
                });
            }
        }
    }
    if rows.is_empty() {
        return Err(AppError::field(
            "csv",
            "The file has no rows under its header.",
        ));
    }
    let mut outcome = ImportOutcome {
        dry_run: ctx.dry_run,
        applied: false,
        rows,
    };
    if ctx.dry_run || outcome.errors() > 0 {
        tx.rollback().await?;
        for r in &mut outcome.rows {
            r.secret = None;
        }
    } else {
        let summary = serde_json::json!({ "rows": outcome.rows.len() });
        audit::record(
            &tx,
            actor,
            "provision.import",
            "csv",
            audit::NONE,
            Some(&summary),
        )
        .await?;
        tx.commit().await?;
        outcome.applied = true;
    }
    Ok(outcome)
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
