//! The portal's language: pt-BR by default, the browser's `Accept-Language`
//! when it names one of ours, and each staff member's own choice above both
//! (stored with the account, carried by a cookie).

use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};
use app::model::Role;
use reqwest::StatusCode;

/// The `lang` of the page's `<html>`, which the browser reads back.
fn html_lang(page: &str) -> &str {
    let start = page.find("<html lang=\"").expect("an <html lang>") + 12;
    &page[start..start + page[start..].find('"').unwrap()]
}

async fn home(
    app: &crate::helpers::TestApp,
    client: &reqwest::Client,
    accept: Option<&str>,
) -> String {
    let mut req = client.get(app.url("/")).header("Accept", "text/html");
    if let Some(accept) = accept {
        req = req.header("Accept-Language", accept);
    }
    req.send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn pages_are_in_portuguese_unless_the_browser_asks_for_english() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let ana = app.signed_in("ana").await;

    let page = home(&app, &ana, None).await;
    assert_eq!(html_lang(&page), "pt-BR");
    assert!(page.contains("Olá"), "{page}");
    assert!(page.contains("Caixas postais"), "{page}");
    // The zone the browser formats times in comes with the page.
    assert!(page.contains("America/Sao_Paulo"), "{page}");

    let page = home(&app, &ana, Some("en-GB,en;q=0.9,pt;q=0.5")).await;
    assert_eq!(html_lang(&page), "en");
    assert!(page.contains("Hello"), "{page}");

    let page = home(&app, &ana, Some("de-DE")).await;
    assert_eq!(
        html_lang(&page),
        "pt-BR",
        "neither language asked: the default"
    );
}

#[tokio::test]
async fn the_default_language_and_zone_are_settings() {
    let app = spawn_app_with(|cfg| {
        cfg.server.default_language = "en".into();
        cfg.server.time_zone = "Europe/Lisbon".into();
    })
    .await;
    app.add_staff("ana", &[Role::Support]).await;
    let ana = app.signed_in("ana").await;
    let page = home(&app, &ana, None).await;
    assert_eq!(html_lang(&page), "en");
    assert!(page.contains("Europe/Lisbon"), "{page}");
}

#[tokio::test]
async fn a_staff_member_choice_wins_and_follows_them_to_another_browser() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let ana = app.signed_in("ana").await;

    let res = app
        .call(&ana, "/api/session/set_language", &[("language", "en")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("carteiro_lang="))
        .expect("the language cookie")
        .to_string();
    assert!(cookie.starts_with("carteiro_lang=en;"), "{cookie}");

    // The cookie beats the browser's Accept-Language.
    let page = home(&app, &ana, Some("pt-BR")).await;
    assert_eq!(html_lang(&page), "en");

    // Another browser: signing in sets the cookie from the account.
    let other = app.client();
    let res = app.login(&other, "ana", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = home(&app, &other, Some("pt-BR")).await;
    assert_eq!(
        html_lang(&page),
        "en",
        "the stored choice follows the account"
    );
}

#[tokio::test]
async fn an_unknown_language_is_refused_with_a_field_message() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let ana = app.signed_in("ana").await;
    for bad in ["fr", "", "pt-BR-x", &"e".repeat(5_000)] {
        let res = app
            .call(&ana, "/api/session/set_language", &[("language", bad)])
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{:.20}",
            bad
        );
        let body = res.text().await.unwrap();
        assert!(
            body.contains("language") && body.contains("Escolha"),
            "{body:.300}"
        );
    }
    assert_eq!(html_lang(&home(&app, &ana, None).await), "pt-BR");
}
