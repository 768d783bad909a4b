//! What a block, a proposal or a detection policy is about.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of subject: a client IP address (or network) or a SASL account.
/// Stored as its [`name`](SubjectKind::name) (the portal's tables keep the
/// string; `app` cannot give a foreign type sea-orm's traits), read back
/// with [`parse`](SubjectKind::parse). `Ip` by default (a row built in a
/// test).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    #[default]
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

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
