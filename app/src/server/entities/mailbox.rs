use crate::provision::MailboxStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "mailbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub domain_id: i32,
    pub local_part: String,
    #[sea_orm(unique)]
    pub address: String,
    pub name: String,
    pub name_key: String,
    pub password: String,
    pub quota_mb: i64,
    pub status: MailboxStatus,
    pub status_reason: Option<String>,
    pub can_send: bool,
    pub can_receive: bool,
    pub forward_to: Option<String>,
    pub forward_keep_copy: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub purge_after: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
