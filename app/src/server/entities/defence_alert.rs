use sea_orm::entity::prelude::*;

/// The whole server's SASL failures or rejects of one class far above
/// their usual rate: one open alert per kind, updated while it lasts.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "defence_alert")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `sasl_failures` or `reject.<class>`.
    pub kind: String,
    pub since: i64,
    pub last_seen: i64,
    /// The highest count in one window while it lasted.
    pub count: i64,
    /// The usual count per window (the median of the week before).
    pub usual: f64,
    pub window_minutes: i64,
    /// `open` or `acknowledged`.
    pub status: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
