//! Changes a domain's limits, description, catch-all, or switches it off
//! (Postfix then stops accepting mail for it).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DomainUpdate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub max_mailboxes: String,
    #[serde(default)]
    pub max_aliases: String,
    #[serde(default)]
    pub max_quota_mb: String,
    pub default_quota_mb: String,
    /// Where mail to unknown addresses goes; empty: rejected as unknown.
    #[serde(default)]
    pub catch_all: String,
    #[serde(default)]
    pub active: bool,
}

super::server_fn!(update_domain(DomainUpdate), "provision/domain_update");

#[cfg(feature = "ssr")]
mod apply {
    use super::DomainUpdate;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mail_domain;
    use crate::server::provision::types::{DomainName, Target};
    use crate::server::provision::{ADMIN, Change, Context, Fields, Request, lookup, secrets};
    use sea_orm::{ActiveModelTrait, DatabaseTransaction, IntoActiveModel, Set};

    pub struct Valid {
        current: mail_domain::Model,
        limits: lookup::DomainLimits,
        description: String,
        catch_all: Option<Target>,
        active: bool,
    }

    #[async_trait::async_trait]
    impl Request for DomainUpdate {
        const KIND: &'static str = "domain_update";
        const DOC: &'static str =
            "Change a domain's limits, description and catch-all, or switch it off (admins).";
        const ROLES: &'static [crate::model::Role] = ADMIN;
        type Valid = Valid;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let name = DomainName::parse(&self.name).map_err(|m| AppError::field("name", m))?;
            let current = lookup::domain(tx, &name).await?.ok_or_else(|| {
                AppError::NotFound(ProvisionTexts::caller().the_domain(&name.display()))
            })?;
            let mut f = Fields::default();
            let description = f.check("description", secrets::check_note(&self.description));
            let limits = lookup::DomainLimits::parse(
                &mut f,
                &self.max_mailboxes,
                &self.max_aliases,
                &self.max_quota_mb,
                &self.default_quota_mb,
            );
            let catch_all = match self.catch_all.trim() {
                "" => None,
                c => f.check("catch_all", Target::parse(c)),
            };
            f.finish()?;
            if current.alias_of.is_some() && catch_all.is_some() {
                return Err(AppError::field(
                    "catch_all",
                    ProvisionTexts::caller().alias_domain_catch_all(),
                ));
            }
            if let Some(c) = &catch_all {
                lookup::check_targets(
                    tx,
                    &format!("@{}", current.name),
                    std::slice::from_ref(c),
                    "catch_all",
                )
                .await?;
            }
            Ok(Valid {
                current,
                limits: limits.unwrap(),
                description: description.unwrap(),
                catch_all,
                active: self.active,
            })
        }

        fn describe(v: &Valid) -> String {
            let t = ProvisionTexts::caller();
            t.did_update_domain(
                &v.current.name,
                &v.limits.describe(t),
                &v.catch_all
                    .as_ref()
                    .map(|c| t.catch_all_to(&c.to_string()))
                    .unwrap_or_default(),
                if v.active { "" } else { t.domain_off() },
            )
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            let before = lookup::domain_snapshot(&v.current);
            let mut row = v.current.into_active_model();
            row.description = Set(v.description);
            row.max_mailboxes = Set(v.limits.max_mailboxes);
            row.max_aliases = Set(v.limits.max_aliases);
            row.max_quota_mb = Set(v.limits.max_quota_mb);
            row.default_quota_mb = Set(v.limits.default_quota_mb);
            row.catch_all = Set(v.catch_all.map(|c| c.to_string()));
            row.active = Set(v.active);
            row.updated_at = Set(ctx.now);
            let row = row.update(tx).await?;
            Ok(Change::new(
                row.name.clone(),
                Some(&before),
                Some(&lookup::domain_snapshot(&row)),
            ))
        }
    }
}
