//! Provisioning under concurrent staff: writers queue instead of failing
//! (SQLite `BEGIN IMMEDIATE` and busy timeout, retries by error code), and
//! the checks that read before writing — a domain's limits, "an address is
//! a mailbox or an alias, not both" — hold when requests race (the domain
//! row lock on PostgreSQL). Refusals are 409/422 with a message, never 500.

use crate::helpers::TestApp;
use crate::provision::{accepted, app};
use app::provision::RequestDone;
use app::server::entities::{audit_log, mail_alias, mailbox};
use reqwest::{Client, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

type Answer = Result<RequestDone, (StatusCode, Value)>;

/// Sends every request at once; the answers in the same order.
async fn all_at_once(
    app: &TestApp,
    client: &Client,
    requests: Vec<(&str, Vec<(&str, String)>)>,
) -> Vec<Answer> {
    let mut tasks = Vec::new();
    for (kind, fields) in requests {
        let (base, client, kind) = (app.base.clone(), client.clone(), kind.to_string());
        let form: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (format!("request[{k}]"), v.clone()))
            .collect();
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(format!("{base}/api/provision/{kind}"))
                .header("Accept", "application/json")
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = res.status();
            if status.is_success() {
                Ok(res.json::<RequestDone>().await.unwrap())
            } else {
                Err((status, res.json::<Value>().await.unwrap_or_default()))
            }
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

/// A refusal a person understands: 409 or 422 with a message.
fn assert_clear_refusal(answer: &Answer) {
    let (status, body) = answer.as_ref().expect_err("refused");
    assert!(
        *status == StatusCode::CONFLICT || *status == StatusCode::UNPROCESSABLE_ENTITY,
        "{status}: {body}"
    );
    assert!(!body.to_string().is_empty());
}

async fn create_domain(app: &TestApp, boss: &Client, name: &str, mailboxes: &str, aliases: &str) {
    accepted(
        app,
        boss,
        "domain_create",
        &[
            ("name", name),
            ("max_mailboxes", mailboxes),
            ("max_aliases", aliases),
            ("default_quota_mb", "1024"),
        ],
    )
    .await;
}

#[tokio::test]
async fn ten_parallel_mailbox_creates_all_succeed() {
    let (app, boss, ana) = app().await;
    create_domain(&app, &boss, "corrida.com.br", "", "").await;
    let requests = (0..10)
        .map(|i| {
            (
                "mailbox_create",
                vec![
                    ("address", format!("pessoa{i}@corrida.com.br")),
                    ("name", format!("Pessoa {i}")),
                    ("password", String::new()),
                ],
            )
        })
        .collect();

    let answers = all_at_once(&app, &ana, requests).await;

    for a in &answers {
        let done = a.as_ref().unwrap_or_else(|e| panic!("refused: {e:?}"));
        assert!(done.secret.is_some(), "a generated password is shown");
    }
    let stored = mailbox::Entity::find()
        .filter(mailbox::Column::Address.like("%@corrida.com.br"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, 10);
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("provision.mailbox_create"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(audited, 10, "one audit entry per mailbox");
}

#[tokio::test]
async fn a_mailbox_and_an_alias_racing_for_one_address_never_both_win() {
    let (app, boss, ana) = app().await;
    create_domain(&app, &boss, "corrida.com.br", "", "").await;
    accepted(
        &app,
        &ana,
        "mailbox_create",
        &[
            ("address", "destino@corrida.com.br"),
            ("password", "a long password!"),
        ],
    )
    .await;
    for round in 0..6 {
        let address = format!("disputa{round}@corrida.com.br");
        let mut requests = vec![
            (
                "mailbox_create",
                vec![("address", address.clone()), ("password", String::new())],
            ),
            (
                "alias_create",
                vec![
                    ("address", address.clone()),
                    ("targets", "destino@corrida.com.br".to_string()),
                ],
            ),
        ];
        if round % 2 == 1 {
            requests.reverse();
        }

        let answers = all_at_once(&app, &ana, requests).await;

        let won = answers.iter().filter(|a| a.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {answers:?}");
        answers
            .iter()
            .filter(|a| a.is_err())
            .for_each(assert_clear_refusal);
        let as_mailbox = mailbox::Entity::find()
            .filter(mailbox::Column::Address.eq(address.as_str()))
            .count(&app.state.db)
            .await
            .unwrap();
        let as_alias = mail_alias::Entity::find()
            .filter(mail_alias::Column::Address.eq(address.as_str()))
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(
            as_mailbox + as_alias,
            1,
            "round {round}: exactly one of them"
        );
    }
}

#[tokio::test]
async fn parallel_creates_into_the_last_free_slot_let_exactly_one_in() {
    let (app, boss, ana) = app().await;
    create_domain(&app, &boss, "cheio.com.br", "3", "1").await;
    for i in 0..2 {
        accepted(
            &app,
            &ana,
            "mailbox_create",
            &[
                ("address", &format!("antes{i}@cheio.com.br")),
                ("password", "a long password!"),
            ],
        )
        .await;
    }
    let mailboxes = (0..8)
        .map(|i| {
            (
                "mailbox_create",
                vec![
                    ("address", format!("vaga{i}@cheio.com.br")),
                    ("password", String::new()),
                ],
            )
        })
        .collect();
    let aliases = (0..8)
        .map(|i| {
            (
                "alias_create",
                vec![
                    ("address", format!("apelido{i}@cheio.com.br")),
                    ("targets", "antes0@cheio.com.br".to_string()),
                ],
            )
        })
        .collect();

    let (mailboxes, aliases) = tokio::join!(
        all_at_once(&app, &ana, mailboxes),
        all_at_once(&app, &ana, aliases)
    );

    for (what, answers) in [("mailbox", &mailboxes), ("alias", &aliases)] {
        assert_eq!(
            answers.iter().filter(|a| a.is_ok()).count(),
            1,
            "one {what} fits: {answers:?}"
        );
        answers
            .iter()
            .filter(|a| a.is_err())
            .for_each(assert_clear_refusal);
    }
    let domain_id = app::server::entities::mail_domain::Entity::find()
        .filter(app::server::entities::mail_domain::Column::Name.eq("cheio.com.br"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let stored_mailboxes = mailbox::Entity::find()
        .filter(mailbox::Column::DomainId.eq(domain_id))
        .count(&app.state.db)
        .await
        .unwrap();
    let stored_aliases = mail_alias::Entity::find()
        .filter(mail_alias::Column::DomainId.eq(domain_id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!((stored_mailboxes, stored_aliases), (3, 1), "limits hold");
}
