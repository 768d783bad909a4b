//! What a block, a proposal or a detection policy is about.

use serde::{Deserialize, Serialize};

/// The kind of subject: a client IP address (or network) or a SASL account.
/// Stored as its [`name`](SubjectKind::name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    Ip,
    Account,
}

impl SubjectKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Account => "account",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ip" => Some(Self::Ip),
            "account" => Some(Self::Account),
            _ => None,
        }
    }
}
