use sea_orm::entity::prelude::*;

/// A network an admin listed as never to be blocked: detection never
/// proposes inside it and no block inside it is accepted.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "defence_never_block")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// A CIDR network in canonical form.
    #[sea_orm(unique)]
    pub network: String,
    pub note: String,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
