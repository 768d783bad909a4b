//! Authentication and authorization: the one place where the server decides
//! who is calling and what they may do.
//!
//! Every server function starts with [`require`] (or [`require_signed_in`]),
//! naming the roles it accepts; the role-matrix integration test calls every
//! registered server function as every role and as nobody, so a function that
//! forgets this line fails the build.

use super::audit::{self, Actor};
use super::entities::staff_user;
use super::{passwords, staff, throttle};
use crate::api::staff::StaffMessages;
use crate::errors::AppError;
use crate::model::{CurrentUser, Role, Roles};
use crate::state::{AuthSettings, app_state};
use chrono::Utc;
use leptos::prelude::use_context;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use std::net::{IpAddr, SocketAddr};
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
    /// Their own choice of language, if any.
    pub language: Option<crate::i18n::Lang>,
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
            language: self.language,
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
                language: u.language.as_deref().and_then(crate::i18n::Lang::parse),
            }))
        }
        _ => {
            // Disabled, deleted or password changed: end this session.
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
    }
}

/// Longest username accepted at sign-in, in bytes: no staff username is
/// longer (see `staff::Username`).
pub const MAX_USERNAME_BYTES: usize = 64;

/// Longest password accepted at sign-in or as a current password, in bytes
/// (no longer one can be set).
pub const MAX_PASSWORD_BYTES: usize = passwords::MAX_BYTES;

/// Refuses oversized credentials before they reach the throttle table or
/// the password hasher. Says nothing about whether an account exists: no
/// account has a longer name or password.
fn bounded(
    field: &str,
    value: &str,
    max: usize,
    too_long: fn(StaffMessages, &str) -> String,
) -> Result<(), AppError> {
    if value.len() > max {
        let t = StaffMessages::caller();
        return Err(AppError::field(field, too_long(t, &t.number(max))));
    }
    Ok(())
}

/// Checks a username and password, throttling repeated attempts, and on
/// success starts a fresh session (new id) for that staff member.
///
/// The attempt is counted before the password is checked (see
/// [`throttle`]); a success takes it back.
pub async fn log_in(username: &str, password: String) -> Result<Staff, AppError> {
    let password_too_long = StaffMessages::password_too_long;
    let username_too_long = StaffMessages::username_too_long;
    bounded("password", &password, MAX_PASSWORD_BYTES, password_too_long)?;
    let username = username.trim();
    bounded("username", username, MAX_USERNAME_BYTES, username_too_long)?;
    // Lowercasing can lengthen some letters (`İ`): bounded once more.
    let username = username.to_lowercase();
    bounded("username", &username, MAX_USERNAME_BYTES, username_too_long)?;
    let state = app_state()?;
    let settings = &state.auth.throttle;
    let addr = client_addr();

    let verdict =
        throttle::admit_sign_in(&state.db, settings, &username, addr.as_deref(), Utc::now())
            .await?;
    obey(verdict, StaffMessages::sign_in_locked).await?;

    let user = staff_user::Entity::find()
        .filter(staff_user::Column::Username.eq(username.as_str()))
        .one(&state.db)
        .await?;
    let verified =
        passwords::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let user = match user {
        Some(u) if verified && u.active => u,
        _ => {
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

    throttle::forgive_sign_in(&state.db, &username, addr.as_deref()).await?;
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
        language: user.language.as_deref().and_then(crate::i18n::Lang::parse),
    };
    if let Some(lang) = staff.language {
        super::locale::set_lang_cookie(lang);
    }
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

/// The signed-in `me` changes their own password: the current one is
/// checked under the same throttle as a sign-in (per account), and every
/// wrong one is audited. Returns the new hash.
pub async fn change_own_password(
    me: &Staff,
    current: String,
    new: String,
) -> Result<String, AppError> {
    let current_too_long = StaffMessages::current_too_long;
    bounded("current", &current, MAX_PASSWORD_BYTES, current_too_long)?;
    passwords::validate_new(&new)?;
    let state = app_state()?;
    let settings = &state.auth.throttle;
    let verdict =
        throttle::admit_password_check(&state.db, settings, &me.username, Utc::now()).await?;
    obey(verdict, StaffMessages::password_change_locked).await?;
    if !staff::has_password(&state.db, me.id, current).await? {
        audit::record(
            &state.db,
            &me.actor(),
            "auth.change_password_failed",
            &me.username,
            audit::NONE,
            audit::NONE,
        )
        .await?;
        return Err(AppError::field(
            "current",
            StaffMessages::caller().current_wrong(),
        ));
    }
    let hash = staff::set_own_password(&state.db, &me.actor(), me.id, new).await?;
    throttle::clear(&state.db, &throttle::account_key(&me.username)).await?;
    Ok(hash)
}

/// Waits as the throttle says, or refuses with `locked` ("Too many … for
/// N more minutes").
async fn obey(
    verdict: throttle::Verdict,
    locked: fn(StaffMessages, &str) -> String,
) -> Result<(), AppError> {
    match verdict {
        throttle::Verdict::Refuse { retry_after_secs } => {
            let t = StaffMessages::caller();
            let minutes = (retry_after_secs + 59) / 60;
            Err(AppError::TooManyAttempts(locked(
                t,
                &t.more_minutes(minutes.max(1) as u64),
            )))
        }
        throttle::Verdict::Proceed { delay } => {
            tokio::time::sleep(delay).await;
            Ok(())
        }
    }
}

/// What [`purge`] removed.
#[derive(Debug, Default, PartialEq)]
pub struct Purged {
    pub throttle_rows: u64,
    pub sessions: u64,
    pub failed_logins: u64,
}

/// Periodic housekeeping: throttle rows whose window and lock have passed,
/// expired sessions, and `auth.login_failed` audit entries older than
/// `auth.failed_login_retention_days` (0 keeps them).
pub async fn purge(
    db: &sea_orm::DatabaseConnection,
    settings: &AuthSettings,
    now: chrono::DateTime<Utc>,
) -> Result<Purged, sea_orm::DbErr> {
    use super::retention::{Keep, Settings, purge_now};
    let s = Settings::new(&Default::default(), &Default::default(), settings);
    let now = now.timestamp();
    let of = |keep: Keep| purge_now(db, &s, now, move |t| t.keep == keep);
    Ok(Purged {
        throttle_rows: of(Keep::ThrottleWindow).await?,
        sessions: of(Keep::Expiry).await?,
        failed_logins: of(Keep::FailedLogins).await?,
    })
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

/// The client's address, by [`client_ip`]'s rule.
pub fn client_addr() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let settings = app_state().ok()?.auth;
    client_addr_of(&parts, &settings)
}

/// [`client_addr`] for plain axum handlers (the REST API, downloads).
pub fn client_addr_of(parts: &http::request::Parts, settings: &AuthSettings) -> Option<String> {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())?;
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    Some(client_ip(peer, forwarded, settings).to_string())
}

/// Who the client is: the TCP peer, unless `auth.trust_proxy_headers` is
/// set and the peer is one of `server.trusted_proxies`. Then the
/// `X-Forwarded-For` entries (every such header, in order) are read from
/// the right, skipping trusted proxies: the first other address is what
/// the nearest trusted proxy saw, so it is the client; anything left of it
/// was written by the client and is ignored. An entry that is not an
/// address stops the walk at the last trusted hop.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    settings: &AuthSettings,
) -> IpAddr {
    let peer = peer.to_canonical();
    let trusted = |ip: &IpAddr| settings.trusted_proxies.iter().any(|n| n.contains(ip));
    if !settings.trust_proxy_headers || !trusted(&peer) {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for entry in entries.into_iter().rev() {
        let Some(ip) = forwarded_ip(entry.trim()) else {
            break;
        };
        client = ip;
        if !trusted(&ip) {
            break;
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, optionally with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn behind(proxies: &[&str]) -> AuthSettings {
        AuthSettings {
            trust_proxy_headers: true,
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ..Default::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn client(peer: &str, headers: &[&str], settings: &AuthSettings) -> IpAddr {
        client_ip(ip(peer), headers.iter().copied(), settings)
    }

    #[test]
    fn without_trust_the_peer_is_the_client() {
        let off = AuthSettings {
            trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
            ..Default::default()
        };
        assert_eq!(client("127.0.0.1", &["203.0.113.9"], &off), ip("127.0.0.1"));
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let s = behind(&["10.0.0.0/24"]);
        assert_eq!(
            client("198.51.100.7", &["203.0.113.9"], &s),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn the_address_the_trusted_proxy_appended_wins_over_spoofed_entries() {
        let s = behind(&["10.0.0.0/24", "::1/128"]);
        // The client sent "X-Forwarded-For: 203.0.113.9"; the proxy appended
        // the address it saw.
        assert_eq!(
            client("10.0.0.2", &["203.0.113.9, 198.51.100.7"], &s),
            ip("198.51.100.7")
        );
        // Two trusted proxies in a row; the spoofed entries stay ignored, also
        // split over several headers.
        assert_eq!(
            client(
                "10.0.0.2",
                &["1.2.3.4, 5.6.7.8", "198.51.100.7, 10.0.0.3"],
                &s
            ),
            ip("198.51.100.7")
        );
        // Writing a trusted proxy's address first does not help either.
        assert_eq!(
            client("10.0.0.2", &["10.0.0.5, 198.51.100.7"], &s),
            ip("198.51.100.7")
        );
        // Entries may carry a port; IPv4-mapped IPv6 is the IPv4 address.
        assert_eq!(
            client("::1", &["[2001:db8::5]:4711"], &s),
            ip("2001:db8::5")
        );
        assert_eq!(
            client("10.0.0.2", &["::ffff:198.51.100.7"], &s),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_or_missing_entries_leave_the_last_trusted_hop() {
        let s = behind(&["10.0.0.0/24"]);
        assert_eq!(client("10.0.0.2", &[], &s), ip("10.0.0.2"));
        assert_eq!(
            client("10.0.0.2", &["203.0.113.9, unknown"], &s),
            ip("10.0.0.2")
        );
        assert_eq!(
            client("10.0.0.2", &["203.0.113.9, 10.0.0.4, bogus, 10.0.0.3"], &s),
            ip("10.0.0.3")
        );
        assert_eq!(client("10.0.0.2", &["10.0.0.9"], &s), ip("10.0.0.9"));
    }
}
