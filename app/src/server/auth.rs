//! Authentication and authorization: the one place where the server decides
//! who is calling and what they may do.
//!
//! Every server function starts with [`require`] (or [`require_signed_in`]),
//! naming the roles it accepts; the role-matrix integration test calls every
//! registered server function as every role and as nobody, so a function that
//! forgets this line fails the build.

use super::audit::{self, Actor};
use super::entities::staff_user;
use super::{passwords, throttle};
use crate::errors::AppError;
use crate::model::{CurrentUser, Role, Roles};
use crate::state::app_state;
use chrono::Utc;
use leptos::prelude::use_context;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use std::net::SocketAddr;
use tower_sessions::Session;

const SESSION_USER: &str = "staff.id";
const SESSION_STAMP: &str = "staff.stamp";

/// The signed-in staff member, as server code sees them.
#[derive(Clone, Debug)]
pub struct Staff {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub roles: Roles,
    pub client_addr: Option<String>,
}

impl Staff {
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id),
            name: self.username.clone(),
            client_addr: self.client_addr.clone(),
        }
    }

    pub fn to_current_user(&self) -> CurrentUser {
        CurrentUser {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            roles: self.roles.clone(),
        }
    }
}

/// The caller, who must hold at least one of `roles`.
pub async fn require(roles: &[Role]) -> Result<Staff, AppError> {
    let staff = require_signed_in().await?;
    if staff.roles.intersects(roles) {
        Ok(staff)
    } else {
        tracing::info!(user = %staff.username, ?roles, "refused: missing role");
        Err(AppError::Forbidden)
    }
}

/// The caller, who must be signed in (any role).
pub async fn require_signed_in() -> Result<Staff, AppError> {
    current_staff().await?.ok_or(AppError::Unauthenticated)
}

/// The caller, if signed in with an active account whose password has not
/// changed since the session began.
pub async fn current_staff() -> Result<Option<Staff>, AppError> {
    let session = session().await?;
    let state = app_state()?;
    staff_of(&session, &state.db, client_addr()).await
}

/// The staff member signed in on `session` (as [`current_staff`]), for
/// plain axum handlers outside Leptos (file downloads).
pub async fn staff_of(
    session: &Session,
    db: &sea_orm::DatabaseConnection,
    client_addr: Option<String>,
) -> Result<Option<Staff>, AppError> {
    let Some(id) = session
        .get::<i32>(SESSION_USER)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let stamp: Option<String> = session.get(SESSION_STAMP).await.map_err(session_error)?;
    let user = staff_user::Entity::find_by_id(id).one(db).await?;
    match user {
        Some(u)
            if u.active && stamp.as_deref() == Some(&passwords::fingerprint(&u.password_hash)) =>
        {
            Ok(Some(Staff {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                roles: Roles::from_db(&u.roles),
                client_addr,
            }))
        }
        _ => {
            // Disabled, deleted or password changed: end this session.
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
    }
}

/// Checks a username and password, throttling repeated failures, and on
/// success starts a fresh session (new id) for that staff member.
pub async fn log_in(username: &str, password: String) -> Result<Staff, AppError> {
    let state = app_state()?;
    let settings = &state.auth.throttle;
    let addr = client_addr();
    let username = username.trim().to_lowercase();
    let mut keys = vec![throttle::user_key(&username)];
    keys.extend(addr.as_deref().map(throttle::addr_key));
    let now = Utc::now();

    match throttle::check(&state.db, settings, &keys, now).await? {
        throttle::Verdict::Refuse { retry_after_secs } => {
            let minutes = (retry_after_secs + 59) / 60;
            return Err(AppError::TooManyAttempts(format!(
                "Too many failed sign-in attempts. Sign-in is locked for {minutes} more minute{}; try again later or ask an administrator.",
                if minutes == 1 { "" } else { "s" }
            )));
        }
        throttle::Verdict::Proceed { delay } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }

    let user = staff_user::Entity::find()
        .filter(staff_user::Column::Username.eq(username.as_str()))
        .one(&state.db)
        .await?;
    let verified =
        passwords::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let user = match user {
        Some(u) if verified && u.active => u,
        _ => {
            throttle::record_failure(&state.db, settings, &keys, Utc::now()).await?;
            let anonymous = Actor {
                id: None,
                name: "anonymous".into(),
                client_addr: addr,
            };
            audit::record(
                &state.db,
                &anonymous,
                "auth.login_failed",
                &username,
                audit::NONE,
                audit::NONE,
            )
            .await?;
            return Err(AppError::InvalidCredentials);
        }
    };

    throttle::clear(&state.db, &throttle::user_key(&username)).await?;
    let session = session().await?;
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SESSION_USER, user.id)
        .await
        .map_err(session_error)?;
    session
        .insert(SESSION_STAMP, passwords::fingerprint(&user.password_hash))
        .await
        .map_err(session_error)?;

    let mut active: staff_user::ActiveModel = user.clone().into();
    active.last_login_at = Set(Some(Utc::now()));
    active.update(&state.db).await?;

    let staff = Staff {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        roles: Roles::from_db(&user.roles),
        client_addr: addr,
    };
    audit::record(
        &state.db,
        &staff.actor(),
        "auth.login",
        &staff.username,
        audit::NONE,
        audit::NONE,
    )
    .await?;
    Ok(staff)
}

/// Ends the caller's session (a no-op when not signed in).
pub async fn log_out() -> Result<(), AppError> {
    if let Some(staff) = current_staff().await? {
        let state = app_state()?;
        audit::record(
            &state.db,
            &staff.actor(),
            "auth.logout",
            &staff.username,
            audit::NONE,
            audit::NONE,
        )
        .await?;
    }
    session().await?.flush().await.map_err(session_error)
}

/// Keeps the caller signed in after they changed their own password.
pub async fn refresh_stamp(new_hash: &str) -> Result<(), AppError> {
    session()
        .await?
        .insert(SESSION_STAMP, passwords::fingerprint(new_hash))
        .await
        .map_err(session_error)
}

async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer");
        AppError::Internal
    })
}

fn session_error(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store error");
    AppError::Internal
}

/// The client's address: the TCP peer, or the first `X-Forwarded-For` entry
/// when `auth.trust_proxy_headers` is set.
pub fn client_addr() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let trust_proxy = app_state()
        .map(|s| s.auth.trust_proxy_headers)
        .unwrap_or(false);
    if trust_proxy {
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}
