//! The home page: what the signed-in person can do, by role.

use crate::components::page::{Cards, Page};
use crate::i18n::{common::Common, use_texts};
use crate::model::{CurrentUser, Role, Section};
use leptos::prelude::*;

crate::texts! {
    /// The home page.
    pub struct HomeTexts {
        signed_in_as = "You are signed in as", "Você entrou como";
        with_role = "with the role", "com o papel";
        with_roles = "with the roles", "com os papéis";
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let title = use_texts::<Common>().home_title();
    view! { <Page title children=|user: CurrentUser| view! { <Dashboard user /> } /> }
}

#[component]
fn Dashboard(user: CurrentUser) -> impl IntoView {
    let sections: Vec<Section> = Section::ALL
        .into_iter()
        .filter(|s| user.may_enter(*s))
        .collect();
    let roles: Vec<Role> = user.roles.iter().collect();
    let (t, h) = (use_texts::<Common>(), use_texts::<HomeTexts>());
    view! {
        <section class="welcome">
            <h1>{t.hello(&user.display_name)}</h1>
            <p class="muted">
                {h.signed_in_as()} " " <strong>{user.username.clone()}</strong> " "
                {if roles.len() > 1 { h.with_roles() } else { h.with_role() }} " "
                {roles.iter().map(|r| view! { <span class="badge">{t.role(*r)}</span> }).collect_view()}
            </p>
        </section>
        <Cards cards=sections.into_iter().map(|s| (s.path(), t.section(s), t.section_summary(s))).collect() />
    }
}
