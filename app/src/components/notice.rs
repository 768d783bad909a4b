//! Messages above or below forms: errors, successes, one-time secrets.

use crate::errors::AppError;
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
            {error.to_string()}
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
    view! {
        <div class="notice secret" role="status">
            <p>
                "New password for " <strong>{username}</strong>
                ". Copy it now: it is shown only once."
            </p>
            <code class="secret-value" data-testid="one-time-password">{password}</code>
        </div>
    }
}
