//! Detection settings (roles `security` and `admin`): each policy's window,
//! threshold, burst factor, block length and whether it is on; whether it
//! auto-approves (admins only); and the allowlist of subjects that are
//! never proposed. Live sources pick changes up within half a minute.

use crate::api::defence::{AllowAdd, AllowRemove, SavePolicy, detection_settings};
use crate::components::notice::{ActionError, SuccessBox};
use crate::components::page::{DataTable, Loaded, Page, submissions};
use crate::i18n::{use_locale, use_texts};
use crate::model::{AllowRow, DetectionSettings, PolicyRow, Section, SubjectKind};
use crate::pages::defence::DefenceTexts;
use leptos::prelude::*;

crate::texts! {
    /// The detection settings page and its server functions' messages.
    pub struct DetectionTexts {
        title = "Detection policies", "Políticas de detecção";
        intro = " · Each policy counts one thing per IP or account over a sliding window and proposes a block from the threshold on. With a burst factor, the count must also be that many times the subject's own usual count.", " · Cada política conta uma coisa por IP ou conta numa janela deslizante e propõe um bloqueio a partir do limiar. Com um fator de pico, a contagem também precisa ser esse múltiplo da contagem habitual do próprio alvo.";
        policies = "Policies", "Políticas";
        col_policy = "Policy", "Política";
        col_counts = "Counts", "Conta";
        col_window = "Window (min)", "Janela (min)";
        col_threshold = "Threshold", "Limiar";
        col_burst = "Burst ×", "Pico ×";
        col_block = "Block (min)", "Bloqueio (min)";
        col_on = "On", "Ativa";
        col_auto = "Auto-approve", "Aprovar automaticamente";
        none = "none", "nenhum";
        auto_title = "Admins only: block without review", "Só administradores: bloquear sem revisão";
        save = "Save", "Salvar";
        allowlist = "Allowlist", "Lista de permissões";
        allowlist_help = "Never proposed, whatever they do: partner relays, monitoring, our own servers.", "Nunca propostos, façam o que fizerem: relays de parceiros, monitoramento, nossos próprios servidores.";
        kind = "Kind", "Tipo";
        kind_ip = "IP or network", "IP ou rede";
        kind_account = "Account", "Conta";
        target_placeholder = "192.0.2.0/24 or ana@example.com.br", "192.0.2.0/24 ou ana@example.com.br";
        note_placeholder = "Why (e.g. partner MX)", "Por quê (ex.: MX de parceiro)";
        override_title = "Admins only: allow a customer pool or a network wider than the blocking limit", "Só administradores: permitir um pool de clientes ou uma rede mais ampla que o limite de bloqueio";
        override_label = "override guardrails", "ignorar as salvaguardas";
        allow = "Allow", "Permitir";
        col_subject = "Subject", "Alvo";
        col_why = "Why", "Por quê";
        col_added_by = "Added by", "Incluído por";
        allow_empty = "The allowlist is empty.", "A lista de permissões está vazia.";
        remove = "Remove", "Remover";
        window_range = "The window is 1 to 1440 minutes.", "A janela vai de 1 a 1440 minutos.";
        threshold_min = "The threshold is at least 1.", "O limiar é pelo menos 1.";
        burst_range = "A burst factor is between 1 and 1000 (empty: none).", "O fator de pico vai de 1 a 1000 (vazio: nenhum).";
        block_range = "A block lasts 1 minute to 365 days.", "Um bloqueio dura de 1 minuto a 365 dias.";
        allow_ip_or_account = "Allow an ip or an account.", "Permita um IP ou uma conta.";
        name_account = "Name the account, e.g. ana@example.com.br.", "Informe a conta, ex.: ana@example.com.br.";
        d_dictionary_attack = "Many unknown-user rejects from one IP: guessing addresses.", "Muitas rejeições por destinatário inexistente vindas de um IP: ataque de dicionário (adivinhando endereços).";
        d_relay_probing = "Relay-denied rejects from one IP: looking for an open relay.", "Rejeições por relay negado vindas de um IP: procurando um relay aberto.";
        d_sasl_brute_force = "SASL authentication failures from one IP: password guessing.", "Falhas de autenticação SASL vindas de um IP: força bruta SASL (adivinhando senhas).";
        d_forgery_without_login = "Not-logged-in rejects from one IP: our domains used as sender without authenticating.", "Rejeições por falta de login vindas de um IP: nossos domínios usados como remetente sem autenticação.";
        d_compromised_recipients = "One account sending to very many recipients, far above its usual rate.", "Uma conta enviando para muitíssimos destinatários, muito acima do seu ritmo habitual: conta comprometida.";
        d_compromised_many_ips = "One account sending from many client IPs within an hour.", "Uma conta enviando de muitos IPs de clientes em uma hora: conta comprometida.";
        d_compromised_not_owned = "One account sending as addresses it does not own.", "Uma conta enviando como endereços que não são dela: conta comprometida.";
        d_sasl_brute_force_account = "SASL failures for one account from anywhere: its password is being guessed. The block refuses the account's mail (its logins still succeed or fail as before), so a guessed password cannot send spam; its owner cannot send either until it is lifted.", "Falhas SASL para uma conta, de qualquer origem: estão adivinhando a senha dela. O bloqueio recusa o e-mail da conta (os logins continuam dando certo ou errado como antes), então uma senha descoberta não envia spam; o dono também não envia até o bloqueio ser retirado.";
        d_sasl_brute_force_network = "SASL failures from many addresses of one /24 (IPv4) or /48 (IPv6): a distributed password guess. Proposes a network block.", "Falhas SASL de muitos endereços de uma /24 (IPv4) ou /48 (IPv6): força bruta SASL distribuída. Propõe o bloqueio da rede.";
    }
    formats {
        saved(name: &str) = format!("Saved {name}."), format!("{name} salva.");
        counts_rejects(subject: &str, class: &str) = format!("{subject} rejects ({class})"), format!("rejeições ({class}) por {subject}");
        counts_metric(subject: &str, what: &str) = format!("{subject} {what}"), format!("{what} por {subject}");
        policy_n(id: i32) = format!("Policy {id}"), format!("Política {id}");
        allow_entry_n(id: i32) = format!("Allowlist entry {id}"), format!("Item {id} da lista de permissões");
        not_ip_or_network(target: &str) = format!("{target:?} is not an IP address or CIDR network."), format!("{target:?} não é um endereço IP nem uma rede CIDR.");
        allow_needs_admin(concern: &str) = format!("{concern}: allowing it would stop detection for all of it; an admin must override."), format!("{concern}: permiti-la pararia a detecção para toda ela; um administrador precisa autorizar a exceção.");
    }
}

impl DetectionTexts {
    /// A default policy's description in this language; another one's as
    /// stored.
    pub fn description<'a>(self, name: &str, stored: &'a str) -> &'a str {
        match name {
            "dictionary-attack" => self.d_dictionary_attack(),
            "relay-probing" => self.d_relay_probing(),
            "sasl-brute-force" => self.d_sasl_brute_force(),
            "forgery-without-login" => self.d_forgery_without_login(),
            "compromised-recipients" => self.d_compromised_recipients(),
            "compromised-many-ips" => self.d_compromised_many_ips(),
            "compromised-not-owned" => self.d_compromised_not_owned(),
            "sasl-brute-force-account" => self.d_sasl_brute_force_account(),
            "sasl-brute-force-network" => self.d_sasl_brute_force_network(),
            _ => stored,
        }
    }

    /// What policy `p` counts: `ip rejects (unknown_user)`, `account
    /// failed logins`.
    pub fn counts(self, p: &PolicyRow) -> String {
        let d = DefenceTexts(self.0);
        let subject = d.subject(p.subject);
        match &p.reject_class {
            Some(class) => self.counts_rejects(subject, class),
            None => {
                self.counts_metric(subject, d.reason_of(&p.metric).unwrap_or(p.metric.as_str()))
            }
        }
    }
}

/// The detection texts in the language of the request being answered.
#[cfg(feature = "ssr")]
pub fn server_texts() -> DetectionTexts {
    DetectionTexts(crate::server::locale::request_lang())
}

#[component]
pub fn DetectionPage() -> impl IntoView {
    let title = use_texts::<DetectionTexts>().title();
    view! { <Page title section=Section::MailFlow children=|_| view! { <DetectionBoard /> } /> }
}

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SavePolicy>,
    add: ServerAction<AllowAdd>,
    remove: ServerAction<AllowRemove>,
}

#[component]
fn DetectionBoard() -> impl IntoView {
    let locale = use_locale();
    let (t, d) = (
        locale.texts::<DetectionTexts>(),
        locale.texts::<DefenceTexts>(),
    );
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
        <h1>{t.title()}</h1>
        <p class="muted">
            <a href="/mailflow">{d.back_to_proposals()}</a>
            {t.intro()}
        </p>
        {move || {
            actions
                .save
                .value()
                .get()
                .and_then(Result::ok)
                .map(|p| view! { <SuccessBox message=t.saved(&p.name) /> })
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
    let t = use_texts::<DetectionTexts>();
    let head = vec![
        t.col_policy(),
        t.col_counts(),
        t.col_window(),
        t.col_threshold(),
        t.col_burst(),
        t.col_block(),
        t.col_on(),
        t.col_auto(),
        "",
    ];
    view! {
        <section class="panel">
            <h2>{t.policies()}</h2>
            <DataTable rows=settings.policies head
                class="data policies" row=move |p| view! { <PolicyItem p save=actions.save /> }
            />
        </section>
        <section class="panel">
            <h2>{t.allowlist()}</h2>
            <p class="muted">{t.allowlist_help()}</p>
            <ActionForm action=actions.add attr:class="inline bulk-form">
                <select name="subject" aria-label=t.kind()>
                    <option value=SubjectKind::Ip.name()>{t.kind_ip()}</option>
                    <option value=SubjectKind::Account.name()>{t.kind_account()}</option>
                </select>
                <input type="text" name="target" placeholder=t.target_placeholder() required />
                <input type="text" name="note" placeholder=t.note_placeholder() />
                <label class="check" title=t.override_title()>
                    <input type="checkbox" name="override_guard" value="true" />
                    {t.override_label()}
                </label>
                <button type="submit" class="small">{t.allow()}</button>
            </ActionForm>
            <AllowTable rows=settings.allow remove=actions.remove />
        </section>
        <crate::pages::never_block::NeverBlock />
    }
    .into_any()
}

#[component]
fn PolicyItem(p: PolicyRow, save: ServerAction<SavePolicy>) -> impl IntoView {
    let t = use_texts::<DetectionTexts>();
    let form = format!("policy-{}", p.id);
    let counts = t.counts(&p);
    let description = t.description(&p.name, &p.description).to_string();
    view! {
        <tr data-policy=p.name.clone() class:inactive=!p.enabled>
            <td>
                <strong>{p.name.clone()}</strong>
                <br />
                <span class="muted">{description}</span>
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
                    placeholder=t.none()
                    class="tiny"
                />
            </td>
            <td>
                <input form=form.clone() type="number" name="block_minutes" min="1" value=p.block_minutes.to_string() class="tiny" />
            </td>
            <td>
                <input form=form.clone() type="checkbox" name="enabled" value="true" checked=p.enabled aria-label=t.col_on() />
            </td>
            <td>
                <input
                    form=form.clone()
                    type="checkbox"
                    name="auto_approve"
                    value="true"
                    checked=p.auto_approve
                    aria-label=t.col_auto()
                    title=t.auto_title()
                />
            </td>
            <td>
                <ActionForm action=save attr:id=form.clone() attr:class="inline">
                    <input type="hidden" name="id" value=p.id.to_string() />
                    <button type="submit" class="small">{t.save()}</button>
                </ActionForm>
                <crate::pages::whatif::TestChange policy=p.id form=form.clone() />
            </td>
        </tr>
    }
    .into_any()
}

#[component]
fn AllowTable(rows: Vec<AllowRow>, remove: ServerAction<AllowRemove>) -> impl IntoView {
    let locale = use_locale();
    let (t, d) = (
        locale.texts::<DetectionTexts>(),
        locale.texts::<DefenceTexts>(),
    );
    view! {
        <DataTable rows=rows head=vec![t.col_subject(), t.col_why(), t.col_added_by(), ""]
            class="data allow" empty=t.allow_empty() row=move |a| {
                view! {
                    <tr data-target=a.target.clone()>
                        <td>
                            <strong class="target">{a.target.clone()}</strong>
                            " "
                            <span class="badge">{d.subject(a.subject)}</span>
                        </td>
                        <td>{a.note.clone()}</td>
                        <td>{a.created_by.clone()}</td>
                        <td>
                            <ActionForm action=remove attr:class="inline">
                                <input type="hidden" name="id" value=a.id.to_string() />
                                <button type="submit" class="small">{t.remove()}</button>
                            </ActionForm>
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

    #[test]
    fn policies_say_what_they_count() {
        let p = PolicyRow {
            subject: SubjectKind::Ip,
            metric: "sasl_failures".into(),
            ..Default::default()
        };
        assert_eq!(
            DetectionTexts(Lang::PtBr).counts(&p),
            "logins com falha por IP"
        );
        assert_eq!(DetectionTexts(Lang::En).counts(&p), "ip failed logins");
        let p = PolicyRow {
            metric: "reject".into(),
            reject_class: Some("unknown_user".into()),
            ..p
        };
        assert_eq!(
            DetectionTexts(Lang::PtBr).counts(&p),
            "rejeições (unknown_user) por IP"
        );
        // A policy the team added keeps its own description.
        assert_eq!(
            DetectionTexts(Lang::PtBr).description("mine", "Mine."),
            "Mine."
        );
    }
}
