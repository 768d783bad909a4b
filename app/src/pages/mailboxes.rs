//! Support's start page: find a mailbox among millions (address or name
//! prefix, domain, status; 50 per page), and create one. The search is a
//! plain GET form, so a search can be bookmarked or shared.

use crate::api::provision::{list_domains, search_mailboxes};
use crate::components::page::{DataTable, Loaded, Page, SearchForm, SubmitRow, param, url_search};
use crate::components::request_form::{Field, FieldMessage, RequestOutcome, cleared_on_success};
use crate::components::subnav::MailboxesNav;
use crate::model::Section;
use crate::provision::mailbox_create::CreateMailbox;
use crate::provision::{MailboxStatus, MailboxView};
use leptos::prelude::*;

#[component]
pub fn MailboxesPage() -> impl IntoView {
    view! { <Page title="Mailboxes" section=Section::Mailboxes children=|_| view! { <Mailboxes /> } /> }
}

/// The search as it is in the URL.
#[derive(Clone, Debug, Default, PartialEq)]
struct Search {
    q: String,
    by_name: bool,
    domain: String,
    status: String,
    after: Option<String>,
}

impl Search {
    /// This search's URL, on the page after `after`.
    fn href(&self, after: Option<&str>) -> String {
        let mut url = format!(
            "/mailboxes?q={}&by={}&domain={}&status={}",
            encode(&self.q),
            if self.by_name { "name" } else { "address" },
            encode(&self.domain),
            encode(&self.status)
        );
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
    let search = url_search(|p| Search {
        q: param(p, "q"),
        by_name: param(p, "by") == "name",
        domain: param(p, "domain"),
        status: param(p, "status"),
        after: p.get("after").filter(|a| !a.is_empty()),
    });
    let create = ServerAction::<CreateMailbox>::new();
    let results = Resource::new(
        move || (search.get(), create.version().get()),
        |(s, _)| search_mailboxes(s.q, s.by_name, s.domain, s.status, s.after),
    );
    let domains = Resource::new(|| (), |_| list_domains(false));
    let s = search.get_untracked();

    view! {
        <h1>"Mailboxes"</h1>
        <MailboxesNav />
        <section class="panel">
            <SearchForm button="Search">
                <label class="grow">
                    "Find"
                    <input
                        type="search"
                        name="q"
                        value=s.q.clone()
                        placeholder="start of the address, e.g. maria.silva@ — or of the name"
                        autofocus
                    />
                </label>
                <label>
                    "In"
                    <select name="by">
                        <option value="address" selected=!s.by_name>"Address"</option>
                        <option value="name" selected=s.by_name>"Name"</option>
                    </select>
                </label>
                <label>
                    "Domain"
                    <select name="domain">
                        <option value="">"All domains"</option>
                        <DomainOptions domains selected=s.domain.clone() />
                    </select>
                </label>
                <label>
                    "Status"
                    <select name="status">
                        {[("", "Active and suspended"), (MailboxStatus::Active.as_str(), "Active"), (MailboxStatus::Suspended.as_str(), "Suspended"), (MailboxStatus::Deleted.as_str(), "Deleted")]
                            .into_iter()
                            .map(|(v, l)| view! { <option value=v selected=s.status == v>{l}</option> })
                            .collect_view()}
                    </select>
                </label>
            </SearchForm>
            <Loaded resource=results loading="Searching…" children=move |page| {
                let s = search.get_untracked();
                let next = page.next.as_deref().map(|n| s.href(Some(n)));
                let first = s.after.is_some().then(|| s.href(None));
                view! {
                    <MailboxTable rows=page.rows />
                    <p class="pager">
                        {first.map(|href| view! { <a href=href>"← First page"</a> })}
                        {next.map(|href| view! { <a href=href>"Next page →"</a> })}
                    </p>
                }
            } />
        </section>
        <CreateMailboxPanel create domains />
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
    view! {
        <DataTable rows=rows head=&["Address", "Name", "Status", "Quota", "Mail", "Changed (UTC)"]
            num=&["Quota"] empty="No mailbox matches." row=move |m| {
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
                        <td class="nowrap">{m.updated_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                    </tr>
                }
            }
        />
    }
    .into_any()
}

#[component]
pub fn StatusBadge(status: MailboxStatus) -> impl IntoView {
    let class = match status {
        MailboxStatus::Active => "badge ok",
        MailboxStatus::Suspended => "badge warn",
        MailboxStatus::Deleted => "badge off",
    };
    view! { <span class=class>{status.as_str()}</span> }
}

pub fn quota(mb: i64) -> String {
    match mb {
        0 => "unlimited".into(),
        mb if mb % 1024 == 0 => format!("{} GB", mb / 1024),
        mb => format!("{mb} MB"),
    }
}

/// "sends and receives", "send-only", "receive-only", plus any forward.
pub fn flow(m: &MailboxView) -> String {
    let base = match (m.can_send, m.can_receive) {
        (true, true) => "sends and receives",
        (true, false) => "send-only",
        (false, true) => "receive-only",
        (false, false) => "neither",
    };
    if m.forward_to.is_empty() {
        base.to_string()
    } else {
        format!(
            "{base}; forwards{}",
            if m.forward_keep_copy { " a copy" } else { "" }
        )
    }
}

#[component]
fn CreateMailboxPanel(
    create: ServerAction<CreateMailbox>,
    domains: Resource<Result<Vec<crate::provision::DomainView>, crate::errors::AppError>>,
) -> impl IntoView {
    let result = create.value();
    let form = cleared_on_success(move || result.get());
    view! {
        <section class="panel">
            <h2>"New mailbox"</h2>
            <RequestOutcome result=result />
            {move || {
                result
                    .with(|r| r.as_ref().and_then(|r| r.as_ref().ok()).map(|d| d.target.clone()))
                    .map(|target| {
                        view! {
                            <p>
                                <a href=format!("/mailboxes/{}", encode(&target))>"Open " {target.clone()} " →"</a>
                            </p>
                        }
                    })
            }}
            <ActionForm action=create node_ref=form attr:class="grid-form">
                <Field label="Address" result=result field="address">
                    <input type="text" name="request[address]" required placeholder="maria.silva@exemplo.com.br" autocomplete="off" />
                </Field>
                <Field label="Name" result=result field="name">
                    <input type="text" name="request[name]" autocomplete="off" />
                </Field>
                <Field label="Password" result=result field="password">
                    <input type="password" name="request[password]" autocomplete="new-password" placeholder="Leave empty to generate one" />
                </Field>
                <Field label="Quota (MB)" result=result field="quota_mb">
                    <input type="text" inputmode="numeric" name="request[quota_mb]" placeholder="the domain's default" />
                </Field>
                <fieldset>
                    <legend>"Mail"</legend>
                    <label class="check">
                        <input type="checkbox" name="request[send_only]" value="true" />
                        "Send-only (no incoming mail)"
                    </label>
                    <label class="check">
                        <input type="checkbox" name="request[receive_only]" value="true" />
                        "Receive-only (may not send)"
                    </label>
                    <FieldMessage result=result field="send_only" />
                </fieldset>
                <p class="muted">
                    "Domains: "
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
                <SubmitRow label="Create mailbox" disabled=move || create.pending().get() />
            </ActionForm>
        </section>
    }
}
