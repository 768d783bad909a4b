//! The HTTP side: the axum router with Leptos pages and server functions,
//! database-backed sessions, cross-site request refusal and error statuses.

use crate::config::Config;
use app::server::sessions::DbSessionStore;
use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use sea_orm::ConnectionTrait;
use std::sync::{Arc, LazyLock};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// The pages' routes, listed once per process. Listing them renders the
/// app with resource loading switched off process-wide, so a page being
/// rendered for a request at that moment would wait forever for its data
/// (leptos issue #4773). Listing once, before any router exists, keeps that
/// window closed: it matters to the tests, which start many portals in one
/// process.
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));

/// The complete portal, ready to serve.
pub fn router(state: AppState, cfg: &Config) -> Router {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("carteiro_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(state.auth.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
            state.auth.idle_timeout_minutes as i64,
        )));
    let origins = Arc::new(cfg.server.allowed_origins.clone());
    let routes = ROUTES.clone();
    let fallback_state = state.clone();

    Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::rest::routes())
        .merge(crate::mailgraph::routes())
        .leptos_routes_with_context(&state, routes, || {}, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || provide_context(fallback_state.clone()), shell
        ))
        .layer(middleware::from_fn(server_fn_error_status))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(origins, refuse_cross_site))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Public. `ok` when the database answers (for load balancers and probes).
async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => "ok".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Refuses state-changing requests that a browser sent on behalf of another
/// site. Browsers label such requests with `Sec-Fetch-Site` and `Origin`;
/// requests without either (command-line clients) carry no ambient
/// credentials a third site could abuse, and pass.
async fn refuse_cross_site(
    State(allowed): State<Arc<Vec<String>>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    match cross_site_reason(req.headers(), &allowed) {
        None => next.run(req).await,
        Some(reason) => {
            tracing::warn!(%reason, method = %req.method(), path = %req.uri().path(), "refused cross-site request");
            (
                StatusCode::FORBIDDEN,
                format!("Cross-site request refused: {reason}."),
            )
                .into_response()
        }
    }
}

fn cross_site_reason(headers: &HeaderMap, allowed: &[String]) -> Option<String> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = value("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return Some(format!("Sec-Fetch-Site is {site}"));
    }
    let origin = value("origin")?;
    if allowed.iter().any(|a| a.trim_end_matches('/') == origin) {
        return None;
    }
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    let host = value(header::HOST.as_str());
    match (origin_host, host) {
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => None,
        _ => Some(format!("Origin {origin} is not this site")),
    }
}

/// Server functions answer every error with status 500; this gives each the
/// status its [`app::errors::AppError`] variant stands for (401, 403, 422…).
/// A plain HTML form post (no JavaScript) instead gets a redirect back to
/// its page with the error in the URL; that redirect is left as it is.
async fn server_fn_error_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 1 << 20).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "error body too large").into_response();
    };
    if let Ok(err) = serde_json::from_slice::<app::errors::AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::cross_site_reason;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_origin_and_non_browser_requests_pass() {
        let none: &[String] = &[];
        assert_eq!(
            cross_site_reason(&headers(&[("host", "portal:3000")]), none),
            None
        );
        assert_eq!(
            cross_site_reason(
                &headers(&[
                    ("host", "portal:3000"),
                    ("origin", "http://portal:3000"),
                    ("sec-fetch-site", "same-origin")
                ]),
                none
            ),
            None
        );
    }

    #[test]
    fn other_sites_are_refused_unless_allowed() {
        let none: &[String] = &[];
        assert!(
            cross_site_reason(
                &headers(&[("host", "portal:3000"), ("origin", "http://evil.example")]),
                none
            )
            .is_some()
        );
        assert!(
            cross_site_reason(
                &headers(&[("host", "portal:3000"), ("sec-fetch-site", "cross-site")]),
                none
            )
            .is_some()
        );
        assert!(
            cross_site_reason(
                &headers(&[("host", "portal:3000"), ("sec-fetch-site", "same-site")]),
                none
            )
            .is_some()
        );
        assert!(
            cross_site_reason(
                &headers(&[("host", "portal:3000"), ("origin", "null")]),
                none
            )
            .is_some()
        );
        let proxy = vec!["https://carteiro.example.net".to_string()];
        assert_eq!(
            cross_site_reason(
                &headers(&[
                    ("host", "10.0.0.5:3000"),
                    ("origin", "https://carteiro.example.net")
                ]),
                &proxy
            ),
            None
        );
    }
}
