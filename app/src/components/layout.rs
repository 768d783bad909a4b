//! The top bar: brand, the sections the user's roles allow, the user and
//! a sign-out button.

use super::session::use_current_user;
use crate::api::session::Logout;
use crate::i18n::{common::Common, use_texts};
use crate::model::Section;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn TopBar() -> impl IntoView {
    let user = use_current_user();
    let t = use_texts::<Common>();
    let logout = ServerAction::<Logout>::new();
    // On a phone the sections and the user fold into a menu, opened by a
    // checkbox's label: it works before (or without) the WASM, and a
    // click on a link closes it again.
    let menu = NodeRef::<leptos::html::Input>::new();
    let close_menu = move |_| {
        if let Some(m) = menu.get() {
            m.set_checked(false);
        }
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"✉"</span>
                "Carteiro"
            </a>
            <input type="checkbox" id="menu-toggle" class="menu-check" node_ref=menu aria-label=t.menu() />
            <label for="menu-toggle" class="menu-toggle" aria-hidden="true">
                <span aria-hidden="true">"☰"</span>
                " " {t.menu()}
            </label>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|u| {
                        let sections: Vec<Section> = Section::ALL.into_iter().filter(|s| u.may_enter(*s)).collect();
                        let roles = u.roles.iter().map(|r| t.role(r)).collect::<Vec<_>>().join(", ");
                        view! {
                            <div class="menu" on:click=close_menu>
                                <nav class="sections" aria-label=t.sections_label()>
                                    {sections
                                        .into_iter()
                                        .map(|s| view! { <A href=s.path()>{t.section(s)}</A> })
                                        .collect_view()}
                                </nav>
                                <div class="user">
                                    <A href="/account" attr:class="user-name" attr:title=t.roles_title(&roles)>
                                        {u.display_name.clone()}
                                    </A>
                                    <span class="user-roles">{roles.clone()}</span>
                                    <ActionForm action=logout attr:class="inline">
                                        <button type="submit" class="link-button">{t.sign_out()}</button>
                                    </ActionForm>
                                </div>
                            </div>
                        }
                    })
                })}
            </Transition>
        </header>
    }
}
