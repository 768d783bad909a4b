//! The tables the MailFlow ingest engine writes in bulk with sea-query
//! rather than through sea-orm entities, named once: the series tables
//! (`mail_minute`/`mail_hour`/`mail_day` per host and their `mail_domain_*`
//! twins per hosted domain), the per-subject hourly counters
//! (`mail_subject_hour`), the message records (`mail_message`) and the
//! reject rules (`mail_reject_rule`); their columns are in the migrations.
//!
//! The writer (`server::ingest::store`) and the readers (charts, the
//! report, message trace, `/metrics`) build their queries from these
//! identifiers, and every reader of a message record gets one
//! [`MessageRow`]. Its recipients are stored as JSON in the engine's own
//! type ([`Recipient`]), so what is written is what is read; a row whose
//! JSON does not decode is a [`StoredJsonError`] naming the row, never an
//! empty list, and each reader says whether it skips the row or fails.

use crate::model::{TraceMessage, TraceRecipient};
use mailflow::correlate::{Message, Origin, Recipient};
use sea_orm::sea_query::{Expr, Iden, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, TryGetable};

/// An enum of identifiers, each with its name in the schema as a `'static`
/// string ([`name`](SeriesTable::name)) and as a sea-query [`Iden`].
macro_rules! idens {
    ($(#[$meta:meta])* pub enum $enum:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $enum {
            $($variant,)*
        }

        impl $enum {
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }

        impl Iden for $enum {
            fn unquoted(&self) -> &str {
                self.name()
            }
        }

        impl std::fmt::Display for $enum {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.name())
            }
        }
    };
}

idens! {
    /// The six series tables: one per resolution (tier) and scope (see
    /// `mailgraph::Tier::table`), all with the columns of [`SeriesColumn`].
    pub enum SeriesTable {
        MailMinute = "mail_minute", MailHour = "mail_hour", MailDay = "mail_day",
        MailDomainMinute = "mail_domain_minute", MailDomainHour = "mail_domain_hour",
        MailDomainDay = "mail_domain_day",
    }
}

idens! {
    /// A series table's columns: its time (`minute`, `hour` or `day`, the
    /// bucket's first second), its key (`host` or `domain`), the series
    /// name and the count. The key is (time, key, series).
    pub enum SeriesColumn {
        Minute = "minute", Hour = "hour", Day = "day", Host = "host", Domain = "domain",
        Series = "series", N = "n",
    }
}

idens! {
    /// `mail_subject_hour`: counts per hour, series and subject (a client
    /// IP or a SASL account, by `kind`), keyed (kind, hour, subject, series).
    pub enum MailSubjectHour {
        Table = "mail_subject_hour", Kind = "kind", Subject = "subject", Hour = "hour",
        Series = "series", N = "n",
    }
}

idens! {
    /// `mail_reject_rule`: the reject classification rules, in `position` order.
    pub enum MailRejectRule {
        Table = "mail_reject_rule", Position = "position", Class = "class", Pattern = "pattern",
    }
}

idens! {
    /// `mail_unclassified`: the rejects no rule classified, one row per
    /// normalised text (see `server::unclassified`).
    pub enum MailUnclassified {
        Table = "mail_unclassified", Id = "id", Text = "text", N = "n", FirstAt = "first_at",
        LastAt = "last_at", Samples = "samples", ClassifiedAs = "classified_as",
    }
}

idens! {
    /// `mail_message`: one record per message, keyed (first_at, host,
    /// queue_id); `first_hour`, `msgid_hash`, `sender_hash` and
    /// `rcpt_addrs` are derived for the trace's lookups.
    pub enum MailMessage {
        Table = "mail_message", Id = "id", FirstAt = "first_at", Host = "host",
        QueueId = "queue_id", FirstHour = "first_hour", LastAt = "last_at", Origin = "origin",
        ClientName = "client_name", ClientIp = "client_ip", SaslMethod = "sasl_method",
        SaslUsername = "sasl_username", MessageId = "message_id", Sender = "sender",
        MsgidHash = "msgid_hash", SenderHash = "sender_hash", Size = "size", Nrcpt = "nrcpt",
        Verdict = "verdict", Reject = "reject", Recipients = "recipients",
        RcptAddrs = "rcpt_addrs", Removed = "removed",
    }
}

idens! {
    /// `mail_recipient`: the recipient index of the message trace, one row
    /// per (message, recipient address), keyed (first_hour, hash, first_at,
    /// message_id); `hash` is [`recipient_hashes`]' and `message_id` the
    /// message's `mail_message.id` (see the migration that made it).
    pub enum MailRecipient {
        Table = "mail_recipient", FirstHour = "first_hour", Hash = "hash", FirstAt = "first_at",
        MessageId = "message_id",
    }
}

impl MailRecipient {
    /// The columns, in the key's order.
    pub const ALL: [MailRecipient; 4] =
        [Self::FirstHour, Self::Hash, Self::FirstAt, Self::MessageId];
}

/// The index keys of `message`'s recipients, each once: the [`key_hash`]
/// of each address it was sent to (so lower case does not matter).
///
/// [`key_hash`]: super::ingest_status::key_hash
pub fn recipient_hashes(message: &Message) -> Vec<i64> {
    let mut hashes: Vec<i64> = message
        .recipients
        .iter()
        .filter(|r| !r.to.is_empty())
        .map(|r| super::ingest_status::key_hash(&r.to))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

impl MailMessage {
    /// The columns the ingest engine writes: the key (never updated) first,
    /// then what later lines may change and what is derived for the
    /// indexes. [`message_values`] gives a message's values in this order.
    pub const WRITTEN: [MailMessage; 21] = [
        Self::FirstAt,
        Self::Host,
        Self::QueueId,
        Self::FirstHour,
        Self::LastAt,
        Self::Origin,
        Self::ClientName,
        Self::ClientIp,
        Self::SaslMethod,
        Self::SaslUsername,
        Self::MessageId,
        Self::Sender,
        Self::MsgidHash,
        Self::SenderHash,
        Self::Size,
        Self::Nrcpt,
        Self::Verdict,
        Self::Reject,
        Self::Recipients,
        Self::RcptAddrs,
        Self::Removed,
    ];

    /// How many of [`WRITTEN`](Self::WRITTEN)'s first columns are the key.
    pub const KEY: usize = 3;
}

/// `CAST(SUM(column) AS BIGINT)`: a counter column summed, as a plain
/// integer (SUM is NUMERIC on PostgreSQL).
pub fn sum_of(column: impl Iden) -> SimpleExpr {
    Expr::cust(format!("CAST(SUM({}) AS BIGINT)", column.unquoted()))
}

/// A message's values for [`MailMessage::WRITTEN`], named as the columns
/// and in their order. The recipients are stored as the JSON of the
/// engine's [`Recipient`]s, the one format [`MessageRow`] reads back.
#[derive(Debug)]
pub struct MessageRecord<'a> {
    pub first_at: i64,
    pub host: &'a str,
    pub queue_id: &'a str,
    pub first_hour: i64,
    pub last_at: i64,
    pub origin: &'static str,
    pub client_name: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub sasl_method: Option<&'a str>,
    pub sasl_username: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub msgid_hash: Option<i64>,
    pub sender_hash: Option<i64>,
    pub size: Option<i64>,
    pub nrcpt: Option<i32>,
    pub verdict: Option<&'a str>,
    pub reject: Option<&'a str>,
    pub recipients: String,
    pub rcpt_addrs: String,
    pub removed: bool,
}

impl<'a> MessageRecord<'a> {
    pub fn of(message: &'a Message) -> Result<Self, serde_json::Error> {
        use super::ingest_status::key_hash;
        let m = message;
        Ok(Self {
            first_at: m.first_at,
            host: &m.host,
            queue_id: &m.queue_id,
            first_hour: m.first_at.div_euclid(mailflow::time::HOUR),
            last_at: m.last_at,
            origin: origin_name(m.origin),
            client_name: m.client_name.as_deref(),
            client_ip: m.client_ip.as_deref(),
            sasl_method: m.sasl_method.as_deref(),
            sasl_username: m.sasl_username.as_deref(),
            message_id: m.message_id.as_deref(),
            sender: m.sender.as_deref(),
            msgid_hash: m.message_id.as_deref().map(key_hash),
            sender_hash: m.sender.as_deref().map(key_hash),
            size: m.size.map(|s| s as i64),
            nrcpt: m.nrcpt.map(|n| n as i32),
            verdict: m.verdict.as_deref(),
            reject: m.reject.as_deref(),
            recipients: serde_json::to_string(&m.recipients)?,
            rcpt_addrs: m
                .recipients
                .iter()
                .map(|r| r.to.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" "),
            removed: m.removed,
        })
    }

    /// The values, in [`MailMessage::WRITTEN`]'s order.
    pub fn values(self) -> [SimpleExpr; 21] {
        let text = |s: Option<&str>| s.map(str::to_string).into();
        [
            self.first_at.into(),
            self.host.into(),
            self.queue_id.into(),
            self.first_hour.into(),
            self.last_at.into(),
            self.origin.into(),
            text(self.client_name),
            text(self.client_ip),
            text(self.sasl_method),
            text(self.sasl_username),
            text(self.message_id),
            text(self.sender),
            self.msgid_hash.into(),
            self.sender_hash.into(),
            self.size.into(),
            self.nrcpt.into(),
            text(self.verdict),
            text(self.reject),
            self.recipients.into(),
            self.rcpt_addrs.into(),
            self.removed.into(),
        ]
    }
}

/// `message`'s values for [`MailMessage::WRITTEN`] (see [`MessageRecord`]).
pub fn message_values(message: &Message) -> Result<[SimpleExpr; 21], serde_json::Error> {
    Ok(MessageRecord::of(message)?.values())
}

/// How an [`Origin`] is stored.
pub fn origin_name(o: Origin) -> &'static str {
    match o {
        Origin::Smtpd => "smtpd",
        Origin::Pickup => "pickup",
        Origin::Unknown => "unknown",
    }
}

fn origin_from(s: &str) -> Origin {
    match s {
        "smtpd" => Origin::Smtpd,
        "pickup" => Origin::Pickup,
        _ => Origin::Unknown,
    }
}

/// One stored message record, as every reader sees it: the engine's
/// [`Message`] (what the record was written from) and the columns derived
/// for the indexes that readers use.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    /// The row's id (what a log of a bad row names).
    pub id: i64,
    pub first_hour: i64,
    /// The recipients' addresses, lower case, space separated.
    pub rcpt_addrs: String,
    pub message: Message,
}

/// Stored JSON that does not decode: which table, row and column.
#[derive(Debug, thiserror::Error)]
#[error("{table} row {id}: the JSON in {column} does not decode: {source}")]
pub struct StoredJsonError {
    pub table: &'static str,
    pub id: i64,
    pub column: &'static str,
    pub source: serde_json::Error,
}

/// Column `c` of a `mail_message` row.
fn get<T: TryGetable>(row: &QueryResult, c: MailMessage) -> Result<T, DbErr> {
    row.try_get("", c.name())
}

/// A row of [`MessageRow::select`]: a database error if a column is
/// missing or of another type, a [`StoredJsonError`] if its recipients do
/// not decode.
fn decode(row: &QueryResult) -> Result<Result<MessageRow, StoredJsonError>, DbErr> {
    use MailMessage as M;
    let id = get(row, M::Id)?;
    let recipients = match serde_json::from_str(&get::<String>(row, M::Recipients)?) {
        Ok(recipients) => recipients,
        Err(source) => {
            return Ok(Err(StoredJsonError {
                table: M::Table.name(),
                id,
                column: M::Recipients.name(),
                source,
            }));
        }
    };
    let message = Message {
        host: get(row, M::Host)?,
        queue_id: get(row, M::QueueId)?,
        first_at: get(row, M::FirstAt)?,
        last_at: get(row, M::LastAt)?,
        origin: origin_from(&get::<String>(row, M::Origin)?),
        client_name: get(row, M::ClientName)?,
        client_ip: get(row, M::ClientIp)?,
        sasl_method: get(row, M::SaslMethod)?,
        sasl_username: get(row, M::SaslUsername)?,
        message_id: get(row, M::MessageId)?,
        sender: get(row, M::Sender)?,
        size: get::<Option<i64>>(row, M::Size)?.map(|s| s as u64),
        nrcpt: get::<Option<i32>>(row, M::Nrcpt)?.map(|n| n as u32),
        verdict: get(row, M::Verdict)?,
        reject: get(row, M::Reject)?,
        recipients,
        removed: get(row, M::Removed)?,
    };
    Ok(Ok(MessageRow {
        id,
        first_hour: get(row, M::FirstHour)?,
        rcpt_addrs: get(row, M::RcptAddrs)?,
        message,
    }))
}

impl MessageRow {
    /// A query of every column a row reads from `mail_message`: add the
    /// conditions, order and limit, then [`load`](Self::load) it.
    pub fn select() -> SelectStatement {
        Query::select()
            .column(MailMessage::Id)
            .columns(MailMessage::WRITTEN)
            .from(MailMessage::Table)
            .to_owned()
    }

    /// The rows `select` (from [`select`](Self::select)) finds, in its
    /// order; a row whose stored JSON does not decode is an `Err` item,
    /// for the caller to skip ([`skip_undecodable`]) or fail on
    /// ([`all_decoded`]).
    pub async fn load(
        db: &impl ConnectionTrait,
        select: &SelectStatement,
    ) -> Result<Vec<Result<MessageRow, StoredJsonError>>, DbErr> {
        db.query_all(select).await?.iter().map(decode).collect()
    }

    /// The message as the trace page shows it.
    pub fn into_trace(self) -> TraceMessage {
        let m = self.message;
        TraceMessage {
            host: m.host,
            queue_id: m.queue_id,
            first_at: m.first_at,
            last_at: m.last_at,
            origin: origin_name(m.origin).to_string(),
            client_name: m.client_name,
            client_ip: m.client_ip,
            sasl_username: m.sasl_username,
            message_id: m.message_id,
            sender: m.sender,
            size: m.size.map(|s| s as i64),
            verdict: m.verdict,
            reject: m.reject,
            recipients: m.recipients.into_iter().map(trace_recipient).collect(),
            removed: m.removed,
        }
    }
}

/// A stored recipient as the trace page shows it (the page's type is
/// shared with the browser, which does not build the engine).
fn trace_recipient(r: Recipient) -> TraceRecipient {
    TraceRecipient {
        to: r.to,
        orig_to: r.orig_to,
        relay: r.relay,
        status: r.status,
        dsn: r.dsn,
        delay: r.delay,
        reply: r.reply,
        at: r.at,
        attempts: r.attempts,
    }
}

/// Every row, or the first that does not decode, logged as an error with
/// its table and id: for readers whose answer would be wrong without it.
pub fn all_decoded(
    rows: Vec<Result<MessageRow, StoredJsonError>>,
) -> Result<Vec<MessageRow>, StoredJsonError> {
    rows.into_iter()
        .collect::<Result<_, _>>()
        .inspect_err(|e| tracing::error!(table = e.table, id = e.id, "{e}"))
}

/// The rows that decode; each one that does not is logged as a warning
/// with its table and id, and left out: for work that must go on.
pub fn skip_undecodable(rows: Vec<Result<MessageRow, StoredJsonError>>) -> Vec<MessageRow> {
    rows.into_iter()
        .filter_map(|row| {
            row.inspect_err(|e| {
                tracing::warn!(table = e.table, id = e.id, "{e}; the row is skipped")
            })
            .ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_schemas() {
        assert_eq!(SeriesTable::MailDomainHour.name(), "mail_domain_hour");
        assert_eq!(MailMessage::RcptAddrs.unquoted(), "rcpt_addrs");
        assert_eq!(format!("{:<12}|", SeriesTable::MailDay), "mail_day    |");
        for origin in [Origin::Smtpd, Origin::Pickup, Origin::Unknown] {
            assert_eq!(origin_from(origin_name(origin)), origin);
        }
    }

    #[test]
    fn a_recipient_address_is_indexed_once_whatever_its_case() {
        let to = |a: &str| Recipient {
            to: a.into(),
            ..Default::default()
        };
        let m = Message {
            recipients: vec![to("Ana@X.com"), to("bia@x.com"), to("ana@x.com"), to("")],
            ..Default::default()
        };
        let mut want = vec![
            super::super::ingest_status::key_hash("ana@x.com"),
            super::super::ingest_status::key_hash("bia@x.com"),
        ];
        want.sort_unstable();
        assert_eq!(recipient_hashes(&m), want);
    }

    /// A real stored row, through an in-memory SQLite `mail_message`.
    async fn stored(rows: &[&str]) -> Vec<Result<MessageRow, StoredJsonError>> {
        use sea_orm::{ConnectionTrait, Database};
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let columns: Vec<String> = std::iter::once("id INTEGER PRIMARY KEY".to_string())
            .chain(MailMessage::WRITTEN.map(|c| format!("{c}")))
            .collect();
        db.execute_unprepared(&format!(
            "CREATE TABLE mail_message ({})",
            columns.join(", ")
        ))
        .await
        .unwrap();
        for (i, recipients) in rows.iter().enumerate() {
            let mut values = message_values(&Message {
                host: "mx1".into(),
                queue_id: format!("4F1A2B3C4{i}"),
                first_at: 7200,
                origin: Origin::Smtpd,
                size: Some(10),
                ..Default::default()
            })
            .unwrap();
            values[MailMessage::WRITTEN.len() - 3] = (*recipients).into();
            let insert = Query::insert()
                .into_table(MailMessage::Table)
                .columns(MailMessage::WRITTEN)
                .values_panic(values)
                .to_owned();
            db.execute(&insert).await.unwrap();
        }
        MessageRow::load(&db, &MessageRow::select()).await.unwrap()
    }

    #[tokio::test]
    async fn recipients_read_back_as_written_and_bad_json_names_its_row() {
        let written = Recipient {
            to: "b@example.com".into(),
            relay: "mx.example.com[192.0.2.1]:25".into(),
            status: "sent".into(),
            reply: "250 ok".into(),
            at: 7201,
            attempts: 1,
            ..Default::default()
        };
        let json = serde_json::to_string(&[&written]).unwrap();
        let mut rows = stored(&[&json, "[{\"to\":", "[]"]).await;

        let row = rows.remove(0).unwrap();
        assert_eq!(row.message.recipients, std::slice::from_ref(&written));
        assert_eq!(
            (row.message.origin, row.message.size),
            (Origin::Smtpd, Some(10))
        );
        assert_eq!(row.first_hour, 2);
        let shown = row.into_trace();
        assert_eq!(shown.recipients[0].relay, written.relay);
        assert_eq!(shown.origin, "smtpd");
        let err = rows[0].as_ref().unwrap_err();
        assert_eq!(
            (err.table, err.id, err.column),
            ("mail_message", 2, "recipients")
        );
        assert!(err.to_string().starts_with("mail_message row 2:"), "{err}");
        assert_eq!(all_decoded(stored(&["[]", "{"]).await).unwrap_err().id, 2);
        assert_eq!(skip_undecodable(rows).len(), 1);
    }
}
