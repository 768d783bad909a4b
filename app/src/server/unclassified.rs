//! The "Unclassified rejects" page's queries and rules: the rejects no
//! reject rule classified, as the log ingest stores them in
//! `mail_unclassified` (one row per normalised text, see
//! `mailflow::count::unclassified`; written by `server::ingest::store` in
//! each batch's transaction), listed most frequent first; a rule made from
//! one of them previewed over the stored texts; and saved into
//! `mail_reject_rule`, audited, after every rule there is (so it takes no
//! reject from an existing class). The ingest workers re-read the rules
//! and use the new one; the stored texts it matches are marked with its
//! class and leave the list.

pub use crate::api::unclassified::{RulePreview, SavedRule, UnclassifiedPage, UnclassifiedRow};
use crate::errors::AppError;
use crate::pages::unclassified::server_texts as texts;
use crate::server::audit::{self, Actor};
use crate::server::retry;
use crate::server::tables::{MailRejectRule, MailUnclassified};
use mailflow::count::NewRule;
use mailflow::count::unclassified::pattern_of;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

/// Texts the table keeps: past it, the least frequent go (the writer trims
/// after each batch), so a hostile log cannot grow it without bound.
pub const MAX_STORED: u64 = 5000;

/// Rows per page of the list.
pub const PAGE_ROWS: u64 = 25;

/// The stored samples, one per line, each cut to this many bytes.
pub const MAX_SAMPLE: usize = 2000;

/// Joins sample lines for the `samples` column.
pub fn join_samples(samples: &[String]) -> String {
    samples
        .iter()
        .map(|s| cut(s.replace(['\n', '\r'], " "), MAX_SAMPLE))
        .collect::<Vec<_>>()
        .join("\n")
}

fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// A class name suggested for a text: its first words, lower case, `_`
/// between, placeholders and codes left out (`Mailbox disabled for <n>
/// days` → `mailbox_disabled_for_days`), at most 32 bytes.
pub fn suggest_class(text: &str) -> String {
    let mut out = String::new();
    let words = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '<' && c != '>')
        .filter(|w| !w.is_empty() && !w.starts_with('<') && !w.bytes().any(|b| b.is_ascii_digit()));
    for w in words {
        let w = w.to_ascii_lowercase();
        if matches!(
            w.as_str(),
            "rejected" | "address" | "recipient" | "sender" | "client" | "host"
        ) {
            continue;
        }
        if out.len() + w.len() + 1 > 32 {
            break;
        }
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(&w);
    }
    if out.is_empty() {
        out.push_str("custom");
    }
    out
}

/// Page `page` (from 0) of the texts no rule classifies yet, most
/// frequent first.
pub async fn list(db: &impl ConnectionTrait, page: u64) -> Result<UnclassifiedPage, DbErr> {
    use MailUnclassified::*;
    let total_q = Query::select()
        .expr(Func::count(Expr::col(Id)))
        .from(Table)
        .and_where(Expr::col(ClassifiedAs).is_null())
        .to_owned();
    let total: i64 = match db.query_one(&total_q).await? {
        Some(r) => r.try_get_by_index(0)?,
        None => 0,
    };
    let page = Ord::min(page, MAX_STORED / PAGE_ROWS);
    let q = Query::select()
        .columns([Id, Text, N, FirstAt, LastAt, Samples])
        .from(Table)
        .and_where(Expr::col(ClassifiedAs).is_null())
        .order_by(N, Order::Desc)
        .order_by(Id, Order::Asc)
        .limit(PAGE_ROWS)
        .offset(page * PAGE_ROWS)
        .to_owned();
    let mut rows = Vec::new();
    for r in db.query_all(&q).await? {
        let text: String = r.try_get_by_index(1)?;
        let samples: String = r.try_get_by_index(5)?;
        rows.push(UnclassifiedRow {
            id: r.try_get_by_index::<i32>(0)?.into(),
            n: Ord::max(r.try_get_by_index::<i64>(2)?, 0) as u64,
            first_at: r.try_get_by_index(3)?,
            last_at: r.try_get_by_index(4)?,
            samples: samples.lines().map(str::to_string).collect(),
            suggested_class: suggest_class(&text),
            suggested_pattern: pattern_of(&text),
            text,
        });
    }
    Ok(UnclassifiedPage {
        rows,
        page,
        total: Ord::max(total, 0) as u64,
        page_rows: PAGE_ROWS,
    })
}

/// Whether `rule` matches a stored text: one of its sample lines, or
/// (none stored) the text itself.
fn matches(rule: &NewRule, text: &str, samples: &str) -> bool {
    if samples.is_empty() {
        rule.pattern.is_match(text)
    } else {
        samples.lines().any(|l| rule.pattern.is_match(l))
    }
}

/// The still unclassified stored texts `rule` matches: (id, text, n), most
/// frequent first.
async fn matched(
    db: &impl ConnectionTrait,
    rule: &NewRule,
) -> Result<Vec<(i64, String, u64)>, DbErr> {
    use MailUnclassified::*;
    let q = Query::select()
        .columns([Id, Text, N, Samples])
        .from(Table)
        .and_where(Expr::col(ClassifiedAs).is_null())
        .order_by(N, Order::Desc)
        .order_by(Id, Order::Asc)
        .to_owned();
    let mut out = Vec::new();
    for r in db.query_all(&q).await? {
        let text: String = r.try_get_by_index(1)?;
        let samples: String = r.try_get_by_index(3)?;
        if matches(rule, &text, &samples) {
            let n: i64 = r.try_get_by_index(2)?;
            let id: i32 = r.try_get_by_index(0)?;
            out.push((id.into(), text, Ord::max(n, 0) as u64));
        }
    }
    Ok(out)
}

/// Checks a rule as typed (see [`NewRule::parse`]).
pub fn parse_rule(class: &str, pattern: &str) -> Result<NewRule, AppError> {
    NewRule::parse(class, pattern).map_err(|e| AppError::Validation(texts().rule_error(&e)))
}

/// How many stored unclassified rejects `class`/`pattern` would have
/// matched.
pub async fn preview(
    db: &DatabaseConnection,
    class: &str,
    pattern: &str,
) -> Result<RulePreview, AppError> {
    let rule = parse_rule(class, pattern)?;
    let found = matched(db, &rule).await?;
    Ok(RulePreview {
        texts: found.len() as u64,
        rejects: found.iter().map(|(_, _, n)| n).sum(),
        examples: found.into_iter().take(10).map(|(_, t, _)| t).collect(),
    })
}

/// Saves `class`/`pattern` after every rule (before `other`), audited,
/// and marks the stored texts it matches as classified, in one
/// transaction. A class that already has a rule is refused (one rule per
/// class: its counts are one series); two analysts saving the same class
/// at once get one rule and one refusal (the table's unique class index).
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    class: &str,
    pattern: &str,
) -> Result<SavedRule, AppError> {
    let rule = parse_rule(class, pattern)?;
    retry::retrying(
        "saving a reject rule",
        |e: &AppError| matches!(e, AppError::Busy),
        || try_save(db, actor, &rule),
    )
    .await
}

async fn try_save(
    db: &DatabaseConnection,
    actor: &Actor,
    rule: &NewRule,
) -> Result<SavedRule, AppError> {
    use MailRejectRule::{Class, Pattern, Position, Table};
    let txn = retry::begin_write(db).await?;
    let exists = Query::select()
        .column(Class)
        .from(Table)
        .and_where(Expr::col(Class).eq(rule.class.as_str()))
        .to_owned();
    if txn.query_one(&exists).await?.is_some() {
        return Err(AppError::Conflict(texts().class_taken(&rule.class)));
    }
    let last = Query::select()
        .expr(Func::max(Expr::col(Position)))
        .from(Table)
        .to_owned();
    let position = match txn.query_one(&last).await? {
        Some(r) => r.try_get_by_index::<Option<i32>>(0)?.map_or(0, |p| p + 1),
        None => 0,
    };
    let insert = Query::insert()
        .into_table(Table)
        .columns([Position, Class, Pattern])
        .values_panic([
            position.into(),
            rule.class.as_str().into(),
            rule.pattern.as_str().into(),
        ])
        .to_owned();
    if let Err(e) = txn.execute(&insert).await {
        return Err(if is_unique_violation(&e) {
            AppError::Conflict(texts().class_taken(&rule.class))
        } else {
            e.into()
        });
    }
    let found = matched(&txn, rule).await?;
    let ids: Vec<i64> = found.iter().map(|(id, _, _)| *id).collect();
    for chunk in ids.chunks(500) {
        use MailUnclassified::{ClassifiedAs, Id, Table};
        let q = Query::update()
            .table(Table)
            .value(ClassifiedAs, rule.class.as_str())
            .and_where(Expr::col(Id).is_in(chunk.iter().copied()))
            .to_owned();
        txn.execute(&q).await?;
    }
    let saved = SavedRule {
        class: rule.class.clone(),
        pattern: rule.pattern.as_str().to_string(),
        position,
        preview: RulePreview {
            texts: found.len() as u64,
            rejects: found.iter().map(|(_, _, n)| n).sum(),
            examples: found.into_iter().take(10).map(|(_, t, _)| t).collect(),
        },
    };
    let after =
        serde_json::json!({ "class": saved.class, "pattern": saved.pattern, "position": position });
    audit::record(
        &txn,
        actor,
        "reject_rule.create",
        &saved.class,
        None::<&()>,
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_limits_patterns_as_the_server_does() {
        assert_eq!(
            crate::api::unclassified::MAX_PATTERN_LEN,
            mailflow::count::MAX_PATTERN
        );
    }

    #[test]
    fn suggested_class_names_are_valid_and_readable() {
        for (text, class) in [
            (
                "550 5.7.1 <addr>: Recipient address rejected: Mailbox disabled for <n> days",
                "mailbox_disabled_for_days",
            ),
            ("554 <n> <host>", "custom"),
            (
                "450 4.7.1 Client host rejected: Looks like spam from a very long sentence indeed",
                "looks_like_spam_from_a_very_long",
            ),
        ] {
            let got = suggest_class(text);
            assert_eq!(got, class);
            assert!(NewRule::parse(&got, "x").is_ok());
        }
    }

    #[test]
    fn a_rule_matches_a_text_by_its_samples() {
        let rule = NewRule::parse("full", r"(?i)mailbox full").unwrap();
        assert!(matches(&rule, "550 <addr>: Mailbox full", ""));
        assert!(matches(&rule, "<x>", "a\nb Mailbox FULL c"));
        assert!(!matches(&rule, "Mailbox full", "a\nb"));
        assert_eq!(
            join_samples(&["a\nb".into(), "é".repeat(2000)]).len(),
            4 + 2000
        );
    }
}
