//! API tokens (admins): issue one with a role for a script or another
//! system, see when each was last used, revoke it.

use crate::api::provision::{IssueToken, RevokeToken, list_tokens};
use crate::components::notice::ActionError;
use crate::components::page::{DataTable, Loaded, Page, SubmitRow, submissions};
use crate::components::request_form::ConfirmedSubmit;
use crate::model::{Role, Section};
use leptos::prelude::*;

#[component]
pub fn TokensPage() -> impl IntoView {
    view! { <Page title="API tokens" section=Section::Admin children=|_| view! { <Tokens /> } /> }
}

#[component]
fn Tokens() -> impl IntoView {
    let issue = ServerAction::<IssueToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || submissions([issue.version(), revoke.version()]),
        |_| list_tokens(),
    );
    let fmt = |t: Option<chrono::DateTime<chrono::Utc>>, none: &str| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| none.to_string())
    };

    view! {
        <h1>"API tokens"</h1>
        <p>
            "Scripts and other systems use the REST API under " <code>"/api/v1/"</code> " (described at "
            <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a> ") with "
            <code>"Authorization: Bearer <token>"</code> ". A token acts with one role; every change it makes is in the audit log as "
            <code>"api:<name>"</code> ". Disabling a staff account revokes the tokens it issued."
        </p>
        <section class="panel">
            <h2>"Issue a token"</h2>
            {move || issue.value().get().and_then(|r| r.ok()).map(|t| view! {
                <div class="notice secret" role="status">
                    <p>"Token for " <strong>{t.name}</strong> ". Copy it now: it is shown only once."</p>
                    <code class="secret-value" data-testid="one-time-token">{t.token}</code>
                </div>
            })}
            <ActionError result=issue.value() />
            <ActionForm action=issue attr:class="grid-form">
                <label>"Name (who or what uses it)" <input type="text" name="name" required placeholder="crm-integration" /></label>
                <label>
                    "Role"
                    <select name="role">
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == Role::Support>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Valid for (days, 0 = until revoked)" <input type="text" inputmode="numeric" name="days" value="365" /></label>
                <SubmitRow label="Issue token" />
            </ActionForm>
        </section>
        <section class="panel">
            <h2>"Tokens"</h2>
            <ActionError result=revoke.value() />
            <Loaded resource=tokens children=move |list| view! {
                <DataTable rows=list head=&["Name", "Role", "Starts with", "Issued", "Expires", "Last used", "Status"]
                    empty="No tokens issued." row=move |t| {
                        let ask = format!("Revoke the token {}? Calls with it fail at once.", t.name);
                        let live = t.revoked_at.is_none();
                        view! {
                            <tr class:inactive=!live>
                                <td>{t.name.clone()}<br /><span class="muted">{format!("by {}", t.created_by)}</span></td>
                                <td>{t.role.clone()}</td>
                                <td><code>{t.prefix.clone()} "…"</code></td>
                                <td class="nowrap">{fmt(Some(t.created_at), "")}</td>
                                <td class="nowrap">{fmt(t.expires_at, "never")}</td>
                                <td class="nowrap">{fmt(t.last_used_at, "never")}</td>
                                <td>
                                    {if live {
                                        view! {
                                            <ActionForm action=revoke attr:class="inline">
                                                <ConfirmedSubmit name="id" value=t.id.to_string() label="Revoke" ask />
                                            </ActionForm>
                                        }.into_any()
                                    } else {
                                        view! { <span class="badge off">"revoked"</span> }.into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    }
                />
            } />
        </section>
    }
}
