//! Writing what the MailFlow engine counted: one transaction per batch,
//! holding the per-minute and per-subject counter deltas, the message
//! traces and the checkpoint of the source they came from. A crash at any
//! moment leaves either all of a batch or none of it, and the checkpoint
//! says exactly which lines are in.

use anyhow::{Context, Result};
use app::server::defence::Evidence;
use app::server::entities::ingest_checkpoint;
use app::server::mailgraph::{Scope, Tier};
use app::server::retry;
use app::server::tables::{
    self, MailMessage, MailRecipient, MailRejectRule, MailSubjectHour, MessageRow, SeriesColumn,
};
use mailflow::SubjectKind;
use mailflow::correlate::Message;
use mailflow::count::{
    Batch, DEFAULT_RULES, HostedDomains, RejectRules, SubjectCounts, Unclassified,
};
use mailflow::detect::Proposal;
use mailflow::syslog::{UnixTime, YearGuess};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Where a source stands: the lines before `offset` of the file whose
/// first line has fingerprint `file_id` are stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub source: String,
    pub file_id: String,
    /// The path the file was last read from (shown to admins).
    pub path: String,
    pub offset: u64,
    pub years: YearGuess,
    pub lines: u64,
    pub last_log_at: Option<UnixTime>,
}

/// Rows per multi-row INSERT (SQLite allows 32,766 bound values).
const CHUNK: usize = 1000;

/// `n = table.n + excluded.n`: a counter row adds what a batch counted.
fn add_excluded<T, N>(table: T, n: N) -> SimpleExpr
where
    T: sea_orm::sea_query::Iden + 'static,
    N: sea_orm::sea_query::Iden + Copy + 'static,
{
    Expr::col((table, n)).add(Expr::cust(format!("excluded.{}", n.unquoted())))
}

/// The saved position of `source`, if any.
pub async fn checkpoint(db: &impl ConnectionTrait, source: &str) -> Result<Option<Checkpoint>> {
    use app::server::entities::ingest_checkpoint::Entity;
    use sea_orm::EntityTrait;
    let Some(row) = Entity::find_by_id(source).one(db).await? else {
        return Ok(None);
    };
    Ok(Some(Checkpoint {
        source: row.source,
        file_id: row.file_id,
        path: row.path,
        offset: row.offset as u64,
        years: YearGuess::resume(row.year, row.last_month as u32),
        lines: row.lines as u64,
        last_log_at: row.last_log_at,
    }))
}

/// The domains the engine counts per domain: those provisioned here.
pub async fn hosted_domains(db: &impl ConnectionTrait) -> Result<Arc<HostedDomains>> {
    let names = app::server::mailgraph::hosted_domains(db).await?;
    Ok(Arc::new(HostedDomains::new(names)))
}

/// Stores a batch and the checkpoint after it in one transaction. Several
/// sources may write to one PostgreSQL database at once: rows are written in
/// key order, and a transaction that still loses a deadlock (or finds the
/// database busy) is tried again, by the policy every writer shares
/// ([`retry::retrying`], decided by the database error's code wherever in
/// the error's chain it is).
pub async fn commit(db: &DatabaseConnection, batch: &Batch, cp: &Checkpoint) -> Result<()> {
    app::server::partitions::ensure_batch(db, batch).await;
    retry::retrying(
        "MailFlow batch",
        |e: &anyhow::Error| retry::caused_by_transient(&**e),
        || try_commit(db, batch, cp),
    )
    .await
}

async fn try_commit(db: &DatabaseConnection, batch: &Batch, cp: &Checkpoint) -> Result<()> {
    let txn = retry::begin_write(db).await?;
    write_series(&txn, batch).await?;
    for (kind, counts) in [SubjectKind::Ip, SubjectKind::Account]
        .iter()
        .zip(&batch.subjects)
    {
        write_subjects(&txn, &batch.series, kind.name(), counts).await?;
    }
    write_messages(&txn, &batch.messages).await?;
    write_proposals(&txn, &batch.proposals).await?;
    write_unclassified(&txn, &batch.unclassified).await?;
    app::server::alerts::record(&txn, &batch.alerts, chrono::Utc::now().timestamp()).await?;
    write_checkpoint(&txn, cp).await?;
    txn.commit()
        .await
        .context("cannot commit a MailFlow batch")?;
    Ok(())
}

/// The batch's per-minute counts, per host and per hosted domain, added to
/// all three tiers of the series tables (summed by hour and by day here),
/// each table's rows in its key order.
async fn write_series(txn: &DatabaseTransaction, batch: &Batch) -> Result<()> {
    let series = |s: u16| batch.series[usize::from(s)].as_str();
    let hosts: Vec<_> = batch
        .minutes
        .iter()
        .map(|(&(h, minute, s), &n)| ((batch.hosts[usize::from(h)].as_str(), minute, series(s)), n))
        .collect();
    let domains: Vec<_> = batch
        .domain_minutes
        .iter()
        .map(|((d, minute, s), &n)| ((&**d, *minute, series(*s)), n))
        .collect();
    for (scope, rows) in [(Scope::Host, hosts), (Scope::Domain, domains)] {
        for tier in Tier::ALL {
            let mut sums: BTreeMap<(UnixTime, &str, &str), u64> = BTreeMap::new();
            for &((key, minute, series), n) in &rows {
                *sums
                    .entry((tier.start(minute, &*batch.day_zone), key, series))
                    .or_default() += n;
            }
            write_counts(txn, tier, scope, &sums).await?;
        }
    }
    Ok(())
}

/// Adds `(time, key, series) → n` to one series table (also used by
/// `mailgraph-bench` to fill one).
pub(crate) async fn write_counts(
    txn: &DatabaseTransaction,
    tier: Tier,
    scope: Scope,
    sums: &BTreeMap<(UnixTime, &str, &str), u64>,
) -> Result<()> {
    use SeriesColumn::{N, Series};
    let table = tier.table(scope);
    let rows: Vec<_> = sums.iter().collect();
    for chunk in rows.chunks(CHUNK) {
        let mut q = Query::insert();
        q.into_table(table)
            .columns([tier.column(), scope.column(), Series, N])
            .on_conflict(
                OnConflict::columns([tier.column(), scope.column(), Series])
                    .value(N, add_excluded(table, N))
                    .to_owned(),
            );
        for ((at, key, series), n) in chunk {
            q.values_panic([
                (*at).into(),
                (*key).into(),
                (*series).into(),
                (**n as i64).into(),
            ]);
        }
        txn.execute(&q).await?;
    }
    Ok(())
}

async fn write_subjects(
    txn: &DatabaseTransaction,
    series: &[String],
    kind: &str,
    counts: &SubjectCounts,
) -> Result<()> {
    let mut rows: Vec<_> = counts.iter().collect();
    // The table's key order (hour, subject, series): every writer takes
    // its rows' locks in the same order, and inserts land together.
    rows.sort_unstable_by(|a, b| (a.1, a.0, a.2).cmp(&(b.1, b.0, b.2)));
    for chunk in rows.chunks(CHUNK) {
        use MailSubjectHour::{Hour, Kind, N, Series, Subject, Table};
        let mut q = Query::insert();
        q.into_table(Table)
            .columns([Kind, Subject, Hour, Series, N])
            .on_conflict(
                OnConflict::columns([Kind, Subject, Hour, Series])
                    .value(N, add_excluded(Table, N))
                    .to_owned(),
            );
        for &(who, hour, s, n) in chunk {
            q.values_panic([
                kind.into(),
                who.into(),
                hour.into(),
                series[s as usize].as_str().into(),
                (n as i64).into(),
            ]);
        }
        txn.execute(&q).await?;
    }
    Ok(())
}

/// The batch's message records, upserted by their key (a message seen
/// again updates its row, which keeps its id), and their recipients'
/// index rows (`mail_recipient`, by the ids the upsert returns; a row
/// already there is left alone, so an updated message gains only its new
/// recipients).
async fn write_messages(txn: &DatabaseTransaction, messages: &[Message]) -> Result<()> {
    use MailMessage::{FirstAt, Host, Id, QueueId};
    let cols = MailMessage::WRITTEN;
    let mut index = Vec::new();
    let messages = last_of_each_key(messages);
    for chunk in messages.chunks(CHUNK / 2) {
        let mut q = Query::insert();
        q.into_table(MailMessage::Table)
            .columns(cols)
            .on_conflict(
                OnConflict::columns(cols[..MailMessage::KEY].iter().copied())
                    .update_columns(cols[MailMessage::KEY..].iter().copied())
                    .to_owned(),
            )
            .returning(Query::returning().columns([Id, FirstAt, Host, QueueId]));
        for m in chunk {
            q.values_panic(tables::message_values(m)?);
        }
        let mut ids = HashMap::with_capacity(chunk.len());
        for row in txn.query_all(&q).await? {
            let key: (i64, String, String) = (
                row.try_get("", FirstAt.name())?,
                row.try_get("", Host.name())?,
                row.try_get("", QueueId.name())?,
            );
            ids.insert(key, row.try_get::<i64>("", Id.name())?);
        }
        for m in chunk {
            let key = (m.first_at, m.host.clone(), m.queue_id.clone());
            let id = *ids
                .get(&key)
                .with_context(|| format!("no id returned for message {}", m.queue_id))?;
            let hour = m.first_at.div_euclid(mailflow::time::HOUR);
            index.extend(
                tables::recipient_hashes(m)
                    .into_iter()
                    .map(|hash| (hour, hash, m.first_at, id)),
            );
        }
    }
    write_recipients(txn, index).await
}

/// `messages` with one per key `(first_at, host, queue_id)`, the last, in
/// their order. Two in one batch share a key when a log holds a message's
/// lines twice, or Postfix gave a queue id again within the second on one
/// host: they are one row either way. SQLite's upsert stores the last of
/// them row by row; PostgreSQL refuses a statement that updates a row
/// twice ("ON CONFLICT DO UPDATE command cannot affect row a second time").
fn last_of_each_key(messages: &[Message]) -> Vec<&Message> {
    fn key(m: &Message) -> (i64, &str, &str) {
        (m.first_at, m.host.as_str(), m.queue_id.as_str())
    }
    let mut last = HashMap::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        last.insert(key(m), i);
    }
    if last.len() == messages.len() {
        return messages.iter().collect();
    }
    messages
        .iter()
        .enumerate()
        .filter(|&(i, m)| last[&key(m)] == i)
        .map(|(_, m)| m)
        .collect()
}

/// Index rows `(first_hour, hash, first_at, message_id)`, in key order,
/// each written once.
async fn write_recipients(
    txn: &DatabaseTransaction,
    mut rows: Vec<(i64, i64, i64, i64)>,
) -> Result<()> {
    rows.sort_unstable();
    for chunk in rows.chunks(CHUNK * 2) {
        let mut q = Query::insert();
        q.into_table(MailRecipient::Table)
            .columns(MailRecipient::ALL)
            .on_conflict(
                OnConflict::columns(MailRecipient::ALL)
                    .do_nothing()
                    .to_owned(),
            );
        for &(hour, hash, first_at, id) in chunk {
            q.values_panic([hour.into(), hash.into(), first_at.into(), id.into()]);
        }
        txn.execute(&q).await?;
    }
    Ok(())
}

/// Detections, as proposals (or refreshes of them): see
/// [`app::server::defence::record`].
async fn write_proposals(txn: &DatabaseTransaction, proposals: &[Proposal]) -> Result<()> {
    let now = chrono::Utc::now().timestamp();
    for p in proposals {
        let evidence = Evidence::from(p);
        app::server::defence::record(txn, &evidence, now)
            .await
            .context("cannot store a block proposal")?;
    }
    Ok(())
}

/// Messages stored unfinished that were still active within `idle_secs`
/// before `at`: a stream resuming at `at` holds them again so that their
/// later lines complete the same records. A record whose stored recipients
/// do not decode is logged with its id and left out (the ingest goes on;
/// later lines of that message then start a record of their own).
pub async fn unfinished_messages(
    db: &impl ConnectionTrait,
    at: UnixTime,
    idle_secs: i64,
) -> Result<Vec<Message>> {
    let q = MessageRow::select()
        .and_where(Expr::col(MailMessage::Removed).eq(false))
        .and_where(Expr::col(MailMessage::FirstAt).gte(at - 4 * idle_secs))
        .and_where(Expr::col(MailMessage::FirstAt).lte(at))
        .and_where(Expr::col(MailMessage::LastAt).gte(at - idle_secs))
        .to_owned();
    let rows = MessageRow::load(db, &q).await?;
    Ok(tables::skip_undecodable(rows)
        .into_iter()
        .map(|row| row.message)
        .collect())
}

async fn write_checkpoint(txn: &DatabaseTransaction, cp: &Checkpoint) -> Result<()> {
    use ingest_checkpoint::{Column, Entity};
    let (year, last_month) = cp.years.state();
    let cols = [
        Column::Source,
        Column::FileId,
        Column::Path,
        Column::Offset,
        Column::Year,
        Column::LastMonth,
        Column::Lines,
        Column::LastLogAt,
        Column::UpdatedAt,
    ];
    let q = Query::insert()
        .into_table(Entity)
        .columns(cols)
        .values_panic([
            cp.source.as_str().into(),
            cp.file_id.as_str().into(),
            cp.path.as_str().into(),
            (cp.offset as i64).into(),
            year.into(),
            (last_month as i32).into(),
            (cp.lines as i64).into(),
            cp.last_log_at.into(),
            chrono::Utc::now().timestamp().into(),
        ])
        .on_conflict(
            OnConflict::column(Column::Source)
                .update_columns(cols[1..].iter().copied())
                .to_owned(),
        )
        .to_owned();
    txn.execute(&q).await?;
    Ok(())
}

/// The batch's unclassified rejects added to `mail_unclassified`: counts
/// summed, first and last seen widened, samples kept from the batch that
/// first had the text; a text marked classified that still comes
/// unclassified is listed again. Then the table keeps its
/// [`MAX_STORED`](app::server::unclassified::MAX_STORED) most frequent
/// texts, so it stays bounded whatever the log holds.
async fn write_unclassified(txn: &DatabaseTransaction, u: &Unclassified) -> Result<()> {
    use app::server::tables::MailUnclassified::*;
    use app::server::unclassified::{MAX_STORED, join_samples};
    if u.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<_> = u.iter().collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let widen = |col: &str, op: &str| {
        Expr::cust(format!(
            "CASE WHEN excluded.{col} {op} mail_unclassified.{col} \
             THEN excluded.{col} ELSE mail_unclassified.{col} END"
        ))
    };
    for chunk in rows.chunks(CHUNK) {
        let mut q = Query::insert();
        q.into_table(Table)
            .columns([Text, N, FirstAt, LastAt, Samples])
            .on_conflict(
                OnConflict::column(Text)
                    .value(N, add_excluded(Table, N))
                    .value(FirstAt, widen("first_at", "<"))
                    .value(LastAt, widen("last_at", ">"))
                    .value(ClassifiedAs, Expr::cust("NULL"))
                    .to_owned(),
            );
        for (text, t) in chunk {
            q.values_panic([
                (*text).into(),
                (t.n as i64).into(),
                t.first_at.into(),
                t.last_at.into(),
                join_samples(&t.samples).into(),
            ]);
        }
        txn.execute(&q).await?;
    }
    let count = Query::select()
        .expr(Expr::col(Id).count())
        .from(Table)
        .to_owned();
    let stored: i64 = match txn.query_one(&count).await? {
        Some(r) => r.try_get_by_index(0)?,
        None => 0,
    };
    if stored as u64 > MAX_STORED {
        let keep = Query::select()
            .column(Id)
            .from(Table)
            .order_by(N, sea_orm::sea_query::Order::Desc)
            .order_by(Id, sea_orm::sea_query::Order::Asc)
            .limit(MAX_STORED)
            .to_owned();
        let q = Query::delete()
            .from_table(Table)
            .and_where(Expr::col(Id).not_in_subquery(keep))
            .to_owned();
        txn.execute(&q).await?;
    }
    Ok(())
}

/// The reject classification rules, in order. An empty table gets the
/// defaults (so a fresh database, or one whose rules were all deleted,
/// classifies as documented).
pub async fn reject_rules(db: &DatabaseConnection) -> Result<RejectRules> {
    let rows = rule_rows(db).await?;
    let rows = if rows.is_empty() {
        let defaults: Vec<(String, String)> = DEFAULT_RULES
            .iter()
            .map(|r| (r.class.to_string(), r.pattern.to_string()))
            .collect();
        save_rules(db, &defaults).await?;
        defaults
    } else {
        rows
    };
    RejectRules::new(&rows).context("a stored reject rule does not compile")
}

pub async fn rule_rows(db: &impl ConnectionTrait) -> Result<Vec<(String, String)>> {
    use MailRejectRule::{Class, Pattern, Position, Table};
    let q = Query::select()
        .columns([Class, Pattern])
        .from(Table)
        .order_by(Position, sea_orm::sea_query::Order::Asc)
        .order_by(Alias::new("id"), sea_orm::sea_query::Order::Asc)
        .to_owned();
    let rows = db.query_all(&q).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", Class.name())?, r.try_get("", Pattern.name())?)))
        .collect()
}

/// Replaces the rules with `rules`, in this order.
pub async fn save_rules(db: &DatabaseConnection, rules: &[(String, String)]) -> Result<()> {
    use MailRejectRule::{Class, Pattern, Position, Table};
    let txn = retry::begin_write(db).await?;
    txn.execute(&Query::delete().from_table(Table).to_owned())
        .await?;
    for (i, (class, pattern)) in rules.iter().enumerate() {
        let q = Query::insert()
            .into_table(Table)
            .columns([Position, Class, Pattern])
            .values_panic([
                (i as i32).into(),
                class.as_str().into(),
                pattern.as_str().into(),
            ])
            .to_owned();
        txn.execute(&q).await?;
    }
    txn.commit().await?;
    Ok(())
}
