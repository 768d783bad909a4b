//! Configurador: the customer mail that Postfix and Dovecot serve — domains
//! (with alias domains and catch-alls), mailboxes, aliases and forwards —
//! and the API tokens admins issue for the REST API.
//!
//! Addresses and domain names are stored lower-case, domains in their ASCII
//! (punycode) form, exactly as Postfix looks them up. Postfix and Dovecot
//! read these tables through views keyed by `(local_part, domain)` so that
//! every lookup is one index probe:
//!
//! - `postfix_domains (domain)`: `virtual_mailbox_domains` (alias domains too);
//! - `postfix_mailboxes (local_part, domain, maildir)`: `virtual_mailbox_maps`;
//! - `postfix_aliases (local_part, domain, goto)`: `virtual_alias_maps`
//!   (aliases, forwards, every receiving mailbox to itself so a catch-all
//!   never swallows it, and alias-domain addresses to their real ones);
//! - `postfix_catchall (address, goto)`: `virtual_alias_maps` for `@domain`;
//! - `postfix_sender_logins (local_part, domain, owner)`:
//!   `smtpd_sender_login_maps` (who may send as an address);
//! - `dovecot_users (local_part, domain, username, password, quota_mb,
//!   can_login)`: Dovecot's `userdb` (delivery) and `passdb` (sign-in, only
//!   where `can_login`).
//!
//! A suspended mailbox still receives (nothing is lost) but can neither sign
//! in nor send; a mailbox under an active MailFlow account block cannot send.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const VIEWS: [&str; 6] = [
    "postfix_domains",
    "postfix_mailboxes",
    "postfix_aliases",
    "postfix_catchall",
    "postfix_sender_logins",
    "dovecot_users",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Search pages by prefix ranges (`address >= 'ana' AND address <
        // 'ana\u{10FFFF}'`) and sorts byte-wise; PostgreSQL must compare
        // these keys byte-wise too, whatever the database's locale (a glibc
        // locale ignores dots at first, so 'ana.' would match 'anab').
        let key = |col: ColumnDef| bytewise(col, manager.get_database_backend());
        manager
            .create_table(
                Table::create()
                    .table(MailDomain::Table)
                    .if_not_exists()
                    .col(pk_auto(MailDomain::Id))
                    .col(key(string_len_uniq(MailDomain::Name, 253)))
                    .col(text(MailDomain::Description))
                    // Set: this domain is an alias of that one and has no
                    // mailboxes of its own.
                    .col(integer_null(MailDomain::AliasOf))
                    // 0 means no limit.
                    .col(integer(MailDomain::MaxMailboxes))
                    .col(integer(MailDomain::MaxAliases))
                    .col(big_integer(MailDomain::MaxQuotaMb))
                    .col(big_integer(MailDomain::DefaultQuotaMb))
                    // Where mail to unknown addresses of the domain goes.
                    .col(string_len_null(MailDomain::CatchAll, 320))
                    .col(boolean(MailDomain::Active))
                    .col(timestamp_with_time_zone(MailDomain::CreatedAt))
                    .col(timestamp_with_time_zone(MailDomain::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MailDomain::Table, MailDomain::AliasOf)
                            .to(MailDomain::Table, MailDomain::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_domain_alias_of")
                    .table(MailDomain::Table)
                    .col(MailDomain::AliasOf)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Mailbox::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Mailbox::Id))
                    .col(integer(Mailbox::DomainId))
                    .col(key(string_len(Mailbox::LocalPart, 64)))
                    .col(key(string_len_uniq(Mailbox::Address, 320)))
                    .col(string_len(Mailbox::Name, 200))
                    // Lower-case name, for prefix search.
                    .col(key(string_len(Mailbox::NameKey, 200)))
                    // Dovecot form: `{ARGON2ID}$argon2id$...` or `{BLF-CRYPT}$2y$...`.
                    .col(text(Mailbox::Password))
                    .col(big_integer(Mailbox::QuotaMb))
                    // `active`, `suspended` or `deleted`.
                    .col(string_len(Mailbox::Status, 16))
                    .col(text_null(Mailbox::StatusReason))
                    .col(boolean(Mailbox::CanSend))
                    .col(boolean(Mailbox::CanReceive))
                    // Comma-separated addresses; NULL: no forward.
                    .col(text_null(Mailbox::ForwardTo))
                    .col(boolean(Mailbox::ForwardKeepCopy))
                    .col(timestamp_with_time_zone(Mailbox::CreatedAt))
                    .col(timestamp_with_time_zone(Mailbox::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Mailbox::DeletedAt))
                    .col(timestamp_with_time_zone_null(Mailbox::PurgeAfter))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Mailbox::Table, Mailbox::DomainId)
                            .to(MailDomain::Table, MailDomain::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_mailbox_domain_local",
                vec![Mailbox::DomainId, Mailbox::LocalPart],
            ),
            // With the id: name search pages by (name_key, id), and on
            // PostgreSQL an index on the name alone would leave a sort.
            ("idx_mailbox_name_key", vec![Mailbox::NameKey, Mailbox::Id]),
            // Support lists the suspended (or deleted) mailboxes.
            (
                "idx_mailbox_status_address",
                vec![Mailbox::Status, Mailbox::Address],
            ),
            ("idx_mailbox_purge_after", vec![Mailbox::PurgeAfter]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Mailbox::Table);
            if name == "idx_mailbox_domain_local" {
                index.unique();
            }
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(MailAlias::Table)
                    .if_not_exists()
                    .col(big_pk_auto(MailAlias::Id))
                    .col(integer(MailAlias::DomainId))
                    .col(key(string_len(MailAlias::LocalPart, 64)))
                    .col(key(string_len_uniq(MailAlias::Address, 320)))
                    // Comma-separated target addresses.
                    .col(text(MailAlias::Targets))
                    .col(text(MailAlias::Description))
                    .col(boolean(MailAlias::Active))
                    .col(timestamp_with_time_zone(MailAlias::CreatedAt))
                    .col(timestamp_with_time_zone(MailAlias::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MailAlias::Table, MailAlias::DomainId)
                            .to(MailDomain::Table, MailDomain::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_alias_domain_local")
                    .table(MailAlias::Table)
                    .col(MailAlias::DomainId)
                    .col(MailAlias::LocalPart)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiToken::Table)
                    .if_not_exists()
                    .col(pk_auto(ApiToken::Id))
                    .col(string_len(ApiToken::Name, 128))
                    .col(string_len(ApiToken::Role, 16))
                    // SHA-256 of the token, hex; the token itself is never stored.
                    .col(string_len_uniq(ApiToken::TokenHash, 64))
                    // The first characters, so people can tell tokens apart.
                    .col(string_len(ApiToken::Prefix, 16))
                    .col(string_len(ApiToken::CreatedBy, 64))
                    .col(timestamp_with_time_zone(ApiToken::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiToken::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiToken::RevokedAt))
                    .to_owned(),
            )
            .await?;

        // A mailbox's page lists the audit entries about it.
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_target")
                    .table(AuditLog::Table)
                    .col(AuditLog::Target)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        for sql in views(manager.get_database_backend()) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for view in VIEWS {
            db.execute_unprepared(&format!("DROP VIEW IF EXISTS {view}"))
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_audit_log_target")
                    .table(AuditLog::Table)
                    .to_owned(),
            )
            .await?;
        for table in [
            ApiToken::Table.into_iden(),
            MailAlias::Table.into_iden(),
            Mailbox::Table.into_iden(),
            MailDomain::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// `col` compared byte-wise (`COLLATE "C"`) on PostgreSQL; SQLite's
/// default (BINARY) already is.
fn bytewise(mut col: ColumnDef, backend: DbBackend) -> ColumnDef {
    if backend == DbBackend::Postgres {
        col.extra("COLLATE \"C\"");
    }
    col
}

/// The `CREATE VIEW` statements, in [`VIEWS`] order.
fn views(backend: DbBackend) -> Vec<String> {
    let now = match backend {
        DbBackend::Postgres => "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)",
        _ => "CAST(strftime('%s', 'now') AS INTEGER)",
    };
    // A mailbox that takes mail: not deleted, receiving, in an active domain.
    let receives = "m.status <> 'deleted' AND m.can_receive AND d.active";
    // A mailbox whose owner may sign in and send.
    let may_send = format!(
        "m.status = 'active' AND m.can_send AND d.active AND NOT EXISTS (\
         SELECT 1 FROM defence_block b WHERE b.subject = 'account' \
         AND b.target = m.address AND b.lifted_at IS NULL AND b.expires_at > {now})"
    );
    // What mail to a receiving mailbox becomes: itself, its forward, or both.
    let mailbox_goto = "CASE WHEN m.forward_to IS NULL THEN m.address \
         WHEN m.forward_keep_copy THEN m.address || ',' || m.forward_to \
         ELSE m.forward_to END";
    vec![
        "CREATE VIEW postfix_domains AS \
         SELECT name AS domain FROM mail_domain WHERE active"
            .to_string(),
        format!(
            "CREATE VIEW postfix_mailboxes AS \
             SELECT m.local_part, d.name AS domain, \
             d.name || '/' || m.local_part || '/' AS maildir \
             FROM mailbox m JOIN mail_domain d ON d.id = m.domain_id WHERE {receives}"
        ),
        format!(
            "CREATE VIEW postfix_aliases AS \
             SELECT a.local_part, d.name AS domain, a.targets AS goto \
             FROM mail_alias a JOIN mail_domain d ON d.id = a.domain_id \
             WHERE a.active AND d.active \
             UNION ALL \
             SELECT m.local_part, d.name, {mailbox_goto} \
             FROM mailbox m JOIN mail_domain d ON d.id = m.domain_id WHERE {receives} \
             UNION ALL \
             SELECT a.local_part, ad.name, a.address \
             FROM mail_alias a JOIN mail_domain ad ON ad.alias_of = a.domain_id \
             WHERE a.active AND ad.active \
             UNION ALL \
             SELECT m.local_part, ad.name, m.address \
             FROM mailbox m JOIN mail_domain d ON d.id = m.domain_id \
             JOIN mail_domain ad ON ad.alias_of = m.domain_id WHERE {receives} AND ad.active"
        ),
        "CREATE VIEW postfix_catchall AS \
         SELECT '@' || d.name AS address, d.catch_all AS goto \
         FROM mail_domain d WHERE d.active AND d.catch_all IS NOT NULL \
         UNION ALL \
         SELECT '@' || ad.name, t.catch_all \
         FROM mail_domain ad JOIN mail_domain t ON t.id = ad.alias_of \
         WHERE ad.active AND t.active AND t.catch_all IS NOT NULL"
            .to_string(),
        format!(
            "CREATE VIEW postfix_sender_logins AS \
             SELECT m.local_part, d.name AS domain, m.address AS owner \
             FROM mailbox m JOIN mail_domain d ON d.id = m.domain_id WHERE {may_send} \
             UNION ALL \
             SELECT a.local_part, d.name, a.targets \
             FROM mail_alias a JOIN mail_domain d ON d.id = a.domain_id \
             WHERE a.active AND d.active \
             UNION ALL \
             SELECT m.local_part, ad.name, m.address \
             FROM mailbox m JOIN mail_domain d ON d.id = m.domain_id \
             JOIN mail_domain ad ON ad.alias_of = m.domain_id WHERE {may_send} AND ad.active"
        ),
        // Delivery (userdb) needs suspended mailboxes too; signing in
        // (passdb) takes only those with `can_login`.
        "CREATE VIEW dovecot_users AS \
         SELECT m.local_part, d.name AS domain, m.address AS username, \
         m.password, m.quota_mb, (m.status = 'active') AS can_login \
         FROM mailbox m JOIN mail_domain d ON d.id = m.domain_id \
         WHERE m.status <> 'deleted' AND d.active"
            .to_string(),
    ]
}

#[derive(DeriveIden)]
enum MailDomain {
    Table,
    Id,
    Name,
    Description,
    AliasOf,
    MaxMailboxes,
    MaxAliases,
    MaxQuotaMb,
    DefaultQuotaMb,
    CatchAll,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Mailbox {
    Table,
    Id,
    DomainId,
    LocalPart,
    Address,
    Name,
    NameKey,
    Password,
    QuotaMb,
    Status,
    StatusReason,
    CanSend,
    CanReceive,
    ForwardTo,
    ForwardKeepCopy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    PurgeAfter,
}

#[derive(DeriveIden)]
enum MailAlias {
    Table,
    Id,
    DomainId,
    LocalPart,
    Address,
    Targets,
    Description,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    Name,
    Role,
    TokenHash,
    Prefix,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    Target,
}
