//! Message trace: finding MailFlow's message records by queue id,
//! message-id, address, or sender and recipient together, within a time
//! window, newest first, optionally only those with a given outcome.
//!
//! The window is exactly the `hours` before `until`. Records are keyed by
//! the hour they were first seen in (`first_hour`), so a lookup asks for
//! every hour the window touches — one more than `hours` unless `until` is
//! on the hour — and the exact `first_at` bounds then cut the ends.
//!
//! Queue ids, message-ids and senders are looked up through the hour-keyed
//! indexes (`first_hour IN (…) AND queue_id/msgid_hash/sender_hash = ?`),
//! then compared as text. Recipients through their own hour-keyed index
//! (`mail_recipient`, written by the ingest engine with the messages):
//! `first_hour IN (…) AND hash = ?` gives the ids of the messages, read a
//! day of the window at a time, newest first, until [`LIMIT`] match. The
//! other conditions (sender, recipient, outcome) narrow every lookup in
//! SQL first, so that [`LIMIT`] counts messages that match them all, and
//! are checked exactly afterwards (a hash may be shared by two addresses).

use super::ingest_status::key_hash;
use super::tables::{self, MailMessage, MessageRow};
use crate::errors::AppError;
use crate::i18n::Lang;
use crate::model::{TraceKind, TraceQuery, TraceResult, TraceStatus};
use crate::pages::trace::TraceTexts;
use mailflow::time::HOUR;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{
    Cond, Expr, ExprTrait, LikeExpr, Order, Query, SelectStatement, SimpleExpr,
};

/// Most messages one trace shows.
pub const LIMIT: usize = 100;
/// Longest window, in hours (a week).
pub const MAX_HOURS: i64 = 7 * 24;
/// Longest query: an SMTP line (RFC 5321's 998 characters) is longer than
/// any queue id, message-id or two addresses.
const MAX_QUERY: usize = 998;
/// Longest address (RFC 5321's path limit).
const MAX_ADDRESS: usize = 256;

/// Messages first seen in the `query.hours` before `until` (Unix seconds)
/// that match `query`; its errors are written in `lang`.
pub async fn trace(
    db: &impl ConnectionTrait,
    query: &TraceQuery,
    until: i64,
    lang: Lang,
) -> Result<TraceResult, AppError> {
    let search = Search::parse(query, TraceTexts(lang))?;
    let window = Window::ending(until, search.hours);
    let filters = &search.filters;
    let mut searched_as = Vec::new();
    let mut found: Vec<MessageRow> = Vec::new();

    match &search.lookup {
        Some(Lookup::QueueId(id)) => {
            searched_as.push(TraceKind::QueueId);
            let condition = Expr::col(MailMessage::QueueId).eq(id.clone());
            found.extend(select(db, &window.hours, &window, condition, filters).await?);
        }
        Some(Lookup::MessageId { bare, also_address }) => {
            searched_as.push(TraceKind::MessageId);
            let hashes: Vec<i64> = [bare.clone(), format!("<{bare}>")]
                .iter()
                .map(|m| key_hash(m))
                .collect();
            let condition = Expr::col(MailMessage::MsgidHash).is_in(hashes);
            let rows = select(db, &window.hours, &window, condition, filters).await?;
            found.extend(rows.into_iter().filter(|r| {
                r.message
                    .message_id
                    .as_deref()
                    .is_some_and(|m| bare_id(m) == *bare)
            }));
            if *also_address {
                searched_as.push(TraceKind::Sender);
                found.extend(by_sender(db, &window, bare, filters).await?);
                searched_as.push(TraceKind::Recipient);
                let seen = found.len();
                found.extend(by_recipient(db, &window, bare, filters, seen).await?);
            }
        }
        None => {
            // Sender and/or recipient only: the recipient's index if there
            // is one (an address receives fewer messages than a bulk sender
            // sends), else the sender's; the filters check the other.
            if let Some(recipient) = &filters.recipient {
                found.extend(by_recipient(db, &window, recipient, filters, 0).await?);
            } else if let Some(sender) = &filters.sender {
                found.extend(by_sender(db, &window, sender, filters).await?);
            }
            if filters.sender.is_some() {
                searched_as.push(TraceKind::Sender);
            }
            if filters.recipient.is_some() {
                searched_as.push(TraceKind::Recipient);
            }
        }
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
        from: window.from,
        to: window.to,
        hours: search.hours,
        sender: search.filters.sender.clone(),
        recipient: search.filters.recipient.clone(),
        status: search.filters.status,
        messages: found.into_iter().map(MessageRow::into_trace).collect(),
        truncated,
    })
}

/// A query, checked: what to look up, and what every message found must
/// also match.
#[derive(Debug, PartialEq)]
struct Search {
    lookup: Option<Lookup>,
    filters: Filters,
    hours: i64,
}

#[derive(Debug, PartialEq)]
enum Lookup {
    QueueId(String),
    /// A message-id without its `<>`, lowercased; one without `<>` is an
    /// address, too (as sender or recipient).
    MessageId {
        bare: String,
        also_address: bool,
    },
}

/// What every message found must match.
#[derive(Debug, Default, PartialEq)]
struct Filters {
    /// Lowercased addresses.
    sender: Option<String>,
    recipient: Option<String>,
    status: TraceStatus,
}

impl Search {
    fn parse(query: &TraceQuery, t: TraceTexts) -> Result<Search, AppError> {
        let hours = if query.hours == 0 { 24 } else { query.hours };
        if !(1..=MAX_HOURS).contains(&hours) {
            return Err(AppError::field("hours", t.err_hours(MAX_HOURS)));
        }
        let q = query.q.trim();
        if q.len() > MAX_QUERY {
            return Err(AppError::field("q", t.err_q_long()));
        }
        let mut sender = address(&query.sender, "sender", t)?;
        let mut recipient = address(&query.recipient, "recipient", t)?;
        let words: Vec<&str> = q.split_whitespace().collect();
        let lookup = match words[..] {
            [] => None,
            [word] => Some(lookup(word, t)?),
            // "ana@x joao@y": mail from the first to the second.
            [from, to] if is_address(from) && is_address(to) => {
                if sender.is_some() || recipient.is_some() {
                    return Err(AppError::field("q", t.err_pair_twice()));
                }
                sender = address(from, "q", t)?;
                recipient = address(to, "q", t)?;
                None
            }
            _ => return Err(AppError::field("q", t.err_q_words())),
        };
        if lookup.is_none() && sender.is_none() && recipient.is_none() {
            return Err(AppError::field("q", t.err_q_empty()));
        }
        Ok(Search {
            lookup,
            filters: Filters {
                sender,
                recipient,
                status: query.status,
            },
            hours,
        })
    }
}

/// One word of the query: a queue id (letters and digits) or a
/// message-id or address (with an `@`).
fn lookup(word: &str, t: TraceTexts) -> Result<Lookup, AppError> {
    if word.contains('@') {
        Ok(Lookup::MessageId {
            bare: bare_id(word),
            also_address: is_address(word),
        })
    } else if (5..=32).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(Lookup::QueueId(word.to_string()))
    } else {
        Err(AppError::field("q", t.err_q_kind()))
    }
}

/// An address as the trace compares it: lowercased, without `<>`.
fn address(text: &str, field: &str, t: TraceTexts) -> Result<Option<String>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bare = text.trim_start_matches('<').trim_end_matches('>');
    if bare.len() > MAX_ADDRESS || !is_address(bare) {
        return Err(AppError::field(field, t.err_address()));
    }
    Ok(Some(bare.to_ascii_lowercase()))
}

/// `local@domain`, one `@`, nothing on either side missing, no spaces or
/// brackets (those make it a message-id).
fn is_address(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    }) && !s.contains(|c: char| c.is_whitespace() || c == '<' || c == '>')
}

/// `<Abc@Host>` → `abc@host`.
fn bare_id(id: &str) -> String {
    id.to_ascii_lowercase()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

/// The window of a search: exactly `from..=to`, and the hours whose
/// records it may hold, newest first.
#[derive(Debug, PartialEq)]
struct Window {
    from: i64,
    to: i64,
    hours: Vec<i64>,
}

impl Window {
    fn ending(until: i64, hours: i64) -> Window {
        let from = until - hours * HOUR;
        Window {
            from,
            to: until,
            hours: (from.div_euclid(HOUR)..=until.div_euclid(HOUR))
                .rev()
                .collect(),
        }
    }
}

impl Filters {
    /// The conditions in SQL: as narrow as the indexes and `LIKE` allow,
    /// never narrower than [`keep`](Self::keep).
    fn condition(&self) -> Cond {
        let mut c = Cond::all();
        if let Some(s) = &self.sender {
            c = c.add(Expr::col(MailMessage::SenderHash).eq(key_hash(s)));
        }
        if let Some(r) = &self.recipient {
            c = c.add(Expr::col(MailMessage::RcptAddrs).like(contains(r)));
        }
        // The recipients' JSON, as `tables::message_values` writes it.
        let status = |s: &str| {
            Expr::col(MailMessage::Recipients).like(contains(&format!("\"status\":\"{s}\"")))
        };
        match self.status {
            TraceStatus::All => {}
            TraceStatus::Sent => c = c.add(status("sent")),
            TraceStatus::Deferred => c = c.add(status("deferred")),
            TraceStatus::Bounced => {
                c = c.add(Cond::any().add(status("bounced")).add(status("expired")))
            }
            TraceStatus::Rejected => c = c.add(Expr::col(MailMessage::Reject).is_not_null()),
        }
        c
    }

    /// Whether `row` matches exactly. With a recipient, the outcome is
    /// that recipient's.
    fn keep(&self, row: &MessageRow) -> bool {
        let m = &row.message;
        if let Some(s) = &self.sender
            && !m
                .sender
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(s))
        {
            return false;
        }
        if let Some(r) = &self.recipient
            && !has_recipient(row, r)
        {
            return false;
        }
        let mut outcomes = m
            .recipients
            .iter()
            .filter(|x| {
                self.recipient
                    .as_ref()
                    .is_none_or(|r| x.to.eq_ignore_ascii_case(r))
            })
            .map(|x| x.status.as_str());
        match self.status {
            TraceStatus::All => true,
            TraceStatus::Sent => outcomes.any(|s| s == "sent"),
            TraceStatus::Deferred => outcomes.any(|s| s == "deferred"),
            TraceStatus::Bounced => outcomes.any(|s| s == "bounced" || s == "expired"),
            TraceStatus::Rejected => m.reject.is_some(),
        }
    }
}

/// Messages `address` sent (through the sender index).
async fn by_sender(
    db: &impl ConnectionTrait,
    window: &Window,
    address: &str,
    filters: &Filters,
) -> Result<Vec<MessageRow>, AppError> {
    let condition = Expr::col(MailMessage::SenderHash).eq(key_hash(address));
    let rows = select(db, &window.hours, window, condition, filters).await?;
    Ok(rows
        .into_iter()
        .filter(|r| {
            r.message
                .sender
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(address))
        })
        .collect())
}

/// Messages `address` received, through the recipient index
/// (`mail_recipient`): its rows for the address's hash in the window, a
/// day's hours at a time, newest first, then their messages by id, until
/// more than [`LIMIT`] messages are found (`seen` of them already were).
/// Each message is compared with the address itself
/// ([`has_recipient`]): two addresses may share a hash.
async fn by_recipient(
    db: &impl ConnectionTrait,
    window: &Window,
    address: &str,
    filters: &Filters,
    seen: usize,
) -> Result<Vec<MessageRow>, AppError> {
    use tables::MailRecipient as R;
    let mut found = Vec::new();
    for hours in window.hours.chunks(24) {
        if seen + found.len() > LIMIT {
            break;
        }
        let probe = Query::select()
            .columns([R::FirstAt, R::MessageId])
            .from(R::Table)
            .and_where(Expr::col(R::FirstHour).is_in(hours.iter().copied()))
            .and_where(Expr::col(R::Hash).eq(key_hash(address)))
            .and_where(Expr::col(R::FirstAt).gte(window.from))
            .and_where(Expr::col(R::FirstAt).lte(window.to))
            .order_by(R::FirstAt, Order::Desc)
            .order_by(R::MessageId, Order::Desc)
            .to_owned();
        let hits = db
            .query_all(&probe)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get_by_index::<i64>(0)?,
                    row.try_get_by_index::<i64>(1)?,
                ))
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
        for hits in hits.chunks(ID_CHUNK) {
            if seen + found.len() > LIMIT {
                break;
            }
            // The hits are newest first. Their time span lets PostgreSQL read
            // only those days' partitions of `mail_message`.
            let (newest, oldest) = (hits[0].0, hits[hits.len() - 1].0);
            let mut q = MessageRow::select();
            q.and_where(Expr::col(MailMessage::Id).is_in(hits.iter().map(|&(_, id)| id)))
                .and_where(Expr::col(MailMessage::FirstAt).between(oldest, newest))
                .cond_where(filters.condition());
            let rows = fetch(db, &q, filters).await?;
            found.extend(rows.into_iter().filter(|r| has_recipient(r, address)));
        }
    }
    Ok(found)
}

/// Messages read by id at a time in a recipient search (the newest first).
const ID_CHUNK: usize = 500;

/// Whether `address` (lower case) is one of `row`'s recipients: what a
/// message found through an index hash must pass.
fn has_recipient(row: &MessageRow, address: &str) -> bool {
    row.rcpt_addrs.split(' ').any(|a| a == address)
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

/// The messages of `hours` within `window` that meet `condition` and
/// `filters`, newest first (at most one more than [`LIMIT`]).
async fn select(
    db: &impl ConnectionTrait,
    hours: &[i64],
    window: &Window,
    condition: SimpleExpr,
    filters: &Filters,
) -> Result<Vec<MessageRow>, AppError> {
    let mut q = MessageRow::select();
    q.and_where(Expr::col(MailMessage::FirstHour).is_in(hours.iter().copied()))
        .and_where(Expr::col(MailMessage::FirstAt).gte(window.from))
        .and_where(Expr::col(MailMessage::FirstAt).lte(window.to))
        .and_where(condition)
        .cond_where(filters.condition())
        .order_by(MailMessage::FirstAt, Order::Desc)
        .limit(LIMIT as u64 + 1);
    fetch(db, &q, filters).await
}

/// The rows `q` finds that match `filters` exactly. A record whose stored
/// recipients do not decode fails the search (logged with its id): support
/// must not be told a message it is asking about is not there.
async fn fetch(
    db: &impl ConnectionTrait,
    q: &SelectStatement,
    filters: &Filters,
) -> Result<Vec<MessageRow>, AppError> {
    let rows = MessageRow::load(db, q).await?;
    let rows = tables::all_decoded(rows).map_err(|_| AppError::Internal)?;
    Ok(rows.into_iter().filter(|r| filters.keep(r)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_exactly_the_hours_before_until() {
        // 21:06 on some day: the last hour is 20:06..21:06, in the records
        // of 20:00 and 21:00.
        let until = 1_000 * HOUR + 6 * 60;
        let w = Window::ending(until, 1);
        assert_eq!((w.from, w.to), (until - HOUR, until));
        assert_eq!(w.hours, vec![1_000, 999]);
        // On the hour, no extra hour is read.
        let w = Window::ending(1_000 * HOUR, 24);
        assert_eq!(w.hours.len(), 25, "00:00 of the first hour is in");
        assert_eq!(w.hours.first(), Some(&1_000));
        assert_eq!(w.hours.last(), Some(&976));
        assert_eq!(Window::ending(until, MAX_HOURS).hours.len(), 169);
    }

    fn parse(q: &str, sender: &str, recipient: &str) -> Result<Search, AppError> {
        let query = TraceQuery {
            q: q.into(),
            sender: sender.into(),
            recipient: recipient.into(),
            ..TraceQuery::default()
        };
        Search::parse(&query, TraceTexts(Lang::En))
    }

    #[test]
    fn two_addresses_are_a_sender_and_a_recipient() {
        let s = parse("  Ana@X.com.br \t joao@y.com ", "", "").unwrap();
        assert_eq!(s.lookup, None);
        assert_eq!(s.filters.sender.as_deref(), Some("ana@x.com.br"));
        assert_eq!(s.filters.recipient.as_deref(), Some("joao@y.com"));
        assert_eq!(s.hours, 24);
        // The same from the two fields.
        let f = parse("", "<ana@x.com.br>", "JOAO@y.com").unwrap();
        assert_eq!(f, s);
        // A message-id is one word; three words are nothing we know.
        assert!(matches!(
            parse("<a@b>", "", "").unwrap().lookup,
            Some(Lookup::MessageId {
                also_address: false,
                ..
            })
        ));
        for (q, sender, recipient, field) in [
            ("a@b.com c@d.com e@f.com", "", "", "q"),
            ("a@b.com 4Xk2Lq1vZz", "", "", "q"),
            ("a@b.com c@d.com", "e@f.com", "", "q"),
            ("", "", "", "q"),
            ("   ", "", "", "q"),
            ("4Xk-2", "", "", "q"),
            ("", "not an address", "", "sender"),
            ("", "", "a@b@c", "recipient"),
            (&"x".repeat(999), "", "", "q"),
            ("", &format!("{}@b.com", "a".repeat(300)), "", "sender"),
        ] {
            let e = parse(q, sender, recipient).expect_err(q);
            assert!(e.field_message(field).is_some(), "{q:?}: {e:?}");
        }
    }

    #[test]
    fn hours_are_checked_and_errors_follow_the_language() {
        let query = |hours| TraceQuery {
            q: "a@b.com".into(),
            hours,
            ..TraceQuery::default()
        };
        for hours in [-1, MAX_HOURS + 1, i64::MAX, i64::MIN] {
            let e = Search::parse(&query(hours), TraceTexts(Lang::PtBr)).unwrap_err();
            assert_eq!(e.field_message("hours"), Some("Busque de 1 a 168 horas."));
        }
        assert!(Search::parse(&query(MAX_HOURS), TraceTexts(Lang::En)).is_ok());
    }
}
