use app::model::{Role, Roles};
use app::server::audit::Actor;
use app::server::staff::{self, NewStaff};
use app::state::AppState;
use reqwest::{Client, Response};
use server::config::Config;
use server::start::Running;

/// A portal started as `carteiro serve` starts it, on its own database.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    /// Dropping it stops the portal, so it lives as long as the test's app.
    _running: Running,
    _dir: tempfile::TempDir,
}

/// A password every test account gets.
pub const PASSWORD: &str = "test-password-123";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the portal with the test configuration, adjusted by `tweak`.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = crate::common::test_config(&dir).await;
    cfg.database.max_connections = 5;
    tweak(&mut cfg);
    let running = server::start::start(&cfg, server::start::Options::default())
        .await
        .expect("the portal starts");
    TestApp {
        base: format!("http://{}", running.http_addr.expect("the portal runs")),
        state: running.state.clone(),
        _running: running,
        _dir: dir,
    }
}

impl TestApp {
    /// A browser-like client: keeps cookies, does not follow redirects,
    /// gives up on an answer after a minute.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // A stalled response fails its test with the URL, rather than
            // holding the whole suite until CI gives up.
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates an account directly (as the command line would); returns its id.
    pub async fn add_staff(&self, username: &str, roles: &[Role]) -> i32 {
        staff::create(
            &self.state.db,
            &Actor::cli(),
            NewStaff {
                username: username.into(),
                display_name: String::new(),
                roles: Roles::new(roles.iter().copied()),
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
        staff::list(&self.state.db)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.username == username)
            .unwrap()
            .id
    }

    /// A page's server-rendered HTML, as `client` gets it.
    pub async fn page(&self, client: &Client, path: &str) -> String {
        client
            .get(self.url(path))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Calls a server function the way the WASM client does (form-encoded POST).
    pub async fn call(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(path))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, client: &Client, username: &str, password: &str) -> Response {
        self.call(
            client,
            "/api/session/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// The status of a sign-in attempt from a fresh client.
    pub async fn login_status(&self, username: &str, password: &str) -> reqwest::StatusCode {
        self.login(&self.client(), username, password)
            .await
            .status()
    }

    /// A new client signed in as `username`.
    pub async fn signed_in(&self, username: &str) -> Client {
        let client = self.client();
        let res = self.login(&client, username, PASSWORD).await;
        assert!(
            res.status().is_success(),
            "login as {username}: {}",
            res.status()
        );
        client
    }

    /// An admin `boss` and a support member `ana`, both signed in:
    /// (boss's client, ana's client, ana's id).
    pub async fn boss_and_ana(&self) -> (Client, Client, i32) {
        self.add_staff("boss", &[Role::Admin]).await;
        let ana_id = self.add_staff("ana", &[Role::Support]).await;
        (
            self.signed_in("boss").await,
            self.signed_in("ana").await,
            ana_id,
        )
    }

    /// The username the client is signed in as, if any.
    pub async fn whoami(&self, client: &Client) -> Option<String> {
        let res = self.call(client, "/api/session/whoami", &[]).await;
        assert!(res.status().is_success());
        let v: serde_json::Value = res.json().await.unwrap();
        v.get("username").and_then(|u| u.as_str()).map(String::from)
    }
}

/// The error variant name of a server function error body, e.g. "Forbidden".
pub async fn error_kind(res: Response) -> String {
    let v: serde_json::Value = res.json().await.unwrap();
    match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
        other => other.to_string(),
    }
}
