//! What the security team configures: the [`Policy`] list (what to count,
//! per which kind of subject, over which window, up to which threshold)
//! and the [`Allowlist`] of subjects never proposed.

use crate::count::rules::is_loopback;
use crate::subject::SubjectKind;
use ipnet::IpNet;
use rustc_hash::FxHashSet;
use std::net::IpAddr;

/// What a policy counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Rejects of one class (`None`: of any class).
    Reject(Option<String>),
    SaslFailures,
    /// Messages accepted from the subject (smtpd `client=` lines).
    Messages,
    /// Recipients of the subject's messages (qmgr `nrcpt=`).
    Recipients,
    /// Different recipient addresses its messages were delivered to.
    DistinctRecipients,
    /// Different client IPs an account sent or authenticated from.
    DistinctIps,
    /// Bounced deliveries of its messages.
    Bounces,
}

impl Metric {
    /// From the stored `metric` and `reject_class` columns.
    pub fn parse(metric: &str, class: Option<&str>) -> Option<Self> {
        Some(match metric {
            "reject" => Self::Reject(class.filter(|c| !c.is_empty()).map(str::to_string)),
            "sasl_failures" => Self::SaslFailures,
            "messages" => Self::Messages,
            "recipients" => Self::Recipients,
            "distinct_recipients" => Self::DistinctRecipients,
            "distinct_ips" => Self::DistinctIps,
            "bounces" => Self::Bounces,
            _ => return None,
        })
    }

    /// The reason name shown in a proposal's evidence.
    pub fn reason(&self) -> String {
        match self {
            Self::Reject(Some(class)) => class.clone(),
            Self::Reject(None) => "rejects".into(),
            Self::SaslFailures => "sasl_failures".into(),
            Self::Messages => "messages".into(),
            Self::Recipients => "recipients".into(),
            Self::DistinctRecipients => "distinct_recipients".into(),
            Self::DistinctIps => "distinct_ips".into(),
            Self::Bounces => "bounces".into(),
        }
    }

    /// Counts different values (a `Distinct` window), not events.
    pub(super) fn distinct(&self) -> bool {
        matches!(self, Self::DistinctRecipients | Self::DistinctIps)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub name: String,
    pub subject: SubjectKind,
    pub metric: Metric,
    pub window_secs: i64,
    pub threshold: u64,
    pub burst_factor: Option<f64>,
    pub block_minutes: u32,
    pub auto_approve: bool,
}

/// Addresses, networks and accounts that are never proposed. Loopback
/// addresses never are, whatever the list: blocking them would stop local
/// submission and the content filter's re-injection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Allowlist {
    pub networks: Vec<IpNet>,
    /// Lower case.
    pub accounts: FxHashSet<String>,
}

impl Allowlist {
    pub(super) fn allows(&self, kind: SubjectKind, target: &str) -> bool {
        match kind {
            SubjectKind::Ip => {
                is_loopback(target)
                    || !self.networks.is_empty()
                        && target
                            .parse::<IpAddr>()
                            .is_ok_and(|ip| self.networks.iter().any(|n| n.contains(&ip)))
            }
            SubjectKind::Account => {
                !self.accounts.is_empty() && self.accounts.contains(&target.to_lowercase())
            }
        }
    }
}
