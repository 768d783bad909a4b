//! The detection policies and the allowlist as stored in the database
//! (`defence_policy`, `defence_allow`), with the defaults a new database
//! starts from. The security team edits both in the portal.

use anyhow::{Context, Result};
use app::server::entities::{defence_allow, defence_policy};
use mailflow::detect::{Allowlist, Metric, Policy, SubjectKind};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

/// A default policy: name, what it is for, subject, metric, reject class,
/// window (minutes), threshold, burst factor, block (minutes).
type DefaultPolicy = (
    &'static str,
    &'static str,
    SubjectKind,
    &'static str,
    Option<&'static str>,
    i32,
    i64,
    Option<f64>,
    i32,
);

/// The policies a new database starts with. Thresholds are per window and
/// per subject, so a big partner MX with a few unknown-user rejects an hour
/// or a newsletter spread over the day stays far below them.
pub const DEFAULTS: [DefaultPolicy; 7] = [
    (
        "dictionary-attack",
        "Many unknown-user rejects from one IP: guessing addresses.",
        SubjectKind::Ip,
        "reject",
        Some("unknown_user"),
        10,
        30,
        None,
        1440,
    ),
    (
        "relay-probing",
        "Relay-denied rejects from one IP: looking for an open relay.",
        SubjectKind::Ip,
        "reject",
        Some("relay"),
        10,
        10,
        None,
        1440,
    ),
    (
        "sasl-brute-force",
        "SASL authentication failures from one IP: password guessing.",
        SubjectKind::Ip,
        "sasl_failures",
        None,
        10,
        20,
        None,
        1440,
    ),
    (
        "forgery-without-login",
        "Not-logged-in rejects from one IP: our domains used as sender without authenticating.",
        SubjectKind::Ip,
        "reject",
        Some("not_logged"),
        10,
        10,
        None,
        720,
    ),
    (
        "compromised-recipients",
        "One account sending to very many recipients, far above its usual rate.",
        SubjectKind::Account,
        "recipients",
        None,
        10,
        500,
        Some(10.0),
        720,
    ),
    (
        "compromised-many-ips",
        "One account sending from many client IPs within an hour.",
        SubjectKind::Account,
        "distinct_ips",
        None,
        60,
        8,
        None,
        720,
    ),
    (
        "compromised-not-owned",
        "One account sending as addresses it does not own.",
        SubjectKind::Account,
        "reject",
        Some("not_owned"),
        10,
        20,
        None,
        720,
    ),
];

/// Writes the default policies into an empty table.
pub async fn seed_defaults(db: &impl ConnectionTrait) -> Result<()> {
    let now = chrono::Utc::now().timestamp();
    let rows = DEFAULTS.map(
        |(name, description, subject, metric, class, window, threshold, burst, block)| {
            defence_policy::ActiveModel {
                name: Set(name.into()),
                description: Set(description.into()),
                subject: Set(subject.name().into()),
                metric: Set(metric.into()),
                reject_class: Set(class.map(str::to_string)),
                window_minutes: Set(window),
                threshold: Set(threshold),
                burst_factor: Set(burst),
                block_minutes: Set(block),
                enabled: Set(true),
                auto_approve: Set(false),
                updated_at: Set(now),
                ..Default::default()
            }
        },
    );
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
            window_secs: i64::from(r.window_minutes.max(1)) * 60,
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
