//! Staff accounts: creation, roles, disabling, passwords. Used by the admin
//! server functions and by `carteiro user add`; every change is written to
//! the audit log in the same transaction.

use super::audit::{self, Actor};
use super::entities::{login_throttle, staff_user};
use super::provision::tokens;
use super::{passwords, throttle};
use crate::api::staff::StaffMessages;
use crate::errors::AppError;
use crate::model::{IssuedPassword, Role, Roles, SignInLock, StaffMember};
use crate::state::ThrottleSettings;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

/// A staff login name: 2–64 characters of `a-z 0-9 . _ -`, stored lowercase.
#[derive(Clone, Debug, PartialEq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let name = raw.trim().to_lowercase();
        let ok_len = (2..=64).contains(&name.len());
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if ok_len && ok_chars && name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            Ok(Username(name))
        } else {
            Err(AppError::Validation(
                StaffMessages::caller().username_rules().into(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an admin (or the command line) asks for when creating a staff member.
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    pub roles: Roles,
    /// `None` (or empty): the server generates one and returns it once.
    pub password: Option<String>,
}

/// The audited view of an account: never the password hash.
#[derive(Serialize)]
struct Snapshot<'a> {
    username: &'a str,
    display_name: &'a str,
    roles: &'a str,
    active: bool,
}

fn snapshot(m: &staff_user::Model) -> Snapshot<'_> {
    Snapshot {
        username: &m.username,
        display_name: &m.display_name,
        roles: &m.roles,
        active: m.active,
    }
}

fn to_member(m: staff_user::Model, api_tokens: u64) -> StaffMember {
    StaffMember {
        api_tokens,
        id: m.id,
        username: m.username,
        display_name: m.display_name,
        roles: Roles::from_db(&m.roles),
        active: m.active,
        created_at: m.created_at,
        last_login_at: m.last_login_at,
    }
}

fn require_roles(roles: &Roles) -> Result<(), AppError> {
    if roles.is_empty() {
        return Err(AppError::Validation(
            StaffMessages::caller().choose_role().into(),
        ));
    }
    Ok(())
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewStaff,
) -> Result<IssuedPassword, AppError> {
    let username = Username::parse(&new.username)?;
    let display_name = new.display_name.trim();
    let display_name = if display_name.is_empty() {
        username.as_str()
    } else {
        display_name
    };
    if display_name.chars().count() > 128 {
        return Err(AppError::Validation(
            StaffMessages::caller().display_name_too_long().into(),
        ));
    }
    require_roles(&new.roles)?;
    let chosen = new.password.filter(|p| !p.is_empty());
    if let Some(p) = &chosen {
        passwords::validate_new(p)?;
    }
    let generated = chosen.is_none().then(passwords::generate);
    let password = chosen.or_else(|| generated.clone()).unwrap_or_default();
    let hash = passwords::hash(password).await?;

    let txn = crate::server::retry::begin_write(db).await?;
    let taken = staff_user::Entity::find()
        .filter(staff_user::Column::Username.eq(username.as_str()))
        .count(&txn)
        .await?
        > 0;
    if taken {
        return Err(AppError::Conflict(
            StaffMessages::caller().username_taken(username.as_str()),
        ));
    }
    let now = Utc::now();
    let model = staff_user::ActiveModel {
        username: Set(username.as_str().to_string()),
        display_name: Set(display_name.to_string()),
        password_hash: Set(hash),
        roles: Set(new.roles.to_db()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        language: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "staff.create",
        &model.username,
        audit::NONE,
        Some(&snapshot(&model)),
    )
    .await?;
    txn.commit().await?;
    Ok(IssuedPassword {
        username: model.username,
        password: generated,
    })
}

/// Every account, with the number of live API tokens each issued (so the
/// page can say what disabling it revokes).
pub async fn list(db: &DatabaseConnection) -> Result<Vec<StaffMember>, AppError> {
    let issued = tokens::live_counts_by_issuer(db, Utc::now()).await?;
    Ok(staff_user::Entity::find()
        .order_by_asc(staff_user::Column::Username)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let n = issued.get(&m.username).copied().unwrap_or(0);
            to_member(m, n)
        })
        .collect())
}

pub async fn count(db: &DatabaseConnection) -> Result<u64, AppError> {
    Ok(staff_user::Entity::find().count(db).await?)
}

async fn find(db: &impl ConnectionTrait, id: i32) -> Result<staff_user::Model, AppError> {
    staff_user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(StaffMessages::caller().staff_member(id)))
}

/// Refuses a change that would leave no active administrator.
async fn keep_an_admin(
    db: &impl ConnectionTrait,
    target: &staff_user::Model,
    stays_admin: bool,
) -> Result<(), AppError> {
    let is_admin = target.active && Roles::from_db(&target.roles).contains(Role::Admin);
    if !is_admin || stays_admin {
        return Ok(());
    }
    let others = staff_user::Entity::find()
        .filter(staff_user::Column::Active.eq(true))
        .filter(staff_user::Column::Roles.contains(Role::Admin.as_str()))
        .filter(staff_user::Column::Id.ne(target.id))
        .count(db)
        .await?;
    if others == 0 {
        return Err(AppError::Conflict(
            StaffMessages::caller().last_admin().into(),
        ));
    }
    Ok(())
}

pub async fn set_roles(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    roles: Roles,
) -> Result<StaffMember, AppError> {
    require_roles(&roles)?;
    let txn = crate::server::retry::begin_write(db).await?;
    let before = find(&txn, id).await?;
    keep_an_admin(&txn, &before, roles.contains(Role::Admin)).await?;
    let mut m: staff_user::ActiveModel = before.clone().into();
    m.roles = Set(roles.to_db());
    m.updated_at = Set(Utc::now());
    let after = m.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "staff.roles",
        &after.username,
        Some(&snapshot(&before)),
        Some(&snapshot(&after)),
    )
    .await?;
    let issued = tokens::live_count(&txn, &after.username, Utc::now()).await?;
    txn.commit().await?;
    Ok(to_member(after, issued))
}

pub async fn set_active(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    active: bool,
) -> Result<StaffMember, AppError> {
    let txn = crate::server::retry::begin_write(db).await?;
    let before = find(&txn, id).await?;
    if !active {
        keep_an_admin(&txn, &before, false).await?;
        if actor.id == Some(id) {
            return Err(AppError::Conflict(
                StaffMessages::caller().disable_self().into(),
            ));
        }
    }
    let now = Utc::now();
    let mut m: staff_user::ActiveModel = before.clone().into();
    m.active = Set(active);
    m.updated_at = Set(now);
    let after = m.update(&txn).await?;
    // A disabled member's API tokens stop with them (and stay revoked if
    // the account is enabled again).
    let revoked = if active {
        Vec::new()
    } else {
        tokens::revoke_issued_by(&txn, actor, &after.username, now).await?
    };
    let issued = tokens::live_count(&txn, &after.username, now).await?;
    let action = if active {
        "staff.enable"
    } else {
        "staff.disable"
    };
    audit::record(
        &txn,
        actor,
        action,
        &after.username,
        Some(&snapshot(&before)),
        Some(&DisableSnapshot {
            account: snapshot(&after),
            revoked_api_tokens: revoked.iter().map(|t| t.name.as_str()).collect(),
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(to_member(after, issued))
}

/// The audited state after enabling or disabling an account.
#[derive(Serialize)]
struct DisableSnapshot<'a> {
    #[serde(flatten)]
    account: Snapshot<'a>,
    /// The names of the API tokens this change revoked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    revoked_api_tokens: Vec<&'a str>,
}

/// Sets a new generated password (returned once); the member's open sessions end.
pub async fn reset_password(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
) -> Result<IssuedPassword, AppError> {
    let password = passwords::generate();
    let hash = passwords::hash(password.clone()).await?;
    let txn = crate::server::retry::begin_write(db).await?;
    let before = find(&txn, id).await?;
    let mut m: staff_user::ActiveModel = before.into();
    m.password_hash = Set(hash);
    m.updated_at = Set(Utc::now());
    let after = m.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "staff.reset_password",
        &after.username,
        audit::NONE,
        audit::NONE,
    )
    .await?;
    txn.commit().await?;
    Ok(IssuedPassword {
        username: after.username,
        password: Some(password),
    })
}

/// Whether `password` is the member's current password.
pub async fn has_password(
    db: &DatabaseConnection,
    id: i32,
    password: String,
) -> Result<bool, AppError> {
    let user = find(db, id).await?;
    Ok(passwords::verify(password, Some(user.password_hash)).await)
}

/// A staff member sets their own new password, after the caller checked
/// the current one (throttled: see `auth::change_own_password`); returns
/// the new hash.
pub async fn set_own_password(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    new: String,
) -> Result<String, AppError> {
    passwords::validate_new(&new)?;
    let hash = passwords::hash(new).await?;
    let txn = crate::server::retry::begin_write(db).await?;
    let user = find(&txn, id).await?;
    let mut m: staff_user::ActiveModel = user.into();
    m.password_hash = Set(hash.clone());
    m.updated_at = Set(Utc::now());
    let after = m.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "staff.change_password",
        &after.username,
        audit::NONE,
        audit::NONE,
    )
    .await?;
    txn.commit().await?;
    Ok(hash)
}

/// The sign-in counts that lock or slow sign-ins now.
pub async fn sign_in_locks(
    db: &DatabaseConnection,
    settings: &ThrottleSettings,
) -> Result<Vec<SignInLock>, AppError> {
    Ok(throttle::in_force(db, settings, Utc::now())
        .await?
        .into_iter()
        .map(throttle::lock_view)
        .collect())
}

/// An admin lifts a sign-in lock (or slow-down); audited with what it was.
pub async fn clear_sign_in_lock(
    db: &DatabaseConnection,
    actor: &Actor,
    key: &str,
) -> Result<(), AppError> {
    let gone = || AppError::NotFound(StaffMessages::caller().lock_gone().into());
    if key.len() > 512 {
        return Err(gone());
    }
    let txn = crate::server::retry::begin_write(db).await?;
    let row = login_throttle::Entity::find_by_id(key.to_string())
        .one(&txn)
        .await?
        .ok_or_else(gone)?;
    let before = throttle::lock_view(row);
    throttle::clear(&txn, key).await?;
    let target = match (&before.username, &before.address) {
        (Some(u), Some(a)) => format!("{u} from {a}"),
        (Some(u), None) => u.clone(),
        (None, Some(a)) => a.clone(),
        (None, None) => key.to_string(),
    };
    audit::record(
        &txn,
        actor,
        "auth.unlock",
        &target,
        Some(&before),
        audit::NONE,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// On an empty staff table, creates `admin` with a generated password and
/// returns it (to be printed once). Returns `None` when staff exist.
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
) -> Result<Option<IssuedPassword>, AppError> {
    if count(db).await? > 0 {
        return Ok(None);
    }
    let issued = create(
        db,
        &Actor {
            id: None,
            name: "system".into(),
            client_addr: None,
        },
        NewStaff {
            username: "admin".into(),
            display_name: "Administrator".into(),
            roles: Roles::new([Role::Admin]),
            password: None,
        },
    )
    .await?;
    Ok(Some(issued))
}

#[cfg(test)]
mod tests {
    use super::Username;

    #[test]
    fn usernames_are_lowercased_and_restricted() {
        assert_eq!(
            Username::parse("  Maria.Silva ").unwrap().as_str(),
            "maria.silva"
        );
        for bad in ["", "a", "-lead", "sp ace", "acentuação", &"x".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
