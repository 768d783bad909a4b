//! Aliases: find them by address prefix, create one (one address, many
//! targets), change targets or switch one off, delete one nothing points to.

use super::mailboxes::{DomainOptions, encode};
use crate::api::provision::{list_domains, search_aliases};
use crate::components::page::{
    Loaded, Page, SearchForm, SubmitRow, param, submissions, url_search,
};
use crate::components::request_form::{
    ConfirmedSubmit, Field, RequestOutcome, RowEdits, RowOutcome, cleared_on_success,
};
use crate::components::subnav::MailboxesNav;
use crate::i18n::{common::Common, use_texts};
use crate::model::Section;
use crate::provision::AliasView;
use crate::provision::alias_create::CreateAlias;
use crate::provision::alias_delete::DeleteAlias;
use crate::provision::alias_update::UpdateAlias;
use leptos::prelude::*;

crate::texts! {
    /// The aliases page.
    pub struct AliasesTexts {
        title = "Aliases", "Aliases";
        new_alias = "New alias", "Novo alias";
        address = "Address", "Endereço";
        delivers_to = "Delivers to", "Entrega para";
        description = "Description", "Descrição";
        create = "Create alias", "Criar alias";
        find = "Find", "Encontrar";
        find_placeholder = "start of the address", "início do endereço";
        domain = "Domain", "Domínio";
        all_domains = "All domains", "Todos os domínios";
        next_page = "Next page →", "Próxima página →";
        col_alias = "Alias", "Alias";
        col_actions = "Actions", "Ações";
        none = "No alias matches.", "Nenhum alias corresponde.";
        on = "On", "Ativo";
    }
    formats {
        targets_of(address: &str) = format!("Targets of {address}"), format!("Destinos de {address}");
        ask_delete(address: &str) = format!("Delete the alias {address}?"), format!("Excluir o alias {address}?");
    }
}

#[component]
pub fn AliasesPage() -> impl IntoView {
    let title = use_texts::<AliasesTexts>().title();
    view! { <Page title section=Section::Mailboxes children=|_| view! { <Aliases /> } /> }
}

#[component]
fn Aliases() -> impl IntoView {
    let (t, common) = (use_texts::<AliasesTexts>(), use_texts::<Common>());
    let query = url_search(|p| {
        let after = p.get("after").filter(|a| !a.is_empty());
        (param(p, "q"), param(p, "domain"), after)
    });
    let create = ServerAction::<CreateAlias>::new();
    let update = ServerAction::<UpdateAlias>::new();
    let delete = ServerAction::<DeleteAlias>::new();
    // Which row's inline edit was sent last: held by the page, so the list
    // made anew after each submission keeps its outcome on its row.
    let (updates, deletes) = (RowEdits::new(update.value()), RowEdits::new(delete.value()));
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
        <h1>{t.title()}</h1>
        <MailboxesNav />
        <section class="panel">
            <h2>{t.new_alias()}</h2>
            <RequestOutcome result=created />
            <ActionForm action=create node_ref=form attr:class="grid-form">
                <Field label=t.address() result=created field="address">
                    <input type="text" name="request[address]" required placeholder="vendas@exemplo.com.br" autocomplete="off" />
                </Field>
                <Field label=t.delivers_to() result=created field="targets">
                    <textarea name="request[targets]" rows="2" required placeholder="ana@exemplo.com.br, joao@exemplo.com.br"></textarea>
                </Field>
                <Field label=t.description() result=created field="description">
                    <input type="text" name="request[description]" autocomplete="off" />
                </Field>
                <SubmitRow label=t.create() disabled=move || create.pending().get() />
            </ActionForm>
        </section>
        <section class="panel">
            <SearchForm button=common.search()>
                <label class="grow">
                    {t.find()} <input type="search" name="q" value=q placeholder=t.find_placeholder() />
                </label>
                <label>
                    {t.domain()}
                    <select name="domain">
                        <option value="">{t.all_domains()}</option>
                        <DomainOptions domains selected=domain />
                    </select>
                </label>
            </SearchForm>
            <Loaded resource=results loading=common.searching() children=move |page| {
                let (q, d, _) = query.get_untracked();
                let next = page.next.map(|n| {
                    format!("/mailboxes/aliases?q={}&domain={}&after={}", encode(&q), encode(&d), encode(&n))
                });
                view! {
                    <AliasTable rows=page.rows update delete updates deletes />
                    {next.map(|href| view! { <p class="pager"><a href=href>{t.next_page()}</a></p> })}
                }
            } />
        </section>
    }
}

/// Loads of the alias list so far (see [`AliasTable`]).
static LOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[component]
fn AliasTable(
    rows: Vec<AliasView>,
    update: ServerAction<UpdateAlias>,
    delete: ServerAction<DeleteAlias>,
    updates: RowEdits,
    deletes: RowEdits,
) -> impl IntoView {
    let (t, common) = (use_texts::<AliasesTexts>(), use_texts::<Common>());
    if rows.is_empty() {
        return view! { <p class="muted">{t.none()}</p> }.into_any();
    }
    // Each load of the list makes its rows anew (keyed by the load): a row
    // patched in place kept the targets of the alias that had been in its
    // place in its textarea, which a Save would have written to this one.
    let load = LOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let row = move |a: AliasView| {
        let form_id = format!("alias-{}", a.address);
        let (address, address2) = (a.address.clone(), a.address.clone());
        let (description, targets, active) =
            (a.description.clone(), a.targets.join(", "), a.active);
        let ask = t.ask_delete(&a.address);
        let form = NodeRef::<leptos::html::Form>::new();
        view! {
            <tr class:inactive=!a.active data-alias=a.address.clone()>
                <td>
                    <strong>{a.display_address.clone()}</strong>
                    <br />
                    <span class="muted">{a.description.clone()}</span>
                </td>
                <td on:submit=updates.submitted(a.address.clone())>
                    <ActionForm action=update node_ref=form attr:class="inline alias-form" attr:id=form_id>
                        <input type="hidden" name="request[address]" value=address.clone() />
                        <input type="hidden" name="request[description]" value=description.clone() />
                        <textarea name="request[targets]" rows="1" aria-label=t.targets_of(&address)>
                            {targets.clone()}
                        </textarea>
                        <label class="check">
                            <input type="checkbox" name="request[active]" value="true" checked=active />
                            {t.on()}
                        </label>
                        <button type="submit" class="small">{common.save()}</button>
                    </ActionForm>
                    <RowOutcome edits=updates key=a.address.clone() form />
                </td>
                <td class="actions" on:submit=deletes.submitted(a.address.clone())>
                    <ActionForm action=delete attr:class="inline">
                        <ConfirmedSubmit name="request[address]" value=address2.clone() label=common.delete() ask />
                    </ActionForm>
                    <RowOutcome edits=deletes key=a.address.clone() />
                </td>
            </tr>
        }
    };
    view! {
        <div class="table-scroll">
            <table class="data">
                <thead>
                    <tr><th>{t.col_alias()}</th><th>{t.delivers_to()}</th><th>{t.col_actions()}</th></tr>
                </thead>
                <tbody>
                    <For
                        each=move || rows.clone()
                        key=move |a| (load, a.address.clone())
                        children=row
                    />
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
