use sea_orm::entity::prelude::*;

/// A block the security team approved: Postfix refuses the client address
/// (or network) or the SASL account until `expires_at`, unless lifted.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "defence_block")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `ip` or `account`.
    pub subject: String,
    /// An IP address, a CIDR network, or an account.
    pub target: String,
    pub proposal_id: Option<i64>,
    pub reason: String,
    pub approved_by: String,
    pub approved_at: i64,
    pub expires_at: i64,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<i64>,
    /// Requests it refused.
    pub hits: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
