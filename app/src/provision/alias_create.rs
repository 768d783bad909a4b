//! Creates an alias: one address of ours delivering to one or more targets.
//! Catch-alls are not aliases: they are set on the domain.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AliasCreate {
    /// `local@domain`; the domain must be one of ours.
    pub address: String,
    /// Target addresses separated by commas, spaces or new lines.
    pub targets: String,
    #[serde(default)]
    pub description: String,
}

super::server_fn!(create_alias(AliasCreate), "provision/alias_create");

#[cfg(feature = "ssr")]
mod apply {
    use super::AliasCreate;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mail_alias;
    use crate::server::provision::types::{Address, Target};
    use crate::server::provision::{Change, Context, Fields, Request, SUPPORT, lookup, secrets};
    use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};

    pub struct Valid {
        address: Address,
        domain_id: i32,
        targets: Vec<Target>,
        description: String,
    }

    #[async_trait::async_trait]
    impl Request for AliasCreate {
        const KIND: &'static str = "alias_create";
        const DOC: &'static str = "Create an alias delivering to one or more addresses.";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = Valid;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let mut f = Fields::default();
            let address = f.check("address", Address::parse(&self.address));
            let targets = f.check("targets", Target::parse_list(&self.targets));
            let description = f.check("description", secrets::check_note(&self.description));
            f.finish()?;
            let (address, targets) = (address.unwrap(), targets.unwrap());
            let domain = lookup::home_domain(tx, &address.domain, "address").await?;
            lookup::ensure_free(tx, &address, "address").await?;
            lookup::ensure_room_for_alias(tx, &domain, "address").await?;
            lookup::check_targets(tx, &address.to_string(), &targets, "targets").await?;
            Ok(Valid {
                address,
                domain_id: domain.id,
                targets,
                description: description.unwrap(),
            })
        }

        fn describe(v: &Valid) -> String {
            ProvisionTexts::caller()
                .did_create_alias(&v.address.to_string(), &Target::join(&v.targets))
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            let row = mail_alias::ActiveModel {
                domain_id: Set(v.domain_id),
                local_part: Set(v.address.local.as_str().to_string()),
                address: Set(v.address.to_string()),
                targets: Set(Target::join(&v.targets)),
                description: Set(v.description),
                active: Set(true),
                created_at: Set(ctx.now),
                updated_at: Set(ctx.now),
                ..Default::default()
            }
            .insert(tx)
            .await?;
            let after = lookup::alias_view(&row);
            Ok(Change::created(row.address, &after))
        }
    }
}
