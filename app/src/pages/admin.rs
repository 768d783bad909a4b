//! The admin section's landing page.

use crate::components::page::{Cards, Page};
use crate::i18n::{common::Common, use_texts};
use crate::model::Section;
use leptos::prelude::*;

crate::texts! {
    /// The admin section's landing page and the names of its pages.
    pub struct AdminTexts {
        staff = "Staff", "Equipe";
        staff_what = "Create staff accounts, change roles, disable accounts, reset passwords.", "Crie contas da equipe, altere papéis, desative contas, redefina senhas.";
        audit = "Audit log", "Registro de auditoria";
        audit_what = "Every change anyone made: who, when, what, before and after, from where.", "Cada alteração feita: quem, quando, o quê, antes e depois, de onde.";
        domains = "Domains", "Domínios";
        domains_what = "The domains we host mail for: limits, default quotas, alias domains, catch-alls.", "Os domínios cujo e-mail hospedamos: limites, cotas padrão, domínios alias, catch-alls.";
        tokens = "API tokens", "Tokens de API";
        tokens_what = "Tokens for scripts and other systems using the provisioning REST API.", "Tokens para scripts e outros sistemas que usam a API REST de provisionamento.";
        ingest = "MailFlow ingest", "Coleta do MailFlow";
        ingest_what = "Postfix log sources: state, lag, lines per second, errors, imported files.", "Fontes de log do Postfix: estado, atraso, linhas por segundo, erros, arquivos importados.";
    }
}

#[component]
pub fn AdminHome() -> impl IntoView {
    let (t, common) = (use_texts::<AdminTexts>(), use_texts::<Common>());
    let cards = vec![
        ("/admin/staff", t.staff(), t.staff_what()),
        ("/admin/audit", t.audit(), t.audit_what()),
        ("/mailboxes/domains", t.domains(), t.domains_what()),
        ("/admin/tokens", t.tokens(), t.tokens_what()),
        ("/admin/ingest", t.ingest(), t.ingest_what()),
    ];
    let title = common.section_admin();
    view! {
        <Page title section=Section::Admin children=move |_| view! {
            <h1>{title}</h1>
            <Cards cards />
        } />
    }
}
