//! What several tests of this binary do alike against the REST API: an
//! admin issues a token through the portal's token form, and a script
//! reads with it. The tests that use them say what they check.

use crate::helpers::TestApp;
use reqwest::{Client, Response};
use serde_json::Value;

/// The token the token form gives `by` for `fields` (name, role and any
/// days), shown this once.
pub async fn issue_token(app: &TestApp, by: &Client, fields: &[(&str, &str)]) -> String {
    let res = app.call(by, "/api/provision/token_issue", fields).await;
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `GET path` as a script with `token` sends it, through `http`.
pub async fn get_with_token(http: &Client, app: &TestApp, token: &str, path: &str) -> Response {
    http.get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}
