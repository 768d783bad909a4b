//! Bulk CSV import of mailboxes and aliases: load or paste a file, preview
//! what every row would do (nothing is written), then apply — all rows or
//! none. Generated passwords are shown once, in the result.

use crate::api::provision::ImportCsv;
use crate::components::guard::Guarded;
use crate::components::notice::{ErrorBox, SuccessBox};
use crate::components::subnav::MailboxesNav;
use crate::model::Section;
use crate::provision::ImportOutcome;
use leptos::prelude::*;
use leptos_meta::Title;

const EXAMPLE: &str = "kind,address,name,password,quota_mb,send_only,receive_only,targets,description\n\
mailbox,maria.silva@exemplo.com.br,Maria Silva,,2048,,,,\n\
mailbox,news@exemplo.com.br,Newsletter,,,yes,,,\n\
alias,contato@exemplo.com.br,,,,,,maria.silva@exemplo.com.br,Site contact form\n";

#[component]
pub fn ImportPage() -> impl IntoView {
    view! {
        <Title text="CSV import" />
        <Guarded section=Section::Mailboxes children=|_| view! { <Import /> } />
    }
}

#[component]
fn Import() -> impl IntoView {
    let import = ServerAction::<ImportCsv>::new();
    let text = RwSignal::new(String::new());
    let file_error = RwSignal::new(None::<String>);
    let load_file = move |ev: leptos::ev::Event| {
        use leptos::wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(v) => {
                    file_error.set(None);
                    text.set(v.as_string().unwrap_or_default());
                }
                Err(_) => file_error.set(Some("That file could not be read.".into())),
            }
        });
    };
    let submit = move |dry_run: bool| {
        import.dispatch(ImportCsv {
            csv: text.get_untracked(),
            dry_run,
        });
    };

    view! {
        <h1>"CSV import"</h1>
        <MailboxesNav />
        <section class="panel">
            <p>
                "One row per mailbox or alias. Columns (header first, any order): "
                <code>"kind"</code> " (mailbox or alias), " <code>"address"</code> ", and for mailboxes "
                <code>"name"</code> ", " <code>"password"</code> " (empty: generated, or a "
                <code>"{ARGON2ID}"</code> "/" <code>"{BLF-CRYPT}"</code> " hash taken over), "
                <code>"quota_mb"</code> ", " <code>"send_only"</code> ", " <code>"receive_only"</code>
                " (yes/no); for aliases " <code>"targets"</code> " (separated by spaces) and "
                <code>"description"</code> "."
            </p>
            <label>
                "CSV file" <input type="file" accept=".csv,text/csv,text/plain" on:change=load_file />
            </label>
            {move || file_error.get().map(|e| view! { <p class="error-text">{e}</p> })}
            <label>
                "or paste it here"
                <textarea
                    name="csv"
                    rows="10"
                    class="mono"
                    placeholder=EXAMPLE
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
            </label>
            <div class="form-actions">
                <button
                    type="button"
                    disabled=move || import.pending().get() || text.read().trim().is_empty()
                    on:click=move |_| submit(true)
                >
                    "Preview (writes nothing)"
                </button>
                <button
                    type="button"
                    class="primary"
                    disabled=move || import.pending().get() || text.read().trim().is_empty()
                    on:click=move |_| submit(false)
                >
                    "Import all rows"
                </button>
                {move || import.pending().get().then(|| view! { <span class="muted">"Working… each new password takes a moment to hash."</span> })}
            </div>
        </section>
        {move || {
            import
                .value()
                .get()
                .map(|r| match r {
                    Ok(outcome) => view! { <ImportResult outcome /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                })
        }}
    }
}

#[component]
fn ImportResult(outcome: ImportOutcome) -> impl IntoView {
    let errors = outcome.errors();
    let total = outcome.rows.len();
    let headline = match (outcome.dry_run, outcome.applied, errors) {
        (true, _, 0) => view! { <SuccessBox message=format!("Preview: all {total} rows can be imported. Nothing was written yet.") /> }.into_any(),
        (true, _, n) => view! { <div class="notice error" role="alert">{format!("Preview: {n} of {total} rows have errors. Nothing was written; fix them and preview again.")}</div> }.into_any(),
        (false, true, _) => view! { <SuccessBox message=format!("Imported all {total} rows. Copy any generated passwords now: they are shown only once.") /> }.into_any(),
        (false, false, n) => view! { <div class="notice error" role="alert">{format!("Nothing was imported: {n} of {total} rows have errors.")}</div> }.into_any(),
    };
    view! {
        <section class="panel">
            {headline}
            <table class="data">
                <thead>
                    <tr>
                        <th class="num">"Line"</th>
                        <th>"Kind"</th>
                        <th>"Address"</th>
                        <th>"Result"</th>
                        <th>"Password"</th>
                    </tr>
                </thead>
                <tbody>
                    {outcome
                        .rows
                        .into_iter()
                        .map(|r| {
                            let bad = r.error.is_some();
                            view! {
                                <tr class:row-error=bad>
                                    <td class="num">{r.line}</td>
                                    <td>{r.kind}</td>
                                    <td>{r.target}</td>
                                    <td>{r.error.or(r.summary).unwrap_or_default()}</td>
                                    <td>{r.secret.map(|s| view! { <code class="secret-value">{s}</code> })}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}
