//! Every Postfix map answers from what the portal wrote: domains, alias
//! domains, mailboxes (suspended, send-only, receive-only, deleted),
//! aliases, forwards, catch-alls, and who may send as which address.

use crate::mailhost::Map;
use crate::{apply, database};
use app::provision::{
    alias_create::AliasCreate, domain_alias_create::DomainAliasCreate, domain_create::DomainCreate,
    domain_update::DomainUpdate, mailbox_create::MailboxCreate, mailbox_delete::MailboxDelete,
    mailbox_forward::MailboxForward, mailbox_suspend::MailboxSuspend,
};
use sea_orm::ConnectionTrait;

fn domain(name: &str) -> DomainCreate {
    DomainCreate {
        name: name.into(),
        default_quota_mb: "1024".into(),
        ..Default::default()
    }
}

fn mailbox(address: &str) -> MailboxCreate {
    MailboxCreate {
        address: address.into(),
        password: "a long password".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn postmap_answers_every_map_from_what_the_portal_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = database(&dir).await;
    for d in ["exemplo.com.br", "loja.com.br", "off.org"] {
        apply(&db, domain(d)).await;
    }
    apply(
        &db,
        DomainAliasCreate {
            name: "exemplo.net".into(),
            target: "exemplo.com.br".into(),
        },
    )
    .await;
    for m in ["ana", "bia", "edu", "fabi", "gil", "hugo"] {
        apply(&db, mailbox(&format!("{m}@exemplo.com.br"))).await;
    }
    apply(
        &db,
        MailboxCreate {
            receive_only: true,
            ..mailbox("caio@exemplo.com.br")
        },
    )
    .await;
    apply(
        &db,
        MailboxCreate {
            send_only: true,
            ..mailbox("dani@exemplo.com.br")
        },
    )
    .await;
    apply(
        &db,
        MailboxSuspend {
            address: "bia@exemplo.com.br".into(),
            reason: "unpaid".into(),
        },
    )
    .await;
    apply(
        &db,
        MailboxDelete {
            address: "gil@exemplo.com.br".into(),
            reason: String::new(),
        },
    )
    .await;
    apply(
        &db,
        MailboxForward {
            address: "edu@exemplo.com.br".into(),
            forward_to: "Ext@Gmail.com".into(),
            keep_copy: true,
        },
    )
    .await;
    apply(
        &db,
        MailboxForward {
            address: "fabi@exemplo.com.br".into(),
            forward_to: "ana@exemplo.com.br".into(),
            keep_copy: false,
        },
    )
    .await;
    apply(
        &db,
        AliasCreate {
            address: "vendas@exemplo.com.br".into(),
            targets: "ana@exemplo.com.br boss@gmail.com".into(),
            description: String::new(),
        },
    )
    .await;
    apply(
        &db,
        DomainUpdate {
            name: "loja.com.br".into(),
            default_quota_mb: "1024".into(),
            catch_all: "ana@exemplo.com.br".into(),
            active: true,
            ..Default::default()
        },
    )
    .await;
    apply(&db, mailbox("zeca@off.org")).await;
    apply(
        &db,
        DomainUpdate {
            name: "off.org".into(),
            default_quota_mb: "1024".into(),
            active: false,
            ..Default::default()
        },
    )
    .await;
    // A MailFlow account block on hugo.
    let now = chrono::Utc::now().timestamp();
    db.execute_unprepared(&format!(
        "INSERT INTO defence_block (subject, target, reason, approved_by, approved_at, expires_at, hits) \
         VALUES ('account', 'hugo@exemplo.com.br', 'test', 'sec', {now}, {}, 0)",
        now + 3600
    ))
    .await
    .unwrap();

    let map = |stem: &str| Map::shipped(stem, &url, dir.path());
    let (domains, mailboxes, aliases, catchall, senders) = (
        map("carteiro-domains"),
        map("carteiro-mailboxes"),
        map("carteiro-aliases"),
        map("carteiro-catchall"),
        map("carteiro-sender-logins"),
    );
    let some = |s: &str| Some(s.to_string());

    // virtual_mailbox_domains
    assert_eq!(domains.query("exemplo.com.br"), some("OK"));
    assert_eq!(domains.query("exemplo.net"), some("OK"), "an alias domain");
    assert_eq!(domains.query("loja.com.br"), some("OK"));
    assert_eq!(domains.query("off.org"), None, "a switched-off domain");
    assert_eq!(domains.query("gmail.com"), None);

    // virtual_mailbox_maps
    assert_eq!(
        mailboxes.query("ana@exemplo.com.br"),
        some("exemplo.com.br/ana/")
    );
    assert_eq!(
        mailboxes.query("Ana@Exemplo.COM.br"),
        some("exemplo.com.br/ana/"),
        "keys are case-folded"
    );
    assert_eq!(
        mailboxes.query("bia@exemplo.com.br"),
        some("exemplo.com.br/bia/"),
        "suspended still receives"
    );
    assert_eq!(
        mailboxes.query("caio@exemplo.com.br"),
        some("exemplo.com.br/caio/")
    );
    assert_eq!(mailboxes.query("dani@exemplo.com.br"), None, "send-only");
    assert_eq!(mailboxes.query("gil@exemplo.com.br"), None, "deleted");
    assert_eq!(mailboxes.query("vendas@exemplo.com.br"), None, "an alias");
    assert_eq!(
        mailboxes.query("zeca@off.org"),
        None,
        "in a switched-off domain"
    );
    assert_eq!(mailboxes.query("@exemplo.com.br"), None);

    // virtual_alias_maps
    assert_eq!(
        aliases.query("ana@exemplo.com.br"),
        some("ana@exemplo.com.br")
    );
    assert_eq!(
        aliases.query("edu@exemplo.com.br"),
        some("edu@exemplo.com.br,ext@gmail.com"),
        "forward with a copy"
    );
    assert_eq!(
        aliases.query("fabi@exemplo.com.br"),
        some("ana@exemplo.com.br"),
        "forward without a copy"
    );
    assert_eq!(
        aliases.query("vendas@exemplo.com.br"),
        some("ana@exemplo.com.br,boss@gmail.com")
    );
    assert_eq!(
        aliases.query("ana@exemplo.net"),
        some("ana@exemplo.com.br"),
        "alias domain → mailbox"
    );
    assert_eq!(
        aliases.query("vendas@exemplo.net"),
        some("vendas@exemplo.com.br"),
        "alias domain → alias"
    );
    assert_eq!(aliases.query("gil@exemplo.com.br"), None, "deleted");
    assert_eq!(aliases.query("nobody@exemplo.com.br"), None);
    assert_eq!(catchall.query("@loja.com.br"), some("ana@exemplo.com.br"));
    assert_eq!(catchall.query("@exemplo.com.br"), None);
    assert_eq!(
        catchall.query("x@loja.com.br"),
        None,
        "only the @domain key"
    );

    // smtpd_sender_login_maps
    assert_eq!(
        senders.query("ana@exemplo.com.br"),
        some("ana@exemplo.com.br")
    );
    assert_eq!(
        senders.query("ana@exemplo.net"),
        some("ana@exemplo.com.br"),
        "alias domain"
    );
    assert_eq!(
        senders.query("dani@exemplo.com.br"),
        some("dani@exemplo.com.br"),
        "send-only sends"
    );
    assert_eq!(
        senders.query("vendas@exemplo.com.br"),
        some("ana@exemplo.com.br,boss@gmail.com")
    );
    assert_eq!(senders.query("bia@exemplo.com.br"), None, "suspended");
    assert_eq!(senders.query("caio@exemplo.com.br"), None, "receive-only");
    assert_eq!(senders.query("gil@exemplo.com.br"), None, "deleted");
    assert_eq!(
        senders.query("hugo@exemplo.com.br"),
        None,
        "under a MailFlow account block"
    );
    db.execute_unprepared(&format!("UPDATE defence_block SET lifted_at = {now}"))
        .await
        .unwrap();
    assert_eq!(
        senders.query("hugo@exemplo.com.br"),
        some("hugo@exemplo.com.br"),
        "block lifted"
    );
}
