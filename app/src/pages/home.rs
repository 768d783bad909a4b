//! The home page: what the signed-in person can do, by role.

use crate::components::page::{Cards, Page};
use crate::model::{CurrentUser, Role, Section};
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    view! { <Page title="Home" children=|user: CurrentUser| view! { <Dashboard user /> } /> }
}

#[component]
fn Dashboard(user: CurrentUser) -> impl IntoView {
    let sections: Vec<Section> = Section::ALL
        .into_iter()
        .filter(|s| user.may_enter(*s))
        .collect();
    let roles: Vec<Role> = user.roles.iter().collect();
    view! {
        <section class="welcome">
            <h1>"Hello, " {user.display_name.clone()}</h1>
            <p class="muted">
                "You are signed in as " <strong>{user.username.clone()}</strong> " with the role"
                {if roles.len() > 1 { "s" } else { "" }} " "
                {roles.iter().map(|r| view! { <span class="badge">{r.label()}</span> }).collect_view()}
            </p>
        </section>
        <Cards cards=sections.into_iter().map(|s| (s.path(), s.label(), s.summary())).collect() />
    }
}
