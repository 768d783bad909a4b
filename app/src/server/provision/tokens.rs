//! API tokens for the REST API: admins issue one with a role, it is shown
//! once, and only its SHA-256 is stored. A request presents it as
//! `Authorization: Bearer <token>`.

use crate::errors::AppError;
use crate::model::Role;
use crate::provision::{IssuedToken, TokenView};
use crate::server::audit::{self, Actor};
use crate::server::entities::api_token;
use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

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
        return Err(AppError::field(
            "name",
            "Give the token a name of 1 to 128 characters (who or what uses it).",
        ));
    }
    let role: Role = role
        .parse()
        .map_err(|e: String| AppError::field("role", e))?;
    if !(0..=3650).contains(&days) {
        return Err(AppError::field(
            "days",
            "Between 0 (no expiry) and 3650 days.",
        ));
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
        .ok_or_else(|| AppError::NotFound(format!("API token {id}")))?;
    if t.revoked_at.is_some() {
        return Err(AppError::Conflict("That token is already revoked.".into()));
    }
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
        Some(&after),
    )
    .await?;
    Ok(after)
}

/// The caller behind a bearer token: its role and an audit actor. `None`
/// for an unknown, revoked or expired token.
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
