//! Message trace for support (and security): "did my mail arrive?", "why
//! did mail from X to Y bounce?". Search by queue id, message-id, address,
//! or sender and recipient together, within a window and optionally only
//! one outcome, and see each message's journey: where it came from, what
//! the filter said, and each recipient's fate with the remote server's
//! reply and what that reply means in plain words ([`explain`]).

use super::mailboxes::encode;
use crate::api::trace::trace_messages;
use crate::components::guard::Forbidden;
use crate::components::notice::ErrorBox;
use crate::components::page::{DataTable, Page, SearchForm, param, url_search};
use crate::components::subnav::MailboxesNav;
use crate::i18n::{Time, common::Common, use_locale, use_texts};
use crate::model::{
    Section, TRACE_ROLES, TraceKind, TraceMessage, TraceQuery, TraceRecipient, TraceStatus,
};
use leptos::prelude::*;

crate::texts! {
    /// The message trace page, and the errors of its search.
    pub struct TraceTexts {
        title = "Message trace", "Rastreio de mensagens";
        q_label = "Queue id, message-id or address", "Código da fila, message-id ou endereço";
        q_placeholder = "e.g. 4Xk2Lq1vZz, <abc@mail.example>, ana@exemplo.com.br", "ex.: 4Xk2Lq1vZz, <abc@mail.example>, ana@exemplo.com.br";
        sender = "Sender", "Remetente";
        recipient = "Recipient", "Destinatário";
        status = "Status", "Situação";
        when = "When", "Quando";
        button = "Trace", "Rastrear";
        help = "An address finds the messages it sent and received; Sender and Recipient together find the mail from one to the other (so do two addresses in the first box). Recipient searches read every message of the window, so pick the shortest window that covers the time.", "Um endereço encontra as mensagens que enviou e recebeu; Remetente e Destinatário juntos encontram as mensagens de um para o outro (dois endereços na primeira caixa também). Buscas por destinatário leem todas as mensagens da janela: escolha a menor janela que cubra o horário.";
        window_1 = "last hour", "última hora";
        window_6 = "last 6 hours", "últimas 6 horas";
        window_24 = "last 24 hours", "últimas 24 horas";
        window_72 = "last 3 days", "últimos 3 dias";
        window_168 = "last 7 days", "últimos 7 dias";
        wider_6 = "Search the last 6 hours", "Buscar nas últimas 6 horas";
        wider_24 = "Search the last 24 hours", "Buscar nas últimas 24 horas";
        wider_72 = "Search the last 3 days", "Buscar nos últimos 3 dias";
        wider_168 = "Search the last 7 days", "Buscar nos últimos 7 dias";
        widest = "Seven days is the longest window the trace searches.", "Sete dias é a maior janela que o rastreio pesquisa.";
        filter_all = "any outcome", "qualquer situação";
        filter_sent = "delivered", "entregues";
        filter_deferred = "deferred", "adiadas";
        filter_bounced = "bounced", "devolvidas";
        filter_rejected = "rejected", "rejeitadas";
        kind_queue_id = "queue id", "código da fila";
        kind_message_id = "message-id", "message-id (identificador)";
        kind_sender = "sender", "remetente";
        kind_recipient = "recipient", "destinatário";
        truncated = "More messages match; showing the newest. Narrow the window or search a queue id.", "Há mais mensagens; mostrando as mais recentes. Reduza a janela ou busque um código da fila.";
        still_in_queue = "still in queue", "ainda na fila";
        received_from = "Received from", "Recebida de";
        message_id = "Message-ID", "Identificador (Message-ID)";
        size = "Size", "Tamanho";
        filter = "Filter", "Filtro";
        not_scanned = "not scanned", "não verificada";
        verdict_clean = "clean", "limpa";
        verdict_spam = "Spam", "Spam";
        verdict_virus = "virus", "vírus";
        refused = "Refused", "Recusada";
        null_sender = "<> (a bounce)", "<> (aviso de devolução)";
        origin_smtpd = "received over SMTP", "recebida por SMTP";
        origin_pickup = "submitted on the server (pickup)", "enviada no próprio servidor (pickup)";
        origin_unknown = "origin not in the log", "origem fora do log";
        col_relay = "Relay", "Servidor de entrega";
        col_reply = "Remote server said", "Resposta do servidor remoto";
        status_sent = "sent", "entregue";
        status_deferred = "deferred", "adiada";
        status_bounced = "bounced", "devolvida";
        status_expired = "expired", "expirada";
        err_q_empty = "Enter a queue id, a message-id or an address, or a sender or a recipient.", "Informe um código da fila, um message-id ou um endereço, ou um remetente ou um destinatário.";
        err_q_long = "That is longer than any queue id, message-id or address.", "Isso é mais longo do que qualquer código da fila, message-id ou endereço.";
        err_q_kind = "That is not a queue id (letters and digits), a message-id or an address (with an @).", "Isso não é um código da fila (letras e números), um message-id nem um endereço (com @).";
        err_q_words = "Search one queue id, message-id or address, or two addresses: the sender, then the recipient.", "Busque um código da fila, um message-id ou um endereço, ou dois endereços: o remetente e depois o destinatário.";
        err_pair_twice = "Give the sender and the recipient either as two addresses here or in their own fields, not both.", "Informe o remetente e o destinatário como dois endereços aqui ou nos campos próprios, não nos dois.";
        err_address = "Enter an address such as ana@exemplo.com.br.", "Informe um endereço como ana@exemplo.com.br.";
        err_status = "Choose any outcome, delivered, deferred, bounced or rejected.", "Escolha qualquer situação, entregues, adiadas, devolvidas ou rejeitadas.";
        err_until = "Choose a date between 1970 and 2099.", "Escolha uma data entre 1970 e 2099.";
    }
    formats {
        found(count: usize, n: &str, from: &str, to: &str, how: &str) =
            format!("{n} message{} between {from} and {to} (searched as {how})", if count == 1 { "" } else { "s" }),
            format!("{n} mensage{} entre {from} e {to} (buscado como {how})", if count == 1 { "m" } else { "ns" });
        nothing(from: &str, to: &str) =
            format!("No message between {from} and {to}."),
            format!("Nenhuma mensagem entre {from} e {to}.");
        pair(sender: &str, recipient: &str) =
            format!("From {sender} to {recipient}."),
            format!("De {sender} para {recipient}.");
        only(status: &str) = format!("Only {status}."), format!("Somente {status}.");
        signed_in_as(user: &str) = format!(" — signed in as {user}"), format!(" — autenticado como {user}");
        bytes(n: &str) = format!("{n} bytes"), format!("{n} bytes");
        via(address: &str) = format!("via {address}"), format!("via {address}");
        attempts(n: u32) = format!("{n} attempts"), format!("{n} tentativas");
        delay(seconds: &str) = format!("delay {seconds} s"), format!("atraso de {seconds} s");
        err_hours(max: i64) = format!("Search 1 to {max} hours."), format!("Busque de 1 a {max} horas.");
    }
}

impl TraceTexts {
    fn kind(self, k: TraceKind) -> &'static str {
        match k {
            TraceKind::QueueId => self.kind_queue_id(),
            TraceKind::MessageId => self.kind_message_id(),
            TraceKind::Sender => self.kind_sender(),
            TraceKind::Recipient => self.kind_recipient(),
        }
    }

    fn status_filter(self, s: TraceStatus) -> &'static str {
        match s {
            TraceStatus::All => self.filter_all(),
            TraceStatus::Sent => self.filter_sent(),
            TraceStatus::Deferred => self.filter_deferred(),
            TraceStatus::Bounced => self.filter_bounced(),
            TraceStatus::Rejected => self.filter_rejected(),
        }
    }

    /// A recipient's status as MailFlow stores it, in words.
    fn outcome(self, status: &str) -> String {
        match status {
            "sent" => self.status_sent().into(),
            "deferred" => self.status_deferred().into(),
            "bounced" => self.status_bounced().into(),
            "expired" => self.status_expired().into(),
            other => other.into(),
        }
    }

    fn verdict(self, v: Option<&str>) -> String {
        match v {
            None => self.not_scanned().into(),
            Some("clean") => self.verdict_clean().into(),
            Some("spam") => self.verdict_spam().into(),
            Some("virus") => self.verdict_virus().into(),
            Some(other) => other.into(),
        }
    }

    fn origin(self, o: &str) -> String {
        match o {
            "smtpd" => self.origin_smtpd().into(),
            "pickup" => self.origin_pickup().into(),
            "unknown" => self.origin_unknown().into(),
            other => other.into(),
        }
    }
}

crate::texts! {
    /// What the common delivery status codes and remote replies mean, for
    /// support to tell a customer (see [`explain`]).
    pub struct DsnTexts {
        user_unknown = "The recipient's mailbox does not exist at the receiving provider: the address is misspelt or was closed.", "A caixa postal do destinatário não existe no provedor de destino: o endereço está digitado errado ou foi desativado.";
        domain_unknown = "The recipient's domain does not exist or takes no mail: check what comes after the @.", "O domínio do destinatário não existe ou não recebe e-mail: confira o que vem depois do @.";
        mailbox_full = "The recipient's mailbox is full: they must free space before mail gets in.", "A caixa postal do destinatário está cheia: ele precisa liberar espaço para receber mensagens.";
        mailbox_disabled = "The recipient's mailbox is disabled or suspended at the receiving provider.", "A caixa postal do destinatário está desativada ou suspensa no provedor de destino.";
        too_big = "The message is larger than the receiving server accepts: send big attachments as a link.", "A mensagem é maior do que o servidor de destino aceita: envie anexos grandes como link.";
        policy = "Refused by the receiving provider's policy, often as suspected spam; the reply may name the reason.", "Recusada pela política do provedor de destino, muitas vezes como suspeita de spam; a resposta pode dizer o motivo.";
        blocklisted = "Refused because our sending server's IP is on a blocklist (such as Spamhaus) the receiving provider uses: the security team should check it and ask for delisting.", "Recusada porque o IP do nosso servidor de envio está em uma lista de bloqueio (como a Spamhaus) usada pelo provedor de destino: a equipe de segurança deve verificar e pedir a remoção.";
        dmarc = "Refused as unauthenticated: the sender's domain fails DMARC (neither SPF nor DKIM passes for it), which Gmail and Microsoft require.", "Recusada por falta de autenticação: o domínio do remetente falha no DMARC (nem SPF nem DKIM passam para ele), o que Gmail e Microsoft exigem.";
        spf = "Refused because the SPF record of the sender's domain does not allow the server that sent it.", "Recusada porque o registro SPF do domínio do remetente não autoriza o servidor que a enviou.";
        ptr = "Refused because the sending server's IP has no matching reverse DNS (PTR) name, which Gmail requires.", "Recusada porque o IP do servidor de envio não tem DNS reverso (PTR) correspondente, o que o Gmail exige.";
        greylist = "Refused for now: greylisting, or too many messages from us at once (a rate limit). Postfix tries again by itself; act only if it lasts hours.", "Recusada por enquanto: greylisting ou muitas mensagens nossas de uma vez (limite de taxa). O Postfix tenta de novo sozinho; só aja se durar horas.";
        host_not_found = "The recipient's domain has no mail server in DNS (no MX or A record): often a typo in the domain.", "O domínio do destinatário não tem servidor de e-mail no DNS (sem registro MX ou A): muitas vezes um erro de digitação no domínio.";
        dns_temporary = "The recipient's domain could not be looked up in DNS just then; Postfix tries again.", "Não foi possível consultar o domínio do destinatário no DNS naquele momento; o Postfix tenta de novo.";
        timeout = "The receiving provider's server did not answer (the connection timed out or was refused); Postfix keeps trying.", "O servidor do provedor de destino não respondeu (a conexão expirou ou foi recusada); o Postfix continua tentando.";
        connection_lost = "The connection dropped during the delivery; Postfix tries again.", "A conexão caiu durante a entrega; o Postfix tenta de novo.";
        mail_loop = "The mail loops back to us (a forward pointing at itself, or a wrong MX): check the domain's forwarding.", "A mensagem volta para nós em laço (um encaminhamento que aponta para si mesmo ou um MX errado): confira os encaminhamentos do domínio.";
        expired = "Postfix gave up after trying for the whole queue lifetime (days) and returned the message to the sender; the last reply says why.", "O Postfix desistiu depois de tentar durante todo o tempo de vida da fila (dias) e devolveu a mensagem ao remetente; a última resposta diz o motivo.";
        temporary = "A temporary failure on the receiving side; Postfix tries again by itself.", "Falha temporária do lado do destino; o Postfix tenta de novo sozinho.";
        permanent = "The receiving server refused the message for good; the sender got a bounce with this reply.", "O servidor de destino recusou a mensagem definitivamente; o remetente recebeu uma devolução com esta resposta.";
    }
}

/// What a reply means, as one of [`DsnTexts`]' entries.
pub type Explanation = fn(DsnTexts) -> &'static str;

/// The plain-words meaning of a recipient's outcome (`status`, its
/// enhanced status code `dsn` and the remote `reply`), or of a reject's
/// reply (`status` empty, `dsn` none): the code when Postfix logged one,
/// else the first code in the reply; a reply's own words first where they
/// say more than the code (a blocklist, SPF, DMARC). `None` for a
/// delivery, or a reply we cannot read.
pub fn explain(status: &str, dsn: Option<&str>, reply: &str) -> Option<Explanation> {
    if status == "sent" {
        return None;
    }
    if status == "expired" {
        return Some(DsnTexts::expired);
    }
    let code = dsn.filter(|d| is_code(d)).or_else(|| code_in(reply));
    let reply = reply.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|w| reply.contains(w));
    let class = code.map(|c| &c[..1]).or_else(|| {
        // A reply without an enhanced code: its basic one (550, 421…).
        reply
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 3 && (w.starts_with('4') || w.starts_with('5')))
            .map(|w| if w.starts_with('5') { "5" } else { "4" })
    });
    let permanent = class == Some("5");
    let blocklist = [
        "spamhaus",
        "blocklist",
        "blacklist",
        "block list",
        "blocked using",
        "banned sending ip",
        "dnsbl",
        "spamcop",
        "barracuda",
        "listed at",
        "listed on",
    ];
    let explanation: Explanation = match code.unwrap_or("") {
        _ if says(&blocklist) => DsnTexts::blocklisted,
        "5.7.26" | "5.7.509" | "5.7.515" => DsnTexts::dmarc,
        "5.7.25" => DsnTexts::ptr,
        "5.7.23" | "5.7.27" => DsnTexts::spf,
        "5.1.1" | "5.1.10" | "5.1.6" => DsnTexts::user_unknown,
        "5.1.2" => DsnTexts::domain_unknown,
        "5.2.2" | "4.2.2" => DsnTexts::mailbox_full,
        "5.2.1" => DsnTexts::mailbox_disabled,
        "5.2.3" | "5.3.4" => DsnTexts::too_big,
        "5.4.4" => DsnTexts::host_not_found,
        "4.4.3" => DsnTexts::dns_temporary,
        "4.4.1" => DsnTexts::timeout,
        "4.4.2" => DsnTexts::connection_lost,
        "5.4.6" => DsnTexts::mail_loop,
        _ if permanent && says(&["dmarc", "unauthenticated"]) => DsnTexts::dmarc,
        _ if permanent && says(&["spf"]) => DsnTexts::spf,
        _ if permanent && says(&["ptr record", "reverse dns"]) => DsnTexts::ptr,
        _ if permanent && says(&["user unknown", "does not exist", "no such user"]) => {
            DsnTexts::user_unknown
        }
        c if c.starts_with("5.7.") => DsnTexts::policy,
        c if c.starts_with("4.7.") => DsnTexts::greylist,
        _ if says(&["greylist", "graylist"]) => DsnTexts::greylist,
        _ if says(&["host not found", "domain not found"]) => DsnTexts::host_not_found,
        _ if permanent => DsnTexts::permanent,
        _ if class == Some("4") => DsnTexts::temporary,
        _ => return None,
    };
    Some(explanation)
}

/// `5.1.1`, `4.7.650`: an enhanced status code (RFC 3463) of a failure.
fn is_code(s: &str) -> bool {
    let mut parts = s.split('.');
    let ok = |p: Option<&str>, max: usize| {
        p.is_some_and(|p| (1..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(s.as_bytes().first(), Some(b'4' | b'5'))
        && ok(parts.next(), 1)
        && ok(parts.next(), 3)
        && ok(parts.next(), 3)
        && parts.next().is_none()
}

/// The first enhanced status code in a reply (`550-5.7.26 …`, `(5.1.1)`).
fn code_in(reply: &str) -> Option<&str> {
    reply
        .split(|c: char| c.is_whitespace() || "-()[]<>:;,".contains(c))
        .map(|w| w.trim_end_matches('.'))
        .find(|w| is_code(w))
}

/// The windows the page offers, in hours, with their names and the link
/// that widens a search to them.
type Words = fn(TraceTexts) -> &'static str;
const WINDOWS: [(i64, Words, Words); 5] = [
    (1, TraceTexts::window_1, TraceTexts::window_1),
    (6, TraceTexts::window_6, TraceTexts::wider_6),
    (24, TraceTexts::window_24, TraceTexts::wider_24),
    (72, TraceTexts::window_72, TraceTexts::wider_72),
    (168, TraceTexts::window_168, TraceTexts::wider_168),
];

/// The page's URL for `query` (its empty fields left out).
fn trace_url(query: &TraceQuery) -> String {
    let mut url = format!("/mailboxes/trace?hours={}", query.hours);
    for (key, value) in [
        ("q", query.q.as_str()),
        ("sender", &query.sender),
        ("recipient", &query.recipient),
    ] {
        if !value.trim().is_empty() {
            url.push_str(&format!("&{key}={}", encode(value)));
        }
    }
    if query.status != TraceStatus::All {
        url.push_str(&format!("&status={}", query.status));
    }
    url
}

#[component]
pub fn TracePage() -> impl IntoView {
    let t = use_texts::<TraceTexts>();
    // Support's page, open to security too: not the Mailboxes section's guard.
    view! {
        <Page title=t.title() children=|u| {
            if u.roles.intersects(TRACE_ROLES) {
                view! { <Trace support=u.may_enter(Section::Mailboxes) /> }.into_any()
            } else {
                view! { <Forbidden /> }.into_any()
            }
        } />
    }
}

#[component]
fn Trace(
    /// Show the Mailboxes section's links (security does not have them).
    support: bool,
) -> impl IntoView {
    let t = use_texts::<TraceTexts>();
    let query = url_search(|p| TraceQuery {
        q: param(p, "q"),
        sender: param(p, "sender"),
        recipient: param(p, "recipient"),
        status: p
            .get("status")
            .and_then(|s| s.parse().ok())
            .unwrap_or_default(),
        hours: p
            .get("hours")
            .and_then(|h| h.parse::<i64>().ok())
            .unwrap_or(24),
    });
    let result = Resource::new(
        move || query.get(),
        |query| async move {
            if [&query.q, &query.sender, &query.recipient]
                .iter()
                .all(|f| f.trim().is_empty())
            {
                None
            } else {
                let TraceQuery {
                    q,
                    sender,
                    recipient,
                    status,
                    hours,
                } = query;
                let status = status.to_string();
                Some(trace_messages(q, hours, None, sender, recipient, status).await)
            }
        },
    );
    // The fields show the search in the URL, also after a link changed it.
    let now = query.get_untracked();

    view! {
        <h1>{t.title()}</h1>
        {support.then(|| view! { <MailboxesNav /> })}
        <section class="panel">
            <SearchForm button=t.button()>
                <label class="grow">
                    {t.q_label()}
                    <input type="search" name="q" value=now.q prop:value=move || query.get().q placeholder=t.q_placeholder() />
                </label>
                <label>
                    {t.sender()}
                    <input type="search" name="sender" value=now.sender prop:value=move || query.get().sender placeholder="ana@exemplo.com.br" />
                </label>
                <label>
                    {t.recipient()}
                    <input type="search" name="recipient" value=now.recipient prop:value=move || query.get().recipient placeholder="joao@gmail.com" />
                </label>
                <label>
                    {t.status()}
                    <select name="status">
                        {TraceStatus::ALL
                            .iter()
                            .map(|&s| view! { <option value=s.as_str() selected=move || s == query.get().status>{t.status_filter(s)}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    {t.when()}
                    <select name="hours">
                        {WINDOWS
                            .into_iter()
                            .map(|(h, label, _)| view! { <option value=h.to_string() selected=move || h == query.get().hours>{label(t)}</option> })
                            .collect_view()}
                    </select>
                </label>
            </SearchForm>
            <p class="muted">{t.help()}</p>
        </section>
        <Transition fallback=|| view! { <p class="muted">{use_texts::<Common>().searching()}</p> }>
            {move || Suspend::new(async move {
                match result.await {
                    None => ().into_any(),
                    Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
                    Some(Ok(r)) => view! { <Found r query=query.get_untracked() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What a search found: the window it read, then each message; when it
/// found nothing, the next wider window.
#[component]
fn Found(r: crate::model::TraceResult, query: TraceQuery) -> impl IntoView {
    let t = use_texts::<TraceTexts>();
    let locale = use_locale();
    let (from, to) = (locale.datetime(r.from), locale.datetime(r.to));
    let narrowed = match (&r.sender, &r.recipient) {
        (Some(s), Some(rcpt)) => Some(t.pair(s, rcpt)),
        _ => None,
    };
    let only = (r.status != TraceStatus::All).then(|| t.only(t.status_filter(r.status)));
    let condition = [narrowed, only].into_iter().flatten().collect::<Vec<_>>();
    let condition = (!condition.is_empty()).then(|| {
        view! { <p class="muted trace-condition">{condition.join(" ")}</p> }
    });
    if r.messages.is_empty() {
        let wider = WINDOWS
            .iter()
            .find(|(h, _, _)| *h > r.hours)
            .map(|&(hours, _, link)| {
                let url = trace_url(&TraceQuery { hours, ..query });
                view! { <a href=url class="wider">{link(t)}</a> }.into_any()
            })
            .unwrap_or_else(|| view! { <span class="muted">{t.widest()}</span> }.into_any());
        return view! {
            {condition}
            <p class="result-count nothing-found">{t.nothing(&from, &to)} " " {wider}</p>
        }
        .into_any();
    }
    let how = r
        .searched_as
        .iter()
        .map(|&k| t.kind(k))
        .collect::<Vec<_>>()
        .join(", ");
    let count = r.messages.len();
    let heading = t.found(count, &locale.number(count as i64), &from, &to, &how);
    view! {
        {condition}
        <p class="result-count">{heading}</p>
        {r.truncated.then(|| view! { <p class="notice info">{t.truncated()}</p> })}
        {r.messages.into_iter().map(|m| view! { <Journey m /> }).collect_view()}
    }
    .into_any()
}

/// One message, from arrival to each recipient's outcome.
#[component]
fn Journey(m: TraceMessage) -> impl IntoView {
    let t = use_texts::<TraceTexts>();
    let dsn_texts = use_texts::<DsnTexts>();
    let locale = use_locale();
    let from = match (&m.client_name, &m.client_ip) {
        (Some(n), Some(ip)) => format!("{n} [{ip}]"),
        (None, Some(ip)) => ip.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => t.origin(&m.origin),
    };
    let verdict_class = match m.verdict.as_deref() {
        Some("clean") => "badge ok",
        Some(_) => "badge error",
        None => "badge off",
    };
    let queue_link = trace_url(&TraceQuery {
        q: m.queue_id.clone(),
        hours: 168,
        ..TraceQuery::default()
    });
    let none = use_texts::<Common>().none();
    let refused = m.reject.clone().map(|r| {
        let why = explain("", None, &r).map(|e| e(dsn_texts));
        view! {
            <dt>{t.refused()}</dt>
            <dd class="error-text">
                {r}
                {why.map(|w| view! { <br /><span class="explain">{w}</span> })}
            </dd>
        }
    });
    view! {
        <article class="panel journey" data-queue-id=m.queue_id.clone()>
            <header class="journey-head">
                <strong><Time at=m.first_at seconds=true /></strong>
                " · " {m.host.clone()} " · " {t.kind_queue_id()} " "
                <a href=queue_link><code>{m.queue_id.clone()}</code></a>
                " · " {t.origin(&m.origin)}
                {(!m.removed).then(|| view! { " " <span class="badge warn">{t.still_in_queue()}</span> })}
            </header>
            <dl class="facts">
                <dt>{t.received_from()}</dt>
                <dd>
                    {from}
                    {m.sasl_username.clone().map(|u| t.signed_in_as(&u))}
                </dd>
                <dt>{t.sender()}</dt>
                <dd>{m.sender.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| t.null_sender().into())}</dd>
                <dt>{t.message_id()}</dt>
                <dd><code>{m.message_id.clone().unwrap_or_else(|| none.into())}</code></dd>
                <dt>{t.size()}</dt>
                <dd>{m.size.map(|s| t.bytes(&locale.number(s))).unwrap_or_else(|| none.into())}</dd>
                <dt>{t.filter()}</dt>
                <dd><span class=verdict_class>{t.verdict(m.verdict.as_deref())}</span></dd>
                {refused}
            </dl>
            <Recipients list=m.recipients />
        </article>
    }
    .into_any()
}

/// Each recipient's fate, with what the reply means.
#[component]
fn Recipients(list: Vec<TraceRecipient>) -> impl IntoView {
    if list.is_empty() {
        return ().into_any();
    }
    let t = use_texts::<TraceTexts>();
    let dsn_texts = use_texts::<DsnTexts>();
    let locale = use_locale();
    view! {
        <DataTable rows=list head=vec![t.recipient(), t.status(), t.col_relay(), t.when(), t.col_reply()]
            row=move |r| {
                let class = match r.status.as_str() {
                    "sent" => "badge ok",
                    "deferred" => "badge warn",
                    _ => "badge error",
                };
                let why = explain(&r.status, r.dsn.as_deref(), &r.reply).map(|e| e(dsn_texts));
                view! {
                    <tr data-status=r.status.clone()>
                        <td>
                            {r.to.clone()}
                            {r.orig_to.clone().map(|o| view! { <br /><span class="muted">{t.via(&o)}</span> })}
                        </td>
                        <td>
                            <span class=class>{t.outcome(&r.status)}</span>
                            {r.dsn.clone().map(|d| view! { " " <code>{d}</code> })}
                            {(r.attempts > 1).then(|| view! { <br /><span class="muted">{t.attempts(r.attempts)}</span> })}
                        </td>
                        <td>{r.relay.clone()}</td>
                        <td class="nowrap">
                            <Time at=r.at seconds=true />
                            {r.delay.map(|d| view! { <br /><span class="muted">{t.delay(&locale.decimal(d, 1))}</span> })}
                        </td>
                        <td class="reply">
                            {r.reply.clone()}
                            {why.map(|w| view! { <p class="explain">{w}</p> })}
                        </td>
                    </tr>
                }
            }
        />
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    /// The explanation's English text, to compare.
    fn said(status: &str, dsn: Option<&str>, reply: &str) -> Option<&'static str> {
        explain(status, dsn, reply).map(|e| e(DsnTexts(Lang::En)))
    }

    #[test]
    fn common_replies_are_explained() {
        let t = DsnTexts(Lang::En);
        let cases: &[(&str, Option<&str>, &str, &str)] = &[
            (
                "bounced",
                Some("5.1.1"),
                "host mx.y.com[1.2.3.4] said: 550 5.1.1 <joao@y.com>: Recipient address rejected: User unknown (in reply to RCPT TO command)",
                t.user_unknown(),
            ),
            (
                "bounced",
                Some("5.1.10"),
                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
                t.user_unknown(),
            ),
            (
                "bounced",
                Some("5.2.2"),
                "552 5.2.2 The email account that you tried to reach is over quota",
                t.mailbox_full(),
            ),
            (
                "deferred",
                Some("4.2.2"),
                "452 4.2.2 Mailbox full",
                t.mailbox_full(),
            ),
            (
                "bounced",
                Some("5.7.1"),
                "550 5.7.1 Message rejected as spam by Content Filtering",
                t.policy(),
            ),
            (
                "bounced",
                Some("5.7.1"),
                "550 5.7.1 Service unavailable, Client host [203.0.113.5] blocked using Spamhaus",
                t.blocklisted(),
            ),
            (
                "bounced",
                Some("5.7.606"),
                "550 5.7.606 Access denied, banned sending IP [203.0.113.5]",
                t.blocklisted(),
            ),
            (
                "deferred",
                Some("4.7.1"),
                "450 4.7.1 <joao@y.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/",
                t.greylist(),
            ),
            (
                "deferred",
                Some("4.7.28"),
                "421-4.7.28 Gmail has detected an unusual rate of unsolicited mail",
                t.greylist(),
            ),
            (
                "bounced",
                Some("5.4.4"),
                "Host or domain name not found. Name service error for name=y.con type=MX: Host not found",
                t.host_not_found(),
            ),
            (
                "deferred",
                Some("4.4.3"),
                "Host or domain name not found. Name service error for name=y.com type=MX: Host not found, try again",
                t.dns_temporary(),
            ),
            (
                "deferred",
                Some("4.4.1"),
                "connect to mx.y.com[1.2.3.4]:25: Connection timed out",
                t.timeout(),
            ),
            (
                "deferred",
                Some("4.4.2"),
                "lost connection with mx.y.com[1.2.3.4] while sending end of data",
                t.connection_lost(),
            ),
            (
                "bounced",
                Some("5.7.26"),
                "550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.",
                t.dmarc(),
            ),
            (
                "bounced",
                Some("5.7.25"),
                "550-5.7.25 The IP address sending this message does not have a PTR record setup",
                t.ptr(),
            ),
            (
                "bounced",
                Some("5.7.23"),
                "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
                t.spf(),
            ),
            (
                "bounced",
                Some("5.4.6"),
                "mail for y.com loops back to myself",
                t.mail_loop(),
            ),
            (
                "bounced",
                Some("5.3.4"),
                "552 5.3.4 Message size exceeds fixed limit",
                t.too_big(),
            ),
            (
                "expired",
                Some("4.4.1"),
                "connect to mx.y.com[1.2.3.4]:25: Connection timed out",
                t.expired(),
            ),
            ("bounced", Some("5.0.0"), "550 Rejected", t.permanent()),
            (
                "deferred",
                Some("4.3.0"),
                "451 4.3.0 Temporary lookup failure",
                t.temporary(),
            ),
        ];
        for &(status, dsn, reply, want) in cases {
            assert_eq!(said(status, dsn, reply), Some(want), "{dsn:?} {reply}");
        }
        // Delivered: nothing to explain; an unreadable reply: nothing either.
        assert_eq!(said("sent", Some("2.0.0"), "250 2.0.0 OK"), None);
        assert_eq!(said("other", None, "whatever happened"), None);
    }

    #[test]
    fn the_code_is_read_from_the_reply_when_postfix_logged_none() {
        let t = DsnTexts(Lang::En);
        assert_eq!(
            said(
                "bounced",
                None,
                "host x said: 550-5.7.26 Unauthenticated email"
            ),
            Some(t.dmarc())
        );
        assert_eq!(
            said("bounced", Some("junk"), "550 (5.2.1) mailbox disabled"),
            Some(t.mailbox_disabled())
        );
        // A reject's reply at our own server (no status, no dsn).
        assert_eq!(
            said("", None, "554 5.7.1 Spam message rejected"),
            Some(t.policy())
        );
        assert_eq!(said("", None, "550 User unknown"), Some(t.user_unknown()));
        assert_eq!(code_in("550-5.7.26 x"), Some("5.7.26"));
        assert_eq!(code_in("550 5.1.1. x"), Some("5.1.1"));
        assert_eq!(code_in("version 1.2.3"), None);
        assert!(!is_code("5.1"));
        assert!(!is_code("2.0.0"));
        assert!(!is_code("5.1.1.1"));
    }

    #[test]
    fn every_explanation_is_in_both_languages() {
        // The catalogue's test reads the entries; here, that they differ
        // per language through `explain` too.
        let en = explain("bounced", Some("5.1.1"), "").unwrap();
        assert_ne!(en(DsnTexts(Lang::En)), en(DsnTexts(Lang::PtBr)));
        assert!(en(DsnTexts(Lang::PtBr)).contains("não existe"));
    }

    #[test]
    fn a_search_links_to_itself_with_a_wider_window() {
        let q = TraceQuery {
            q: String::new(),
            sender: "ana@x.com.br".into(),
            recipient: "joão+1@y.com".into(),
            status: TraceStatus::Bounced,
            hours: 6,
        };
        assert_eq!(
            trace_url(&q),
            "/mailboxes/trace?hours=6&sender=ana@x.com.br&recipient=jo%C3%A3o%2B1@y.com&status=bounced"
        );
        // The windows grow, up to the longest the server searches.
        assert!(WINDOWS.windows(2).all(|w| w[0].0 < w[1].0));
        #[cfg(feature = "ssr")]
        assert_eq!(WINDOWS[4].0, crate::server::trace::MAX_HOURS);
    }
}
