//! Finding mailboxes and aliases among millions: every search is a prefix
//! range on an index (address, domain + local part, or lower-case name),
//! paged by keyset (`after` the last row shown), so page 1 and page 1,000
//! cost the same.

use super::lookup;
use super::types::DomainName;
use crate::errors::AppError;
use crate::provision::{AliasPage, MailboxPage, MailboxStatus};
use crate::server::entities::{mail_alias, mailbox};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub const PAGE_SIZE: u64 = 50;

/// Sorts after every character an address or a name can hold.
const HIGH: char = char::MAX;

/// What support typed into the mailbox search.
#[derive(Clone, Debug, Default)]
pub struct MailboxSearch {
    /// A prefix of the address (or of the local part, with `domain`), or
    /// of the name.
    pub q: String,
    /// Search names instead of addresses.
    pub by_name: bool,
    /// Only this domain.
    pub domain: String,
    /// A [`MailboxStatus`], or empty for all but deleted.
    pub status: String,
    /// The cursor of the previous page.
    pub after: Option<String>,
}

pub async fn mailboxes(
    db: &impl ConnectionTrait,
    s: &MailboxSearch,
) -> Result<MailboxPage, AppError> {
    let q = s.q.trim().to_lowercase();
    let mut query = mailbox::Entity::find();
    query = match s.status.trim() {
        "" => query.filter(mailbox::Column::Status.ne(MailboxStatus::Deleted)),
        other => match other.parse::<MailboxStatus>() {
            Ok(status) => query.filter(mailbox::Column::Status.eq(status)),
            Err(_) => {
                return Err(AppError::field(
                    "status",
                    format!("Unknown status {other:?}."),
                ));
            }
        },
    };
    if !s.domain.trim().is_empty() {
        let name = DomainName::parse(&s.domain).map_err(|m| AppError::field("domain", m))?;
        let Some(d) = lookup::domain(db, &name).await? else {
            return Ok(MailboxPage {
                rows: vec![],
                next: None,
            });
        };
        query = query.filter(mailbox::Column::DomainId.eq(d.id));
    }
    let prefix: String;
    if s.by_name {
        prefix = super::types::name_key(&s.q);
        query = query
            .filter(mailbox::Column::NameKey.gte(prefix.as_str()))
            .filter(mailbox::Column::NameKey.lt(format!("{prefix}{HIGH}")));
        if let Some((key, id)) = s.after.as_deref().and_then(|a| a.rsplit_once('\t')) {
            let id: i64 = id.parse().unwrap_or(i64::MAX);
            query = query.filter(
                Condition::any().add(mailbox::Column::NameKey.gt(key)).add(
                    Condition::all()
                        .add(mailbox::Column::NameKey.eq(key))
                        .add(mailbox::Column::Id.gt(id)),
                ),
            );
        }
        query = query
            .order_by_asc(mailbox::Column::NameKey)
            .order_by_asc(mailbox::Column::Id);
    } else if !s.domain.trim().is_empty() && !q.contains('@') {
        // Within a domain the (domain, local part) index serves the prefix.
        prefix = q.clone();
        query = query
            .filter(mailbox::Column::LocalPart.gte(prefix.as_str()))
            .filter(mailbox::Column::LocalPart.lt(format!("{prefix}{HIGH}")));
        if let Some(after) = &s.after {
            let local = after.split('@').next().unwrap_or_default();
            query = query.filter(mailbox::Column::LocalPart.gt(local));
        }
        query = query.order_by_asc(mailbox::Column::LocalPart);
    } else {
        prefix = address_prefix(&q);
        query = query
            .filter(mailbox::Column::Address.gte(prefix.as_str()))
            .filter(mailbox::Column::Address.lt(format!("{prefix}{HIGH}")));
        if let Some(after) = &s.after {
            query = query.filter(mailbox::Column::Address.gt(after.as_str()));
        }
        query = query.order_by_asc(mailbox::Column::Address);
    }
    let mut rows = query.limit(PAGE_SIZE + 1).all(db).await?;
    let next = if rows.len() as u64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|m| {
            if s.by_name {
                format!("{}\t{}", m.name_key, m.id)
            } else {
                m.address.clone()
            }
        })
    } else {
        None
    };
    Ok(MailboxPage {
        rows: rows.iter().map(lookup::mailbox_view_of).collect(),
        next,
    })
}

/// An address prefix as stored: a complete domain after the `@` becomes
/// punycode (`ana@açaí.com.br` finds `ana@xn--aa-4iaz.com.br`).
fn address_prefix(q: &str) -> String {
    match q.rsplit_once('@') {
        Some((local, domain)) if !domain.is_empty() => match DomainName::parse(domain) {
            Ok(d) if !d.as_str().starts_with(domain) => format!("{local}@{d}"),
            _ => q.to_string(),
        },
        _ => q.to_string(),
    }
}

/// Aliases whose address starts with `q`, in `domain` if given.
pub async fn aliases(
    db: &impl ConnectionTrait,
    q: &str,
    domain: &str,
    after: Option<&str>,
) -> Result<AliasPage, AppError> {
    let prefix = address_prefix(&q.trim().to_lowercase());
    let mut query = mail_alias::Entity::find()
        .filter(mail_alias::Column::Address.gte(prefix.as_str()))
        .filter(mail_alias::Column::Address.lt(format!("{prefix}{HIGH}")));
    if !domain.trim().is_empty() {
        let name = DomainName::parse(domain).map_err(|m| AppError::field("domain", m))?;
        let Some(d) = lookup::domain(db, &name).await? else {
            return Ok(AliasPage {
                rows: vec![],
                next: None,
            });
        };
        query = query.filter(mail_alias::Column::DomainId.eq(d.id));
    }
    if let Some(after) = after {
        query = query.filter(mail_alias::Column::Address.gt(after));
    }
    let mut rows = query
        .order_by_asc(mail_alias::Column::Address)
        .limit(PAGE_SIZE + 1)
        .all(db)
        .await?;
    let next = if rows.len() as u64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|a| a.address.clone())
    } else {
        None
    };
    Ok(AliasPage {
        rows: rows.iter().map(lookup::alias_view).collect(),
        next,
    })
}

/// Every domain, alias domains after the domain they mirror; with the
/// number of mailboxes and aliases when `counts` (one grouped scan each).
pub async fn domains(
    db: &impl ConnectionTrait,
    counts: bool,
) -> Result<Vec<crate::provision::DomainView>, AppError> {
    use crate::server::entities::mail_domain;
    use sea_orm::sea_query::{Expr, ExprTrait};
    use std::collections::HashMap;
    let all = mail_domain::Entity::find()
        .order_by_asc(mail_domain::Column::Name)
        .all(db)
        .await?;
    let names: HashMap<i32, String> = all.iter().map(|d| (d.id, d.name.clone())).collect();
    let (mut boxes, mut aliases) = (HashMap::new(), HashMap::new());
    if counts {
        boxes = mailbox::Entity::find()
            .select_only()
            .column(mailbox::Column::DomainId)
            .column_as(Expr::col(mailbox::Column::Id).count(), "n")
            .filter(mailbox::Column::Status.ne(MailboxStatus::Deleted))
            .group_by(mailbox::Column::DomainId)
            .into_tuple::<(i32, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        aliases = mail_alias::Entity::find()
            .select_only()
            .column(mail_alias::Column::DomainId)
            .column_as(Expr::col(mail_alias::Column::Id).count(), "n")
            .group_by(mail_alias::Column::DomainId)
            .into_tuple::<(i32, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
    }
    let mut out: Vec<_> = all
        .iter()
        .map(|d| {
            lookup::domain_view(
                d,
                d.alias_of.and_then(|id| names.get(&id).cloned()),
                boxes.get(&d.id).copied().unwrap_or(0),
                aliases.get(&d.id).copied().unwrap_or(0),
            )
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |d: &crate::provision::DomainView| {
            (
                d.alias_of.clone().unwrap_or_else(|| d.name.clone()),
                d.alias_of.is_some(),
                d.name.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_unicode_domain_in_the_query_becomes_punycode() {
        assert_eq!(
            super::address_prefix("ana@açaí.com.br"),
            "ana@xn--aa-4iaz.com.br"
        );
        assert_eq!(super::address_prefix("ana@exemplo.c"), "ana@exemplo.c");
        assert_eq!(super::address_prefix("ana"), "ana");
    }
}
