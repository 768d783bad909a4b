//! The links inside the Mailboxes section; admin-only ones only for admins.

use super::session::use_current_user;
use crate::i18n::use_texts;
use crate::model::Role;
use leptos::prelude::*;

crate::texts! {
    /// The links inside the Mailboxes section.
    pub struct SubnavTexts {
        label = "Mailboxes section", "Seção de caixas postais";
        mailboxes = "Mailboxes", "Caixas postais";
        aliases = "Aliases", "Aliases";
        import = "CSV import", "Importar CSV";
        trace = "Message trace", "Rastreio de mensagens";
        domains = "Domains", "Domínios";
    }
}
use leptos_router::components::A;

#[component]
pub fn MailboxesNav() -> impl IntoView {
    let user = use_current_user();
    let t = use_texts::<SubnavTexts>();
    view! {
        <nav class="subnav" aria-label=t.label()>
            <A href="/mailboxes" exact=true>{t.mailboxes()}</A>
            <A href="/mailboxes/aliases">{t.aliases()}</A>
            <A href="/mailboxes/import">{t.import()}</A>
            <A href="/mailboxes/trace">{t.trace()}</A>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let admin = matches!(user.await, Ok(Some(u)) if u.roles.contains(Role::Admin));
                    admin.then(|| view! { <A href="/mailboxes/domains">{t.domains()}</A> })
                })}
            </Transition>
        </nav>
    }
}
