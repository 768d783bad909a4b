//! Messages above or below forms: errors, successes, one-time secrets.

use crate::errors::AppError;
use crate::i18n::{common::Common, use_texts};
use leptos::prelude::*;

/// The error of the last submission of an action, if any.
#[component]
pub fn ActionError<T>(#[prop(into)] result: Signal<Option<Result<T, AppError>>>) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    move || {
        result.with(|r| match r {
            Some(Err(e)) => Some(view! { <ErrorBox error=e.clone() /> }),
            _ => None,
        })
    }
}

#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    view! {
        <div class="notice error" role="alert">
            {use_texts::<Common>().error(&error)}
        </div>
    }
}

#[component]
pub fn SuccessBox(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="notice success" role="status">
            {message}
        </div>
    }
}

/// A password that is shown once and never again.
#[component]
pub fn OneTimeSecret(
    #[prop(into)] username: String,
    #[prop(into)] password: String,
) -> impl IntoView {
    let t = use_texts::<NoticeTexts>();
    view! {
        <div class="notice secret" role="status">
            <p>
                {t.new_password_for()} " " <strong>{username}</strong>
                ". " {t.shown_once()}
            </p>
            <code class="secret-value" data-testid="one-time-password">{password}</code>
        </div>
    }
}

crate::texts! {
    /// Notices under forms.
    pub struct NoticeTexts {
        new_password_for = "New password for", "Nova senha de";
        shown_once = "Copy it now: it is shown only once.", "Copie-a agora: ela é mostrada só uma vez.";
    }
}
