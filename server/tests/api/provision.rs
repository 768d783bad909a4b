//! Configurador through the portal's server functions and the REST API:
//! validation that writes nothing, limits, alias loops, the mailbox
//! lifecycle with its audit trail, bulk CSV import, API tokens and search.

use crate::helpers::{TestApp, error_kind, spawn_app};
use crate::support::{get_with_token, issue_token};
use app::provision::{ImportJob, ImportOutcome, MailboxPage, RequestDone};
use app::server::entities::{audit_log, mail_alias, mailbox};
use reqwest::{Client, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

/// `boss` (admin) with the domain exemplo.com.br (at most 3 mailboxes of
/// at most 2048 MB, 1024 by default), and `ana` (support).
pub async fn app() -> (TestApp, Client, Client) {
    let app = spawn_app().await;
    let (boss, ana, _) = app.boss_and_ana().await;
    let done = accepted(
        &app,
        &boss,
        "domain_create",
        &[
            ("name", "Exemplo.com.br"),
            ("max_mailboxes", "3"),
            ("max_quota_mb", "2048"),
            ("default_quota_mb", "1024"),
        ],
    )
    .await;
    assert_eq!(done.target, "exemplo.com.br");
    (app, boss, ana)
}

/// Sends the request `kind` as its form would.
pub async fn send(
    app: &TestApp,
    client: &Client,
    kind: &str,
    fields: &[(&str, &str)],
) -> Result<RequestDone, (StatusCode, Value)> {
    let form: Vec<(String, &str)> = fields
        .iter()
        .map(|(k, v)| (format!("request[{k}]"), *v))
        .collect();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let res = app
        .call(client, &format!("/api/provision/{kind}"), &form)
        .await;
    let status = res.status();
    if status.is_success() {
        Ok(res.json().await.unwrap())
    } else {
        Err((status, res.json().await.unwrap()))
    }
}

/// Sends the request `kind`, which must be done: its summary.
pub async fn accepted(
    app: &TestApp,
    client: &Client,
    kind: &str,
    fields: &[(&str, &str)],
) -> RequestDone {
    send(app, client, kind, fields)
        .await
        .unwrap_or_else(|e| panic!("{kind} refused: {e:?}"))
}

/// Sends the request `kind`, which must be refused: the status and error.
pub async fn refused(
    app: &TestApp,
    client: &Client,
    kind: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, Value) {
    match send(app, client, kind, fields).await {
        Ok(done) => panic!("{kind} was done: {done:?}"),
        Err(e) => e,
    }
}

/// The message a failed request gave for `field`.
pub fn field_error(err: &(StatusCode, Value), field: &str) -> String {
    assert_eq!(err.0, StatusCode::UNPROCESSABLE_ENTITY, "{err:?}");
    err.1["Fields"]
        .as_array()
        .and_then(|l| l.iter().find(|f| f["field"] == field))
        .and_then(|f| f["message"].as_str())
        .unwrap_or_else(|| panic!("no message for {field}: {err:?}"))
        .to_string()
}

pub async fn mailbox_count(app: &TestApp) -> u64 {
    mailbox::Entity::find().count(&app.state.db).await.unwrap()
}

#[tokio::test]
async fn a_mailbox_is_created_with_a_dovecot_hash_and_a_password_shown_once() {
    let (app, _, ana) = app().await;
    let done = accepted(
        &app,
        &ana,
        "mailbox_create",
        &[
            ("address", "Maria.Silva@EXEMPLO.com.br"),
            ("name", "Maria Silva"),
        ],
    )
    .await;
    assert_eq!(done.target, "maria.silva@exemplo.com.br");
    let secret = done.secret.expect("a generated password");
    assert!(secret.len() >= 16);
    let row = mailbox::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.password.starts_with("{ARGON2ID}$argon2id$"),
        "{}",
        row.password
    );
    assert!(!row.password.contains(&secret));
    assert_eq!(
        (row.quota_mb, row.status.as_str(), row.name_key.as_str()),
        (1024, "active", "maria silva")
    );

    // The audit entry has the after state, and never the password.
    let entry = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("provision.mailbox_create"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.actor, "ana");
    let after = entry.after.unwrap();
    assert!(
        after.contains("\"quota_mb\":1024")
            && !after.contains("ARGON2ID")
            && !after.contains(&secret)
    );
}

#[tokio::test]
async fn bad_input_gets_a_message_per_field_and_writes_nothing() {
    let (app, _, ana) = app().await;
    accepted(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "ana@exemplo.com.br")],
    )
    .await;
    let before = mailbox_count(&app).await;
    let audit_before = audit_log::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();

    let err = refused(
        &app,
        &ana,
        "mailbox_create",
        &[
            ("address", "ana silva@exemplo"),
            ("password", "short"),
            ("quota_mb", "lots"),
        ],
    )
    .await;
    assert!(field_error(&err, "address").contains("não é permitido antes do @"));
    assert!(field_error(&err, "password").contains("pelo menos 10"));
    assert!(field_error(&err, "quota_mb").contains("não é um número inteiro de megabytes"));

    let err = refused(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "ANA@exemplo.com.br")],
    )
    .await;
    assert!(field_error(&err, "address").contains("já existe como caixa postal"));
    let err = refused(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "big@exemplo.com.br"), ("quota_mb", "4096")],
    )
    .await;
    assert!(field_error(&err, "quota_mb").contains("permite no máximo 2.048 MB por caixa postal"));
    let err = refused(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "x@elsewhere.org")],
    )
    .await;
    assert!(field_error(&err, "address").contains("não é um dos nossos domínios"));

    assert_eq!(mailbox_count(&app).await, before);
    assert_eq!(
        audit_log::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        audit_before
    );

    // The domain's limit of 3 mailboxes.
    for a in ["b@exemplo.com.br", "c@exemplo.com.br"] {
        accepted(&app, &ana, "mailbox_create", &[("address", a)]).await;
    }
    let err = refused(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "d@exemplo.com.br")],
    )
    .await;
    assert!(field_error(&err, "address").contains("limite de 3 caixas postais"));
}

#[tokio::test]
async fn domains_are_for_admins_and_idn_names_become_punycode() {
    let (app, boss, ana) = app().await;
    let err = refused(
        &app,
        &ana,
        "domain_create",
        &[("name", "other.com"), ("default_quota_mb", "10")],
    )
    .await;
    assert_eq!(err.0, StatusCode::FORBIDDEN);
    let done = accepted(
        &app,
        &boss,
        "domain_create",
        &[("name", "Açaí.com.br"), ("default_quota_mb", "512")],
    )
    .await;
    assert_eq!(done.target, "xn--aa-4iaz.com.br");
    let done = accepted(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "loja@açaí.com.br")],
    )
    .await;
    assert_eq!(done.target, "loja@xn--aa-4iaz.com.br");
    let err = refused(
        &app,
        &boss,
        "domain_create",
        &[("name", "xn--aa-4iaz.com.br"), ("default_quota_mb", "1")],
    )
    .await;
    assert!(field_error(&err, "name").contains("já existe"));
    // A domain with mailboxes cannot be deleted; an alias domain can.
    let err = refused(&app, &boss, "domain_delete", &[("name", "açaí.com.br")]).await;
    assert_eq!(err.0, StatusCode::CONFLICT);
    accepted(
        &app,
        &boss,
        "domain_alias_create",
        &[("name", "exemplo.net"), ("target", "exemplo.com.br")],
    )
    .await;
    let err = refused(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "x@exemplo.net")],
    )
    .await;
    assert!(field_error(&err, "address").contains("domínio alias"));
    accepted(&app, &boss, "domain_delete", &[("name", "exemplo.net")]).await;
}

#[tokio::test]
async fn aliases_refuse_loops_and_unknown_local_targets() {
    let (app, _, ana) = app().await;
    accepted(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "ana@exemplo.com.br")],
    )
    .await;
    accepted(
        &app,
        &ana,
        "alias_create",
        &[
            ("address", "vendas@exemplo.com.br"),
            ("targets", "ana@exemplo.com.br, Boss@Gmail.com"),
        ],
    )
    .await;
    accepted(
        &app,
        &ana,
        "alias_create",
        &[
            ("address", "contato@exemplo.com.br"),
            ("targets", "vendas@exemplo.com.br"),
        ],
    )
    .await;
    let stored = mail_alias::Entity::find()
        .filter(mail_alias::Column::Address.eq("vendas@exemplo.com.br"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.targets, "ana@exemplo.com.br,boss@gmail.com");

    // vendas → contato → vendas.
    let err = refused(
        &app,
        &ana,
        "alias_update",
        &[
            ("address", "vendas@exemplo.com.br"),
            ("targets", "contato@exemplo.com.br"),
            ("active", "true"),
        ],
    )
    .await;
    let message = field_error(&err, "targets");
    assert!(
        message.contains("Isso criaria um laço")
            && message
                .contains("vendas@exemplo.com.br → contato@exemplo.com.br → vendas@exemplo.com.br"),
        "{message}"
    );
    // A forward closing the circle is a loop too: ana → contato → vendas → ana.
    let err = refused(
        &app,
        &ana,
        "mailbox_forward",
        &[
            ("address", "ana@exemplo.com.br"),
            ("forward_to", "contato@exemplo.com.br"),
        ],
    )
    .await;
    assert!(field_error(&err, "forward_to").contains("laço"));
    let err = refused(
        &app,
        &ana,
        "alias_create",
        &[
            ("address", "x@exemplo.com.br"),
            ("targets", "nobody@exemplo.com.br"),
        ],
    )
    .await;
    assert!(field_error(&err, "targets").contains("não é caixa postal nem alias"));
    let err = refused(
        &app,
        &ana,
        "alias_create",
        &[("address", "ana@exemplo.com.br"), ("targets", "x@y.com")],
    )
    .await;
    assert!(field_error(&err, "address").contains("já existe como caixa postal"));
    // In use by another alias: not deleted.
    let err = refused(
        &app,
        &ana,
        "alias_delete",
        &[("address", "vendas@exemplo.com.br")],
    )
    .await;
    assert_eq!(err.0, StatusCode::CONFLICT);
    accepted(
        &app,
        &ana,
        "alias_delete",
        &[("address", "contato@exemplo.com.br")],
    )
    .await;
    accepted(
        &app,
        &ana,
        "alias_delete",
        &[("address", "vendas@exemplo.com.br")],
    )
    .await;
}

#[tokio::test]
async fn the_mailbox_lifecycle_is_audited_before_and_after() {
    let (app, _, ana) = app().await;
    let a = "ana@exemplo.com.br";
    accepted(
        &app,
        &ana,
        "mailbox_create",
        &[("address", a), ("password", "a good long password")],
    )
    .await;
    let err = refused(
        &app,
        &ana,
        "mailbox_suspend",
        &[("address", a), ("reason", "")],
    )
    .await;
    assert!(field_error(&err, "reason").contains("Diga por que"));
    accepted(
        &app,
        &ana,
        "mailbox_suspend",
        &[("address", a), ("reason", "unpaid invoice")],
    )
    .await;
    let err = refused(
        &app,
        &ana,
        "mailbox_suspend",
        &[("address", a), ("reason", "again")],
    )
    .await;
    assert_eq!(err.0, StatusCode::CONFLICT);
    accepted(&app, &ana, "mailbox_reactivate", &[("address", a)]).await;
    let old = mailbox::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .password;
    let reset = accepted(&app, &ana, "mailbox_reset_password", &[("address", a)]).await;
    assert!(reset.secret.is_some());
    let new = mailbox::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .password;
    assert_ne!(old, new);
    accepted(
        &app,
        &ana,
        "mailbox_update",
        &[
            ("address", a),
            ("name", "Ana S."),
            ("quota_mb", "2048"),
            ("receive_only", "true"),
        ],
    )
    .await;
    accepted(&app, &ana, "mailbox_delete", &[("address", a)]).await;
    let row = mailbox::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status.as_str(), "deleted");
    let days = (row.purge_after.unwrap() - row.deleted_at.unwrap()).num_days();
    assert_eq!(days, 30);
    let err = refused(&app, &ana, "mailbox_create", &[("address", a)]).await;
    assert!(field_error(&err, "address").contains("caixa postal excluída, guardada até"));
    accepted(&app, &ana, "mailbox_restore", &[("address", a)]).await;

    let entries = audit_log::Entity::find()
        .filter(audit_log::Column::Target.eq(a))
        .order_by_asc(audit_log::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "provision.mailbox_create",
            "provision.mailbox_suspend",
            "provision.mailbox_reactivate",
            "provision.mailbox_reset_password",
            "provision.mailbox_update",
            "provision.mailbox_delete",
            "provision.mailbox_restore",
        ]
    );
    let suspend = &entries[1];
    assert!(
        suspend
            .before
            .as_deref()
            .unwrap()
            .contains("\"status\":\"active\"")
    );
    assert!(
        suspend
            .after
            .as_deref()
            .unwrap()
            .contains("\"status_reason\":\"unpaid invoice\"")
    );
    assert!(
        entries
            .iter()
            .all(|e| !format!("{:?}{:?}", e.before, e.after).contains("argon2"))
    );

    // The mailbox page shows the same history to support.
    let res = app
        .call(&ana, "/api/provision/mailbox", &[("address", a)])
        .await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["mailbox"]["status"], "suspended");
    assert_eq!(page["history"].as_array().unwrap().len(), 7);

    // Purge: nothing is due yet; with the retention over it is removed.
    accepted(&app, &ana, "mailbox_delete", &[("address", a)]).await;
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    assert_eq!(
        app::server::provision::purge::purge_due(&app.state.db, chrono::Utc::now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app::server::provision::purge::purge_due(&app.state.db, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(mailbox_count(&app).await, 0);
}

/// Imports `form` through the page's server function and waits for the
/// job (polling its status) to end: its outcome.
pub async fn import_outcome(
    app: &TestApp,
    client: &Client,
    form: &[(&str, &str)],
) -> ImportOutcome {
    let res = app.call(client, "/api/provision/import", form).await;
    assert!(res.status().is_success(), "{}", res.status());
    let mut job: ImportJob = res.json().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while job.running() {
        assert!(
            std::time::Instant::now() < deadline,
            "import still running: {job:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let id = job.id.to_string();
        let res = app
            .call(
                client,
                "/api/provision/import_status",
                &[("id", id.as_str())],
            )
            .await;
        assert!(res.status().is_success(), "{}", res.status());
        job = res.json().await.unwrap();
    }
    match job.outcome {
        Some(outcome) => outcome,
        None => panic!("no outcome: {:?}", job.message),
    }
}

#[tokio::test]
async fn csv_import_previews_per_row_and_applies_the_rows_without_errors() {
    let (app, _, ana) = app().await;
    let good = "kind,address,name,password,quota_mb,targets\n\
                mailbox,joao@exemplo.com.br,João,,512,\n\
                mailbox,rita@exemplo.com.br,Rita,a long password!,,\n\
                alias,equipe@exemplo.com.br,,,,joao@exemplo.com.br rita@exemplo.com.br\n";
    let bad = format!(
        "{good}mailbox,joao@exemplo.com.br,Again,,,\nalias,x@exemplo.com.br,,,,nobody@exemplo.com.br\nmailbox,big@exemplo.com.br,,,9999,\n"
    );
    let import = |csv: String, dry: bool| {
        let app = &app;
        let ana = ana.clone();
        async move {
            let dry = dry.to_string();
            import_outcome(
                app,
                &ana,
                &[("csv", csv.as_str()), ("dry_run", dry.as_str())],
            )
            .await
        }
    };

    let preview = import(bad.clone(), true).await;
    assert!(!preview.applied);
    assert_eq!(preview.written, 0);
    let errors: Vec<(usize, &str)> = preview
        .rows
        .iter()
        .filter_map(|r| r.error.as_deref().map(|e| (r.line, e)))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert_eq!(errors[0].0, 5);
    assert!(errors[0].1.contains("já existe"));
    assert!(errors[1].1.contains("não é caixa postal nem alias"));
    assert!(errors[2].1.contains("no máximo 2.048 MB") || errors[2].1.contains("limite de 3"));
    assert!(
        preview.rows[2]
            .summary
            .as_deref()
            .unwrap()
            .contains("equipe@exemplo.com.br")
    );
    assert_eq!(mailbox_count(&app).await, 0, "a dry run writes nothing");

    // Each row is applied completely or not at all: the three good rows
    // are written, the three bad ones reported and skipped.
    let applied = import(bad, false).await;
    assert!(!applied.applied, "not every row was written");
    assert_eq!((applied.written, applied.errors()), (3, 3), "{applied:?}");
    assert_eq!(mailbox_count(&app).await, 2);
    assert_eq!(
        mail_alias::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );
    assert!(
        applied.rows[0].secret.is_some(),
        "joao's generated password is shown"
    );
    assert!(applied.rows[1].secret.is_none());
    assert!(
        applied.rows[3..]
            .iter()
            .all(|r| r.error.is_some() && r.secret.is_none())
    );
    let joao = mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq("joao@exemplo.com.br"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((joao.name.as_str(), joao.quota_mb), ("João", 512));

    let res = app
        .call(
            &ana,
            "/api/provision/import",
            &[("csv", "kind,address,colour\n")],
        )
        .await;
    assert_eq!(error_kind(res).await, "Fields");
}

#[tokio::test]
async fn search_pages_by_address_prefix_name_and_domain() {
    let (app, boss, ana) = app().await;
    accepted(
        &app,
        &boss,
        "domain_update",
        &[
            ("name", "exemplo.com.br"),
            ("default_quota_mb", "1024"),
            ("max_quota_mb", "2048"),
            ("active", "true"),
        ],
    )
    .await;
    let mut csv = String::from("kind,address,name,password\n");
    for i in 0..120 {
        // A taken-over hash: its commas need CSV quotes.
        csv.push_str(&format!("mailbox,user{i:03}@exemplo.com.br,Cliente {i:03},\"{}\"\n", "{ARGON2ID}$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$Y2FuYWRhY2FuYWRhY2FuYWRhY2FuYWRhY2FuYWRh"));
    }
    let outcome = import_outcome(&app, &ana, &[("csv", csv.as_str())]).await;
    assert!(
        outcome.applied,
        "{:?}",
        outcome.rows.iter().find(|r| r.error.is_some())
    );

    let search = |form: Vec<(&'static str, String)>| {
        let app = &app;
        let ana = ana.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(&ana, "/api/provision/mailboxes", &form)
                .await
                .json::<MailboxPage>()
                .await
                .unwrap()
        }
    };
    let mut seen = Vec::new();
    let mut after = None::<String>;
    loop {
        let mut form = vec![("q", "user".to_string())];
        if let Some(a) = &after {
            form.push(("after", a.clone()));
        }
        let page = search(form).await;
        seen.extend(page.rows.iter().map(|r| r.address.clone()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");

    let page = search(vec![("q", "user10".into())]).await;
    assert_eq!(page.rows.len(), 10);
    let page = search(vec![("q", "cliente 11".into()), ("by_name", "true".into())]).await;
    assert_eq!(
        page.rows
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        [
            "Cliente 110",
            "Cliente 111",
            "Cliente 112",
            "Cliente 113",
            "Cliente 114",
            "Cliente 115",
            "Cliente 116",
            "Cliente 117",
            "Cliente 118",
            "Cliente 119"
        ]
    );
    let page = search(vec![
        ("q", "user11".into()),
        ("domain", "EXEMPLO.com.br".into()),
    ])
    .await;
    assert_eq!(page.rows.len(), 10);
    let page = search(vec![("q", "user11".into()), ("domain", "other.org".into())]).await;
    assert!(page.rows.is_empty());

    // Names are found without case or accents: "João" is typed "joao".
    accepted(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "jp@exemplo.com.br"), ("name", "João  Pereira")],
    )
    .await;
    let page = search(vec![("q", "JOAO pe".into()), ("by_name", "true".into())]).await;
    let names: Vec<&str> = page.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["João  Pereira"]);
}

#[tokio::test]
async fn the_rest_api_takes_admin_issued_tokens_with_roles() {
    let (app, boss, ana) = app().await;
    // Only admins issue tokens; the token is in the answer only.
    let res = app
        .call(
            &ana,
            "/api/provision/token_issue",
            &[("name", "crm"), ("role", "support")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let issue = |role: &'static str| {
        let app = &app;
        let boss = boss.clone();
        async move {
            let fields = [("name", "crm"), ("role", role), ("days", "30")];
            issue_token(app, &boss, &fields).await
        }
    };
    let support = issue("support").await;
    let manager = issue("manager").await;
    let http = reqwest::Client::new();
    let post = |token: Option<String>, kind: &str, body: Value| {
        let req = http
            .post(app.url(&format!("/api/v1/requests/{kind}")))
            .json(&body);
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        async move { req.send().await.unwrap() }
    };

    let res = post(
        Some(support.clone()),
        "mailbox_create",
        json!({"address": "api@exemplo.com.br", "name": "Via API"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: RequestDone = res.json().await.unwrap();
    assert!(done.secret.is_some());
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Target.eq("api@exemplo.com.br"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.actor, "api:crm");

    let res = post(
        Some(support.clone()),
        "mailbox_create",
        json!({"address": "api@exemplo.com.br"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["fields"][0]["field"], "address");
    assert_eq!(
        post(
            Some(support.clone()),
            "domain_create",
            json!({"name": "x.org", "default_quota_mb": "1"})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            Some(manager),
            "mailbox_suspend",
            json!({"address": "api@exemplo.com.br", "reason": "x"})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(None, "mailbox_suspend", json!({})).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(Some("ct_forged".into()), "mailbox_suspend", json!({}))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(Some(support.clone()), "mailbox_teleport", json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let res = get_with_token(&http, &app, &support, "/api/v1/mailboxes?q=api").await;
    let page: MailboxPage = res.json().await.unwrap();
    assert_eq!(page.rows[0].name, "Via API");

    // A CSV file past axum's default 2 MB body limit reaches the importer
    // (which reports its bad header) instead of a 413.
    let big = format!(
        "kind,address,colour\n{}",
        "mailbox,x@exemplo.com.br,blue\n".repeat(100_000)
    );
    assert!(big.len() > 3_000_000);
    let res = http
        .post(app.url("/api/v1/import?dry_run=true"))
        .bearer_auth(&support)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("coluna desconhecida \"colour\""),
        "{body}"
    );

    // Revoked: refused from then on.
    let tokens: Vec<Value> = app
        .call(&boss, "/api/provision/tokens", &[])
        .await
        .json()
        .await
        .unwrap();
    let id = tokens.iter().find(|t| t["role"] == "support").unwrap()["id"].to_string();
    assert!(
        app.call(&boss, "/api/provision/token_revoke", &[("id", id.as_str())])
            .await
            .status()
            .is_success()
    );
    assert_eq!(
        get_with_token(&http, &app, &support, "/api/v1/domains")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_request_kind() {
    let app = spawn_app().await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut generator = schemars::SchemaGenerator::default();
    for kind in app::server::provision::kinds(&mut generator) {
        let path = &doc["paths"][format!("/api/v1/requests/{}", kind.kind)]["post"];
        assert!(
            path["requestBody"]["content"]["application/json"]["schema"].is_object(),
            "{}",
            kind.kind
        );
        assert_eq!(path["operationId"], kind.kind);
    }
    let create = &doc["components"]["schemas"]["MailboxCreate"];
    assert!(create["properties"]["address"].is_object(), "{create}");
}

#[tokio::test]
async fn a_write_losing_a_race_for_the_same_key_is_a_conflict_not_a_crash() {
    // Validation checks first, so a unique key is only hit when another
    // request wrote it in between; the same key written twice stands in.
    use sea_orm::{ActiveModelTrait, Set};
    let (app, _, _) = app().await;
    let now = chrono::Utc::now();
    let again = app::server::entities::mail_domain::ActiveModel {
        name: Set("exemplo.com.br".into()),
        description: Set(String::new()),
        alias_of: Set(None),
        max_mailboxes: Set(0),
        max_aliases: Set(0),
        max_quota_mb: Set(0),
        default_quota_mb: Set(1),
        catch_all: Set(None),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let err = again.insert(&app.state.db).await.unwrap_err();
    assert!(matches!(
        app::errors::AppError::from(err),
        app::errors::AppError::Conflict(_)
    ));
}
