//! The admin pages as an ISP's admins use them (issue 18): the token form's
//! days, the audit log's action list and local days.

use crate::helpers::spawn_app_with;
use app::model::AuditPage;
use reqwest::StatusCode;

#[tokio::test]
async fn the_token_form_explains_a_bad_number_of_days() {
    let app = spawn_app_with(|_| {}).await;
    let (boss, _, _) = app.boss_and_ana().await;
    for days in [
        "abc",
        "1e9",
        "-1",
        "3651",
        "99999999999999999999999",
        "12.5",
    ] {
        let res = app
            .call(
                &boss,
                "/api/provision/token_issue",
                &[("name", "crm"), ("role", "support"), ("days", days)],
            )
            .await;
        // A message by the field, in the caller's language; not a
        // deserialization error.
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{days}");
        let body = res.text().await.unwrap();
        assert!(body.contains(r#""field":"days""#), "{days}: {body}");
        assert!(body.contains("número inteiro de dias"), "{days}: {body}");
    }
    for days in ["", " 30 ", "0", "3650"] {
        let res = app
            .call(
                &boss,
                "/api/provision/token_issue",
                &[("name", "crm"), ("role", "support"), ("days", days)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{days:?}");
    }
}

#[tokio::test]
async fn the_audit_filter_lists_the_logged_actions_and_reads_local_days() {
    // Far east of UTC: for most of the day the local date is not UTC's.
    let app = spawn_app_with(|cfg| cfg.server.time_zone = "Pacific/Kiritimati".into()).await;
    let (boss, _, _) = app.boss_and_ana().await;
    let list = |query: Vec<(&'static str, String)>| {
        let (app, boss) = (&app, &boss);
        async move {
            // The query always names one field (all may be empty).
            let mut form: Vec<(&str, &str)> = vec![("query[text]", "")];
            form.extend(query.iter().map(|(k, v)| (*k, v.as_str())));
            let res = app.call(boss, "/api/audit/list", &form).await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<AuditPage>().await.unwrap()
        }
    };
    let all = list(vec![]).await;
    assert!(
        all.actions.contains(&"auth.login".to_string()),
        "{:?}",
        all.actions
    );
    assert!(
        all.actions.contains(&"staff.create".to_string()),
        "{:?}",
        all.actions
    );
    let mut sorted = all.actions.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, all.actions, "each action once, in order");

    let group = list(vec![("query[action]", "staff.".into())]).await;
    assert!(!group.entries.is_empty());
    assert!(group.entries.iter().all(|e| e.action.starts_with("staff.")));

    let local_today = (chrono::Utc::now() + chrono::Duration::hours(14)).date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let today = list(vec![
        ("query[from]", day(local_today)),
        ("query[to]", day(local_today)),
    ])
    .await;
    assert_eq!(
        today.entries.len(),
        all.entries.len(),
        "today's entries, by the local day"
    );
    let yesterday = local_today.pred_opt().unwrap();
    let before = list(vec![("query[to]", day(yesterday))]).await;
    assert!(
        before.entries.is_empty(),
        "nothing was logged before the local today"
    );
    // The Brazilian way of writing a day is read too.
    let br = list(vec![(
        "query[from]",
        local_today.format("%d/%m/%Y").to_string(),
    )])
    .await;
    assert_eq!(br.entries.len(), all.entries.len());

    let res = app
        .call(&boss, "/api/audit/list", &[("query[from]", "31/02/2026")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("deve ser uma data"));
}
