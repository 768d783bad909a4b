//! Changes a mailbox's name, quota and send/receive flags.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxUpdate {
    /// The mailbox to change.
    pub address: String,
    #[serde(default)]
    pub name: String,
    /// Megabytes, 0 for unlimited.
    pub quota_mb: String,
    #[serde(default)]
    pub send_only: bool,
    #[serde(default)]
    pub receive_only: bool,
}

super::server_fn!(update_mailbox(MailboxUpdate), "provision/mailbox_update");

#[cfg(feature = "ssr")]
mod apply {
    use super::MailboxUpdate;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::{mail_domain, mailbox};
    use crate::server::provision::types::parse_quota;
    use crate::server::provision::{Change, Context, Fields, Request, SUPPORT, lookup, secrets};
    use sea_orm::{DatabaseTransaction, EntityTrait, Set};

    pub struct Valid {
        current: mailbox::Model,
        name: String,
        quota_mb: i64,
        can_send: bool,
        can_receive: bool,
    }

    #[async_trait::async_trait]
    impl Request for MailboxUpdate {
        const KIND: &'static str = "mailbox_update";
        const DOC: &'static str =
            "Change a mailbox's name, quota and send-only/receive-only flags.";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = Valid;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let current = lookup::mailbox(tx, &self.address).await?;
            lookup::refuse_deleted(&current, ProvisionTexts::deleted_restore_to_change)?;
            let mut f = Fields::default();
            let name = f.check("name", secrets::check_name(&self.name));
            let quota = f.check("quota_mb", parse_quota(&self.quota_mb));
            if self.send_only && self.receive_only {
                f.add(
                    "send_only",
                    ProvisionTexts::caller().send_and_receive_only(),
                );
            }
            f.finish()?;
            let (name, quota_mb) = (name.unwrap(), quota.unwrap());
            let domain = mail_domain::Entity::find_by_id(current.domain_id)
                .one(tx)
                .await?
                .ok_or(AppError::Internal)?;
            lookup::check_quota(&domain, quota_mb).map_err(|m| AppError::field("quota_mb", m))?;
            Ok(Valid {
                current,
                name,
                quota_mb,
                can_send: !self.receive_only,
                can_receive: !self.send_only,
            })
        }

        fn describe(v: &Valid) -> String {
            let t = ProvisionTexts::caller();
            t.did_update_mailbox(
                &v.current.address,
                &v.name,
                &t.quota(v.quota_mb),
                match (v.can_send, v.can_receive) {
                    (false, _) => t.receive_only(),
                    (_, false) => t.send_only(),
                    _ => t.sends_and_receives(),
                },
            )
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            lookup::change_mailbox(tx, v.current, ctx.now, |row| {
                row.name_key = Set(crate::server::provision::types::name_key(&v.name));
                row.name = Set(v.name);
                row.quota_mb = Set(v.quota_mb);
                row.can_send = Set(v.can_send);
                row.can_receive = Set(v.can_receive);
            })
            .await
        }
    }
}
