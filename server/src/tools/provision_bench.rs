//! `carteiro provision-bench`: how fast support's searches and Postfix's
//! map lookups are on a database with an ISP's number of mailboxes.
//!
//! It fills the database (the configured one, or --db) with synthetic
//! mailboxes up to --mailboxes (written straight into the tables with a
//! fixed password hash: hashing a million passwords would measure argon2),
//! then runs each kind of query --queries times through the same code the
//! portal and Postfix use, and prints the latency percentiles.

use anyhow::{Context, Result};
use app::provision::{MailboxStatus, SearchedAs};
use app::server::entities::{mail_domain, mailbox};
use app::server::provision::search::{self, MailboxSearch};
use app::server::provision::types::name_key;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder, Statement,
    TransactionTrait,
};
use std::time::{Duration, Instant};

const FIRST: [&str; 16] = [
    "ana", "bruno", "carla", "diego", "eva", "fabio", "gabriela", "hugo", "iris", "joao", "karina",
    "lucas", "maria", "nuno", "olivia", "pedro",
];
const LAST: [&str; 12] = [
    "silva", "souza", "costa", "santos", "oliveira", "pereira", "lima", "ferreira", "almeida",
    "ribeiro", "carvalho", "gomes",
];
const DOMAINS: usize = 50;
/// A well-formed `{ARGON2ID}` hash (of no real password).
const HASH: &str = "{ARGON2ID}$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$YmVuY2hiZW5jaGJlbmNoYmVuY2hiZW5jaGJlbmNoYmU";

/// A deterministic pseudo-random sequence (SplitMix64).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn domain_name(i: usize) -> String {
    format!("cliente{i:02}.com.br")
}

/// The `n`-th synthetic mailbox: (local part, name, domain index).
fn mailbox_of(n: usize) -> (String, String, usize) {
    let mut rng = Rng(n as u64);
    let (f, l) = (FIRST[rng.below(FIRST.len())], LAST[rng.below(LAST.len())]);
    let name = format!(
        "{}{} {}{}",
        &f[..1].to_uppercase(),
        &f[1..],
        &l[..1].to_uppercase(),
        &l[1..]
    );
    (format!("{f}.{l}{n}"), name, n % DOMAINS)
}

/// Adds synthetic mailboxes until there are `target`; prints progress.
pub async fn fill(db: &DatabaseConnection, target: u64) -> Result<()> {
    let now = chrono::Utc::now();
    if mail_domain::Entity::find().count(db).await? == 0 {
        for i in 0..DOMAINS {
            db.execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "INSERT INTO mail_domain (name, description, max_mailboxes, max_aliases, max_quota_mb, \
                 default_quota_mb, active, created_at, updated_at) VALUES ($1, 'bench', 0, 0, 0, 1024, TRUE, $2, $2)",
                [domain_name(i).into(), now.into()],
            ))
            .await?;
        }
    }
    let ids: Vec<i32> = {
        let mut all = mail_domain::Entity::find().all(db).await?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all.into_iter().map(|d| d.id).collect()
    };
    let have = mailbox::Entity::find().count(db).await?;
    if have >= target {
        println!("{have} mailboxes already there");
        return Ok(());
    }
    let last_id = mailbox::Entity::find()
        .order_by_desc(mailbox::Column::Id)
        .one(db)
        .await?
        .map_or(0, |m| m.id);
    let started = Instant::now();
    let chunk = 400;
    let mut n = have as usize;
    while (n as u64) < target {
        let tx = db.begin().await?;
        for _ in 0..25 {
            let mut q = Query::insert();
            q.into_table(Alias::new("mailbox")).columns(
                [
                    "domain_id",
                    "local_part",
                    "address",
                    "name",
                    "name_key",
                    "password",
                    "quota_mb",
                    "status",
                    "can_send",
                    "can_receive",
                    "forward_keep_copy",
                    "created_at",
                    "updated_at",
                ]
                .map(Alias::new),
            );
            let end = (n + chunk).min(target as usize);
            for i in n..end {
                let (local, name, d) = mailbox_of(i);
                let status = if i % 50 == 7 {
                    MailboxStatus::Suspended
                } else {
                    MailboxStatus::Active
                };
                q.values_panic([
                    ids[d].into(),
                    local.clone().into(),
                    format!("{local}@{}", domain_name(d)).into(),
                    name.clone().into(),
                    name_key(&name).into(),
                    HASH.into(),
                    1024i64.into(),
                    status.as_str().into(),
                    true.into(),
                    true.into(),
                    false.into(),
                    now.into(),
                    now.into(),
                ]);
            }
            n = end;
            tx.execute(&q).await?;
            if n as u64 >= target {
                break;
            }
        }
        tx.commit().await?;
        eprint!("\r{n} mailboxes ({:.0} s)", started.elapsed().as_secs_f64());
    }
    eprintln!();
    // The name search's words, as creating each mailbox would have written.
    search::index_names_after(db, last_id).await?;
    println!(
        "filled {} mailboxes in {:.1} s",
        n as u64 - have,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The `q`-quantile (0 to 1) of `sorted` latencies, which must not be
/// empty (shared by every benchmark).
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// Latency percentiles of `times`, as one line (also used by
/// `mailgraph-bench`).
pub fn report(label: &str, mut times: Vec<Duration>, hits: usize) {
    times.sort();
    let p = |q: f64| quantile(&times, q);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<44} n={:<5} p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({hits} rows)",
        times.len(),
        ms(p(0.50)),
        ms(p(0.95)),
        ms(p(0.99)),
        ms(*times.last().unwrap())
    );
}

/// Builds one search of a kind from the random sequence and the mailbox count.
type MakeSearch = fn(&mut Rng, usize) -> MailboxSearch;

pub async fn run(db: &DatabaseConnection, mailboxes: u64, queries: usize) -> Result<()> {
    fill(db, mailboxes)
        .await
        .context("cannot fill the database")?;
    let total = mailbox::Entity::find().count(db).await? as usize;
    let mut rng = Rng(42);
    let search_kinds: [(&str, MakeSearch); 7] = [
        ("search: address prefix (3 letters)", |r, _| MailboxSearch {
            q: FIRST[r.below(FIRST.len())][..3].to_string(),
            ..Default::default()
        }),
        ("search: whole address", |r, total| {
            let (local, _, d) = mailbox_of(r.below(total));
            MailboxSearch {
                q: format!("{local}@{}", domain_name(d)),
                ..Default::default()
            }
        }),
        ("search: name words (first name, surname start)", |r, _| {
            MailboxSearch {
                q: format!(
                    "{} {}",
                    FIRST[r.below(FIRST.len())],
                    &LAST[r.below(LAST.len())][..2]
                ),
                ..Default::default()
            }
        }),
        ("search: a surname alone", |r, _| MailboxSearch {
            q: LAST[r.below(LAST.len())].to_string(),
            ..Default::default()
        }),
        ("search: domain + local part prefix", |r, _| MailboxSearch {
            q: FIRST[r.below(FIRST.len())].to_string(),
            by: Some(SearchedAs::Address),
            domain: domain_name(r.below(DOMAINS)),
            ..Default::default()
        }),
        ("search: domain + a name word", |r, _| MailboxSearch {
            q: FIRST[r.below(FIRST.len())].to_string(),
            domain: domain_name(r.below(DOMAINS)),
            ..Default::default()
        }),
        ("search: suspended only", |r, _| MailboxSearch {
            q: FIRST[r.below(FIRST.len())][..2].to_string(),
            by: Some(SearchedAs::Address),
            status: MailboxStatus::Suspended.as_str().into(),
            ..Default::default()
        }),
    ];
    println!("{total} mailboxes; {queries} queries of each kind, 50 rows per page");
    for (label, make) in search_kinds {
        let (mut times, mut hits) = (Vec::with_capacity(queries), 0);
        for _ in 0..queries {
            let s = make(&mut rng, total);
            let t = Instant::now();
            let page = search::mailboxes(db, &s).await?;
            times.push(t.elapsed());
            hits += page.rows.len();
            // The next page costs the same (keyset), measured with the first.
            if let Some(next) = page.next {
                let t = Instant::now();
                search::mailboxes(
                    db,
                    &MailboxSearch {
                        after: Some(next),
                        ..s
                    },
                )
                .await?;
                times.push(t.elapsed());
            }
        }
        report(label, times, hits);
    }
    let backend = db.get_database_backend();
    for (label, sql) in [
        (
            "postfix: virtual_mailbox_maps",
            "SELECT maildir FROM postfix_mailboxes WHERE local_part = $1 AND domain = $2",
        ),
        (
            "postfix: virtual_alias_maps",
            "SELECT goto FROM postfix_aliases WHERE local_part = $1 AND domain = $2",
        ),
        (
            "postfix: smtpd_sender_login_maps",
            "SELECT owner FROM postfix_sender_logins WHERE local_part = $1 AND domain = $2",
        ),
        (
            "dovecot: passdb",
            "SELECT username, password FROM dovecot_users WHERE local_part = $1 AND domain = $2 AND can_login",
        ),
    ] {
        let (mut times, mut hits) = (Vec::with_capacity(queries), 0);
        for i in 0..queries {
            // Every other lookup is for an address that does not exist.
            let (local, _, d) = mailbox_of(rng.below(total));
            let local = if i % 2 == 0 {
                local
            } else {
                format!("{local}x")
            };
            let t = Instant::now();
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [local.into(), domain_name(d).into()],
                ))
                .await?;
            times.push(t.elapsed());
            hits += rows.len();
        }
        report(label, times, hits);
    }
    Ok(())
}
