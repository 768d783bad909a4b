//! The links inside the Mailboxes section; admin-only ones only for admins.

use super::session::use_current_user;
use crate::model::Role;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn MailboxesNav() -> impl IntoView {
    let user = use_current_user();
    view! {
        <nav class="subnav" aria-label="Mailboxes section">
            <A href="/mailboxes" exact=true>"Mailboxes"</A>
            <A href="/mailboxes/aliases">"Aliases"</A>
            <A href="/mailboxes/import">"CSV import"</A>
            <A href="/mailboxes/trace">"Message trace"</A>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let admin = matches!(user.await, Ok(Some(u)) if u.roles.contains(Role::Admin));
                    admin.then(|| view! { <A href="/mailboxes/domains">"Domains"</A> })
                })}
            </Transition>
        </nav>
    }
}
