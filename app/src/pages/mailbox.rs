//! One mailbox, everything support does to it: change name, quota and
//! flags; suspend or reactivate; reset the password (shown once); set a
//! forward; delete or restore. Below, every change ever made to it, from
//! the audit log. When the security team has blocked the account from
//! sending, a banner says until when, why, and which block.

use super::admin_audit::AuditTable;
use super::mailboxes::{StatusBadge, flow, quota};
use crate::api::defence::mailbox_block;
use crate::api::provision::mailbox_detail;
use crate::components::page::{Loaded, Page, SubmitRow};
use crate::components::request_form::{Field, FieldMessage, RequestOutcome, confirm_first};
use crate::components::subnav::MailboxesNav;
use crate::model::Section;
use crate::provision::{MailboxStatus, MailboxView};
use crate::provision::{
    mailbox_delete::DeleteMailbox, mailbox_forward::ForwardMailbox,
    mailbox_reactivate::ReactivateMailbox, mailbox_reset_password::ResetMailboxPassword,
    mailbox_restore::RestoreMailbox, mailbox_suspend::SuspendMailbox,
    mailbox_update::UpdateMailbox,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn MailboxPage() -> impl IntoView {
    view! { <Page title="Mailbox" section=Section::Mailboxes children=|_| view! { <Mailbox /> } /> }
}

/// The page's actions, so every form refreshes the mailbox and its history.
#[derive(Clone, Copy)]
struct Actions {
    update: ServerAction<UpdateMailbox>,
    suspend: ServerAction<SuspendMailbox>,
    reactivate: ServerAction<ReactivateMailbox>,
    reset: ServerAction<ResetMailboxPassword>,
    forward: ServerAction<ForwardMailbox>,
    delete: ServerAction<DeleteMailbox>,
    restore: ServerAction<RestoreMailbox>,
}

impl Actions {
    fn new() -> Self {
        Actions {
            update: ServerAction::new(),
            suspend: ServerAction::new(),
            reactivate: ServerAction::new(),
            reset: ServerAction::new(),
            forward: ServerAction::new(),
            delete: ServerAction::new(),
            restore: ServerAction::new(),
        }
    }

    fn version(&self) -> usize {
        self.update.version().get()
            + self.suspend.version().get()
            + self.reactivate.version().get()
            + self.reset.version().get()
            + self.forward.version().get()
            + self.delete.version().get()
            + self.restore.version().get()
    }
}

#[component]
fn Mailbox() -> impl IntoView {
    let params = use_params_map();
    let address = move || params.read().get("address").unwrap_or_default();
    let actions = Actions::new();
    let detail = Resource::new(
        move || (address(), actions.version()),
        |(a, _)| mailbox_detail(a),
    );

    view! {
        <p class="crumbs">
            <a href="/mailboxes">"← Mailboxes"</a>
        </p>
        <MailboxesNav />
        <RequestOutcome result=actions.reset.value() />
        <RequestOutcome result=actions.suspend.value() />
        <RequestOutcome result=actions.reactivate.value() />
        <RequestOutcome result=actions.delete.value() />
        <RequestOutcome result=actions.restore.value() />
        <BlockBanner address=Signal::derive(address) />
        <Loaded resource=detail children=move |(m, history)| view! {
            <Summary m=m.clone() actions />
            <div class="columns">
                <EditPanel m=m.clone() actions />
                <ForwardPanel m=m.clone() actions />
            </div>
            <section class="panel">
                <h2>"History"</h2>
                <AuditTable entries=history />
            </section>
        } />
    }
}

/// "Sending blocked until …, reason …, block #N" when the account has an
/// active block (nothing otherwise, nor when it cannot be read).
#[component]
fn BlockBanner(address: Signal<String>) -> impl IntoView {
    let block = Resource::new(move || address.get(), mailbox_block);
    view! {
        <Suspense>
            {move || {
                block.get().and_then(Result::ok).flatten().map(|b| {
                    let until = chrono::DateTime::from_timestamp(b.expires_at, 0)
                        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_default();
                    view! {
                        <p class="notice error" role="status">
                            "Sending blocked until " {until} ", reason: " {b.reason} ", block #" {b.id}
                        </p>
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Summary(m: MailboxView, actions: Actions) -> impl IntoView {
    let hidden = {
        let address = m.address.clone();
        move || {
            let address = address.clone();
            move || view! { <input type="hidden" name="request[address]" value=address.clone() /> }
        }
    };
    let status = m.status;
    view! {
        <section class="panel">
            <Title text=m.display_address.clone() />
            <h1>{m.display_address.clone()} " " <StatusBadge status=m.status /></h1>
            <p>
                <a href=format!("/mailboxes/trace?q={}&hours=24", super::mailboxes::encode(&m.address))>
                    "Trace its mail of the last 24 hours →"
                </a>
            </p>
            <dl class="facts">
                <dt>"Name"</dt>
                <dd>{if m.name.is_empty() { "—".to_string() } else { m.name.clone() }}</dd>
                <dt>"Quota"</dt>
                <dd>{quota(m.quota_mb)}</dd>
                <dt>"Mail"</dt>
                <dd>{flow(&m)}</dd>
                <dt>"Forward"</dt>
                <dd>{if m.forward_to.is_empty() { "—".to_string() } else { m.forward_to.join(", ") }}</dd>
                {m.status_reason.clone().map(|r| view! { <dt>"Reason"</dt><dd>{r}</dd> })}
                <dt>"Created"</dt>
                <dd>{m.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
                <dt>"Changed"</dt>
                <dd>{m.updated_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
                {m.purge_after.map(|p| view! { <dt>"Purged on"</dt><dd>{p.format("%Y-%m-%d").to_string()}</dd> })}
            </dl>
            <div class="action-row">
                {match status {
                    MailboxStatus::Active => {
                    let field = hidden();
                    view! {
                        <ActionForm action=actions.suspend attr:class="inline">
                            {field()}
                            <label>
                                "Reason"
                                <input type="text" name="request[reason]" required placeholder="e.g. unpaid invoice, compromised" />
                            </label>
                            <button type="submit">"Suspend"</button>
                            <FieldMessage result=actions.suspend.value() field="reason" />
                        </ActionForm>
                    }
                    .into_any()
                    }
                    MailboxStatus::Suspended => {
                    let field = hidden();
                    view! {
                        <ActionForm action=actions.reactivate attr:class="inline">
                            {field()}
                            <button type="submit" class="primary">"Reactivate"</button>
                        </ActionForm>
                    }
                    .into_any()
                    }
                    MailboxStatus::Deleted => {
                    let field = hidden();
                    view! {
                        <ActionForm action=actions.restore attr:class="inline">
                            {field()}
                            <button type="submit" class="primary">"Restore (comes back suspended)"</button>
                        </ActionForm>
                    }
                    .into_any()
                    }
                }}
                {(status != MailboxStatus::Deleted).then(|| {
                    let ask_reset = Some(format!("Give {} a new generated password? The old one stops working at once.", m.address));
                    let ask_delete = Some(format!("Delete {}? It stops receiving mail at once and can be restored until it is purged.", m.address));
                    let (field, field2) = (hidden(), hidden());
                    view! {
                        <ActionForm action=actions.reset attr:class="inline">
                            {field()}
                            <button type="submit" on:click=confirm_first(ask_reset)>"Reset password"</button>
                        </ActionForm>
                        <ActionForm action=actions.delete attr:class="inline">
                            {field2()}
                            <button type="submit" class="danger" on:click=confirm_first(ask_delete)>"Delete"</button>
                        </ActionForm>
                    }
                })}
            </div>
        </section>
    }
}

#[component]
fn EditPanel(m: MailboxView, actions: Actions) -> impl IntoView {
    let result = actions.update.value();
    let deleted = m.status == MailboxStatus::Deleted;
    view! {
        <section class="panel">
            <h2>"Details"</h2>
            <RequestOutcome result=result />
            <ActionForm action=actions.update attr:class="grid-form">
                <input type="hidden" name="request[address]" value=m.address.clone() />
                <Field label="Name" result=result field="name">
                    <input type="text" name="request[name]" value=m.name.clone() disabled=deleted />
                </Field>
                <Field label="Quota (MB, 0 = unlimited)" result=result field="quota_mb">
                    <input type="text" inputmode="numeric" name="request[quota_mb]" value=m.quota_mb.to_string() disabled=deleted />
                </Field>
                <fieldset>
                    <legend>"Mail"</legend>
                    <label class="check">
                        <input type="checkbox" name="request[send_only]" value="true" checked=!m.can_receive disabled=deleted />
                        "Send-only"
                    </label>
                    <label class="check">
                        <input type="checkbox" name="request[receive_only]" value="true" checked=!m.can_send disabled=deleted />
                        "Receive-only"
                    </label>
                    <FieldMessage result=result field="send_only" />
                </fieldset>
                <SubmitRow label="Save" disabled=deleted />
            </ActionForm>
        </section>
    }
}

#[component]
fn ForwardPanel(m: MailboxView, actions: Actions) -> impl IntoView {
    let result = actions.forward.value();
    let deleted = m.status == MailboxStatus::Deleted;
    view! {
        <section class="panel">
            <h2>"Forward"</h2>
            <RequestOutcome result=result />
            <ActionForm action=actions.forward attr:class="grid-form">
                <input type="hidden" name="request[address]" value=m.address.clone() />
                <Field label="Forward to (empty: no forward)" result=result field="forward_to">
                    <textarea name="request[forward_to]" rows="2" disabled=deleted placeholder="other@example.org">
                        {m.forward_to.join(", ")}
                    </textarea>
                </Field>
                <label class="check">
                    <input type="checkbox" name="request[keep_copy]" value="true" checked=m.forward_keep_copy disabled=deleted />
                    "Keep a copy in this mailbox"
                </label>
                <SubmitRow label="Save forward" disabled=deleted />
            </ActionForm>
        </section>
    }
}
