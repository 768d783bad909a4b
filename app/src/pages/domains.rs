//! Domains (admins): the domains we host with their limits, alias domains,
//! catch-alls; switching a domain off makes Postfix refuse its mail.

use crate::api::provision::list_domains;
use crate::components::page::{DataTable, Loaded, Page, SubmitRow, submissions};
use crate::components::request_form::{
    ConfirmedSubmit, Field, RequestOutcome, RowEdits, RowOutcome,
};
use crate::components::subnav::MailboxesNav;
use crate::i18n::{common::Common, use_texts};
use crate::model::Section;
use crate::provision::DomainView;
use crate::provision::domain_alias_create::CreateAliasDomain;
use crate::provision::domain_create::CreateDomain;
use crate::provision::domain_delete::DeleteDomain;
use crate::provision::domain_update::UpdateDomain;
use leptos::prelude::*;

crate::texts! {
    /// The domains page.
    pub struct DomainsTexts {
        title = "Domains", "Domínios";
        new_domain = "New domain", "Novo domínio";
        domain = "Domain", "Domínio";
        domain_placeholder = "exemplo.com.br (IDN allowed)", "exemplo.com.br (IDN permitido)";
        description = "Description", "Descrição";
        add_domain = "Add domain", "Adicionar domínio";
        new_alias_domain = "New alias domain", "Novo domínio alias";
        alias_domain_intro = "Every address of the domain it mirrors also works at the alias domain.", "Todo endereço do domínio espelhado também funciona no domínio alias.";
        alias_domain = "Alias domain", "Domínio alias";
        mirrors = "Mirrors", "Espelha";
        add_alias_domain = "Add alias domain", "Adicionar domínio alias";
        our_domains = "Our domains", "Nossos domínios";
        max_mailboxes = "Most mailboxes (empty: no limit)", "Máximo de caixas postais (vazio: sem limite)";
        max_aliases = "Most aliases (empty: no limit)", "Máximo de aliases (vazio: sem limite)";
        max_quota = "Largest quota per mailbox, MB (empty: no limit)", "Maior cota por caixa postal, MB (vazio: sem limite)";
        default_quota = "Default quota, MB", "Cota padrão, MB";
        col_mailboxes = "Mailboxes", "Caixas postais";
        col_aliases = "Aliases", "Aliases";
        col_quota = "Quota default / most (MB)", "Cota padrão / máxima (MB)";
        col_catch_all = "Catch-all", "Catch-all";
        col_change = "Change", "Alterar";
        none = "No domains yet.", "Nenhum domínio ainda.";
        mixed_scripts = "Mixed scripts: can pass for another name", "Alfabetos misturados: pode se passar por outro nome";
        alias_of = "alias of", "alias de";
        off = "off", "desativado";
        as_mirrored = "as the domain it mirrors", "como o domínio espelhado";
        catch_all_label = "Catch-all (empty: unknown addresses are refused)", "Catch-all (vazio: endereços desconhecidos são recusados)";
        active_label = "Active (Postfix accepts its mail)", "Ativo (o Postfix aceita o e-mail dele)";
    }
    formats {
        ask_delete(name: &str) = format!("Delete the domain {name}?"), format!("Excluir o domínio {name}?");
    }
}

#[component]
pub fn DomainsPage() -> impl IntoView {
    let title = use_texts::<DomainsTexts>().title();
    view! { <Page title section=Section::Admin children=|_| view! { <Domains /> } /> }
}

#[component]
fn Domains() -> impl IntoView {
    let create = ServerAction::<CreateDomain>::new();
    let alias = ServerAction::<CreateAliasDomain>::new();
    let update = ServerAction::<UpdateDomain>::new();
    let delete = ServerAction::<DeleteDomain>::new();
    // Which row's inline edit was sent last: held by the page, so a reload
    // of the list (after every submission) keeps its outcome on its row.
    let (updates, deletes) = (RowEdits::new(update.value()), RowEdits::new(delete.value()));
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
    let t = use_texts::<DomainsTexts>();

    view! {
        <h1>{t.title()}</h1>
        <MailboxesNav />
        <div class="columns">
            <section class="panel">
                <h2>{t.new_domain()}</h2>
                <RequestOutcome result=created />
                <ActionForm action=create attr:class="grid-form">
                    <Field label=t.domain() result=created field="name">
                        <input type="text" name="request[name]" required placeholder=t.domain_placeholder() />
                    </Field>
                    <Field label=t.description() result=created field="description">
                        <input type="text" name="request[description]" />
                    </Field>
                    <LimitFields result=created d=None />
                    <SubmitRow label=t.add_domain() />
                </ActionForm>
            </section>
            <section class="panel">
                <h2>{t.new_alias_domain()}</h2>
                <p class="muted">{t.alias_domain_intro()}</p>
                <RequestOutcome result=aliased />
                <ActionForm action=alias attr:class="grid-form">
                    <Field label=t.alias_domain() result=aliased field="name">
                        <input type="text" name="request[name]" required placeholder="exemplo.net" />
                    </Field>
                    <Field label=t.mirrors() result=aliased field="target">
                        <input type="text" name="request[target]" required placeholder="exemplo.com.br" />
                    </Field>
                    <SubmitRow label=t.add_alias_domain() />
                </ActionForm>
            </section>
        </div>
        <section class="panel">
            <h2>{t.our_domains()}</h2>
            <Loaded resource=domains let:list>
                <DomainTable list update delete updates deletes />
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
    let t = use_texts::<DomainsTexts>();
    let limits: [(&str, &str, Option<i64>); 3] = [
        (
            t.max_mailboxes(),
            "max_mailboxes",
            d.as_ref().map(|d| d.max_mailboxes.into()),
        ),
        (
            t.max_aliases(),
            "max_aliases",
            d.as_ref().map(|d| d.max_aliases.into()),
        ),
        (
            t.max_quota(),
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
        <Field label=t.default_quota() result=result field="default_quota_mb">
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
    updates: RowEdits,
    deletes: RowEdits,
) -> impl IntoView {
    let limit = |n: i64| {
        if n == 0 {
            "—".to_string()
        } else {
            n.to_string()
        }
    };
    let (t, common) = (use_texts::<DomainsTexts>(), use_texts::<Common>());
    view! {
        <div class="table-scroll">
        <DataTable rows=list head=vec![t.domain(), t.col_mailboxes(), t.col_aliases(), t.col_quota(), t.col_catch_all(), t.col_change()]
            num=vec![t.col_mailboxes(), t.col_aliases()] empty=t.none() row=move |d| {
                let ask = t.ask_delete(&d.display_name);
                let alias_of = d.alias_of.clone();
                let (edit, name, name2) = (d.clone(), d.name.clone(), d.name.clone());
                let form = NodeRef::<leptos::html::Form>::new();
                view! {
                    <tr class:inactive=!d.active data-domain=d.name.clone()>
                        <td>
                            <strong>{d.display_name.clone()}</strong>
                            {(d.display_name != d.name).then(|| view! { <br /><code class="muted">{d.name.clone()}</code> })}
                            {d.warning.clone().map(|w| view! { <br /><span class="error-text" role="note" title=w.clone()>{t.mixed_scripts()}</span> })}
                            {alias_of.clone().map(|target| view! { <br /><span class="muted">{t.alias_of()} " " {target}</span> })}
                            {(!d.active).then(|| view! { " " <span class="badge off">{t.off()}</span> })}
                        </td>
                        {if alias_of.is_some() {
                            view! {
                                <td class="num">"—"</td>
                                <td class="num">"—"</td>
                                <td>{t.as_mirrored()}</td>
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
                        <td class="actions" on:submit=updates.submitted(d.name.clone())>
                            <details>
                                <summary>{common.edit()}</summary>
                                <ActionForm action=update node_ref=form attr:class="grid-form">
                                    <input type="hidden" name="request[name]" value=name.clone() />
                                    <label>
                                        {t.description()} <input type="text" name="request[description]" value=edit.description.clone() />
                                    </label>
                                    <LimitFields result=update.value() d=Some(edit.clone()) />
                                    <Field label=t.catch_all_label() result=update.value() field="catch_all">
                                        <input type="text" name="request[catch_all]" value=edit.catch_all.clone().unwrap_or_default() disabled=edit.alias_of.is_some() />
                                    </Field>
                                    <label class="check">
                                        <input type="checkbox" name="request[active]" value="true" checked=edit.active />
                                        {t.active_label()}
                                    </label>
                                    <SubmitRow label=common.save() />
                                </ActionForm>
                            </details>
                            <RowOutcome edits=updates key=d.name.clone() form />
                            <span on:submit=deletes.submitted(d.name.clone())>
                                <ActionForm action=delete attr:class="inline">
                                    <ConfirmedSubmit name="request[name]" value=name2.clone() label=common.delete() ask />
                                </ActionForm>
                            </span>
                            <RowOutcome edits=deletes key=d.name.clone() />
                        </td>
                    </tr>
                }
            }
        />
        </div>
    }
    .into_any()
}
