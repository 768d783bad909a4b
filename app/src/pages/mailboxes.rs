//! Support's start page: find a mailbox among millions with one search box
//! (the start of an address, a domain, or any words of the name; the page
//! says how it read the query), by domain and status, 50 per page; and
//! create one. The search is a plain GET form, so a search can be
//! bookmarked or shared.

use crate::api::provision::{list_domains, search_mailboxes};
use crate::components::notice::{ErrorBox, OneTimeSecret, SuccessBox};
use crate::components::page::{DataTable, Loaded, Page, SearchForm, SubmitRow, param, url_search};
use crate::components::request_form::{Field, FieldMessage, PlainPost, cleared_on_success};
use crate::components::subnav::MailboxesNav;
use crate::errors::AppError;
use crate::i18n::{Time, common::Common, use_locale, use_texts};
use crate::model::Section;
use crate::provision::mailbox_create::CreateMailbox;
use crate::provision::{MailboxPage, MailboxStatus, MailboxView, RequestDone, SearchedAs};
use leptos::prelude::*;

crate::texts! {
    /// The mailbox search and the mailbox page's shared words.
    pub struct MailboxesTexts {
        find = "Find", "Buscar";
        find_placeholder = "address, domain or name — e.g. ana17@cliente.com.br, cliente.com.br, pereira", "endereço, domínio ou nome — ex.: ana17@cliente.com.br, cliente.com.br, pereira";
        domain = "Domain", "Domínio";
        all_domains = "All domains", "Todos os domínios";
        status = "Status", "Situação";
        active_and_suspended = "Active and suspended", "Ativas e suspensas";
        status_active = "active", "ativa";
        status_suspended = "suspended", "suspensa";
        status_deleted = "deleted", "excluída";
        col_address = "Address", "Endereço";
        col_name = "Name", "Nome";
        col_status = "Status", "Situação";
        col_quota = "Quota", "Cota";
        col_mail = "Mail", "E-mail";
        col_changed = "Changed", "Alterada";
        no_match = "No mailbox matches.", "Nenhuma caixa postal encontrada.";
        first_page = "← First page", "← Primeira página";
        next_page = "Next page →", "Próxima página →";
        searched_as_address = "Searched as an address (its start).", "Buscado como endereço (o início dele).";
        searched_as_domain = "Searched as a domain: its mailboxes.", "Buscado como domínio: as caixas postais dele.";
        searched_as_name = "Searched as a name (any of its words, accents ignored).", "Buscado como nome (qualquer palavra dele, sem acentos).";
        search_as_address = "Search as an address instead", "Buscar como endereço";
        search_as_name = "Search as a name instead", "Buscar como nome";
        unlimited = "unlimited", "ilimitada";
        sends_and_receives = "sends and receives", "envia e recebe";
        send_only = "send-only", "só envia";
        receive_only = "receive-only", "só recebe";
        neither = "neither sends nor receives", "não envia nem recebe";
        forwards = "forwards", "encaminha";
        forwards_copy = "forwards a copy", "encaminha uma cópia";
        new_mailbox = "New mailbox", "Nova caixa postal";
        address = "Address", "Endereço";
        name = "Name", "Nome";
        password = "Password", "Senha";
        password_placeholder = "Leave empty to generate one", "Deixe vazio para gerar uma";
        quota_mb = "Quota (MB)", "Cota (MB)";
        quota_placeholder = "the domain's default", "o padrão do domínio";
        mail = "Mail", "E-mail";
        send_only_long = "Send-only (no incoming mail)", "Só envia (não recebe e-mail)";
        receive_only_long = "Receive-only (may not send)", "Só recebe (não pode enviar)";
        domains = "Domains:", "Domínios:";
        create = "Create mailbox", "Criar caixa postal";
        fix_fields = "Please correct the fields marked below.", "Corrija os campos marcados abaixo.";
        bad_cursor = "That page link is broken; start the search again.", "Esse link de página está quebrado; comece a busca de novo.";
    }
    formats {
        created(address: &str) = format!("Mailbox {address} created."), format!("Caixa postal {address} criada.");
        open(address: &str) = format!("Open {address} →"), format!("Abrir {address} →");
        alias_domain_note(real: &str) = format!("That is an alias domain of {real}: searched in {real}."), format!("Esse é um domínio alias de {real}: buscado em {real}.");
        query_too_long(max: usize) = format!("The search may be at most {max} characters long."), format!("A busca pode ter no máximo {max} caracteres.");
        status_unknown(s: &str) = format!("Unknown status {s:?}: use active, suspended or deleted."), format!("Situação desconhecida {s:?}: use active, suspended ou deleted.");
        by_unknown(s: &str) = format!("{s:?}: search by address, domain or name."), format!("{s:?}: busque por address, domain ou name.");
        gb(n: &str) = format!("{n} GB"), format!("{n} GB");
        mb(n: &str) = format!("{n} MB"), format!("{n} MB");
    }
}

#[component]
pub fn MailboxesPage() -> impl IntoView {
    let title = use_texts::<Common>().section_mailboxes();
    view! { <Page title=title section=Section::Mailboxes children=|_| view! { <Mailboxes /> } /> }
}

/// The search as it is in the URL.
#[derive(Clone, Debug, Default, PartialEq)]
struct Search {
    q: String,
    /// `address`, `domain` or `name` to override how `q` is read; empty:
    /// the query decides.
    by: String,
    domain: String,
    status: String,
    after: Option<String>,
}

impl Search {
    /// This search's URL, on the page after `after`.
    fn href(&self, after: Option<&str>) -> String {
        let mut url = format!(
            "/mailboxes?q={}&domain={}&status={}",
            encode(&self.q),
            encode(&self.domain),
            encode(&self.status)
        );
        if !self.by.is_empty() {
            url.push_str(&format!("&by={}", encode(&self.by)));
        }
        if let Some(a) = after {
            url.push_str(&format!("&after={}", encode(a)));
        }
        url
    }
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~@".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[component]
fn Mailboxes() -> impl IntoView {
    let t = use_texts::<MailboxesTexts>();
    let common = use_texts::<Common>();
    let search = url_search(|p| Search {
        q: param(p, "q"),
        by: param(p, "by"),
        domain: param(p, "domain"),
        status: param(p, "status"),
        after: p.get("after").filter(|a| !a.is_empty()),
    });
    let create = ServerAction::<CreateMailbox>::new();
    let plain = PlainPost::take();
    plain.outcome(create);
    let results = Resource::new(
        move || (search.get(), create.version().get()),
        |(s, _)| search_mailboxes(s.q, s.by, s.domain, s.status, s.after),
    );
    let domains = Resource::new(|| (), |_| list_domains(false));
    let s = search.get_untracked();
    let statuses = [
        ("", t.active_and_suspended()),
        (MailboxStatus::Active.as_str(), t.status_active()),
        (MailboxStatus::Suspended.as_str(), t.status_suspended()),
        (MailboxStatus::Deleted.as_str(), t.status_deleted()),
    ];

    view! {
        <h1>{common.section_mailboxes()}</h1>
        <MailboxesNav />
        <section class="panel">
            <SearchForm button=common.search()>
                <label class="grow">
                    {t.find()}
                    <input type="search" name="q" value=s.q.clone() placeholder=t.find_placeholder() autofocus />
                </label>
                <label>
                    {t.domain()}
                    <select name="domain">
                        <option value="">{t.all_domains()}</option>
                        <DomainOptions domains selected=s.domain.clone() />
                    </select>
                </label>
                <label>
                    {t.status()}
                    <select name="status">
                        {statuses
                            .into_iter()
                            .map(|(v, l)| view! { <option value=v selected=s.status == v>{l}</option> })
                            .collect_view()}
                    </select>
                </label>
            </SearchForm>
            <Loaded resource=results loading=common.searching() children=move |page| {
                let s = search.get_untracked();
                let next = page.next.as_deref().map(|n| s.href(Some(n)));
                let first = s.after.is_some().then(|| s.href(None));
                view! {
                    <SearchedAsNote page=page.clone() search=s />
                    <MailboxTable rows=page.rows />
                    <p class="pager">
                        {first.map(|href| view! { <a href=href>{t.first_page()}</a> })}
                        {next.map(|href| view! { <a href=href>{t.next_page()}</a> })}
                    </p>
                }
            } />
        </section>
        <CreateMailboxPanel create domains plain />
    }
}

/// How the query was read ("Searched as a name"), with a link to read it
/// the other way, and the domain searched instead of an alias domain.
#[component]
fn SearchedAsNote(page: MailboxPage, search: Search) -> impl IntoView {
    let t = use_texts::<MailboxesTexts>();
    if search.q.trim().is_empty() {
        return ().into_any();
    }
    let (said, other) = match page.searched_as {
        SearchedAs::Address => (t.searched_as_address(), Some(("name", t.search_as_name()))),
        SearchedAs::Domain => (t.searched_as_domain(), None),
        SearchedAs::Name => (
            t.searched_as_name(),
            Some(("address", t.search_as_address())),
        ),
    };
    let other = other
        .filter(|_| !search.q.contains(char::is_whitespace) || search.by == "name")
        .map(|(by, label)| {
            let href = Search {
                by: by.into(),
                after: None,
                ..search.clone()
            }
            .href(None);
            view! { " " <a href=href>{label}</a> }
        });
    view! {
        <p class="muted" data-testid="searched-as">
            {said}
            {page.alias_domain_of.map(|real| view! { " " {t.alias_domain_note(&real)} })}
            {other}
        </p>
    }
    .into_any()
}

/// What a mailbox request did, said by the page in the past tense
/// (`said`), with a generated password to copy; or why it did nothing.
#[component]
pub fn Outcome(answer: Result<RequestDone, AppError>, #[prop(into)] said: String) -> impl IntoView {
    let t = use_texts::<MailboxesTexts>();
    match answer {
        Err(AppError::Fields(_)) => {
            view! { <div class="notice error" role="alert">{t.fix_fields()}</div> }.into_any()
        }
        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
        Ok(done) => {
            let secret = done.secret.map(|secret| {
                view! { <OneTimeSecret username=done.target.clone() password=secret /> }
            });
            view! { <SuccessBox message=said /> {secret} }.into_any()
        }
    }
}

/// `<option>`s of the domains that hold mailboxes (not alias domains).
#[component]
pub fn DomainOptions(
    domains: Resource<Result<Vec<crate::provision::DomainView>, crate::errors::AppError>>,
    #[prop(into)] selected: String,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {
                let selected = selected.clone();
                move || {
                    let selected = selected.clone();
                    Suspend::new(async move {
                        domains
                            .await
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|d| d.alias_of.is_none())
                            .map(|d| {
                                let is = d.name == selected;
                                view! { <option value=d.name.clone() selected=is>{d.display_name}</option> }
                            })
                            .collect_view()
                    })
                }
            }
        </Transition>
    }
}

#[component]
fn MailboxTable(rows: Vec<MailboxView>) -> impl IntoView {
    let t = use_texts::<MailboxesTexts>();
    view! {
        <DataTable rows=rows head=vec![t.col_address(), t.col_name(), t.col_status(), t.col_quota(), t.col_mail(), t.col_changed()]
            num=vec![t.col_quota()] empty=t.no_match() row=move |m| {
                let href = format!("/mailboxes/{}", encode(&m.address));
                view! {
                    <tr class:inactive=m.status != MailboxStatus::Active>
                        <td>
                            <a href=href>{m.display_address.clone()}</a>
                        </td>
                        <td>{m.name.clone()}</td>
                        <td>
                            <StatusBadge status=m.status />
                        </td>
                        <td class="num">{quota(m.quota_mb)}</td>
                        <td>{flow(&m)}</td>
                        <td class="nowrap"><Time at=m.updated_at.timestamp() /></td>
                    </tr>
                }
            }
        />
    }
    .into_any()
}

#[component]
pub fn StatusBadge(status: MailboxStatus) -> impl IntoView {
    let t = use_texts::<MailboxesTexts>();
    let (class, label) = match status {
        MailboxStatus::Active => ("badge ok", t.status_active()),
        MailboxStatus::Suspended => ("badge warn", t.status_suspended()),
        MailboxStatus::Deleted => ("badge off", t.status_deleted()),
    };
    view! { <span class=class data-status=status.as_str()>{label}</span> }
}

/// A quota as people read it: "ilimitada", "2 GB", "1.500 MB".
pub fn quota(mb: i64) -> String {
    let (t, locale) = (use_texts::<MailboxesTexts>(), use_locale());
    match mb {
        0 => t.unlimited().into(),
        mb if mb % 1024 == 0 => t.gb(&locale.number(mb / 1024)),
        mb => t.mb(&locale.number(mb)),
    }
}

/// "sends and receives", "send-only", "receive-only", plus any forward.
pub fn flow(m: &MailboxView) -> String {
    let t = use_texts::<MailboxesTexts>();
    let base = match (m.can_send, m.can_receive) {
        (true, true) => t.sends_and_receives(),
        (true, false) => t.send_only(),
        (false, true) => t.receive_only(),
        (false, false) => t.neither(),
    };
    match (m.forward_to.is_empty(), m.forward_keep_copy) {
        (true, _) => base.to_string(),
        (false, false) => format!("{base}; {}", t.forwards()),
        (false, true) => format!("{base}; {}", t.forwards_copy()),
    }
}

#[component]
fn CreateMailboxPanel(
    create: ServerAction<CreateMailbox>,
    domains: Resource<Result<Vec<crate::provision::DomainView>, crate::errors::AppError>>,
    plain: PlainPost,
) -> impl IntoView {
    let t = use_texts::<MailboxesTexts>();
    let result = create.value();
    // After a refused post without WASM, the form again holds what was typed.
    let typed = plain.typed(create);
    let form = cleared_on_success(move || result.get());
    view! {
        <section class="panel">
            <h2>{t.new_mailbox()}</h2>
            {move || {
                result.with(|r| {
                    r.as_ref().map(|answer| {
                        let said = answer.as_ref().map(|d| t.created(&d.target)).unwrap_or_default();
                        view! { <Outcome answer=answer.clone() said /> }
                    })
                })
            }}
            {move || {
                result
                    .with(|r| r.as_ref().and_then(|r| r.as_ref().ok()).map(|d| d.target.clone()))
                    .map(|target| {
                        view! {
                            <p>
                                <a href=format!("/mailboxes/{}", encode(&target))>{t.open(&target)}</a>
                            </p>
                        }
                    })
            }}
            <ActionForm action=create node_ref=form attr:class="grid-form">
                <Field label=t.address() result=result field="address">
                    <input type="text" name="request[address]" value=typed.value("request[address]") required placeholder="maria.silva@exemplo.com.br" autocomplete="off" />
                </Field>
                <Field label=t.name() result=result field="name">
                    <input type="text" name="request[name]" value=typed.value("request[name]") autocomplete="off" />
                </Field>
                <Field label=t.password() result=result field="password">
                    <input type="password" name="request[password]" autocomplete="new-password" placeholder=t.password_placeholder() />
                </Field>
                <Field label=t.quota_mb() result=result field="quota_mb">
                    <input type="text" inputmode="numeric" name="request[quota_mb]" value=typed.value("request[quota_mb]") placeholder=t.quota_placeholder() />
                </Field>
                <fieldset>
                    <legend>{t.mail()}</legend>
                    <label class="check">
                        <input type="checkbox" name="request[send_only]" value="true" checked=typed.checked_or("request[send_only]", false) />
                        {t.send_only_long()}
                    </label>
                    <label class="check">
                        <input type="checkbox" name="request[receive_only]" value="true" checked=typed.checked_or("request[receive_only]", false) />
                        {t.receive_only_long()}
                    </label>
                    <FieldMessage result=result field="send_only" />
                </fieldset>
                <p class="muted">
                    {t.domains()} " "
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            domains
                                .await
                                .unwrap_or_default()
                                .into_iter()
                                .filter(|d| d.alias_of.is_none() && d.active)
                                .map(|d| d.display_name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        })}
                    </Transition>
                </p>
                <SubmitRow label=t.create() disabled=move || create.pending().get() />
            </ActionForm>
        </section>
    }
}
