//! Message trace: finding MailFlow's message records by queue id,
//! message-id or address within a time window, newest first.
//!
//! Queue ids, message-ids and senders are looked up through the hour-keyed
//! indexes (`first_hour IN (…) AND queue_id/msgid_hash/sender_hash = ?`),
//! then compared as text. Recipients have no index: a recipient search
//! reads the window's messages hour by hour, newest first, and stops at
//! [`LIMIT`] matches — so keep its window short at ISP volume.

use super::ingest_status::key_hash;
use super::tables::{self, MailMessage, MessageRow};
use crate::errors::AppError;
use crate::model::TraceResult;
use mailflow::time::HOUR;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Order, SimpleExpr};

/// Most messages one trace shows.
pub const LIMIT: usize = 100;
/// Longest window, in hours (a week).
pub const MAX_HOURS: i64 = 7 * 24;

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
    let last_hour = until.div_euclid(HOUR);
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
    let mut found: Vec<MessageRow> = Vec::new();

    if looks_like_queue_id {
        searched_as.push("queue id".to_string());
        found.extend(
            select(
                db,
                &hour_list,
                Expr::col(MailMessage::QueueId).eq(q.to_string()),
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
            Expr::col(MailMessage::MsgidHash).is_in(hashes),
        )
        .await?;
        found.extend(rows.into_iter().filter(|r| {
            r.message.message_id.as_deref().is_some_and(|m| {
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
                Expr::col(MailMessage::SenderHash).eq(key_hash(&bare)),
            )
            .await?;
            found.extend(rows.into_iter().filter(|r| {
                r.message
                    .sender
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&bare))
            }));
            searched_as.push("recipient".to_string());
            for hour in &hour_list {
                if found.len() > LIMIT {
                    break;
                }
                let like = Expr::col(MailMessage::RcptAddrs).like(contains(&bare));
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
    let key = |r: &MessageRow| {
        (
            r.message.first_at,
            r.message.host.clone(),
            r.message.queue_id.clone(),
        )
    };
    found.sort_by_key(|r| std::cmp::Reverse(key(r)));
    found.dedup_by(|a, b| key(a) == key(b));
    let truncated = found.len() > LIMIT;
    found.truncate(LIMIT);
    Ok(TraceResult {
        searched_as,
        from: (last_hour - hours + 1) * HOUR,
        to: until,
        messages: found.into_iter().map(MessageRow::into_trace).collect(),
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

/// The messages of `hours` that meet `condition`, newest first. A record
/// whose stored recipients do not decode fails the search (logged with its
/// id): support must not be told a message it is asking about is not there.
async fn select(
    db: &impl ConnectionTrait,
    hours: &[i64],
    condition: SimpleExpr,
) -> Result<Vec<MessageRow>, AppError> {
    let mut q = MessageRow::select();
    q.and_where(Expr::col(MailMessage::FirstHour).is_in(hours.iter().copied()))
        .and_where(condition)
        .order_by(MailMessage::FirstAt, Order::Desc)
        .limit(LIMIT as u64 + 1);
    let rows = MessageRow::load(db, &q).await?;
    tables::all_decoded(rows).map_err(|_| AppError::Internal)
}
