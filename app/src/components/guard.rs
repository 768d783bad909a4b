//! Page guards: a page names the section it belongs to, and the guard shows
//! it, sends an anonymous visitor to the login page, or answers 403. The
//! data behind the page is guarded again by its server functions; this guard
//! is what the person sees.

use super::notice::ErrorBox;
use super::session::use_current_user;
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
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
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
    view! {
        <section class="panel narrow">
            <h1>"Not permitted"</h1>
            <p>"Your account does not have a role that may open this page."</p>
            <p>"If you need it for your work, ask an administrator to add the role."</p>
            <p>
                <a href="/">"Back to your home page"</a>
            </p>
        </section>
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
