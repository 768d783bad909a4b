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
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::{Lazy, LazyRoute, SsrMode, lazy_route, path};
use pages::*;

/// Declares a page whose code the browser loads only when the page is first
/// shown (`cargo leptos build --split` puts it in its own WASM file); the
/// server renders it like any other page.
macro_rules! lazy_page {
    ($($route:ident => $page:path),* $(,)?) => {$(
        #[derive(Debug)]
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    )*};
}

lazy_page! {
    AccountRoute => account::AccountPage,
    MailboxesRoute => mailboxes::MailboxesPage,
    AliasesRoute => aliases::AliasesPage,
    DomainsRoute => domains::DomainsPage,
    ImportRoute => mailbox_import::ImportPage,
    TraceRoute => trace::TracePage,
    MailboxRoute => mailbox::MailboxPage,
    MailFlowRoute => mailflow::MailFlowPage,
    DetectionRoute => mailflow_detection::DetectionPage,
    ChartsRoute => charts::ChartsPage,
    ReportRoute => report::ReportPage,
    StaffRoute => admin_staff::StaffPage,
    AuditRoute => admin_audit::AuditPage,
    TokensRoute => admin_tokens::TokensPage,
    IngestRoute => admin_ingest::IngestPage,
}

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
                    <FlatRoutes fallback=not_found::NotFound>
                        <Route path=path!("/login") view=login::LoginPage ssr=ssr.clone() />
                        <Route path=path!("/") view=home::HomePage ssr=ssr.clone() />
                        <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/mailboxes") view={Lazy::<MailboxesRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/aliases") view={Lazy::<AliasesRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/domains") view={Lazy::<DomainsRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/import") view={Lazy::<ImportRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/trace") view={Lazy::<TraceRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/mailboxes/:address") view={Lazy::<MailboxRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/mailflow") view={Lazy::<MailFlowRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/mailflow/detection") view={Lazy::<DetectionRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/charts") view={Lazy::<ChartsRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/charts/report") view={Lazy::<ReportRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/admin") view=admin::AdminHome ssr=ssr.clone() />
                        <Route path=path!("/admin/staff") view={Lazy::<StaffRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/admin/tokens") view={Lazy::<TokensRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/admin/ingest") view={Lazy::<IngestRoute>::new()} ssr=ssr />
                    </FlatRoutes>
                </main>
            </SessionScope>
        </Router>
    }
}
