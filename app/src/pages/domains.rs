//! Domains (admins): the domains we host with their limits, alias domains,
//! catch-alls; switching a domain off makes Postfix refuse its mail.

use crate::api::provision::list_domains;
use crate::components::page::{DataTable, Loaded, Page, SubmitRow, submissions};
use crate::components::request_form::{ConfirmedSubmit, Field, RequestOutcome};
use crate::components::subnav::MailboxesNav;
use crate::model::Section;
use crate::provision::DomainView;
use crate::provision::domain_alias_create::CreateAliasDomain;
use crate::provision::domain_create::CreateDomain;
use crate::provision::domain_delete::DeleteDomain;
use crate::provision::domain_update::UpdateDomain;
use leptos::prelude::*;

#[component]
pub fn DomainsPage() -> impl IntoView {
    view! { <Page title="Domains" section=Section::Admin children=|_| view! { <Domains /> } /> }
}

#[component]
fn Domains() -> impl IntoView {
    let create = ServerAction::<CreateDomain>::new();
    let alias = ServerAction::<CreateAliasDomain>::new();
    let update = ServerAction::<UpdateDomain>::new();
    let delete = ServerAction::<DeleteDomain>::new();
    let domains = Resource::new(
        move || {
            submissions([
                create.version(),
                alias.version(),
                update.version(),
                delete.version(),
            ])
        },
        |_| list_domains(true),
    );
    let created = create.value();
    let aliased = alias.value();

    view! {
        <h1>"Domains"</h1>
        <MailboxesNav />
        <div class="columns">
            <section class="panel">
                <h2>"New domain"</h2>
                <RequestOutcome result=created />
                <ActionForm action=create attr:class="grid-form">
                    <Field label="Domain" result=created field="name">
                        <input type="text" name="request[name]" required placeholder="exemplo.com.br (IDN allowed)" />
                    </Field>
                    <Field label="Description" result=created field="description">
                        <input type="text" name="request[description]" />
                    </Field>
                    <LimitFields result=created d=None />
                    <SubmitRow label="Add domain" />
                </ActionForm>
            </section>
            <section class="panel">
                <h2>"New alias domain"</h2>
                <p class="muted">"Every address of the domain it mirrors also works at the alias domain."</p>
                <RequestOutcome result=aliased />
                <ActionForm action=alias attr:class="grid-form">
                    <Field label="Alias domain" result=aliased field="name">
                        <input type="text" name="request[name]" required placeholder="exemplo.net" />
                    </Field>
                    <Field label="Mirrors" result=aliased field="target">
                        <input type="text" name="request[target]" required placeholder="exemplo.com.br" />
                    </Field>
                    <SubmitRow label="Add alias domain" />
                </ActionForm>
            </section>
        </div>
        <section class="panel">
            <h2>"Our domains"</h2>
            <RequestOutcome result=update.value() show_fields=true />
            <RequestOutcome result=delete.value() show_fields=true />
            <Loaded resource=domains let:list>
                <DomainTable list update delete />
            </Loaded>
        </section>
    }
}

/// The four limit fields of the create and edit forms.
#[component]
fn LimitFields(
    #[prop(into)] result: Signal<
        Option<Result<crate::provision::RequestDone, crate::errors::AppError>>,
    >,
    d: Option<DomainView>,
) -> impl IntoView {
    let limits: [(&str, &str, Option<i64>); 3] = [
        (
            "Most mailboxes (empty: no limit)",
            "max_mailboxes",
            d.as_ref().map(|d| d.max_mailboxes.into()),
        ),
        (
            "Most aliases (empty: no limit)",
            "max_aliases",
            d.as_ref().map(|d| d.max_aliases.into()),
        ),
        (
            "Largest quota per mailbox, MB (empty: no limit)",
            "max_quota_mb",
            d.as_ref().map(|d| d.max_quota_mb),
        ),
    ];
    let default_quota = d.map_or_else(|| "1024".into(), |d| d.default_quota_mb.to_string());
    let limit_fields = limits
        .into_iter()
        .map(|(label, field, limit)| {
            // No limit (0) shows as an empty field.
            let value = limit.filter(|v| *v > 0).map(|v| v.to_string()).unwrap_or_default();
            view! {
                <Field label result field>
                    <input type="text" inputmode="numeric" name=format!("request[{field}]") value=value />
                </Field>
            }
        })
        .collect_view();
    view! {
        {limit_fields}
        <Field label="Default quota, MB" result=result field="default_quota_mb">
            <input
                type="text"
                inputmode="numeric"
                name="request[default_quota_mb]"
                required
                value=default_quota
            />
        </Field>
    }
}

#[component]
fn DomainTable(
    list: Vec<DomainView>,
    update: ServerAction<UpdateDomain>,
    delete: ServerAction<DeleteDomain>,
) -> impl IntoView {
    let limit = |n: i64| {
        if n == 0 {
            "—".to_string()
        } else {
            n.to_string()
        }
    };
    view! {
        <DataTable rows=list head=&["Domain", "Mailboxes", "Aliases", "Quota default / most (MB)", "Catch-all", "Change"]
            num=&["Mailboxes", "Aliases"] empty="No domains yet." row=move |d| {
                let ask = format!("Delete the domain {}?", d.display_name);
                let alias_of = d.alias_of.clone();
                let (edit, name, name2) = (d.clone(), d.name.clone(), d.name.clone());
                view! {
                    <tr class:inactive=!d.active data-domain=d.name.clone()>
                        <td>
                            <strong>{d.display_name.clone()}</strong>
                            {(d.display_name != d.name).then(|| view! { <br /><code class="muted">{d.name.clone()}</code> })}
                            {d.warning.clone().map(|w| view! { <br /><span class="error-text" role="note" title=w.clone()>"Mixed scripts: can pass for another name"</span> })}
                            {alias_of.clone().map(|t| view! { <br /><span class="muted">"alias of " {t}</span> })}
                            {(!d.active).then(|| view! { " " <span class="badge off">"off"</span> })}
                        </td>
                        {if alias_of.is_some() {
                            view! {
                                <td class="num">"—"</td>
                                <td class="num">"—"</td>
                                <td>"as the domain it mirrors"</td>
                            }
                            .into_any()
                        } else {
                            view! {
                                <td class="num">{d.mailboxes} " / " {limit(d.max_mailboxes.into())}</td>
                                <td class="num">{d.aliases} " / " {limit(d.max_aliases.into())}</td>
                                <td>{d.default_quota_mb} " / " {limit(d.max_quota_mb)}</td>
                            }
                            .into_any()
                        }}
                        <td>{d.catch_all.clone().unwrap_or_else(|| "—".into())}</td>
                        <td class="actions">
                            <details>
                                <summary>"Edit"</summary>
                                <ActionForm action=update attr:class="grid-form">
                                    <input type="hidden" name="request[name]" value=name.clone() />
                                    <label>
                                        "Description" <input type="text" name="request[description]" value=edit.description.clone() />
                                    </label>
                                    <LimitFields result=update.value() d=Some(edit.clone()) />
                                    <Field label="Catch-all (empty: unknown addresses are refused)" result=update.value() field="catch_all">
                                        <input type="text" name="request[catch_all]" value=edit.catch_all.clone().unwrap_or_default() disabled=edit.alias_of.is_some() />
                                    </Field>
                                    <label class="check">
                                        <input type="checkbox" name="request[active]" value="true" checked=edit.active />
                                        "Active (Postfix accepts its mail)"
                                    </label>
                                    <SubmitRow label="Save" />
                                </ActionForm>
                            </details>
                            <ActionForm action=delete attr:class="inline">
                                <ConfirmedSubmit name="request[name]" value=name2.clone() label="Delete" ask />
                            </ActionForm>
                        </td>
                    </tr>
                }
            }
        />
    }
    .into_any()
}
