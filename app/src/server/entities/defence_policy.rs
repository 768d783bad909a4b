use sea_orm::entity::prelude::*;

/// A detection policy: what is counted per subject, over which window,
/// from which count a block is proposed, and for how long.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "defence_policy")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub description: String,
    pub subject: String,
    pub metric: String,
    pub reject_class: Option<String>,
    pub window_minutes: i32,
    pub threshold: i64,
    pub burst_factor: Option<f64>,
    pub block_minutes: i32,
    pub enabled: bool,
    pub auto_approve: bool,
    pub updated_at: i64,
    /// Counts per client network (/24, /48) rather than per address.
    pub per_network: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
