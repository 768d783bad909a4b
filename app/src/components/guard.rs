//! Page guards: a page names the section it belongs to, and the guard shows
//! it, sends an anonymous visitor to the login page, or answers 403. The
//! data behind the page is guarded again by its server functions; this guard
//! is what the person sees.

use super::notice::ErrorBox;
use super::session::use_current_user;
use crate::i18n::{common::Common, use_texts};
use crate::model::{CurrentUser, Section};
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

/// Shows `children` to a signed-in user allowed into `section` (any signed-in
/// user when `section` is `None`). The children get the user.
#[component]
pub fn Guarded<F, IV>(#[prop(optional)] section: Option<Section>, children: F) -> impl IntoView
where
    F: FnOnce(CurrentUser) -> IV + Send + 'static,
    IV: IntoView + 'static,
{
    let user = use_current_user();
    let location = use_location();
    let here = format!(
        "{}{}",
        location.pathname.get_untracked(),
        location.search.get_untracked()
    );
    // Decided once, when the page is built: a reactive closure around the
    // `Suspend` would rebuild the page (and start its data requests again)
    // each time the signed-in user is fetched, which is every navigation.
    // A change of user shows at the next navigation, which builds a new page.
    view! {
        <Suspense fallback=|| view! { <p class="muted">{use_texts::<Common>().loading()}</p> }>
            {Suspend::new(async move {
                match user.await {
                    Ok(Some(u)) if section.is_none_or(|s| u.may_enter(s)) => children(u).into_any(),
                    Ok(Some(_)) => view! { <Forbidden /> }.into_any(),
                    Ok(None) => view! { <Redirect path=login_url(&here) /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/login?next=<here>`, with `here` percent-encoded.
pub fn login_url(here: &str) -> String {
    let mut out = String::from("/login?next=");
    for b in here.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[component]
pub fn Forbidden() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::FORBIDDEN);
    }
    let t = use_texts::<GuardTexts>();
    view! {
        <section class="panel narrow">
            <h1>{t.forbidden_heading()}</h1>
            <p>{t.forbidden_text()}</p>
            <p>{t.forbidden_ask()}</p>
            <p>
                <a href="/">{t.back_home()}</a>
            </p>
        </section>
    }
}

crate::texts! {
    /// What a page says to someone who may not see it.
    pub struct GuardTexts {
        forbidden_heading = "Not permitted", "Sem permissão";
        forbidden_text = "Your account does not have a role that may open this page.", "Sua conta não tem um papel que possa abrir esta página.";
        forbidden_ask = "If you need it for your work, ask an administrator to add the role.", "Se você precisa dela no seu trabalho, peça a um administrador para acrescentar o papel.";
        back_home = "Back to your home page", "Voltar para a sua página inicial";
    }
}

#[cfg(all(test, feature = "ssr"))]
mod ssr_tests {
    use super::Guarded;
    use crate::components::session::CurrentUserResource;
    use crate::model::{CurrentUser, Role, Roles, Section};
    use futures::StreamExt;
    use leptos::prelude::*;
    use leptos::tachys::view::RenderHtml;
    use leptos_router::components::Router;
    use leptos_router::hooks::use_location;
    use leptos_router::location::RequestUrl;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Renders a guarded page on the server the way a request does: the
    /// signed-in user is a resource that resolves after a while, and the
    /// page starts its own data request. The page must be built once; a page
    /// built again leaves the first copy's request running without its owner.
    #[tokio::test]
    async fn a_guarded_page_is_built_once_per_request() {
        _ = any_spawner::Executor::init_tokio();
        let built = Arc::new(AtomicUsize::new(0));
        let owner = Owner::new_root(Some(Arc::new(hydration_context::SsrSharedContext::new())));
        let html = owner
            .with(|| {
                provide_context(RequestUrl::new("/charts"));
                let built = Arc::clone(&built);
                view! {
                    <Router>
                        {move || {
                            let pathname = use_location().pathname;
                            let user = Resource::new(
                                move || pathname.get(),
                                |_| async {
                                    tokio::task::yield_now().await;
                                    Ok(Some(CurrentUser {
                                        id: 1,
                                        username: "maria".into(),
                                        display_name: "Maria".into(),
                                        roles: Roles::new([Role::Manager]),
                                        language: None,
                                    }))
                                },
                            );
                            provide_context(CurrentUserResource(user));
                            let built = Arc::clone(&built);
                            view! {
                                <Guarded section=Section::Charts children=move |u| {
                                    built.fetch_add(1, Ordering::SeqCst);
                                    let data = Resource::new(|| (), |_| async {
                                        tokio::task::yield_now().await;
                                        7
                                    });
                                    view! {
                                        <p>{u.display_name}</p>
                                        <Suspense>{move || Suspend::new(async move { data.await })}</Suspense>
                                    }
                                } />
                            }
                        }}
                    </Router>
                }
                .to_html_stream_in_order()
            })
            .collect::<String>()
            .await;
        assert!(html.contains("Maria"), "{html}");
        assert_eq!(built.load(Ordering::SeqCst), 1, "page built more than once");
    }
}

#[cfg(test)]
mod tests {
    use super::login_url;

    #[test]
    fn login_url_keeps_the_path_and_encodes_the_query() {
        assert_eq!(
            login_url("/admin/audit?actor=ana&x=1"),
            "/login?next=/admin/audit%3Factor%3Dana%26x%3D1"
        );
    }
}
