//! Finding mailboxes and aliases among millions: every search is a prefix
//! range on an index (address, domain + local part, or a word of the
//! name), paged by keyset (`after` the last row shown), so page 1 and page
//! 1,000 cost the same.
//!
//! One search box: [`read_query`] decides whether the query is an address
//! (it has an `@`, or a digit, dot, `_` or `+` and no space), one of our
//! domains (its mailboxes), or words of a name. Names are found by any of
//! their words: `mailbox_word` holds each word of every name, folded as
//! `name_key` (lower case, no accents), kept by [`index_name`] whenever a
//! mailbox is created or renamed ([`lookup::change_mailbox`]) and by the
//! purge. Each word of the query must start a word of the name; a single
//! word that starts none is then read as the start of an address.

use super::lookup;
use super::types::DomainName;
use crate::errors::AppError;
use crate::pages::mailboxes::MailboxesTexts;
use crate::provision::{AliasPage, MailboxPage, MailboxStatus, SearchedAs};
use crate::server::entities::{mail_alias, mail_domain, mailbox, mailbox_word};
use crate::server::locale::request_lang;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    Value,
};

pub const PAGE_SIZE: u64 = 50;

/// Sorts after every character an address or a name can hold.
const HIGH: char = char::MAX;

/// The longest query read (an address is at most 320 bytes).
pub const MAX_QUERY: usize = 320;

/// Words of a name query that must all match (the rest are ignored).
const MAX_WORDS: usize = 6;

/// What support typed into the mailbox search.
#[derive(Clone, Debug, Default)]
pub struct MailboxSearch {
    /// The start of an address (or of the local part, with `domain`), a
    /// domain, or words of the name.
    pub q: String,
    /// How to read `q`: `None` decides from the query itself.
    pub by: Option<SearchedAs>,
    /// Only this domain.
    pub domain: String,
    /// A [`MailboxStatus`], or empty for all but deleted.
    pub status: String,
    /// The cursor of the previous page.
    pub after: Option<String>,
}

/// How a query typed in the one search box reads, without the database:
/// an address when it has an `@`, or has no space and a digit, `.`, `_`
/// or `+` (`ana17`, `maria.silva`, `cliente.com.br`, which may turn out to
/// be a domain); otherwise words of a name (`pereira`, `joão pe`) — and a
/// single word that starts no word of any name is then searched as the
/// start of an address ([`mailboxes`]).
pub fn read_query(q: &str) -> SearchedAs {
    let q = q.trim();
    let addressy = |c: char| c.is_ascii_digit() || matches!(c, '.' | '_' | '+');
    let address = q.contains('@') || (!q.contains(char::is_whitespace) && q.contains(addressy));
    if address || q.is_empty() {
        SearchedAs::Address
    } else {
        SearchedAs::Name
    }
}

/// `by` of a URL or form (`address`, `domain`, `name`; empty: decide).
pub fn parse_by(by: &str) -> Result<Option<SearchedAs>, AppError> {
    match by.trim() {
        "" | "auto" => Ok(None),
        other => other
            .parse()
            .map(Some)
            .map_err(|_| AppError::field("by", MailboxesTexts(request_lang()).by_unknown(other))),
    }
}

/// The words of a name, or of a name query: its `name_key` (lower case,
/// accents dropped) split at anything but letters and digits, each once.
/// The word-table migration fills `mailbox_word` by the same rule.
pub fn name_words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = super::types::name_key(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Makes mailbox `id`'s words those of `name` (replacing any it had).
pub async fn index_name(db: &impl ConnectionTrait, id: i64, name: &str) -> Result<(), AppError> {
    forget_name(db, id).await?;
    let rows: Vec<mailbox_word::ActiveModel> = name_words(name)
        .into_iter()
        .map(|word| mailbox_word::ActiveModel {
            word: sea_orm::Set(word),
            mailbox_id: sea_orm::Set(id),
        })
        .collect();
    if !rows.is_empty() {
        mailbox_word::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

/// Removes mailbox `id`'s words (it is purged).
pub async fn forget_name(db: &impl ConnectionTrait, id: i64) -> Result<(), sea_orm::DbErr> {
    mailbox_word::Entity::delete_many()
        .filter(mailbox_word::Column::MailboxId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Indexes the names of the mailboxes with ids above `after`, written
/// straight into the table (as `carteiro provision-bench` fills it), in
/// batches; returns how many mailboxes.
pub async fn index_names_after(db: &impl ConnectionTrait, mut after: i64) -> Result<u64, AppError> {
    let mut done = 0;
    loop {
        let batch = mailbox::Entity::find()
            .filter(mailbox::Column::Id.gt(after))
            .order_by_asc(mailbox::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        let Some(last) = batch.last() else {
            return Ok(done);
        };
        after = last.id;
        done += batch.len() as u64;
        let rows: Vec<mailbox_word::ActiveModel> = batch
            .iter()
            .flat_map(|m| {
                name_words(&m.name)
                    .into_iter()
                    .map(move |word| mailbox_word::ActiveModel {
                        word: sea_orm::Set(word),
                        mailbox_id: sea_orm::Set(m.id),
                    })
            })
            .collect();
        for chunk in rows.chunks(2000) {
            mailbox_word::Entity::insert_many(chunk.to_vec())
                .exec(db)
                .await?;
        }
    }
}

pub async fn mailboxes(
    db: &impl ConnectionTrait,
    s: &MailboxSearch,
) -> Result<MailboxPage, AppError> {
    let t = MailboxesTexts(request_lang());
    if s.q.len() > MAX_QUERY {
        return Err(AppError::field("q", t.query_too_long(MAX_QUERY)));
    }
    if s.after.as_ref().is_some_and(|a| a.len() > 2 * MAX_QUERY) {
        return Err(AppError::field("after", t.bad_cursor()));
    }
    let status = match s.status.trim() {
        "" => None,
        other => Some(
            other
                .parse::<MailboxStatus>()
                .map_err(|_| AppError::field("status", t.status_unknown(other)))?,
        ),
    };
    let mut q = s.q.trim().to_lowercase();
    let mut searched_as = s.by.unwrap_or_else(|| read_query(&q));
    let mut alias_domain_of = None;
    let mut domain = None;
    if !s.domain.trim().is_empty() {
        let name = DomainName::parse(&s.domain).map_err(|m| AppError::field("domain", m))?;
        let Some(d) = lookup::domain(db, &name).await? else {
            return Ok(page(vec![], None, searched_as, None));
        };
        domain = Some(real_domain(db, d, &mut alias_domain_of).await?);
    }
    if searched_as != SearchedAs::Name && !q.contains('@') {
        // `cliente.com.br` alone: the mailboxes of that domain.
        if let Ok(name) = DomainName::parse(&q)
            && q.contains('.')
            && let Some(d) = lookup::domain(db, &name).await?
            && domain.as_ref().is_none_or(|have| have.id == d.id)
        {
            domain = Some(real_domain(db, d, &mut alias_domain_of).await?);
            searched_as = SearchedAs::Domain;
            q.clear();
        }
    } else if searched_as != SearchedAs::Name
        && let Some((local, domain_part)) = q.rsplit_once('@')
        && let Ok(name) = DomainName::parse(domain_part)
        && let Some(d) = lookup::domain(db, &name).await?
        && d.alias_of.is_some()
    {
        // `ana17@cliente.net.br`, an alias domain: its real address.
        let real = real_domain(db, d, &mut alias_domain_of).await?;
        q = format!("{local}@{}", real.name);
    }
    let mut query = mailbox::Entity::find();
    query = match status {
        None => query.filter(mailbox::Column::Status.ne(MailboxStatus::Deleted)),
        Some(status) => query.filter(mailbox::Column::Status.eq(status)),
    };
    if let Some(d) = &domain {
        query = query.filter(mailbox::Column::DomainId.eq(d.id));
    }
    if searched_as == SearchedAs::Name {
        // One word read as a name may still be the start of an address
        // (`user`): when no name has it, the addresses are searched, and
        // their pages carry an address as the cursor.
        let one_word = s.by.is_none() && !q.contains(char::is_whitespace);
        let address_cursor = s.after.as_deref().is_some_and(|a| !a.contains('\t'));
        let words: Vec<String> = name_words(&q).into_iter().take(MAX_WORDS).collect();
        if one_word && address_cursor {
            searched_as = SearchedAs::Address;
        } else if !words.is_empty() {
            let domain_id = domain.as_ref().map(|d| d.id);
            let (rows, next) = by_words(db, &words, status, domain_id, s.after.as_deref()).await?;
            if !(rows.is_empty() && one_word && s.after.is_none()) {
                return Ok(page(rows, next, searched_as, alias_domain_of));
            }
            searched_as = SearchedAs::Address;
        }
    }
    let within_domain = domain.is_some() && !q.contains('@');
    if within_domain {
        // Within a domain the (domain, local part) index serves the prefix.
        query = query
            .filter(mailbox::Column::LocalPart.gte(q.as_str()))
            .filter(mailbox::Column::LocalPart.lt(format!("{q}{HIGH}")));
        if let Some(after) = &s.after {
            let local = after.split('@').next().unwrap_or_default();
            query = query.filter(mailbox::Column::LocalPart.gt(local));
        }
        query = query.order_by_asc(mailbox::Column::LocalPart);
    } else {
        let prefix = address_prefix(&q);
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
        rows.last().map(|m| m.address.clone())
    } else {
        None
    };
    Ok(page(rows, next, searched_as, alias_domain_of))
}

fn page(
    rows: Vec<mailbox::Model>,
    next: Option<String>,
    searched_as: SearchedAs,
    alias_domain_of: Option<String>,
) -> MailboxPage {
    MailboxPage {
        rows: rows.iter().map(lookup::mailbox_view_of).collect(),
        next,
        searched_as,
        alias_domain_of,
    }
}

/// `d`, or the domain it mirrors when it is an alias domain (then noted in
/// `alias_domain_of`).
async fn real_domain(
    db: &impl ConnectionTrait,
    d: mail_domain::Model,
    alias_domain_of: &mut Option<String>,
) -> Result<mail_domain::Model, AppError> {
    let Some(real) = d.alias_of else {
        return Ok(d);
    };
    let real = mail_domain::Entity::find_by_id(real)
        .one(db)
        .await?
        .ok_or(AppError::Internal)?;
    *alias_domain_of = Some(super::types::unicode_domain(&real.name));
    Ok(real)
}

/// Mailboxes with a word of the name starting with each of `words`. The
/// longest query word walks the word index in (word, mailbox) order — the
/// keyset, `word\tid` — and each other one is a probe of the mailbox's
/// own words; a mailbox with several words matching the walked one is
/// listed at the first of them only.
async fn by_words(
    db: &impl ConnectionTrait,
    words: &[String],
    status: Option<MailboxStatus>,
    domain_id: Option<i32>,
    after: Option<&str>,
) -> Result<(Vec<mailbox::Model>, Option<String>), AppError> {
    let backend = db.get_database_backend();
    let walk = words
        .iter()
        .max_by_key(|w| w.chars().count())
        .cloned()
        .unwrap_or_default();
    let mut values: Vec<Value> = Vec::new();
    let mut bind = |v: Value| {
        values.push(v);
        format!("${}", values.len())
    };
    let (lo, hi) = (
        bind(walk.clone().into()),
        bind(format!("{walk}{HIGH}").into()),
    );
    let mut sql = format!(
        "SELECT m.* FROM mailbox_word w JOIN mailbox m ON m.id = w.mailbox_id \
         WHERE w.word >= {lo} AND w.word < {hi} \
         AND NOT EXISTS (SELECT 1 FROM mailbox_word e WHERE e.mailbox_id = w.mailbox_id \
         AND e.word >= {lo} AND e.word < w.word)"
    );
    for other in words.iter().filter(|w| **w != walk) {
        let (lo, hi) = (
            bind(other.clone().into()),
            bind(format!("{other}{HIGH}").into()),
        );
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM mailbox_word o WHERE o.mailbox_id = w.mailbox_id \
             AND o.word >= {lo} AND o.word < {hi})"
        ));
    }
    match status {
        None => sql.push_str(&format!(
            " AND m.status <> {}",
            bind(MailboxStatus::Deleted.as_str().into())
        )),
        Some(st) => sql.push_str(&format!(" AND m.status = {}", bind(st.as_str().into()))),
    }
    if let Some(id) = domain_id {
        sql.push_str(&format!(" AND m.domain_id = {}", bind(id.into())));
    }
    if let Some((word, id)) = after.and_then(|a| a.rsplit_once('\t')) {
        let id: i64 = id.parse().unwrap_or(i64::MAX);
        let (word, id) = (bind(word.to_string().into()), bind(id.into()));
        sql.push_str(&format!(
            " AND (w.word > {word} OR (w.word = {word} AND w.mailbox_id > {id}))"
        ));
    }
    sql.push_str(&format!(
        " ORDER BY w.word, w.mailbox_id LIMIT {}",
        PAGE_SIZE + 1
    ));
    let mut rows = mailbox::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?;
    let next = if rows.len() as u64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        // The walked word of the last row: its first word starting so.
        rows.last().and_then(|m| {
            name_words(&m.name)
                .into_iter()
                .find(|w| w.starts_with(walk.as_str()))
                .map(|w| format!("{w}\t{}", m.id))
        })
    } else {
        None
    };
    Ok((rows, next))
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
    use crate::provision::SearchedAs::{Address, Name};

    #[test]
    fn a_query_reads_as_an_address_or_a_name() {
        for q in [
            "ana17",
            "ana@",
            "maria.silva",
            "cliente.com.br",
            "a_b",
            "a+b",
            "",
        ] {
            assert_eq!(super::read_query(q), Address, "{q}");
        }
        for q in [
            "pereira",
            "João Pereira",
            "ana-paula",
            "maria.silva souza",
            " joão ",
        ] {
            assert_eq!(super::read_query(q), Name, "{q}");
        }
    }

    #[test]
    fn names_split_into_folded_words() {
        assert_eq!(
            super::name_words("  Maria-José D'Ávila  SILVA silva "),
            ["avila", "d", "jose", "maria", "silva"]
        );
        assert!(super::name_words(" - ").is_empty());
    }

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
