//! API tokens for the REST API: admins issue one with a role, it is shown
//! once, and only its SHA-256 is stored. A request presents it as
//! `Authorization: Bearer <token>`.

use crate::errors::AppError;
use crate::model::Role;
use crate::provision::{IssuedToken, TokenView};
use crate::server::audit::{self, Actor};
use crate::server::entities::{api_token, staff_user};
use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Every token starts with this, so secret scanners and people recognise it.
pub const TOKEN_PREFIX: &str = "ct_";

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn view(t: api_token::Model) -> TokenView {
    TokenView {
        id: t.id,
        name: t.name,
        role: t.role,
        prefix: t.prefix,
        created_by: t.created_by,
        created_at: t.created_at,
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
        revoked_at: t.revoked_at,
    }
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<TokenView>, AppError> {
    Ok(api_token::Entity::find()
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// Issues a token for `role`, valid for `days` (0: until revoked).
/// The "valid for" field: a whole number of days, 0 to 3650 (empty: 0,
/// no expiry).
pub fn parse_days(text: &str) -> Result<i64, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse::<i64>()
        .ok()
        .filter(|d| (0..=MAX_DAYS).contains(d))
        .ok_or_else(|| AppError::field("days", texts().days_range()))
}

/// The most days a token may be valid.
const MAX_DAYS: i64 = 3650;

fn texts() -> crate::pages::admin_tokens::TokensTexts {
    crate::pages::admin_tokens::TokensTexts(crate::server::locale::request_lang())
}

pub async fn issue(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    role: &str,
    days: i64,
    now: DateTime<Utc>,
) -> Result<IssuedToken, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(AppError::field("name", texts().name_length()));
    }
    let role: Role = role.parse().map_err(|_| {
        AppError::field(
            "role",
            crate::api::staff::StaffMessages::caller().role_unknown(role),
        )
    })?;
    if !(0..=MAX_DAYS).contains(&days) {
        return Err(AppError::field("days", texts().days_range()));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill(&mut bytes);
    let token = format!(
        "{TOKEN_PREFIX}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let row = api_token::ActiveModel {
        name: Set(name.to_string()),
        role: Set(role.as_str().to_string()),
        token_hash: Set(digest(&token)),
        prefix: Set(token[..10].to_string()),
        created_by: Set(actor.name.clone()),
        created_at: Set(now),
        expires_at: Set((days > 0).then(|| now + chrono::Duration::days(days))),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let after = view(row);
    audit::record(
        db,
        actor,
        "api_token.issue",
        &after.name,
        audit::NONE,
        Some(&after),
    )
    .await?;
    Ok(IssuedToken {
        name: after.name,
        token,
    })
}

pub async fn revoke(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    now: DateTime<Utc>,
) -> Result<TokenView, AppError> {
    let t = api_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(crate::api::staff::StaffMessages::caller().token_not_found(id))
        })?;
    if t.revoked_at.is_some() {
        let texts = crate::api::staff::StaffMessages::caller();
        return Err(AppError::Conflict(texts.token_revoked().into()));
    }
    mark_revoked(db, actor, t, now, None).await
}

/// Revokes `t` at `now` and audits it (with `reason`, when it was not an
/// admin's own decision); the token as it is now.
async fn mark_revoked(
    db: &impl ConnectionTrait,
    actor: &Actor,
    t: api_token::Model,
    now: DateTime<Utc>,
    reason: Option<&'static str>,
) -> Result<TokenView, AppError> {
    let before = view(t.clone());
    let mut row = t.into_active_model();
    row.revoked_at = Set(Some(now));
    let after = view(row.update(db).await?);
    audit::record(
        db,
        actor,
        "api_token.revoke",
        &after.name,
        Some(&before),
        Some(&Revoked {
            token: &after,
            reason,
        }),
    )
    .await?;
    Ok(after)
}

/// Tokens that still work at `now`: not revoked, not expired.
fn live(now: DateTime<Utc>) -> sea_orm::Select<api_token::Entity> {
    api_token::Entity::find()
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(api_token::Column::ExpiresAt.is_null())
                .add(api_token::Column::ExpiresAt.gt(now)),
        )
}

/// Live tokens `issuer` (a staff username) issued.
fn live_issued_by(issuer: &str, now: DateTime<Utc>) -> sea_orm::Select<api_token::Entity> {
    live(now).filter(api_token::Column::CreatedBy.eq(issuer))
}

/// Revokes every live token `issuer` issued (their account is being
/// disabled), each audited; returns them as they are now.
pub async fn revoke_issued_by(
    db: &impl ConnectionTrait,
    actor: &Actor,
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<Vec<TokenView>, AppError> {
    let mut revoked = Vec::new();
    for t in live_issued_by(issuer, now).all(db).await? {
        let reason = "its issuer's account was disabled";
        revoked.push(mark_revoked(db, actor, t, now, Some(reason)).await?);
    }
    Ok(revoked)
}

/// The audited state of a revoked token, with why when it was revoked
/// with its issuer's account.
#[derive(serde::Serialize)]
struct Revoked<'a> {
    #[serde(flatten)]
    token: &'a TokenView,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// How many live tokens `issuer` issued.
pub async fn live_count(
    db: &impl ConnectionTrait,
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    Ok(live_issued_by(issuer, now).count(db).await?)
}

/// Live tokens per issuer.
pub async fn live_counts_by_issuer(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<HashMap<String, u64>, AppError> {
    let rows: Vec<(String, i64)> = live(now)
        .select_only()
        .column(api_token::Column::CreatedBy)
        .column_as(api_token::Column::Id.count(), "n")
        .group_by(api_token::Column::CreatedBy)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(issuer, n)| (issuer, n.max(0) as u64))
        .collect())
}

/// The caller behind a bearer token: its role and an audit actor. `None`
/// for an unknown, revoked or expired token, and for one whose issuer's
/// staff account is disabled (tokens are revoked with the account; this
/// also covers accounts disabled before that rule).
pub async fn authenticate(
    db: &DatabaseConnection,
    token: &str,
    client_addr: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<(Role, Actor)>, AppError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(t) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(digest(token)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    let issuer_disabled = staff_user::Entity::find()
        .filter(staff_user::Column::Username.eq(t.created_by.as_str()))
        .filter(staff_user::Column::Active.eq(false))
        .one(db)
        .await?
        .is_some();
    if issuer_disabled {
        return Ok(None);
    }
    let Ok(role) = t.role.parse::<Role>() else {
        return Ok(None);
    };
    let actor = Actor {
        id: None,
        name: format!("api:{}", t.name).chars().take(64).collect(),
        client_addr,
    };
    // Last use is kept to the minute, so busy clients do not write per call.
    if t.last_used_at
        .is_none_or(|l| now - l > chrono::Duration::minutes(1))
    {
        let mut row = t.into_active_model();
        row.last_used_at = Set(Some(now));
        row.update(db).await?;
    }
    Ok(Some((role, actor)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_digest_is_sha256_hex() {
        assert_eq!(
            super::digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
