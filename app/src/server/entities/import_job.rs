use crate::provision::ImportStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "import_job")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub nonce: String,
    pub staff_id: Option<i32>,
    pub started_by: String,
    pub dry_run: bool,
    pub status: ImportStatus,
    pub total: i32,
    pub done: i32,
    pub errors: i32,
    pub applied: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub result: Option<String>,
    /// SHA-256 of the file's bytes (hex).
    pub fingerprint: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
