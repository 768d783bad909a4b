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
pub mod i18n;
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
use leptos_router::{Lazy, LazyRoute, SsrMode, path};
use pages::*;

// Code splitting. The pages of each section (Mailboxes, MailFlow, Charts,
// Admin) are one lazily loaded function: `cargo leptos build --split` puts
// each section's code in its own WASM files, which the browser fetches the
// first time it shows a page of that section. The server renders every page
// at once. One split per section rather than per page: a visit loads a few
// dozen files instead of a hundred, and moving between the pages of a
// section loads nothing more. A route names its page by an enum value, not
// by the page's function: only the lazy function may refer to the page's
// code, or that code would stay in the main file.

/// The pages of the Mailboxes section.
#[derive(Clone, Copy, Debug)]
enum MailboxesPages {
    List,
    Aliases,
    Domains,
    Import,
    Trace,
    Mailbox,
}

#[lazy]
fn mailboxes_section(page: MailboxesPages) -> AnyView {
    match page {
        MailboxesPages::List => mailboxes::MailboxesPage().into_any(),
        MailboxesPages::Aliases => aliases::AliasesPage().into_any(),
        MailboxesPages::Domains => domains::DomainsPage().into_any(),
        MailboxesPages::Import => mailbox_import::ImportPage().into_any(),
        MailboxesPages::Trace => trace::TracePage().into_any(),
        MailboxesPages::Mailbox => mailbox::MailboxPage().into_any(),
    }
}

/// The pages of the MailFlow section.
#[derive(Clone, Copy, Debug)]
enum MailFlowPages {
    Defence,
    Detection,
    Unclassified,
}

#[lazy]
fn mailflow_section(page: MailFlowPages) -> AnyView {
    match page {
        MailFlowPages::Defence => defence::DefencePage().into_any(),
        MailFlowPages::Detection => detection::DetectionPage().into_any(),
        MailFlowPages::Unclassified => unclassified::UnclassifiedRejectsPage().into_any(),
    }
}

/// The pages of the Charts section.
#[derive(Clone, Copy, Debug)]
enum ChartsPages {
    Charts,
    Report,
}

#[lazy]
fn charts_section(page: ChartsPages) -> AnyView {
    match page {
        ChartsPages::Charts => charts::ChartsPage().into_any(),
        ChartsPages::Report => report::ReportPage().into_any(),
    }
}

/// Your account (its language and password forms are kept out of the
/// main file, which every visit loads).
#[derive(Clone, Copy, Debug)]
enum AccountPages {
    Account,
}

#[lazy]
fn account_section(page: AccountPages) -> AnyView {
    match page {
        AccountPages::Account => account::AccountPage().into_any(),
    }
}

/// The pages of the Admin section.
#[derive(Clone, Copy, Debug)]
enum AdminPages {
    Home,
    Staff,
    Audit,
    Tokens,
    Ingest,
}

#[lazy]
fn admin_section(page: AdminPages) -> AnyView {
    match page {
        AdminPages::Home => admin::AdminHome().into_any(),
        AdminPages::Staff => admin_staff::StaffPage().into_any(),
        AdminPages::Audit => admin_audit::AuditPage().into_any(),
        AdminPages::Tokens => admin_tokens::TokensPage().into_any(),
        AdminPages::Ingest => admin_ingest::IngestPage().into_any(),
    }
}

/// A route showing `page` of the section loaded by `section`.
macro_rules! lazy_routes {
    ($($route:ident => $section:ident($page:expr)),* $(,)?) => {$(
        #[derive(Debug)]
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                $section($page).await
            }
        }
    )*};
}

lazy_routes! {
    MailboxesRoute => mailboxes_section(MailboxesPages::List),
    AliasesRoute => mailboxes_section(MailboxesPages::Aliases),
    DomainsRoute => mailboxes_section(MailboxesPages::Domains),
    ImportRoute => mailboxes_section(MailboxesPages::Import),
    TraceRoute => mailboxes_section(MailboxesPages::Trace),
    MailboxRoute => mailboxes_section(MailboxesPages::Mailbox),
    MailFlowRoute => mailflow_section(MailFlowPages::Defence),
    DetectionRoute => mailflow_section(MailFlowPages::Detection),
    UnclassifiedRoute => mailflow_section(MailFlowPages::Unclassified),
    ChartsRoute => charts_section(ChartsPages::Charts),
    ReportRoute => charts_section(ChartsPages::Report),
    AccountRoute => account_section(AccountPages::Account),
    AdminRoute => admin_section(AdminPages::Home),
    StaffRoute => admin_section(AdminPages::Staff),
    AuditRoute => admin_section(AdminPages::Audit),
    TokensRoute => admin_section(AdminPages::Tokens),
    IngestRoute => admin_section(AdminPages::Ingest),
}

/// Provides the signed-in user to everything inside the router.
#[component]
fn SessionScope(children: Children) -> impl IntoView {
    provide_current_user();
    children()
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The browser reads the language and time zone back from `<html>`.
    let locale = i18n::current_locale();
    let (lang, zone) = i18n::html_attributes(&locale);
    // Until the page's code has loaded and taken over (`frontend`'s
    // `hydrate` removes it), a note says it is still loading.
    let loading = locale.texts::<i18n::common::Common>().page_loading();
    // The browser reads its texts from the page (see `page_texts_json`).
    #[cfg(feature = "ssr")]
    let texts = i18n::page_texts_json(locale.lang);
    #[cfg(not(feature = "ssr"))]
    let texts = "";
    view! {
        <!DOCTYPE html>
        <html lang=lang data-zone=zone>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
                <script type="application/json" id=i18n::PAGE_TEXTS_ID nonce=leptos::nonce::use_nonce() inner_html=texts />
                <noscript>
                    <style>"body[data-loading]::after { display: none; }"</style>
                </noscript>
            </head>
            <body data-loading=loading>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    i18n::provide_locale();
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
                        <Route path=path!("/mailflow/unclassified") view={Lazy::<UnclassifiedRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/charts") view={Lazy::<ChartsRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/charts/report") view={Lazy::<ReportRoute>::new()} ssr=ssr.clone() />
                        <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} ssr=ssr.clone() />
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
