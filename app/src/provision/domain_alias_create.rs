//! Adds an alias domain: every address of the domain it mirrors also
//! receives (and may send) as `local@alias-domain`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DomainAliasCreate {
    /// The new alias domain.
    pub name: String,
    /// The existing domain it mirrors.
    pub target: String,
}

super::server_fn!(
    create_alias_domain(DomainAliasCreate),
    "provision/domain_alias_create"
);

#[cfg(feature = "ssr")]
mod apply {
    use super::DomainAliasCreate;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mail_domain;
    use crate::server::provision::types::DomainName;
    use crate::server::provision::{ADMIN, Change, Context, Fields, Request, lookup};
    use sea_orm::DatabaseTransaction;

    pub struct Valid {
        name: DomainName,
        target: mail_domain::Model,
    }

    #[async_trait::async_trait]
    impl Request for DomainAliasCreate {
        const KIND: &'static str = "domain_alias_create";
        const DOC: &'static str = "Add an alias domain mirroring an existing domain (admins).";
        const ROLES: &'static [crate::model::Role] = ADMIN;
        type Valid = Valid;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let mut f = Fields::default();
            let name = f.check("name", DomainName::parse(&self.name));
            let target = f.check("target", DomainName::parse(&self.target));
            f.finish()?;
            let (name, target) = (name.unwrap(), target.unwrap());
            lookup::ensure_new_domain(tx, &name).await?;
            let target = lookup::home_domain(tx, &target, "target").await?;
            Ok(Valid { name, target })
        }

        fn describe(v: &Valid) -> String {
            ProvisionTexts::caller().did_create_domain_alias(&v.name.display(), &v.target.name)
        }

        fn warnings(v: &Valid) -> Vec<String> {
            v.name.lookalike_warning().into_iter().collect()
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            let (name, alias_of) = (v.name.to_string(), Some(v.target.id));
            let description = format!("Alias of {}", v.target.name);
            let limits = &lookup::DomainLimits::NONE;
            let row =
                lookup::insert_domain(tx, &name, description, alias_of, limits, ctx.now).await?;
            Ok(lookup::domain_created(&row))
        }
    }
}
