//! "Test this change" on the detection settings page (issue 17 item 11):
//! the what-if server function replays stored hourly counters through a
//! policy's edited numbers and its current ones, lists what changes, saves
//! nothing, and refuses bad numbers with a message.

use crate::helpers::{TestApp, spawn_app};
use app::api::whatif::WhatIfResult;
use app::model::Role;
use app::server::entities::defence_policy;
use reqwest::{Client, StatusCode};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

const HOUR: i64 = 3_600;

/// The app with the default policies, a security analyst, and hourly
/// counters: per IP, (subject, hours ago, series, n).
async fn app_with_counters() -> (TestApp, Client) {
    let app = spawn_app().await;
    server::defence::detection::load(&app.state.db)
        .await
        .unwrap();
    app.add_staff("sec", &[Role::Security]).await;
    let this_hour = chrono::Utc::now().timestamp() / HOUR * HOUR;
    for (subject, hours_ago, series, n) in [
        // Under today's 30 unknown users in a window; over 20.
        ("198.51.100.7", 2, "reject.unknown_user", 25),
        // Other classes do not count for the dictionary-attack policy.
        ("198.51.100.7", 3, "reject.relay", 100),
        // Over both.
        ("198.51.100.8", 5, "reject.unknown_user", 50),
        // Under today's threshold, and ten days ago.
        ("198.51.100.9", 240, "reject.unknown_user", 25),
        // Loopback is never proposed.
        ("127.0.0.1", 2, "reject.unknown_user", 500),
    ] {
        app.state
            .db
            .execute_unprepared(&format!(
                "INSERT INTO mail_subject_hour (kind, subject, hour, series, n) \
                 VALUES ('ip', '{subject}', {}, '{series}', {n})",
                this_hour - hours_ago * HOUR
            ))
            .await
            .unwrap();
    }
    let sec = app.signed_in("sec").await;
    (app, sec)
}

async fn policy(app: &TestApp, name: &str) -> defence_policy::Model {
    defence_policy::Entity::find()
        .filter(defence_policy::Column::Name.eq(name))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

async fn what_if(
    app: &TestApp,
    client: &Client,
    policy: i32,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let id = policy.to_string();
    let mut form = vec![("id", id.as_str())];
    form.extend_from_slice(fields);
    app.call(client, "/api/defence/what_if", &form).await
}

fn subjects(list: &[app::api::whatif::WhatIfSubject]) -> Vec<(&str, u64)> {
    list.iter().map(|s| (s.subject.as_str(), s.peak)).collect()
}

#[tokio::test]
async fn a_lower_threshold_shows_who_would_now_be_proposed_and_saves_nothing() {
    let (app, sec) = app_with_counters().await;
    let dictionary = policy(&app, "dictionary-attack").await;
    let edit = [("window_minutes", "10"), ("threshold", "20"), ("days", "7")];
    let res = what_if(&app, &sec, dictionary.id, &edit).await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: WhatIfResult = res.json().await.unwrap();
    assert_eq!(subjects(&r.now_proposed), [("198.51.100.7", 25)]);
    assert_eq!(
        (r.now_proposed_total, r.no_longer_total, r.unchanged),
        (1, 0, 1)
    );
    assert_eq!((r.current_window_hours, r.edited_window_hours), (1, 1));
    assert!(!r.truncated);
    // Thirty days reach the older one too.
    let edit = [
        ("window_minutes", "10"),
        ("threshold", "20"),
        ("days", "30"),
    ];
    let r: WhatIfResult = what_if(&app, &sec, dictionary.id, &edit)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        subjects(&r.now_proposed),
        [("198.51.100.7", 25), ("198.51.100.9", 25)]
    );
    // A higher one: the one proposed today no longer would be.
    let edit = [("window_minutes", "10"), ("threshold", "51"), ("days", "7")];
    let r: WhatIfResult = what_if(&app, &sec, dictionary.id, &edit)
        .await
        .json()
        .await
        .unwrap();
    assert!(r.now_proposed.is_empty());
    assert_eq!(subjects(&r.no_longer), [("198.51.100.8", 50)]);
    assert_eq!(r.unchanged, 0);
    // Nothing was saved.
    assert_eq!(policy(&app, "dictionary-attack").await, dictionary);
}

#[tokio::test]
async fn bad_numbers_are_refused_with_a_message() {
    let (app, sec) = app_with_counters().await;
    let id = policy(&app, "dictionary-attack").await.id;
    let huge = "9".repeat(2_000_000);
    for (fields, needle) in [
        (
            vec![("window_minutes", "0"), ("threshold", "5"), ("days", "7")],
            "janela",
        ),
        (
            vec![("window_minutes", "-5"), ("threshold", "5"), ("days", "7")],
            "janela",
        ),
        (
            vec![
                ("window_minutes", "1441"),
                ("threshold", "5"),
                ("days", "7"),
            ],
            "janela",
        ),
        (
            vec![("window_minutes", "10"), ("threshold", "0"), ("days", "7")],
            "limiar",
        ),
        (
            vec![
                ("window_minutes", "10"),
                ("threshold", "99999999999999999999"),
                ("days", "7"),
            ],
            "não é um número inteiro",
        ),
        (
            vec![
                ("window_minutes", "10"),
                ("threshold", &huge),
                ("days", "7"),
            ],
            "",
        ),
        (
            vec![("window_minutes", "10"), ("threshold", "5"), ("days", "31")],
            "1 a 30 dias",
        ),
        (
            vec![("window_minutes", "10"), ("threshold", "5"), ("days", "0")],
            "1 a 30 dias",
        ),
        (
            vec![
                ("window_minutes", "10"),
                ("threshold", "5"),
                ("burst_factor", "abc"),
                ("days", "7"),
            ],
            "não é um número",
        ),
        (
            vec![
                ("window_minutes", "10"),
                ("threshold", "5"),
                ("burst_factor", "0.5"),
                ("days", "7"),
            ],
            "fator de pico",
        ),
    ] {
        let res = what_if(&app, &sec, id, &fields).await;
        assert!(
            res.status().is_client_error(),
            "{fields:.80?}: {}",
            res.status()
        );
        let text = res.text().await.unwrap().to_lowercase();
        assert!(text.contains(needle), "{fields:.80?}: {text:.300}");
    }
}

#[tokio::test]
async fn a_policy_the_hourly_counters_cannot_replay_says_so() {
    let (app, sec) = app_with_counters().await;
    let id = policy(&app, "compromised-many-ips").await.id;
    let edit = [("window_minutes", "60"), ("threshold", "4"), ("days", "7")];
    let res = what_if(&app, &sec, id, &edit).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("compromised-many-ips conta IPs de clientes distintos, que os contadores por hora não guardam: não pode ser reproduzida.")
    );
}
