//! Adds a domain we host mail for, with its limits.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DomainCreate {
    /// The domain; Unicode (IDN) names are stored in punycode.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Most mailboxes; empty or 0: no limit.
    #[serde(default)]
    pub max_mailboxes: String,
    /// Most aliases; empty or 0: no limit.
    #[serde(default)]
    pub max_aliases: String,
    /// Largest quota per mailbox in MB; empty or 0: no limit.
    #[serde(default)]
    pub max_quota_mb: String,
    /// Quota of new mailboxes in MB.
    pub default_quota_mb: String,
}

super::server_fn!(create_domain(DomainCreate), "provision/domain_create");

#[cfg(feature = "ssr")]
mod apply {
    use super::DomainCreate;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::provision::types::DomainName;
    use crate::server::provision::{ADMIN, Change, Context, Request, lookup, secrets};
    use sea_orm::DatabaseTransaction;

    pub struct Valid {
        name: DomainName,
        limits: lookup::DomainLimits,
        description: String,
    }

    #[async_trait::async_trait]
    impl Request for DomainCreate {
        const KIND: &'static str = "domain_create";
        const DOC: &'static str = "Add a domain with its limits (admins).";
        const ROLES: &'static [crate::model::Role] = ADMIN;
        type Valid = Valid;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let mut f = crate::server::provision::Fields::default();
            let name = f.check("name", DomainName::parse(&self.name));
            let description = f.check("description", secrets::check_note(&self.description));
            let limits = lookup::DomainLimits::parse(
                &mut f,
                &self.max_mailboxes,
                &self.max_aliases,
                &self.max_quota_mb,
                &self.default_quota_mb,
            );
            f.finish()?;
            let name = name.unwrap();
            lookup::ensure_new_domain(tx, &name).await?;
            Ok(Valid {
                name,
                limits: limits.unwrap(),
                description: description.unwrap(),
            })
        }

        fn describe(v: &Valid) -> String {
            let t = ProvisionTexts::caller();
            t.did_create_domain(&v.name.display(), &v.limits.describe(t))
        }

        fn warnings(v: &Valid) -> Vec<String> {
            v.name.lookalike_warning().into_iter().collect()
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            let name = v.name.to_string();
            let row =
                lookup::insert_domain(tx, &name, v.description, None, &v.limits, ctx.now).await?;
            Ok(lookup::domain_created(&row))
        }
    }
}
