//! The detection policies and the allowlist as stored in the database
//! (`defence_policy`, `defence_allow`), with the defaults a new database
//! starts from. The security team edits both in the portal.

use anyhow::{Context, Result};
use app::server::entities::{defence_allow, defence_policy};
use mailflow::detect::{Allowlist, Metric, Policy, SubjectKind};
use mailflow::time::{MINUTE, MINUTES_PER_DAY};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
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
}

/// A day in minutes, as the policy columns hold them.
const DAY_MINUTES: i32 = MINUTES_PER_DAY as i32;

/// The policies a new database starts with. Thresholds are per window and
/// per subject, so a big partner MX with a few unknown-user rejects an hour
/// or a newsletter spread over the day stays far below them.
pub const DEFAULTS: [DefaultPolicy; 7] = [
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
    },
];

/// Writes the default policies into an empty table.
pub async fn seed_defaults(db: &impl ConnectionTrait) -> Result<()> {
    let now = chrono::Utc::now().timestamp();
    let rows = DEFAULTS.map(|p| defence_policy::ActiveModel {
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
        ..Default::default()
    });
    defence_policy::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The enabled policies, seeding the defaults into an empty table first.
/// A row that does not make sense (unknown subject or metric) is skipped
/// with a warning rather than stopping the ingest.
pub async fn load(db: &DatabaseConnection) -> Result<Vec<Policy>> {
    if defence_policy::Entity::find().count(db).await? == 0 {
        seed_defaults(db).await?;
    }
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
        });
    }
    Ok(policies)
}

/// The allowlist; an entry that is not an address, network or account is
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
