//! The caller's language on the server: the cookie that carries it between
//! requests, and each staff member's stored choice.

use super::entities::staff_user;
use crate::errors::AppError;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::state::app_state;
use sea_orm::{ActiveModelTrait, Set};

tokio::task_local! {
    /// The language of the work in progress when it runs outside a
    /// rendered page: a request (set by [`scope_request_lang`] for every
    /// request, the REST API's included) or a background job started on
    /// someone's behalf (see [`with_lang`]).
    static LANG: Lang;
}

/// The language of the request being answered (its cookie, its
/// `Accept-Language`, else `server.default_language`), or of the job
/// running on someone's behalf ([`with_lang`]). Outside both (the command
/// line, unit tests): English, the language of the server's log.
pub fn request_lang() -> Lang {
    if let Ok(lang) = LANG.try_with(|l| *l) {
        return lang;
    }
    let in_app = leptos::prelude::use_context::<http::request::Parts>().is_some()
        || leptos::prelude::use_context::<crate::state::AppState>().is_some();
    if in_app {
        crate::i18n::current_locale().lang
    } else {
        Lang::En
    }
}

/// Runs `work` with [`request_lang`] answering `lang`: a background job
/// (a CSV import) keeps the language of whoever started it.
pub fn with_lang<F: std::future::Future>(
    lang: Lang,
    work: F,
) -> tokio::task::futures::TaskLocalFuture<Lang, F> {
    LANG.scope(lang, work)
}

/// Middleware: answers every request in its caller's language (the
/// language cookie, `Accept-Language`, else `default`), so messages made
/// by the REST API's handlers, which have no page context, follow it too.
pub async fn scope_request_lang(
    axum::extract::State(default): axum::extract::State<Lang>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let lang = {
        let header = |name| {
            request
                .headers()
                .get(name)
                .and_then(|v: &http::HeaderValue| v.to_str().ok())
        };
        Lang::of_request(
            header(http::header::COOKIE),
            header(http::header::ACCEPT_LANGUAGE),
            default,
        )
    };
    with_lang(lang, next.run(request)).await
}

/// Makes the browser send `lang` with every later request (a year long:
/// it is a preference, not a credential).
pub fn set_lang_cookie(lang: Lang) {
    let secure = app_state().is_ok_and(|s| s.auth.secure_cookies);
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{}",
        lang.tag(),
        if secure { "; Secure" } else { "" }
    );
    if let (Some(res), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie),
    ) {
        res.append_header(http::header::SET_COOKIE, value);
    }
}

/// Stores `lang` as staff member `id`'s own language.
pub async fn store_language(id: i32, lang: Lang) -> Result<(), AppError> {
    let state = app_state()?;
    staff_user::ActiveModel {
        id: Set(id),
        language: Set(Some(lang.tag().to_string())),
        ..Default::default()
    }
    .update(&state.db)
    .await?;
    Ok(())
}
