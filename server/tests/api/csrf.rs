//! State-changing requests sent by a browser on behalf of another site are refused.

use crate::helpers::{PASSWORD, spawn_app};
use app::model::Role;
use reqwest::StatusCode;

#[tokio::test]
async fn a_cross_site_form_post_is_refused_even_with_a_valid_session() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;

    for (header, value) in [
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let res = boss
            .post(app.url("/api/staff/create"))
            .header(header, value)
            .form(&[("username", "mallory"), ("admin", "true")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{header}: {value}");
    }
    let staff = app::server::staff::list(&app.state.db).await.unwrap();
    assert!(staff.iter().all(|m| m.username != "mallory"));
}

#[tokio::test]
async fn a_same_origin_post_passes() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let res = app
        .client()
        .post(app.url("/api/session/login"))
        .header("Origin", app.base.clone())
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("username", "ana"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
