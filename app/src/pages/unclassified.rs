//! Unclassified rejects (roles `security` and `admin`): the reject texts no
//! rule classified (class `other`), most frequent first, with their counts,
//! first and last time and sample lines; "Make a rule from this" fills the
//! rule editor below with a class name and a pattern made from the text,
//! which the analyst edits, previews (how many of the stored rejects it
//! would have matched) and saves. Live sources use a saved rule within
//! half a minute, imports from their start.

use crate::api::unclassified::{
    MAX_PATTERN_LEN, PreviewRejectRule, SaveRejectRule, UnclassifiedPage, UnclassifiedRow,
    unclassified_rejects,
};
use crate::components::notice::{ActionError, SuccessBox};
use crate::components::page::{DataTable, Loaded, Page};
use crate::i18n::{Time, use_locale, use_texts};
use crate::model::Section;
use crate::pages::defence::DefenceTexts;
use leptos::prelude::*;

crate::texts! {
    /// The unclassified rejects page and its server functions' messages.
    pub struct UnclassifiedTexts {
        title = "Unclassified rejects", "Rejeições não classificadas";
        intro = " · Rejects no rule classified (class “other”), grouped by their text with numbers, addresses, IPs and host names replaced by ", " · Rejeições que nenhuma regra classificou (classe “other”), agrupadas pelo texto, com números, endereços, IPs e nomes de host trocados por ";
        intro_end = ". Make a rule from one, check what it matches, then save it: new rejects of that kind get its class.", ". Crie uma regra a partir de uma, confira o que ela pega e salve: as novas rejeições desse tipo recebem a classe dela.";
        new_rule = "New reject rule", "Nova regra de rejeição";
        class_name = "Class name", "Nome da classe";
        pattern = "Pattern (regular expression)", "Padrão (expressão regular)";
        rule_help = "Lower-case letters, digits and _ in the class name. The pattern is tried on each reject reply after every other rule, case-sensitive unless it starts with (?i).", "Letras minúsculas, dígitos e _ no nome da classe. O padrão é testado em cada resposta de rejeição depois de todas as outras regras, diferenciando maiúsculas de minúsculas, a menos que comece com (?i).";
        preview = "Preview", "Pré-visualizar";
        save_rule = "Save rule", "Salvar regra";
        preview_note = "Counted over the unclassified rejects stored here (the most frequent texts, since each was first seen); a text counts when the pattern matches one of its sample lines.", "Contado sobre as rejeições não classificadas guardadas aqui (os textos mais frequentes, desde a primeira vez que cada um apareceu); um texto conta quando o padrão casa com uma das suas linhas de exemplo.";
        col_text = "Text", "Texto";
        col_rejects = "Rejects", "Rejeições";
        col_first = "First seen", "Primeira vez";
        col_last = "Last seen", "Última vez";
        empty = "No unclassified rejects stored.", "Nenhuma rejeição não classificada armazenada.";
        pages = "Pages", "Páginas";
        sample_lines = "Sample lines", "Linhas de exemplo";
        make_rule = "Make a rule from this", "Criar regra a partir disto";
        bad_class = "A class name is 1 to 64 lower-case letters, digits or _.", "O nome da classe tem de 1 a 64 letras minúsculas, dígitos ou _.";
        other_class = "\"other\" is the class of rejects no rule matches.", "\"other\" é a classe das rejeições que nenhuma regra pega.";
        empty_pattern = "The pattern is empty.", "O padrão está vazio.";
        too_complex = "The pattern is too complex (it compiles too big); simplify it.", "O padrão é complexo demais (compila grande demais); simplifique-o.";
    }
    formats {
        too_long_here(max: usize) = format!("The pattern is too long (at most {max} characters)."), format!("O padrão é longo demais (no máximo {max} caracteres).");
        too_long(n: usize, max: usize) = format!("The pattern is too long ({n} characters; at most {max})."), format!("O padrão é longo demais ({n} caracteres; no máximo {max}).");
        invalid(e: &str) = format!("The pattern is not a valid regular expression: {e}"), format!("O padrão não é uma expressão regular válida: {e}");
        rejects(n: &str) = if n == "1" { "1 reject".into() } else { format!("{n} rejects") }, if n == "1" { "1 rejeição".into() } else { format!("{n} rejeições") };
        stored_texts(n: &str) = if n == "1" { "1 stored text".into() } else { format!("{n} stored texts") }, if n == "1" { "1 texto armazenado".into() } else { format!("{n} textos armazenados") };
        stored_rejects(n: &str) = if n == "1" { "1 stored reject".into() } else { format!("{n} stored rejects") }, if n == "1" { "1 rejeição armazenada".into() } else { format!("{n} rejeições armazenadas") };
        would_match(rejects: &str, texts: &str) = format!("Would have matched {rejects} of {texts}."), format!("Teria pego {rejects} de {texts}.");
        saved(class: &str, rejects: &str) = format!("Saved rule {class} ({rejects} now classified). Live sources use it within half a minute."), format!("Regra {class} salva ({rejects} classificadas agora). As fontes ao vivo passam a usá-la em meio minuto.");
        heading(n: &str) = format!("Unclassified texts ({n})"), format!("Textos não classificados ({n})");
        page_of(page: u64, pages: u64) = format!(" Page {page} of {pages} "), format!(" Página {page} de {pages} ");
        class_taken(class: &str) = format!("The class {class} already has a rule; choose another name."), format!("A classe {class} já tem uma regra; escolha outro nome.");
    }
}

#[cfg(feature = "ssr")]
impl UnclassifiedTexts {
    /// Why a rule as typed is refused, in this language (on the server,
    /// where rules are parsed).
    pub fn rule_error(self, e: &mailflow::count::RuleError) -> String {
        use mailflow::count::{MAX_PATTERN, RuleError};
        match e {
            RuleError::BadClass => self.bad_class().into(),
            RuleError::OtherClass => self.other_class().into(),
            RuleError::EmptyPattern => self.empty_pattern().into(),
            RuleError::TooLong(n) => self.too_long(*n, MAX_PATTERN),
            RuleError::TooComplex => self.too_complex().into(),
            RuleError::Invalid(why) => self.invalid(why),
        }
    }
}

/// The unclassified texts in the language of the request being answered.
#[cfg(feature = "ssr")]
pub fn server_texts() -> UnclassifiedTexts {
    UnclassifiedTexts(crate::server::locale::request_lang())
}

#[component]
pub fn UnclassifiedRejectsPage() -> impl IntoView {
    let title = use_texts::<UnclassifiedTexts>().title();
    view! { <Page title section=Section::MailFlow children=|_| view! { <Board /> } /> }
}

/// The rule being written: filled by a row's button, edited by hand.
#[derive(Clone, Copy)]
struct Draft {
    class: RwSignal<String>,
    pattern: RwSignal<String>,
}

#[component]
fn Board() -> impl IntoView {
    let locale = use_locale();
    let (t, d) = (
        locale.texts::<UnclassifiedTexts>(),
        locale.texts::<DefenceTexts>(),
    );
    let page = RwSignal::new(0u64);
    let draft = Draft {
        class: RwSignal::new(String::new()),
        pattern: RwSignal::new(String::new()),
    };
    let preview = ServerAction::<PreviewRejectRule>::new();
    let save = ServerAction::<SaveRejectRule>::new();
    let list = Resource::new(
        move || (page.get(), save.version().get()),
        |(page, _)| unclassified_rejects(page),
    );
    view! {
        <h1>{t.title()}</h1>
        <p class="muted">
            <a href="/mailflow">{d.back_to_proposals()}</a>
            {t.intro()}
            <code>"<n>"</code>", "<code>"<addr>"</code>", "<code>"<ip>"</code>", "<code>"<host>"</code>
            {t.intro_end()}
        </p>
        <RuleEditor draft preview save />
        <Loaded resource=list let:p>
            <Texts p draft page />
        </Loaded>
    }
}

#[component]
fn RuleEditor(
    draft: Draft,
    preview: ServerAction<PreviewRejectRule>,
    save: ServerAction<SaveRejectRule>,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<UnclassifiedTexts>();
    let too_long = move || draft.pattern.with(|p| p.len() > MAX_PATTERN_LEN);
    let args = move || (draft.class.get_untracked(), draft.pattern.get_untracked());
    let on_preview = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !too_long() {
            let (class, pattern) = args();
            preview.dispatch(PreviewRejectRule { class, pattern });
        }
    };
    let on_save = move |_| {
        if !too_long() {
            let (class, pattern) = args();
            save.dispatch(SaveRejectRule { class, pattern });
        }
    };
    let preview_locale = locale.clone();
    view! {
        <section class="panel rule-editor">
            <h2>{t.new_rule()}</h2>
            <form class="stack" on:submit=on_preview>
                <TextField label=t.class_name() name="class" value=draft.class />
                <TextField label=t.pattern() name="pattern" value=draft.pattern />
                <p class="muted">{t.rule_help()}</p>
                {move || too_long().then(|| view! {
                    <div class="notice error" role="alert">{t.too_long_here(MAX_PATTERN_LEN)}</div>
                })}
                <div class="buttons">
                    <button type="submit">{t.preview()}</button>
                    <button type="button" on:click=on_save>{t.save_rule()}</button>
                </div>
            </form>
            <ActionError result=preview.value() />
            {move || preview.value().get().and_then(Result::ok).map(|p| view! {
                <div class="notice" role="status" data-testid="preview">
                    <p>
                        {t.would_match(
                            &t.rejects(&preview_locale.number(p.rejects)),
                            &t.stored_texts(&preview_locale.number(p.texts)),
                        )}
                    </p>
                    <p class="muted">{t.preview_note()}</p>
                    <ul>{p.examples.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view()}</ul>
                </div>
            })}
            <ActionError result=save.value() />
            {move || save.value().get().and_then(Result::ok).map(|s| view! {
                <SuccessBox message=t.saved(&s.class, &t.stored_rejects(&locale.number(s.preview.rejects))) />
            })}
        </section>
    }
}

/// A required text input labelled `label`, bound both ways to `value`.
#[component]
fn TextField(label: &'static str, name: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label>
            {label}
            <input
                type="text"
                name=name
                required
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

#[component]
fn Texts(p: UnclassifiedPage, draft: Draft, page: RwSignal<u64>) -> impl IntoView {
    let locale = use_locale();
    let (t, d) = (
        locale.texts::<UnclassifiedTexts>(),
        locale.texts::<DefenceTexts>(),
    );
    let pages = p.total.div_ceil(p.page_rows.max(1)).max(1);
    let current = p.page;
    view! {
        <section class="panel">
            <h2>{t.heading(&locale.number(p.total))}</h2>
            <DataTable rows=p.rows head=vec![t.col_text(), t.col_rejects(), t.col_first(), t.col_last(), ""]
                num=vec![t.col_rejects()]
                class="data unclassified" empty=t.empty() row=move |r| view! { <TextRow r draft /> }
            />
            <nav class="pager" aria-label=t.pages()>
                <button type="button" class="small" disabled=current == 0 on:click=move |_| page.set(current.saturating_sub(1))>{d.previous()}</button>
                <span>{t.page_of(current + 1, pages)}</span>
                <button type="button" class="small" disabled=current + 1 >= pages on:click=move |_| page.set(current + 1)>{d.next()}</button>
            </nav>
        </section>
    }
    .into_any()
}

#[component]
fn TextRow(r: UnclassifiedRow, draft: Draft) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<UnclassifiedTexts>();
    let (class, pattern) = (r.suggested_class.clone(), r.suggested_pattern.clone());
    let fill = move |_| {
        draft.class.set(class.clone());
        draft.pattern.set(pattern.clone());
    };
    view! {
        <tr data-text=r.text.clone()>
            <td>
                <code>{r.text.clone()}</code>
                <details>
                    <summary>{t.sample_lines()}</summary>
                    <ul class="samples">{r.samples.into_iter().map(|s| view! { <li><code>{s}</code></li> }).collect_view()}</ul>
                </details>
            </td>
            <td class="num">{locale.number(r.n)}</td>
            <td><Time at=r.first_at /></td>
            <td><Time at=r.last_at /></td>
            <td>
                <button type="button" class="small" on:click=fill>{t.make_rule()}</button>
            </td>
        </tr>
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use mailflow::count::NewRule;

    #[test]
    fn counts_and_refusals_read_in_both_languages() {
        let (en, pt) = (UnclassifiedTexts(Lang::En), UnclassifiedTexts(Lang::PtBr));
        assert_eq!(
            en.would_match(&en.rejects("3"), &en.stored_texts("1")),
            "Would have matched 3 rejects of 1 stored text."
        );
        assert_eq!(
            pt.would_match(&pt.rejects("1"), &pt.stored_texts("2")),
            "Teria pego 1 rejeição de 2 textos armazenados."
        );
        // The English refusal is the one the rule parser writes.
        for (class, pattern) in [
            ("Bad", "x"),
            ("other", "x"),
            ("ok", " "),
            ("ok", "("),
            ("ok", r"\w{1000}{1000}"),
        ] {
            let e = NewRule::parse(class, pattern).unwrap_err();
            assert_eq!(en.rule_error(&e), e.to_string());
            assert_ne!(pt.rule_error(&e), e.to_string());
        }
    }
}
