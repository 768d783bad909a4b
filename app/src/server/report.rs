//! The pflogsumm-like Mailgraph report of a time range, built from what the
//! ingest engine stored, and its text and CSV forms.
//!
//! - Grand totals, per-day and per-hour-of-day tables come from the series
//!   tables (exact counts; the hour tier while it keeps the range, else the
//!   day tier, which has no hours).
//! - Senders, recipients and their domains (by count and by size), bounces
//!   by remote server and deferral reasons come from the message records,
//!   read one hour at a time. A sender counts once per message received
//!   from outside (loopback re-injections of a content filter are the same
//!   message again); a recipient once per delivery that was not a hand-off
//!   to a filter. A deferral reason is a recipient's latest reply while it
//!   was still deferred, reduced to its shape by [`deferral_reason`] (the
//!   unclassified-reject normaliser after the remote host's name is
//!   dropped), so the table shows the few reasons and how often each came.
//! - Days are the local days of `server.time_zone` (23 or 25 hours long
//!   around a summer-time change), hours of day its local hours.
//! - Rejects by client come from the per-client hourly counters.

use super::mailgraph::{Scope, Tier, TimeRange, sums_by_time, tier_for};
use super::tables::{self, MailMessage, MailSubjectHour, MessageRow};
use crate::errors::AppError;
use crate::model::{MailReport, ReportTable};
use crate::state::MailgraphSettings;
use mailflow::correlate::Origin;
use mailflow::count::is_filter_relay;
use mailflow::series::{self, Series};
use mailflow::time::LocalDays;
use mailflow::{SubjectKind, time};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};
use std::collections::{BTreeMap, HashMap};

/// Rows of each "top" table.
pub const TOP: usize = 50;
/// The longest range a report covers.
pub const MAX_DAYS: i64 = 92;

/// The range of a report preset (local days of `server.time_zone`).
pub fn resolve(
    settings: &MailgraphSettings,
    preset: &str,
    from: i64,
    to: i64,
    now: i64,
) -> Result<(i64, i64), AppError> {
    let end = Tier::Minute.start(now, 0) + 60;
    if preset.is_empty() {
        return Ok((from, to));
    }
    crate::pages::report::preset_range(&*settings.zone, preset, now, end).ok_or_else(|| {
        AppError::field(
            "preset",
            crate::pages::report::ReportTexts(crate::server::locale::request_lang()).bad_preset(),
        )
    })
}

/// Refuses a range the web pages should not compute: not real dates (see
/// [`TimeRange`]), empty, or over [`MAX_DAYS`] (reading that many messages
/// takes minutes at ISP volume).
pub fn check_range(from: i64, to: i64) -> Result<TimeRange, AppError> {
    TimeRange::parse(from, to, MAX_DAYS, "A report")
}

/// The report of `[from, to)`, any length (see [`check_range`]).
pub async fn report(
    db: &impl ConnectionTrait,
    settings: &MailgraphSettings,
    from: i64,
    to: i64,
    now: i64,
) -> Result<MailReport, AppError> {
    let mut tables = series_tables(db, settings, from, to, now).await?;
    let mut messages = Messages::new(&settings.filter_relays);
    let mut hour = from.div_euclid(time::HOUR);
    while hour * time::HOUR < to {
        for row in message_rows(db, hour, from, to).await? {
            messages.add(row);
        }
        hour += 1;
    }
    messages.into_tables(&mut tables);
    tables.extend(rejects_by_client(db, from, to).await?);
    Ok(MailReport {
        from,
        to,
        offset: settings.offset_at(from),
        tables,
    })
}

/// Totals, per day, per hour of day and rejects by class.
async fn series_tables(
    db: &impl ConnectionTrait,
    settings: &MailgraphSettings,
    from: i64,
    to: i64,
    now: i64,
) -> Result<Vec<ReportTable>, AppError> {
    let zone = &*settings.zone;
    // Minutes would be exact too, but a month of them is many rows.
    let tier = match tier_for(from, to, now, &settings.retention) {
        Tier::Minute | Tier::Hour => Tier::Hour,
        Tier::Day => Tier::Day,
    };
    let (start, end) = match tier {
        Tier::Day => (Tier::Day.start(from, zone), to),
        _ => (Tier::Hour.start(from, zone), to),
    };
    let select = sums_by_time(tier, Scope::Host, "", (start, end), (tier.seconds(), 0));
    let rows = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?;
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut days: BTreeMap<i64, [u64; Series::TRAFFIC.len()]> = BTreeMap::new();
    let mut hours = [[0u64; Series::TRAFFIC.len()]; 24];
    for row in rows {
        let at: i64 = row.try_get_by_index(0)?;
        let series: String = row.try_get_by_index(1)?;
        let n = u64::try_from(row.try_get_by_index::<i64>(2)?).unwrap_or(0);
        *totals.entry(series.clone()).or_default() += n;
        if let Some(col) = Series::TRAFFIC.iter().position(|s| s.name() == series) {
            days.entry(Tier::Day.start(at, zone)).or_default()[col] += n;
            if tier == Tier::Hour {
                let local = at + zone.utc_offset(at);
                hours[(local.rem_euclid(time::DAY) / time::HOUR) as usize][col] += n;
            }
        }
    }
    let mut out = Vec::new();
    let mut grand = table("totals", "Grand totals", &["series", "count"]);
    for s in Series::ALL {
        grand.rows.push(vec![
            s.report_label().to_string(),
            totals.get(s.name()).copied().unwrap_or(0).to_string(),
        ]);
    }
    out.push(grand);
    let traffic_columns = |first: &'static str| {
        std::iter::once(first)
            .chain(Series::TRAFFIC.map(Series::name))
            .collect::<Vec<_>>()
    };
    let mut per_day = table("per_day", "Per day", &traffic_columns("day"));
    for (day, counts) in days {
        let mut row = vec![local(day, zone.utc_offset(day), "%Y-%m-%d")];
        row.extend(counts.iter().map(u64::to_string));
        per_day.rows.push(row);
    }
    out.push(per_day);
    if tier == Tier::Hour {
        let mut per_hour = table("per_hour", "Per hour of day", &traffic_columns("hour"));
        for (h, counts) in hours.iter().enumerate() {
            let mut row = vec![format!("{h:02}:00")];
            row.extend(counts.iter().map(u64::to_string));
            per_hour.rows.push(row);
        }
        out.push(per_hour);
    }
    let mut classes: Vec<(&str, u64)> = totals
        .iter()
        .filter_map(|(s, n)| Some((series::reject_class(s)?, *n)))
        .filter(|(_, n)| *n > 0)
        .collect();
    classes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut by_class = table(
        "rejects_by_class",
        "Rejects by class",
        &["class", "rejects"],
    );
    by_class.rows = classes
        .into_iter()
        .map(|(c, n)| vec![c.to_string(), n.to_string()])
        .collect();
    out.push(by_class);
    Ok(out)
}

/// The messages first seen in hour number `hour` (and in `[from, to)`). A
/// record whose stored recipients do not decode fails the report (logged
/// with its id): its totals would be wrong without it.
async fn message_rows(
    db: &impl ConnectionTrait,
    hour: i64,
    from: i64,
    to: i64,
) -> Result<Vec<MessageRow>, AppError> {
    let mut q = MessageRow::select();
    q.and_where(Expr::col(MailMessage::FirstHour).eq(hour))
        .and_where(Expr::col(MailMessage::FirstAt).gte(from))
        .and_where(Expr::col(MailMessage::FirstAt).lt(to))
        .order_by(MailMessage::FirstAt, Order::Asc);
    let rows = MessageRow::load(db, &q).await?;
    tables::all_decoded(rows).map_err(|_| AppError::Internal)
}

/// Count and bytes per key.
type Tally = HashMap<String, (u64, u64)>;

struct Messages<'a> {
    /// `mailflow.filter_relays`: deliveries to these are hand-offs.
    filter_relays: &'a [String],
    senders: Tally,
    sending_domains: Tally,
    recipients: Tally,
    receiving_domains: Tally,
    bounces: HashMap<String, u64>,
    deferrals: HashMap<String, u64>,
    bytes_received: u64,
    bytes_delivered: u64,
}

impl<'a> Messages<'a> {
    fn new(filter_relays: &'a [String]) -> Self {
        Self {
            filter_relays,
            senders: Tally::default(),
            sending_domains: Tally::default(),
            recipients: Tally::default(),
            receiving_domains: Tally::default(),
            bounces: HashMap::new(),
            deferrals: HashMap::new(),
            bytes_received: 0,
            bytes_delivered: 0,
        }
    }

    fn add(&mut self, row: MessageRow) {
        let m = row.message;
        let size = m.size.unwrap_or(0);
        let from_outside =
            m.origin == Origin::Smtpd && !m.client_ip.as_deref().is_some_and(is_loopback);
        if from_outside {
            let sender = match m.sender.as_deref() {
                Some("") | None => "<>".to_string(),
                Some(s) => s.to_ascii_lowercase(),
            };
            let domain = domain_of(&sender).to_string();
            bump(&mut self.senders, sender, size);
            bump(&mut self.sending_domains, domain, size);
            self.bytes_received += size;
        }
        for r in m.recipients {
            match r.status.as_str() {
                "sent" if !is_filter_relay(self.filter_relays, &r.relay) => {
                    let to = r.to.to_ascii_lowercase();
                    bump(
                        &mut self.receiving_domains,
                        domain_of(&to).to_string(),
                        size,
                    );
                    bump(&mut self.recipients, to, size);
                    self.bytes_delivered += size;
                }
                "bounced" => *self.bounces.entry(relay_host(&r.relay)).or_default() += 1,
                "deferred" => *self.deferrals.entry(deferral_reason(&r.reply)).or_default() += 1,
                _ => {}
            }
        }
    }

    fn into_tables(self, out: &mut Vec<ReportTable>) {
        if let Some(totals) = out.iter_mut().find(|t| t.id == "totals") {
            for (what, n) in [
                ("bytes received", self.bytes_received),
                ("bytes delivered", self.bytes_delivered),
                ("senders", self.senders.len() as u64),
                ("sending domains", self.sending_domains.len() as u64),
                ("recipients", self.recipients.len() as u64),
                ("receiving domains", self.receiving_domains.len() as u64),
            ] {
                totals.rows.push(vec![what.to_string(), n.to_string()]);
            }
        }
        for (tally, id, title, key, what) in [
            (&self.senders, "senders", "Senders", "sender", "messages"),
            (
                &self.recipients,
                "recipients",
                "Recipients",
                "recipient",
                "delivered",
            ),
            (
                &self.sending_domains,
                "sending_domains",
                "Sending domains",
                "domain",
                "messages",
            ),
            (
                &self.receiving_domains,
                "receiving_domains",
                "Receiving domains",
                "domain",
                "delivered",
            ),
        ] {
            for by_size in [false, true] {
                let (suffix, sort) = if by_size {
                    ("size", "by size")
                } else {
                    ("count", "by count")
                };
                let mut t = table(
                    &format!("{id}_by_{suffix}"),
                    &format!("{title} {sort}"),
                    &[key, what, "bytes"],
                );
                t.rows = top(tally
                    .iter()
                    .map(|(k, v)| (k, if by_size { (v.1, v.0) } else { *v })))
                .into_iter()
                .map(|(k, (a, b))| {
                    let (n, bytes) = if by_size { (b, a) } else { (a, b) };
                    vec![k.clone(), n.to_string(), bytes.to_string()]
                })
                .collect();
                out.push(t);
            }
        }
        for (counts, id, title, key, what) in [
            (
                &self.bounces,
                "bounces_by_relay",
                "Bounces by remote server",
                "server",
                "bounces",
            ),
            (
                &self.deferrals,
                "deferral_reasons",
                "Deferrals by reason",
                "reason",
                "recipients",
            ),
        ] {
            let mut t = table(id, title, &[key, what]);
            t.rows = top(counts.iter().map(|(k, n)| (k, (*n, 0))))
                .into_iter()
                .map(|(k, (n, _))| vec![k.clone(), n.to_string()])
                .collect();
            out.push(t);
        }
    }
}

fn bump(tally: &mut Tally, key: String, size: u64) {
    let e = tally.entry(key).or_default();
    e.0 += 1;
    e.1 += size;
}

/// The [`TOP`] biggest by the first number, then the second, then the key.
fn top<'a>(items: impl Iterator<Item = (&'a String, (u64, u64))>) -> Vec<(&'a String, (u64, u64))> {
    let mut all: Vec<_> = items.collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    all.truncate(TOP);
    all
}

/// The most frequent rejected clients in `[from, to)` by hour counters.
async fn rejects_by_client(
    db: &impl ConnectionTrait,
    from: i64,
    to: i64,
) -> Result<Vec<ReportTable>, AppError> {
    use MailSubjectHour as S;
    let select = Query::select()
        .columns([S::Subject, S::Series])
        .expr(tables::sum_of(S::N))
        .from(S::Table)
        .and_where(Expr::col(S::Kind).eq(SubjectKind::Ip.name()))
        .and_where(Expr::col(S::Hour).gte(Tier::Hour.start(from, 0)))
        .and_where(Expr::col(S::Hour).lt(to))
        .and_where(Expr::col(S::Series).like(format!("{}%", series::REJECT_PREFIX)))
        .add_group_by([Expr::col(S::Subject), Expr::col(S::Series)])
        .order_by_expr(Expr::cust("3"), Order::Desc)
        .order_by(S::Subject, Order::Asc)
        .order_by(S::Series, Order::Asc)
        .limit(TOP as u64)
        .to_owned();
    let rows = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?;
    let mut t = table(
        "rejects_by_client",
        "Rejects by client",
        &["client", "class", "rejects"],
    );
    for row in rows {
        let client: String = row.try_get_by_index(0)?;
        let series: String = row.try_get_by_index(1)?;
        let n: i64 = row.try_get_by_index(2)?;
        let class = series::reject_class(&series).unwrap_or(&series).to_string();
        t.rows.push(vec![client, class, n.to_string()]);
    }
    Ok(vec![t])
}

fn table(id: &str, title: &str, columns: &[&str]) -> ReportTable {
    ReportTable {
        id: id.to_string(),
        title: title.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows: Vec::new(),
    }
}

fn local(t: i64, offset: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp(t + offset, 0)
        .map(|d| d.format(format).to_string())
        .unwrap_or_default()
}

fn domain_of(address: &str) -> &str {
    match address.rsplit_once('@') {
        Some((_, d)) if !d.is_empty() => d,
        _ => "(none)",
    }
}

fn is_loopback(ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>()
        .is_ok_and(|a| a.is_loopback())
}

/// `mx.y.com[198.51.100.2]:25` → `mx.y.com[198.51.100.2]`.
fn relay_host(relay: &str) -> String {
    match relay.find(']') {
        Some(i) => relay[..=i].to_string(),
        None => relay.to_string(),
    }
}

/// A deferral reply grouped with others like it: what the remote server
/// or the connection said, without who said it. The wrapper Postfix puts
/// around a reply (`delivery temporarily suspended:`, `host NAME[IP]
/// said:`, `(in reply to … command)`) is dropped, every host name given
/// with its address (`mx.z.com[198.51.100.2]`) becomes `<host>`, then the
/// text is reduced like an unclassified reject
/// ([`mailflow::count::unclassified::normalise`]: `<addr>`, `<ip>`, `<n>`…).
/// At most that normaliser's length.
pub fn deferral_reason(reply: &str) -> String {
    let mut text = reply.trim();
    text = text
        .strip_prefix("delivery temporarily suspended:")
        .unwrap_or(text)
        .trim_start();
    if let Some(rest) = text.strip_prefix("host ")
        && let Some((_, said)) = rest.split_once(" said:")
    {
        text = said.trim_start();
    }
    if let Some(i) = text.rfind(" (in reply to ")
        && text.ends_with(" command)")
    {
        text = &text[..i];
    }
    // `mx.z.com[198.51.100.2]:25:` → `<host>[198.51.100.2]:25:`; a
    // hostile reply of any length is cut by the normaliser after this.
    let words: Vec<String> = text
        .split_whitespace()
        .take(200)
        .map(|word| match word.find('[') {
            Some(i) if i > 0 => format!("<host>{}", &word[i..]),
            _ => match word.split_once("name=") {
                Some((before, _)) => format!("{before}name=<host>"),
                None => word.to_string(),
            },
        })
        .collect();
    let shape = mailflow::count::unclassified::normalise(&words.join(" "));
    if shape.is_empty() {
        "(no reply)".into()
    } else {
        shape
    }
}

/// The report as text for a terminal: each table with aligned columns.
pub fn text(report: &MailReport) -> String {
    let mut out = format!(
        "Mail report {} .. {}\n",
        local(report.from, report.offset, "%Y-%m-%d %H:%M"),
        local(report.to, report.offset, "%Y-%m-%d %H:%M"),
    );
    for t in &report.tables {
        out.push_str(&format!(
            "\n{}\n{}\n",
            t.title,
            "-".repeat(t.title.chars().count())
        ));
        if t.rows.is_empty() {
            out.push_str("  (none)\n");
            continue;
        }
        let mut widths: Vec<usize> = t.columns.iter().map(|c| c.chars().count()).collect();
        for row in &t.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut l = String::from(" ");
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let pad = w - cell.chars().count();
                // Numbers right-aligned, text left-aligned.
                if i > 0 && cell.bytes().all(|b| b.is_ascii_digit()) {
                    l.push_str(&format!(" {}{cell}", " ".repeat(pad)));
                } else {
                    l.push_str(&format!(" {cell}{}", " ".repeat(pad)));
                }
            }
            l.trim_end().to_string() + "\n"
        };
        out.push_str(&line(&t.columns));
        for row in &t.rows {
            out.push_str(&line(row));
        }
    }
    out
}

/// One table as CSV (RFC 4180, header row first). Cells are log text
/// (addresses, reject replies) that anyone sending mail can choose, so a
/// cell a spreadsheet would take for a formula is neutralised
/// ([`spreadsheet_safe`]).
pub fn csv(table: &ReportTable) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal = |_| AppError::Internal;
    let safe = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .map(|c| spreadsheet_safe(c).into_owned())
            .collect()
    };
    w.write_record(safe(&table.columns)).map_err(internal)?;
    for row in &table.rows {
        w.write_record(safe(row)).map_err(internal)?;
    }
    String::from_utf8(w.into_inner().map_err(|_| AppError::Internal)?)
        .map_err(|_| AppError::Internal)
}

/// `cell` as a spreadsheet shows it but never runs it: a cell beginning
/// with `=`, `+`, `-`, `@`, a tab or a carriage return (which Excel,
/// LibreOffice and Google Sheets read as a formula) gets a leading `'`.
/// Plain numbers, negative ones included, are left alone.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_spreadsheets_would_run_are_neutralised() {
        let table = ReportTable {
            id: "senders_by_count".into(),
            title: "Senders by count".into(),
            columns: vec!["sender".into(), "messages".into()],
            rows: vec![
                vec![
                    "=HYPERLINK(\"http://evil.example\",\"x\")@a.com".into(),
                    "1".into(),
                ],
                vec!["+1-555@b.com".into(), "-3".into()],
                vec!["-cmd@c.com".into(), "2".into()],
                vec!["@SUM(A1)".into(), "3".into()],
                vec!["\tx@d.com".into(), "4".into()],
                vec!["\rx@e.com".into(), "5".into()],
                vec!["ok@f.com".into(), "6".into()],
            ],
        };
        let out = csv(&table).unwrap();
        let mut reader = ::csv::Reader::from_reader(out.as_bytes());
        let firsts: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
        assert_eq!(
            firsts,
            [
                "'=HYPERLINK(\"http://evil.example\",\"x\")@a.com",
                "'+1-555@b.com",
                "'-cmd@c.com",
                "'@SUM(A1)",
                "'\tx@d.com",
                "'\rx@e.com",
                "ok@f.com",
            ]
        );
        // Numbers stay numbers.
        assert!(out.contains(",-3\n"), "{out}");
        assert_eq!(spreadsheet_safe("-12.5"), "-12.5");
    }

    #[test]
    fn filter_hand_offs_and_relay_hosts() {
        let defaults = MailgraphSettings::default().filter_relays;
        let is_filter = |relay| is_filter_relay(&defaults, relay);
        assert!(is_filter("127.0.0.1[127.0.0.1]:10024"));
        assert!(is_filter("amavis[10.1.1.1]:10024"));
        assert!(is_filter("clamav"));
        assert!(!is_filter("mx.x.com[198.51.100.1]:25"));
        assert_eq!(
            relay_host("mx.y.com[198.51.100.2]:25"),
            "mx.y.com[198.51.100.2]"
        );
        assert_eq!(relay_host("mx[2001:db8::1]:25"), "mx[2001:db8::1]");
        assert_eq!(relay_host("none"), "none");
    }

    #[test]
    fn deferral_reasons_group_without_hosts_addresses_or_numbers() {
        let same = [
            "host mx.z.com[198.51.100.2] said: 452 4.2.2 <d@z.com>: Mailbox full (in reply to RCPT TO command)",
            "host mx7.y.net[203.0.113.9] said: 452 4.2.2 <e@y.net>: Mailbox full (in reply to RCPT TO command)",
        ];
        for reply in same {
            assert_eq!(deferral_reason(reply), "452 4.2.2 <addr>: Mailbox full");
        }
        assert_eq!(
            deferral_reason("connect to mx.z.com[198.51.100.2]:25: Connection timed out"),
            deferral_reason(
                "delivery temporarily suspended: connect to mail.q.org[2001:db8::7]:25: Connection timed out"
            ),
        );
        assert_eq!(
            deferral_reason("connect to mx.z.com[198.51.100.2]:25: Connection refused"),
            "connect to <host>[<ip>]<n>: Connection refused"
        );
        assert_eq!(
            deferral_reason(
                "Host or domain name not found. Name service error for name=z.com type=MX: Host not found, try again"
            ),
            deferral_reason(
                "Host or domain name not found. Name service error for name=other.com.br type=MX: Host not found, try again"
            ),
        );
        assert_eq!(deferral_reason(""), "(no reply)");
        let huge = format!("host a[1.2.3.4] said: 451 {}", "é".repeat(2_000_000));
        assert!(deferral_reason(&huge).len() <= 1024);
    }

    #[test]
    fn text_aligns_numbers_right_and_csv_quotes() {
        let r = MailReport {
            from: 0,
            to: 86_400,
            offset: 0,
            tables: vec![ReportTable {
                id: "senders_by_count".into(),
                title: "Senders by count".into(),
                columns: vec!["sender".into(), "messages".into()],
                rows: vec![
                    vec!["a@x.com".into(), "7".into()],
                    vec!["\"odd\", name@y.com".into(), "12".into()],
                ],
            }],
        };
        let text = text(&r);
        assert!(text.contains("\n  sender            messages\n"), "{text}");
        assert!(text.contains("\n  a@x.com                  7\n"), "{text}");
        assert!(
            text.contains("\n  \"odd\", name@y.com       12\n"),
            "{text}"
        );
        assert_eq!(
            csv(&r.tables[0]).unwrap(),
            "sender,messages\na@x.com,7\n\"\"\"odd\"\", name@y.com\",12\n"
        );
    }
}
