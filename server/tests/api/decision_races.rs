//! Security analysts deciding the same thing at the same moment: one
//! decision wins, the others are told it was already taken, and the audit
//! log has one entry. On PostgreSQL (read committed) every racer used to
//! read the proposal as pending and block it again.

use crate::helpers::{TestApp, spawn_app};
use app::model::{BulkOutcome, Role};
use app::server::entities::{audit_log, defence_block};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const RACERS: usize = 10;

#[tokio::test]
async fn one_of_many_parallel_approvals_and_lifts_of_the_same_thing_wins() {
    let app = spawn_app().await;
    // Several rounds: a lost race shows in most of them, rarely in all.
    for round in 0..5 {
        race_once(&app, round).await;
    }
}

async fn race_once(app: &TestApp, round: usize) {
    let mut clients = Vec::new();
    for i in 0..RACERS {
        let name = format!("sec{round}.{i}");
        app.add_staff(&name, &[Role::Security]).await;
        clients.push(app.signed_in(&name).await);
    }
    let target = format!("203.0.113.{}", 10 + round);
    let id = crate::defence::propose(app, &target).await.to_string();

    let approvals = at_once(
        app,
        &clients,
        "/api/defence/approve",
        &[("ids", &id), ("reason", "race")],
    )
    .await;
    let mut done = 0;
    for (status, body) in approvals {
        assert_eq!(status, StatusCode::OK, "{body}");
        let outcome: BulkOutcome = serde_json::from_str(&body).unwrap();
        done += outcome.done;
    }
    let blocks = defence_block::Entity::find()
        .filter(defence_block::Column::Target.eq(&target))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!((done, blocks.len()), (1, 1), "{blocks:?}");
    assert_eq!(audited(app, "block.approve").await, round as u64 + 1);

    let block = blocks[0].id.to_string();
    let lifts = at_once(
        app,
        &clients,
        "/api/defence/lift",
        &[("id", &block), ("reason", "race")],
    )
    .await;
    let statuses: Vec<StatusCode> = lifts.iter().map(|(s, _)| *s).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflict), (1, RACERS - 1), "{lifts:?}");
    assert_eq!(audited(app, "block.lift").await, round as u64 + 1);
}

/// Sends the same form from every client at once; the statuses and bodies.
pub async fn at_once(
    app: &TestApp,
    clients: &[reqwest::Client],
    path: &str,
    form: &[(&str, &str)],
) -> Vec<(StatusCode, String)> {
    let form: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(clients.len()));
    let mut tasks = tokio::task::JoinSet::new();
    for client in clients {
        let (client, url, form, start) =
            (client.clone(), app.url(path), form.clone(), start.clone());
        tasks.spawn(async move {
            start.wait().await;
            let res = client
                .post(url)
                .header("Accept", "application/json")
                .form(&form)
                .send()
                .await
                .unwrap();
            (res.status(), res.text().await.unwrap())
        });
    }
    tasks.join_all().await
}

async fn audited(app: &TestApp, action: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .count(&app.state.db)
        .await
        .unwrap()
}
