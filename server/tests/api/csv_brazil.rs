//! The CSV import for a Brazilian team (issue 18): an Excel pt-BR file
//! (`;`, BOM, CRLF, Windows-1252, Portuguese column names, `sim`/`não`)
//! imports like the English one; the page's import runs only after a clean
//! preview of the same file by the same person; generated passwords are
//! downloaded once, as CSV, by the importer or an admin; messages in the
//! caller's language.

use crate::helpers::TestApp;
use crate::import_jobs::upload;
use crate::provision::app;
use app::model::Role;
use app::provision::ImportJob;
use app::server::entities::mailbox;
use reqwest::{Client, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

/// What Excel in Portuguese saves: BOM, `;`, CRLF, `sim`, Portuguese names.
const EXCEL: &str = "\u{FEFF}tipo;endereço;nome;senha;cota_mb;somente_envio\r\n\
    caixa;maria.silva@exemplo.com.br;Maria Silva;;512;não\r\n\
    caixa;news@exemplo.com.br;Newsletter;;;sim\r\n\
    ;;;;;\r\n";

/// A finished preview of `csv` by `client`: the job.
async fn preview(app: &TestApp, client: &Client, csv: &[u8]) -> ImportJob {
    let res = upload(app, client, csv, true, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let job: ImportJob = res.json().await.unwrap();
    assert!(!job.running(), "a small preview ends at once");
    job
}

/// The error message of a refused upload, and its status.
async fn refused(res: reqwest::Response) -> (StatusCode, String) {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    (status, body.to_string())
}

async fn download(app: &TestApp, client: &Client, id: i32) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/provision/import_passwords/{id}")))
        .send()
        .await
        .unwrap()
}

async fn mailboxes(app: &TestApp) -> u64 {
    mailbox::Entity::find().count(&app.state.db).await.unwrap()
}

#[tokio::test]
async fn an_excel_pt_br_file_previews_clean_then_imports() {
    let (app, _, ana) = app().await;

    let job = preview(&app, &ana, EXCEL.as_bytes()).await;
    let outcome = job.outcome.clone().unwrap();
    assert_eq!(
        (outcome.rows.len(), outcome.errors()),
        (2, 0),
        "{outcome:?}"
    );
    assert_eq!(
        (outcome.rows[0].line, outcome.rows[1].line),
        (2, 3),
        "lines as in the file"
    );
    let fingerprint = job.fingerprint.unwrap();
    assert_eq!(fingerprint.len(), 64);

    let res = upload(&app, &ana, EXCEL.as_bytes(), false, &fingerprint).await;
    assert_eq!(res.status(), StatusCode::OK);
    let job: ImportJob = res.json().await.unwrap();
    let outcome = job.outcome.unwrap();
    assert_eq!((outcome.written, outcome.errors()), (2, 0), "{outcome:?}");
    let news = mailbox::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.address, m.quota_mb, !m.can_receive))
        .collect::<Vec<_>>();
    assert!(
        news.contains(&("news@exemplo.com.br".into(), 1024, true)),
        "sim is yes, an empty quota the domain's default: {news:?}"
    );
    assert!(news.contains(&("maria.silva@exemplo.com.br".into(), 512, false)));
}

#[tokio::test]
async fn windows_1252_is_read_and_a_mixed_file_is_refused_naming_the_line() {
    let (app, boss, ana) = app().await;
    let latin1 = b"tipo;endereco;nome\r\ncaixa;joao@exemplo.com.br;Jo\xe3o Concei\xe7\xe3o\r\n";
    // Scripts may send it to the REST API too (not UTF-8, yet not refused).
    let token = crate::import_jobs::support_token(&app, &boss).await;
    let res = Client::new()
        .post(app.url("/api/v1/import?dry_run=true"))
        .bearer_auth(&token)
        .body(latin1.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let outcome: app::provision::ImportOutcome = res.json().await.unwrap();
    assert_eq!(outcome.errors(), 0, "{outcome:?}");
    let job = preview(&app, &ana, latin1).await;
    assert_eq!(job.outcome.unwrap().errors(), 0);
    let fingerprint = job.fingerprint.unwrap();
    let res = upload(&app, &ana, latin1, false, &fingerprint).await;
    assert_eq!(res.status(), StatusCode::OK);
    let joao = mailbox::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(joao.name, "João Conceição");

    let mut mixed =
        "tipo;endereco;nome\ncaixa;ana@exemplo.com.br;Ana Conceição\ncaixa;bia@exemplo.com.br;Bia "
            .as_bytes()
            .to_vec();
    mixed.extend_from_slice(b"Concei\xe7\xe3o\n");
    let (status, message) = refused(upload(&app, &ana, &mixed, true, "").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("A linha 3 não está em UTF-8"), "{message}");
}

#[tokio::test]
async fn an_import_needs_a_clean_preview_of_the_same_file_by_the_same_person() {
    let (app, _, ana) = app().await;
    app.add_staff("bia", &[Role::Support]).await;
    let bia = app.signed_in("bia").await;
    let first = preview(&app, &ana, EXCEL.as_bytes()).await;
    let fingerprint = first.fingerprint.unwrap();

    // No preview named.
    let (status, message) = refused(upload(&app, &ana, EXCEL.as_bytes(), false, "").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        message.contains("Pré-visualize este arquivo primeiro"),
        "{message}"
    );

    // Another file than the one previewed (one byte changed).
    let changed = EXCEL.replace("512", "513");
    let (status, message) =
        refused(upload(&app, &ana, changed.as_bytes(), false, &fingerprint).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        message.contains("é diferente do que foi pré-visualizado"),
        "{message}"
    );

    // Someone else's preview does not count.
    let (_, message) =
        refused(upload(&app, &bia, EXCEL.as_bytes(), false, &fingerprint).await).await;
    assert!(
        message.contains("Pré-visualize este arquivo primeiro"),
        "{message}"
    );

    // A preview with errors does not count either.
    let bad = "tipo;endereco;somente_envio\ncaixa;x@exemplo.com.br;talvez\n";
    let job = preview(&app, &ana, bad.as_bytes()).await;
    assert_eq!(job.errors, 1);
    let bad_print = job.fingerprint.unwrap();
    let (_, message) = refused(upload(&app, &ana, bad.as_bytes(), false, &bad_print).await).await;
    assert!(
        message.contains("encontrou 1 linhas com erros"),
        "{message}"
    );

    // In English when the browser asks for it.
    let res = ana
        .post(app.url("/api/provision/import_upload"))
        .header("Accept-Language", "en-US,en;q=0.9")
        .header("Accept", "application/json")
        .header("Content-Type", crate::import_jobs::multipart(&[]).0)
        .body(
            crate::import_jobs::multipart(&[
                ("file", Some("a.csv"), changed.as_bytes()),
                ("fingerprint", None, fingerprint.as_bytes()),
                ("dry_run", None, b"false"),
            ])
            .1,
        )
        .send()
        .await
        .unwrap();
    let (_, message) = refused(res).await;
    assert!(
        message.contains("This file differs from the one previewed"),
        "{message}"
    );

    // The server function checks a fingerprint it is given the same way.
    let res = app
        .call(
            &ana,
            "/api/provision/import",
            &[
                ("csv", changed.as_str()),
                ("fingerprint", fingerprint.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(mailboxes(&app).await, 0, "nothing was imported");

    // The previewed file itself goes in.
    let res = upload(&app, &ana, EXCEL.as_bytes(), false, &fingerprint).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(mailboxes(&app).await, 2);
}

/// Previews and imports `csv` as `client`: the finished import.
async fn import(app: &TestApp, client: &Client, csv: &str) -> ImportJob {
    let fingerprint = preview(app, client, csv.as_bytes())
        .await
        .fingerprint
        .unwrap();
    let res = upload(app, client, csv.as_bytes(), false, &fingerprint).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn generated_passwords_download_once_for_the_importer_or_an_admin() {
    let (app, boss, ana) = app().await;
    app.add_staff("bia", &[Role::Support]).await;
    let bia = app.signed_in("bia").await;
    let job = import(&app, &ana, EXCEL).await;
    let shown: Vec<(String, String)> = job
        .outcome
        .unwrap()
        .rows
        .into_iter()
        .map(|r| (r.target, r.secret.expect("shown once in the result")))
        .collect();

    // Another support member may not (and does not use up the download).
    let res = download(&app, &bia, job.id).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Nor a page on another site.
    let res = ana
        .post(app.url(&format!("/api/provision/import_passwords/{}", job.id)))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The importer, once: address;password, spreadsheet-ready.
    let res = download(&app, &ana, job.id).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let csv = res.text().await.unwrap();
    let mut expected = String::from("\u{FEFF}address;password\n");
    for (address, password) in &shown {
        expected.push_str(&format!("{address};{password}\n"));
    }
    assert_eq!(csv, expected);

    // A second time: gone, with a message saying so.
    let res = download(&app, &ana, job.id).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(
        res.text()
            .await
            .unwrap()
            .starts_with("Estas senhas já foram baixadas")
    );

    // An admin may download another's import; ten at once get it once.
    let second = "tipo;endereco;nome\ncaixa;terceira@exemplo.com.br;Terceira\n";
    let job = import(&app, &ana, second).await;
    let url = app.url(&format!("/api/provision/import_passwords/{}", job.id));
    let mut tries = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (boss, url) = (boss.clone(), url.clone());
        tries.spawn(async move { boss.post(url).send().await.unwrap().status() });
    }
    let statuses: Vec<StatusCode> = tries.join_all().await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::GONE).count(),
        9,
        "{statuses:?}"
    );

    // Signed out, or an import that does not exist.
    assert_eq!(
        download(&app, &app.client(), job.id).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        download(&app, &ana, 999_999).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// Posts the page's form as a browser without WASM does (no JSON asked
/// for), following the server's redirect back to the page: the page.
async fn post_form(
    app: &TestApp,
    client: &Client,
    parts: &[(&str, Option<&str>, &[u8])],
) -> String {
    let (content_type, body) = crate::import_jobs::multipart(parts);
    let res = client
        .post(app.url("/api/provision/import_upload"))
        .header("Content-Type", content_type)
        .header("Accept", "text/html")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with("/mailboxes/import?"), "{back}");
    app.page(client, &back).await
}

#[tokio::test]
async fn without_wasm_the_form_previews_imports_and_shows_the_passwords() {
    let (app, _, ana) = app().await;
    let pasted = "tipo;endereco;nome\ncaixa;sem.js@exemplo.com.br;Sem JS\n";

    // A bad file: the error, and what was typed, back in the form.
    let typo = "tipo;endereco;cor\ncaixa;sem.js@exemplo.com.br;azul\n";
    let page = post_form(
        &app,
        &ana,
        &[("csv", None, typo.as_bytes()), ("dry_run", None, b"true")],
    )
    .await;
    assert!(page.contains("coluna desconhecida"), "{page}");
    assert!(
        page.contains("caixa;sem.js@exemplo.com.br;azul"),
        "the text typed is kept"
    );

    // A preview: its result, and Import enabled with the fingerprint.
    let page = post_form(
        &app,
        &ana,
        &[("csv", None, pasted.as_bytes()), ("dry_run", None, b"true")],
    )
    .await;
    assert!(
        page.contains("Prévia: todas as 1 linhas podem ser importadas"),
        "{page}"
    );
    let fingerprint = app::server::provision::csv_import::fingerprint(pasted.as_bytes());
    assert!(page.contains(&format!("value=\"{fingerprint}\"")), "{page}");
    assert!(
        page.contains("caixa;sem.js@exemplo.com.br;Sem JS"),
        "the text is back"
    );

    // The import: the generated password on the page.
    let page = post_form(
        &app,
        &ana,
        &[
            ("csv", None, pasted.as_bytes()),
            ("fingerprint", None, fingerprint.as_bytes()),
            ("dry_run", None, b"false"),
        ],
    )
    .await;
    assert!(
        page.contains("Todas as 1 linhas foram importadas"),
        "{page}"
    );
    assert!(
        page.contains("class=\"secret-value\""),
        "the password is shown: {page}"
    );
    assert!(page.contains("Baixar senhas (CSV)"));
    assert_eq!(mailboxes(&app).await, 1);
}

#[tokio::test]
async fn a_2_mb_field_is_one_rows_error_and_the_answer_stays_small() {
    let (app, _, ana) = app().await;
    let huge = "a".repeat(2 << 20);
    for csv in [
        format!("tipo;endereco;nome\ncaixa;{huge}@exemplo.com.br;Ana\n"),
        format!("tipo;endereco;nome\ncaixa;ana@exemplo.com.br;{huge}\n"),
        format!("tipo;endereco;nome\n{huge};ana@exemplo.com.br;Ana\n"),
    ] {
        let res = upload(&app, &ana, csv.as_bytes(), true, "").await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = res.text().await.unwrap();
        assert!(body.len() < 8_000, "an answer of {} bytes", body.len());
        let job: ImportJob = serde_json::from_str(&body).unwrap();
        assert_eq!(job.errors, 1, "{body}");
    }
}
