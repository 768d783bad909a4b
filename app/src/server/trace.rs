//! Message trace: finding MailFlow's message records by queue id,
//! message-id or address within a time window, newest first.
//!
//! Queue ids, message-ids and senders are looked up through the hour-keyed
//! indexes (`first_hour IN (…) AND queue_id/msgid_hash/sender_hash = ?`),
//! then compared as text. Recipients have no index: a recipient search
//! reads the window's messages hour by hour, newest first, and stops at
//! [`LIMIT`] matches — so keep its window short at ISP volume.

use super::ingest_status::key_hash;
use crate::errors::AppError;
use crate::model::{TraceMessage, TraceRecipient, TraceResult};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LikeExpr, Order, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, FromQueryResult, StatementBuilder};

/// Most messages one trace shows.
pub const LIMIT: usize = 100;
/// Longest window, in hours (a week).
pub const MAX_HOURS: i64 = 7 * 24;

#[derive(FromQueryResult)]
struct Row {
    host: String,
    queue_id: String,
    first_at: i64,
    last_at: i64,
    origin: String,
    client_name: Option<String>,
    client_ip: Option<String>,
    sasl_username: Option<String>,
    message_id: Option<String>,
    sender: Option<String>,
    size: Option<i64>,
    verdict: Option<String>,
    reject: Option<String>,
    recipients: String,
    rcpt_addrs: String,
    removed: bool,
}

impl Row {
    fn into_message(self) -> TraceMessage {
        TraceMessage {
            host: self.host,
            queue_id: self.queue_id,
            first_at: self.first_at,
            last_at: self.last_at,
            origin: self.origin,
            client_name: self.client_name,
            client_ip: self.client_ip,
            sasl_username: self.sasl_username,
            message_id: self.message_id,
            sender: self.sender,
            size: self.size,
            verdict: self.verdict,
            reject: self.reject,
            recipients: serde_json::from_str::<Vec<TraceRecipient>>(&self.recipients)
                .unwrap_or_default(),
            removed: self.removed,
        }
    }
}

const COLUMNS: [&str; 16] = [
    "host",
    "queue_id",
    "first_at",
    "last_at",
    "origin",
    "client_name",
    "client_ip",
    "sasl_username",
    "message_id",
    "sender",
    "size",
    "verdict",
    "reject",
    "recipients",
    "rcpt_addrs",
    "removed",
];

/// Messages first seen in the `hours` before `until` (Unix seconds) that
/// match `q`: a queue id, a message-id (with or without `<>`), or an
/// address (as sender or recipient).
pub async fn trace(
    db: &impl ConnectionTrait,
    q: &str,
    until: i64,
    hours: i64,
) -> Result<TraceResult, AppError> {
    let q = q.trim();
    if q.is_empty() {
        return Err(AppError::field(
            "q",
            "Enter a queue id, a message-id or an address.",
        ));
    }
    if q.len() > 998 {
        return Err(AppError::field(
            "q",
            "That is longer than any queue id, message-id or address.",
        ));
    }
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(AppError::field(
            "hours",
            format!("Search 1 to {MAX_HOURS} hours."),
        ));
    }
    let last_hour = until.div_euclid(3600);
    let hour_list: Vec<i64> = (0..hours).map(|h| last_hour - h).collect();
    let lower = q.to_ascii_lowercase();
    let bare = lower
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();
    let looks_like_queue_id = !q.contains('@')
        && q.len() >= 5
        && q.len() <= 32
        && q.bytes().all(|b| b.is_ascii_alphanumeric());
    let mut searched_as = Vec::new();
    let mut found: Vec<Row> = Vec::new();

    if looks_like_queue_id {
        searched_as.push("queue id".to_string());
        found.extend(
            select(
                db,
                &hour_list,
                Expr::col(Alias::new("queue_id")).eq(q.to_string()),
            )
            .await?,
        );
    }
    if q.contains('@') {
        searched_as.push("message-id".to_string());
        let hashes: Vec<i64> = [bare.clone(), format!("<{bare}>")]
            .iter()
            .map(|m| key_hash(m))
            .collect();
        let rows = select(
            db,
            &hour_list,
            Expr::col(Alias::new("msgid_hash")).is_in(hashes),
        )
        .await?;
        found.extend(rows.into_iter().filter(|r| {
            r.message_id.as_deref().is_some_and(|m| {
                m.to_ascii_lowercase()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    == bare
            })
        }));
        if !q.contains(['<', '>', ' ']) {
            searched_as.push("sender".to_string());
            let rows = select(
                db,
                &hour_list,
                Expr::col(Alias::new("sender_hash")).eq(key_hash(&bare)),
            )
            .await?;
            found.extend(rows.into_iter().filter(|r| {
                r.sender
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&bare))
            }));
            searched_as.push("recipient".to_string());
            for hour in &hour_list {
                if found.len() > LIMIT {
                    break;
                }
                let like = Expr::col(Alias::new("rcpt_addrs")).like(contains(&bare));
                let rows = select(db, &[*hour], like).await?;
                found.extend(
                    rows.into_iter()
                        .filter(|r| r.rcpt_addrs.split(' ').any(|a| a == bare)),
                );
            }
        }
    }
    if searched_as.is_empty() {
        return Err(AppError::field(
            "q",
            "That is not a queue id (letters and digits), a message-id or an address (with an @).",
        ));
    }
    found.sort_by(|a, b| {
        (b.first_at, &b.host, &b.queue_id).cmp(&(a.first_at, &a.host, &a.queue_id))
    });
    found.dedup_by(|a, b| a.first_at == b.first_at && a.host == b.host && a.queue_id == b.queue_id);
    let truncated = found.len() > LIMIT;
    found.truncate(LIMIT);
    Ok(TraceResult {
        searched_as,
        from: (last_hour - hours + 1) * 3600,
        to: until,
        messages: found.into_iter().map(Row::into_message).collect(),
        truncated,
    })
}

/// `LIKE '%s%' ESCAPE '\'`: `s` anywhere, its `%` and `_` taken literally.
/// The `ESCAPE` clause matters: PostgreSQL escapes with `\` by default, but
/// SQLite has no default escape character.
fn contains(s: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}%", escape_like(s))).escape('\\')
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

async fn select(
    db: &impl ConnectionTrait,
    hours: &[i64],
    condition: SimpleExpr,
) -> Result<Vec<Row>, AppError> {
    let mut q = Query::select();
    q.columns(COLUMNS.iter().map(|c| Alias::new(*c)))
        .from(Alias::new("mail_message"))
        .and_where(Expr::col(Alias::new("first_hour")).is_in(hours.iter().copied()))
        .and_where(condition)
        .order_by(Alias::new("first_at"), Order::Desc)
        .limit(LIMIT as u64 + 1);
    let stmt = StatementBuilder::build(&q, &db.get_database_backend());
    Ok(Row::find_by_statement(stmt).all(db).await?)
}
