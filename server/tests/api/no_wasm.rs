//! Forms posted by the browser itself, before the page's WASM has loaded or
//! without JavaScript (form-encoded, `Accept: text/html`, a `Referer`): the
//! redirect back to the page keeps the outcome out of its URL, and the page
//! then shows it once: a generated password, or the error beside what was
//! typed (never a password).

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use crate::provision::app as provision_app;
use app::model::Role;
use app::server::entities::{mailbox, staff_user, web_session};
use reqwest::{Client, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// What Chromium sends as `Accept` when it loads a page or posts a form.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// Posts `form` to the server function at `api` as a browser without WASM
/// does from the page `page`: the redirect it answers (checked to be one),
/// its `Location`, and its body.
async fn post_plain(
    app: &TestApp,
    client: &Client,
    page: &str,
    api: &str,
    form: &[(&str, &str)],
) -> (String, String) {
    let res = client
        .post(app.url(api))
        .header("Accept", BROWSER_ACCEPT)
        .header("Referer", app.url(page))
        .header("Origin", app.base.clone())
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "{api}");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let body = res.text().await.unwrap();
    (location, body)
}

/// Loads `location` as the browser does after the redirect.
async fn follow(client: &Client, location: &str) -> String {
    client
        .get(location)
        .header("Accept", BROWSER_ACCEPT)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The password shown in the page's one-time notice, if any.
fn shown_password(html: &str) -> Option<String> {
    let start = html.find("data-testid=\"one-time-password\"")?;
    let rest = &html[start..];
    let inner = &rest[rest.find('>')? + 1..rest.find("</code>")?];
    let text = inner.replace("<!>", "").replace("<!---->", "");
    Some(text.trim().to_string())
}

/// Posts a form that generates a password, follows the redirect and
/// returns the password the page shows; checks it is in no `Location`,
/// not in the redirect's body, shown once on that page and gone on the
/// next load of it.
async fn generated_password(
    app: &TestApp,
    client: &Client,
    page: &str,
    api: &str,
    form: &[(&str, &str)],
) -> String {
    let (location, body) = post_plain(app, client, page, api, form).await;
    // (Leptos leaves an empty query on main: `/mailboxes?`.)
    assert_eq!(
        location.trim_end_matches('?'),
        app.url(page),
        "straight back to the form's page"
    );
    let html = follow(client, &location).await;
    let password =
        shown_password(&html).unwrap_or_else(|| panic!("{page} shows no password after {api}"));
    assert!(password.len() >= 12, "{password:?}");
    assert!(!location.contains(&password) && !body.contains(&password));
    assert_eq!(
        html.matches(&format!(">{password}<")).count(),
        1,
        "shown once in the page"
    );
    let again = follow(client, &location).await;
    assert!(!again.contains(&password), "{page}: shown a second time");
    assert!(shown_password(&again).is_none());
    password
}

/// Whether `password` opens the mailbox `address`.
async fn mailbox_password_is(app: &TestApp, address: &str, password: &str) -> bool {
    let row = mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq(address))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let phc = row.password.trim_start_matches("{ARGON2ID}").to_string();
    app::server::passwords::verify(password.to_string(), Some(phc)).await
}

#[tokio::test]
async fn a_mailbox_created_without_wasm_shows_its_generated_password_once() {
    let (app, boss, ana) = provision_app().await;
    let password = generated_password(
        &app,
        &ana,
        "/mailboxes",
        "/api/provision/mailbox_create",
        &[
            ("request[address]", "nova@exemplo.com.br"),
            ("request[name]", "Nova Pereira"),
        ],
    )
    .await;
    assert!(mailbox_password_is(&app, "nova@exemplo.com.br", &password).await);

    // The outcome belongs to the session that posted it.
    let (location, _) = post_plain(
        &app,
        &ana,
        "/mailboxes",
        "/api/provision/mailbox_create",
        &[("request[address]", "outra@exemplo.com.br")],
    )
    .await;
    let other = follow(&boss, &location).await;
    assert!(shown_password(&other).is_none(), "another session's page");
    assert!(shown_password(&follow(&ana, &location).await).is_some());

    // Kept for the form's page only: loading another page first drops it.
    let (location, _) = post_plain(
        &app,
        &ana,
        "/mailboxes",
        "/api/provision/mailbox_create",
        &[("request[address]", "terceira@exemplo.com.br")],
    )
    .await;
    let elsewhere = follow(&ana, &app.url("/mailboxes/aliases")).await;
    assert!(shown_password(&elsewhere).is_none());
    assert!(shown_password(&follow(&ana, &location).await).is_none());
}

#[tokio::test]
async fn a_mailbox_password_reset_without_wasm_is_shown_once() {
    let (app, _, ana) = provision_app().await;
    let address = "rita@exemplo.com.br";
    crate::provision::accepted(&app, &ana, "mailbox_create", &[("address", address)]).await;
    let page = format!("/mailboxes/{address}");
    let password = generated_password(
        &app,
        &ana,
        &page,
        "/api/provision/mailbox_reset_password",
        &[("request[address]", address)],
    )
    .await;
    assert!(mailbox_password_is(&app, address, &password).await);
}

#[tokio::test]
async fn staff_created_or_reset_without_wasm_see_their_password_once() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;

    let created = generated_password(
        &app,
        &boss,
        "/admin/staff",
        "/api/staff/create",
        &[
            ("username", "joana"),
            ("display_name", "Joana"),
            ("password", ""),
            ("support", "true"),
        ],
    )
    .await;
    assert_eq!(app.login_status("joana", &created).await, StatusCode::OK);

    let id = staff_user::Entity::find()
        .filter(staff_user::Column::Username.eq("joana"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let reset = generated_password(
        &app,
        &boss,
        "/admin/staff",
        "/api/staff/reset_password",
        &[("id", &id)],
    )
    .await;
    assert_ne!(reset, created);
    assert_eq!(app.login_status("joana", &reset).await, StatusCode::OK);
}

#[tokio::test]
async fn a_refused_mailbox_form_comes_back_with_what_was_typed_but_not_the_password() {
    let (app, _, ana) = provision_app().await;
    let typed_password = "typed-secret-password-1";
    let (location, _) = post_plain(
        &app,
        &ana,
        "/mailboxes",
        "/api/provision/mailbox_create",
        &[
            ("request[address]", "maria@exemplo.com.br"),
            ("request[name]", "Maria \"Mari\" Souza"),
            ("request[password]", typed_password),
            ("request[quota_mb]", "muito"),
            ("request[receive_only]", "true"),
        ],
    )
    .await;
    assert!(location.starts_with(&app.url("/mailboxes")), "{location}");
    assert!(!location.contains(typed_password));

    // Nothing typed as a password is kept with the session.
    let sessions = web_session::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(sessions.iter().all(|s| !s.data.contains(typed_password)));

    let html = follow(&ana, &location).await;
    assert!(
        html.contains(r#"value="maria@exemplo.com.br""#),
        "the address is back"
    );
    assert!(
        html.contains(r#"value="Maria &quot;Mari&quot; Souza""#),
        "the name is back, escaped"
    );
    assert!(
        html.contains(r#"value="muito""#),
        "the refused quota is back"
    );
    assert!(
        html.contains(r#"name="request[receive_only]" value="true" checked"#),
        "the ticked box is ticked"
    );
    assert!(
        html.contains(r#"data-field="quota_mb""#),
        "the quota's message is beside it"
    );
    assert!(!html.contains(typed_password));
    assert!(
        !html.contains("maria@exemplo.com.br</a>"),
        "nothing was created"
    );

    // Shown once: the next load is an empty form again.
    let again = follow(&ana, &app.url("/mailboxes")).await;
    assert!(!again.contains(r#"value="maria@exemplo.com.br""#));
}

#[tokio::test]
async fn a_refused_staff_form_comes_back_with_the_username_and_roles() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;
    let (location, _) = post_plain(
        &app,
        &boss,
        "/admin/staff",
        "/api/staff/create",
        &[
            ("username", "boss"),
            ("display_name", "Outro Chefe"),
            ("password", "typed-secret-password-2"),
            ("security", "true"),
        ],
    )
    .await;
    let page = follow(&boss, &location).await;
    // The create form, before the accounts' table (whose rows tick roles).
    let html = &page[page.find("Adicionar um membro").unwrap()..page.find("<table").unwrap()];
    assert!(html.contains(r#"name="username" value="boss""#), "{html}");
    assert!(html.contains(r#"value="Outro Chefe""#));
    assert!(html.contains(r#"name="security" value="true" checked"#));
    assert!(!html.contains(r#"name="admin" value="true" checked"#));
    assert!(!html.contains("typed-secret-password-2"));
}

#[tokio::test]
async fn an_own_password_change_without_wasm_says_it_was_changed() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let ana = app.signed_in("ana").await;
    let new = "a brand new passphrase";
    let (location, _) = post_plain(
        &app,
        &ana,
        "/account",
        "/api/session/change_password",
        &[("current", PASSWORD), ("new", new), ("confirm", new)],
    )
    .await;
    assert_eq!(location.trim_end_matches('?'), app.url("/account"));
    let html = follow(&ana, &location).await;
    assert!(html.contains("Sua senha foi trocada."), "the page says so");
    assert!(!html.contains(new));
    assert_eq!(app.login_status("ana", new).await, StatusCode::OK);
}

#[tokio::test]
async fn a_hostile_plain_post_keeps_little_and_anonymous_posts_keep_nothing() {
    let (app, _, ana) = provision_app().await;
    let huge = "x".repeat(1024 * 1024);
    let mut form = vec![("request[name]", huge.as_str())];
    let names: Vec<String> = (0..200).map(|i| format!("f{i}")).collect();
    form.extend(names.iter().map(|n| (n.as_str(), "v")));
    post_plain(
        &app,
        &ana,
        "/mailboxes",
        "/api/provision/mailbox_create",
        &form,
    )
    .await;
    let largest = web_session::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.data.len())
        .max()
        .unwrap();
    assert!(largest < 16 * 1024, "a session holds {largest} bytes");

    // Nobody signed in: no session is made to hold the flash.
    let before = web_session::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .len();
    let res = app
        .client()
        .post(app.url("/api/provision/mailbox_create"))
        .header("Accept", BROWSER_ACCEPT)
        .header("Referer", app.url("/mailboxes"))
        .form(&[("request[address]", "x@exemplo.com.br")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(res.headers().get("set-cookie").is_none());
    let after = web_session::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
}

#[tokio::test]
async fn with_wasm_the_answer_is_unchanged() {
    // The WASM client asks for JSON: no redirect, the answer in the body.
    let (app, _, ana) = provision_app().await;
    let done = crate::provision::accepted(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "wasm@exemplo.com.br")],
    )
    .await;
    assert!(done.secret.is_some());
    let html = follow(&ana, &app.url("/mailboxes")).await;
    assert!(shown_password(&html).is_none(), "nothing kept for the page");
}

#[tokio::test]
async fn a_refused_mailbox_edit_comes_back_with_what_was_typed_not_the_stored_values() {
    let (app, _, ana) = provision_app().await;
    let address = "rita@exemplo.com.br";
    crate::provision::accepted(
        &app,
        &ana,
        "mailbox_create",
        &[("address", address), ("name", "Rita Lee")],
    )
    .await;
    let page = format!("/mailboxes/{address}");
    let (location, _) = post_plain(
        &app,
        &ana,
        &page,
        "/api/provision/mailbox_update",
        &[
            ("request[address]", address),
            ("request[name]", "Rita Lee Jones"),
            ("request[quota_mb]", "muito"),
        ],
    )
    .await;
    let html = follow(&ana, &location).await;
    assert!(html.contains(r#"value="Rita Lee Jones""#), "the typed name");
    assert!(html.contains(r#"value="muito""#), "the typed quota");
    assert!(html.contains(r#"data-field="quota_mb""#), "its message");
    // Once: the next load shows the stored values.
    let again = follow(&ana, &app.url(&page)).await;
    assert!(again.contains(r#"value="Rita Lee""#) && !again.contains(r#"value="muito""#));
}

#[tokio::test]
async fn ten_parallel_plain_posts_leave_one_outcome() {
    let (app, _, ana) = provision_app().await;
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..10 {
        let req = ana
            .post(app.url("/api/provision/mailbox_create"))
            .header("Accept", BROWSER_ACCEPT)
            .header("Referer", app.url("/mailboxes"))
            .form(&[("request[address]", format!("p{i}@exemplo.com.br"))]);
        posts.spawn(async move { req.send().await.unwrap().status() });
    }
    // Every answer is the redirect back (the domain's limit refuses some).
    let statuses = posts.join_all().await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::FOUND),
        "{statuses:?}"
    );
    let html = follow(&ana, &app.url("/mailboxes")).await;
    let passwords = html.matches("data-testid=\"one-time-password\"").count();
    let errors = html.matches("class=\"notice error\"").count();
    assert_eq!(passwords + errors, 1, "one outcome: the last answer's");
}

#[tokio::test]
async fn signing_out_without_wasm_leaves_no_session_behind() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let ana = app.signed_in("ana").await;
    let count = || async {
        web_session::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(count().await, 1);
    let (location, _) = post_plain(&app, &ana, "/", "/api/session/logout", &[]).await;
    assert!(location.ends_with("/login"), "{location}");
    assert_eq!(count().await, 0, "the flash did not bring the session back");
    assert_eq!(app.whoami(&ana).await, None);
}
