//! Plain form posts (no WASM yet, or no JavaScript): their outcome survives
//! the redirect back to the form's page without travelling in a URL.
//!
//! A form posted by the browser itself (`Accept: text/html`, form-encoded)
//! reaches a server function, which answers with a redirect to the page it
//! came from (its `Referer`; an error is added to that URL by Leptos as
//! `__err`). [`layer`] keeps what the page needs in the poster's session as
//! one [`Flash`]: the server function's answer (a generated password
//! included) and, when it refused, what was typed (never a password, at
//! most [`MAX_FIELDS`] fields of [`MAX_VALUE_BYTES`] each). The redirect's
//! body, which held the answer, is dropped. The next page load of that
//! session takes the flash out of the session (so it shows once); only
//! that same page, within [`MAX_AGE_SECS`], gets it ([`for_this_page`]),
//! and builds itself with it (`PlainPost` in `components::request_form`).
//! A request without a stored session (nobody signed in, or just signed
//! out) keeps nothing, so anonymous posts cannot fill the session store.

use crate::components::request_form::Flash;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

/// The session key of the flash.
const KEY: &str = "flash";
/// At most this many typed fields are kept.
pub const MAX_FIELDS: usize = 16;
/// A typed value is cut to this many bytes.
pub const MAX_VALUE_BYTES: usize = 512;
/// A longer field name is not kept.
const MAX_NAME_BYTES: usize = 64;
/// A longer answer is not kept (the page then shows nothing of it).
pub const MAX_OUTCOME_BYTES: usize = 8 * 1024;
/// A longer page path is not kept.
const MAX_PAGE_BYTES: usize = 2048;
/// A flash older than this is not shown.
pub const MAX_AGE_SECS: i64 = 300;
/// The largest request body read (the server function limit is 2 MB,
/// checked before this layer).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The flash taken for the page being rendered, in its request's extensions.
#[derive(Clone, Debug)]
struct ForThisPage(Flash);

/// The flash of the page being rendered, if the last plain form post of
/// this session came from it.
pub fn for_this_page() -> Option<Flash> {
    leptos::prelude::use_context::<http::request::Parts>()?
        .extensions
        .get::<ForThisPage>()
        .map(|f| f.0.clone())
}

/// The middleware (inside the session layer): keeps the flash of a plain
/// form post, and takes it out again when a page is loaded.
pub async fn layer(req: Request, next: Next) -> Response {
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return next.run(req).await;
    };
    if let Some(page) = plain_form_post(&req) {
        keep(session, page, req, next).await
    } else if is_page_load(&req) {
        take(session, req, next).await
    } else {
        next.run(req).await
    }
}

/// The form's page path, when `req` is a form the browser posted itself
/// to a server function.
fn plain_form_post(req: &Request) -> Option<String> {
    let path = req.uri().path();
    if req.method() != Method::POST || !path.starts_with("/api/") || path.starts_with("/api/v1/") {
        return None;
    }
    let headers = req.headers();
    let content_type = header_str(headers, header::CONTENT_TYPE.as_str());
    if !accepts_html(headers)
        || !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    {
        return None;
    }
    page_of(header_str(headers, header::REFERER.as_str()))
}

/// A browser loading a page.
fn is_page_load(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == Method::GET
        && accepts_html(req.headers())
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// As Leptos decides that a server function call is a plain form post.
fn accepts_html(headers: &HeaderMap) -> bool {
    header_str(headers, header::ACCEPT.as_str()).contains("text/html")
}

/// The path of a `Referer` URL (`http://host/a/b?x` → `/a/b`).
fn page_of(referer: &str) -> Option<String> {
    let rest = match referer.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => referer,
    };
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    (path.starts_with('/') && path.len() <= MAX_PAGE_BYTES).then(|| path.to_string())
}

async fn keep(session: Session, page: String, req: Request, next: Next) -> Response {
    let action = req.uri().path().to_string();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            "The request body could not be read.",
        )
            .into_response();
    };
    let typed = typed_fields(&bytes);
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if !res.status().is_redirection() {
        return res;
    }
    let ok = !res.headers().contains_key("serverfnerror");
    let (parts, body) = res.into_parts();
    // The body of the redirect is the answer (a generated password too);
    // the browser does not show it, and it need not cross the network.
    let outcome = to_bytes(body, MAX_OUTCOME_BYTES)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok());
    let mut res = Response::from_parts(parts, Body::empty());
    // Leptos leaves an empty query (`/mailboxes?`) where it took its error
    // parameters off the page's URL.
    if let Some(location) = res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        && let Some(clean) = location.strip_suffix('?')
        && let Ok(clean) = axum::http::HeaderValue::from_str(clean)
    {
        res.headers_mut().insert(header::LOCATION, clean);
    }
    // Loads the session; a request without a stored one keeps nothing.
    if session.get_value(KEY).await.is_err() || session.id().is_none() {
        return res;
    }
    let flash = Flash {
        action,
        page,
        at: chrono::Utc::now().timestamp(),
        ok,
        outcome,
        typed: if ok { Vec::new() } else { typed },
    };
    if let Err(e) = session.insert(KEY, &flash).await {
        tracing::warn!("the outcome of a plain form post was not kept: {e}");
    }
    res
}

async fn take(session: Session, mut req: Request, next: Next) -> Response {
    // Reading alone does not mark the session changed.
    if let Ok(Some(flash)) = session.get::<Flash>(KEY).await {
        let _ = session.remove_value(KEY).await;
        let fresh = (chrono::Utc::now().timestamp() - flash.at).abs() <= MAX_AGE_SECS;
        if fresh && flash.page == req.uri().path() {
            req.extensions_mut().insert(ForThisPage(flash));
        }
    }
    next.run(req).await
}

/// The fields of a form-encoded body worth refilling a form with: not a
/// password (nor another secret), at most [`MAX_FIELDS`], each value cut to
/// [`MAX_VALUE_BYTES`].
fn typed_fields(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut kv = pair.splitn(2, |&b| b == b'=');
            let name = decode(kv.next().unwrap_or_default(), MAX_NAME_BYTES + 1);
            let value = decode(kv.next().unwrap_or_default(), MAX_VALUE_BYTES);
            (name, value)
        })
        .filter(|(name, _)| name.len() <= MAX_NAME_BYTES && !is_secret(name))
        .take(MAX_FIELDS)
        .collect()
}

/// Whether a field named `name` holds a secret: a password (`password`,
/// `request[password]`), the *Your account* form's `current`, `new` and
/// `confirm`, or anything named a secret or token.
fn is_secret(name: &str) -> bool {
    let inner = name
        .rsplit('[')
        .next()
        .unwrap_or(name)
        .trim_end_matches(']')
        .to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|s| inner.contains(s))
        || matches!(inner.as_str(), "current" | "new" | "confirm")
}

/// A form-encoded name or value (`+` is a space, `%XX` a byte), decoded
/// from at most about `max` bytes and cut to at most `max` bytes of UTF-8.
fn decode(raw: &[u8], max: usize) -> String {
    let mut out = Vec::with_capacity(raw.len().min(max + 4));
    let mut i = 0;
    while i < raw.len() && out.len() < max + 4 {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => {
                match std::str::from_utf8(&raw[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    let text = String::from_utf8_lossy(&out);
    cut(&text, max).to_string()
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_other_secrets_are_never_kept() {
        let body =
            b"request%5Baddress%5D=ana%40exemplo.com.br&request%5Bpassword%5D=hunter2hunter2\
                     &password=x&current=a&new=b&confirm=c&api_token=t&request%5Bname%5D=Ana+Maria";
        assert_eq!(
            typed_fields(body),
            vec![
                (
                    "request[address]".to_string(),
                    "ana@exemplo.com.br".to_string()
                ),
                ("request[name]".to_string(), "Ana Maria".to_string()),
            ]
        );
    }

    #[test]
    fn a_hostile_form_is_cut_to_size() {
        let mut body = format!("name={}", "%C3%A9".repeat(2 * 1024 * 1024 / 6));
        for i in 0..100 {
            body.push_str(&format!("&f{i}=v"));
        }
        body.push_str(&format!("&{}=long-name", "n".repeat(100)));
        let typed = typed_fields(body.as_bytes());
        assert_eq!(typed.len(), MAX_FIELDS);
        assert_eq!(typed[0].0, "name");
        assert!(typed[0].1.len() <= MAX_VALUE_BYTES && typed[0].1.len() > MAX_VALUE_BYTES - 2);
        assert!(typed[0].1.chars().all(|c| c == 'é'));
        assert!(typed.iter().all(|(n, _)| n.len() <= MAX_NAME_BYTES));
    }

    #[test]
    fn broken_escapes_are_kept_as_typed() {
        assert_eq!(decode(b"100%", 64), "100%");
        assert_eq!(decode(b"a%zzb", 64), "a%zzb");
        assert_eq!(decode(b"%41%4", 64), "A%4");
        assert_eq!(decode(b"%FF", 64), "\u{fffd}");
    }

    #[test]
    fn the_page_is_the_referers_path() {
        assert_eq!(
            page_of("http://127.0.0.1:3000/mailboxes?q=ana#x").as_deref(),
            Some("/mailboxes")
        );
        assert_eq!(
            page_of("https://portal/mailboxes/ana%40exemplo.com.br").as_deref(),
            Some("/mailboxes/ana%40exemplo.com.br")
        );
        assert_eq!(page_of("http://portal").as_deref(), None);
        assert_eq!(page_of("").as_deref(), None);
        assert_eq!(page_of(&format!("http://p/{}", "a".repeat(3000))), None);
    }
}
