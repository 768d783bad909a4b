//! The hashes Carteiro stores are ones Dovecot verifies: `doveadm pw -t`
//! (Debian's `dovecot-core`) accepts the right password and refuses a
//! wrong one, for a typed password and a generated one.

use crate::{apply, database};
use app::provision::{
    domain_create::DomainCreate, mailbox_create::MailboxCreate,
    mailbox_reset_password::MailboxResetPassword,
};
use app::server::entities::mailbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::process::Command;

/// `doveadm pw -t HASH -p PASSWORD` succeeds.
fn dovecot_verifies(hash: &str, password: &str) -> bool {
    let out = Command::new("doveadm")
        .args(["pw", "-t", hash, "-p", password])
        .output()
        .expect("doveadm (Debian's dovecot-core) is installed by .ci/deps.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && text.contains("(verified)")
}

async fn stored(db: &sea_orm::DatabaseConnection, address: &str) -> String {
    mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq(address))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .password
}

#[tokio::test]
async fn dovecot_verifies_the_stored_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = database(&dir).await;
    apply(
        &db,
        DomainCreate {
            name: "exemplo.com.br".into(),
            default_quota_mb: "100".into(),
            ..Default::default()
        },
    )
    .await;
    apply(
        &db,
        MailboxCreate {
            address: "ana@exemplo.com.br".into(),
            password: "Senha longa 123".into(),
            ..Default::default()
        },
    )
    .await;
    let hash = stored(&db, "ana@exemplo.com.br").await;
    assert!(dovecot_verifies(&hash, "Senha longa 123"), "{hash}");
    assert!(!dovecot_verifies(&hash, "senha longa 123"));

    let reset = apply(
        &db,
        MailboxResetPassword {
            address: "ana@exemplo.com.br".into(),
        },
    )
    .await;
    let generated = reset.secret.unwrap();
    let hash = stored(&db, "ana@exemplo.com.br").await;
    assert!(dovecot_verifies(&hash, &generated));
    assert!(
        !dovecot_verifies(&hash, "Senha longa 123"),
        "the old password no longer works"
    );
}
