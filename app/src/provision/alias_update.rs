//! Changes an alias's targets, description, or switches it off and on.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AliasUpdate {
    pub address: String,
    pub targets: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub active: bool,
}

super::server_fn!(update_alias(AliasUpdate), "provision/alias_update");

#[cfg(feature = "ssr")]
mod apply {
    use super::AliasUpdate;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mail_alias;
    use crate::server::provision::types::Target;
    use crate::server::provision::{Change, Context, Fields, Request, SUPPORT, lookup, secrets};
    use sea_orm::{ActiveModelTrait, DatabaseTransaction, IntoActiveModel, Set};

    pub struct Valid {
        current: mail_alias::Model,
        targets: Vec<Target>,
        description: String,
        active: bool,
    }

    #[async_trait::async_trait]
    impl Request for AliasUpdate {
        const KIND: &'static str = "alias_update";
        const DOC: &'static str =
            "Change an alias's targets and description, or switch it off (`active: false`).";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = Valid;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let current = lookup::alias(tx, &self.address).await?;
            let mut f = Fields::default();
            let targets = f.check("targets", Target::parse_list(&self.targets));
            let description = f.check("description", secrets::check_note(&self.description));
            f.finish()?;
            let targets = targets.unwrap();
            lookup::check_targets(tx, &current.address, &targets, "targets").await?;
            Ok(Valid {
                current,
                targets,
                description: description.unwrap(),
                active: self.active,
            })
        }

        fn describe(v: &Valid) -> String {
            let t = ProvisionTexts::caller();
            t.did_update_alias(
                &v.current.address,
                &Target::join(&v.targets),
                if v.active { "" } else { t.alias_off() },
            )
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            let before = lookup::alias_view(&v.current);
            let mut row = v.current.into_active_model();
            row.targets = Set(Target::join(&v.targets));
            row.description = Set(v.description);
            row.active = Set(v.active);
            row.updated_at = Set(ctx.now);
            let row = row.update(tx).await?;
            let after = lookup::alias_view(&row);
            Ok(Change::new(row.address, Some(&before), Some(&after)))
        }
    }
}
