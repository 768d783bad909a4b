//! The admin section's landing page.

use crate::components::page::{Cards, Page};
use crate::model::Section;
use leptos::prelude::*;

/// Each admin page: where it is, its name, what it is for.
const CARDS: [(&str, &str, &str); 5] = [
    (
        "/admin/staff",
        "Staff",
        "Create staff accounts, change roles, disable accounts, reset passwords.",
    ),
    (
        "/admin/audit",
        "Audit log",
        "Every change anyone made: who, when, what, before and after, from where.",
    ),
    (
        "/mailboxes/domains",
        "Domains",
        "The domains we host mail for: limits, default quotas, alias domains, catch-alls.",
    ),
    (
        "/admin/tokens",
        "API tokens",
        "Tokens for scripts and other systems using the provisioning REST API.",
    ),
    (
        "/admin/ingest",
        "MailFlow ingest",
        "Postfix log sources: state, lag, lines per second, errors, imported files.",
    ),
];

#[component]
pub fn AdminHome() -> impl IntoView {
    view! {
        <Page title="Admin" section=Section::Admin children=|_| view! {
            <h1>"Admin"</h1>
            <Cards cards=CARDS.to_vec() />
        } />
    }
}
