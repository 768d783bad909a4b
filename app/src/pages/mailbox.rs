//! One mailbox, everything support does to it: change name, quota and
//! flags; suspend or reactivate; reset the password (shown once, with a
//! copy button); set a forward; delete or restore. What sends mail to it
//! (aliases and other mailboxes' forwards, also through an alias domain),
//! the security team's active account blocks on it (read-only, linked to
//! MailFlow), and every change ever made to it, from the audit log. One
//! notice says what the last action did, in the past tense; the next
//! action's notice replaces it. A mailbox that does not exist answers 404.

use super::admin_audit::AuditTable;
use super::mailboxes::{MailboxesTexts, Outcome, StatusBadge, encode, flow, quota};
use crate::api::provision::mailbox_detail;
use crate::components::notice::ErrorBox;
use crate::components::page::{Page, SubmitRow};
use crate::components::request_form::{Field, FieldMessage, PlainPost, confirm_first};
use crate::components::subnav::MailboxesNav;
use crate::errors::AppError;
use crate::i18n::{Time, common::Common, use_texts};
use crate::model::{BlockRow, Section};
use crate::provision::{MailboxOverview, MailboxStatus, MailboxView, RequestDone};
use crate::provision::{
    mailbox_delete::DeleteMailbox, mailbox_forward::ForwardMailbox,
    mailbox_reactivate::ReactivateMailbox, mailbox_reset_password::ResetMailboxPassword,
    mailbox_restore::RestoreMailbox, mailbox_suspend::SuspendMailbox,
    mailbox_update::UpdateMailbox,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

crate::texts! {
    /// The mailbox page.
    pub struct MailboxTexts {
        title = "Mailbox", "Caixa postal";
        back = "← Mailboxes", "← Caixas postais";
        trace = "Trace its mail of the last 24 hours →", "Rastrear o e-mail dela das últimas 24 horas →";
        name = "Name", "Nome";
        quota = "Quota", "Cota";
        mail = "Mail", "E-mail";
        forward = "Forward", "Encaminhamento";
        reason = "Reason", "Motivo";
        created = "Created", "Criada";
        changed = "Changed", "Alterada";
        purged_on = "Purged on", "Removida de vez em";
        reason_placeholder = "e.g. unpaid invoice, compromised", "ex.: fatura em aberto, conta comprometida";
        suspend = "Suspend", "Suspender";
        reactivate = "Reactivate", "Reativar";
        restore = "Restore (comes back suspended)", "Restaurar (volta suspensa)";
        reset_password = "Reset password", "Redefinir senha";
        delete = "Delete", "Excluir";
        details = "Details", "Dados";
        quota_field = "Quota (MB, 0 = unlimited)", "Cota (MB, 0 = ilimitada)";
        send_only = "Send-only", "Só envia";
        receive_only = "Receive-only", "Só recebe";
        forward_to = "Forward to (empty: no forward)", "Encaminhar para (vazio: sem encaminhamento)";
        keep_copy = "Keep a copy in this mailbox", "Manter uma cópia nesta caixa";
        save_forward = "Save forward", "Salvar encaminhamento";
        pointing = "Mail that reaches it", "O que chega a ela";
        pointing_aliases = "Aliases", "Aliases (apelidos)";
        pointing_forwards = "Forwards from other mailboxes", "Encaminhamentos de outras caixas";
        pointing_none = "No alias or forward points at this mailbox.", "Nenhum alias ou encaminhamento aponta para esta caixa.";
        blocks = "Security blocks", "Bloqueios de segurança";
        blocks_none = "No active block on this account.", "Nenhum bloqueio ativo nesta conta.";
        blocks_note = "Set by the security team in MailFlow; while a block is active this account cannot send.", "Definidos pela equipe de segurança no MailFlow; enquanto um bloqueio está ativo esta conta não pode enviar.";
        blocked_until = "Sending blocked until", "Envio bloqueado até";
        in_mailflow = "See it in MailFlow →", "Ver no MailFlow →";
        history = "History", "Histórico";
        done_update = "Details saved.", "Dados salvos.";
        done_suspend = "Mailbox suspended.", "Caixa suspensa.";
        done_reactivate = "Mailbox reactivated.", "Caixa reativada.";
        done_reset = "Password reset.", "Senha redefinida.";
        done_forward = "Forward saved.", "Encaminhamento salvo.";
        done_delete = "Mailbox deleted.", "Caixa excluída.";
        done_restore = "Mailbox restored; it is suspended until reactivated.", "Caixa restaurada; ela fica suspensa até ser reativada.";
        missing_heading = "Mailbox not found", "Caixa postal não encontrada";
        missing_search = "Search the mailboxes", "Buscar nas caixas postais";
    }
    formats {
        ask_reset(a: &str) = format!("Give {a} a new generated password? The old one stops working at once."), format!("Gerar uma nova senha para {a}? A antiga deixa de funcionar na hora.");
        ask_delete(a: &str) = format!("Delete {a}? It stops receiving mail at once and can be restored until it is purged."), format!("Excluir {a}? Ela deixa de receber e-mail na hora e pode ser restaurada até ser removida de vez.");
        missing_text(a: &str) = format!("There is no mailbox {a} (nor a deleted one still kept)."), format!("Não existe a caixa postal {a} (nem excluída e ainda guardada).");
        block_reason(reason: &str) = format!(", reason: {reason}"), format!(", motivo: {reason}");
        block_by(who: &str) = format!(", set by {who} on"), format!(", definido por {who} em");
        block_no(id: i64) = format!(", block #{id}."), format!(", bloqueio nº {id}.");
    }
}

#[component]
pub fn MailboxPage() -> impl IntoView {
    let title = use_texts::<MailboxTexts>().title();
    view! { <Page title=title section=Section::Mailboxes children=|_| view! { <Mailbox /> } /> }
}

/// Which of the page's actions answered last.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Did {
    Update,
    Suspend,
    Reactivate,
    Reset,
    Forward,
    Delete,
    Restore,
}

/// The page's actions, so every form refreshes the mailbox and its
/// history, and the last answer of any of them is the one notice shown.
#[derive(Clone, Copy)]
struct Actions {
    update: ServerAction<UpdateMailbox>,
    suspend: ServerAction<SuspendMailbox>,
    reactivate: ServerAction<ReactivateMailbox>,
    reset: ServerAction<ResetMailboxPassword>,
    forward: ServerAction<ForwardMailbox>,
    delete: ServerAction<DeleteMailbox>,
    restore: ServerAction<RestoreMailbox>,
    /// The last answer, and from which action.
    last: RwSignal<Option<(Did, Result<RequestDone, AppError>)>>,
    /// What a plain form post (without WASM) left for this page.
    plain: PlainPost,
}

/// Notes each answer of `action` as the page's last one, starting with
/// its answer to a plain form post (without WASM), if it had one.
fn follow<A>(
    action: ServerAction<A>,
    did: Did,
    last: RwSignal<Option<(Did, Result<RequestDone, AppError>)>>,
    plain: PlainPost,
) where
    A: leptos::server_fn::ServerFn<Output = RequestDone, Error = AppError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    if let Some(answer) = plain.outcome(action) {
        last.set(Some((did, answer)));
    }
    Effect::new(move |_| {
        if let Some(answer) = action.value().get() {
            last.set(Some((did, answer)));
        }
    });
}

impl Actions {
    fn new() -> Self {
        let a = Actions {
            update: ServerAction::new(),
            suspend: ServerAction::new(),
            reactivate: ServerAction::new(),
            reset: ServerAction::new(),
            forward: ServerAction::new(),
            delete: ServerAction::new(),
            restore: ServerAction::new(),
            last: RwSignal::new(None),
            plain: PlainPost::take(),
        };
        follow(a.update, Did::Update, a.last, a.plain);
        follow(a.suspend, Did::Suspend, a.last, a.plain);
        follow(a.reactivate, Did::Reactivate, a.last, a.plain);
        follow(a.reset, Did::Reset, a.last, a.plain);
        follow(a.forward, Did::Forward, a.last, a.plain);
        follow(a.delete, Did::Delete, a.last, a.plain);
        follow(a.restore, Did::Restore, a.last, a.plain);
        a
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

    /// The last answer's field errors, for the fields of `did`'s form.
    fn result_of(&self, did: Did) -> Signal<Option<Result<RequestDone, AppError>>> {
        let last = self.last;
        Signal::derive(move || {
            last.with(|l| {
                l.as_ref()
                    .filter(|(d, _)| *d == did)
                    .map(|(_, r)| r.clone())
            })
        })
    }
}

#[component]
fn Mailbox() -> impl IntoView {
    let t = use_texts::<MailboxTexts>();
    let params = use_params_map();
    let address = move || params.read().get("address").unwrap_or_default();
    let actions = Actions::new();
    let detail = Resource::new(
        move || (address(), actions.version()),
        |(a, _)| mailbox_detail(a),
    );
    let loading = use_texts::<Common>().loading();

    view! {
        <p class="crumbs">
            <a href="/mailboxes">{t.back()}</a>
        </p>
        <MailboxesNav />
        <LastNotice actions />
        <Transition fallback=move || view! { <p class="muted">{loading}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail d actions /> }.into_any(),
                    Err(AppError::NotFound(_)) => view! { <Missing address=address() /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Detail(d: MailboxOverview, actions: Actions) -> impl IntoView {
    let t = use_texts::<MailboxTexts>();
    let m = d.mailbox;
    view! {
        <Summary m=m.clone() actions />
        <div class="columns">
            <Pointing aliases=d.aliases forwards=d.forwards />
            <Blocks blocks=d.blocks />
        </div>
        <div class="columns">
            <EditPanel m=m.clone() actions />
            <ForwardPanel m=m.clone() actions />
        </div>
        <section class="panel">
            <h2>{t.history()}</h2>
            <AuditTable entries=d.history />
        </section>
    }
}

/// The answer for an address that is no mailbox: 404, and a way on.
#[component]
fn Missing(address: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    let t = use_texts::<MailboxTexts>();
    let href = format!("/mailboxes?q={}", encode(&address));
    view! {
        <Title text=t.missing_heading() />
        <section class="panel narrow" data-testid="mailbox-missing">
            <h1>{t.missing_heading()}</h1>
            <p>{t.missing_text(&address)}</p>
            <p>
                <a href=href>{t.missing_search()}</a>
            </p>
        </section>
    }
}

/// What the last action did, in the past tense (or why it did nothing):
/// one notice, replaced by the next action's.
#[component]
fn LastNotice(actions: Actions) -> impl IntoView {
    let t = use_texts::<MailboxTexts>();
    move || {
        actions.last.with(|last| {
            let (did, answer) = last.as_ref()?;
            let said = match did {
                Did::Update => t.done_update(),
                Did::Suspend => t.done_suspend(),
                Did::Reactivate => t.done_reactivate(),
                Did::Reset => t.done_reset(),
                Did::Forward => t.done_forward(),
                Did::Delete => t.done_delete(),
                Did::Restore => t.done_restore(),
            };
            Some(view! { <Outcome answer=answer.clone() said /> })
        })
    }
}

#[component]
fn Summary(m: MailboxView, actions: Actions) -> impl IntoView {
    let t = use_texts::<MailboxTexts>();
    let none = use_texts::<Common>().none();
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
                <a href=format!("/mailboxes/trace?q={}&hours=24", encode(&m.address))>{t.trace()}</a>
            </p>
            <dl class="facts">
                <dt>{t.name()}</dt>
                <dd>{if m.name.is_empty() { none.to_string() } else { m.name.clone() }}</dd>
                <dt>{t.quota()}</dt>
                <dd>{quota(m.quota_mb)}</dd>
                <dt>{t.mail()}</dt>
                <dd>{flow(&m)}</dd>
                <dt>{t.forward()}</dt>
                <dd>{if m.forward_to.is_empty() { none.to_string() } else { m.forward_to.join(", ") }}</dd>
                {m.status_reason.clone().map(|r| view! { <dt>{t.reason()}</dt><dd>{r}</dd> })}
                <dt>{t.created()}</dt>
                <dd><Time at=m.created_at.timestamp() /></dd>
                <dt>{t.changed()}</dt>
                <dd><Time at=m.updated_at.timestamp() /></dd>
                {m.purge_after.map(|p| view! { <dt>{t.purged_on()}</dt><dd><Time at=p.timestamp() /></dd> })}
            </dl>
            <div class="action-row">
                {match status {
                    MailboxStatus::Active => {
                    let field = hidden();
                    view! {
                        <ActionForm action=actions.suspend attr:class="inline">
                            {field()}
                            <label>
                                {t.reason()}
                                <input type="text" name="request[reason]" value=actions.plain.typed(actions.suspend).value("request[reason]") required placeholder=t.reason_placeholder() />
                            </label>
                            <button type="submit">{t.suspend()}</button>
                            <FieldMessage result=actions.result_of(Did::Suspend) field="reason" />
                        </ActionForm>
                    }
                    .into_any()
                    }
                    MailboxStatus::Suspended => {
                    let field = hidden();
                    view! {
                        <ActionForm action=actions.reactivate attr:class="inline">
                            {field()}
                            <button type="submit" class="primary">{t.reactivate()}</button>
                        </ActionForm>
                    }
                    .into_any()
                    }
                    MailboxStatus::Deleted => {
                    let field = hidden();
                    view! {
                        <ActionForm action=actions.restore attr:class="inline">
                            {field()}
                            <button type="submit" class="primary">{t.restore()}</button>
                        </ActionForm>
                    }
                    .into_any()
                    }
                }}
                {(status != MailboxStatus::Deleted).then(|| {
                    let ask_reset = Some(t.ask_reset(&m.display_address));
                    let ask_delete = Some(t.ask_delete(&m.display_address));
                    let (field, field2) = (hidden(), hidden());
                    view! {
                        <ActionForm action=actions.reset attr:class="inline">
                            {field()}
                            <button type="submit" on:click=confirm_first(ask_reset)>{t.reset_password()}</button>
                        </ActionForm>
                        <ActionForm action=actions.delete attr:class="inline">
                            {field2()}
                            <button type="submit" class="danger" on:click=confirm_first(ask_delete)>{t.delete()}</button>
                        </ActionForm>
                    }
                })}
            </div>
        </section>
    }
}

/// The aliases and forwards that send mail to this mailbox, as links.
#[component]
fn Pointing(aliases: Vec<String>, forwards: Vec<String>) -> impl IntoView {
    let t = use_texts::<MailboxTexts>();
    let empty = aliases.is_empty() && forwards.is_empty();
    let list = |items: Vec<String>, href: fn(&str) -> String| {
        items
            .into_iter()
            .map(|a| view! { <li><a href=href(&a)>{a.clone()}</a></li> })
            .collect_view()
    };
    view! {
        <section class="panel" data-testid="pointing">
            <h2>{t.pointing()}</h2>
            {empty.then(|| view! { <p class="muted">{t.pointing_none()}</p> })}
            {(!aliases.is_empty()).then(|| view! {
                <h3>{t.pointing_aliases()}</h3>
                <ul>{list(aliases, |a| format!("/mailboxes/aliases?q={}", encode(a)))}</ul>
            })}
            {(!forwards.is_empty()).then(|| view! {
                <h3>{t.pointing_forwards()}</h3>
                <ul>{list(forwards, |a| format!("/mailboxes/{}", encode(a)))}</ul>
            })}
        </section>
    }
}

/// The active MailFlow account blocks of this mailbox (read-only): until
/// when, why, and a link to each in MailFlow.
#[component]
fn Blocks(blocks: Vec<BlockRow>) -> impl IntoView {
    let t = use_texts::<MailboxTexts>();
    let active = !blocks.is_empty();
    let rows = blocks
        .into_iter()
        .map(|b| {
            view! {
                <p class="notice error" role="status">
                    {t.blocked_until()} " " <Time at=b.expires_at /> {t.block_reason(&b.reason)}
                    {t.block_by(&b.approved_by)} " " <Time at=b.approved_at />
                    {t.block_no(b.id)} " "
                    <a href=format!("/mailflow#block-{}", b.id)>{t.in_mailflow()}</a>
                </p>
            }
        })
        .collect_view();
    view! {
        <section class="panel" data-testid="blocks">
            <h2>{t.blocks()}</h2>
            {if active {
                view! { {rows} <p class="muted">{t.blocks_note()}</p> }.into_any()
            } else {
                view! { <p class="muted">{t.blocks_none()}</p> }.into_any()
            }}
        </section>
    }
}

#[component]
fn EditPanel(m: MailboxView, actions: Actions) -> impl IntoView {
    let t = use_texts::<MailboxTexts>();
    let save = use_texts::<Common>().save();
    let result = actions.result_of(Did::Update);
    let deleted = m.status == MailboxStatus::Deleted;
    let mt = use_texts::<MailboxesTexts>();
    // After a refused post without WASM: what was typed, not the stored values.
    let typed = actions.plain.typed(actions.update);
    view! {
        <section class="panel">
            <h2>{t.details()}</h2>
            <ActionForm action=actions.update attr:class="grid-form">
                <input type="hidden" name="request[address]" value=m.address.clone() />
                <Field label=t.name() result=result field="name">
                    <input type="text" name="request[name]" value=typed.value_or("request[name]", m.name.clone()) disabled=deleted />
                </Field>
                <Field label=t.quota_field() result=result field="quota_mb">
                    <input type="text" inputmode="numeric" name="request[quota_mb]" value=typed.value_or("request[quota_mb]", m.quota_mb.to_string()) disabled=deleted />
                </Field>
                <fieldset>
                    <legend>{mt.mail()}</legend>
                    <label class="check">
                        <input type="checkbox" name="request[send_only]" value="true" checked=typed.checked_or("request[send_only]", !m.can_receive) disabled=deleted />
                        {t.send_only()}
                    </label>
                    <label class="check">
                        <input type="checkbox" name="request[receive_only]" value="true" checked=typed.checked_or("request[receive_only]", !m.can_send) disabled=deleted />
                        {t.receive_only()}
                    </label>
                    <FieldMessage result=result field="send_only" />
                </fieldset>
                <SubmitRow label=save disabled=deleted />
            </ActionForm>
        </section>
    }
}

#[component]
fn ForwardPanel(m: MailboxView, actions: Actions) -> impl IntoView {
    let t = use_texts::<MailboxTexts>();
    let result = actions.result_of(Did::Forward);
    let deleted = m.status == MailboxStatus::Deleted;
    let typed = actions.plain.typed(actions.forward);
    view! {
        <section class="panel">
            <h2>{t.forward()}</h2>
            <ActionForm action=actions.forward attr:class="grid-form">
                <input type="hidden" name="request[address]" value=m.address.clone() />
                <Field label=t.forward_to() result=result field="forward_to">
                    <textarea name="request[forward_to]" rows="2" disabled=deleted placeholder="other@example.org">
                        {typed.value_or("request[forward_to]", m.forward_to.join(", "))}
                    </textarea>
                </Field>
                <label class="check">
                    <input type="checkbox" name="request[keep_copy]" value="true" checked=typed.checked_or("request[keep_copy]", m.forward_keep_copy) disabled=deleted />
                    {t.keep_copy()}
                </label>
                <SubmitRow label=t.save_forward() disabled=deleted />
            </ActionForm>
        </section>
    }
}
