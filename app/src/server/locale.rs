//! The caller's language on the server: the cookie that carries it between
//! requests, and each staff member's stored choice.

use super::entities::staff_user;
use crate::errors::AppError;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::state::app_state;
use sea_orm::{ActiveModelTrait, Set};

/// The language of the request being answered (its cookie, its
/// `Accept-Language`, else `server.default_language`).
pub fn request_lang() -> Lang {
    crate::i18n::current_locale().lang
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
