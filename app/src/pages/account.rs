//! The signed-in person's own account: change password.

use crate::api::session::ChangePassword;
use crate::components::notice::{ActionError, SuccessBox};
use crate::components::page::Page;
use crate::model::CurrentUser;
use leptos::prelude::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! { <Page title="Your account" children=|user: CurrentUser| view! { <ChangePasswordForm user /> } /> }
}

#[component]
fn ChangePasswordForm(user: CurrentUser) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let done = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        <section class="panel narrow">
            <h1>"Your account"</h1>
            <p class="muted">"Signed in as " <strong>{user.username}</strong></p>
            <h2>"Change password"</h2>
            <ActionForm action=change>
                <label>
                    "Current password"
                    <input type="password" name="current" autocomplete="current-password" required />
                </label>
                <label>
                    "New password (at least 10 characters)"
                    <input type="password" name="new" autocomplete="new-password" minlength="10" required />
                </label>
                <label>
                    "New password again"
                    <input type="password" name="confirm" autocomplete="new-password" minlength="10" required />
                </label>
                <button type="submit" class="primary" disabled=move || change.pending().get()>
                    "Change password"
                </button>
            </ActionForm>
            <ActionError result=change.value() />
            <Show when=done>
                <SuccessBox message="Your password was changed." />
            </Show>
        </section>
    }
}
