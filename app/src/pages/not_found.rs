//! The answer for an address with no page: 404, in the page's language.

use crate::i18n::{common::Common, use_texts};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    let t = use_texts::<Common>();
    view! {
        <Title text=t.not_found_title() />
        <section class="panel narrow">
            <h1>{t.not_found_heading()}</h1>
            <p>
                {t.not_found_text()} " " <a href="/">{t.go_home()}</a> "."
            </p>
        </section>
    }
}
