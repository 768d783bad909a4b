//! Removes an alias. Refused while another alias or a forward still sends
//! mail to it, so nothing starts bouncing unnoticed.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AliasDelete {
    pub address: String,
}

super::server_fn!(delete_alias(AliasDelete), "provision/alias_delete");

#[cfg(feature = "ssr")]
mod apply {
    use super::AliasDelete;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mail_alias;
    use crate::server::provision::{Change, Context, Request, SUPPORT, lookup};
    use sea_orm::{DatabaseTransaction, EntityTrait};

    #[async_trait::async_trait]
    impl Request for AliasDelete {
        const KIND: &'static str = "alias_delete";
        const DOC: &'static str = "Delete an alias that nothing else points to.";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = mail_alias::Model;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<mail_alias::Model, AppError> {
            let current = lookup::alias(tx, &self.address).await?;
            if let Some(user) = lookup::pointing_to(tx, &current.address).await? {
                return Err(AppError::Conflict(
                    ProvisionTexts::caller().still_points(&user, &current.address),
                ));
            }
            Ok(current)
        }

        fn describe(v: &mail_alias::Model) -> String {
            ProvisionTexts::caller().did_delete_alias(&v.address)
        }

        async fn apply(
            v: mail_alias::Model,
            tx: &DatabaseTransaction,
            _: &Context,
        ) -> Result<Change, AppError> {
            let before = lookup::alias_view(&v);
            mail_alias::Entity::delete_by_id(v.id).exec(tx).await?;
            Ok(Change::removed(v.address, &before))
        }
    }
}
