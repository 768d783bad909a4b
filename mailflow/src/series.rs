//! What MailFlow counts: the series of the per-minute counters, the charts,
//! the reports and `/metrics`, with the names they are stored under and the
//! labels people read.
//!
//! The base series are the [`Series`] variants, stored by [`Series::name`]
//! at the index [`Series::index`]; each reject class the rules define adds
//! a series `reject.<class>` after them (see [`reject_class`]).

use serde::{Deserialize, Serialize};

/// A base series. The order of the variants is the order of their indexes
/// in the counters and of the charts' and reports' lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Series {
    /// Messages accepted by a Postfix server (qmgr's first line of a message).
    Received,
    /// Deliveries to their destination (not the hand-off to a content filter).
    Sent,
    Bounced,
    Deferred,
    /// Connections and recipients rejected, of any class.
    Rejected,
    Spam,
    Virus,
    SaslFailures,
}

/// The prefix of a reject class's series name.
pub const REJECT_PREFIX: &str = "reject.";

impl Series {
    /// Every base series, by index.
    pub const ALL: [Series; 8] = [
        Self::Received,
        Self::Sent,
        Self::Bounced,
        Self::Deferred,
        Self::Rejected,
        Self::Spam,
        Self::Virus,
        Self::SaslFailures,
    ];

    /// The traffic series, bottom of a stacked chart (and left of a
    /// report's table) first.
    pub const TRAFFIC: [Series; 7] = [
        Self::Received,
        Self::Sent,
        Self::Deferred,
        Self::Bounced,
        Self::Rejected,
        Self::Spam,
        Self::Virus,
    ];

    /// How many base series there are: the index of the first reject class.
    pub const COUNT: u16 = Self::ALL.len() as u16;

    /// The name it is stored and served under.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Sent => "sent",
            Self::Bounced => "bounced",
            Self::Deferred => "deferred",
            Self::Rejected => "rejected",
            Self::Spam => "spam",
            Self::Virus => "virus",
            Self::SaslFailures => "sasl_failures",
        }
    }

    /// Its index in the counters.
    pub const fn index(self) -> u16 {
        self as u16
    }

    /// The base series stored under `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// How a chart's legend names it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::SaslFailures => "SASL failures",
            other => other.name(),
        }
    }

    /// How a report's tables name it, where "sent" alone could be read as
    /// handed to a filter.
    pub const fn report_label(self) -> &'static str {
        match self {
            Self::Sent => "sent (delivered)",
            other => other.label(),
        }
    }
}

/// The reject class of a series name `reject.<class>`.
pub fn reject_class(name: &str) -> Option<&str> {
    name.strip_prefix(REJECT_PREFIX)
}

/// The series name of a reject class.
pub fn reject_series(class: &str) -> String {
    format!("{REJECT_PREFIX}{class}")
}

/// How a chart names any stored series: a base series by its label, a
/// default reject class whose name reads badly by its label, any other
/// class by its name with spaces (`reject.rbl_blocked` → `rbl blocked`).
pub fn label_of(name: &str) -> String {
    match Series::parse(name) {
        Some(series) => series.label().to_string(),
        None => match reject_class(name).unwrap_or(name) {
            "helo" => "bad HELO".into(),
            "reverse_dns" => "no reverse DNS".into(),
            "sender_unknown" => "unknown sender".into(),
            "server" => "server trouble".into(),
            class => class.replace('_', " "),
        },
    }
}

/// The order charts and reports list stored series in: the base series by
/// index, then reject classes and anything else by name.
pub fn rank(name: &str) -> (u16, &str) {
    (
        Series::parse(name).map_or(Series::COUNT, Series::index),
        name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indexes_follow_the_order() {
        for (i, s) in Series::ALL.into_iter().enumerate() {
            assert_eq!(Series::parse(s.name()), Some(s));
            assert_eq!(s.index() as usize, i);
        }
        assert_eq!(Series::parse("reject.rbl"), None);
        assert_eq!(Series::COUNT, 8);
    }

    #[test]
    fn labels() {
        assert_eq!(label_of("sasl_failures"), "SASL failures");
        assert_eq!(label_of("received"), "received");
        assert_eq!(label_of("reject.unknown_user"), "unknown user");
        assert_eq!(label_of("reject.reverse_dns"), "no reverse DNS");
        assert_eq!(label_of("reject.recipient_denied"), "recipient denied");
        assert_eq!(Series::Sent.report_label(), "sent (delivered)");
        assert_eq!(Series::Deferred.report_label(), "deferred");
    }

    #[test]
    fn serde_uses_the_stored_names() {
        for s in Series::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
            assert_eq!(
                serde_json::from_value::<Series>(s.name().into()).unwrap(),
                s
            );
        }
    }
}
