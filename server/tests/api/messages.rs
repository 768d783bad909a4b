//! Messages the server makes (validation errors, request summaries, staff
//! and session errors) come in the caller's language: Portuguese by
//! default, English when the request asks for it — from a server function,
//! from the REST API (which has no page context), and from a CSV import
//! running in the background after its request ended.

use crate::helpers::TestApp;
use crate::import_jobs::support_token;
use crate::provision::app;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// A server function called as the WASM client does, in `lang` (`None`:
/// no `Accept-Language`, as the tests' default).
async fn call_in(
    app: &TestApp,
    client: &Client,
    path: &str,
    form: &[(&str, &str)],
    lang: Option<&str>,
) -> (StatusCode, String) {
    let mut req = client
        .post(app.url(path))
        .header("Accept", "application/json")
        .form(form);
    if let Some(lang) = lang {
        req = req.header("Accept-Language", lang);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// A provisioning request's form fields, as its page posts them.
fn request_form<'a>(fields: &[(&str, &'a str)]) -> Vec<(String, &'a str)> {
    fields
        .iter()
        .map(|(k, v)| (format!("request[{k}]"), *v))
        .collect()
}

async fn provision_in(
    app: &TestApp,
    client: &Client,
    kind: &str,
    fields: &[(&str, &str)],
    lang: Option<&str>,
) -> (StatusCode, String) {
    let form = request_form(fields);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    call_in(app, client, &format!("/api/provision/{kind}"), &form, lang).await
}

#[tokio::test]
async fn server_functions_answer_in_the_callers_language() {
    let (app, boss, ana) = app().await;

    // A validation error.
    let bad = [("address", "ana silva@exemplo.com.br")];
    let (status, pt) = provision_in(&app, &ana, "mailbox_create", &bad, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{pt}");
    assert!(pt.contains("não é permitido antes do @"), "{pt}");
    let (_, en) = provision_in(&app, &ana, "mailbox_create", &bad, Some("en-US,en")).await;
    assert!(en.contains("is not allowed before the @"), "{en}");

    // A request's summary, its number written the language's way.
    let (status, pt) = provision_in(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "joao@exemplo.com.br")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{pt}");
    let pt: Value = serde_json::from_str(&pt).unwrap();
    assert_eq!(
        pt["summary"],
        "Criar a caixa postal joao@exemplo.com.br (1.024 MB)."
    );
    let (_, en) = provision_in(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "maria@exemplo.com.br")],
        Some("en"),
    )
    .await;
    let en: Value = serde_json::from_str(&en).unwrap();
    assert_eq!(
        en["summary"],
        "Create mailbox maria@exemplo.com.br (1,024 MB)."
    );

    // A staff member's and a session's messages.
    let taken = [("username", "boss"), ("support", "true")];
    let (status, pt) = call_in(&app, &boss, "/api/staff/create", &taken, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{pt}");
    assert!(
        pt.contains("O nome de usuário boss já está em uso."),
        "{pt}"
    );
    let (_, en) = call_in(&app, &boss, "/api/staff/create", &taken, Some("en")).await;
    assert!(en.contains("The username boss is already taken."), "{en}");

    let differ = [
        ("current", crate::helpers::PASSWORD),
        ("new", "a brand new password"),
        ("confirm", "another new password"),
    ];
    let path = "/api/session/change_password";
    let (_, pt) = call_in(&app, &ana, path, &differ, None).await;
    assert!(pt.contains("As duas novas senhas são diferentes."), "{pt}");
    let (_, en) = call_in(&app, &ana, path, &differ, Some("en")).await;
    assert!(en.contains("The two new passwords differ."), "{en}");
}

/// A REST API call in `lang`.
async fn rest_in(
    app: &TestApp,
    token: &str,
    kind: &str,
    body: Value,
    lang: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Client::new()
        .post(app.url(&format!("/api/v1/requests/{kind}")))
        .bearer_auth(token)
        .json(&body);
    if let Some(lang) = lang {
        req = req.header("Accept-Language", lang);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn the_rest_api_answers_in_the_callers_language() {
    let (app, boss, _) = app().await;
    let token = support_token(&app, &boss).await;

    let bad = json!({ "address": "ana silva@exemplo.com.br" });
    let (status, pt) = rest_in(&app, &token, "mailbox_create", bad.clone(), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{pt}");
    let message = pt["fields"][0]["message"].as_str().unwrap();
    assert!(message.contains("não é permitido antes do @"), "{pt}");
    let (_, en) = rest_in(&app, &token, "mailbox_create", bad, Some("en")).await;
    let message = en["fields"][0]["message"].as_str().unwrap();
    assert!(message.contains("is not allowed before the @"), "{en}");

    let (_, pt) = rest_in(
        &app,
        &token,
        "alias_create",
        json!({ "address": "vendas@exemplo.com.br", "targets": "a@fora.org" }),
        None,
    )
    .await;
    assert_eq!(
        pt["summary"],
        "Criar o alias vendas@exemplo.com.br → a@fora.org."
    );
    let (_, en) = rest_in(
        &app,
        &token,
        "alias_create",
        json!({ "address": "compras@exemplo.com.br", "targets": "b@fora.org" }),
        Some("en"),
    )
    .await;
    assert_eq!(
        en["summary"],
        "Create alias compras@exemplo.com.br → b@fora.org."
    );

    // The fixed errors (here: not found) are translated too.
    let missing = |lang: Option<&'static str>| {
        let mut req = Client::new()
            .get(app.url("/api/v1/mailboxes/ninguem@exemplo.com.br"))
            .bearer_auth(&token);
        if let Some(lang) = lang {
            req = req.header("Accept-Language", lang);
        }
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND);
            res.json::<Value>().await.unwrap()["error"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert_eq!(
        missing(None).await,
        "A caixa postal ninguem@exemplo.com.br não existe."
    );
    assert_eq!(
        missing(Some("en")).await,
        "The mailbox ninguem@exemplo.com.br was not found."
    );
}

#[tokio::test]
async fn a_background_import_keeps_the_language_of_whoever_started_it() {
    let (app, boss, ana) = app().await;
    let token = support_token(&app, &boss).await;
    let taken = [("address", "ana@exemplo.com.br")];
    let (status, _) = provision_in(&app, &ana, "mailbox_create", &taken, None).await;
    assert_eq!(status, StatusCode::OK);
    let csv = "kind,address\nmailbox,ana@exemplo.com.br\nmailbox,novo@exemplo.com.br\n";

    let import = |lang: Option<&'static str>| {
        let mut req = Client::new()
            .post(app.url("/api/v1/import?dry_run=true&wait=30"))
            .bearer_auth(&token)
            .body(csv);
        if let Some(lang) = lang {
            req = req.header("Accept-Language", lang);
        }
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let outcome: app::provision::ImportOutcome = res.json().await.unwrap();
            (
                outcome.rows[0].error.clone().unwrap(),
                outcome.rows[1].summary.clone().unwrap(),
            )
        }
    };
    let (error, summary) = import(Some("en")).await;
    assert!(error.contains("already exists as a mailbox"), "{error}");
    assert!(summary.starts_with("Create mailbox novo@"), "{summary}");
    let (error, summary) = import(None).await;
    assert!(error.contains("já existe como caixa postal"), "{error}");
    assert!(
        summary.starts_with("Criar a caixa postal novo@"),
        "{summary}"
    );
}
