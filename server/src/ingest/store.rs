//! Writing what the MailFlow engine counted: one transaction per batch,
//! holding the per-minute and per-subject counter deltas, the message
//! traces and the checkpoint of the source they came from. A crash at any
//! moment leaves either all of a batch or none of it, and the checkpoint
//! says exactly which lines are in.

use anyhow::{Context, Result};
use app::server::defence::Evidence;
use app::server::mailgraph::{Scope, Tier};
use mailflow::correlate::{Message, Origin, Recipient};
use mailflow::count::{Batch, DEFAULT_RULES, HostedDomains, RejectRules, SubjectCounts};
use mailflow::detect::Proposal;
use mailflow::syslog::{UnixTime, YearGuess};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, FromQueryResult, Statement,
};
use std::collections::BTreeMap;
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

fn t(name: &str) -> Alias {
    Alias::new(name)
}

/// `col = table.col + excluded.col`
fn add_excluded(table: &str, col: &str) -> SimpleExpr {
    Expr::col((t(table), t(col))).add(Expr::cust(format!("excluded.{col}")))
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
/// key order, and a transaction that still loses a deadlock is tried again.
pub async fn commit(db: &DatabaseConnection, batch: &Batch, cp: &Checkpoint) -> Result<()> {
    let mut attempt = 1;
    loop {
        match try_commit(db, batch, cp).await {
            Err(e) if attempt < 5 && is_transient(&e) => {
                tracing::info!("MailFlow batch retried after: {e:#}");
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A deadlock or serialization failure (PostgreSQL) or a busy database
/// (SQLite): the same transaction can succeed when tried again. Decided by
/// the database error's code, by the one policy every writer shares
/// (`app::server::retry::is_transient`), wherever in the chain it is.
fn is_transient(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<sea_orm::DbErr>())
        .any(app::server::retry::is_transient)
}

async fn try_commit(db: &DatabaseConnection, batch: &Batch, cp: &Checkpoint) -> Result<()> {
    let txn = app::server::retry::begin_write(db).await?;
    write_series(&txn, batch).await?;
    for (kind, counts) in ["ip", "account"].iter().zip(&batch.subjects) {
        write_subjects(&txn, &batch.series, kind, counts).await?;
    }
    write_messages(&txn, &batch.messages).await?;
    write_proposals(&txn, &batch.proposals).await?;
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
                    .entry((tier.start(minute, batch.day_offset), key, series))
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
    let table = tier.table(scope);
    let rows: Vec<_> = sums.iter().collect();
    for chunk in rows.chunks(CHUNK) {
        let mut q = Query::insert();
        q.into_table(t(table))
            .columns([tier.column(), scope.column(), "series", "n"].map(t))
            .on_conflict(
                OnConflict::columns([tier.column(), scope.column(), "series"].map(t))
                    .value(t("n"), add_excluded(table, "n"))
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
        let mut q = Query::insert();
        q.into_table(t("mail_subject_hour"))
            .columns(["kind", "subject", "hour", "series", "n"].map(t))
            .on_conflict(
                OnConflict::columns(["kind", "subject", "hour", "series"].map(t))
                    .value(t("n"), add_excluded("mail_subject_hour", "n"))
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

/// A message row's columns: its key (never updated) first, then what later
/// lines may change and what is derived from it for the indexes.
const MESSAGE_COLUMNS: [&str; 21] = [
    "first_at",
    "host",
    "queue_id",
    "first_hour",
    "last_at",
    "origin",
    "client_name",
    "client_ip",
    "sasl_method",
    "sasl_username",
    "message_id",
    "sender",
    "msgid_hash",
    "sender_hash",
    "size",
    "nrcpt",
    "verdict",
    "reject",
    "recipients",
    "rcpt_addrs",
    "removed",
];
const KEY_COLUMNS: usize = 3;

async fn write_messages(txn: &DatabaseTransaction, messages: &[Message]) -> Result<()> {
    use app::server::ingest_status::key_hash;
    let cols = MESSAGE_COLUMNS;
    for chunk in messages.chunks(CHUNK / 2) {
        let mut q = Query::insert();
        q.into_table(t("mail_message"))
            .columns(cols.iter().map(|c| t(c)))
            .on_conflict(
                OnConflict::columns(cols[..KEY_COLUMNS].iter().map(|c| t(c)))
                    .update_columns(cols[KEY_COLUMNS..].iter().map(|c| t(c)))
                    .to_owned(),
            );
        for m in chunk {
            let recipients = serde_json::to_string(&m.recipients)?;
            let addrs = m
                .recipients
                .iter()
                .map(|r| r.to.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            q.values_panic([
                m.first_at.into(),
                m.host.as_str().into(),
                m.queue_id.as_str().into(),
                m.first_at.div_euclid(3600).into(),
                m.last_at.into(),
                origin_name(m.origin).into(),
                m.client_name.clone().into(),
                m.client_ip.clone().into(),
                m.sasl_method.clone().into(),
                m.sasl_username.clone().into(),
                m.message_id.clone().into(),
                m.sender.clone().into(),
                m.message_id.as_deref().map(key_hash).into(),
                m.sender.as_deref().map(key_hash).into(),
                m.size.map(|s| s as i64).into(),
                m.nrcpt.map(|n| n as i32).into(),
                m.verdict.clone().into(),
                m.reject.clone().into(),
                recipients.into(),
                addrs.into(),
                m.removed.into(),
            ]);
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
        let evidence = Evidence {
            subject: p.subject,
            target: p.target.clone(),
            policy: p.policy.clone(),
            reasons: p.reasons.clone(),
            first_seen: p.first_seen,
            last_seen: p.last_seen,
            distinct_ips: p.distinct_ips,
            distinct_recipients: p.distinct_recipients,
            samples: p.samples.clone(),
            block_minutes: p.block_minutes,
            auto_approve: p.auto_approve,
        };
        app::server::defence::record(txn, &evidence, now)
            .await
            .context("cannot store a block proposal")?;
    }
    Ok(())
}

fn origin_name(o: Origin) -> &'static str {
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

/// A stored message row.
#[derive(FromQueryResult)]
struct MessageRow {
    host: String,
    queue_id: String,
    first_at: i64,
    last_at: i64,
    origin: String,
    client_name: Option<String>,
    client_ip: Option<String>,
    sasl_method: Option<String>,
    sasl_username: Option<String>,
    message_id: Option<String>,
    sender: Option<String>,
    size: Option<i64>,
    nrcpt: Option<i32>,
    verdict: Option<String>,
    reject: Option<String>,
    recipients: String,
    removed: bool,
}

impl MessageRow {
    fn into_message(self) -> Message {
        Message {
            host: self.host,
            queue_id: self.queue_id,
            first_at: self.first_at,
            last_at: self.last_at,
            origin: origin_from(&self.origin),
            client_name: self.client_name,
            client_ip: self.client_ip,
            sasl_method: self.sasl_method,
            sasl_username: self.sasl_username,
            message_id: self.message_id,
            sender: self.sender,
            size: self.size.map(|s| s as u64),
            nrcpt: self.nrcpt.map(|n| n as u32),
            verdict: self.verdict,
            reject: self.reject,
            recipients: serde_json::from_str::<Vec<Recipient>>(&self.recipients)
                .unwrap_or_default(),
            removed: self.removed,
        }
    }
}

/// Messages stored unfinished that were still active within `idle_secs`
/// before `at`: a stream resuming at `at` holds them again so that their
/// later lines complete the same records.
pub async fn unfinished_messages(
    db: &impl ConnectionTrait,
    at: UnixTime,
    idle_secs: i64,
) -> Result<Vec<Message>> {
    let q = Query::select()
        .columns(MESSAGE_COLUMNS.iter().map(|c| t(c)))
        .from(t("mail_message"))
        .and_where(Expr::col(t("removed")).eq(false))
        .and_where(Expr::col(t("first_at")).gte(at - 4 * idle_secs))
        .and_where(Expr::col(t("first_at")).lte(at))
        .and_where(Expr::col(t("last_at")).gte(at - idle_secs))
        .to_owned();
    db.query_all(&q)
        .await?
        .iter()
        .map(|r| Ok(MessageRow::from_query_result(r, "")?.into_message()))
        .collect()
}

async fn write_checkpoint(txn: &DatabaseTransaction, cp: &Checkpoint) -> Result<()> {
    let (year, last_month) = cp.years.state();
    let cols = [
        "source",
        "file_id",
        "path",
        "offset",
        "year",
        "last_month",
        "lines",
        "last_log_at",
        "updated_at",
    ];
    let q = Query::insert()
        .into_table(t("ingest_checkpoint"))
        .columns(cols.map(t))
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
            OnConflict::column(t("source"))
                .update_columns(cols[1..].iter().map(|c| t(c)))
                .to_owned(),
        )
        .to_owned();
    txn.execute(&q).await?;
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
    let q = Query::select()
        .columns(["class", "pattern"].map(t))
        .from(t("mail_reject_rule"))
        .order_by(t("position"), sea_orm::sea_query::Order::Asc)
        .to_owned();
    let rows = db.query_all(&q).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "class")?, r.try_get("", "pattern")?)))
        .collect()
}

/// Replaces the rules with `rules`, in this order.
pub async fn save_rules(db: &DatabaseConnection, rules: &[(String, String)]) -> Result<()> {
    let txn = app::server::retry::begin_write(db).await?;
    txn.execute_raw(Statement::from_string(
        txn.get_database_backend(),
        "DELETE FROM mail_reject_rule",
    ))
    .await?;
    for (i, (class, pattern)) in rules.iter().enumerate() {
        let q = Query::insert()
            .into_table(t("mail_reject_rule"))
            .columns(["position", "class", "pattern"].map(t))
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

#[cfg(test)]
mod tests {
    use super::is_transient;
    use sea_orm::{ConnectOptions, ConnectionTrait, Database};
    use std::time::Duration;

    /// A real `SQLITE_BUSY`: a second writer that may not wait.
    #[tokio::test]
    async fn a_busy_database_is_transient_by_its_code_and_text_alone_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/busy.db?mode=rwc", dir.path().display());
        let connect = |wait: Duration| {
            let mut opts = ConnectOptions::new(url.clone());
            opts.max_connections(1)
                .map_sqlx_sqlite_opts(move |o| o.busy_timeout(wait));
            Database::connect(opts)
        };
        let first = connect(Duration::from_secs(5)).await.unwrap();
        first
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let second = connect(Duration::ZERO).await.unwrap();
        let tx = app::server::retry::begin_write(&first).await.unwrap();

        let busy = app::server::retry::begin_write(&second).await.unwrap_err();

        let wrapped = anyhow::Error::from(busy).context("cannot commit a MailFlow batch");
        assert!(is_transient(&wrapped), "{wrapped:#}");
        let text_only = anyhow::anyhow!("database is locked (busy, deadlock)");
        assert!(!is_transient(&text_only));
        drop(tx);
    }
}
