//! What the provisioning requests say, in both languages: validation
//! errors, conflicts, the one-line summary of each request
//! (`RequestDone.summary`) and warnings. One group, because the requests
//! share most of their phrases (an address, a domain, a quota). The server
//! picks the caller's language (`ProvisionTexts::caller`); the audit log
//! keeps its structured states, never these texts.

crate::texts! {
    /// The provisioning requests' messages and summaries.
    pub struct ProvisionTexts {
        domain_empty = "Enter a domain name.", "Informe um nome de domínio.";
        domain_too_long = "A domain name has at most 253 characters.", "Um nome de domínio tem no máximo 253 caracteres.";
        local_empty = "Enter the part before the @.", "Informe a parte antes do @.";
        local_too_long = "The part before the @ has at most 64 characters.", "A parte antes do @ tem no máximo 64 caracteres.";
        local_dots = "Dots may not start or end the part before the @, nor come in pairs.", "A parte antes do @ não pode começar nem terminar com ponto, nem ter dois pontos seguidos.";
        targets_empty = "Enter at least one target address.", "Informe pelo menos um endereço de destino.";
        targets_too_many = "At most 200 targets.", "No máximo 200 destinos.";
        limit_mailboxes = "mailbox limit", "limite de caixas postais";
        limit_aliases = "alias limit", "limite de aliases";
        script_latin = "Latin", "latinas";
        script_greek = "Greek", "gregas";
        script_cyrillic = "Cyrillic", "cirílicas";
        and = " and ", " e ";
        hash_schemes = "Only {ARGON2ID}$argon2id$... and {BLF-CRYPT}$2y$... hashes can be taken over; otherwise type the password itself.", "Só hashes {ARGON2ID}$argon2id$... e {BLF-CRYPT}$2y$... podem ser aproveitados; fora isso, digite a própria senha.";
        argon_zero = "The Argon2 hash has a zero cost parameter.", "O hash Argon2 tem um parâmetro de custo zero.";
        bcrypt_no_cost = "The bcrypt hash has no cost.", "O hash bcrypt não informa o custo.";
        name_too_long = "The name has at most 200 characters.", "O nome tem no máximo 200 caracteres.";
        name_control = "The name may not contain control characters.", "O nome não pode conter caracteres de controle.";
        note_too_long = "At most 500 characters.", "No máximo 500 caracteres.";
        unlimited = "unlimited", "ilimitada";
        no_limit = "no limit", "sem limite";
        unlimited_refused = " (unlimited is not allowed)", " (ilimitada não é permitida)";
        send_and_receive_only = "A mailbox cannot be both send-only and receive-only.", "Uma caixa postal não pode ser ao mesmo tempo só de envio e só de recebimento.";
        receive_only = "receive-only", "só recebe";
        send_only = "send-only", "só envia";
        sends_and_receives = "sends and receives", "envia e recebe";
        suspend_reason = "Say why the mailbox is suspended.", "Diga por que a caixa postal está sendo suspensa.";
        alias_domain_catch_all = "An alias domain uses the catch-all of the domain it mirrors.", "Um domínio alias usa o catch-all do domínio que ele espelha.";
        keeping_copy = ", keeping a copy", ", mantendo uma cópia";
        alias_off = " (switched off)", " (desativado)";
        domain_off = ", switched off", ", desativado";
        status_active = "active", "ativa";
        status_suspended = "suspended", "suspensa";
        status_deleted = "deleted", "excluída";
    }
    formats {
        domain_invalid(d: &str) = format!("{d:?} is not a valid domain name."), format!("{d:?} não é um nome de domínio válido.");
        domain_two_parts(d: &str) = format!("{d:?} needs at least two parts, like example.com.br."), format!("{d:?} precisa de pelo menos duas partes, como exemplo.com.br.");
        domain_label(d: &str) = format!("{d:?} is not a valid domain name: each part has 1 to 63 letters, digits or inner hyphens."), format!("{d:?} não é um nome de domínio válido: cada parte tem de 1 a 63 letras, dígitos ou hífens internos.");
        domain_ip(d: &str) = format!("{d:?} looks like an IP address, not a domain."), format!("{d:?} parece um endereço IP, não um domínio.");
        mixed_scripts(unicode: &str, scripts: &str, label: &str, ascii: &str) =
            format!("{unicode} mixes {scripts} letters in \"{label}\", so it can pass for a different name. Check that it is the customer's real domain (it is {ascii} in DNS)."),
            format!("{unicode} mistura letras {scripts} em \"{label}\", então pode se passar por outro nome. Confira se é o domínio real do cliente (no DNS ele é {ascii}).");
        lookalike(label: &str, unicode: &str, script: &str, ascii: &str) =
            format!("\"{label}\" in {unicode} is written with {script} letters that look Latin, so it can pass for a different name. Check that it is the customer's real domain (it is {ascii} in DNS)."),
            format!("\"{label}\" em {unicode} é escrito com letras {script} que parecem latinas, então pode se passar por outro nome. Confira se é o domínio real do cliente (no DNS ele é {ascii}).");
        local_bad_char(c: char) = format!("{c:?} is not allowed before the @: use letters, digits, dots, hyphens and underscores."), format!("{c:?} não é permitido antes do @: use letras, dígitos, pontos, hífens e sublinhados.");
        no_at(input: &str) = format!("{input:?} is not an address: it has no @."), format!("{input:?} não é um endereço: falta o @.");
        target_invalid(input: &str) = format!("{input:?} is not a valid address."), format!("{input:?} não é um endereço válido.");
        quota_not_number(s: &str) = format!("{s:?} is not a whole number of megabytes."), format!("{s:?} não é um número inteiro de megabytes.");
        quota_range(max: &str) = format!("The quota must be between 0 and {max} MB."), format!("A cota deve ficar entre 0 e {max} MB.");
        limit_not_number(what: &str) = format!("The {what} must be a whole number, 0 for no limit."), format!("O {what} deve ser um número inteiro, 0 para sem limite.");
        argon_unreadable(e: &str) = format!("The Argon2 hash cannot be read: {e}."), format!("Não foi possível ler o hash Argon2: {e}.");
        argon_no_param(name: &str) = format!("The Argon2 hash has no {name}= parameter."), format!("O hash Argon2 não tem o parâmetro {name}=.");
        argon_too_costly(given: &str, allowed: &str) =
            format!("The Argon2 hash costs too much to check at every sign-in ({given}); at most {allowed}. Set a new password instead."),
            format!("O hash Argon2 custa caro demais para ser verificado a cada login ({given}); no máximo {allowed}. Defina uma nova senha.");
        bcrypt_cost(cost: u32, lo: u32, hi: u32) =
            format!("The bcrypt hash has cost {cost}; costs {lo}–{hi} are taken over. Set a new password instead."),
            format!("O hash bcrypt tem custo {cost}; só os custos de {lo} a {hi} são aproveitados. Defina uma nova senha.");
        mb(n: &str) = format!("{n} MB"), format!("{n} MB");
        not_our_domain(d: &str) = format!("{d} is not one of our domains: an administrator adds domains first."), format!("{d} não é um dos nossos domínios: um administrador precisa cadastrá-lo antes.");
        is_alias_domain(d: &str) = format!("{d} is an alias domain; create the address in the domain it mirrors."), format!("{d} é um domínio alias; crie o endereço no domínio que ele espelha.");
        the_mailbox(a: &str) = format!("The mailbox {a}"), format!("A caixa postal {a}");
        the_alias(a: &str) = format!("The alias {a}"), format!("O alias {a}");
        the_forward_of(a: &str) = format!("The forward of {a}"), format!("O encaminhamento de {a}");
        the_catch_all_of(d: &str) = format!("The catch-all of {d}"), format!("O catch-all de {d}");
        the_domain(d: &str) = format!("The domain {d}"), format!("O domínio {d}");
        the_request_kind(k: &str) = format!("The request kind {k:?}"), format!("O tipo de pedido {k:?}");
        invalid_request(kind: &str, e: &str) = format!("Invalid {kind} request: {e}"), format!("Pedido {kind} inválido: {e}");
        status_is_not(a: &str, is: &str, wanted: &str) = format!("{a} is {is}, not {wanted}."), format!("{a} está {is}, não {wanted}.");
        deleted(a: &str) = format!("{a} is deleted."), format!("{a} está excluída.");
        deleted_restore_first(a: &str) = format!("{a} is deleted; restore it first."), format!("{a} está excluída; restaure-a antes.");
        deleted_restore_to_change(a: &str) = format!("{a} is deleted; restore it before changing it."), format!("{a} está excluída; restaure-a antes de alterá-la.");
        already_deleted(a: &str) = format!("{a} is already deleted."), format!("{a} já está excluída.");
        not_deleted(a: &str) = format!("{a} is not deleted."), format!("{a} não está excluída.");
        deleted_kept(a: &str, until: &str) = format!("{a} is a deleted mailbox kept until {until}; restore it, or wait until then."), format!("{a} é uma caixa postal excluída, guardada até {until}; restaure-a ou espere até lá.");
        exists_as_mailbox(a: &str) = format!("{a} already exists as a mailbox."), format!("{a} já existe como caixa postal.");
        exists_as_alias(a: &str) = format!("{a} already exists as an alias."), format!("{a} já existe como alias.");
        exists(d: &str) = format!("{d} already exists."), format!("{d} já existe.");
        mailbox_limit(d: &str, n: &str) = format!("{d} already has its limit of {n} mailboxes (deleted ones count until purged)."), format!("{d} já chegou ao limite de {n} caixas postais (as excluídas contam até serem apagadas de vez).");
        alias_limit(d: &str, n: &str) = format!("{d} already has its limit of {n} aliases."), format!("{d} já chegou ao limite de {n} aliases.");
        quota_over(d: &str, max: &str, note: &str) = format!("{d} allows at most {max} MB per mailbox{note}."), format!("{d} permite no máximo {max} MB por caixa postal{note}.");
        default_quota_within(max: &str) = format!("The default quota must be within the {max} MB limit per mailbox."), format!("A cota padrão deve respeitar o limite de {max} MB por caixa postal.");
        points_to_itself(a: &str) = format!("{a} cannot point to itself."), format!("{a} não pode apontar para si mesmo.");
        hosted_unknown(a: &str) = format!("{a} is in one of our domains but is neither a mailbox nor an alias."), format!("{a} está em um dos nossos domínios, mas não é caixa postal nem alias.");
        makes_loop(path: &str) = format!("That would make a loop: {path}."), format!("Isso criaria um laço: {path}.");
        still_points(who: &str, a: &str) = format!("{who} still sends mail to {a}; change it first."), format!("{who} ainda envia mensagens para {a}; altere isso antes.");
        domain_not_empty(d: &str, mailboxes: &str, aliases: &str, mirrors: &str) =
            format!("{d} still has {mailboxes} mailboxes (deleted ones count until purged), {aliases} aliases and {mirrors} alias domains."),
            format!("{d} ainda tem {mailboxes} caixas postais (as excluídas contam até serem apagadas de vez), {aliases} aliases e {mirrors} domínios alias.");
        limits(mailboxes: &str, aliases: &str, quota: &str, default_quota: &str) =
            format!("mailboxes: {mailboxes}, aliases: {aliases}, quota per mailbox: {quota}, default quota: {default_quota}"),
            format!("caixas postais: {mailboxes}, aliases: {aliases}, cota por caixa postal: {quota}, cota padrão: {default_quota}");
        did_create_mailbox(a: &str, quota: &str, mode: &str) = format!("Create mailbox {a} ({quota}{mode})."), format!("Criar a caixa postal {a} ({quota}{mode}).");
        did_update_mailbox(a: &str, name: &str, quota: &str, mode: &str) = format!("Update mailbox {a}: name {name:?}, quota {quota}, {mode}."), format!("Alterar a caixa postal {a}: nome {name:?}, cota {quota}, {mode}.");
        did_suspend(a: &str, reason: &str) = format!("Suspend mailbox {a} ({reason})."), format!("Suspender a caixa postal {a} ({reason}).");
        did_reactivate(a: &str) = format!("Reactivate mailbox {a}."), format!("Reativar a caixa postal {a}.");
        did_reset_password(a: &str) = format!("Reset the password of {a}."), format!("Redefinir a senha de {a}.");
        did_forward(a: &str, to: &str, keep: &str) = format!("Forward {a} to {to}{keep}."), format!("Encaminhar {a} para {to}{keep}.");
        did_unforward(a: &str) = format!("Remove the forward of {a}."), format!("Remover o encaminhamento de {a}.");
        did_delete_mailbox(a: &str) = format!("Delete mailbox {a}."), format!("Excluir a caixa postal {a}.");
        did_restore(a: &str) = format!("Restore mailbox {a} (suspended)."), format!("Restaurar a caixa postal {a} (volta suspensa).");
        did_create_alias(a: &str, to: &str) = format!("Create alias {a} → {to}."), format!("Criar o alias {a} → {to}.");
        did_update_alias(a: &str, to: &str, off: &str) = format!("Update alias {a} → {to}{off}."), format!("Alterar o alias {a} → {to}{off}.");
        did_delete_alias(a: &str) = format!("Delete alias {a}."), format!("Excluir o alias {a}.");
        did_create_domain(d: &str, limits: &str) = format!("Add domain {d} ({limits})."), format!("Adicionar o domínio {d} ({limits}).");
        did_update_domain(d: &str, limits: &str, catch_all: &str, off: &str) = format!("Update domain {d} ({limits}{catch_all}{off})."), format!("Alterar o domínio {d} ({limits}{catch_all}{off}).");
        did_create_domain_alias(d: &str, to: &str) = format!("Add alias domain {d} → {to}."), format!("Adicionar o domínio alias {d} → {to}.");
        did_delete_domain(d: &str) = format!("Delete domain {d}."), format!("Excluir o domínio {d}.");
        catch_all_to(c: &str) = format!(", catch-all to {c}"), format!(", catch-all para {c}");
    }
}

impl ProvisionTexts {
    /// `n` as the language writes numbers (`10.000.000` / `10,000,000`).
    pub fn number(self, n: impl Into<i128>) -> String {
        crate::i18n::Locale {
            lang: self.0,
            ..Default::default()
        }
        .number(n)
    }

    /// A quota: "2.048 MB" or "unlimited".
    pub fn quota(self, mb: i64) -> String {
        if mb == 0 {
            self.unlimited().into()
        } else {
            self.mb(&self.number(mb))
        }
    }

    /// A mailbox status as a message names it.
    pub fn status(self, s: super::MailboxStatus) -> &'static str {
        match s {
            super::MailboxStatus::Active => self.status_active(),
            super::MailboxStatus::Suspended => self.status_suspended(),
            super::MailboxStatus::Deleted => self.status_deleted(),
        }
    }
}

#[cfg(feature = "ssr")]
impl ProvisionTexts {
    /// The texts in the language of whoever sent the request (or started
    /// the import) being handled.
    pub fn caller() -> Self {
        ProvisionTexts(crate::server::locale::request_lang())
    }

    /// The local date of `at` as the language writes it (in the
    /// configured zone inside a server function, else in UTC).
    pub fn date(self, at: chrono::DateTime<chrono::Utc>) -> String {
        let zone = leptos::prelude::use_context::<crate::state::AppState>()
            .map(|s| s.locale.zone.clone())
            .unwrap_or_default();
        crate::i18n::Locale { lang: self.0, zone }.date(at.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::ProvisionTexts;
    use crate::i18n::Lang;

    #[test]
    fn numbers_in_messages_follow_the_language() {
        let (en, pt) = (ProvisionTexts(Lang::En), ProvisionTexts(Lang::PtBr));
        assert_eq!(en.quota(10_000_000), "10,000,000 MB");
        assert_eq!(pt.quota(10_000_000), "10.000.000 MB");
        assert_eq!(pt.quota(0), "ilimitada");
        assert_eq!(
            pt.quota_range(&pt.number(10_000_000)),
            "A cota deve ficar entre 0 e 10.000.000 MB."
        );
    }
}
