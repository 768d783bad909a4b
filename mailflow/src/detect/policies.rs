//! What the security team configures: the [`Policy`] list (what to count,
//! per which kind of subject, over which window, up to which threshold)
//! and the [`Allowlist`] of subjects never proposed.
//!
//! A policy of the `ip` subject counts per client address, or, with
//! [`Policy::per_network`], per client network (a /24 for IPv4, a /48 for
//! IPv6): a distributed attack spreads its events over many addresses of
//! one network, each below the per-address threshold.

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
    /// Different client IPs an account sent or authenticated from (a
    /// failed login is not counted: it says nothing of who uses the account).
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
    /// Counts per client network ([`NETWORK_PREFIX_V4`], [`NETWORK_PREFIX_V6`])
    /// rather than per address, and proposes the network (only for the
    /// `ip` subject; ignored for accounts).
    pub per_network: bool,
}

/// The IPv4 network a per-network policy counts in: a /24, the usual
/// smallest unit an ISP or a hosting provider hands out.
pub const NETWORK_PREFIX_V4: u8 = 24;
/// The IPv6 network a per-network policy counts in: a /48, one site's
/// allocation (a single host can hop through a /64 at will).
pub const NETWORK_PREFIX_V6: u8 = 48;

/// The client network (a /24 or a /48) that holds `ip`.
pub fn network_of(ip: IpAddr) -> IpNet {
    let prefix = match ip {
        IpAddr::V4(_) => NETWORK_PREFIX_V4,
        IpAddr::V6(_) => NETWORK_PREFIX_V6,
    };
    IpNet::new(ip, prefix).map_or_else(|_| IpNet::from(ip), |n| n.trunc())
}

/// Addresses, networks and accounts that are never proposed. Loopback
/// addresses never are, whatever the list: blocking them would stop local
/// submission and the content filter's re-injection. The server fills
/// `networks` with the allowlist's and every other never-propose set: the
/// internal clients, the relays' own addresses, the customer pools and the
/// never-block networks.
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

    /// Whether a block of `net` would cover (or be covered by) a network
    /// never proposed, or loopback.
    pub(super) fn overlaps(&self, net: &IpNet) -> bool {
        let touches = |n: &IpNet| n.contains(&net.network()) || net.contains(&n.network());
        net.network().is_loopback() || self.networks.iter().any(touches)
    }
}
