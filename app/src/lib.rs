//! Carteiro's user interface and server functions.
//!
//! The same crate compiles twice: with `ssr` into the server (rendering pages
//! and running server functions against the database) and with `hydrate`
//! into the browser's WASM (making those pages interactive). Pages live in
//! [`pages`], reusable pieces in [`components`], the browser-facing API in
//! [`api`], and everything that only the server may see (database entities,
//! password hashing, the session store, authorization) in `server`.

pub mod api;
pub mod components;
pub mod errors;
pub mod model;
pub mod pages;
pub mod provision;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;

use components::layout::TopBar;
use components::session::provide_current_user;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};
use pages::*;

/// Provides the signed-in user to everything inside the router.
#[component]
fn SessionScope(children: Children) -> impl IntoView {
    provide_current_user();
    children()
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the page as interactive,
    // which the browser tests wait for before they click.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    // Pages wait for their data before the first byte is sent, so that a
    // redirect to the login page or a 403 status can still be set.
    let ssr = SsrMode::Async;

    view! {
        <Stylesheet id="leptos" href="/pkg/carteiro.css" />
        <Title formatter=|text: String| if text.is_empty() { "Carteiro".to_string() } else { format!("{text} · Carteiro") } />
        <Router>
            <SessionScope>
                <TopBar />
                <main class="page">
                    <Routes fallback=not_found::NotFound>
                        <Route path=path!("/login") view=login::LoginPage ssr=ssr.clone() />
                        <Route path=path!("/") view=home::HomePage ssr=ssr.clone() />
                        <Route path=path!("/account") view=account::AccountPage ssr=ssr.clone() />
                        <Route path=path!("/mailboxes") view=mailboxes::MailboxesPage ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/aliases") view=aliases::AliasesPage ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/domains") view=domains::DomainsPage ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/import") view=mailbox_import::ImportPage ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/trace") view=trace::TracePage ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/:address") view=mailbox::MailboxPage ssr=ssr.clone() />
                        <Route path=path!("/mailflow") view=mailflow::MailFlowPage ssr=ssr.clone() />
                        <Route
                            path=path!("/mailflow/detection")
                            view=mailflow_detection::DetectionPage
                            ssr=ssr.clone()
                        />
                        <Route path=path!("/charts") view=charts::ChartsPage ssr=ssr.clone() />
                        <Route path=path!("/charts/report") view=report::ReportPage ssr=ssr.clone() />
                        <Route path=path!("/admin") view=admin::AdminHome ssr=ssr.clone() />
                        <Route path=path!("/admin/staff") view=admin_staff::StaffPage ssr=ssr.clone() />
                        <Route path=path!("/admin/audit") view=admin_audit::AuditPage ssr=ssr.clone() />
                        <Route path=path!("/admin/tokens") view=admin_tokens::TokensPage ssr=ssr.clone() />
                        <Route path=path!("/admin/ingest") view=admin_ingest::IngestPage ssr=ssr />
                    </Routes>
                </main>
            </SessionScope>
        </Router>
    }
}
