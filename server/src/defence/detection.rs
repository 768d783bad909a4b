//! The detection policies and the allowlist as stored in the database
//! (`defence_policy`, `defence_allow`), with the defaults a new database
//! starts from. The security team edits both in the portal.

use anyhow::{Context, Result};
use app::server::entities::{defence_allow, defence_policy};
use mailflow::detect::{Allowlist, Metric, Policy, SubjectKind};
use mailflow::time::{MINUTE, MINUTES_PER_DAY};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// A policy a new database starts with (see [`DEFAULTS`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DefaultPolicy {
    pub name: &'static str,
    /// What it is for, as the settings page shows it.
    pub description: &'static str,
    pub subject: SubjectKind,
    /// What is counted (see [`Metric::parse`]).
    pub metric: &'static str,
    /// For the `reject` metric: which class of rejects.
    pub reject_class: Option<&'static str>,
    pub window_minutes: i32,
    /// Per window and subject.
    pub threshold: i64,
    pub burst_factor: Option<f64>,
    pub block_minutes: i32,
    /// Counts per client network (/24, /48) rather than per address.
    pub per_network: bool,
}

/// A day in minutes, as the policy columns hold them.
const DAY_MINUTES: i32 = MINUTES_PER_DAY as i32;

/// The policies a new database starts with. Thresholds are per window and
/// per subject, so a big partner MX with a few unknown-user rejects an hour
/// or a newsletter spread over the day stays far below them. A database
/// made before a default existed gets it too (see [`seed_defaults`]).
///
/// The last two catch a distributed SASL brute force, spread over so many
/// addresses that each stays under `sasl-brute-force`: per target account
/// (a person with a stale password on three devices fails a few dozen
/// times an hour, not 60), and per /24 or /48 network (100 failures in an
/// hour from at least four of its addresses; customers behind a shared
/// CGNAT range are in `defence.customer_pools`, which is never proposed).
pub const DEFAULTS: [DefaultPolicy; 9] = [
    DefaultPolicy {
        name: "dictionary-attack",
        description: "Many unknown-user rejects from one IP: guessing addresses.",
        subject: SubjectKind::Ip,
        metric: "reject",
        reject_class: Some("unknown_user"),
        window_minutes: 10,
        threshold: 30,
        burst_factor: None,
        block_minutes: DAY_MINUTES,
        per_network: false,
    },
    DefaultPolicy {
        name: "relay-probing",
        description: "Relay-denied rejects from one IP: looking for an open relay.",
        subject: SubjectKind::Ip,
        metric: "reject",
        reject_class: Some("relay"),
        window_minutes: 10,
        threshold: 10,
        burst_factor: None,
        block_minutes: DAY_MINUTES,
        per_network: false,
    },
    DefaultPolicy {
        name: "sasl-brute-force",
        description: "SASL authentication failures from one IP: password guessing.",
        subject: SubjectKind::Ip,
        metric: "sasl_failures",
        reject_class: None,
        window_minutes: 10,
        threshold: 20,
        burst_factor: None,
        block_minutes: DAY_MINUTES,
        per_network: false,
    },
    DefaultPolicy {
        name: "forgery-without-login",
        description: "Not-logged-in rejects from one IP: our domains used as sender without authenticating.",
        subject: SubjectKind::Ip,
        metric: "reject",
        reject_class: Some("not_logged"),
        window_minutes: 10,
        threshold: 10,
        burst_factor: None,
        block_minutes: DAY_MINUTES / 2,
        per_network: false,
    },
    DefaultPolicy {
        name: "compromised-recipients",
        description: "One account sending to very many recipients, far above its usual rate.",
        subject: SubjectKind::Account,
        metric: "recipients",
        reject_class: None,
        window_minutes: 10,
        threshold: 500,
        burst_factor: Some(10.0),
        block_minutes: DAY_MINUTES / 2,
        per_network: false,
    },
    DefaultPolicy {
        name: "compromised-many-ips",
        description: "One account sending from many client IPs within an hour.",
        subject: SubjectKind::Account,
        metric: "distinct_ips",
        reject_class: None,
        window_minutes: 60,
        threshold: 8,
        burst_factor: None,
        block_minutes: DAY_MINUTES / 2,
        per_network: false,
    },
    DefaultPolicy {
        name: "compromised-not-owned",
        description: "One account sending as addresses it does not own.",
        subject: SubjectKind::Account,
        metric: "reject",
        reject_class: Some("not_owned"),
        window_minutes: 10,
        threshold: 20,
        burst_factor: None,
        block_minutes: DAY_MINUTES / 2,
        per_network: false,
    },
    DefaultPolicy {
        name: "sasl-brute-force-account",
        description: "SASL failures for one account from anywhere: its password is being guessed. \
            The block refuses the account's mail (its logins still succeed or fail as before), \
            so a guessed password cannot send spam; its owner cannot send either until it is lifted.",
        subject: SubjectKind::Account,
        metric: "sasl_failures",
        reject_class: None,
        window_minutes: 60,
        threshold: 60,
        burst_factor: None,
        block_minutes: DAY_MINUTES / 4,
        per_network: false,
    },
    DefaultPolicy {
        name: "sasl-brute-force-network",
        description: "SASL failures from many addresses of one /24 (IPv4) or /48 (IPv6): \
            a distributed password guess. Proposes a network block.",
        subject: SubjectKind::Ip,
        metric: "sasl_failures",
        reject_class: None,
        window_minutes: 60,
        threshold: 100,
        burst_factor: None,
        block_minutes: DAY_MINUTES,
        per_network: true,
    },
];

/// Writes the default policies the table does not have (by name): all of
/// them into an empty table, and into a table seeded by an older version
/// the defaults added since. (Policies are never deleted, only disabled,
/// so a default missing is one this database never had.)
pub async fn seed_defaults(db: &impl ConnectionTrait) -> Result<()> {
    let now = chrono::Utc::now().timestamp();
    let names: Vec<&str> = DEFAULTS.iter().map(|p| p.name).collect();
    let present: Vec<String> = defence_policy::Entity::find()
        .filter(defence_policy::Column::Name.is_in(names))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    let missing = DEFAULTS
        .iter()
        .filter(|p| !present.iter().any(|n| n == p.name));
    let rows: Vec<_> = missing
        .map(|p| defence_policy::ActiveModel {
            name: Set(p.name.into()),
            description: Set(p.description.into()),
            subject: Set(p.subject.name().into()),
            metric: Set(p.metric.into()),
            reject_class: Set(p.reject_class.map(str::to_string)),
            window_minutes: Set(p.window_minutes),
            threshold: Set(p.threshold),
            burst_factor: Set(p.burst_factor),
            block_minutes: Set(p.block_minutes),
            enabled: Set(true),
            auto_approve: Set(false),
            updated_at: Set(now),
            per_network: Set(p.per_network),
            ..Default::default()
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // Another process may seed at the same time: its rows stand.
    let name = sea_orm::sea_query::OnConflict::column(defence_policy::Column::Name)
        .do_nothing()
        .to_owned();
    defence_policy::Entity::insert_many(rows)
        .on_conflict(name)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The enabled policies, seeding the defaults missing first.
/// A row that does not make sense (unknown subject or metric) is skipped
/// with a warning rather than stopping the ingest.
pub async fn load(db: &DatabaseConnection) -> Result<Vec<Policy>> {
    seed_defaults(db).await?;
    let rows = defence_policy::Entity::find()
        .filter(defence_policy::Column::Enabled.eq(true))
        .order_by_asc(defence_policy::Column::Id)
        .all(db)
        .await
        .context("cannot read the detection policies")?;
    let mut policies = Vec::new();
    for r in rows {
        let (Some(subject), Some(metric)) = (
            SubjectKind::parse(&r.subject),
            Metric::parse(&r.metric, r.reject_class.as_deref()),
        ) else {
            tracing::warn!(policy = %r.name, "skipped: unknown subject or metric");
            continue;
        };
        policies.push(Policy {
            name: r.name,
            subject,
            metric,
            window_secs: i64::from(r.window_minutes.max(1)) * MINUTE,
            threshold: r.threshold.max(1) as u64,
            burst_factor: r.burst_factor,
            block_minutes: r.block_minutes.max(1) as u32,
            auto_approve: r.auto_approve,
            per_network: r.per_network,
        });
    }
    Ok(policies)
}

/// The allowlist, with the never-block networks added (never proposed
/// either); an entry that is not an address, network or account is
/// skipped with a warning.
pub async fn allowlist(db: &DatabaseConnection) -> Result<Allowlist> {
    let rows = defence_allow::Entity::find()
        .all(db)
        .await
        .context("cannot read the allowlist")?;
    let mut allow = Allowlist::default();
    for r in rows {
        match SubjectKind::parse(&r.subject) {
            Some(SubjectKind::Ip) => match super::blocks::parse_net(&r.target) {
                Some(net) => allow.networks.push(net),
                None => tracing::warn!(target = %r.target, "allowlist: not an address or network"),
            },
            Some(SubjectKind::Account) => {
                allow.accounts.insert(r.target.trim().to_lowercase());
            }
            None => tracing::warn!(subject = %r.subject, "allowlist: unknown subject"),
        }
    }
    let never = app::server::detection::never_block_networks(db)
        .await
        .context("cannot read the never-block networks")?;
    allow.networks.extend(never);
    Ok(allow)
}

/// What detection runs with: the enabled policies and the allowlist.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    pub policies: Vec<Policy>,
    pub allow: Allowlist,
}

impl Rules {
    pub async fn load(db: &DatabaseConnection) -> Result<Self> {
        Ok(Self {
            policies: load(db).await?,
            allow: allowlist(db).await?,
        })
    }

    pub fn detector(&self) -> mailflow::detect::Detector {
        mailflow::detect::Detector::new(self.policies.clone(), self.allow.clone())
    }
}

/// The detector the ingest runs with: the stored policies and allowlist.
pub async fn detector(db: &DatabaseConnection) -> Result<mailflow::detect::Detector> {
    Ok(Rules::load(db).await?.detector())
}

/// An alert as `carteiro import --report` shows it; times are RFC 3339, UTC.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AlertReport {
    /// `sasl_failures` or `reject.<class>`.
    pub kind: String,
    pub since: String,
    pub last_seen: String,
    /// The highest count in one window, the usual count per window, and
    /// how many times the usual that is.
    pub count: u64,
    pub usual: f64,
    pub ratio: f64,
    pub window_minutes: i64,
}

impl From<&mailflow::detect::Alert> for AlertReport {
    fn from(a: &mailflow::detect::Alert) -> Self {
        let time = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default()
        };
        Self {
            kind: a.kind.clone(),
            since: time(a.since),
            last_seen: time(a.last_seen),
            count: a.count,
            usual: a.usual,
            ratio: (a.ratio() * 10.0).round() / 10.0,
            window_minutes: a.window_secs / 60,
        }
    }
}

impl AlertReport {
    /// One line of the text report.
    pub fn text_line(&self) -> String {
        format!(
            "  {:<24}  {} in {} min, {}x the usual {:.0}  ({} .. {})\n",
            self.kind,
            self.count,
            self.window_minutes,
            self.ratio,
            self.usual,
            self.since,
            self.last_seen
        )
    }
}
