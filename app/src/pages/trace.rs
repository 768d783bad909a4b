//! Message trace for support: "did my mail arrive?" Search by queue id,
//! message-id or address and see each message's journey: where it came
//! from, what the filter said, and each recipient's fate with the remote
//! server's reply.

use super::mailboxes::encode;
use crate::api::trace::trace_messages;
use crate::components::format::utc_seconds;
use crate::components::notice::ErrorBox;
use crate::components::page::{DataTable, Page, SearchForm, param, url_search};
use crate::components::subnav::MailboxesNav;
use crate::model::{Section, TraceMessage};
use leptos::prelude::*;

const WINDOWS: [(i64, &str); 5] = [
    (1, "last hour"),
    (6, "last 6 hours"),
    (24, "last 24 hours"),
    (72, "last 3 days"),
    (168, "last 7 days"),
];

#[component]
pub fn TracePage() -> impl IntoView {
    view! { <Page title="Message trace" section=Section::Mailboxes children=|_| view! { <Trace /> } /> }
}

#[component]
fn Trace() -> impl IntoView {
    let query = url_search(|p| {
        let hours = p.get("hours").and_then(|h| h.parse::<i64>().ok());
        (param(p, "q"), hours.unwrap_or(24))
    });
    let result = Resource::new(
        move || query.get(),
        |(q, hours)| async move {
            if q.trim().is_empty() {
                None
            } else {
                Some(trace_messages(q, hours, None).await)
            }
        },
    );
    let (q, hours) = query.get_untracked();

    view! {
        <h1>"Message trace"</h1>
        <MailboxesNav />
        <section class="panel">
            <SearchForm button="Trace">
                <label class="grow">
                    "Queue id, message-id or address"
                    <input type="search" name="q" value=q placeholder="e.g. 4Xk2Lq1vZz, <abc@mail.example>, ana@exemplo.com.br" />
                </label>
                <label>
                    "When"
                    <select name="hours">
                        {WINDOWS
                            .into_iter()
                            .map(|(h, label)| view! { <option value=h.to_string() selected=h == hours>{label}</option> })
                            .collect_view()}
                    </select>
                </label>
            </SearchForm>
            <p class="muted">
                "An address finds messages it sent and received. Recipient searches read every message of the window, so pick the shortest window that covers the time."
            </p>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Searching…"</p> }>
            {move || Suspend::new(async move {
                match result.await {
                    None => ().into_any(),
                    Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
                    Some(Ok(r)) => {
                        let heading = format!(
                            "{} message{} between {} and {} UTC (searched as {})",
                            r.messages.len(),
                            if r.messages.len() == 1 { "" } else { "s" },
                            utc_seconds(r.from),
                            utc_seconds(r.to),
                            r.searched_as.join(", ")
                        );
                        view! {
                            <p class="result-count">{heading}</p>
                            {r.truncated.then(|| view! { <p class="notice info">"More messages match; showing the newest. Narrow the window or search a queue id."</p> })}
                            {r.messages.into_iter().map(|m| view! { <Journey m /> }).collect_view()}
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// One message, from arrival to each recipient's outcome.
#[component]
fn Journey(m: TraceMessage) -> impl IntoView {
    let from = match (&m.client_name, &m.client_ip) {
        (Some(n), Some(ip)) => format!("{n} [{ip}]"),
        (None, Some(ip)) => ip.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => m.origin.clone(),
    };
    let verdict_class = match m.verdict.as_deref() {
        Some("clean") => "badge ok",
        Some(_) => "badge error",
        None => "badge off",
    };
    let queue_link = format!("/mailboxes/trace?q={}&hours=168", encode(&m.queue_id));
    view! {
        <article class="panel journey" data-queue-id=m.queue_id.clone()>
            <header class="journey-head">
                <strong>{utc_seconds(m.first_at)}</strong>
                " · " {m.host.clone()} " · queue id "
                <a href=queue_link><code>{m.queue_id.clone()}</code></a>
                " · " {m.origin.clone()}
                {(!m.removed).then(|| view! { " " <span class="badge warn">"still in queue"</span> })}
            </header>
            <dl class="facts">
                <dt>"Received from"</dt>
                <dd>
                    {from}
                    {m.sasl_username.clone().map(|u| view! { " — signed in as " <strong>{u}</strong> })}
                </dd>
                <dt>"Sender"</dt>
                <dd>{m.sender.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "<> (bounce)".into())}</dd>
                <dt>"Message-id"</dt>
                <dd><code>{m.message_id.clone().unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"Size"</dt>
                <dd>{m.size.map(|s| format!("{s} bytes")).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Filter"</dt>
                <dd><span class=verdict_class>{m.verdict.clone().unwrap_or_else(|| "not scanned".into())}</span></dd>
                {m.reject.clone().map(|r| view! { <dt>"Refused"</dt><dd class="error-text">{r}</dd> })}
            </dl>
            <Recipients list=m.recipients />
        </article>
    }
    .into_any()
}

/// Each recipient's fate.
#[component]
fn Recipients(list: Vec<crate::model::TraceRecipient>) -> impl IntoView {
    if list.is_empty() {
        return ().into_any();
    }
    view! {
        <DataTable rows=list head=&["Recipient", "Status", "Relay", "When (UTC)", "Remote server said"]
            row=|r| {
                let class = match r.status.as_str() {
                    "sent" => "badge ok",
                    "deferred" => "badge warn",
                    _ => "badge error",
                };
                view! {
                    <tr>
                        <td>
                            {r.to.clone()}
                            {r.orig_to.clone().map(|o| view! { <br /><span class="muted">"via " {o}</span> })}
                        </td>
                        <td>
                            <span class=class>{r.status.clone()}</span>
                            {r.dsn.clone().map(|d| view! { " " <code>{d}</code> })}
                            {(r.attempts > 1).then(|| view! { <br /><span class="muted">{format!("{} attempts", r.attempts)}</span> })}
                        </td>
                        <td>{r.relay.clone()}</td>
                        <td class="nowrap">
                            {utc_seconds(r.at)}
                            {r.delay.map(|d| view! { <br /><span class="muted">{format!("delay {d:.1} s")}</span> })}
                        </td>
                        <td class="reply">{r.reply.clone()}</td>
                    </tr>
                }
            }
        />
    }
    .into_any()
}
