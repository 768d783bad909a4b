//! The detection policies and the allowlist as stored in the database
//! (`defence_policy`, `defence_allow`), with the defaults a new database
//! starts from. The security team edits both in the portal.

use super::detect::{Allowlist, Metric, Policy, SubjectKind};
use anyhow::{Context, Result};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

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

fn t(name: &str) -> Alias {
    Alias::new(name)
}

/// Writes the default policies into an empty table.
pub async fn seed_defaults(db: &impl ConnectionTrait) -> Result<()> {
    let now = chrono::Utc::now().timestamp();
    for (name, description, subject, metric, class, window, threshold, burst, block) in DEFAULTS {
        let q = Query::insert()
            .into_table(t("defence_policy"))
            .columns(
                [
                    "name",
                    "description",
                    "subject",
                    "metric",
                    "reject_class",
                    "window_minutes",
                    "threshold",
                    "burst_factor",
                    "block_minutes",
                    "enabled",
                    "auto_approve",
                    "updated_at",
                ]
                .map(t),
            )
            .values_panic([
                name.into(),
                description.into(),
                subject.name().into(),
                metric.into(),
                class.into(),
                window.into(),
                threshold.into(),
                burst.into(),
                block.into(),
                true.into(),
                false.into(),
                now.into(),
            ])
            .to_owned();
        db.execute(&q).await?;
    }
    Ok(())
}

/// The enabled policies, seeding the defaults into an empty table first.
/// A row that does not make sense (unknown subject or metric) is skipped
/// with a warning rather than stopping the ingest.
pub async fn load(db: &DatabaseConnection) -> Result<Vec<Policy>> {
    let count = db
        .query_one(
            &Query::select()
                .expr(Expr::col(t("id")).count())
                .from(t("defence_policy"))
                .to_owned(),
        )
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    if count == 0 {
        seed_defaults(db).await?;
    }
    let rows = db
        .query_all(
            &Query::select()
                .columns(
                    [
                        "name",
                        "subject",
                        "metric",
                        "reject_class",
                        "window_minutes",
                        "threshold",
                        "burst_factor",
                        "block_minutes",
                        "auto_approve",
                    ]
                    .map(t),
                )
                .from(t("defence_policy"))
                .and_where(Expr::col(t("enabled")).eq(true))
                .order_by(t("id"), sea_orm::sea_query::Order::Asc)
                .to_owned(),
        )
        .await
        .context("cannot read the detection policies")?;
    let mut policies = Vec::new();
    for r in rows {
        let name: String = r.try_get("", "name")?;
        let subject: String = r.try_get("", "subject")?;
        let metric: String = r.try_get("", "metric")?;
        let class: Option<String> = r.try_get("", "reject_class")?;
        let (Some(subject), Some(metric)) = (
            SubjectKind::parse(&subject),
            Metric::parse(&metric, class.as_deref()),
        ) else {
            tracing::warn!(policy = %name, "skipped: unknown subject or metric");
            continue;
        };
        let window: i32 = r.try_get("", "window_minutes")?;
        let threshold: i64 = r.try_get("", "threshold")?;
        let block: i32 = r.try_get("", "block_minutes")?;
        policies.push(Policy {
            name,
            subject,
            metric,
            window_secs: i64::from(Ord::max(window, 1)) * 60,
            threshold: Ord::max(threshold, 1) as u64,
            burst_factor: r.try_get("", "burst_factor")?,
            block_minutes: Ord::max(block, 1) as u32,
            auto_approve: r.try_get("", "auto_approve")?,
        });
    }
    Ok(policies)
}

/// The allowlist; an entry that is not an address, network or account is
/// skipped with a warning.
pub async fn allowlist(db: &DatabaseConnection) -> Result<Allowlist> {
    let rows = db
        .query_all(
            &Query::select()
                .columns(["subject", "target"].map(t))
                .from(t("defence_allow"))
                .to_owned(),
        )
        .await
        .context("cannot read the allowlist")?;
    let mut allow = Allowlist::default();
    for r in rows {
        let subject: String = r.try_get("", "subject")?;
        let target: String = r.try_get("", "target")?;
        match SubjectKind::parse(&subject) {
            Some(SubjectKind::Ip) => match super::blocks::parse_net(&target) {
                Some(net) => allow.networks.push(net),
                None => tracing::warn!(%target, "allowlist: not an address or network"),
            },
            Some(SubjectKind::Account) => {
                allow.accounts.insert(target.trim().to_lowercase());
            }
            None => tracing::warn!(%subject, "allowlist: unknown subject"),
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

    pub fn detector(&self) -> super::detect::Detector {
        super::detect::Detector::new(self.policies.clone(), self.allow.clone())
    }
}

/// The detector the ingest runs with: the stored policies and allowlist.
pub async fn detector(db: &DatabaseConnection) -> Result<super::detect::Detector> {
    Ok(Rules::load(db).await?.detector())
}
