//! Staff administration (role `admin`).

use crate::errors::AppError;
use crate::model::{IssuedPassword, SignInLock, StaffMember};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::{model::Section, server::auth::require, state::app_state};

#[server(endpoint = "staff/list", output = crate::api::TextJson)]
pub async fn list_staff() -> Result<Vec<StaffMember>, AppError> {
    require(Section::Admin.roles()).await?;
    crate::server::staff::list(&app_state()?.db).await
}

/// Creates an account; an empty `password` makes the server generate one,
/// returned once.
#[server(endpoint = "staff/create", output = crate::api::TextJson)]
#[allow(clippy::too_many_arguments)]
pub async fn create_staff(
    username: String,
    #[server(default)] display_name: String,
    #[server(default)] password: String,
    #[server(default)] admin: bool,
    #[server(default)] support: bool,
    #[server(default)] security: bool,
    #[server(default)] manager: bool,
) -> Result<IssuedPassword, AppError> {
    use crate::model::Roles;
    use crate::server::staff::{self, NewStaff};
    let me = require(Section::Admin.roles()).await?;
    let new = NewStaff {
        username,
        display_name,
        roles: Roles::from_flags(admin, support, security, manager),
        password: Some(password),
    };
    staff::create(&app_state()?.db, &me.actor(), new).await
}

#[server(endpoint = "staff/set_roles", output = crate::api::TextJson)]
pub async fn set_staff_roles(
    id: i32,
    #[server(default)] admin: bool,
    #[server(default)] support: bool,
    #[server(default)] security: bool,
    #[server(default)] manager: bool,
) -> Result<StaffMember, AppError> {
    use crate::model::Roles;
    let me = require(Section::Admin.roles()).await?;
    let roles = Roles::from_flags(admin, support, security, manager);
    crate::server::staff::set_roles(&app_state()?.db, &me.actor(), id, roles).await
}

#[server(endpoint = "staff/set_active", output = crate::api::TextJson)]
pub async fn set_staff_active(id: i32, active: bool) -> Result<StaffMember, AppError> {
    let me = require(Section::Admin.roles()).await?;
    crate::server::staff::set_active(&app_state()?.db, &me.actor(), id, active).await
}

/// Sets a generated password, returned once; the member's sessions end.
#[server(endpoint = "staff/reset_password", output = crate::api::TextJson)]
pub async fn reset_staff_password(id: i32) -> Result<IssuedPassword, AppError> {
    let me = require(Section::Admin.roles()).await?;
    crate::server::staff::reset_password(&app_state()?.db, &me.actor(), id).await
}

/// The sign-in locks and slow-downs in force now, the most attempts first.
#[server(endpoint = "staff/locks", output = crate::api::TextJson)]
pub async fn list_sign_in_locks() -> Result<Vec<SignInLock>, AppError> {
    require(Section::Admin.roles()).await?;
    let state = app_state()?;
    crate::server::staff::sign_in_locks(&state.db, &state.auth.throttle).await
}

/// Lifts one sign-in lock or slow-down (audited as `auth.unlock`).
#[server(endpoint = "staff/clear_lock", output = crate::api::TextJson)]
pub async fn clear_sign_in_lock(key: String) -> Result<(), AppError> {
    let me = require(Section::Admin.roles()).await?;
    crate::server::staff::clear_sign_in_lock(&app_state()?.db, &me.actor(), &key).await
}
