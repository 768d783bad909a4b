//! The active blocks as an in-memory snapshot: what the policy daemon
//! answers from. A refresher re-reads them from the database every few
//! seconds and writes back how many requests each block refused, and how
//! many were refused in each minute by IP and by account blocks (the
//! "refused by blocks" series of the Charts page); when the database is
//! down the last snapshot stays in force, so mail keeps flowing under the
//! blocks already known, and the counts wait in memory for the next write.
//! Counting is a map update under a mutex: the policy answer never waits
//! for the database. A crash or a stop loses the counts since the last
//! write (at most `defence.refresh_secs`).

use anyhow::{Context, Result};
use app::server::entities::defence_block::{Column, Entity};
use ipnet::IpNet;
use mailflow::SubjectKind;
use rustc_hash::FxHashMap;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// One active block, as the snapshot needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveBlock {
    pub id: i64,
    pub subject: SubjectKind,
    pub target: String,
}

/// What is blocked right now.
#[derive(Debug, Default)]
pub struct Snapshot {
    addresses: FxHashMap<IpAddr, i64>,
    /// Networks wider than one address, narrowest first.
    networks: Vec<(IpNet, i64)>,
    /// Lower-case account → block id.
    accounts: FxHashMap<String, i64>,
    /// The blocks as loaded, in id order (for the cidr file).
    blocks: Vec<ActiveBlock>,
}

impl Snapshot {
    /// A snapshot of `blocks`. A target that is neither an address nor a
    /// network (for an `ip` block) is skipped with a warning.
    pub fn new(mut blocks: Vec<ActiveBlock>) -> Self {
        blocks.sort_by_key(|b| b.id);
        let mut s = Self::default();
        for b in &blocks {
            match b.subject {
                SubjectKind::Ip => match parse_net(&b.target) {
                    Some(net) if net.prefix_len() == net.max_prefix_len() => {
                        s.addresses.entry(net.addr()).or_insert(b.id);
                    }
                    Some(net) => s.networks.push((net, b.id)),
                    None => tracing::warn!(block = b.id, target = %b.target, "not an IP block"),
                },
                SubjectKind::Account => {
                    s.accounts.entry(b.target.to_lowercase()).or_insert(b.id);
                }
            }
        }
        s.networks
            .sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
        s.blocks = blocks;
        s
    }

    /// The block that refuses client address `ip`, if any.
    pub fn client(&self, ip: IpAddr) -> Option<i64> {
        let ip = canonical(ip);
        self.addresses.get(&ip).copied().or_else(|| {
            self.networks
                .iter()
                .find(|(net, _)| net.contains(&ip))
                .map(|(_, id)| *id)
        })
    }

    /// The block that refuses SASL account `user`, if any (case-insensitive).
    pub fn account(&self, user: &str) -> Option<i64> {
        if self.accounts.is_empty() {
            return None;
        }
        match self.accounts.get(user) {
            Some(id) => Some(*id),
            None if user.bytes().any(|b| b.is_ascii_uppercase()) || !user.is_ascii() => {
                self.accounts.get(&user.to_lowercase()).copied()
            }
            None => None,
        }
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The IP blocks as a Postfix `cidr:` access table.
    pub fn cidr_table(&self, reject_text: &str) -> String {
        let mut out = String::from(
            "# Written by carteiro: the active IP blocks. Do not edit; changes are overwritten.\n",
        );
        for b in self.blocks.iter().filter(|b| b.subject == SubjectKind::Ip) {
            if let Some(net) = parse_net(&b.target) {
                out.push_str(&format!(
                    "{net}\tREJECT {}\n",
                    reject_line(reject_text, b.id)
                ));
            }
        }
        out
    }
}

/// `text (block N)`: what a refused client is told.
pub fn reject_line(text: &str, id: i64) -> String {
    format!("{text} (block {id})")
}

/// An address (as a one-address network) or a CIDR network.
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .or_else(|_| s.parse::<IpAddr>().map(|a| IpNet::from(canonical(a))))
        .ok()
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The snapshot shared by the policy daemon's connections, and the hits
/// they counted since the last write-back.
#[derive(Default)]
pub struct Shared {
    current: RwLock<Arc<Snapshot>>,
    hits: Mutex<FxHashMap<i64, u64>>,
    /// (minute start, kind of block) → requests refused.
    refused: Mutex<Refused>,
    /// When the snapshot was last read from the database (Unix seconds):
    /// `/readyz` tells a daemon answering from stale blocks.
    fresh_at: std::sync::atomic::AtomicI64,
}

/// Refusals per minute and kind of block, not yet written.
type Refused = FxHashMap<(i64, SubjectKind), u64>;

impl Shared {
    pub fn new(snapshot: Snapshot) -> Self {
        Self {
            current: RwLock::new(Arc::new(snapshot)),
            hits: Mutex::default(),
            refused: Mutex::default(),
            fresh_at: now().into(),
        }
    }

    /// When the snapshot was last read from the database (Unix seconds).
    pub fn fresh_at(&self) -> i64 {
        self.fresh_at.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn replace(&self, snapshot: Snapshot) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(snapshot);
        self.fresh_at
            .store(now(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Block `id`, of an IP address or network or of an account
    /// (`kind`), refused a request at `now` (Unix seconds).
    pub fn hit(&self, id: i64, kind: SubjectKind, now: i64) {
        *self
            .hits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id)
            .or_default() += 1;
        let minute = mailflow::time::floor(now, mailflow::time::MINUTE);
        *self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((minute, kind))
            .or_default() += 1;
    }

    fn take_refused(&self) -> Refused {
        std::mem::take(&mut *self.refused.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn give_back_refused(&self, refused: Refused) {
        let mut current = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        for (key, n) in refused {
            *current.entry(key).or_default() += n;
        }
    }

    fn take_hits(&self) -> FxHashMap<i64, u64> {
        std::mem::take(&mut *self.hits.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn give_back_hits(&self, hits: FxHashMap<i64, u64>) {
        let mut current = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        for (id, n) in hits {
            *current.entry(id).or_default() += n;
        }
    }
}

/// The blocks in force at `now` (Unix seconds): approved, not lifted, not
/// expired. A row with an unknown subject is skipped with a warning.
pub async fn load_active(db: &DatabaseConnection, now: i64) -> Result<Vec<ActiveBlock>> {
    let rows: Vec<(i64, String, String)> = Entity::find()
        .select_only()
        .columns([Column::Id, Column::Subject, Column::Target])
        .filter(Column::LiftedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .into_tuple()
        .all(db)
        .await
        .context("cannot read the active blocks")?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, subject, target)| match SubjectKind::parse(&subject) {
            Some(subject) => Some(ActiveBlock {
                id,
                subject,
                target,
            }),
            None => {
                tracing::warn!(block = id, subject, "unknown block subject");
                None
            }
        })
        .collect())
}

/// Adds the counted hits to their blocks; on failure they are kept for
/// the next try.
async fn write_hits(db: &DatabaseConnection, shared: &Shared) -> Result<()> {
    let hits = shared.take_hits();
    for (i, (&id, &n)) in hits.iter().enumerate() {
        let updated = Entity::update_many()
            .col_expr(Column::Hits, Expr::col(Column::Hits).add(n as i64))
            .filter(Column::Id.eq(id))
            .exec(db)
            .await;
        if let Err(e) = updated {
            shared.give_back_hits(hits.into_iter().skip(i).collect());
            return Err(e).context("cannot record block hits");
        }
    }
    Ok(())
}

/// Adds the counted refusals to the per-minute series; on failure they
/// are kept for the next try.
async fn write_refused(db: &DatabaseConnection, shared: &Shared) -> Result<()> {
    let refused = shared.take_refused();
    if let Err(e) = app::server::refused::add(db, &refused).await {
        shared.give_back_refused(refused);
        return Err(e).context("cannot record the refusals per minute");
    }
    Ok(())
}

/// What the refresher keeps up to date besides the snapshot.
#[derive(Clone, Debug, Default)]
pub struct RefreshOptions {
    pub every: Duration,
    /// Rewrite this Postfix cidr table when the IP blocks change.
    pub cidr_file: Option<PathBuf>,
    pub reject_text: String,
}

/// Loads the snapshot now (failing if the database cannot be read), then
/// keeps refreshing it in the background.
pub async fn start(db: DatabaseConnection, opts: RefreshOptions) -> Result<Arc<Shared>> {
    let first = Snapshot::new(load_active(&db, now()).await?);
    let shared = Arc::new(Shared::new(first));
    write_cidr(&shared.snapshot(), &opts, None)?;
    let keep = shared.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(opts.every.max(Duration::from_millis(100)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut healthy = true;
        loop {
            tick.tick().await;
            let refreshed = async {
                write_hits(&db, &keep).await?;
                write_refused(&db, &keep).await?;
                let before = keep.snapshot();
                let next = Snapshot::new(load_active(&db, now()).await?);
                write_cidr(&next, &opts, Some(&before))?;
                keep.replace(next);
                anyhow::Ok(())
            }
            .await;
            match refreshed {
                Ok(()) if !healthy => {
                    tracing::info!("active blocks are read from the database again");
                    healthy = true;
                }
                Ok(()) => {}
                Err(e) if healthy => {
                    tracing::warn!("policy daemon keeps its last blocks: {e:#}");
                    healthy = false;
                }
                Err(_) => {}
            }
        }
    });
    Ok(shared)
}

/// Writes the cidr table (atomically: a temporary file renamed over it)
/// unless the IP blocks are the same as in `before`.
fn write_cidr(next: &Snapshot, opts: &RefreshOptions, before: Option<&Snapshot>) -> Result<()> {
    let Some(path) = &opts.cidr_file else {
        return Ok(());
    };
    let ip_blocks = |s: &Snapshot| -> Vec<ActiveBlock> {
        s.blocks
            .iter()
            .filter(|b| b.subject == SubjectKind::Ip)
            .cloned()
            .collect()
    };
    if before.is_some_and(|b| ip_blocks(b) == ip_blocks(next)) && path.exists() {
        return Ok(());
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, next.cidr_table(&opts.reject_text))
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write the cidr table {}", path.display()))
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    use SubjectKind::{Account, Ip};

    fn block(id: i64, subject: SubjectKind, target: &str) -> ActiveBlock {
        ActiveBlock {
            id,
            subject,
            target: target.into(),
        }
    }

    #[test]
    fn addresses_networks_and_accounts() {
        let s = Snapshot::new(vec![
            block(1, Ip, "192.0.2.7"),
            block(2, Ip, "198.51.100.0/24"),
            block(3, Ip, "198.51.100.128/25"),
            block(4, Account, "Joao@Example.COM.br"),
            block(5, Ip, "2001:db8::/32"),
            block(6, Ip, "not an address"),
        ]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(s.client(ip("192.0.2.7")), Some(1));
        assert_eq!(s.client(ip("::ffff:192.0.2.7")), Some(1), "IPv4-mapped");
        assert_eq!(s.client(ip("192.0.2.8")), None);
        assert_eq!(
            s.client(ip("198.51.100.200")),
            Some(3),
            "the narrowest network"
        );
        assert_eq!(s.client(ip("198.51.100.1")), Some(2));
        assert_eq!(s.client(ip("2001:db8:1::5")), Some(5));
        assert_eq!(s.account("joao@example.com.br"), Some(4));
        assert_eq!(s.account("JOAO@example.com.br"), Some(4));
        assert_eq!(s.account("maria@example.com.br"), None);
        assert_eq!(s.len(), 6);
    }

    #[test]
    fn the_cidr_table_lists_the_ip_blocks() {
        let s = Snapshot::new(vec![
            block(2, Ip, "198.51.100.9/24"),
            block(1, Ip, "192.0.2.7"),
            block(3, Account, "x@example.com"),
        ]);
        let table = s.cidr_table("Go away");
        let rows: Vec<&str> = table.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            rows,
            [
                "192.0.2.7/32\tREJECT Go away (block 1)",
                "198.51.100.0/24\tREJECT Go away (block 2)"
            ]
        );
    }

    #[test]
    fn hits_are_counted_and_kept_until_written() {
        let shared = Shared::new(Snapshot::default());
        shared.hit(7, Ip, 60);
        shared.hit(7, Ip, 119);
        shared.hit(9, Account, 120);
        let hits = shared.take_hits();
        assert_eq!((hits[&7], hits[&9]), (2, 1));
        shared.hit(7, Ip, 130);
        shared.give_back_hits(hits);
        let hits = shared.take_hits();
        assert_eq!((hits[&7], hits[&9]), (3, 1));
        assert!(shared.take_hits().is_empty());
        // Per minute and kind, kept the same way.
        let refused = shared.take_refused();
        assert_eq!(refused[&(60, Ip)], 2);
        assert_eq!(refused[&(120, Ip)], 1);
        assert_eq!(refused[&(120, Account)], 1);
        shared.hit(9, Account, 125);
        shared.give_back_refused(refused);
        assert_eq!(shared.take_refused()[&(120, Account)], 2);
    }
}
