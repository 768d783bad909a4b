//! API tokens (admins): issue one with a role for a script or another
//! system, see when each was last used, revoke it.

use crate::api::provision::{IssueToken, RevokeToken, list_tokens};
use crate::components::notice::ActionError;
use crate::components::page::{DataTable, Loaded, Page, SubmitRow, submissions};
use crate::components::request_form::ConfirmedSubmit;
use crate::i18n::{common::Common, use_locale, use_texts};
use crate::model::{Role, Section};
use leptos::prelude::*;

crate::texts! {
    /// The API tokens page (and the server's messages about tokens).
    pub struct TokensTexts {
        title = "API tokens", "Tokens de API";
        intro_use = "Scripts and other systems use the REST API under", "Scripts e outros sistemas usam a API REST em";
        intro_described = "(described at", "(descrita em";
        intro_with = ") with", ") com";
        intro_role = ". A token acts with one role; every change it makes is in the audit log as", ". Um token age com um papel; cada alteração que ele faz fica no registro de auditoria como";
        intro_revoked = ". Disabling a staff account revokes the tokens it issued.", ". Desativar uma conta da equipe revoga os tokens que ela emitiu.";
        issue_heading = "Issue a token", "Emitir um token";
        token_for = "Token for", "Token de";
        shown_once = "Copy it now: it is shown only once.", "Copie-o agora: ele é mostrado só uma vez.";
        name_label = "Name (who or what uses it)", "Nome (quem ou o que o usa)";
        role = "Role", "Papel";
        days_label = "Valid for (days, 0 = until revoked)", "Validade (dias, 0 = até ser revogado)";
        issue = "Issue token", "Emitir token";
        list_heading = "Tokens", "Tokens";
        col_name = "Name", "Nome";
        col_prefix = "Starts with", "Começa com";
        col_issued = "Issued", "Emitido";
        col_expires = "Expires", "Expira";
        col_used = "Last used", "Último uso";
        none = "No tokens issued.", "Nenhum token emitido.";
        never = "never", "nunca";
        revoke = "Revoke", "Revogar";
        revoked = "revoked", "revogado";
        days_range = "Enter a whole number of days from 0 (no expiry) to 3650.", "Informe um número inteiro de dias, de 0 (sem validade) a 3650.";
        name_length = "Give the token a name of 1 to 128 characters (who or what uses it).", "Dê ao token um nome de 1 a 128 caracteres (quem ou o que o usa).";
    }
    formats {
        by(who: &str) = format!("by {who}"), format!("por {who}");
        ask_revoke(name: &str) = format!("Revoke the token {name}? Calls with it fail at once."), format!("Revogar o token {name}? As chamadas com ele falham na hora.");
    }
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let title = use_texts::<TokensTexts>().title();
    view! { <Page title section=Section::Admin children=|_| view! { <Tokens /> } /> }
}

#[component]
fn Tokens() -> impl IntoView {
    let (t, common) = (use_texts::<TokensTexts>(), use_texts::<Common>());
    let issue = ServerAction::<IssueToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || submissions([issue.version(), revoke.version()]),
        |_| list_tokens(),
    );
    let fmt = move |at: Option<chrono::DateTime<chrono::Utc>>, none: &str| {
        at.map(|at| use_locale().datetime(at.timestamp()))
            .unwrap_or_else(|| none.to_string())
    };
    let field_error = move |field: &'static str| {
        move || {
            issue.value().with(|r| match r {
                Some(Err(e)) => e.field_message(field).map(|m| {
                    view! { <span class="field-error" role="alert" data-field=field>{m.to_string()}</span> }
                }),
                _ => None,
            })
        }
    };

    view! {
        <h1>{t.title()}</h1>
        <p>
            {t.intro_use()} " " <code>"/api/v1/"</code> " " {t.intro_described()} " "
            <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a> {t.intro_with()} " "
            <code>"Authorization: Bearer <token>"</code> {t.intro_role()} " "
            <code>"api:<name>"</code> {t.intro_revoked()}
        </p>
        <section class="panel">
            <h2>{t.issue_heading()}</h2>
            {move || issue.value().get().and_then(|r| r.ok()).map(|tok| view! {
                <div class="notice secret" role="status">
                    <p>{t.token_for()} " " <strong>{tok.name}</strong> ". " {t.shown_once()}</p>
                    <code class="secret-value" data-testid="one-time-token">{tok.token}</code>
                </div>
            })}
            {move || issue.value().with(|r| matches!(r, Some(Err(e)) if e.field_message("name").is_none() && e.field_message("days").is_none() && e.field_message("role").is_none()))
                .then(|| view! { <ActionError result=issue.value() /> })}
            <ActionForm action=issue attr:class="grid-form">
                <label>
                    {t.name_label()}
                    <input type="text" name="name" required maxlength="128" placeholder="crm-integration" />
                    {field_error("name")}
                </label>
                <label>
                    {t.role()}
                    <select name="role">
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == Role::Support>{common.role(r)}</option> }).collect_view()}
                    </select>
                    {field_error("role")}
                </label>
                <label>
                    {t.days_label()}
                    <input type="number" min="0" max="3650" step="1" inputmode="numeric" name="days" value="365" />
                    {field_error("days")}
                </label>
                <SubmitRow label=t.issue() />
            </ActionForm>
        </section>
        <section class="panel">
            <h2>{t.list_heading()}</h2>
            <ActionError result=revoke.value() />
            <Loaded resource=tokens children=move |list| view! {
                <div class="table-scroll">
                <DataTable rows=list head=vec![t.col_name(), t.role(), t.col_prefix(), t.col_issued(), t.col_expires(), t.col_used(), "Status"]
                    empty=t.none() row=move |tok| {
                        let ask = t.ask_revoke(&tok.name);
                        let live = tok.revoked_at.is_none();
                        let role = tok.role.parse::<Role>().map(|r| common.role(r).to_string()).unwrap_or_else(|_| tok.role.clone());
                        view! {
                            <tr class:inactive=!live>
                                <td>{tok.name.clone()}<br /><span class="muted">{t.by(&tok.created_by)}</span></td>
                                <td>{role}</td>
                                <td><code>{tok.prefix.clone()} "…"</code></td>
                                <td class="nowrap">{fmt(Some(tok.created_at), "")}</td>
                                <td class="nowrap">{fmt(tok.expires_at, t.never())}</td>
                                <td class="nowrap">{fmt(tok.last_used_at, t.never())}</td>
                                <td>
                                    {if live {
                                        view! {
                                            <ActionForm action=revoke attr:class="inline">
                                                <ConfirmedSubmit name="id" value=tok.id.to_string() label=t.revoke() ask />
                                            </ActionForm>
                                        }.into_any()
                                    } else {
                                        view! { <span class="badge off">{t.revoked()}</span> }.into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    }
                />
                </div>
            } />
        </section>
    }
}
