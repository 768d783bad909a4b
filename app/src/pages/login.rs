//! The sign-in page. The form works with or without JavaScript.

use crate::api::session::Login;
use crate::components::notice::ActionError;
use crate::i18n::{common::Common, use_texts};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

crate::texts! {
    /// The sign-in page.
    pub struct LoginTexts {
        tagline = "Carteiro — mail operations portal", "Carteiro — portal de operações de e-mail";
        username = "Username", "Usuário";
        password = "Password", "Senha";
        signing_in = "Signing in…", "Entrando…";
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let (t, common) = (use_texts::<LoginTexts>(), use_texts::<Common>());
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <Title text=common.sign_in() />
        <section class="panel login">
            <h1>{common.sign_in()}</h1>
            <p class="muted">{t.tagline()}</p>
            <ActionForm action=login>
                <label>
                    {t.username()}
                    <input type="text" name="username" autocomplete="username" required autofocus />
                </label>
                <label>
                    {t.password()}
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                <input type="hidden" name="next" value=next />
                <button type="submit" class="primary" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { t.signing_in() } else { common.sign_in() }}
                </button>
            </ActionForm>
            <ActionError result=login.value() />
        </section>
    }
}
