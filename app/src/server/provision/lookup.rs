//! Reads shared by the requests: finding domains, mailboxes and aliases,
//! the checks every address must pass (not taken, within the domain's
//! limits, no alias loop), and the DTOs made from rows.

use super::types::{Address, DomainName, Target, unicode_domain};
use crate::errors::AppError;
use crate::provision::texts::ProvisionTexts;
use crate::provision::{AliasView, DomainView, MailboxStatus, MailboxView};
use crate::server::entities::{mail_alias, mail_domain, mailbox};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

pub async fn domain(
    db: &impl ConnectionTrait,
    name: &DomainName,
) -> Result<Option<mail_domain::Model>, AppError> {
    Ok(mail_domain::Entity::find()
        .filter(mail_domain::Column::Name.eq(name.as_str()))
        .one(db)
        .await?)
}

/// The domain an address of `name` may be created in: it must exist and
/// not be an alias domain. Its row stays locked until the transaction ends
/// (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the whole database is,
/// by `BEGIN IMMEDIATE`), so requests adding addresses to one domain take
/// turns: its limits and "an address is a mailbox or an alias, not both"
/// are checked against what the previous one committed.
pub async fn home_domain(
    db: &impl ConnectionTrait,
    name: &DomainName,
    field: &str,
) -> Result<mail_domain::Model, AppError> {
    let locked = mail_domain::Entity::find()
        .filter(mail_domain::Column::Name.eq(name.as_str()))
        .lock_exclusive()
        .one(db)
        .await?;
    let t = ProvisionTexts::caller();
    match locked {
        None => Err(AppError::field(field, t.not_our_domain(&name.display()))),
        Some(d) if d.alias_of.is_some() => {
            Err(AppError::field(field, t.is_alias_domain(&name.display())))
        }
        Some(d) => Ok(d),
    }
}

/// The mailbox at `address` (deleted ones included), or a not-found error.
pub async fn mailbox(db: &impl ConnectionTrait, address: &str) -> Result<mailbox::Model, AppError> {
    let key = normalise(address);
    mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq(key.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(ProvisionTexts::caller().the_mailbox(&key)))
}

/// A conflict unless mailbox `m` is `wanted`: the check of a request that
/// moves a mailbox from one status to another.
pub fn require_status(m: &mailbox::Model, wanted: MailboxStatus) -> Result<(), AppError> {
    if m.status != wanted {
        let t = ProvisionTexts::caller();
        return Err(AppError::Conflict(t.status_is_not(
            &m.address,
            t.status(m.status),
            t.status(wanted),
        )));
    }
    Ok(())
}

/// A conflict if mailbox `m` is deleted, saying so with `message` (e.g.
/// `ProvisionTexts::deleted_restore_first`): a deleted mailbox is restored
/// before anything else changes it.
pub fn refuse_deleted(
    m: &mailbox::Model,
    message: fn(ProvisionTexts, &str) -> String,
) -> Result<(), AppError> {
    if m.status == MailboxStatus::Deleted {
        return Err(AppError::Conflict(message(
            ProvisionTexts::caller(),
            &m.address,
        )));
    }
    Ok(())
}

pub async fn alias(
    db: &impl ConnectionTrait,
    address: &str,
) -> Result<mail_alias::Model, AppError> {
    let key = normalise(address);
    mail_alias::Entity::find()
        .filter(mail_alias::Column::Address.eq(key.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(ProvisionTexts::caller().the_alias(&key)))
}

/// An address as typed, in its stored form when it parses (IDN domain to
/// punycode, lower case); otherwise trimmed and lower-cased.
pub fn normalise(address: &str) -> String {
    Address::parse(address)
        .map(|a| a.to_string())
        .unwrap_or_else(|_| address.trim().to_lowercase())
}

/// Refuses an address that is already a mailbox (even a deleted one still
/// within its retention) or an alias.
pub async fn ensure_free(
    db: &impl ConnectionTrait,
    address: &Address,
    field: &str,
) -> Result<(), AppError> {
    let t = ProvisionTexts::caller();
    let key = address.to_string();
    if let Some(m) = mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq(key.as_str()))
        .one(db)
        .await?
    {
        let message = match m.purge_after {
            Some(purge) if m.status == MailboxStatus::Deleted => {
                t.deleted_kept(&key, &t.date(purge))
            }
            _ => t.exists_as_mailbox(&key),
        };
        return Err(AppError::field(field, message));
    }
    if mail_alias::Entity::find()
        .filter(mail_alias::Column::Address.eq(key.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::field(field, t.exists_as_alias(&key)));
    }
    Ok(())
}

/// Refuses a new mailbox when the domain is at its limit.
pub async fn ensure_room_for_mailbox(
    db: &impl ConnectionTrait,
    domain: &mail_domain::Model,
    field: &str,
) -> Result<(), AppError> {
    if domain.max_mailboxes > 0 {
        let count = mailbox::Entity::find()
            .filter(mailbox::Column::DomainId.eq(domain.id))
            .count(db)
            .await?;
        if count >= domain.max_mailboxes as u64 {
            let t = ProvisionTexts::caller();
            return Err(AppError::field(
                field,
                t.mailbox_limit(
                    &unicode_domain(&domain.name),
                    &t.number(domain.max_mailboxes),
                ),
            ));
        }
    }
    Ok(())
}

pub async fn ensure_room_for_alias(
    db: &impl ConnectionTrait,
    domain: &mail_domain::Model,
    field: &str,
) -> Result<(), AppError> {
    if domain.max_aliases > 0 {
        let count = mail_alias::Entity::find()
            .filter(mail_alias::Column::DomainId.eq(domain.id))
            .count(db)
            .await?;
        if count >= domain.max_aliases as u64 {
            let t = ProvisionTexts::caller();
            return Err(AppError::field(
                field,
                t.alias_limit(&unicode_domain(&domain.name), &t.number(domain.max_aliases)),
            ));
        }
    }
    Ok(())
}

/// A quota within the domain's per-mailbox limit.
pub fn check_quota(domain: &mail_domain::Model, quota_mb: i64) -> Result<(), String> {
    if domain.max_quota_mb > 0 && (quota_mb == 0 || quota_mb > domain.max_quota_mb) {
        let t = ProvisionTexts::caller();
        return Err(t.quota_over(
            &unicode_domain(&domain.name),
            &t.number(domain.max_quota_mb),
            if quota_mb == 0 {
                t.unlimited_refused()
            } else {
                ""
            },
        ));
    }
    Ok(())
}

/// Where mail to `address` goes next, if it is hosted here: the targets of
/// an alias or the forward of a mailbox (`None`: not hosted, or a mailbox
/// that keeps its mail — the end of the path either way). Alias domains are
/// followed to the addresses they mirror.
async fn next_hops(
    db: &impl ConnectionTrait,
    address: &str,
) -> Result<Option<(String, Vec<String>)>, AppError> {
    let Some((local, domain_name)) = address.rsplit_once('@') else {
        return Ok(None);
    };
    let Some(domain) = mail_domain::Entity::find()
        .filter(mail_domain::Column::Name.eq(domain_name))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if let Some(real) = domain.alias_of {
        let Some(real) = mail_domain::Entity::find_by_id(real).one(db).await? else {
            return Ok(None);
        };
        return Ok(Some((
            address.into(),
            vec![format!("{local}@{}", real.name)],
        )));
    }
    if let Some(a) = mail_alias::Entity::find()
        .filter(mail_alias::Column::Address.eq(address))
        .one(db)
        .await?
    {
        return Ok(Some((address.into(), split_list(&a.targets))));
    }
    if let Some(m) = mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq(address))
        .one(db)
        .await?
        && let Some(fwd) = m.forward_to.as_deref()
    {
        return Ok(Some((address.into(), split_list(fwd))));
    }
    Ok(None)
}

/// Checks the targets of `owner` (an alias, or a mailbox's forward): a
/// target in one of our domains must exist, and following the targets must
/// never lead back to `owner`.
pub async fn check_targets(
    db: &impl ConnectionTrait,
    owner: &str,
    targets: &[Target],
    field: &str,
) -> Result<(), AppError> {
    for t in targets {
        let key = t.to_string();
        if key == owner {
            return Err(AppError::field(
                field,
                ProvisionTexts::caller().points_to_itself(owner),
            ));
        }
        if let Some(d) = domain(db, &t.domain).await? {
            let real = match d.alias_of {
                Some(id) => mail_domain::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map(|r| r.name)
                    .unwrap_or(d.name),
                None => d.name,
            };
            let real_key = format!("{}@{}", t.local, real);
            let hosted = mailbox::Entity::find()
                .filter(mailbox::Column::Address.eq(real_key.as_str()))
                .filter(mailbox::Column::Status.ne(MailboxStatus::Deleted))
                .one(db)
                .await?
                .is_some()
                || mail_alias::Entity::find()
                    .filter(mail_alias::Column::Address.eq(real_key.as_str()))
                    .one(db)
                    .await?
                    .is_some();
            if !hosted {
                return Err(AppError::field(
                    field,
                    ProvisionTexts::caller().hosted_unknown(&key),
                ));
            }
        }
    }
    // Walk the graph from the targets; reaching the owner again is a loop.
    let mut queue: Vec<(String, Vec<String>)> = targets
        .iter()
        .map(|t| (t.to_string(), vec![owner.to_string(), t.to_string()]))
        .collect();
    let mut seen = std::collections::HashSet::new();
    while let Some((address, path)) = queue.pop() {
        if !seen.insert(address.clone()) || seen.len() > 500 {
            continue;
        }
        if let Some((_, hops)) = next_hops(db, &address).await? {
            for hop in hops {
                let mut p = path.clone();
                p.push(hop.clone());
                if hop == owner {
                    return Err(AppError::field(
                        field,
                        ProvisionTexts::caller().makes_loop(&p.join(" → ")),
                    ));
                }
                queue.push((hop, p));
            }
        }
    }
    Ok(())
}

/// `a@x,b@y` → `["a@x", "b@y"]`.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

pub fn display_address(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", unicode_domain(domain)),
        None => address.to_string(),
    }
}

pub fn mailbox_view(m: &mailbox::Model, domain: &str) -> MailboxView {
    MailboxView {
        address: m.address.clone(),
        display_address: display_address(&m.address),
        domain: domain.to_string(),
        name: m.name.clone(),
        quota_mb: m.quota_mb,
        status: m.status,
        status_reason: m.status_reason.clone(),
        can_send: m.can_send,
        can_receive: m.can_receive,
        forward_to: m.forward_to.as_deref().map(split_list).unwrap_or_default(),
        forward_keep_copy: m.forward_keep_copy,
        created_at: m.created_at,
        updated_at: m.updated_at,
        deleted_at: m.deleted_at,
        purge_after: m.purge_after,
    }
}

/// A mailbox's view, with its domain name read from the address.
pub fn mailbox_view_of(m: &mailbox::Model) -> MailboxView {
    let domain = m
        .address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or_default();
    mailbox_view(m, domain)
}

pub fn alias_view(a: &mail_alias::Model) -> AliasView {
    let domain = a
        .address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or_default();
    AliasView {
        address: a.address.clone(),
        display_address: display_address(&a.address),
        domain: domain.to_string(),
        targets: split_list(&a.targets),
        description: a.description.clone(),
        active: a.active,
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

/// A domain's view; `alias_of` is the mirrored domain's name.
pub fn domain_view(
    d: &mail_domain::Model,
    alias_of: Option<String>,
    mailboxes: i64,
    aliases: i64,
) -> DomainView {
    DomainView {
        name: d.name.clone(),
        display_name: unicode_domain(&d.name),
        description: d.description.clone(),
        alias_of,
        max_mailboxes: d.max_mailboxes,
        max_aliases: d.max_aliases,
        max_quota_mb: d.max_quota_mb,
        default_quota_mb: d.default_quota_mb,
        catch_all: d.catch_all.clone(),
        active: d.active,
        mailboxes,
        aliases,
        warning: DomainName::parse(&d.name)
            .ok()
            .and_then(|n| n.lookalike_warning()),
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

/// Something that still sends mail to `address`: an alias, a forward or a
/// catch-all (the first found), named for a message.
pub async fn pointing_to(
    db: &impl ConnectionTrait,
    address: &str,
) -> Result<Option<String>, AppError> {
    let t = ProvisionTexts::caller();
    let (aliases, forwards) = pointing_at(db, &[address.to_string()], 1).await?;
    if let Some(a) = aliases.first() {
        return Ok(Some(t.the_alias(a)));
    }
    if let Some(m) = forwards.first() {
        return Ok(Some(t.the_forward_of(m)));
    }
    if let Some(d) = mail_domain::Entity::find()
        .filter(mail_domain::Column::CatchAll.eq(address))
        .one(db)
        .await?
    {
        return Ok(Some(t.the_catch_all_of(&d.name)));
    }
    Ok(None)
}

/// The aliases and the mailboxes' forwards with any of `addresses` among
/// their targets (at most `limit` of each, by address).
pub async fn pointing_at(
    db: &impl ConnectionTrait,
    addresses: &[String],
    limit: usize,
) -> Result<(Vec<String>, Vec<String>), AppError> {
    let names = |list: &str| split_list(list).iter().any(|t| addresses.contains(t));
    let (mut aliases, mut forwards) = (Vec::new(), Vec::new());
    for address in addresses {
        let pattern = format!("%{address}%");
        let found = mail_alias::Entity::find()
            .filter(mail_alias::Column::Targets.like(pattern.as_str()))
            .all(db)
            .await?;
        aliases.extend(
            found
                .into_iter()
                .filter(|a| names(&a.targets))
                .map(|a| a.address),
        );
        let found = mailbox::Entity::find()
            .filter(mailbox::Column::ForwardTo.like(pattern.as_str()))
            .all(db)
            .await?;
        forwards.extend(
            found
                .into_iter()
                .filter(|m| m.forward_to.as_deref().is_some_and(names))
                .map(|m| m.address),
        );
    }
    for list in [&mut aliases, &mut forwards] {
        list.sort();
        list.dedup();
        list.truncate(limit);
    }
    Ok((aliases, forwards))
}

/// `address` and the same local part in each alias domain of its domain:
/// every address that delivers to it.
pub async fn with_alias_domains(
    db: &impl ConnectionTrait,
    m: &mailbox::Model,
) -> Result<Vec<String>, AppError> {
    let mut out = vec![m.address.clone()];
    let mirrors = mail_domain::Entity::find()
        .filter(mail_domain::Column::AliasOf.eq(m.domain_id))
        .all(db)
        .await?;
    out.extend(
        mirrors
            .into_iter()
            .map(|d| format!("{}@{}", m.local_part, d.name)),
    );
    Ok(out)
}

/// Mailbox `address`'s page: the mailbox, the aliases and forwards
/// pointing at it (also through an alias domain), its active MailFlow
/// account blocks and its newest history. Not found: `NotFound`.
pub async fn mailbox_detail(
    db: &impl ConnectionTrait,
    address: &str,
    now: i64,
) -> Result<crate::provision::MailboxOverview, AppError> {
    use crate::server::entities::defence_block;
    use sea_orm::QueryOrder;
    let m = mailbox(db, address).await?;
    let (aliases, forwards) = pointing_at(db, &with_alias_domains(db, &m).await?, 100).await?;
    let blocks = defence_block::Entity::find()
        .filter(defence_block::Column::Subject.eq(crate::model::SubjectKind::Account.name()))
        .filter(defence_block::Column::Target.eq(m.address.as_str()))
        .filter(defence_block::Column::LiftedAt.is_null())
        .filter(defence_block::Column::ExpiresAt.gt(now))
        .order_by_desc(defence_block::Column::ExpiresAt)
        .limit(20)
        .all(db)
        .await?
        .into_iter()
        .map(crate::server::defence::block_row)
        .collect::<Result<Vec<_>, _>>()?;
    let history = crate::server::audit::for_target(db, &m.address, "provision.", 50).await?;
    Ok(crate::provision::MailboxOverview {
        mailbox: mailbox_view_of(&m),
        aliases,
        forwards,
        blocks,
        history,
    })
}

/// The audit snapshot of a domain.
pub fn domain_snapshot(d: &mail_domain::Model) -> serde_json::Value {
    serde_json::json!({
        "name": d.name,
        "description": d.description,
        "alias_of": d.alias_of,
        "max_mailboxes": d.max_mailboxes,
        "max_aliases": d.max_aliases,
        "max_quota_mb": d.max_quota_mb,
        "default_quota_mb": d.default_quota_mb,
        "catch_all": d.catch_all,
        "active": d.active,
    })
}

/// Refuses a domain name that is already a domain or an alias domain.
pub async fn ensure_new_domain(
    db: &impl ConnectionTrait,
    name: &DomainName,
) -> Result<(), AppError> {
    if domain(db, name).await?.is_some() {
        return Err(AppError::field(
            "name",
            ProvisionTexts::caller().exists(&name.display()),
        ));
    }
    Ok(())
}

/// Adds domain `name` (stored form; an alias domain when `alias_of` is
/// set), active. Requests audit it; `carteiro soak` sets up with it.
pub async fn insert_domain(
    db: &impl ConnectionTrait,
    name: &str,
    description: String,
    alias_of: Option<i32>,
    limits: &DomainLimits,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<mail_domain::Model, sea_orm::DbErr> {
    use sea_orm::{ActiveModelTrait, Set};
    mail_domain::ActiveModel {
        name: Set(name.to_string()),
        description: Set(description),
        alias_of: Set(alias_of),
        max_mailboxes: Set(limits.max_mailboxes),
        max_aliases: Set(limits.max_aliases),
        max_quota_mb: Set(limits.max_quota_mb),
        default_quota_mb: Set(limits.default_quota_mb),
        catch_all: Set(None),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The audit change of a domain just added.
pub fn domain_created(row: &mail_domain::Model) -> super::Change {
    super::Change::created(row.name.clone(), &domain_snapshot(row))
}

/// A domain's limits, from form fields.
pub struct DomainLimits {
    pub max_mailboxes: i32,
    pub max_aliases: i32,
    pub max_quota_mb: i64,
    pub default_quota_mb: i64,
}

impl DomainLimits {
    /// No limits (0 everywhere): an alias domain's, which holds no
    /// addresses of its own to limit.
    pub const NONE: DomainLimits = DomainLimits {
        max_mailboxes: 0,
        max_aliases: 0,
        max_quota_mb: 0,
        default_quota_mb: 0,
    };

    pub fn parse(
        f: &mut super::Fields,
        max_mailboxes: &str,
        max_aliases: &str,
        max_quota_mb: &str,
        default_quota_mb: &str,
    ) -> Option<Self> {
        use super::types::{parse_limit, parse_quota};
        let t = ProvisionTexts::caller();
        let max_mailboxes = f.check(
            "max_mailboxes",
            parse_limit(max_mailboxes, t.limit_mailboxes()),
        );
        let max_aliases = f.check("max_aliases", parse_limit(max_aliases, t.limit_aliases()));
        let max_quota_mb = match max_quota_mb.trim() {
            "" => Some(0),
            q => f.check("max_quota_mb", parse_quota(q)),
        };
        let default_quota_mb = f.check("default_quota_mb", parse_quota(default_quota_mb));
        let limits = DomainLimits {
            max_mailboxes: max_mailboxes?,
            max_aliases: max_aliases?,
            max_quota_mb: max_quota_mb?,
            default_quota_mb: default_quota_mb?,
        };
        if limits.max_quota_mb > 0
            && (limits.default_quota_mb == 0 || limits.default_quota_mb > limits.max_quota_mb)
        {
            f.add(
                "default_quota_mb",
                t.default_quota_within(&t.number(limits.max_quota_mb)),
            );
            return None;
        }
        Some(limits)
    }
}

impl DomainLimits {
    /// The limits as a request's summary lists them, in `t`'s language.
    pub fn describe(&self, t: ProvisionTexts) -> String {
        let n = |v: i64| {
            if v == 0 {
                t.no_limit().to_string()
            } else {
                t.number(v)
            }
        };
        t.limits(
            &n(self.max_mailboxes.into()),
            &n(self.max_aliases.into()),
            &if self.max_quota_mb == 0 {
                t.no_limit().into()
            } else {
                t.mb(&t.number(self.max_quota_mb))
            },
            &t.quota(self.default_quota_mb),
        )
    }
}

/// Moves a mailbox to `status` with `reason` (`None` clears it). A deleted
/// mailbox carries its deletion time and when it is purged; any other
/// status carries neither.
pub async fn set_status(
    db: &impl ConnectionTrait,
    current: mailbox::Model,
    ctx: &super::Context,
    status: MailboxStatus,
    reason: Option<String>,
) -> Result<super::Change, AppError> {
    use sea_orm::Set;
    let deleted = (status == MailboxStatus::Deleted).then_some(ctx.now);
    change_mailbox(db, current, ctx.now, |row| {
        row.status = Set(status);
        row.status_reason = Set(reason);
        row.deleted_at = Set(deleted);
        row.purge_after = Set(deleted.map(|at| at + chrono::Duration::days(ctx.retention_days)));
    })
    .await
}

/// Applies `edit` to a mailbox, stamps the change time and reports the
/// mailbox before and after: the `apply` of most mailbox requests.
pub async fn change_mailbox(
    db: &impl ConnectionTrait,
    current: mailbox::Model,
    now: chrono::DateTime<chrono::Utc>,
    edit: impl FnOnce(&mut mailbox::ActiveModel),
) -> Result<super::Change, AppError> {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let before = mailbox_view_of(&current);
    let mut row = current.into_active_model();
    edit(&mut row);
    row.updated_at = Set(now);
    let row = row.update(db).await?;
    if row.name != before.name {
        super::search::index_name(db, row.id, &row.name).await?;
    }
    let after = mailbox_view_of(&row);
    Ok(super::Change::new(row.address, Some(&before), Some(&after)))
}
