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
use crate::components::format::utc_seconds;
use crate::components::notice::{ActionError, SuccessBox};
use crate::components::page::{DataTable, Loaded, Page};
use crate::model::Section;
use leptos::prelude::*;

#[component]
pub fn UnclassifiedRejectsPage() -> impl IntoView {
    view! { <Page title="Unclassified rejects" section=Section::MailFlow children=|_| view! { <Board /> } /> }
}

/// The rule being written: filled by a row's button, edited by hand.
#[derive(Clone, Copy)]
struct Draft {
    class: RwSignal<String>,
    pattern: RwSignal<String>,
}

#[component]
fn Board() -> impl IntoView {
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
        <h1>"Unclassified rejects"</h1>
        <p class="muted">
            <a href="/mailflow">"← Proposals and blocks"</a>
            " · Rejects no rule classified (class “other”), grouped by their text with numbers, addresses, IPs and host names replaced by "
            <code>"<n>"</code>", "<code>"<addr>"</code>", "<code>"<ip>"</code>", "<code>"<host>"</code>
            ". Times are UTC. Make a rule from one, check what it matches, then save it: new rejects of that kind get its class."
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
    view! {
        <section class="panel rule-editor">
            <h2>"New reject rule"</h2>
            <form class="stack" on:submit=on_preview>
                <TextField label="Class name" name="class" value=draft.class />
                <TextField label="Pattern (regular expression)" name="pattern" value=draft.pattern />
                <p class="muted">
                    "Lower-case letters, digits and _ in the class name. The pattern is tried on each reject reply after every other rule, case-sensitive unless it starts with (?i)."
                </p>
                {move || too_long().then(|| view! {
                    <div class="notice error" role="alert">
                        {format!("The pattern is too long (at most {MAX_PATTERN_LEN} characters).")}
                    </div>
                })}
                <div class="buttons">
                    <button type="submit">"Preview"</button>
                    <button type="button" on:click=on_save>"Save rule"</button>
                </div>
            </form>
            <ActionError result=preview.value() />
            {move || preview.value().get().and_then(Result::ok).map(|p| view! {
                <div class="notice" role="status" data-testid="preview">
                    <p>
                        {format!(
                            "Would have matched {} of {}.",
                            plural(p.rejects, "reject"),
                            plural(p.texts, "stored text")
                        )}
                    </p>
                    <p class="muted">
                        "Counted over the unclassified rejects stored here (the most frequent texts, since each was first seen); a text counts when the pattern matches one of its sample lines."
                    </p>
                    <ul>{p.examples.into_iter().map(|t| view! { <li><code>{t}</code></li> }).collect_view()}</ul>
                </div>
            })}
            <ActionError result=save.value() />
            {move || save.value().get().and_then(Result::ok).map(|s| view! {
                <SuccessBox message=format!(
                    "Saved rule {} ({} now classified). Live sources use it within half a minute.",
                    s.class, plural(s.preview.rejects, "stored reject")
                ) />
            })}
        </section>
    }
}

/// `1 reject`, `3 rejects`.
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
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
    let pages = p.total.div_ceil(p.page_rows.max(1)).max(1);
    let current = p.page;
    view! {
        <section class="panel">
            <h2>{format!("Unclassified texts ({})", p.total)}</h2>
            <DataTable rows=p.rows head=&["Text", "Rejects", "First seen", "Last seen", ""] num=&["Rejects"]
                class="data unclassified" empty="No unclassified rejects stored." row=move |r| view! { <TextRow r draft /> }
            />
            <nav class="pager" aria-label="Pages">
                <button type="button" class="small" disabled=current == 0 on:click=move |_| page.set(current.saturating_sub(1))>"Previous"</button>
                <span>{format!(" Page {} of {pages} ", current + 1)}</span>
                <button type="button" class="small" disabled=current + 1 >= pages on:click=move |_| page.set(current + 1)>"Next"</button>
            </nav>
        </section>
    }
    .into_any()
}

#[component]
fn TextRow(r: UnclassifiedRow, draft: Draft) -> impl IntoView {
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
                    <summary>"Sample lines"</summary>
                    <ul class="samples">{r.samples.into_iter().map(|s| view! { <li><code>{s}</code></li> }).collect_view()}</ul>
                </details>
            </td>
            <td class="num">{r.n.to_string()}</td>
            <td>{utc_seconds(r.first_at)}</td>
            <td>{utc_seconds(r.last_at)}</td>
            <td>
                <button type="button" class="small" on:click=fill>"Make a rule from this"</button>
            </td>
        </tr>
    }
    .into_any()
}
