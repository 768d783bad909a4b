//! Removes a domain that has nothing left: no mailboxes (deleted ones are
//! purged first), no aliases, no alias domains mirroring it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DomainDelete {
    pub name: String,
}

super::server_fn!(delete_domain(DomainDelete), "provision/domain_delete");

#[cfg(feature = "ssr")]
mod apply {
    use super::DomainDelete;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::{mail_alias, mail_domain, mailbox};
    use crate::server::provision::types::DomainName;
    use crate::server::provision::{ADMIN, Change, Context, Request, lookup};
    use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter};

    #[async_trait::async_trait]
    impl Request for DomainDelete {
        const KIND: &'static str = "domain_delete";
        const DOC: &'static str = "Delete an empty domain or an alias domain (admins).";
        const ROLES: &'static [crate::model::Role] = ADMIN;
        type Valid = mail_domain::Model;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<mail_domain::Model, AppError> {
            let name = DomainName::parse(&self.name).map_err(|m| AppError::field("name", m))?;
            let d = lookup::domain(tx, &name).await?.ok_or_else(|| {
                AppError::NotFound(ProvisionTexts::caller().the_domain(&name.display()))
            })?;
            let mailboxes = mailbox::Entity::find()
                .filter(mailbox::Column::DomainId.eq(d.id))
                .count(tx)
                .await?;
            let aliases = mail_alias::Entity::find()
                .filter(mail_alias::Column::DomainId.eq(d.id))
                .count(tx)
                .await?;
            let mirrors = mail_domain::Entity::find()
                .filter(mail_domain::Column::AliasOf.eq(d.id))
                .count(tx)
                .await?;
            if mailboxes + aliases + mirrors > 0 {
                let t = ProvisionTexts::caller();
                return Err(AppError::Conflict(t.domain_not_empty(
                    &name.display(),
                    &t.number(mailboxes),
                    &t.number(aliases),
                    &t.number(mirrors),
                )));
            }
            Ok(d)
        }

        fn describe(v: &mail_domain::Model) -> String {
            ProvisionTexts::caller().did_delete_domain(&v.name)
        }

        async fn apply(
            v: mail_domain::Model,
            tx: &DatabaseTransaction,
            _: &Context,
        ) -> Result<Change, AppError> {
            mail_domain::Entity::delete_by_id(v.id).exec(tx).await?;
            Ok(Change::removed(
                v.name.clone(),
                &lookup::domain_snapshot(&v),
            ))
        }
    }
}
