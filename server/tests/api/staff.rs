//! Staff administration through the server functions.

use crate::helpers::{error_kind, spawn_app};
use app::model::Role;
use reqwest::StatusCode;

#[tokio::test]
async fn an_admin_creates_a_staff_member_who_can_then_sign_in() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;

    let res = app
        .call(
            &boss,
            "/api/staff/create",
            &[
                ("username", "Carla"),
                ("display_name", "Carla Souza"),
                ("security", "true"),
                ("manager", "true"),
            ],
        )
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let issued: serde_json::Value = res.json().await.unwrap();
    assert_eq!(issued["username"], "carla");
    let password = issued["password"]
        .as_str()
        .expect("a generated password")
        .to_string();
    let carla = app.client();
    assert_eq!(
        app.login(&carla, "carla", &password).await.status(),
        StatusCode::OK
    );
    let listed = app::server::staff::list(&app.state.db).await.unwrap();
    let carla = listed.iter().find(|m| m.username == "carla").unwrap();
    assert_eq!(carla.roles.to_db(), "security,manager");
    assert_eq!(carla.display_name, "Carla Souza");
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;
    let before = app::server::staff::count(&app.state.db).await.unwrap();

    type Form<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Form, StatusCode, &str); 4] = [
        (
            &[("username", "no roles")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "nome de usuário",
        ),
        (
            &[("username", "noroles")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "pelo menos um papel",
        ),
        (
            &[
                ("username", "shortpw"),
                ("support", "true"),
                ("password", "short"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "10 caracteres",
        ),
        (
            &[("username", "boss"), ("support", "true")],
            StatusCode::CONFLICT,
            "já está em uso",
        ),
    ];
    for (form, status, text) in cases {
        let res = app.call(&boss, "/api/staff/create", form).await;
        assert_eq!(res.status(), status, "{form:?}");
        let body = res.text().await.unwrap();
        assert!(body.contains(text), "{form:?}: {body}");
    }
    assert_eq!(
        app::server::staff::count(&app.state.db).await.unwrap(),
        before
    );
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_disabled_or_demoted() {
    let app = spawn_app().await;
    let boss_id = app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;
    let id = boss_id.to_string();

    let demote = app
        .call(
            &boss,
            "/api/staff/set_roles",
            &[("id", &id), ("support", "true")],
        )
        .await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    let disable = app
        .call(
            &boss,
            "/api/staff/set_active",
            &[("id", &id), ("active", "false")],
        )
        .await;
    assert_eq!(disable.status(), StatusCode::CONFLICT);

    // With a second admin, demotion works.
    app.add_staff("deputy", &[Role::Admin]).await;
    let demote = app
        .call(
            &boss,
            "/api/staff/set_roles",
            &[("id", &id), ("support", "true"), ("manager", "true")],
        )
        .await;
    assert_eq!(demote.status(), StatusCode::OK);
    // …and takes effect at once: boss is no longer an admin.
    let res = app.call(&boss, "/api/staff/list", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_kind(res).await, "Forbidden");
}

#[tokio::test]
async fn an_unknown_staff_id_is_not_found() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;
    let res = app
        .call(&boss, "/api/staff/reset_password", &[("id", "99999")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_first_admin_is_created_only_on_an_empty_staff_table() {
    let app = spawn_app().await;
    let first = app::server::staff::ensure_first_admin(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.username, "admin");
    assert!(
        app.login(&app.client(), "admin", first.password.as_deref().unwrap())
            .await
            .status()
            .is_success()
    );
    assert!(
        app::server::staff::ensure_first_admin(&app.state.db)
            .await
            .unwrap()
            .is_none()
    );
}
