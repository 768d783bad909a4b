//! Detection settings (roles `security` and `admin`): each policy's window,
//! threshold, burst factor, block length and whether it is on; whether it
//! auto-approves (admins only); and the allowlist of subjects that are
//! never proposed. Live sources pick changes up within half a minute.

use crate::api::defence::{AllowAdd, AllowRemove, SavePolicy, detection_settings};
use crate::components::notice::{ActionError, SuccessBox};
use crate::components::page::{DataTable, Loaded, Page, submissions};
use crate::model::{AllowRow, DetectionSettings, PolicyRow, Section, SubjectKind};
use leptos::prelude::*;

#[component]
pub fn DetectionPage() -> impl IntoView {
    view! { <Page title="Detection policies" section=Section::MailFlow children=|_| view! { <DetectionBoard /> } /> }
}

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SavePolicy>,
    add: ServerAction<AllowAdd>,
    remove: ServerAction<AllowRemove>,
}

#[component]
fn DetectionBoard() -> impl IntoView {
    let actions = Actions {
        save: ServerAction::new(),
        add: ServerAction::new(),
        remove: ServerAction::new(),
    };
    let settings = Resource::new(
        move || {
            submissions([
                actions.save.version(),
                actions.add.version(),
                actions.remove.version(),
            ])
        },
        |_| detection_settings(),
    );
    view! {
        <h1>"Detection policies"</h1>
        <p class="muted">
            <a href="/mailflow">"← Proposals and blocks"</a>
            " · Each policy counts one thing per IP or account over a sliding window and proposes a block from the threshold on. "
            "With a burst factor, the count must also be that many times the subject's own usual count."
        </p>
        {move || {
            actions
                .save
                .value()
                .get()
                .and_then(Result::ok)
                .map(|p| view! { <SuccessBox message=format!("Saved {}.", p.name) /> })
        }}
        <ActionError result=actions.save.value() />
        <ActionError result=actions.add.value() />
        <ActionError result=actions.remove.value() />
        <Loaded resource=settings let:s>
            <Settings settings=s actions />
        </Loaded>
    }
}

#[component]
fn Settings(settings: DetectionSettings, actions: Actions) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"Policies"</h2>
            <DataTable rows=settings.policies head=&["Policy", "Counts", "Window (min)", "Threshold", "Burst ×", "Block (min)", "On", "Auto-approve", ""]
                class="data policies" row=move |p| view! { <PolicyItem p save=actions.save /> }
            />
        </section>
        <section class="panel">
            <h2>"Allowlist"</h2>
            <p class="muted">"Never proposed, whatever they do: partner relays, monitoring, our own servers."</p>
            <ActionForm action=actions.add attr:class="inline bulk-form">
                <select name="subject" aria-label="Kind">
                    <option value=SubjectKind::Ip.name()>"IP or network"</option>
                    <option value=SubjectKind::Account.name()>"Account"</option>
                </select>
                <input type="text" name="target" placeholder="192.0.2.0/24 or ana@example.com.br" required />
                <input type="text" name="note" placeholder="Why (e.g. partner MX)" />
                <label class="check" title="Admins only: allow a customer pool or a network wider than the blocking limit">
                    <input type="checkbox" name="override_guard" value="true" />
                    "override guardrails"
                </label>
                <button type="submit" class="small">"Allow"</button>
            </ActionForm>
            <AllowTable rows=settings.allow remove=actions.remove />
        </section>
        <crate::pages::never_block::NeverBlock />
    }
    .into_any()
}

#[component]
fn PolicyItem(p: PolicyRow, save: ServerAction<SavePolicy>) -> impl IntoView {
    let form = format!("policy-{}", p.id);
    let counts = match &p.reject_class {
        Some(c) => format!("{} rejects ({})", p.subject, c),
        None => format!("{} {}", p.subject, p.metric.replace('_', " ")),
    };
    view! {
        <tr data-policy=p.name.clone() class:inactive=!p.enabled>
            <td>
                <strong>{p.name.clone()}</strong>
                <br />
                <span class="muted">{p.description.clone()}</span>
            </td>
            <td>{counts}</td>
            <td>
                <input form=form.clone() type="number" name="window_minutes" min="1" max="1440" value=p.window_minutes.to_string() class="tiny" />
            </td>
            <td>
                <input form=form.clone() type="number" name="threshold" min="1" value=p.threshold.to_string() class="tiny" />
            </td>
            <td>
                <input
                    form=form.clone()
                    type="number"
                    name="burst_factor"
                    min="1"
                    step="0.5"
                    value=p.burst_factor.map(|f| f.to_string()).unwrap_or_default()
                    placeholder="none"
                    class="tiny"
                />
            </td>
            <td>
                <input form=form.clone() type="number" name="block_minutes" min="1" value=p.block_minutes.to_string() class="tiny" />
            </td>
            <td>
                <input form=form.clone() type="checkbox" name="enabled" value="true" checked=p.enabled aria-label="On" />
            </td>
            <td>
                <input
                    form=form.clone()
                    type="checkbox"
                    name="auto_approve"
                    value="true"
                    checked=p.auto_approve
                    aria-label="Auto-approve"
                    title="Admins only: block without review"
                />
            </td>
            <td>
                <ActionForm action=save attr:id=form.clone() attr:class="inline">
                    <input type="hidden" name="id" value=p.id.to_string() />
                    <button type="submit" class="small">"Save"</button>
                </ActionForm>
                <crate::pages::whatif::TestChange policy=p.id form=form.clone() />
            </td>
        </tr>
    }
    .into_any()
}

#[component]
fn AllowTable(rows: Vec<AllowRow>, remove: ServerAction<AllowRemove>) -> impl IntoView {
    view! {
        <DataTable rows=rows head=&["Subject", "Why", "Added by", ""]
            class="data allow" empty="The allowlist is empty." row=move |a| {
                view! {
                    <tr data-target=a.target.clone()>
                        <td>
                            <strong class="target">{a.target.clone()}</strong>
                            " "
                            <span class="badge">{a.subject.name()}</span>
                        </td>
                        <td>{a.note.clone()}</td>
                        <td>{a.created_by.clone()}</td>
                        <td>
                            <ActionForm action=remove attr:class="inline">
                                <input type="hidden" name="id" value=a.id.to_string() />
                                <button type="submit" class="small">"Remove"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            }
        />
    }
    .into_any()
}
