//! Aliases: find them by address prefix, create one (one address, many
//! targets), change targets or switch one off, delete one nothing points to.

use super::mailboxes::{DomainOptions, encode};
use crate::api::provision::{list_domains, search_aliases};
use crate::components::page::{
    DataTable, Loaded, Page, SearchForm, SubmitRow, param, submissions, url_search,
};
use crate::components::request_form::{ConfirmedSubmit, Field, RequestOutcome, cleared_on_success};
use crate::components::subnav::MailboxesNav;
use crate::model::Section;
use crate::provision::AliasView;
use crate::provision::alias_create::CreateAlias;
use crate::provision::alias_delete::DeleteAlias;
use crate::provision::alias_update::UpdateAlias;
use leptos::prelude::*;

#[component]
pub fn AliasesPage() -> impl IntoView {
    view! { <Page title="Aliases" section=Section::Mailboxes children=|_| view! { <Aliases /> } /> }
}

#[component]
fn Aliases() -> impl IntoView {
    let query = url_search(|p| {
        let after = p.get("after").filter(|a| !a.is_empty());
        (param(p, "q"), param(p, "domain"), after)
    });
    let create = ServerAction::<CreateAlias>::new();
    let update = ServerAction::<UpdateAlias>::new();
    let delete = ServerAction::<DeleteAlias>::new();
    let results = Resource::new(
        move || {
            (
                query.get(),
                submissions([create.version(), update.version(), delete.version()]),
            )
        },
        |((q, d, after), _)| search_aliases(q, d, after),
    );
    let domains = Resource::new(|| (), |_| list_domains(false));
    let (q, domain, _) = query.get_untracked();
    let created = create.value();
    let form = cleared_on_success(move || created.get());

    view! {
        <h1>"Aliases"</h1>
        <MailboxesNav />
        <section class="panel">
            <h2>"New alias"</h2>
            <RequestOutcome result=created />
            <ActionForm action=create node_ref=form attr:class="grid-form">
                <Field label="Address" result=created field="address">
                    <input type="text" name="request[address]" required placeholder="vendas@exemplo.com.br" autocomplete="off" />
                </Field>
                <Field label="Delivers to" result=created field="targets">
                    <textarea name="request[targets]" rows="2" required placeholder="ana@exemplo.com.br, joao@exemplo.com.br"></textarea>
                </Field>
                <Field label="Description" result=created field="description">
                    <input type="text" name="request[description]" autocomplete="off" />
                </Field>
                <SubmitRow label="Create alias" disabled=move || create.pending().get() />
            </ActionForm>
        </section>
        <section class="panel">
            <SearchForm button="Search">
                <label class="grow">
                    "Find" <input type="search" name="q" value=q placeholder="start of the address" />
                </label>
                <label>
                    "Domain"
                    <select name="domain">
                        <option value="">"All domains"</option>
                        <DomainOptions domains selected=domain />
                    </select>
                </label>
            </SearchForm>
            <RequestOutcome result=update.value() show_fields=true />
            <RequestOutcome result=delete.value() show_fields=true />
            <Loaded resource=results loading="Searching…" children=move |page| {
                let (q, d, _) = query.get_untracked();
                let next = page.next.map(|n| {
                    format!("/mailboxes/aliases?q={}&domain={}&after={}", encode(&q), encode(&d), encode(&n))
                });
                view! {
                    <AliasTable rows=page.rows update delete />
                    {next.map(|href| view! { <p class="pager"><a href=href>"Next page →"</a></p> })}
                }
            } />
        </section>
    }
}

#[component]
fn AliasTable(
    rows: Vec<AliasView>,
    update: ServerAction<UpdateAlias>,
    delete: ServerAction<DeleteAlias>,
) -> impl IntoView {
    view! {
        <DataTable rows=rows head=&["Alias", "Delivers to", "Actions"]
            empty="No alias matches." row=move |a| {
                let form_id = format!("alias-{}", a.address);
                let (address, address2) = (a.address.clone(), a.address.clone());
                let (description, targets, active) = (a.description.clone(), a.targets.join(", "), a.active);
                let ask = format!("Delete the alias {}?", a.address);
                view! {
                    <tr class:inactive=!a.active data-alias=a.address.clone()>
                        <td>
                            <strong>{a.display_address.clone()}</strong>
                            <br />
                            <span class="muted">{a.description.clone()}</span>
                        </td>
                        <td>
                            <ActionForm action=update attr:class="inline alias-form" attr:id=form_id>
                                <input type="hidden" name="request[address]" value=address.clone() />
                                <input type="hidden" name="request[description]" value=description.clone() />
                                <textarea name="request[targets]" rows="1" aria-label=format!("Targets of {address}")>
                                    {targets.clone()}
                                </textarea>
                                <label class="check">
                                    <input type="checkbox" name="request[active]" value="true" checked=active />
                                    "On"
                                </label>
                                <button type="submit" class="small">"Save"</button>
                            </ActionForm>
                        </td>
                        <td class="actions">
                            <ActionForm action=delete attr:class="inline">
                                <ConfirmedSubmit name="request[address]" value=address2.clone() label="Delete" ask />
                            </ActionForm>
                        </td>
                    </tr>
                }
            }
        />
    }
    .into_any()
}
