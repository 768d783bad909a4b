//! MailFlow defence (roles `security` and `admin`): the queue of proposed
//! blocks, biggest and newest first, with each one's evidence; approving
//! (with a duration and a reason) and rejecting (which keeps the subject
//! from being proposed again for a while), one by one or in bulk; and the
//! blocks in force, with who approved them, their expiry and how many
//! requests they refused, to lift or extend. Refreshes itself.
//!
//! A proposal's evidence reads as sentences ([`reason_phrase`]): when the
//! attack started, when it crossed the threshold, every client IP,
//! recipient, HELO and reverse name (paged from the server), and the
//! subject's history; for an account, its mailbox, usual volume and latest
//! logins. Blocks are also made by hand and searched here. The admin-only
//! override is shown to admins only (the server refuses it to others).

use crate::api::defence::{
    AddBlock, ApproveProposals, ExtendBlock, LiftBlock, RejectProposals, defence_overview,
    proposal_details, search_blocks, subject_history,
};
use crate::components::notice::{ActionError, ErrorBox, SuccessBox};
use crate::components::page::{DataTable, Loaded, Page, submissions};
use crate::components::refresh::refresh_tick;
use crate::errors::AppError;
use crate::model::{
    BlockRow, BulkOutcome, DETAIL_LISTS, DefenceState, ProposalRow, Section, SubjectKind,
};
use leptos::prelude::*;
use mailflow::time::MINUTES_PER_DAY;
use std::collections::BTreeSet;
use std::time::Duration;

/// How often the page asks again.
const REFRESH: Duration = Duration::from_secs(15);

#[component]
pub fn DefencePage() -> impl IntoView {
    view! { <Page title="MailFlow" section=Section::MailFlow children=|_| view! { <DefenceBoard /> } /> }
}

/// The actions of the page, shared by its parts.
#[derive(Clone, Copy)]
struct Actions {
    approve: ServerAction<ApproveProposals>,
    reject: ServerAction<RejectProposals>,
    lift: ServerAction<LiftBlock>,
    extend: ServerAction<ExtendBlock>,
    add: ServerAction<AddBlock>,
}

impl Actions {
    /// Submissions of any of the page's forms, for the overview to reload on.
    fn submissions(&self) -> usize {
        submissions([
            self.approve.version(),
            self.reject.version(),
            self.lift.version(),
            self.extend.version(),
            self.add.version(),
        ])
    }
}

#[component]
fn DefenceBoard() -> impl IntoView {
    let actions = Actions {
        approve: ServerAction::new(),
        reject: ServerAction::new(),
        lift: ServerAction::new(),
        extend: ServerAction::new(),
        add: ServerAction::new(),
    };
    let tick = refresh_tick(REFRESH);
    let overview = Resource::new(
        move || (tick.get(), actions.submissions()),
        |_| defence_overview(),
    );

    view! {
        <h1>"MailFlow defence"</h1>
        <p class="muted">
            "Blocks proposed by the detection policies wait here for a decision. An approved block reaches Postfix within seconds. "
            <a href="/mailflow/detection">"Detection policies and allowlist →"</a>
            " " <a href="/mailflow/unclassified">"Unclassified rejects →"</a>
        </p>
        <crate::pages::alerts::Alerts />
        <BulkNotice result=actions.approve.value() verb="Approved" />
        <BulkNotice result=actions.reject.value() verb="Rejected" />
        <ActionError result=actions.lift.value() />
        <ActionError result=actions.extend.value() />
        <ActionError result=actions.add.value() />
        <Loaded resource=overview let:o>
            <Overview overview=o actions />
        </Loaded>
    }
}

/// What a bulk action did, or why it failed.
#[component]
fn BulkNotice(
    #[prop(into)] result: Signal<Option<Result<BulkOutcome, AppError>>>,
    verb: &'static str,
) -> impl IntoView {
    move || match result.get() {
        Some(Ok(o)) => {
            let skipped = o
                .skipped
                .iter()
                .map(|(t, why)| format!("{t} ({why})"))
                .collect::<Vec<_>>()
                .join("; ");
            let text = if skipped.is_empty() {
                format!("{verb} {}.", o.done)
            } else {
                format!("{verb} {}. Not done: {skipped}.", o.done)
            };
            view! { <SuccessBox message=text /> }.into_any()
        }
        Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
        None => ().into_any(),
    }
}

#[component]
fn Overview(overview: DefenceState, actions: Actions) -> impl IntoView {
    let now = overview.now;
    let admin = overview.can_override;
    view! {
        <section class="panel">
            <h2>"Proposed blocks " <span class="badge">{overview.proposals.len()}</span></h2>
            {if overview.proposals.is_empty() {
                view! { <p class="muted">"Nothing waits for a decision."</p> }.into_any()
            } else {
                view! { <Proposals proposals=overview.proposals actions admin /> }.into_any()
            }}
        </section>
        <section class="panel">
            <h2>"Blocks"</h2>
            <Blocks blocks=overview.blocks now actions />
        </section>
        <section class="panel">
            <h2>"Block by hand"</h2>
            <ManualBlockForm actions admin />
        </section>
        <section class="panel">
            <h2>"Search blocks"</h2>
            <BlockSearch actions />
        </section>
    }
}

/// A text field cleared after each submission of `version`'s action.
fn cleared_after(version: RwSignal<usize>) -> RwSignal<String> {
    let text = RwSignal::new(String::new());
    Effect::new(move |seen: Option<usize>| {
        let v = version.get();
        if seen.is_some_and(|s| s != v) {
            text.set(String::new());
        }
        v
    });
    text
}

/// The block durations offered, in minutes, and a custom one.
const PRESETS: [(&str, &str); 4] = [
    ("60", "1 hour"),
    ("1440", "1 day"),
    ("10080", "1 week"),
    ("43200", "30 days"),
];

#[component]
fn ManualBlockForm(actions: Actions, admin: bool) -> impl IntoView {
    let reason = cleared_after(actions.add.version());
    let target = cleared_after(actions.add.version());
    let custom = RwSignal::new(false);
    let presets = PRESETS
        .iter()
        .map(|(m, label)| view! { <option value=*m selected={*m == "1440"}>{*label}</option> })
        .collect_view();
    view! {
        <ActionForm action=actions.add attr:class="inline manual-block">
            <label>
                "Kind"
                <select name="subject">
                    <option value="ip">"IP address or network"</option>
                    <option value="account">"Account"</option>
                </select>
            </label>
            <label>
                "Address, network or account"
                <input type="text" name="target" required maxlength="320" bind:value=target />
            </label>
            <label>
                "Duration"
                <select name="minutes" on:change=move |ev| custom.set(event_target_value(&ev) == "custom")>
                    {presets}
                    <option value="custom">"Custom"</option>
                </select>
            </label>
            <Show when=move || custom.get()>
                <label>
                    "Minutes"
                    <input type="number" name="custom_minutes" min="1" max="525600" required class="narrow" />
                </label>
            </Show>
            <label>
                "Reason"
                <input type="text" name="reason" required maxlength="500" bind:value=reason />
            </label>
            {admin.then(|| view! { <OverrideBox /> })}
            <button type="submit" class="primary small">"Block"</button>
        </ActionForm>
        {move || {
            actions.add.value().get().and_then(Result::ok).map(|b| {
                let text = format!("Blocked {} until {} (block #{}).", b.target, time(b.expires_at), b.id);
                view! { <SuccessBox message=text /> }
            })
        }}
    }
}

/// The admin-only guardrail override.
#[component]
fn OverrideBox() -> impl IntoView {
    view! {
        <label class="check" title="Block inside a customer pool or a wide network">
            <input type="checkbox" name="override_guard" value="true" />
            "Override guardrails (admin)"
        </label>
    }
}

#[component]
fn BlockSearch(actions: Actions) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let by = RwSignal::new(String::new());
    let state = RwSignal::new("active".to_string());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let page = RwSignal::new(0u64);
    let results = Resource::new(
        move || {
            (
                (text.get(), by.get(), state.get(), from.get(), to.get()),
                page.get(),
                actions.submissions(),
            )
        },
        |((text, by, state, from, to), page, _)| search_blocks(text, by, state, from, to, page),
    );
    let field = move |sig: RwSignal<String>| {
        move |ev: leptos::ev::Event| {
            sig.set(event_target_value(&ev));
            page.set(0);
        }
    };
    view! {
        <form class="inline block-search" on:submit=|ev| ev.prevent_default()>
            <label>"Target contains" <input type="search" prop:value=text on:change=field(text) /></label>
            <label>"By" <input type="search" class="narrow" prop:value=by on:change=field(by) /></label>
            <label>
                "State"
                <select on:change=field(state)>
                    <option value="active" selected>"Active"</option>
                    <option value="ended">"Lifted or expired"</option>
                    <option value="all">"All"</option>
                </select>
            </label>
            <label>"Made from" <input type="date" prop:value=from on:change=field(from) /></label>
            <label>"to" <input type="date" prop:value=to on:change=field(to) /></label>
        </form>
        <Loaded resource=results let:found>
            <p class="muted">
                {found.total} " block(s), page " {found.page + 1} " of " {found.pages}
            </p>
            <Blocks blocks=found.rows now=found.now actions found=true />
            <Pager page pages=found.pages />
        </Loaded>
    }
}

/// Previous / next buttons over `pages` pages.
#[component]
fn Pager(page: RwSignal<u64>, pages: u64) -> impl IntoView {
    (pages > 1).then(|| {
        view! {
            <div class="pager">
                <button type="button" class="small" disabled=move || page.get() == 0
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
                <button type="button" class="small" disabled=move || page.get() + 1 >= pages
                    on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
            </div>
        }
    })
}

#[component]
fn Proposals(proposals: Vec<ProposalRow>, actions: Actions, admin: bool) -> impl IntoView {
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    let approve_reason = cleared_after(actions.approve.version());
    let reject_reason = cleared_after(actions.reject.version());
    let all: Vec<i64> = proposals.iter().map(|p| p.id).collect();
    let ids = move || {
        selected
            .get()
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let none_selected = move || selected.with(BTreeSet::is_empty);
    view! {
        <div class="bulk">
            <ActionForm action=actions.approve attr:class="inline bulk-form">
                <input type="hidden" name="ids" prop:value=ids />
                <label>
                    "Minutes (empty: default)"
                    <input type="number" name="minutes" min="1" class="narrow" />
                </label>
                <label>
                    "Reason to approve"
                    <input type="text" name="reason" required maxlength="500" bind:value=approve_reason />
                </label>
                {admin.then(|| view! { <OverrideBox /> })}
                <button type="submit" class="primary small" disabled=none_selected>
                    "Approve selected"
                </button>
            </ActionForm>
            <ActionForm action=actions.reject attr:class="inline bulk-form">
                <input type="hidden" name="ids" prop:value=ids />
                <label>
                    "Reason to reject"
                    <input type="text" name="reason" required maxlength="500" bind:value=reject_reason />
                </label>
                <label>
                    "Do not propose again for"
                    <select name="suppress_hours">
                        <option value="24">"1 day"</option>
                        <option value="168" selected>"1 week"</option>
                        <option value="720">"30 days"</option>
                    </select>
                </label>
                <button type="submit" class="small" disabled=none_selected>
                    "Reject selected"
                </button>
            </ActionForm>
        </div>
        <table class="data proposals">
            <thead>
                <tr>
                    <th>
                        <input
                            type="checkbox"
                            aria-label="Select all"
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                selected.set(if on { all.iter().copied().collect() } else { BTreeSet::new() });
                            }
                        />
                    </th>
                    <th>"Subject"</th>
                    <th>"Policy"</th>
                    <th>"Evidence"</th>
                    <th>"Seen"</th>
                    <th>"Block for"</th>
                </tr>
            </thead>
            <tbody>
                {proposals
                    .into_iter()
                    .map(|p| view! { <ProposalItem p selected /> })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ProposalItem(p: ProposalRow, selected: RwSignal<BTreeSet<i64>>) -> impl IntoView {
    let id = p.id;
    let open = RwSignal::new(false);
    let samples = p.samples.clone();
    let reasons = p
        .reasons
        .iter()
        .map(|(r, n)| view! { <span class="chip" title=r.clone()>{reason_phrase(r, *n)}</span> })
        .collect_view();
    let counts = p
        .details
        .iter()
        .map(|(list, n)| view! { <span class="muted">{*n} " " {list_title(list).to_lowercase()} " "</span> })
        .collect_view();
    let (subject, target, details) = (p.subject, p.target.clone(), p.details.clone());
    view! {
        <tr data-target=p.target.clone()>
            <td>
                <input
                    type="checkbox"
                    aria-label=format!("Select {}", p.target)
                    prop:checked=move || selected.with(|s| s.contains(&id))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| {
                            if on {
                                s.insert(id);
                            } else {
                                s.remove(&id);
                            }
                        });
                    }
                />
            </td>
            <td>
                <strong class="target">{p.target.clone()}</strong>
                <br />
                <span class="badge">{p.subject.name()}</span>
                {p.needs_override.clone().map(|why| view! { <span class="badge error" title=why>"needs override"</span> })}
            </td>
            <td>{p.policy.clone()}</td>
            <td>
                <div class="chips">{reasons}</div>
                {counts}
                <button type="button" class="link small" on:click=move |_| open.update(|o| *o = !*o)>
                    {move || if open.get() { "Hide evidence" } else { "Show evidence" }}
                </button>
            </td>
            <td class="nowrap seen">
                "Started " {time(p.started)} <br />
                "Threshold " {time(p.first_seen)} <br />
                "Last " {time(p.last_seen)}
            </td>
            <td>
                {duration(p.default_minutes)}
                {(p.earlier_blocks > 0)
                    .then(|| view! { <br /><span class="muted">{p.earlier_blocks} " earlier block(s)"</span> })}
            </td>
        </tr>
        <Show when=move || open.get()>
            <tr class="evidence">
                <td colspan="6">
                    <Evidence id subject target=target.clone() details=details.clone() />
                    <h3>"Log lines"</h3>
                    <pre class="samples">{samples.join("\n")}</pre>
                </td>
            </tr>
        </Show>
    }
    .into_any()
}

/// Blocks with their actions: those in force and ended this week, or
/// (`found`) a search's results, a table of their own.
#[component]
fn Blocks(
    blocks: Vec<BlockRow>,
    now: i64,
    actions: Actions,
    #[prop(optional)] found: bool,
) -> impl IntoView {
    let (class, empty) = if found {
        ("data found-blocks", "No block matches.")
    } else {
        (
            "data blocks",
            "No block is in force, and none ended this week.",
        )
    };
    view! {
        <DataTable rows=blocks head=&["Subject", "Reason", "Approved", "Until", "Refused", "Actions"]
            class empty row=move |b| {
                let active = b.lifted_at.is_none() && b.expires_at > now;
                let id = b.id.to_string();
                let until = match (&b.lifted_by, b.lifted_at) {
                    (Some(by), Some(at)) => format!("lifted {} by {by}", time(at)),
                    _ if active => format!("{} ({} left)", time(b.expires_at), duration((b.expires_at - now) / 60)),
                    _ => format!("expired {}", time(b.expires_at)),
                };
                view! {
                    <tr id=(!found).then(|| format!("block-{}", b.id)) data-target=b.target.clone() class:inactive=!active>
                        <td>
                            <strong class="target">{b.target.clone()}</strong>
                            <br />
                            <span class="badge">{b.subject.name()}</span>
                            <span class="muted">" #" {b.id}</span>
                        </td>
                        <td>{b.reason.clone()}</td>
                        <td class="nowrap">{b.approved_by.clone()} <br /> {time(b.approved_at)}</td>
                        <td>{until}</td>
                        <td>{b.hits}</td>
                        <td class="actions">
                            {active
                                .then(|| {
                                    let id2 = id.clone();
                                    view! {
                                        <ActionForm action=actions.lift attr:class="inline">
                                            <input type="hidden" name="id" value=id.clone() />
                                            <input type="text" name="reason" placeholder="Why lift it" required class="narrow" />
                                            <button type="submit" class="small">"Lift"</button>
                                        </ActionForm>
                                        <ActionForm action=actions.extend attr:class="inline">
                                            <input type="hidden" name="id" value=id2 />
                                            <select name="minutes">
                                                <option value="60">"+1 hour"</option>
                                                <option value="1440" selected>"+1 day"</option>
                                                <option value="10080">"+1 week"</option>
                                            </select>
                                            <button type="submit" class="small">"Extend"</button>
                                        </ActionForm>
                                    }
                                })}
                        </td>
                    </tr>
                }
            }
        />
    }
    .into_any()
}

/// What a proposal's evidence shows when opened: its detail lists, paged,
/// and the subject's history.
#[component]
fn Evidence(
    id: i64,
    subject: SubjectKind,
    target: String,
    details: Vec<(String, u64)>,
) -> impl IntoView {
    let lists = details
        .into_iter()
        .map(|(list, total)| view! { <DetailList id list total /> })
        .collect_view();
    view! {
        <div class="evidence-lists">{lists}</div>
        <History subject target />
    }
}

/// One detail list of a proposal, a page at a time from the server.
#[component]
fn DetailList(id: i64, list: String, total: u64) -> impl IntoView {
    let page = RwSignal::new(0u64);
    let title = list_title(&list);
    let values = Resource::new(
        move || page.get(),
        move |page| proposal_details(id, list.clone(), page),
    );
    view! {
        <div class="detail-list">
            <h3>{title} " (" {total} ")"</h3>
            <Loaded resource=values let:d>
                <ul class="values">
                    {d.values.into_iter().map(|v| view! { <li>{v}</li> }).collect_view()}
                </ul>
                {(d.more > 0).then(|| view! { <p class="muted">"and " {d.more} " more not stored"</p> })}
                <Pager page pages=d.pages />
            </Loaded>
        </div>
    }
}

/// The heading of detail list `list`.
fn list_title(list: &str) -> &'static str {
    DETAIL_LISTS
        .iter()
        .find(|(l, _)| *l == list)
        .map_or("Values", |(_, title)| title)
}

/// The subject's earlier proposals and blocks, rejects per day and, for an
/// account, its mailbox, volume and logins.
#[component]
fn History(subject: SubjectKind, target: String) -> impl IntoView {
    let history = Resource::new(
        || (),
        move |_| subject_history(subject.name().to_string(), target.clone()),
    );
    view! {
        <Loaded resource=history let:h>
            {h.account.map(|a| {
                let mailbox = a.mailbox.map(|m| {
                    let href = format!("/mailboxes/{m}");
                    view! { <a href=href>"Open mailbox " {m}</a> }
                });
                let logins = a
                    .logins
                    .into_iter()
                    .map(|(at, ip)| view! { <li>{time(at)} " from " {ip}</li> })
                    .collect_view();
                view! {
                    <div class="account-context">
                        <h3>"Account"</h3>
                        <p>{mailbox}</p>
                        <p>
                            {a.last_day} " messages in the last 24 h; usually "
                            {format!("{:.1}", a.usual_per_day)} " a day (14 days before today)"
                        </p>
                        <h4>"Latest logins"</h4>
                        <ul class="values">{logins}</ul>
                    </div>
                }
            })}
            <h3>"History"</h3>
            <DataTable rows=h.proposals head=&["Proposal", "Started", "Status", "Decided by", "Reason"]
                empty="No earlier proposal." row=|p| view! {
                    <tr>
                        <td>"#" {p.id} " " {p.policy}</td>
                        <td class="nowrap">{time(p.started)}</td>
                        <td>{p.status}</td>
                        <td>{p.decided_by.unwrap_or_default()} " " {p.decided_at.map(time)}</td>
                        <td>{p.decision_reason.unwrap_or_default()}</td>
                    </tr>
                } />
            <DataTable rows=h.blocks head=&["Block", "Made by", "Until", "Reason"]
                empty="Never blocked." row=|b| view! {
                    <tr>
                        <td>"#" {b.id}</td>
                        <td>{b.approved_by} " " {time(b.approved_at)}</td>
                        <td>{b.lifted_at.map_or_else(|| time(b.expires_at), |at| format!("lifted {}", time(at)))}</td>
                        <td>{b.reason}</td>
                    </tr>
                } />
            <DataTable rows=h.rejects_by_day head=&["Day", "Rejects"] empty="No rejects in 30 days."
                row=|(day, n)| view! { <tr><td>{day_of(day)}</td><td>{n}</td></tr> } />
        </Loaded>
    }
}

/// `n` of reason `key` as an analyst reads it: `unknown_user` 90 is "90
/// rejected for unknown recipients". A custom class keeps its key.
pub fn reason_phrase(key: &str, n: u64) -> String {
    let what = match key {
        "unknown_user" => "rejected for unknown recipients",
        "relay" => "rejected as relay attempts",
        "domain" => "rejected for a bad or unknown domain",
        "not_logged" => "rejected: sender not logged in",
        "not_owned" => "rejected: sender address not owned by the account",
        "spf" => "rejected by SPF",
        "sender_denied" => "rejected: sender denied",
        "sender_other" => "rejected for the sender",
        "sender_unknown" => "rejected: unknown sender address",
        "rate" => "rejected for a rate limit",
        "rbl" => "rejected by a blocklist",
        "helo" => "rejected for the HELO name",
        "recipient_denied" => "rejected: recipient access denied",
        "reverse_dns" => "rejected: no reverse DNS name",
        "server" => "temporary server failures (not abuse)",
        "other" => "rejected (unclassified)",
        "rejects" => "rejected",
        "sasl_failures" => "failed logins",
        "account_sasl_failures" => "failed logins to this account",
        "network_sasl_failures" => "failed logins from this network",
        "network_rejects" => "rejected from this network",
        "messages" => "messages sent",
        "recipients" => "recipients written to",
        "distinct_recipients" => "distinct recipients",
        "distinct_ips" => "distinct client IPs",
        "bounces" => "bounces",
        _ => return format!("{n} {key}"),
    };
    format!("{n} {what}")
}

/// Unix seconds as the day `2026-11-29`.
fn day_of(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Unix seconds as `2026-11-29 14:05 UTC`.
fn time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// Minutes as the largest whole unit that fits: `3 days`, `5 h`, `20 min`.
fn duration(minutes: i64) -> String {
    match minutes {
        m if m >= 2 * MINUTES_PER_DAY && m % MINUTES_PER_DAY == 0 => {
            format!("{} days", m / MINUTES_PER_DAY)
        }
        m if m >= MINUTES_PER_DAY && m % MINUTES_PER_DAY == 0 => "1 day".into(),
        m if m >= 120 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::{duration, reason_phrase};

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(
            reason_phrase("unknown_user", 90),
            "90 rejected for unknown recipients"
        );
        assert_eq!(reason_phrase("distinct_ips", 12), "12 distinct client IPs");
        assert_eq!(reason_phrase("helo", 3), "3 rejected for the HELO name");
        // A class the team made up keeps its name.
        assert_eq!(reason_phrase("my_rule", 4), "4 my_rule");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(1440), "1 day");
        assert_eq!(duration(2880), "2 days");
        assert_eq!(duration(720), "12 h");
        assert_eq!(duration(90), "90 min");
        assert_eq!(duration(1500), "25 h");
    }
}
