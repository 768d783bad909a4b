//! The admin section's landing page.

use crate::components::guard::Guarded;
use crate::model::Section;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminHome() -> impl IntoView {
    view! {
        <Title text="Admin" />
        <Guarded
            section=Section::Admin
            children=|_| {
                view! {
                    <h1>"Admin"</h1>
                    <div class="cards">
                        <a class="card" href="/admin/staff">
                            <h2>"Staff"</h2>
                            <p>"Create staff accounts, change roles, disable accounts, reset passwords."</p>
                        </a>
                        <a class="card" href="/admin/audit">
                            <h2>"Audit log"</h2>
                            <p>"Every change anyone made: who, when, what, before and after, from where."</p>
                        </a>
                        <a class="card" href="/mailboxes/domains">
                            <h2>"Domains"</h2>
                            <p>"The domains we host mail for: limits, default quotas, alias domains, catch-alls."</p>
                        </a>
                        <a class="card" href="/admin/tokens">
                            <h2>"API tokens"</h2>
                            <p>"Tokens for scripts and other systems using the provisioning REST API."</p>
                        </a>
                        <a class="card" href="/admin/ingest">
                            <h2>"MailFlow ingest"</h2>
                            <p>"Postfix log sources: state, lag, lines per second, errors, imported files."</p>
                        </a>
                    </div>
                }
            }
        />
    }
}
