//! Bulk CSV import of mailboxes and aliases: choose or paste a file,
//! preview what every row would do (nothing is written), then import. The
//! file goes up as a multipart body (up to 20 MB) and runs as a background
//! job; the page polls its progress. *Import* is enabled only once a
//! preview of this very file had no errors (the preview's fingerprint goes
//! up with the import, and the server checks it); choosing another file or
//! editing the text disables it again. Each row is imported completely or
//! not at all. Generated passwords are shown once, in the result, and can
//! be downloaded once as CSV (`address;password`).
//!
//! [`ImportTexts`] also holds the messages the server writes about a file
//! (`server::provision::csv_import`), in the caller's language.

use crate::api::provision::import_status;
use crate::components::notice::{ErrorBox, SuccessBox};
use crate::components::page::{DataTable, Page};
use crate::components::subnav::MailboxesNav;
use crate::errors::AppError;
use crate::i18n::{Lang, Locale, use_locale, use_texts};
use crate::model::Section;
use crate::provision::{ImportJob, ImportOutcome, ImportStatus};
use leptos::prelude::*;

crate::texts! {
    /// The CSV import page, and the server's messages about a file.
    pub struct ImportTexts {
        title = "CSV import", "Importação de CSV";
        help_rows = "One row per mailbox or alias, under a header line that names the columns (any order, in English or Portuguese):", "Uma linha por caixa postal ou alias, abaixo de uma linha de cabeçalho com o nome das colunas (em qualquer ordem, em inglês ou em português):";
        help_kind = "mailbox (or caixa) or alias", "caixa (ou mailbox) ou alias";
        help_address = "the address", "o endereço";
        help_name = "the customer's name (mailboxes)", "o nome do cliente (caixas postais)";
        help_password = "empty: generated; or an {ARGON2ID} / {BLF-CRYPT} hash taken over", "vazia: gerada; ou um hash {ARGON2ID} / {BLF-CRYPT} aproveitado";
        help_quota = "in MB; empty: the domain's default", "em MB; vazia: o padrão do domínio";
        help_flags = "yes/no, sim/não, s/n, 1/0", "sim/não, s/n, yes/no, 1/0";
        help_targets = "the alias's targets, separated by spaces", "os destinos do alias, separados por espaços";
        help_description = "the alias's description", "a descrição do alias";
        help_format = "Columns separated by commas, semicolons (Excel in Portuguese) or tabs; UTF-8 text (with or without BOM) or Windows-1252. Files up to 20 MB (50,000 rows).", "Colunas separadas por vírgula, ponto e vírgula (Excel em português) ou tabulação; texto em UTF-8 (com ou sem BOM) ou Windows-1252. Arquivos de até 20 MB (50.000 linhas).";
        help_steps = "Preview the file first: Import is enabled once a preview of this very file had no errors.", "Pré-visualize o arquivo primeiro: o botão Importar é liberado quando a prévia deste mesmo arquivo não tiver erros.";
        file_label = "CSV file", "Arquivo CSV";
        paste_label = "or paste it here", "ou cole o conteúdo aqui";
        preview = "Preview (writes nothing)", "Pré-visualizar (não grava nada)";
        import = "Import", "Importar";
        uploading = "Uploading…", "Enviando…";
        choose_again = "Without JavaScript: after the preview, choose the same file again, then Import.", "Sem JavaScript: após a prévia, escolha o mesmo arquivo de novo e clique em Importar.";
        import_locked = "Import is enabled after a preview of this file without errors.", "Importar é liberado após uma prévia deste arquivo sem erros.";
        col_line = "Line", "Linha";
        col_kind = "Kind", "Tipo";
        col_address = "Address", "Endereço";
        col_result = "Result", "Resultado";
        col_password = "Password", "Senha";
        failed = "The import failed.", "A importação falhou.";
        download = "Download passwords (CSV)", "Baixar senhas (CSV)";
        download_note = "The generated passwords can be downloaded once; then the server forgets them.", "As senhas geradas podem ser baixadas uma única vez; depois o servidor as descarta.";
        downloaded = "Passwords downloaded: they cannot be downloaded again.", "Senhas baixadas: não é possível baixá-las de novo.";
        empty_file = "The file is empty.", "O arquivo está vazio.";
        no_rows = "The file has no rows under its header.", "O arquivo não tem linhas abaixo do cabeçalho.";
        utf16 = "The file is UTF-16 (\"Unicode text\"): save it from the spreadsheet as \"CSV UTF-8\".", "O arquivo está em UTF-16 (\"Texto Unicode\"): salve-o na planilha como \"CSV UTF-8 (delimitado por vírgulas)\".";
        choose_file = "Choose a CSV file or paste its text.", "Escolha um arquivo CSV ou cole o texto dele.";
        preview_first = "Preview this file first: only a file whose preview had no errors can be imported.", "Pré-visualize este arquivo primeiro: só é possível importar um arquivo cuja prévia não teve erros.";
        not_previewed_file = "This file differs from the one previewed (it was changed, or another file was chosen): preview it again.", "Este arquivo é diferente do que foi pré-visualizado (foi alterado ou outro arquivo foi escolhido): pré-visualize-o de novo.";
        preview_running = "The preview of this file has not finished yet.", "A prévia deste arquivo ainda não terminou.";
        passwords_gone = "These passwords were already downloaded, or expired: the server no longer has them. Reset a mailbox's password to get a new one.", "Estas senhas já foram baixadas ou expiraram: o servidor não as tem mais. Redefina a senha da caixa postal para obter uma nova.";
        interrupted = "Interrupted: the server running it stopped. The rows it had written stay; import the rest again (rows already there are reported as existing).", "Interrompida: o servidor que a executava parou. As linhas já gravadas permanecem; importe o restante de novo (linhas já existentes são indicadas).";
    }
    formats {
        too_large(mb: &str) = format!("That file is {mb} MB; one import takes at most 20 MB. Split it into smaller files."), format!("Este arquivo tem {mb} MB; uma importação aceita no máximo 20 MB. Divida-o em arquivos menores.");
        file_too_large(max_mb: usize) = format!("The file is larger than {max_mb} MB, the most one import takes. Split it into smaller files."), format!("O arquivo tem mais de {max_mb} MB, o máximo de uma importação. Divida-o em arquivos menores.");
        checking(done: &str, total: &str, errors: &str) = format!("Checking… {done} of {total} rows done ({errors} with errors)."), format!("Verificando… {done} de {total} linhas ({errors} com erros).");
        importing(done: &str, total: &str, errors: &str) = format!("Importing… {done} of {total} rows done ({errors} with errors)."), format!("Importando… {done} de {total} linhas ({errors} com erros).");
        stopped(message: &str, done: &str, total: &str, written: &str) = format!("{message} {done} of {total} rows were done, {written} written."), format!("{message} {done} de {total} linhas processadas, {written} gravadas.");
        preview_clean(total: &str) = format!("Preview: all {total} rows can be imported. Nothing was written yet."), format!("Prévia: todas as {total} linhas podem ser importadas. Nada foi gravado ainda.");
        preview_errors(n: &str, total: &str) = format!("Preview: {n} of {total} rows have errors. Nothing was written; fix them and preview again."), format!("Prévia: {n} de {total} linhas têm erros. Nada foi gravado; corrija-as e pré-visualize de novo.");
        imported_all(total: &str) = format!("Imported all {total} rows. Copy or download any generated passwords now: they are shown only once."), format!("Todas as {total} linhas foram importadas. Copie ou baixe agora as senhas geradas: elas são mostradas uma única vez.");
        imported_some(written: &str, total: &str, n: &str) = format!("Imported {written} of {total} rows; {n} rows with errors were skipped: fix them and import those rows again. Copy or download any generated passwords now: they are shown only once."), format!("{written} de {total} linhas foram importadas; {n} linhas com erros foram ignoradas: corrija-as e importe essas linhas de novo. Copie ou baixe agora as senhas geradas: elas são mostradas uma única vez.");
        stopped_by(e: &str) = format!("The import stopped: {e}"), format!("A importação parou: {e}");
        not_utf8(line: usize) = format!("Line {line} is not UTF-8 text, but lines above it are: the file mixes encodings. Save it from the spreadsheet as \"CSV UTF-8\"."), format!("A linha {line} não está em UTF-8, mas linhas acima dela estão: o arquivo mistura codificações. Salve-o na planilha como \"CSV UTF-8 (delimitado por vírgulas)\".");
        not_text(line: usize) = format!("Line {line} has a byte that is neither UTF-8 nor Windows-1252 text: save the file from the spreadsheet as \"CSV UTF-8\"."), format!("A linha {line} tem um byte que não é texto UTF-8 nem Windows-1252: salve o arquivo na planilha como \"CSV UTF-8 (delimitado por vírgulas)\".");
        unnamed_column(n: usize) = format!("Line 1, column {n}: the header line gives this column no name."), format!("Linha 1, coluna {n}: a linha de cabeçalho não dá nome a esta coluna.");
        unknown_column(n: usize, name: &str, known: &str) = format!("Line 1, column {n}: unknown column \"{name}\"; the columns are {known}."), format!("Linha 1, coluna {n}: coluna desconhecida \"{name}\"; as colunas são {known}.");
        twice_column(n: usize, name: &str) = format!("Line 1, column {n}: the column \"{name}\" appears twice."), format!("Linha 1, coluna {n}: a coluna \"{name}\" aparece duas vezes.");
        missing_column(name: &str) = format!("Line 1: the header has no \"{name}\" column."), format!("Linha 1: o cabeçalho não tem a coluna \"{name}\".");
        unreadable(line: usize, e: &str) = format!("Line {line} cannot be read: {e}"), format!("A linha {line} não pode ser lida: {e}");
        too_many_rows(max: usize) = format!("At most {max} rows per import."), format!("No máximo {max} linhas por importação.");
        row_width(n: usize, header: usize) = format!("This line has {n} columns; the header has {header}."), format!("Esta linha tem {n} colunas; o cabeçalho tem {header}.");
        not_yes_no(column: &str, value: &str) = format!("{column}: \"{value}\" is not yes or no (yes/no, sim/não, s/n, true/false, 1/0)."), format!("{column}: \"{value}\" não é sim nem não (use sim/não, s/n, yes/no, true/false, 1/0).");
        unknown_kind(column: &str, value: &str) = format!("{column}: unknown kind \"{value}\"; use mailbox (caixa) or alias."), format!("{column}: tipo desconhecido \"{value}\"; use caixa (mailbox) ou alias.");
        preview_had_errors(n: i32) = format!("The preview of this file found {n} rows with errors: fix them and preview again before importing."), format!("A prévia deste arquivo encontrou {n} linhas com erros: corrija-as e pré-visualize de novo antes de importar.");
        upload_unreadable(e: &str) = format!("The upload could not be read: {e}"), format!("Não foi possível ler o envio: {e}");
    }
}

/// An example in the pasted-text box, in the page's language.
fn example(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "kind,address,name,password,quota_mb,send_only,receive_only,targets,description\n\
             mailbox,maria.silva@exemplo.com.br,Maria Silva,,2048,,,,\n\
             mailbox,news@exemplo.com.br,Newsletter,,,yes,,,\n\
             alias,contato@exemplo.com.br,,,,,,maria.silva@exemplo.com.br,Site contact form\n"
        }
        Lang::PtBr => {
            "tipo;endereco;nome;senha;cota_mb;somente_envio;somente_recebimento;destinos;descricao\n\
             caixa;maria.silva@exemplo.com.br;Maria Silva;;2048;;;;\n\
             caixa;news@exemplo.com.br;Newsletter;;;sim;;;\n\
             alias;contato@exemplo.com.br;;;;;;maria.silva@exemplo.com.br;Formulário do site\n"
        }
    }
}

/// Where the file is uploaded (the server's `rest::UPLOAD_PATH`).
const UPLOAD: &str = "/api/provision/import_upload";
/// Where a job's generated passwords are downloaded, once (the server's
/// `rest::PASSWORDS_PATH`, then the job's id).
const PASSWORDS: &str = "/api/provision/import_passwords/";
/// The largest file one import takes (the server's `csv_import::MAX_BYTES`).
const MAX_BYTES: f64 = 20.0 * 1024.0 * 1024.0;

#[component]
pub fn ImportPage() -> impl IntoView {
    let title = use_texts::<ImportTexts>().title();
    view! { <Page title section=Section::Mailboxes children=|_| view! { <Import /> } /> }
}

/// The message for a file over the limit, before uploading it.
fn too_large(lang: Lang, bytes: f64) -> String {
    let locale = Locale {
        lang,
        ..Default::default()
    };
    let mb = locale.decimal(bytes / (1024.0 * 1024.0), 1);
    locale.texts::<ImportTexts>().too_large(&mb)
}

/// Uploads the form (its file or pasted text, and the fingerprint of its
/// clean preview) as `multipart/form-data`.
async fn upload(
    form: web_sys::HtmlFormElement,
    dry_run: bool,
    too_big: String,
) -> Result<ImportJob, AppError> {
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
            AppError::Validation(too_big)
        } else {
            broken(&format!("HTTP {}", response.status()))
        }
    }))
}

/// The fingerprint of a job that is a finished preview without errors:
/// what an import of the same file must carry.
fn clean_preview(job: &ImportJob) -> Option<String> {
    let clean = job.dry_run && job.status == ImportStatus::Done && job.errors == 0;
    job.fingerprint.clone().filter(|_| clean)
}

/// What the server's answer to a plain form post (without WASM) put in
/// the address: the job to show, the error, and the pasted text.
#[derive(Clone, Default)]
struct Answered {
    job: Option<i32>,
    error: Option<String>,
    csv: String,
}

/// The page reads the same without WASM: the form posts to the upload
/// route, which answers a plain post by sending the browser back here with
/// `?job=` (or `?error=`, and the pasted text in `csv=`); the job is
/// rendered on the server (reloading every 2 s while it runs).
#[component]
fn Import() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let answered = query.with_untracked(|q| Answered {
        job: q.get("job").and_then(|j| j.parse().ok()),
        error: q.get("error"),
        csv: q.get("csv").unwrap_or_default(),
    });
    let from_url = answered.job;
    let loaded = Resource::new(
        move || from_url,
        |id| async move {
            match id {
                Some(id) => import_status(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new({
                let answered = answered.clone();
                async move {
                    let (url_job, url_error) = match loaded.await {
                        Ok(job) => (job, answered.error.map(AppError::Validation)),
                        Err(e) => (None, Some(e)),
                    };
                    view! { <ImportForm url_job url_error text=answered.csv /> }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImportForm(
    /// The job the address names (after a plain form post).
    url_job: Option<ImportJob>,
    url_error: Option<AppError>,
    /// The pasted text the address carries back.
    text: String,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<ImportTexts>();
    let lang = locale.lang;
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let initial_text = text.clone();
    let text = RwSignal::new(text);
    let file_size = RwSignal::new(None::<f64>);
    // A running job from the address reloads the page without WASM; with
    // it, the page polls.
    let refresh = url_job.as_ref().is_some_and(ImportJob::running);
    // The fingerprint of the clean preview of what the form holds now.
    let previewed = RwSignal::new(url_job.as_ref().and_then(clean_preview));
    let job = RwSignal::new(url_job);
    let error = RwSignal::new(url_error);
    let sending = RwSignal::new(false);
    // Set once the WASM runs: until then the buttons stay usable (the form
    // posts without it).
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let working = move || sending.get() || job.read().as_ref().is_some_and(ImportJob::running);
    let nothing = move || text.read().trim().is_empty() && file_size.get().is_none();

    let choose_file = move |ev: leptos::ev::Event| {
        use leptos::wasm_bindgen::JsCast;
        let size = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
            .map(|file| file.size());
        file_size.set(size);
        previewed.set(None);
        error.set(
            size.filter(|s| *s > MAX_BYTES)
                .map(|s| AppError::Validation(too_large(lang, s))),
        );
    };
    let submit = move |dry_run: bool| {
        let Some(form) = form_ref.get_untracked() else {
            return;
        };
        if let Some(size) = file_size.get_untracked().filter(|s| *s > MAX_BYTES) {
            error.set(Some(AppError::Validation(too_large(lang, size))));
            return;
        }
        let too_big = too_large(lang, MAX_BYTES + 1.0);
        sending.set(true);
        error.set(None);
        job.set(None);
        leptos::task::spawn_local(async move {
            match upload(form, dry_run, too_big).await {
                Ok(j) => job.set(Some(j)),
                Err(e) => error.set(Some(e)),
            }
            sending.set(false);
        });
        if dry_run {
            previewed.set(None);
        }
    };
    // A clean preview enables Import (for this file only).
    Effect::new(move || {
        if let Some(fingerprint) = job.read().as_ref().and_then(clean_preview) {
            previewed.set(Some(fingerprint));
        }
    });
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
        <h1>{t.title()}</h1>
        <MailboxesNav />
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        {refresh.then(|| view! { <leptos_meta::Meta http_equiv="refresh" content="2" /> })}
        <form
            class="panel"
            method="post"
            action=UPLOAD
            enctype="multipart/form-data"
            node_ref=form_ref
            on:submit=|ev| ev.prevent_default()
        >
            <p>{t.help_rows()}</p>
            <ul class="import-columns">
                <li><code>"kind"</code> " / " <code>"tipo"</code> ": " {t.help_kind()}</li>
                <li><code>"address"</code> " / " <code>"endereco"</code> ": " {t.help_address()}</li>
                <li><code>"name"</code> " / " <code>"nome"</code> ": " {t.help_name()}</li>
                <li><code>"password"</code> " / " <code>"senha"</code> ": " {t.help_password()}</li>
                <li><code>"quota_mb"</code> " / " <code>"cota_mb"</code> ": " {t.help_quota()}</li>
                <li>
                    <code>"send_only"</code> " / " <code>"somente_envio"</code> ", "
                    <code>"receive_only"</code> " / " <code>"somente_recebimento"</code> ": " {t.help_flags()}
                </li>
                <li><code>"targets"</code> " / " <code>"destinos"</code> ": " {t.help_targets()}</li>
                <li><code>"description"</code> " / " <code>"descricao"</code> ": " {t.help_description()}</li>
            </ul>
            <p>{t.help_format()}</p>
            <p>{t.help_steps()}</p>
            <label>
                {t.file_label()}
                <input type="file" name="file" accept=".csv,text/csv,text/plain" on:change=choose_file />
            </label>
            <label>
                {t.paste_label()}
                <textarea
                    name="csv"
                    rows="10"
                    class="mono"
                    placeholder=example(locale.lang)
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        previewed.set(None);
                    }
                >
                    {initial_text}
                </textarea>
            </label>
            <input type="hidden" name="fingerprint" value=move || previewed.get().unwrap_or_default() />
            <div class="form-actions">
                <button
                    type="submit"
                    name="dry_run"
                    value="true"
                    disabled=move || hydrated.get() && (working() || nothing())
                    on:click=move |ev| {
                        ev.prevent_default();
                        submit(true)
                    }
                >
                    {t.preview()}
                </button>
                <button
                    type="submit"
                    name="dry_run"
                    value="false"
                    class="primary"
                    title=move || previewed.read().is_none().then_some(t.import_locked())
                    disabled=move || {
                        previewed.read().is_none() || (hydrated.get() && (working() || nothing()))
                    }
                    on:click=move |ev| {
                        ev.prevent_default();
                        submit(false)
                    }
                >
                    {t.import()}
                </button>
                {move || sending.get().then(|| view! { <span class="muted">{t.uploading()}</span> })}
            </div>
            <noscript>
                <p class="muted">{t.choose_again()}</p>
            </noscript>
        </form>
        {move || job.get().map(|j| view! { <JobView job=j /> })}
    }
}

/// A job: its progress while it runs, its result once done.
#[component]
fn JobView(job: ImportJob) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<ImportTexts>();
    let n = |n: usize| locale.number(n as i128);
    match (job.status, job.outcome) {
        (ImportStatus::Running, _) => {
            let (done, total, errors) = (n(job.done), n(job.total), n(job.errors));
            let line = if job.dry_run {
                t.checking(&done, &total, &errors)
            } else {
                t.importing(&done, &total, &errors)
            };
            view! {
                <section class="panel" role="status">
                    <p>{line}</p>
                    <progress max=job.total value=job.done></progress>
                </section>
            }
            .into_any()
        }
        (_, Some(outcome)) => view! { <ImportResult id=job.id outcome /> }.into_any(),
        _ => view! {
            <div class="notice error" role="alert">
                {t.stopped(
                    job.message.as_deref().unwrap_or(t.failed()),
                    &n(job.done),
                    &n(job.total),
                    &n(job.written),
                )}
            </div>
        }
        .into_any(),
    }
}

#[component]
fn ImportResult(id: i32, outcome: ImportOutcome) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts::<ImportTexts>();
    let n = |n: usize| locale.number(n as i128);
    let (errors, total, written) = (
        n(outcome.errors()),
        n(outcome.rows.len()),
        n(outcome.written),
    );
    let alert = |message: String| {
        view! { <div class="notice error" role="alert">{message}</div> }.into_any()
    };
    let headline = match (outcome.dry_run, outcome.errors()) {
        (true, 0) => view! { <SuccessBox message=t.preview_clean(&total) /> }.into_any(),
        (true, _) => alert(t.preview_errors(&errors, &total)),
        (false, 0) => view! { <SuccessBox message=t.imported_all(&total) /> }.into_any(),
        (false, _) => alert(t.imported_some(&written, &total, &errors)),
    };
    let secrets = outcome.rows.iter().any(|r| r.secret.is_some());
    view! {
        <section class="panel">
            {headline}
            {secrets.then(|| view! { <PasswordsDownload id /> })}
            <DataTable rows=outcome.rows
                head=vec![t.col_line(), t.col_kind(), t.col_address(), t.col_result(), t.col_password()]
                num=vec![t.col_line()] row=move |r| {
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

/// The one download of a job's generated passwords: a plain form post (the
/// answer is an attachment, so the page stays), replaced by a note once sent.
#[component]
fn PasswordsDownload(id: i32) -> impl IntoView {
    let t = use_texts::<ImportTexts>();
    let sent = RwSignal::new(false);
    view! {
        <Show
            when=move || !sent.get()
            fallback=move || view! { <p class="muted" role="status">{t.downloaded()}</p> }
        >
            <form
                class="form-actions"
                method="post"
                action=format!("{PASSWORDS}{id}")
                on:submit=move |_| {
                    // After the browser has sent the form.
                    set_timeout(move || sent.set(true), std::time::Duration::from_millis(200));
                }
            >
                <button type="submit">{t.download()}</button>
                <span class="muted">{t.download_note()}</span>
            </form>
        </Show>
    }
}
