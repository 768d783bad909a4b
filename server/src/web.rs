//! The HTTP side: the axum router with Leptos pages and server functions,
//! database-backed sessions, cross-site request refusal, error statuses,
//! security headers, and the server loop with its limits.
//!
//! Limits, outermost first (settings in `[server]`):
//! - [`serve`]: at most `max_connections` connections are served at once
//!   (more wait in the kernel's queue); a client must send a request's
//!   headers within `header_read_timeout_secs`.
//! - [`router`]'s layers: every request is answered within
//!   `request_timeout_secs` (else 503); a request body may pause at most
//!   `body_read_timeout_secs` (else 408); a server function's body is at
//!   most [`SERVER_FN_BODY_LIMIT`] (else 413) and, when it is text, valid
//!   UTF-8 (else 400).

use crate::config::{Config, ServerConfig};
use app::errors::AppError;
use app::server::sessions::DbSessionStore;
use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{AxumRouteListing, LeptosRoutes, ResponseOptions, generate_route_list};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tower::ServiceExt;
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

/// The largest server function request body (axum's default body limit,
/// which Leptos applies too; the REST import has its own).
pub const SERVER_FN_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The per-request limits [`router`] applies.
#[derive(Clone, Copy, Debug)]
struct RequestLimits {
    total: Duration,
    body_pause: Duration,
}

/// What the `Origin` of a state-changing request may be.
#[derive(Clone, Debug)]
struct Origins {
    /// `server.allowed_origins`, without trailing slashes.
    allowed: Vec<String>,
    /// The scheme the portal's own pages are served with: `https` when
    /// `auth.secure_cookies` says a TLS proxy is in front, else `http`.
    scheme: &'static str,
}

/// The complete portal, ready to serve: `/healthz` and `/readyz` (see
/// [`crate::health`], outside the session, cross-site and limit layers, so
/// a probe never touches the session store), and everything else.
pub fn router(state: AppState, cfg: &Config, probe: crate::health::Probe) -> Router {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("carteiro_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(state.auth.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
            state.auth.idle_timeout_minutes as i64,
        )));
    let origins = Arc::new(Origins {
        allowed: cfg
            .server
            .allowed_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_string())
            .collect(),
        scheme: if cfg.auth.secure_cookies {
            "https"
        } else {
            "http"
        },
    });
    let limits = RequestLimits {
        total: Duration::from_secs(cfg.server.request_timeout_secs.max(1)),
        body_pause: Duration::from_secs(cfg.server.body_read_timeout_secs.max(1)),
    };
    let routes = ROUTES.clone();
    let fallback_state = state.clone();

    let portal = Router::new()
        .merge(crate::rest::routes())
        .merge(crate::mailgraph::routes())
        .leptos_routes_with_context(&state, routes, page_csp, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || {
                provide_context(fallback_state.clone());
                page_csp();
            },
            shell,
        ))
        .layer(middleware::from_fn(server_fn_error_status))
        .layer(middleware::from_fn(app::server::flash::layer))
        .layer(sessions)
        .layer(middleware::from_fn(check_server_fn_body))
        .layer(middleware::from_fn_with_state(origins, refuse_cross_site))
        .layer(middleware::from_fn_with_state(limits, bound_request))
        // Outside the limits, so that their refusals speak the caller's
        // language too.
        .layer(middleware::from_fn_with_state(
            state.locale.default_lang,
            app::server::locale::scope_request_lang,
        ))
        .with_state(state);
    Router::new()
        .route("/healthz", get(crate::health::healthz))
        .route("/readyz", get(crate::health::readyz))
        .with_state(Arc::new(probe))
        .merge(portal)
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(security_headers))
}

/// Limits of the connections themselves (the per-request ones are layers
/// of [`router`]).
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl ConnLimits {
    pub fn from_config(cfg: &ServerConfig) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(cfg.header_read_timeout_secs.max(1)),
            max_connections: cfg.max_connections.max(1),
        }
    }
}

/// Serves `app` on `listener` (HTTP/1.1) until `shutdown` completes, then
/// lets the requests in progress finish. Handlers see the client's address
/// as `ConnectInfo<SocketAddr>`.
///
/// At most `limits.max_connections` connections are served at once: the
/// next one is accepted when one ends, and meanwhile waits in the kernel's
/// queue. A connection that does not send a request's headers within
/// `limits.header_read_timeout` (from its start, or from the previous
/// answer) is closed, so half-sent or silent connections free their place.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    app.clone().oneshot(req.map(Body::new))
                });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout);
            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, "connection ended: {e}");
                    }
                    return drop(slot);
                }
                _ = stop.changed() => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(stop_rx);
    // Tell each connection to finish its request and close, then wait until
    // they all have (each holds a receiver until it ends).
    let _ = stop_tx.send(());
    stop_tx.closed().await;
    Ok(())
}

/// Answers a request still running after `limits.total` with 503, and
/// answers 408 when its body pauses longer than `limits.body_pause`.
async fn bound_request(State(limits): State<RequestLimits>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let req = req.map(|body| Body::new(PausingBody::new(body, limits.body_pause)));
    match tokio::time::timeout(limits.total, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(%path, "request stopped after {} s", limits.total.as_secs());
            error_response(
                &path,
                StatusCode::SERVICE_UNAVAILABLE,
                texts().timed_out(limits.total.as_secs()),
            )
        }
    }
}

/// An error in the form the caller of `path` reads: a server function's
/// [`AppError`] JSON, the REST API's `{"error": …}`, or plain text.
/// The refusals' texts in the caller's language.
fn texts() -> app::i18n::common::LimitTexts {
    app::i18n::common::LimitTexts(app::server::locale::request_lang())
}

fn error_response(path: &str, status: StatusCode, message: String) -> Response {
    if path.starts_with("/api/v1/") {
        let body = serde_json::json!({ "error": message });
        (status, axum::Json(body)).into_response()
    } else if path.starts_with("/api/") {
        let body = serde_json::to_string(&AppError::Validation(message)).unwrap_or_default();
        (
            status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::HeaderName::from_static("serverfnerror"), "1"),
            ],
            body,
        )
            .into_response()
    } else {
        (status, message).into_response()
    }
}

/// The request body stopped arriving for longer than allowed.
#[derive(Debug, thiserror::Error)]
#[error("the client paused sending the request body for too long")]
struct BodyPaused;

/// A request body that fails with [`BodyPaused`] when its next piece takes
/// longer than `pause` to arrive.
struct PausingBody {
    body: Body,
    pause: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl PausingBody {
    fn new(body: Body, pause: Duration) -> Self {
        Self {
            body,
            pause,
            timer: None,
        }
    }
}

impl http_body::Body for PausingBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            this.timer = None;
            return Poll::Ready(frame);
        }
        let pause = this.pause;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(pause)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyPaused)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Reads a server function's body before Leptos does, so that a body over
/// [`SERVER_FN_BODY_LIMIT`] is answered 413, text that is not UTF-8 400,
/// and a stalled body 408, each with a message (Leptos answers all of them
/// 500). Multipart bodies (file uploads) keep their own limits.
async fn check_server_fn_body(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() != Method::POST || !path.starts_with("/api/") || path.starts_with("/api/v1/") {
        return next.run(req).await;
    }
    let path = path.to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/") {
        return next.run(req).await;
    }
    let too_large = || {
        error_response(
            &path,
            StatusCode::PAYLOAD_TOO_LARGE,
            texts().too_large(SERVER_FN_BODY_LIMIT / (1024 * 1024)),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > SERVER_FN_BODY_LIMIT as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, SERVER_FN_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(e) if chain_has::<BodyPaused>(&e) => {
            return error_response(
                &path,
                StatusCode::REQUEST_TIMEOUT,
                texts().body_stalled().into(),
            );
        }
        Err(e) if chain_has::<http_body_util::LengthLimitError>(&e) => return too_large(),
        Err(e) => {
            tracing::debug!(%path, "unreadable request body: {e}");
            return error_response(
                &path,
                StatusCode::BAD_REQUEST,
                texts().body_unreadable().into(),
            );
        }
    };
    let text = content_type.is_empty()
        || content_type.starts_with("application/x-www-form-urlencoded")
        || content_type.starts_with("application/json")
        || content_type.starts_with("text/");
    if text && std::str::from_utf8(&bytes).is_err() {
        return error_response(&path, StatusCode::BAD_REQUEST, texts().not_utf8().into());
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether `T` is anywhere in the chain of `err`'s sources.
fn chain_has<T: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<T>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The Content-Security-Policy of every response. Pages get the nonce
/// Leptos puts on its own inline scripts (hydration, resource data); no
/// other inline script runs. Styles may be inline (`style=` attributes of
/// the chart). `wasm-unsafe-eval` lets the browser compile the WASM.
fn content_security_policy(nonce: Option<&str>) -> String {
    let script = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_string(),
    };
    // `cargo leptos watch` reloads pages through a WebSocket on its own port.
    let connect = if std::env::var_os("LEPTOS_WATCH").is_some() {
        "connect-src 'self' ws: wss:"
    } else {
        "connect-src 'self'"
    };
    format!(
        "default-src 'self'; {script}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Runs in the context of each rendered page: its CSP names the nonce of
/// the page's inline scripts.
fn page_csp() {
    if let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
        && let Ok(value) = HeaderValue::from_str(&content_security_policy(Some(&nonce)))
    {
        res.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// `Content-Security-Policy` (unless the page set its own, with its nonce),
/// `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` on
/// every response.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(value) = HeaderValue::from_str(&content_security_policy(None))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Refuses state-changing requests that a browser sent on behalf of another
/// site. Browsers label such requests with `Sec-Fetch-Site` and `Origin`;
/// requests without either (command-line clients) carry no ambient
/// credentials a third site could abuse, and pass.
async fn refuse_cross_site(
    State(origins): State<Arc<Origins>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    match cross_site_reason(req.headers(), &origins) {
        None => next.run(req).await,
        Some(reason) => {
            tracing::warn!(%reason, method = %req.method(), path = %req.uri().path(), "refused cross-site request");
            (StatusCode::FORBIDDEN, texts().cross_site(&reason)).into_response()
        }
    }
}

/// Why a state-changing request comes from another site, if it does. The
/// `Origin` must be one of `server.allowed_origins`, or this portal's own:
/// the request's `Host` with the portal's scheme (`https` with
/// `auth.secure_cookies`, else `http`); an `https` page may not post to an
/// `http` portal of the same host, nor the other way round.
fn cross_site_reason(headers: &HeaderMap, origins: &Origins) -> Option<String> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = value("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return Some(format!("Sec-Fetch-Site is {site}"));
    }
    let origin = value("origin")?;
    if origins.allowed.iter().any(|a| a == origin) {
        return None;
    }
    let host = value(header::HOST.as_str());
    match (origin.split_once("://"), host) {
        (Some((scheme, o)), Some(h))
            if o.eq_ignore_ascii_case(h) && scheme.eq_ignore_ascii_case(origins.scheme) =>
        {
            None
        }
        (Some((scheme, o)), Some(h)) if o.eq_ignore_ascii_case(h) => Some(format!(
            "Origin {origin} is {scheme}, this portal is {} (behind a TLS proxy set auth.secure_cookies or server.allowed_origins)",
            origins.scheme
        )),
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
    use super::{Origins, cross_site_reason};
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn plain() -> Origins {
        Origins {
            allowed: Vec::new(),
            scheme: "http",
        }
    }

    #[test]
    fn same_origin_and_non_browser_requests_pass() {
        assert_eq!(
            cross_site_reason(&headers(&[("host", "portal:3000")]), &plain()),
            None
        );
        assert_eq!(
            cross_site_reason(
                &headers(&[
                    ("host", "portal:3000"),
                    ("origin", "http://portal:3000"),
                    ("sec-fetch-site", "same-origin")
                ]),
                &plain()
            ),
            None
        );
    }

    #[test]
    fn other_sites_are_refused_unless_allowed() {
        let refused = |pairs: &[(&'static str, &'static str)]| {
            cross_site_reason(&headers(pairs), &plain()).is_some()
        };
        assert!(refused(&[
            ("host", "portal:3000"),
            ("origin", "http://evil.example")
        ]));
        assert!(refused(&[
            ("host", "portal:3000"),
            ("sec-fetch-site", "cross-site")
        ]));
        assert!(refused(&[
            ("host", "portal:3000"),
            ("sec-fetch-site", "same-site")
        ]));
        assert!(refused(&[("host", "portal:3000"), ("origin", "null")]));
        let proxy = Origins {
            allowed: vec!["https://carteiro.example.net".to_string()],
            scheme: "http",
        };
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

    #[test]
    fn the_origin_scheme_must_be_the_portals() {
        // A page of the same host over another scheme is another origin.
        let reason = cross_site_reason(
            &headers(&[("host", "portal:3000"), ("origin", "https://portal:3000")]),
            &plain(),
        );
        assert!(
            reason.as_deref().is_some_and(|r| r.contains("https")),
            "{reason:?}"
        );
        assert!(
            cross_site_reason(
                &headers(&[("host", "portal:3000"), ("origin", "ftp://portal:3000")]),
                &plain()
            )
            .is_some()
        );
        // Behind a TLS proxy (secure cookies) the pages are https, and a
        // plain-http page of the same host is refused.
        let tls = Origins {
            allowed: Vec::new(),
            scheme: "https",
        };
        assert_eq!(
            cross_site_reason(
                &headers(&[("host", "portal"), ("origin", "https://portal")]),
                &tls
            ),
            None
        );
        assert!(
            cross_site_reason(
                &headers(&[("host", "portal"), ("origin", "http://portal")]),
                &tls
            )
            .is_some()
        );
    }

    #[test]
    fn the_csp_allows_only_nonced_inline_scripts_and_no_framing() {
        let csp = super::content_security_policy(Some("abc123"));
        assert!(
            csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"),
            "{csp}"
        );
        assert!(
            !csp.split(';')
                .any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline")),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("object-src 'none'"), "{csp}");
    }
}
