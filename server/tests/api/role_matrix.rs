//! Every server function, every HTTP route and every page, called as nobody
//! and as each role: each must answer exactly as the matrix below says. A
//! server function missing from the matrix fails the test, so a new one
//! cannot ship without its access being decided here.

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use app::model::Role;
use reqwest::{Client, StatusCode};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug)]
enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in staff member.
    SignedIn,
    /// Signed-in staff holding one of these roles.
    Roles(&'static [Role]),
}

use Access::*;
const ADMIN: &[Role] = &[Role::Admin];
const SECURITY: &[Role] = &[Role::Security, Role::Admin];
const SUPPORT: &[Role] = &[Role::Support, Role::Admin];
const CHARTS: &[Role] = &[Role::Manager, Role::Security, Role::Admin];

/// The ids a call needs, created before the matrix runs.
struct Fixture {
    target_id: String,
}

struct Endpoint {
    path: &'static str,
    access: Access,
    args: fn(&Fixture) -> Vec<(&'static str, String)>,
}

fn server_functions() -> Vec<Endpoint> {
    fn none(_: &Fixture) -> Vec<(&'static str, String)> {
        vec![]
    }
    vec![
        Endpoint {
            path: "/api/session/login",
            access: Public,
            args: |_| {
                vec![
                    ("username", "matrix-login".into()),
                    ("password", PASSWORD.into()),
                ]
            },
        },
        Endpoint {
            path: "/api/session/logout",
            access: Public,
            args: none,
        },
        Endpoint {
            path: "/api/session/whoami",
            access: Public,
            args: none,
        },
        Endpoint {
            path: "/api/session/set_language",
            access: SignedIn,
            // Not a language: authorized callers get 422, nothing changes.
            args: |_| vec![("language", "xx".into())],
        },
        Endpoint {
            path: "/api/session/change_password",
            access: SignedIn,
            // Wrong current password: authorized callers get 422, nothing changes.
            args: |_| {
                vec![
                    ("current", "not-the-password".into()),
                    ("new", "another-password-1".into()),
                    ("confirm", "another-password-1".into()),
                ]
            },
        },
        Endpoint {
            path: "/api/staff/list",
            access: Roles(ADMIN),
            args: none,
        },
        Endpoint {
            path: "/api/staff/create",
            access: Roles(ADMIN),
            // A duplicate: authorized callers get 409, nothing is created.
            args: |_| {
                vec![
                    ("username", "matrix-target".into()),
                    ("support", "true".into()),
                ]
            },
        },
        Endpoint {
            path: "/api/staff/set_roles",
            access: Roles(ADMIN),
            args: |f| vec![("id", f.target_id.clone()), ("support", "true".into())],
        },
        Endpoint {
            path: "/api/staff/set_active",
            access: Roles(ADMIN),
            args: |f| vec![("id", f.target_id.clone()), ("active", "true".into())],
        },
        Endpoint {
            path: "/api/staff/locks",
            access: Roles(ADMIN),
            args: none,
        },
        Endpoint {
            path: "/api/staff/clear_lock",
            access: Roles(ADMIN),
            // No such lock: allowed callers get 404, nothing changes.
            args: |_| vec![("key", "pair:192.0.2.1|nobody".into())],
        },
        Endpoint {
            path: "/api/staff/reset_password",
            access: Roles(ADMIN),
            args: |f| vec![("id", f.target_id.clone())],
        },
        Endpoint {
            path: "/api/audit/list",
            access: Roles(ADMIN),
            args: |_| vec![("query[actor]", "".into())],
        },
        Endpoint {
            path: "/api/mailflow/ingest_status",
            access: Roles(ADMIN),
            args: none,
        },
        Endpoint {
            path: "/api/defence/overview",
            access: Roles(SECURITY),
            args: none,
        },
        // No such proposal or block: authorized callers are told so (a
        // skip, 404 or 409); nothing changes.
        Endpoint {
            path: "/api/defence/approve",
            access: Roles(SECURITY),
            args: |_| vec![("ids", "999999".into()), ("reason", "matrix".into())],
        },
        Endpoint {
            path: "/api/defence/reject",
            access: Roles(SECURITY),
            args: |_| {
                vec![
                    ("ids", "999999".into()),
                    ("reason", "matrix".into()),
                    ("suppress_hours", "24".into()),
                ]
            },
        },
        Endpoint {
            path: "/api/unclassified/list",
            access: Roles(SECURITY),
            args: |_| vec![("page", "0".into())],
        },
        Endpoint {
            path: "/api/unclassified/preview",
            access: Roles(SECURITY),
            args: |_| vec![("class", "matrix".into()), ("pattern", "x".into())],
        },
        // The first authorized caller saves it; the others get 409.
        Endpoint {
            path: "/api/unclassified/save",
            access: Roles(SECURITY),
            args: |_| vec![("class", "matrix".into()), ("pattern", "x".into())],
        },
        Endpoint {
            path: "/api/defence/lift",
            access: Roles(SECURITY),
            args: |_| vec![("id", "999999".into()), ("reason", "matrix".into())],
        },
        Endpoint {
            path: "/api/defence/extend",
            access: Roles(SECURITY),
            args: |_| vec![("id", "999999".into()), ("minutes", "60".into())],
        },
        Endpoint {
            path: "/api/defence/settings",
            access: Roles(SECURITY),
            args: none,
        },
        Endpoint {
            path: "/api/defence/save_policy",
            access: Roles(SECURITY),
            // No such policy: authorized callers get 404.
            args: |_| {
                vec![
                    ("id", "999999".into()),
                    ("window_minutes", "10".into()),
                    ("threshold", "5".into()),
                    ("block_minutes", "60".into()),
                ]
            },
        },
        Endpoint {
            path: "/api/defence/what_if",
            access: Roles(SECURITY),
            // Days out of range: authorized callers get 422.
            args: |_| {
                let edit = [
                    ("id", "1"),
                    ("window_minutes", "60"),
                    ("threshold", "1"),
                    ("days", "90"),
                ];
                edit.map(|(k, v)| (k, v.to_string())).into()
            },
        },
        Endpoint {
            path: "/api/defence/allow_add",
            access: Roles(SECURITY),
            // Not an address: authorized callers get 422.
            args: |_| vec![("subject", "ip".into()), ("target", "nope".into())],
        },
        Endpoint {
            path: "/api/defence/allow_remove",
            access: Roles(SECURITY),
            args: |_| vec![("id", "999999".into())],
        },
        Endpoint {
            path: "/api/defence/alerts",
            access: Roles(SECURITY),
            args: none,
        },
        Endpoint {
            path: "/api/defence/details",
            access: Roles(SECURITY),
            args: |_| vec![("id", "999999".into()), ("list", "ips".into())],
        },
        Endpoint {
            path: "/api/defence/history",
            access: Roles(SECURITY),
            args: |_| vec![("subject", "ip".into()), ("target", "192.0.2.1".into())],
        },
        Endpoint {
            path: "/api/defence/block",
            access: Roles(SECURITY),
            // Not an address: authorized callers get 422.
            args: |_| {
                vec![
                    ("subject", "ip".into()),
                    ("target", "nope".into()),
                    ("minutes", "60".into()),
                    ("reason", "matrix".into()),
                ]
            },
        },
        Endpoint {
            path: "/api/defence/blocks",
            access: Roles(SECURITY),
            args: none,
        },
        Endpoint {
            path: "/api/defence/alert_ack",
            access: Roles(SECURITY),
            args: |_| vec![("id", "999999".into())],
        },
        Endpoint {
            path: "/api/defence/never_block",
            access: Roles(SECURITY),
            args: none,
        },
        Endpoint {
            path: "/api/defence/never_block_add",
            access: Roles(ADMIN),
            // Not a network: authorized callers get 422.
            args: |_| vec![("network", "nope".into())],
        },
        Endpoint {
            path: "/api/defence/never_block_remove",
            access: Roles(ADMIN),
            args: |_| vec![("id", "999999".into())],
        },
        Endpoint {
            path: "/api/defence/mailbox_block",
            access: Roles(&[Role::Support, Role::Security, Role::Admin]),
            // No such mailbox: authorized callers get 404.
            args: |_| vec![("address", "nobody@example.com".into())],
        },
        Endpoint {
            path: "/api/provision/mailbox_create",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/mailbox_update",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/mailbox_suspend",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/mailbox_reactivate",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/mailbox_reset_password",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/mailbox_forward",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/mailbox_delete",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/mailbox_restore",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/alias_create",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/alias_update",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/alias_delete",
            access: Roles(SUPPORT),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/domain_create",
            access: Roles(ADMIN),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/domain_update",
            access: Roles(ADMIN),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/domain_alias_create",
            access: Roles(ADMIN),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/domain_delete",
            access: Roles(ADMIN),
            args: request_args,
        },
        Endpoint {
            path: "/api/provision/mailboxes",
            access: Roles(SUPPORT),
            args: none,
        },
        Endpoint {
            path: "/api/provision/mailbox",
            access: Roles(SUPPORT),
            args: |_| vec![("address", "nobody@matrix.example".into())],
        },
        Endpoint {
            path: "/api/provision/aliases",
            access: Roles(SUPPORT),
            args: none,
        },
        Endpoint {
            path: "/api/provision/domains",
            access: Roles(SUPPORT),
            args: none,
        },
        Endpoint {
            path: "/api/provision/import",
            access: Roles(SUPPORT),
            args: |_| vec![("csv", "kind,address\n".into()), ("dry_run", "true".into())],
        },
        Endpoint {
            path: "/api/provision/import_status",
            access: Roles(SUPPORT),
            args: |_| vec![("id", "0".into())],
        },
        Endpoint {
            path: "/api/trace/search",
            access: Roles(app::model::TRACE_ROLES),
            args: |_| vec![("q", "nobody@matrix.example".into())],
        },
        Endpoint {
            path: "/api/mailgraph/chart",
            access: Roles(CHARTS),
            args: |_| vec![("query[preset]", "day".into())],
        },
        Endpoint {
            path: "/api/mailgraph/filters",
            access: Roles(CHARTS),
            args: none,
        },
        Endpoint {
            path: "/api/mailgraph/report",
            access: Roles(CHARTS),
            args: |_| vec![("preset", "today".into())],
        },
        Endpoint {
            path: "/api/mailgraph/refused",
            access: Roles(CHARTS),
            args: |_| {
                vec![
                    ("from", "0".into()),
                    ("to", "3600".into()),
                    ("step", "60".into()),
                ]
            },
        },
        Endpoint {
            path: "/api/provision/tokens",
            access: Roles(ADMIN),
            args: none,
        },
        Endpoint {
            path: "/api/provision/token_issue",
            access: Roles(ADMIN),
            args: |_| vec![("name", "".into()), ("role", "support".into())],
        },
        Endpoint {
            path: "/api/provision/token_revoke",
            access: Roles(ADMIN),
            args: |_| vec![("id", "999999".into())],
        },
    ]
}

/// Every field any provisioning request needs, naming a mailbox, alias or
/// domain that does not exist: those allowed get 404 or 422, nothing changes.
fn request_args(_: &Fixture) -> Vec<(&'static str, String)> {
    [
        ("request[address]", "nobody@matrix.example"),
        ("request[name]", "matrix.example"),
        ("request[target]", "matrix.example"),
        ("request[targets]", "x@matrix.example"),
        ("request[reason]", "matrix"),
        ("request[quota_mb]", "x"),
        ("request[default_quota_mb]", "x"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// Pages, by path, with the roles that may open them (`None`: any signed-in user).
fn pages() -> Vec<(&'static str, Option<&'static [Role]>)> {
    use app::model::Section;
    let mut pages: Vec<(&'static str, Option<&'static [Role]>)> =
        vec![("/", None), ("/account", None)];
    for s in Section::ALL {
        pages.push((s.path(), Some(s.roles())));
    }
    pages.push(("/admin/staff", Some(Section::Admin.roles())));
    pages.push(("/admin/audit", Some(Section::Admin.roles())));
    pages.push(("/admin/ingest", Some(Section::Admin.roles())));
    pages.push(("/mailflow/detection", Some(Section::MailFlow.roles())));
    pages.push(("/mailflow/unclassified", Some(Section::MailFlow.roles())));
    pages.push(("/admin/tokens", Some(Section::Admin.roles())));
    pages.push(("/mailboxes/domains", Some(Section::Admin.roles())));
    pages.push(("/charts/report", Some(Section::Charts.roles())));
    pages.push(("/mailboxes/trace", Some(app::model::TRACE_ROLES)));
    for page in [
        "/mailboxes/aliases",
        "/mailboxes/import",
        // No such mailbox: 404 to those allowed in, 403 to the others.
        "/mailboxes/nobody@matrix.example",
    ] {
        pages.push((page, Some(Section::Mailboxes.roles())));
    }
    pages
}

/// Nobody, then one account per role.
async fn principals(app: &TestApp) -> Vec<(String, Option<Role>)> {
    let mut out = vec![("anonymous".to_string(), None)];
    for role in Role::ALL {
        let name = format!("matrix-{role}");
        app.add_staff(&name, &[role]).await;
        out.push((name, Some(role)));
    }
    out
}

async fn client_for(app: &TestApp, who: &(String, Option<Role>)) -> Client {
    match who.1 {
        None => app.client(),
        Some(_) => app.signed_in(&who.0).await,
    }
}

fn allowed(access: Access, role: Option<Role>) -> Result<(), StatusCode> {
    match (access, role) {
        (Public, _) => Ok(()),
        (_, None) => Err(StatusCode::UNAUTHORIZED),
        (SignedIn, Some(_)) => Ok(()),
        (Roles(rs), Some(r)) if rs.contains(&r) => Ok(()),
        (Roles(_), Some(_)) => Err(StatusCode::FORBIDDEN),
    }
}

#[tokio::test]
async fn every_server_function_is_in_the_matrix() {
    let registered: BTreeSet<String> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    let listed: BTreeSet<String> = server_functions()
        .iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(
        registered, listed,
        "server functions and the role matrix disagree: add each new function to server_functions() with its access"
    );
}

#[tokio::test]
async fn each_role_and_nobody_get_exactly_their_server_functions() {
    let app = spawn_app().await;
    app.add_staff("matrix-login", &[Role::Support]).await;
    let fixture = Fixture {
        target_id: app
            .add_staff("matrix-target", &[Role::Support])
            .await
            .to_string(),
    };
    let principals = principals(&app).await;
    let mut failures = Vec::new();
    for endpoint in server_functions() {
        for who in &principals {
            // A fresh session per call: logout must not spoil the next call.
            let client = client_for(&app, who).await;
            let args = (endpoint.args)(&fixture);
            let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let status = app.call(&client, endpoint.path, &form).await.status();
            let ok = match allowed(endpoint.access, who.1) {
                Ok(()) => {
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && status.as_u16() < 500
                }
                Err(expected) => status == expected,
            };
            if !ok {
                failures.push(format!(
                    "{} as {}: got {status}, expected {:?}",
                    endpoint.path,
                    who.0,
                    allowed(endpoint.access, who.1)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "role matrix violations:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn each_role_and_nobody_get_exactly_their_pages() {
    let app = spawn_app().await;
    let principals = principals(&app).await;
    let mut failures = Vec::new();
    for (path, roles) in pages() {
        for who in &principals {
            let client = client_for(&app, who).await;
            let res = client
                .get(app.url(path))
                .header("Accept", "text/html")
                .send()
                .await
                .unwrap();
            let status = res.status();
            let location = res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let allowed = match path.ends_with("@matrix.example") {
                true => StatusCode::NOT_FOUND,
                false => StatusCode::OK,
            };
            let ok = match (who.1, roles) {
                (None, _) => status == StatusCode::FOUND && location.starts_with("/login?next="),
                (Some(_), None) => status == allowed,
                (Some(r), Some(rs)) if rs.contains(&r) => status == allowed,
                (Some(_), Some(_)) => status == StatusCode::FORBIDDEN,
            };
            if !ok {
                failures.push(format!("GET {path} as {}: {status} {location}", who.0));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "page access violations:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn public_routes_answer_everyone() {
    let app = spawn_app().await;
    for path in ["/healthz", "/login"] {
        let res = app.client().get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}
