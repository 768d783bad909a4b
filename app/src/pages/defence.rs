//! MailFlow defence (roles `security` and `admin`): the queue of proposed
//! blocks, biggest and newest first, with each one's evidence; approving
//! (with a duration and a reason) and rejecting (which keeps the subject
//! from being proposed again for a while), one by one or in bulk; and the
//! blocks in force, with who approved them, their expiry and how many
//! requests they refused, to lift or extend. Refreshes itself.

use crate::api::defence::{
    ApproveProposals, ExtendBlock, LiftBlock, RejectProposals, defence_overview,
};
use crate::components::notice::{ActionError, ErrorBox, SuccessBox};
use crate::components::page::{DataTable, Loaded, Page, submissions};
use crate::components::refresh::refresh_tick;
use crate::errors::AppError;
use crate::model::{BlockRow, BulkOutcome, DefenceState, ProposalRow, Section};
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
}

impl Actions {
    /// Submissions of any of the page's forms, for the overview to reload on.
    fn submissions(&self) -> usize {
        submissions([
            self.approve.version(),
            self.reject.version(),
            self.lift.version(),
            self.extend.version(),
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
        </p>
        <BulkNotice result=actions.approve.value() verb="Approved" />
        <BulkNotice result=actions.reject.value() verb="Rejected" />
        <ActionError result=actions.lift.value() />
        <ActionError result=actions.extend.value() />
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
    view! {
        <section class="panel">
            <h2>"Proposed blocks " <span class="badge">{overview.proposals.len()}</span></h2>
            {if overview.proposals.is_empty() {
                view! { <p class="muted">"Nothing waits for a decision."</p> }.into_any()
            } else {
                view! { <Proposals proposals=overview.proposals actions /> }.into_any()
            }}
        </section>
        <section class="panel">
            <h2>"Blocks"</h2>
            <Blocks blocks=overview.blocks now actions />
        </section>
    }
}

#[component]
fn Proposals(proposals: Vec<ProposalRow>, actions: Actions) -> impl IntoView {
    let selected = RwSignal::new(BTreeSet::<i64>::new());
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
                    "Minutes"
                    <input type="number" name="minutes" min="1" placeholder="default" class="narrow" />
                </label>
                <input type="text" name="reason" placeholder="Reason (audit log)" required />
                <label class="check" title="Admins only: block inside a customer pool or a wide network">
                    <input type="checkbox" name="override_guard" value="true" />
                    "override guardrails"
                </label>
                <button type="submit" class="primary small" disabled=none_selected>
                    "Approve selected"
                </button>
            </ActionForm>
            <ActionForm action=actions.reject attr:class="inline bulk-form">
                <input type="hidden" name="ids" prop:value=ids />
                <input type="text" name="reason" placeholder="Reason (audit log)" required />
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
        .map(|(r, n)| view! { <span class="chip">{r.clone()} " " <strong>{*n}</strong></span> })
        .collect_view();
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
                {(p.distinct_ips > 0).then(|| view! { <span class="muted">{p.distinct_ips} " IPs "</span> })}
                {(p.distinct_recipients > 0)
                    .then(|| view! { <span class="muted">{p.distinct_recipients} " recipients"</span> })}
                <button type="button" class="link small" on:click=move |_| open.update(|o| *o = !*o)>
                    {move || if open.get() { "Hide log lines" } else { "Show log lines" }}
                </button>
            </td>
            <td class="nowrap">{time(p.first_seen)} <br /> {time(p.last_seen)}</td>
            <td>
                {duration(p.default_minutes)}
                {(p.earlier_blocks > 0)
                    .then(|| view! { <br /><span class="muted">{p.earlier_blocks} " earlier block(s)"</span> })}
            </td>
        </tr>
        <Show when=move || open.get()>
            <tr class="evidence">
                <td colspan="6">
                    <pre class="samples">{samples.join("\n")}</pre>
                </td>
            </tr>
        </Show>
    }
    .into_any()
}

#[component]
fn Blocks(blocks: Vec<BlockRow>, now: i64, actions: Actions) -> impl IntoView {
    view! {
        <DataTable rows=blocks head=&["Subject", "Reason", "Approved", "Until", "Refused", "Actions"]
            class="data blocks" empty="No block is in force, and none ended this week." row=move |b| {
                let active = b.lifted_at.is_none() && b.expires_at > now;
                let id = b.id.to_string();
                let until = match (&b.lifted_by, b.lifted_at) {
                    (Some(by), Some(at)) => format!("lifted {} by {by}", time(at)),
                    _ if active => format!("{} ({} left)", time(b.expires_at), duration((b.expires_at - now) / 60)),
                    _ => format!("expired {}", time(b.expires_at)),
                };
                view! {
                    <tr id=format!("block-{}", b.id) data-target=b.target.clone() class:inactive=!active>
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
    use super::duration;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(1440), "1 day");
        assert_eq!(duration(2880), "2 days");
        assert_eq!(duration(720), "12 h");
        assert_eq!(duration(90), "90 min");
        assert_eq!(duration(1500), "25 h");
    }
}
