//! Input that is well formed but hostile or misleading: taken-over password
//! hashes whose cost would stall Dovecot at every sign-in (refused with a
//! per-field message in the form, the REST API and the CSV import), and
//! domain names that mix scripts (allowed, with a warning).

use crate::import_jobs::support_token;
use crate::provision::{accepted, app, field_error, import_outcome, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SALT_AND_HASH: &str = "$c2FsdHNhbHQ$Y2FuYWRhY2FuYWRhY2FuYWRhY2FuYWRhY2FuYWRh";

fn argon(params: &str) -> String {
    format!("{{ARGON2ID}}$argon2id$v=19${params}{SALT_AND_HASH}")
}

fn bcrypt(cost: &str) -> String {
    format!("{{BLF-CRYPT}}$2y${cost}$abcdefghijklmnopqrstuuZr8Aq8F6Nd8bQm5L7jRrEoY0h3cm5mS")
}

#[tokio::test]
async fn hashes_of_unbounded_cost_are_refused_in_the_form_the_api_and_the_csv() {
    let (app, boss, ana) = app().await;
    let costly = [
        argon("m=4194304,t=1000000,p=255"),
        argon("m=19456,t=11,p=1"),
        bcrypt("31"),
        bcrypt("99"),
    ];

    // The form (server function).
    for hash in &costly {
        let err = send(
            &app,
            &ana,
            "mailbox_create",
            &[("address", "caro@exemplo.com.br"), ("password", hash)],
        )
        .await
        .expect_err(hash);
        let message = field_error(&err, "password");
        assert!(
            message.contains("custa caro demais") || message.contains("custos de 4 a 14"),
            "{hash}: {message}"
        );
    }

    // The REST API.
    let token = support_token(&app, &boss).await;
    let http = reqwest::Client::new();
    for hash in &costly {
        let res = http
            .post(app.url("/api/v1/requests/mailbox_create"))
            .bearer_auth(&token)
            .json(&json!({ "address": "caro@exemplo.com.br", "password": hash }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{hash}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["fields"][0]["field"], "password", "{body}");
    }

    // The CSV import: one row error each.
    let mut csv = String::from("kind,address,password\n");
    for (i, hash) in costly.iter().enumerate() {
        csv.push_str(&format!("mailbox,caro{i}@exemplo.com.br,\"{hash}\"\n"));
    }
    let outcome = import_outcome(&app, &ana, &[("csv", csv.as_str()), ("dry_run", "true")]).await;
    assert_eq!(outcome.errors(), costly.len(), "{outcome:?}");

    // Bounded costs are still taken over.
    for (i, hash) in [argon("m=65536,t=3,p=4"), bcrypt("12")].iter().enumerate() {
        accepted(
            &app,
            &ana,
            "mailbox_create",
            &[
                ("address", &format!("barato{i}@exemplo.com.br")),
                ("password", hash),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn a_domain_name_mixing_scripts_is_created_with_a_warning() {
    let (app, boss, _) = app().await;
    // Cyrillic "с" (U+0441) followed by Latin "liente".
    let lookalike = "\u{0441}liente.com.br";

    let done = accepted(
        &app,
        &boss,
        "domain_create",
        &[("name", lookalike), ("default_quota_mb", "1024")],
    )
    .await;

    assert_eq!(done.warnings.len(), 1, "{done:?}");
    assert!(
        done.warnings[0].contains("cirílicas"),
        "{:?}",
        done.warnings
    );
    let plain = accepted(
        &app,
        &boss,
        "domain_create",
        &[("name", "cliente.com.br"), ("default_quota_mb", "1024")],
    )
    .await;
    assert!(plain.warnings.is_empty(), "{plain:?}");
    // The domain list (page and API) carries it too.
    let domains: Vec<Value> = app
        .call(&boss, "/api/provision/domains", &[])
        .await
        .json()
        .await
        .unwrap();
    let warned: Vec<&str> = domains
        .iter()
        .filter(|d| d["warning"].is_string())
        .map(|d| d["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(warned, [lookalike]);
}
