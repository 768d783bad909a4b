use sea_orm::entity::prelude::*;

/// Where one log source stands; written by the ingest engine in the same
/// transaction as the counters it covers.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ingest_checkpoint")]
pub struct Model {
    /// A live source's configured name, or `import:<file fingerprint>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: String,
    pub file_id: String,
    pub path: String,
    pub offset: i64,
    pub year: i32,
    pub last_month: i32,
    pub lines: i64,
    pub last_log_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
