//! Bulk CSV import of mailboxes and aliases: choose or paste a file,
//! preview what every row would do (nothing is written), then import. The
//! file goes up as a multipart body (up to 20 MB) and runs as a background
//! job; the page polls its progress. Each row is imported completely or
//! not at all; rows with errors are listed and skipped. Generated
//! passwords are shown once, in the result.

use crate::api::provision::import_status;
use crate::components::notice::{ErrorBox, SuccessBox};
use crate::components::page::{DataTable, Page};
use crate::components::subnav::MailboxesNav;
use crate::errors::AppError;
use crate::model::Section;
use crate::provision::{ImportJob, ImportOutcome, ImportStatus};
use leptos::prelude::*;

const EXAMPLE: &str = "kind,address,name,password,quota_mb,send_only,receive_only,targets,description\n\
mailbox,maria.silva@exemplo.com.br,Maria Silva,,2048,,,,\n\
mailbox,news@exemplo.com.br,Newsletter,,,yes,,,\n\
alias,contato@exemplo.com.br,,,,,,maria.silva@exemplo.com.br,Site contact form\n";

/// Where the file is uploaded (the server's `rest::UPLOAD_PATH`).
const UPLOAD: &str = "/api/provision/import_upload";
/// The largest file one import takes (the server's `csv_import::MAX_BYTES`).
const MAX_BYTES: f64 = 20.0 * 1024.0 * 1024.0;

#[component]
pub fn ImportPage() -> impl IntoView {
    view! { <Page title="CSV import" section=Section::Mailboxes children=|_| view! { <Import /> } /> }
}

/// The message for a file over the limit, before uploading it.
fn too_large(bytes: f64) -> String {
    format!(
        "That file is {:.1} MB; one import takes at most 20 MB. Split it into smaller files.",
        bytes / (1024.0 * 1024.0)
    )
}

/// Uploads the form (its file or pasted text) as `multipart/form-data`.
async fn upload(form: web_sys::HtmlFormElement, dry_run: bool) -> Result<ImportJob, AppError> {
    use leptos::wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let broken = |what: &str| AppError::Transport(what.to_string());
    let data = web_sys::FormData::new_with_form(&form).map_err(|_| broken("the form"))?;
    data.set_with_str("dry_run", if dry_run { "true" } else { "false" })
        .map_err(|_| broken("the form"))?;
    let headers = web_sys::Headers::new().map_err(|_| broken("headers"))?;
    headers
        .set("Accept", "application/json")
        .map_err(|_| broken("headers"))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&data);
    init.set_headers(&headers);
    let window = web_sys::window().ok_or_else(|| broken("no window"))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(UPLOAD, &init))
        .await
        .map_err(|_| broken("the upload did not reach the server"))?
        .dyn_into()
        .map_err(|_| broken("no response"))?;
    let text = JsFuture::from(response.text().map_err(|_| broken("no answer"))?)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    if response.ok() {
        return serde_json::from_str(&text).map_err(|e| broken(&e.to_string()));
    }
    Err(serde_json::from_str::<AppError>(&text).unwrap_or_else(|_| {
        if response.status() == 413 {
            AppError::Validation(too_large(MAX_BYTES + 1.0))
        } else {
            broken(&format!("HTTP {}", response.status()))
        }
    }))
}

#[component]
fn Import() -> impl IntoView {
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let text = RwSignal::new(String::new());
    let file_size = RwSignal::new(None::<f64>);
    let job = RwSignal::new(None::<ImportJob>);
    let error = RwSignal::new(None::<AppError>);
    let sending = RwSignal::new(false);
    let working = move || sending.get() || job.read().as_ref().is_some_and(ImportJob::running);

    let choose_file = move |ev: leptos::ev::Event| {
        use leptos::wasm_bindgen::JsCast;
        let size = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
            .map(|file| file.size());
        file_size.set(size);
        error.set(
            size.filter(|s| *s > MAX_BYTES)
                .map(|s| AppError::Validation(too_large(s))),
        );
    };
    let submit = move |dry_run: bool| {
        let Some(form) = form_ref.get_untracked() else {
            return;
        };
        if let Some(size) = file_size.get_untracked().filter(|s| *s > MAX_BYTES) {
            error.set(Some(AppError::Validation(too_large(size))));
            return;
        }
        sending.set(true);
        error.set(None);
        job.set(None);
        leptos::task::spawn_local(async move {
            match upload(form, dry_run).await {
                Ok(j) => job.set(Some(j)),
                Err(e) => error.set(Some(e)),
            }
            sending.set(false);
        });
    };
    // While the job runs, ask how it stands every second.
    Effect::new(move || {
        let Some(id) = job.read().as_ref().filter(|j| j.running()).map(|j| j.id) else {
            return;
        };
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    match import_status(id).await {
                        Ok(j) => job.set(Some(j)),
                        Err(e) => {
                            error.set(Some(e));
                            job.set(None);
                        }
                    }
                });
            },
            std::time::Duration::from_secs(1),
        );
    });

    view! {
        <h1>"CSV import"</h1>
        <MailboxesNav />
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        <form class="panel" node_ref=form_ref on:submit=|ev| ev.prevent_default()>
            <p>
                "One row per mailbox or alias. Columns (header first, any order): "
                <code>"kind"</code> " (mailbox or alias), " <code>"address"</code> ", and for mailboxes "
                <code>"name"</code> ", " <code>"password"</code> " (empty: generated, or a "
                <code>"{ARGON2ID}"</code> "/" <code>"{BLF-CRYPT}"</code> " hash taken over), "
                <code>"quota_mb"</code> ", " <code>"send_only"</code> ", " <code>"receive_only"</code>
                " (yes/no); for aliases " <code>"targets"</code> " (separated by spaces) and "
                <code>"description"</code> ". Files up to 20 MB (50,000 rows)."
            </p>
            <label>
                "CSV file"
                <input type="file" name="file" accept=".csv,text/csv,text/plain" on:change=choose_file />
            </label>
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
                    disabled=move || working() || (text.read().trim().is_empty() && file_size.get().is_none())
                    on:click=move |_| submit(true)
                >
                    "Preview (writes nothing)"
                </button>
                <button
                    type="button"
                    class="primary"
                    disabled=move || working() || (text.read().trim().is_empty() && file_size.get().is_none())
                    on:click=move |_| submit(false)
                >
                    "Import"
                </button>
                {move || sending.get().then(|| view! { <span class="muted">"Uploading…"</span> })}
            </div>
        </form>
        {move || job.get().map(|j| view! { <JobView job=j /> })}
    }
}

/// A job: its progress while it runs, its result once done.
#[component]
fn JobView(job: ImportJob) -> impl IntoView {
    let doing = if job.dry_run { "Checking" } else { "Importing" };
    match (job.status, job.outcome) {
        (ImportStatus::Running, _) => view! {
            <section class="panel" role="status">
                <p>{format!("{doing}… {} of {} rows done ({} with errors).", job.done, job.total, job.errors)}</p>
                <progress max=job.total value=job.done></progress>
            </section>
        }
        .into_any(),
        (_, Some(outcome)) => view! { <ImportResult outcome /> }.into_any(),
        _ => view! {
            <div class="notice error" role="alert">
                {format!(
                    "{} {} of {} rows were done, {} written.",
                    job.message.unwrap_or_else(|| "The import failed.".into()),
                    job.done,
                    job.total,
                    job.written,
                )}
            </div>
        }
        .into_any(),
    }
}

#[component]
fn ImportResult(outcome: ImportOutcome) -> impl IntoView {
    let errors = outcome.errors();
    let total = outcome.rows.len();
    let written = outcome.written;
    let headline = match (outcome.dry_run, errors) {
        (true, 0) => view! { <SuccessBox message=format!("Preview: all {total} rows can be imported. Nothing was written yet.") /> }.into_any(),
        (true, n) => view! { <div class="notice error" role="alert">{format!("Preview: {n} of {total} rows have errors. Nothing was written; fix them and preview again (an import skips rows with errors).")}</div> }.into_any(),
        (false, 0) => view! { <SuccessBox message=format!("Imported all {total} rows. Copy any generated passwords now: they are shown only once.") /> }.into_any(),
        (false, n) => view! { <div class="notice error" role="alert">{format!("Imported {written} of {total} rows; {n} rows with errors were skipped: fix them and import those rows again. Copy any generated passwords now: they are shown only once.")}</div> }.into_any(),
    };
    view! {
        <section class="panel">
            {headline}
            <DataTable rows=outcome.rows head=&["Line", "Kind", "Address", "Result", "Password"]
                num=&["Line"] row=move |r| {
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
                }
            />
        </section>
    }
}
