//! The signed-in person's own account: language and password.

use crate::api::session::{ChangePassword, SetLanguage};
use crate::components::notice::{ActionError, SuccessBox};
use crate::components::page::Page;
use crate::components::request_form::PlainPost;
use crate::i18n::{Lang, common::Common, use_locale, use_texts};
use crate::model::CurrentUser;
use leptos::prelude::*;

crate::texts! {
    /// The *Your account* page.
    pub struct AccountTexts {
        signed_in_as = "Signed in as", "Conectado como";
        language_help = "The portal's language for you, on every device you sign in from.", "O idioma do portal para você, em todo dispositivo em que você entrar.";
        save_language = "Save language", "Salvar idioma";
        time_zone = "Time zone", "Fuso horário";
        change_password = "Change password", "Trocar a senha";
        current_password = "Current password", "Senha atual";
        new_password = "New password (at least 10 characters)", "Nova senha (pelo menos 10 caracteres)";
        new_password_again = "New password again", "Nova senha de novo";
        password_changed = "Your password was changed.", "Sua senha foi trocada.";
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let title = use_texts::<Common>().account_title();
    view! {
        <Page title children=|user: CurrentUser| view! {
            <section class="panel narrow">
                <h1>{use_texts::<Common>().account_title()}</h1>
                <p class="muted">{use_texts::<AccountTexts>().signed_in_as()} " " <strong>{user.username.clone()}</strong></p>
                <LanguageForm />
                <ChangePasswordForm />
            </section>
        } />
    }
}

/// The language menu; a saved choice reloads the page in the new language.
#[component]
fn LanguageForm() -> impl IntoView {
    let locale = use_locale();
    let (t, common) = (locale.texts::<AccountTexts>(), locale.texts::<Common>());
    let set = ServerAction::<SetLanguage>::new();
    Effect::new(move || {
        if matches!(set.value().get(), Some(Ok(()))) {
            let _ = window().location().reload();
        }
    });
    view! {
        <h2>{common.language()}</h2>
        <ActionForm action=set>
            <label>
                {common.language()}
                <select name="language">
                    {Lang::ALL
                        .into_iter()
                        .map(|l| view! { <option value=l.tag() selected=l == locale.lang>{l.name()}</option> })
                        .collect_view()}
                </select>
            </label>
            <p class="muted">{t.language_help()}</p>
            <p class="muted">
                {t.time_zone()} ": " <strong>{locale.zone.name.clone()}</strong> ". " {common.time_zone_note()}
            </p>
            <button type="submit" disabled=move || set.pending().get()>{t.save_language()}</button>
        </ActionForm>
        <ActionError result=set.value() />
    }
}

#[component]
fn ChangePasswordForm() -> impl IntoView {
    let t = use_texts::<AccountTexts>();
    let change = ServerAction::<ChangePassword>::new();
    // Posted without WASM: the answer came back with the page.
    PlainPost::take().outcome(change);
    let done = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        <h2>{t.change_password()}</h2>
        <ActionForm action=change>
            <label>
                {t.current_password()}
                <input type="password" name="current" autocomplete="current-password" required />
            </label>
            <label>
                {t.new_password()}
                <input type="password" name="new" autocomplete="new-password" minlength="10" required />
            </label>
            <label>
                {t.new_password_again()}
                <input type="password" name="confirm" autocomplete="new-password" minlength="10" required />
            </label>
            <button type="submit" class="primary" disabled=move || change.pending().get()>
                {t.change_password()}
            </button>
        </ActionForm>
        <ActionError result=change.value() />
        <Show when=done>
            <SuccessBox message=t.password_changed() />
        </Show>
    }
}
