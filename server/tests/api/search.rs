//! Issue 18, support's search and mailbox page: one search box that reads
//! a query as an address, a domain or words of a name (any word, accents
//! ignored, kept up to date on create, rename and purge, filled for old
//! rows by the migration), alias-domain addresses, hostile queries; the
//! mailbox page's aliases, forwards and blocks, and its 404.

use crate::helpers::{TestApp, spawn_app};
use crate::provision::accepted;
use app::provision::{MailboxPage, SearchedAs};
use app::server::entities::{defence_block, mailbox, mailbox_word};
use reqwest::{Client, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::Value;

/// A well-formed Dovecot `{ARGON2ID}` hash, taken over as it is: creating
/// many mailboxes then hashes nothing.
const HASH: &str = "{ARGON2ID}$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$YmVuY2hiZW5jaGJlbmNoYmVuY2hiZW5jaGJlbmNoYmU";

/// `boss` (admin) with cliente.com.br (no limits) and its alias domain
/// cliente.net.br, and `ana` (support).
async fn app() -> (TestApp, Client, Client) {
    let app = spawn_app().await;
    let (boss, ana, _) = app.boss_and_ana().await;
    accepted(
        &app,
        &boss,
        "domain_create",
        &[("name", "cliente.com.br"), ("default_quota_mb", "1024")],
    )
    .await;
    accepted(
        &app,
        &boss,
        "domain_alias_create",
        &[("name", "cliente.net.br"), ("target", "cliente.com.br")],
    )
    .await;
    (app, boss, ana)
}

async fn create(app: &TestApp, ana: &Client, address: &str, name: &str) {
    accepted(
        app,
        ana,
        "mailbox_create",
        &[("address", address), ("name", name), ("password", HASH)],
    )
    .await;
}

async fn search(app: &TestApp, ana: &Client, form: &[(&str, &str)]) -> MailboxPage {
    let res = app.call(ana, "/api/provision/mailboxes", form).await;
    assert_eq!(res.status(), StatusCode::OK, "{form:?}");
    res.json().await.unwrap()
}

/// The addresses a query finds (first page), and how it was read.
async fn found(app: &TestApp, ana: &Client, q: &str) -> (Vec<String>, SearchedAs) {
    let page = search(app, ana, &[("q", q)]).await;
    let mut rows: Vec<String> = page.rows.into_iter().map(|m| m.address).collect();
    rows.sort();
    (rows, page.searched_as)
}

#[tokio::test]
async fn any_word_of_the_name_finds_the_mailbox_accents_and_case_ignored() {
    let (app, _boss, ana) = app().await;
    create(&app, &ana, "joao5@cliente.com.br", "João Pereira").await;
    create(
        &app,
        &ana,
        "mj@cliente.com.br",
        "Maria José Pereira da Silva",
    )
    .await;
    create(&app, &ana, "pp@cliente.com.br", "Pereira Peres").await;
    create(&app, &ana, "ap@cliente.com.br", "Ana-Paula Souza").await;
    create(&app, &ana, "pedro@cliente.com.br", "Pedro Álvares Cabral").await;

    // A surname alone: today's name prefix would find only "Pereira Peres".
    let name = SearchedAs::Name;
    let pereira = vec![
        "joao5@cliente.com.br".to_string(),
        "mj@cliente.com.br".into(),
        "pp@cliente.com.br".into(),
    ];
    assert_eq!(found(&app, &ana, "pereira").await, (pereira.clone(), name));
    assert_eq!(found(&app, &ana, "PEREIRA").await, (pereira, name));
    // Prefixes of words; a name with two matching words is listed once.
    let (rows, _) = found(&app, &ana, "pe").await;
    assert_eq!(
        rows,
        [
            "joao5@cliente.com.br",
            "mj@cliente.com.br",
            "pedro@cliente.com.br",
            "pp@cliente.com.br"
        ]
    );
    // Accents either way.
    assert_eq!(found(&app, &ana, "joao").await.0, ["joao5@cliente.com.br"]);
    assert_eq!(found(&app, &ana, "João").await.0, ["joao5@cliente.com.br"]);
    assert_eq!(
        found(&app, &ana, "alvares").await.0,
        ["pedro@cliente.com.br"]
    );
    // Every word must start a word of the name, in any order.
    assert_eq!(
        found(&app, &ana, "silva maria").await.0,
        ["mj@cliente.com.br"]
    );
    assert_eq!(
        found(&app, &ana, "jo pe").await.0,
        ["joao5@cliente.com.br", "mj@cliente.com.br"]
    );
    assert!(found(&app, &ana, "silva joao").await.0.is_empty());
    // A hyphenated name is two words.
    assert_eq!(found(&app, &ana, "paula").await.0, ["ap@cliente.com.br"]);
    // With a domain and a status.
    let page = search(
        &app,
        &ana,
        &[
            ("q", "pereira"),
            ("domain", "cliente.com.br"),
            ("status", "suspended"),
        ],
    )
    .await;
    assert!(page.rows.is_empty());

    // A rename moves the mailbox to its new words.
    accepted(
        &app,
        &ana,
        "mailbox_update",
        &[
            ("address", "joao5@cliente.com.br"),
            ("name", "João Santos"),
            ("quota_mb", "1024"),
        ],
    )
    .await;
    assert_eq!(
        found(&app, &ana, "pereira").await.0,
        ["mj@cliente.com.br", "pp@cliente.com.br"]
    );
    assert_eq!(
        found(&app, &ana, "santos").await.0,
        ["joao5@cliente.com.br"]
    );

    // Deleted mailboxes only when asked for; a purge forgets the words.
    accepted(
        &app,
        &ana,
        "mailbox_delete",
        &[("address", "pp@cliente.com.br")],
    )
    .await;
    assert_eq!(found(&app, &ana, "peres").await.0, Vec::<String>::new());
    let page = search(&app, &ana, &[("q", "peres"), ("status", "deleted")]).await;
    assert_eq!(page.rows.len(), 1);
    let pp = mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq("pp@cliente.com.br"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let words = || {
        mailbox_word::Entity::find()
            .filter(mailbox_word::Column::MailboxId.eq(pp.id))
            .count(&app.state.db)
    };
    assert_eq!(words().await.unwrap(), 2);
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    app::server::provision::purge::purge_due(&app.state.db, later)
        .await
        .unwrap();
    assert_eq!(words().await.unwrap(), 0);
}

#[tokio::test]
async fn a_name_search_pages_through_every_match_once() {
    let (app, _boss, ana) = app().await;
    for i in 0..60 {
        // Two words match "te": each mailbox must still come once.
        create(
            &app,
            &ana,
            &format!("c{i}@cliente.com.br"),
            &format!("Teste Tereza {i}"),
        )
        .await;
    }
    create(&app, &ana, "outro@cliente.com.br", "Outro Nome").await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..5 {
        let mut form = vec![("q", "te".to_string())];
        if let Some(a) = &after {
            form.push(("after", a.clone()));
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = search(&app, &ana, &form).await;
        assert!(page.rows.len() <= 50);
        seen.extend(page.rows.into_iter().map(|m| m.address));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((n, seen.len()), (60, 60), "every match once, across pages");
    assert!(!seen.contains(&"outro@cliente.com.br".to_string()));
}

#[tokio::test]
async fn one_search_box_reads_an_address_a_domain_or_a_name() {
    let (app, boss, ana) = app().await;
    accepted(
        &app,
        &boss,
        "domain_create",
        &[("name", "outro.com.br"), ("default_quota_mb", "1024")],
    )
    .await;
    create(&app, &ana, "ana17@cliente.com.br", "Ana Beatriz Costa").await;
    create(&app, &ana, "costa@cliente.com.br", "Rui Lima").await;
    create(&app, &ana, "ana17@outro.com.br", "Ana Outra").await;

    use SearchedAs::{Address, Domain, Name};
    assert_eq!(
        found(&app, &ana, "ana17").await,
        (
            vec!["ana17@cliente.com.br".into(), "ana17@outro.com.br".into()],
            Address
        )
    );
    assert_eq!(
        found(&app, &ana, "ana17@cliente.com.br").await,
        (vec!["ana17@cliente.com.br".into()], Address)
    );
    // A name word, although an address starts with it too.
    assert_eq!(
        found(&app, &ana, "costa").await,
        (vec!["ana17@cliente.com.br".into()], Name)
    );
    // ...and the page's "search as an address instead".
    let page = search(&app, &ana, &[("q", "costa"), ("by", "address")]).await;
    assert_eq!(page.searched_as, Address);
    assert_eq!(page.rows[0].address, "costa@cliente.com.br");
    // One of our domains: its mailboxes.
    assert_eq!(
        found(&app, &ana, "cliente.com.br").await,
        (
            vec!["ana17@cliente.com.br".into(), "costa@cliente.com.br".into()],
            Domain
        )
    );
    assert_eq!(found(&app, &ana, "maria.silva").await, (vec![], Address));
    // One word that starts no word of a name: the start of an address.
    assert_eq!(
        found(&app, &ana, "cost").await,
        (vec!["ana17@cliente.com.br".into()], Name)
    );
    assert_eq!(
        found(&app, &ana, "ana1").await,
        (
            vec!["ana17@cliente.com.br".into(), "ana17@outro.com.br".into()],
            Address
        )
    );
    create(&app, &ana, "zeca@cliente.com.br", "").await;
    assert_eq!(
        found(&app, &ana, "zec").await,
        (vec!["zeca@cliente.com.br".into()], Address)
    );
    assert_eq!(found(&app, &ana, "").await.0.len(), 4);
}

#[tokio::test]
async fn an_alias_domain_address_finds_the_real_mailbox() {
    let (app, _boss, ana) = app().await;
    create(&app, &ana, "ana17@cliente.com.br", "Ana Beatriz Costa").await;
    let page = search(&app, &ana, &[("q", "ana17@cliente.net.br")]).await;
    let rows: Vec<&str> = page.rows.iter().map(|m| m.address.as_str()).collect();
    assert_eq!(rows, ["ana17@cliente.com.br"]);
    assert_eq!(page.alias_domain_of.as_deref(), Some("cliente.com.br"));
    // A prefix in the alias domain, the alias domain alone, or as the
    // filter: the real domain is searched each time.
    for (form, hits) in [
        (vec![("q", "ANA17@CLIENTE.NET.BR")], 1),
        (vec![("q", "anb@cliente.net.br")], 0),
        (vec![("q", "cliente.net.br")], 1),
        (vec![("q", "ana"), ("domain", "cliente.net.br")], 1),
    ] {
        let page = search(&app, &ana, &form).await;
        assert_eq!(page.rows.len(), hits, "{form:?}");
        assert_eq!(
            page.alias_domain_of.as_deref(),
            Some("cliente.com.br"),
            "{form:?}"
        );
    }
}

#[tokio::test]
async fn hostile_searches_get_clear_refusals_in_the_callers_language() {
    let (app, _boss, ana) = app().await;
    create(&app, &ana, "ana17@cliente.com.br", "Ana Beatriz Costa").await;
    let long = "a".repeat(321);
    let res = app
        .call(&ana, "/api/provision/mailboxes", &[("q", &long)])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("no máximo 320 caracteres")
    );
    let res = ana
        .post(app.url("/api/provision/mailboxes"))
        .header("Accept", "application/json")
        .header("Accept-Language", "en")
        .form(&[("q", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("at most 320 characters"));
    // A 2 MB query is cut off before it is read.
    let huge = "a".repeat(2 * 1024 * 1024 + 1);
    let res = app
        .call(&ana, "/api/provision/mailboxes", &[("q", &huge)])
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    for form in [
        [("q", "ana"), ("status", "gone")],
        [("q", "ana"), ("by", "telepathy")],
    ] {
        let res = app.call(&ana, "/api/provision/mailboxes", &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
    }
    // Many words, odd cursors, LIKE wildcards: answered, nothing breaks.
    let many = vec!["ana"; 60].join(" ");
    for form in [
        vec![("q", many.as_str())],
        vec![("q", "ana"), ("after", "zzz")],
        vec![("q", "ana beatriz"), ("after", "\t\t-1")],
        vec![("q", "%_")],
        vec![("q", "'; DROP TABLE mailbox; --")],
    ] {
        let res = app.call(&ana, "/api/provision/mailboxes", &form).await;
        assert_eq!(res.status(), StatusCode::OK, "{form:?}");
    }
    // Ten at once.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (url, ana) = (app.url("/api/provision/mailboxes"), ana.clone());
        let q = if i % 2 == 0 {
            "costa"
        } else {
            "ana17@cliente.net.br"
        };
        tasks.spawn(async move {
            let res = ana
                .post(url)
                .header("Accept", "application/json")
                .form(&[("q", q)])
                .send()
                .await
                .unwrap();
            (
                res.status(),
                res.json::<MailboxPage>().await.unwrap().rows.len(),
            )
        });
    }
    for answer in tasks.join_all().await {
        assert_eq!(answer, (StatusCode::OK, 1));
    }
}

#[tokio::test]
async fn the_mailbox_page_shows_what_points_at_it_and_its_active_blocks() {
    let (app, _boss, ana) = app().await;
    create(&app, &ana, "ana17@cliente.com.br", "Ana Beatriz Costa").await;
    create(&app, &ana, "bruno42@cliente.com.br", "Bruno Almeida").await;
    create(&app, &ana, "eva99@cliente.com.br", "Eva Martins").await;
    let alias = |address: &'static str, targets: &'static str| {
        let (app, ana) = (&app, &ana);
        async move {
            accepted(
                app,
                ana,
                "alias_create",
                &[("address", address), ("targets", targets)],
            )
            .await;
        }
    };
    alias(
        "contato@cliente.com.br",
        "ana17@cliente.com.br, bruno42@cliente.com.br",
    )
    .await;
    // Through the alias domain.
    alias("vendas@cliente.com.br", "ana17@cliente.net.br").await;
    // Not ana17: only a longer address containing it.
    alias("outros@cliente.com.br", "xana17@gmail.com").await;
    accepted(
        &app,
        &ana,
        "mailbox_forward",
        &[
            ("address", "eva99@cliente.com.br"),
            ("forward_to", "ana17@cliente.com.br"),
        ],
    )
    .await;
    let now = chrono::Utc::now().timestamp();
    for (target, expires, lifted) in [
        ("ana17@cliente.com.br", now + 3600, false),
        ("ana17@cliente.com.br", now + 3600, true),
        ("ana17@cliente.com.br", now - 60, false),
        ("bruno42@cliente.com.br", now + 3600, false),
    ] {
        defence_block::ActiveModel {
            subject: Set("account".into()),
            target: Set(target.into()),
            proposal_id: Set(None),
            reason: Set("sasl brute force".into()),
            approved_by: Set("seg".into()),
            approved_at: Set(now - 7200),
            expires_at: Set(expires),
            lifted_by: Set(lifted.then(|| "seg".to_string())),
            lifted_at: Set(lifted.then_some(now - 100)),
            hits: Set(0),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }

    let res = app
        .call(
            &ana,
            "/api/provision/mailbox",
            &[("address", "ANA17@cliente.com.br")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["mailbox"]["address"], "ana17@cliente.com.br");
    assert_eq!(
        page["aliases"],
        serde_json::json!(["contato@cliente.com.br", "vendas@cliente.com.br"])
    );
    assert_eq!(
        page["forwards"],
        serde_json::json!(["eva99@cliente.com.br"])
    );
    let blocks = page["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "only the active one: {blocks:?}");
    assert_eq!(blocks[0]["expires_at"], now + 3600);

    // The page itself, in pt-BR: links to them, and the block.
    let html = app.page(&ana, "/mailboxes/ana17@cliente.com.br").await;
    assert!(html.contains("href=\"/mailboxes/aliases?q=contato@cliente.com.br\""));
    assert!(html.contains("href=\"/mailboxes/eva99@cliente.com.br\""));
    assert!(html.contains("Bloqueios de segurança"));
    assert!(html.contains("href=\"/mailflow#block-"));
    assert!(html.contains("O que chega a ela"));
}

#[tokio::test]
async fn a_missing_mailbox_page_answers_404_with_a_clear_page() {
    let (app, _boss, ana) = app().await;
    let get = |lang: &'static str| {
        let (app, ana) = (&app, &ana);
        async move {
            let res = ana
                .get(app.url("/mailboxes/nobody@nowhere.example"))
                .header("Accept", "text/html")
                .header("Accept-Language", lang)
                .send()
                .await
                .unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, html) = get("pt-BR").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Caixa postal não encontrada"), "{html}");
    assert!(html.contains("nobody@nowhere.example"));
    assert!(html.contains("href=\"/mailboxes?q=nobody@nowhere.example\""));
    let (status, html) = get("en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Mailbox not found"));
    // An existing one is found, of course.
    create(&app, &ana, "ana17@cliente.com.br", "Ana Beatriz Costa").await;
    let res = ana
        .get(app.url("/mailboxes/ana17@cliente.com.br"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The server function says 404 too, also for a huge address.
    let res = app
        .call(
            &ana,
            "/api/provision/mailbox",
            &[("address", &"x".repeat(5000))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_migration_indexes_the_names_of_existing_mailboxes() {
    use app::server::entities::mail_domain;
    use migrations::{Migrator, MigratorTrait};
    let dir = tempfile::tempdir().unwrap();
    let db = sea_orm::Database::connect(crate::common::fresh_database(&dir).await)
        .await
        .unwrap();
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261202_070000_search_words")
        .expect("the word-table migration") as u32;
    Migrator::up(&db, Some(before)).await.unwrap();
    let now = chrono::Utc::now();
    let d = mail_domain::ActiveModel {
        name: Set("cliente.com.br".into()),
        description: Set(String::new()),
        alias_of: Set(None),
        max_mailboxes: Set(0),
        max_aliases: Set(0),
        max_quota_mb: Set(0),
        default_quota_mb: Set(1024),
        catch_all: Set(None),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    // More than one batch of the fill.
    for i in 0..1100 {
        let name = if i == 1099 {
            "João Pereira".to_string()
        } else {
            format!("Cliente {i}")
        };
        mailbox::ActiveModel {
            domain_id: Set(d.id),
            local_part: Set(format!("c{i}")),
            address: Set(format!("c{i}@cliente.com.br")),
            name_key: Set(app::server::provision::types::name_key(&name)),
            name: Set(name),
            password: Set(HASH.into()),
            quota_mb: Set(1024),
            status: Set(app::provision::MailboxStatus::Active),
            status_reason: Set(None),
            can_send: Set(true),
            can_receive: Set(true),
            forward_to: Set(None),
            forward_keep_copy: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            purge_after: Set(None),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
    }
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        mailbox_word::Entity::find().count(&db).await.unwrap(),
        2 * 1100
    );
    let page = app::server::provision::search::mailboxes(
        &db,
        &app::server::provision::search::MailboxSearch {
            q: "pereira".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].address, "c1099@cliente.com.br");
    db.close().await.ok();
}
