use sea_orm::entity::prelude::*;

crate::model::string_enum! {
    /// Where a proposal stands: it waits for the security team, who approve
    /// (a block is made) or reject it (the subject is suppressed a while).
    pub enum ProposalStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        Expired = "expired",
    }
}

/// A block the detection proposes for a subject, with its evidence, until
/// the security team approves or rejects it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "defence_proposal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `ip` or `account`.
    pub subject: String,
    pub target: String,
    /// The policy that fired first.
    pub policy: String,
    pub status: ProposalStatus,
    /// JSON object: reason → count.
    pub reasons: String,
    /// The sum of the reasons' counts: how big it is.
    pub score: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub distinct_ips: i32,
    pub distinct_recipients: i32,
    /// JSON array of log lines.
    pub samples: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_reason: Option<String>,
    pub suppress_until: Option<i64>,
    pub block_id: Option<i64>,
    /// The subject's first event seen: when the attack started.
    pub started_at: Option<i64>,
    /// JSON object: detail list → values seen beyond the stored cap.
    pub details_more: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use super::ProposalStatus;

    #[test]
    fn statuses_keep_their_stored_strings() {
        let stored: Vec<&str> = ProposalStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(stored, ["pending", "approved", "rejected", "expired"]);
        let value: sea_orm::Value = ProposalStatus::Rejected.into();
        assert_eq!(value, sea_orm::Value::from("rejected"));
    }
}
