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
use crate::i18n::{Locale, Time, Zone, use_locale, use_texts};
use crate::model::{BlockRow, BulkOutcome, DefenceState, ProposalRow, Section, SubjectKind};
use leptos::prelude::*;
use mailflow::time::MINUTES_PER_DAY;
use std::collections::BTreeSet;
use std::time::Duration;

crate::texts! {
    /// The MailFlow defence page, and the words every MailFlow page and
    /// the defence server functions share (subjects, durations, reasons,
    /// guardrails).
    pub struct DefenceTexts {
        title = "MailFlow defence", "Defesa MailFlow";
        intro = "Blocks proposed by the detection policies wait here for a decision. An approved block reaches Postfix within seconds. ", "Os bloqueios propostos pelas políticas de detecção aguardam aqui uma decisão. Um bloqueio aprovado chega ao Postfix em segundos. ";
        link_detection = "Detection policies and allowlist →", "Políticas de detecção e lista de permissões →";
        link_unclassified = "Unclassified rejects →", "Rejeições não classificadas →";
        back_to_proposals = "← Proposals and blocks", "← Propostas e bloqueios";
        proposed_blocks = "Proposed blocks", "Bloqueios propostos";
        nothing_waits = "Nothing waits for a decision.", "Nada aguarda decisão.";
        blocks = "Blocks", "Bloqueios";
        block_by_hand = "Block by hand", "Bloqueio manual";
        search_blocks = "Search blocks", "Buscar bloqueios";
        one_hour = "1 hour", "1 hora";
        one_day = "1 day", "1 dia";
        one_week = "1 week", "1 semana";
        thirty_days = "30 days", "30 dias";
        plus_hour = "+1 hour", "+1 hora";
        plus_day = "+1 day", "+1 dia";
        plus_week = "+1 week", "+1 semana";
        kind = "Kind", "Tipo";
        kind_ip = "IP address or network", "Endereço IP ou rede";
        kind_account = "Account", "Conta";
        target = "Address, network or account", "Endereço, rede ou conta";
        duration = "Duration", "Duração";
        custom = "Custom", "Personalizada";
        minutes = "Minutes", "Minutos";
        reason = "Reason", "Motivo";
        block = "Block", "Bloquear";
        override_title = "Block inside a customer pool or a wide network", "Bloquear dentro de um pool de clientes ou de uma rede ampla";
        override_label = "Override guardrails (admin)", "Ignorar as salvaguardas (administrador)";
        target_contains = "Target contains", "Alvo contém";
        by = "By", "Por";
        state = "State", "Situação";
        state_active = "Active", "Ativos";
        state_ended = "Lifted or expired", "Retirados ou expirados";
        state_all = "All", "Todos";
        made_from = "Made from", "Criados de";
        made_to = "to", "até";
        previous = "Previous", "Anterior";
        next = "Next", "Próxima";
        minutes_default = "Minutes (empty: default)", "Minutos (vazio: padrão)";
        reason_approve = "Reason to approve", "Motivo da aprovação";
        approve_selected = "Approve selected", "Aprovar selecionadas";
        reason_reject = "Reason to reject", "Motivo da rejeição";
        suppress_for = "Do not propose again for", "Não propor de novo por";
        reject_selected = "Reject selected", "Rejeitar selecionadas";
        select_all = "Select all", "Selecionar todas";
        col_subject = "Subject", "Alvo";
        col_policy = "Policy", "Política";
        col_evidence = "Evidence", "Evidências";
        col_seen = "Seen", "Visto";
        col_block_for = "Block for", "Bloquear por";
        col_reason = "Reason", "Motivo";
        col_approved = "Approved", "Aprovado";
        col_until = "Until", "Até";
        col_refused = "Refused", "Recusadas";
        col_actions = "Actions", "Ações";
        needs_override = "needs override", "exige administrador";
        show_evidence = "Show evidence", "Mostrar evidências";
        hide_evidence = "Hide evidence", "Ocultar evidências";
        started = "Started", "Início";
        threshold = "Threshold", "Limiar";
        last = "Last", "Último";
        log_lines = "Log lines", "Linhas de log";
        no_block_matches = "No block matches.", "Nenhum bloqueio encontrado.";
        no_block_in_force = "No block is in force, and none ended this week.", "Nenhum bloqueio em vigor, e nenhum terminou esta semana.";
        why_lift = "Why lift it", "Por que retirar";
        lift = "Lift", "Retirar bloqueio";
        extend = "Extend", "Prorrogar";
        values = "Values", "Valores";
        list_ips = "Client IPs", "IPs de clientes";
        list_recipients = "Recipients", "Destinatários";
        list_helos = "HELO names", "Nomes HELO";
        list_client_names = "Reverse names", "Nomes reversos";
        account = "Account", "Conta";
        open_mailbox = "Open mailbox", "Abrir caixa postal";
        latest_logins = "Latest logins", "Últimos logins";
        from_ip = "from", "de";
        history = "History", "Histórico";
        col_proposal = "Proposal", "Proposta";
        col_status = "Status", "Situação";
        col_decided_by = "Decided by", "Decidida por";
        no_earlier_proposal = "No earlier proposal.", "Nenhuma proposta anterior.";
        col_block = "Block", "Bloqueio";
        col_made_by = "Made by", "Feito por";
        never_blocked = "Never blocked.", "Nunca bloqueado.";
        col_day = "Day", "Dia";
        col_rejects = "Rejects", "Rejeições";
        no_rejects = "No rejects in 30 days.", "Nenhuma rejeição em 30 dias.";
        days_utc = "Days in UTC.", "Dias em UTC.";
        subject_ip = "ip", "IP";
        subject_account = "account", "conta";
        status_pending = "pending", "pendente";
        status_approved = "approved", "aprovada";
        status_rejected = "rejected", "rejeitada";
        status_expired = "expired", "expirada";
        r_unknown_user = "rejected for unknown recipients", "rejeitadas por destinatário inexistente";
        r_relay = "rejected as relay attempts", "rejeitadas como tentativa de relay";
        r_domain = "rejected for a bad or unknown domain", "rejeitadas por domínio inválido ou desconhecido";
        r_not_logged = "rejected: sender not logged in", "rejeitadas: remetente não autenticado";
        r_not_owned = "rejected: sender address not owned by the account", "rejeitadas: endereço do remetente não pertence à conta";
        r_spf = "rejected by SPF", "rejeitadas pelo SPF";
        r_sender_denied = "rejected: sender denied", "rejeitadas: remetente negado";
        r_sender_other = "rejected for the sender", "rejeitadas pelo remetente";
        r_sender_unknown = "rejected: unknown sender address", "rejeitadas: endereço de remetente desconhecido";
        r_rate = "rejected for a rate limit", "rejeitadas por limite de taxa";
        r_rbl = "rejected by a blocklist", "rejeitadas por uma lista de bloqueio";
        r_helo = "rejected for the HELO name", "rejeitadas pelo nome HELO";
        r_recipient_denied = "rejected: recipient access denied", "rejeitadas: acesso ao destinatário negado";
        r_reverse_dns = "rejected: no reverse DNS name", "rejeitadas: sem DNS reverso";
        r_server = "temporary server failures (not abuse)", "falhas temporárias do servidor (não é abuso)";
        r_other = "rejected (unclassified)", "rejeitadas (não classificadas)";
        r_rejects = "rejected", "rejeitadas";
        r_sasl_failures = "failed logins", "logins com falha";
        r_account_sasl_failures = "failed logins to this account", "logins com falha nesta conta";
        r_network_sasl_failures = "failed logins from this network", "logins com falha a partir desta rede";
        r_network_rejects = "rejected from this network", "rejeitadas a partir desta rede";
        r_messages = "messages sent", "mensagens enviadas";
        r_recipients = "recipients written to", "destinatários contatados";
        r_distinct_recipients = "distinct recipients", "destinatários distintos";
        r_distinct_ips = "distinct client IPs", "IPs de clientes distintos";
        r_bounces = "bounces", "devoluções";
        no_such_proposal = "no such proposal", "proposta inexistente";
        select_one = "Select at least one proposal.", "Selecione pelo menos uma proposta.";
        give_reason = "Give a reason: it goes to the audit log.", "Informe um motivo: ele vai para o registro de auditoria.";
        suppress_range = "Suppress for 0 to 8760 hours.", "Suspenda por 0 a 8760 horas.";
        block_ip_or_account = "Block an ip or an account.", "Bloqueie um IP ou uma conta.";
        give_target = "Give the address, network or account to block (at most 320 characters).", "Informe o endereço, a rede ou a conta a bloquear (no máximo 320 caracteres).";
        search_too_long = "The search text is too long.", "O texto da busca é longo demais.";
    }
    formats {
        approved(n: &str) = format!("Approved {n}."), format!("Aprovadas: {n}.");
        rejected(n: &str) = format!("Rejected {n}."), format!("Rejeitadas: {n}.");
        not_done(list: &str) = format!(" Not done: {list}."), format!(" Não feitas: {list}.");
        blocked(target: &str, until: &str, id: i64) = format!("Blocked {target} until {until} (block #{id})."), format!("{target} bloqueado até {until} (bloqueio nº {id}).");
        found(total: &str, page: u64, pages: u64) = format!("{total} block(s), page {page} of {pages}"), format!("{total} bloqueio(s), página {page} de {pages}");
        select(target: &str) = format!("Select {target}"), format!("Selecionar {target}");
        earlier_blocks(n: &str) = format!("{n} earlier block(s)"), format!("{n} bloqueio(s) anterior(es)");
        lifted_by(at: &str, by: &str) = format!("lifted {at} by {by}"), format!("retirado em {at} por {by}");
        lifted(at: &str) = format!("lifted {at}"), format!("retirado em {at}");
        left(until: &str, left: &str) = format!("{until} ({left} left)"), format!("{until} (faltam {left})");
        expired(at: &str) = format!("expired {at}"), format!("expirou em {at}");
        more_not_stored(n: &str) = format!("and {n} more not stored"), format!("e mais {n} não armazenados");
        volume(last: &str, usual: &str) = format!("{last} messages in the last 24 h; usually {usual} a day (14 days before today)"), format!("{last} mensagens nas últimas 24 h; normalmente {usual} por dia (nos 14 dias antes de hoje)");
        days(n: i64) = format!("{n} days"), format!("{n} dias");
        hours(n: i64) = format!("{n} h"), format!("{n} h");
        mins(n: i64) = format!("{n} min"), format!("{n} min");
        already(status: &str) = format!("already {status}"), format!("já {status}");
        proposal_n(id: i64) = format!("Proposal {id}"), format!("Proposta {id}");
        block_n(id: i64) = format!("Block {id}"), format!("Bloqueio {id}");
        mailbox_n(address: &str) = format!("Mailbox {address}"), format!("Caixa postal {address}");
        not_detail_list(list: &str) = format!("{list:?} is not a detail list."), format!("{list:?} não é uma lista de detalhes.");
        not_proposal_number(s: &str) = format!("{s:?} is not a proposal number."), format!("{s:?} não é um número de proposta.");
        at_most_bulk(n: usize) = format!("Select at most {n} proposals at once."), format!("Selecione no máximo {n} propostas de uma vez.");
        duration_range(days: i64) = format!("A duration is between 1 minute and {days} days."), format!("A duração vai de 1 minuto a {days} dias.");
        no_longer_active(id: i64) = format!("Block {id} is no longer active."), format!("O bloqueio {id} não está mais ativo.");
        not_ip(target: &str) = format!("{target:?} is not an IP address or a network such as 192.0.2.0/24."), format!("{target:?} não é um endereço IP nem uma rede como 192.0.2.0/24.");
        not_account(target: &str) = format!("{target:?} is not an account name."), format!("{target:?} não é um nome de conta.");
        reason_too_long(n: usize) = format!("A reason is at most {n} characters."), format!("O motivo tem no máximo {n} caracteres.");
        already_blocked(target: &str, id: i64) = format!("{target} is already blocked (block #{id})."), format!("{target} já está bloqueado (bloqueio nº {id}).");
        not_block_state(s: &str) = format!("{s:?} is not a block state (all, active, ended)."), format!("{s:?} não é uma situação de bloqueio (all, active, ended).");
        not_date(s: &str) = format!("{s:?} is not a date (YYYY-MM-DD)."), format!("{s:?} não é uma data (AAAA-MM-DD).");
        not_minutes(s: &str) = format!("{s:?} is not a number of minutes."), format!("{s:?} não é um número de minutos.");
        not_number(s: &str) = format!("{s:?} is not a number."), format!("{s:?} não é um número.");
        never_block_touch(net: &str, never: &str) = format!("{net} touches the never-block network {never}: it cannot be blocked (an admin can take the network off the list in the detection settings)"), format!("{net} se sobrepõe à rede {never} da lista nunca bloquear: não pode ser bloqueado (um administrador pode tirar a rede da lista nas configurações de detecção)");
        admin_must_override(concern: &str) = format!("{concern}: an admin must override"), format!("{concern}: um administrador precisa autorizar a exceção");
        wider_than(net: &str, widest: u8) = format!("{net} is wider than /{widest}"), format!("{net} é mais ampla que /{widest}");
        in_pool(net: &str, pool: &str) = format!("{net} is in the customer pool {pool}"), format!("{net} está no pool de clientes {pool}");
    }
}

impl DefenceTexts {
    /// A subject kind as the pages name it (`ip`, `account`).
    pub fn subject(self, kind: SubjectKind) -> &'static str {
        match kind {
            SubjectKind::Ip => self.subject_ip(),
            SubjectKind::Account => self.subject_account(),
        }
    }

    /// A proposal's stored status (`pending`, `approved`…) in words.
    pub fn status(self, status: &str) -> String {
        match status {
            "pending" => self.status_pending().into(),
            "approved" => self.status_approved().into(),
            "rejected" => self.status_rejected().into(),
            "expired" => self.status_expired().into(),
            other => other.into(),
        }
    }

    /// The heading of detail list `list` (see [`crate::model::DETAIL_LISTS`]).
    pub fn list_title(self, list: &str) -> &'static str {
        match list {
            "ips" => self.list_ips(),
            "recipients" => self.list_recipients(),
            "helos" => self.list_helos(),
            "client_names" => self.list_client_names(),
            _ => self.values(),
        }
    }

    /// What reason (or reject class) `key` counts, in words; `None` for a
    /// class the team made up.
    pub fn reason_of(self, key: &str) -> Option<&'static str> {
        Some(match key {
            "unknown_user" => self.r_unknown_user(),
            "relay" => self.r_relay(),
            "domain" => self.r_domain(),
            "not_logged" => self.r_not_logged(),
            "not_owned" => self.r_not_owned(),
            "spf" => self.r_spf(),
            "sender_denied" => self.r_sender_denied(),
            "sender_other" => self.r_sender_other(),
            "sender_unknown" => self.r_sender_unknown(),
            "rate" => self.r_rate(),
            "rbl" => self.r_rbl(),
            "helo" => self.r_helo(),
            "recipient_denied" => self.r_recipient_denied(),
            "reverse_dns" => self.r_reverse_dns(),
            "server" => self.r_server(),
            "other" => self.r_other(),
            "rejects" => self.r_rejects(),
            "sasl_failures" => self.r_sasl_failures(),
            "account_sasl_failures" => self.r_account_sasl_failures(),
            "network_sasl_failures" => self.r_network_sasl_failures(),
            "network_rejects" => self.r_network_rejects(),
            "messages" => self.r_messages(),
            "recipients" => self.r_recipients(),
            "distinct_recipients" => self.r_distinct_recipients(),
            "distinct_ips" => self.r_distinct_ips(),
            "bounces" => self.r_bounces(),
            _ => return None,
        })
    }

    /// Minutes as the largest whole unit that fits: `3 days`, `5 h`, `20 min`.
    pub fn duration_of(self, minutes: i64) -> String {
        match minutes {
            m if m >= 2 * MINUTES_PER_DAY && m % MINUTES_PER_DAY == 0 => {
                self.days(m / MINUTES_PER_DAY)
            }
            m if m >= MINUTES_PER_DAY && m % MINUTES_PER_DAY == 0 => self.one_day().into(),
            m if m >= 120 => self.hours(m / 60),
            m => self.mins(m),
        }
    }
}

/// How often the page asks again.
const REFRESH: Duration = Duration::from_secs(15);

#[component]
pub fn DefencePage() -> impl IntoView {
    let title = use_texts::<DefenceTexts>().title();
    view! { <Page title section=Section::MailFlow children=|_| view! { <DefenceBoard /> } /> }
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
    let t = use_texts::<DefenceTexts>();
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
        <h1>{t.title()}</h1>
        <p class="muted">
            {t.intro()}
            <a href="/mailflow/detection">{t.link_detection()}</a>
            " " <a href="/mailflow/unclassified">{t.link_unclassified()}</a>
        </p>
        <crate::pages::alerts::Alerts />
        <BulkNotice result=actions.approve.value() done=DefenceTexts::approved />
        <BulkNotice result=actions.reject.value() done=DefenceTexts::rejected />
        <ActionError result=actions.lift.value() />
        <ActionError result=actions.extend.value() />
        <ActionError result=actions.add.value() />
        <Loaded resource=overview let:o>
            <Overview overview=o actions />
        </Loaded>
    }
}

/// What a bulk action did (`done` says how many), or why it failed.
#[component]
fn BulkNotice(
    #[prop(into)] result: Signal<Option<Result<BulkOutcome, AppError>>>,
    done: fn(DefenceTexts, &str) -> String,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<DefenceTexts>();
    move || match result.get() {
        Some(Ok(o)) => {
            let skipped = o
                .skipped
                .iter()
                .map(|(target, why)| format!("{target} ({why})"))
                .collect::<Vec<_>>()
                .join("; ");
            let mut text = done(t, &locale.number(o.done));
            if !skipped.is_empty() {
                text.push_str(&t.not_done(&skipped));
            }
            view! { <SuccessBox message=text /> }.into_any()
        }
        Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
        None => ().into_any(),
    }
}

#[component]
fn Overview(overview: DefenceState, actions: Actions) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<DefenceTexts>();
    let now = overview.now;
    let admin = overview.can_override;
    view! {
        <section class="panel">
            <h2>{t.proposed_blocks()} " " <span class="badge">{locale.number(overview.proposals.len() as u64)}</span></h2>
            {if overview.proposals.is_empty() {
                view! { <p class="muted">{t.nothing_waits()}</p> }.into_any()
            } else {
                view! { <Proposals proposals=overview.proposals actions admin /> }.into_any()
            }}
        </section>
        <section class="panel">
            <h2>{t.blocks()}</h2>
            <Blocks blocks=overview.blocks now actions />
        </section>
        <section class="panel">
            <h2>{t.block_by_hand()}</h2>
            <ManualBlockForm actions admin />
        </section>
        <section class="panel">
            <h2>{t.search_blocks()}</h2>
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

/// `text` (which shows local time `at`) with `at` in UTC on hover.
fn with_utc(locale: &Locale, text: String, at: i64) -> impl IntoView + use<> {
    view! { <span title=locale.utc(at)>{text}</span> }
}

#[component]
fn ManualBlockForm(actions: Actions, admin: bool) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<DefenceTexts>();
    let reason = cleared_after(actions.add.version());
    let target = cleared_after(actions.add.version());
    let custom = RwSignal::new(false);
    // The block durations offered, in minutes, and a custom one.
    let presets = [
        ("60", t.one_hour()),
        ("1440", t.one_day()),
        ("10080", t.one_week()),
        ("43200", t.thirty_days()),
    ]
    .into_iter()
    .map(|(m, label)| view! { <option value=m selected={m == "1440"}>{label}</option> })
    .collect_view();
    view! {
        <ActionForm action=actions.add attr:class="inline manual-block">
            <label>
                {t.kind()}
                <select name="subject">
                    <option value="ip">{t.kind_ip()}</option>
                    <option value="account">{t.kind_account()}</option>
                </select>
            </label>
            <label>
                {t.target()}
                <input type="text" name="target" required maxlength="320" bind:value=target />
            </label>
            <label>
                {t.duration()}
                <select name="minutes" on:change=move |ev| custom.set(event_target_value(&ev) == "custom")>
                    {presets}
                    <option value="custom">{t.custom()}</option>
                </select>
            </label>
            <Show when=move || custom.get()>
                <label>
                    {t.minutes()}
                    <input type="number" name="custom_minutes" min="1" max="525600" required class="narrow" />
                </label>
            </Show>
            <label>
                {t.reason()}
                <input type="text" name="reason" required maxlength="500" bind:value=reason />
            </label>
            {admin.then(|| view! { <OverrideBox /> })}
            <button type="submit" class="primary small">{t.block()}</button>
        </ActionForm>
        {move || {
            actions.add.value().get().and_then(Result::ok).map(|b| {
                let text = t.blocked(&b.target, &locale.datetime(b.expires_at), b.id);
                view! { <SuccessBox message=text /> }
            })
        }}
    }
}

/// The admin-only guardrail override.
#[component]
fn OverrideBox() -> impl IntoView {
    let t = use_texts::<DefenceTexts>();
    view! {
        <label class="check" title=t.override_title()>
            <input type="checkbox" name="override_guard" value="true" />
            {t.override_label()}
        </label>
    }
}

#[component]
fn BlockSearch(actions: Actions) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<DefenceTexts>();
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
            <label>{t.target_contains()} <input type="search" prop:value=text on:change=field(text) /></label>
            <label>{t.by()} <input type="search" class="narrow" prop:value=by on:change=field(by) /></label>
            <label>
                {t.state()}
                <select on:change=field(state)>
                    <option value="active" selected>{t.state_active()}</option>
                    <option value="ended">{t.state_ended()}</option>
                    <option value="all">{t.state_all()}</option>
                </select>
            </label>
            <label>{t.made_from()} <input type="date" prop:value=from on:change=field(from) /></label>
            <label>{t.made_to()} <input type="date" prop:value=to on:change=field(to) /></label>
        </form>
        <Loaded resource=results let:found>
            <p class="muted">{t.found(&locale.number(found.total), found.page + 1, found.pages)}</p>
            <Blocks blocks=found.rows now=found.now actions found=true />
            <Pager page pages=found.pages />
        </Loaded>
    }
}

/// Previous / next buttons over `pages` pages.
#[component]
fn Pager(page: RwSignal<u64>, pages: u64) -> impl IntoView {
    let t = use_texts::<DefenceTexts>();
    (pages > 1).then(|| {
        view! {
            <div class="pager">
                <button type="button" class="small" disabled=move || page.get() == 0
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>{t.previous()}</button>
                <button type="button" class="small" disabled=move || page.get() + 1 >= pages
                    on:click=move |_| page.update(|p| *p += 1)>{t.next()}</button>
            </div>
        }
    })
}

#[component]
fn Proposals(proposals: Vec<ProposalRow>, actions: Actions, admin: bool) -> impl IntoView {
    let t = use_texts::<DefenceTexts>();
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
                    {t.minutes_default()}
                    <input type="number" name="minutes" min="1" class="narrow" />
                </label>
                <label>
                    {t.reason_approve()}
                    <input type="text" name="reason" required maxlength="500" bind:value=approve_reason />
                </label>
                {admin.then(|| view! { <OverrideBox /> })}
                <button type="submit" class="primary small" disabled=none_selected>
                    {t.approve_selected()}
                </button>
            </ActionForm>
            <ActionForm action=actions.reject attr:class="inline bulk-form">
                <input type="hidden" name="ids" prop:value=ids />
                <label>
                    {t.reason_reject()}
                    <input type="text" name="reason" required maxlength="500" bind:value=reject_reason />
                </label>
                <label>
                    {t.suppress_for()}
                    <select name="suppress_hours">
                        <option value="24">{t.one_day()}</option>
                        <option value="168" selected>{t.one_week()}</option>
                        <option value="720">{t.thirty_days()}</option>
                    </select>
                </label>
                <button type="submit" class="small" disabled=none_selected>
                    {t.reject_selected()}
                </button>
            </ActionForm>
        </div>
        <table class="data proposals">
            <thead>
                <tr>
                    <th>
                        <input
                            type="checkbox"
                            aria-label=t.select_all()
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                selected.set(if on { all.iter().copied().collect() } else { BTreeSet::new() });
                            }
                        />
                    </th>
                    <th>{t.col_subject()}</th>
                    <th>{t.col_policy()}</th>
                    <th>{t.col_evidence()}</th>
                    <th>{t.col_seen()}</th>
                    <th>{t.col_block_for()}</th>
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
    let locale = use_locale();
    let t = locale.texts::<DefenceTexts>();
    let id = p.id;
    let open = RwSignal::new(false);
    let samples = p.samples.clone();
    let reasons = p
        .reasons
        .iter()
        .map(|(r, n)| view! { <span class="chip" title=r.clone()>{reason_phrase(t, &locale, r, *n)}</span> })
        .collect_view();
    let counts = p
        .details
        .iter()
        .map(|(list, n)| {
            let text = format!(
                "{} {} ",
                locale.number(*n),
                t.list_title(list).to_lowercase()
            );
            view! { <span class="muted">{text}</span> }
        })
        .collect_view();
    let (subject, target, details) = (p.subject, p.target.clone(), p.details.clone());
    view! {
        <tr data-target=p.target.clone()>
            <td>
                <input
                    type="checkbox"
                    aria-label=t.select(&p.target)
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
                <span class="badge">{t.subject(p.subject)}</span>
                {p.needs_override.clone().map(|why| view! { <span class="badge error" title=why>{t.needs_override()}</span> })}
            </td>
            <td>{p.policy.clone()}</td>
            <td>
                <div class="chips">{reasons}</div>
                {counts}
                <button type="button" class="link small" on:click=move |_| open.update(|o| *o = !*o)>
                    {move || if open.get() { t.hide_evidence() } else { t.show_evidence() }}
                </button>
            </td>
            <td class="nowrap seen">
                {t.started()} " " <Time at=p.started /> <br />
                {t.threshold()} " " <Time at=p.first_seen /> <br />
                {t.last()} " " <Time at=p.last_seen />
            </td>
            <td>
                {t.duration_of(p.default_minutes)}
                {(p.earlier_blocks > 0)
                    .then(|| view! { <br /><span class="muted">{t.earlier_blocks(&locale.number(p.earlier_blocks))}</span> })}
            </td>
        </tr>
        <Show when=move || open.get()>
            <tr class="evidence">
                <td colspan="6">
                    <Evidence id subject target=target.clone() details=details.clone() />
                    <h3>{t.log_lines()}</h3>
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
    let locale = use_locale();
    let t = locale.texts::<DefenceTexts>();
    let (class, empty) = if found {
        ("data found-blocks", t.no_block_matches())
    } else {
        ("data blocks", t.no_block_in_force())
    };
    let head = vec![
        t.col_subject(),
        t.col_reason(),
        t.col_approved(),
        t.col_until(),
        t.col_refused(),
        t.col_actions(),
    ];
    view! {
        <DataTable rows=blocks head class empty row=move |b| {
                let active = b.lifted_at.is_none() && b.expires_at > now;
                let id = b.id.to_string();
                let until = match (&b.lifted_by, b.lifted_at) {
                    (Some(by), Some(at)) => with_utc(&locale, t.lifted_by(&locale.datetime(at), by), at),
                    _ if active => with_utc(
                        &locale,
                        t.left(&locale.datetime(b.expires_at), &t.duration_of((b.expires_at - now) / 60)),
                        b.expires_at,
                    ),
                    _ => with_utc(&locale, t.expired(&locale.datetime(b.expires_at)), b.expires_at),
                };
                view! {
                    <tr id=(!found).then(|| format!("block-{}", b.id)) data-target=b.target.clone() class:inactive=!active>
                        <td>
                            <strong class="target">{b.target.clone()}</strong>
                            <br />
                            <span class="badge">{t.subject(b.subject)}</span>
                            <span class="muted">" #" {b.id}</span>
                        </td>
                        <td>{b.reason.clone()}</td>
                        <td class="nowrap">{b.approved_by.clone()} <br /> <Time at=b.approved_at /></td>
                        <td>{until}</td>
                        <td>{locale.number(b.hits)}</td>
                        <td class="actions">
                            {active
                                .then(|| {
                                    let id2 = id.clone();
                                    view! {
                                        <ActionForm action=actions.lift attr:class="inline">
                                            <input type="hidden" name="id" value=id.clone() />
                                            <input type="text" name="reason" placeholder=t.why_lift() required class="narrow" />
                                            <button type="submit" class="small">{t.lift()}</button>
                                        </ActionForm>
                                        <ActionForm action=actions.extend attr:class="inline">
                                            <input type="hidden" name="id" value=id2 />
                                            <select name="minutes">
                                                <option value="60">{t.plus_hour()}</option>
                                                <option value="1440" selected>{t.plus_day()}</option>
                                                <option value="10080">{t.plus_week()}</option>
                                            </select>
                                            <button type="submit" class="small">{t.extend()}</button>
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
    let locale = use_locale();
    let t = locale.texts::<DefenceTexts>();
    let page = RwSignal::new(0u64);
    let title = t.list_title(&list);
    let values = Resource::new(
        move || page.get(),
        move |page| proposal_details(id, list.clone(), page),
    );
    view! {
        <div class="detail-list">
            <h3>{title} " (" {locale.number(total)} ")"</h3>
            <Loaded resource=values let:d>
                <ul class="values">
                    {d.values.into_iter().map(|v| view! { <li>{v}</li> }).collect_view()}
                </ul>
                {(d.more > 0).then(|| view! { <p class="muted">{t.more_not_stored(&locale.number(d.more))}</p> })}
                <Pager page pages=d.pages />
            </Loaded>
        </div>
    }
}

/// The subject's earlier proposals and blocks, rejects per day and, for an
/// account, its mailbox, volume and logins.
#[component]
fn History(subject: SubjectKind, target: String) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<DefenceTexts>();
    // The rejects are counted per UTC day: their dates are shown in UTC.
    let utc_days = Locale {
        zone: std::sync::Arc::new(Zone::default()),
        ..locale.clone()
    };
    let history = Resource::new(
        || (),
        move |_| subject_history(subject.name().to_string(), target.clone()),
    );
    view! {
        <Loaded resource=history let:h>
            {h.account.map(|a| {
                let mailbox = a.mailbox.map(|m| {
                    let href = format!("/mailboxes/{m}");
                    view! { <a href=href>{t.open_mailbox()} " " {m}</a> }
                });
                let logins = a
                    .logins
                    .into_iter()
                    .map(|(at, ip)| view! { <li><Time at /> " " {t.from_ip()} " " {ip}</li> })
                    .collect_view();
                let volume = t.volume(&locale.number(a.last_day), &locale.decimal(a.usual_per_day, 1));
                view! {
                    <div class="account-context">
                        <h3>{t.account()}</h3>
                        <p>{mailbox}</p>
                        <p>{volume}</p>
                        <h4>{t.latest_logins()}</h4>
                        <ul class="values">{logins}</ul>
                    </div>
                }
            })}
            <h3>{t.history()}</h3>
            <DataTable rows=h.proposals
                head=vec![t.col_proposal(), t.started(), t.col_status(), t.col_decided_by(), t.col_reason()]
                empty=t.no_earlier_proposal() row=move |p| view! {
                    <tr>
                        <td>"#" {p.id} " " {p.policy}</td>
                        <td class="nowrap"><Time at=p.started /></td>
                        <td>{t.status(&p.status)}</td>
                        <td>{p.decided_by.unwrap_or_default()} " " {p.decided_at.map(|at| view! { <Time at /> })}</td>
                        <td>{p.decision_reason.unwrap_or_default()}</td>
                    </tr>
                } />
            <DataTable rows=h.blocks head=vec![t.col_block(), t.col_made_by(), t.col_until(), t.col_reason()]
                empty=t.never_blocked() row={
                    let locale = locale.clone();
                    move |b| {
                        let until = match b.lifted_at {
                            Some(at) => with_utc(&locale, t.lifted(&locale.datetime(at)), at),
                            None => with_utc(&locale, locale.datetime(b.expires_at), b.expires_at),
                        };
                        view! {
                            <tr>
                                <td>"#" {b.id}</td>
                                <td>{b.approved_by} " " <Time at=b.approved_at /></td>
                                <td>{until}</td>
                                <td>{b.reason}</td>
                            </tr>
                        }
                    }
                } />
            <DataTable rows=h.rejects_by_day head=vec![t.col_day(), t.col_rejects()] num=vec![t.col_rejects()]
                empty=t.no_rejects() row={
                    let utc_days = utc_days.clone();
                    move |(day, n)| view! {
                        <tr><td title=t.days_utc()>{utc_days.date(day)}</td><td class="num">{utc_days.number(n)}</td></tr>
                    }
                } />
        </Loaded>
    }
}

/// `n` of reason `key` as an analyst reads it: `unknown_user` 90 is "90
/// rejected for unknown recipients". A custom class keeps its key.
pub fn reason_phrase(t: DefenceTexts, locale: &Locale, key: &str, n: u64) -> String {
    format!("{} {}", locale.number(n), t.reason_of(key).unwrap_or(key))
}

/// The defence texts in the language of the request being answered (for
/// the server functions' messages).
#[cfg(feature = "ssr")]
pub fn server_texts() -> DefenceTexts {
    DefenceTexts(crate::server::locale::request_lang())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn locale(lang: Lang) -> Locale {
        Locale {
            lang,
            ..Locale::default()
        }
    }

    #[test]
    fn reasons_read_as_sentences() {
        let (en, pt) = (DefenceTexts(Lang::En), DefenceTexts(Lang::PtBr));
        let (l_en, l_pt) = (locale(Lang::En), locale(Lang::PtBr));
        assert_eq!(
            reason_phrase(en, &l_en, "unknown_user", 90),
            "90 rejected for unknown recipients"
        );
        assert_eq!(
            reason_phrase(pt, &l_pt, "unknown_user", 1200),
            "1.200 rejeitadas por destinatário inexistente"
        );
        assert_eq!(
            reason_phrase(en, &l_en, "distinct_ips", 12),
            "12 distinct client IPs"
        );
        assert_eq!(
            reason_phrase(pt, &l_pt, "helo", 3),
            "3 rejeitadas pelo nome HELO"
        );
        // A class the team made up keeps its name.
        assert_eq!(reason_phrase(pt, &l_pt, "my_rule", 4), "4 my_rule");
    }

    #[test]
    fn durations_read_naturally() {
        let (en, pt) = (DefenceTexts(Lang::En), DefenceTexts(Lang::PtBr));
        assert_eq!(en.duration_of(1440), "1 day");
        assert_eq!(pt.duration_of(1440), "1 dia");
        assert_eq!(en.duration_of(2880), "2 days");
        assert_eq!(pt.duration_of(10080), "7 dias");
        assert_eq!(en.duration_of(720), "12 h");
        assert_eq!(pt.duration_of(90), "90 min");
        assert_eq!(en.duration_of(1500), "25 h");
    }

    #[test]
    fn every_detail_list_has_a_title() {
        for (list, english) in crate::model::DETAIL_LISTS {
            assert_eq!(DefenceTexts(Lang::En).list_title(list), english);
            assert_ne!(DefenceTexts(Lang::PtBr).list_title(list), "Valores");
        }
    }
}
