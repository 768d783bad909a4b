use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_alias")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub domain_id: i32,
    pub local_part: String,
    #[sea_orm(unique)]
    pub address: String,
    pub targets: String,
    pub description: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
