//! Signing in and out, and who is signed in.

use crate::errors::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

/// Public. Checks the credentials (throttled), starts a new session and sends
/// the browser to `next` when it is a local path, else to the home page.
#[server(endpoint = "session/login", output = crate::api::TextJson)]
pub async fn login(
    username: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    crate::server::auth::log_in(&username, password).await?;
    leptos_axum::redirect(local_path_or_home(&next));
    Ok(())
}

/// Public (a no-op when nobody is signed in). Ends the session.
#[server(endpoint = "session/logout", output = crate::api::TextJson)]
pub async fn logout() -> Result<(), AppError> {
    crate::server::auth::log_out().await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Public. The signed-in staff member, or `None`.
#[server(endpoint = "session/whoami", output = crate::api::TextJson)]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    Ok(crate::server::auth::current_staff()
        .await?
        .map(|s| s.to_current_user()))
}

/// Any signed-in staff member changes their own password.
#[server(endpoint = "session/change_password", output = crate::api::TextJson)]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    use crate::server::{auth, staff};
    let me = auth::require_signed_in().await?;
    if new != confirm {
        return Err(AppError::Validation("The two new passwords differ.".into()));
    }
    let state = crate::state::app_state()?;
    let hash = staff::change_own_password(&state.db, &me.actor(), me.id, current, new).await?;
    auth::refresh_stamp(&hash).await
}

/// Only same-site paths, so a crafted link cannot send a user elsewhere.
pub fn local_path_or_home(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if local { next } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::local_path_or_home;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path_or_home("/admin/staff?x=1"), "/admin/staff?x=1");
        for evil in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "admin",
        ] {
            assert_eq!(local_path_or_home(evil), "/", "{evil}");
        }
    }
}
