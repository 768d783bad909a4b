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
    leptos_axum::redirect(&local_path_or_home(&next));
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

/// Any signed-in staff member chooses their own language (`pt-BR` or
/// `en`): stored with their account, and set in this browser at once.
#[server(endpoint = "session/set_language", output = crate::api::TextJson)]
pub async fn set_language(language: String) -> Result<(), AppError> {
    use crate::i18n::Lang;
    let me = crate::server::auth::require_signed_in().await?;
    let chosen = Lang::ALL
        .into_iter()
        .find(|l| l.tag().eq_ignore_ascii_case(language.trim()));
    let Some(lang) = chosen else {
        let texts = crate::i18n::common::Common(crate::server::locale::request_lang());
        return Err(AppError::field("language", texts.language_unknown()));
    };
    crate::server::locale::store_language(me.id, lang).await?;
    crate::server::locale::set_lang_cookie(lang);
    Ok(())
}

/// Any signed-in staff member changes their own password. Wrong current
/// passwords are throttled like sign-ins and audited.
#[server(endpoint = "session/change_password", output = crate::api::TextJson)]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    use crate::server::auth;
    let me = auth::require_signed_in().await?;
    if new != confirm {
        let t = crate::api::staff::StaffMessages::caller();
        return Err(AppError::Validation(t.passwords_differ().into()));
    }
    let hash = auth::change_own_password(&me, current, new).await?;
    auth::refresh_stamp(&hash).await
}

/// Longest `next` followed after sign-in, in bytes.
const MAX_NEXT_BYTES: usize = 2048;

/// Where the browser goes after signing in: `next` when it is a path on
/// this site, else the home page, so a crafted link cannot send a user
/// elsewhere. Browsers drop tabs and newlines from a `Location` and read
/// `\` as `/`, so `/\t/evil.example` would become `//evil.example`, another
/// site: a `next` with any control character or backslash, or starting
/// with `//`, goes home. What is left is printable ASCII (spaces and
/// other characters are percent-encoded), always a valid header value.
pub fn local_path_or_home(next: &str) -> String {
    let local = next.len() <= MAX_NEXT_BYTES
        && next.starts_with('/')
        && !next[1..].starts_with('/')
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if !local {
        return "/".into();
    }
    let mut path = String::with_capacity(next.len());
    for c in next.chars() {
        if c.is_ascii_graphic() {
            path.push(c);
        } else {
            for b in c.encode_utf8(&mut [0; 4]).bytes() {
                path.push_str(&format!("%{b:02X}"));
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::local_path_or_home;

    #[test]
    fn local_paths_are_followed_after_sign_in() {
        for (next, to) in [
            ("/admin/staff?x=1", "/admin/staff?x=1"),
            (
                "/mailboxes/ana@exemplo.com.br",
                "/mailboxes/ana@exemplo.com.br",
            ),
            ("/trace?q=a b", "/trace?q=a%20b"),
            (
                "/mailboxes/joão@exemplo.com.br",
                "/mailboxes/jo%C3%A3o@exemplo.com.br",
            ),
            // Encoded, these stay part of the path on this site.
            ("/%2F/evil.example", "/%2F/evil.example"),
            ("/%09/evil.example", "/%09/evil.example"),
            ("/.//evil.example", "/.//evil.example"),
        ] {
            assert_eq!(local_path_or_home(next), to, "{next:?}");
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_goes_home() {
        let long = format!("/{}", "a".repeat(3000));
        for evil in [
            "",
            "admin",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/\u{7f}/evil.example",
            "/\u{0}",
            "/\u{85}/evil.example",
            "/a\\b",
            long.as_str(),
        ] {
            assert_eq!(local_path_or_home(evil), "/", "{evil:?}");
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn what_comes_out_is_always_a_header_value() {
        for next in ["/ok", "/ä ö", "/\u{202e}gnp.exe", "/%00"] {
            let path = local_path_or_home(next);
            assert!(
                http::HeaderValue::from_str(&path).is_ok(),
                "{next:?} -> {path:?}"
            );
        }
    }
}
