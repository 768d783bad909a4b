//! The JSON REST API under `/api/v1/` for scripts and other systems: the
//! same provisioning requests as the portal's forms, authenticated by API
//! tokens (`Authorization: Bearer ct_...`) that admins issue with one role.
//! `GET /api/v1/openapi.json` describes it (generated, never hand-edited).
//!
//! Also the portal's CSV upload (`/api/provision/import_upload`), a plain
//! multipart route authenticated by the staff session (a post without
//! WASM is sent back to the page), and the one download of an import's
//! generated passwords (`/api/provision/import_passwords/{id}`).

use app::errors::AppError;
use app::i18n::Lang;
use app::model::{Role, Roles};
use app::pages::mailbox_import::ImportTexts;
use app::server::audit::Actor;
use app::server::provision::{self, SUPPORT, lookup, openapi, search, tokens};
use app::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/api/v1/requests/{kind}", post(run_request))
        .route("/api/v1/mailboxes", get(mailboxes))
        .route("/api/v1/mailboxes/{address}", get(mailbox))
        .route("/api/v1/aliases", get(aliases))
        .route("/api/v1/domains", get(domains))
        // A CSV file may be larger than axum's default 2 MB body limit.
        .route(
            "/api/v1/import",
            post(import).layer(DefaultBodyLimit::max(
                provision::csv_import::MAX_BYTES + (64 << 10),
            )),
        )
        .route("/api/v1/import/{id}", get(import_job))
        // The portal's CSV import page uploads its file here (multipart),
        // signed in like a server function.
        .route(
            UPLOAD_PATH,
            post(import_upload).layer(DefaultBodyLimit::max(
                provision::csv_import::MAX_BYTES + (64 << 10),
            )),
        )
        .route(&format!("{PASSWORDS_PATH}{{id}}"), post(import_passwords))
}

/// Where the CSV import page uploads its file.
pub const UPLOAD_PATH: &str = "/api/provision/import_upload";
/// Where the CSV import page downloads a job's generated passwords, once
/// (then the job's id).
pub const PASSWORDS_PATH: &str = "/api/provision/import_passwords/";

/// The caller's language, as the portal's pages get it (the language
/// cookie, `Accept-Language`, else `server.default_language`).
struct RequestLang(Lang);

impl FromRequestParts<AppState> for RequestLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        Ok(RequestLang(Lang::of_request(
            header(header::COOKIE),
            header(header::ACCEPT_LANGUAGE),
            state.locale.default_lang,
        )))
    }
}

/// An error as the API answers it: the HTTP status of the error, and
/// `{"error": message, "fields": [...]}`, in the caller's language (every
/// request runs in it: `app::server::locale::scope_request_lang`).
pub struct ApiError(AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let lang = app::server::locale::request_lang();
        let message = app::i18n::common::Common(lang).error(&self.0);
        let mut body = serde_json::json!({ "error": message });
        if let AppError::Fields(list) = &self.0 {
            body["fields"] = serde_json::to_value(list).unwrap_or_default();
        }
        let mut res = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Bearer".parse().expect("static header"),
            );
        }
        res
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The caller of an API route: a valid, unexpired, unrevoked token.
pub struct Caller {
    role: Role,
    actor: Actor,
}

impl Caller {
    pub(crate) fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden.into())
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(AppError::Unauthenticated)?;
        let addr = app::server::auth::client_addr_of(parts, &state.auth);
        match tokens::authenticate(&state.db, token, addr, chrono::Utc::now()).await? {
            Some((role, actor)) => Ok(Caller { role, actor }),
            None => {
                tracing::info!("API call with an unknown, expired or revoked token");
                Err(AppError::Unauthenticated.into())
            }
        }
    }
}

async fn run_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(kind): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<app::provision::RequestDone> {
    let ctx = state.provision_context();
    let roles = Roles::new([caller.role]);
    let request = provision::dispatch(&ctx, &roles, &kind, body).await?;
    Ok(Json(request.run(&state.db, &caller.actor, &ctx).await?))
}

#[derive(Deserialize)]
struct MailboxQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    status: String,
    after: Option<String>,
}

async fn mailboxes(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MailboxQuery>,
) -> ApiResult<app::provision::MailboxPage> {
    caller.require(SUPPORT)?;
    let s = search::MailboxSearch {
        q: q.q,
        by: search::parse_by(&q.by)?,
        domain: q.domain,
        status: q.status,
        after: q.after,
    };
    Ok(Json(search::mailboxes(&state.db, &s).await?))
}

async fn mailbox(
    State(state): State<AppState>,
    caller: Caller,
    Path(address): Path<String>,
) -> ApiResult<app::provision::MailboxView> {
    caller.require(SUPPORT)?;
    Ok(Json(lookup::mailbox_view_of(
        &lookup::mailbox(&state.db, &address).await?,
    )))
}

#[derive(Deserialize)]
struct AliasQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    domain: String,
    after: Option<String>,
}

async fn aliases(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AliasQuery>,
) -> ApiResult<app::provision::AliasPage> {
    caller.require(SUPPORT)?;
    Ok(Json(
        search::aliases(&state.db, &q.q, &q.domain, q.after.as_deref()).await?,
    ))
}

async fn domains(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Vec<app::provision::DomainView>> {
    caller.require(SUPPORT)?;
    Ok(Json(search::domains(&state.db, true).await?))
}

#[derive(Deserialize)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    /// Seconds to wait for the import to finish (at most 60).
    #[serde(default = "default_wait")]
    wait: u64,
}

fn default_wait() -> u64 {
    10
}

/// `POST /api/v1/import`: starts the import as a background job and waits
/// up to `wait` seconds (default 10) for it. Finished: `200` with every
/// row's result (`ImportOutcome`). Still running: `202 Accepted` with its
/// progress (`ImportJob`) and `Location: /api/v1/import/{id}` to poll.
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    RequestLang(lang): RequestLang,
    Query(q): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.require(SUPPORT)?;
    let mut ctx = state.provision_context();
    ctx.dry_run = q.dry_run;
    let roles = Roles::new([caller.role]);
    let upload = provision::csv_import::Upload {
        bytes: &body,
        lang,
        previewed: None,
        reveal: true,
    };
    let job = provision::csv_import::start_and_wait(
        &state.db,
        &caller.actor,
        &ctx,
        &roles,
        upload,
        std::time::Duration::from_secs(q.wait.min(60)),
    )
    .await?;
    Ok(match job.outcome {
        Some(outcome) => Json(outcome).into_response(),
        None if job.running() => (
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("/api/v1/import/{}", job.id))],
            Json(job),
        )
            .into_response(),
        None => {
            return Err(AppError::Validation(
                job.message
                    .unwrap_or_else(|| ImportTexts(lang).failed().into()),
            )
            .into());
        }
    })
}

/// `GET /api/v1/import/{id}`: an import's progress, and every row's result
/// once done.
async fn import_job(
    State(state): State<AppState>,
    caller: Caller,
    RequestLang(lang): RequestLang,
    Path(id): Path<i32>,
) -> ApiResult<app::provision::ImportJob> {
    caller.require(SUPPORT)?;
    Ok(Json(
        provision::csv_import::status(&state.db, id, &caller.actor, lang).await?,
    ))
}

/// The client's address as the audit log records it (the TCP peer, or
/// what a trusted proxy saw: `app::server::auth::client_addr_of`).
struct ClientAddr(Option<String>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(app::server::auth::client_addr_of(
            parts,
            &state.auth,
        )))
    }
}

/// The CSV import page's upload: `multipart/form-data` with the file in
/// `file` (or pasted text in `csv`), `dry_run` (`true`/`false`) and, for an
/// import, the `fingerprint` of its clean preview, from a signed-in support
/// member or admin (the session cookie, and the same cross-site refusal as
/// every server function). Answers like the server function `import_csv`:
/// an `ImportJob`, or an `AppError` as JSON, in the caller's language. A
/// file over the limit gets `413` with a message the page shows.
async fn import_upload(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    ClientAddr(addr): ClientAddr,
    RequestLang(lang): RequestLang,
    headers: axum::http::HeaderMap,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let mut pasted = None;
    let result = upload(
        &state,
        &session,
        addr,
        lang,
        multipart,
        wants_json,
        &mut pasted,
    )
    .await;
    if wants_json {
        return match result {
            Ok(job) => Json(job).into_response(),
            Err((status, e)) => (status, Json(e)).into_response(),
        };
    }
    // A plain form post (the page without WASM): back to the page, which
    // shows the job or the error, with the pasted text if it is short.
    let mut back = reqwest::Url::parse("http://portal/mailboxes/import").expect("a static URL");
    {
        let mut query = back.query_pairs_mut();
        match &result {
            Ok(job) => query.append_pair("job", &job.id.to_string()),
            Err((_, e)) => query.append_pair("error", &app::i18n::common::Common(lang).error(e)),
        };
        if let Some(text) = pasted.filter(|t| t.len() <= PASTED_BACK) {
            query.append_pair("csv", &text);
        }
    }
    let to = format!("{}?{}", back.path(), back.query().unwrap_or_default());
    axum::response::Redirect::to(&to).into_response()
}

/// The longest pasted text a plain form post gets back in the address.
const PASTED_BACK: usize = 4096;

fn status_of(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The signed-in staff member of a portal route outside the server
/// functions, if they have one of `roles`.
async fn portal_staff(
    state: &AppState,
    session: &tower_sessions::Session,
    addr: Option<String>,
    roles: &[Role],
) -> Result<app::server::auth::Staff, AppError> {
    let staff = app::server::auth::staff_of(session, &state.db, addr)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !staff.roles.intersects(roles) {
        return Err(AppError::Forbidden);
    }
    Ok(staff)
}

async fn upload(
    state: &AppState,
    session: &tower_sessions::Session,
    addr: Option<String>,
    lang: Lang,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
    reveal: bool,
    pasted: &mut Option<String>,
) -> Result<app::provision::ImportJob, (StatusCode, AppError)> {
    let t = ImportTexts(lang);
    let fail = |e: AppError| (status_of(&e), e);
    let staff = portal_staff(state, session, addr, SUPPORT)
        .await
        .map_err(fail)?;
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            AppError::field(
                "csv",
                t.file_too_large(provision::csv_import::MAX_BYTES >> 20),
            ),
        )
    };
    let unreadable = |e: String| fail(AppError::field("csv", t.upload_unreadable(&e)));
    let mut multipart = multipart.map_err(|e| unreadable(e.body_text()))?;
    let mut csv = None::<axum::body::Bytes>;
    let mut dry_run = false;
    let mut fingerprint = String::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(unreadable(e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(unreadable(e.body_text())),
        };
        match name.as_str() {
            "file" | "csv" if !bytes.is_empty() => {
                if bytes.len() > provision::csv_import::MAX_BYTES {
                    return Err(too_large());
                }
                if name == "csv" {
                    *pasted = Some(String::from_utf8_lossy(&bytes).into_owned());
                }
                csv = Some(bytes);
            }
            "dry_run" => dry_run = bytes.as_ref() == b"true",
            // A SHA-256 in hex; anything longer is not one.
            "fingerprint" => {
                fingerprint = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned()
            }
            _ => {}
        }
    }
    let csv = csv.ok_or_else(|| fail(AppError::field("csv", t.choose_file())))?;
    let mut ctx = state.provision_context();
    ctx.dry_run = dry_run;
    let upload = provision::csv_import::Upload {
        bytes: &csv,
        lang,
        previewed: Some(&fingerprint),
        reveal,
    };
    provision::csv_import::start_and_wait(
        &state.db,
        &staff.actor(),
        &ctx,
        &staff.roles,
        upload,
        provision::csv_import::ANSWER_WITHIN,
    )
    .await
    .map_err(fail)
}

/// `POST /api/provision/import_passwords/{id}`: a finished import's
/// generated passwords as a CSV attachment (`address;password`), once, for
/// the staff member who ran it or an admin; `410 Gone` with a message
/// after that. A plain text error otherwise (the page posts a form here).
async fn import_passwords(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    ClientAddr(addr): ClientAddr,
    RequestLang(lang): RequestLang,
    Path(id): Path<i32>,
) -> Response {
    let common = app::i18n::common::Common(lang);
    let plain = |status: StatusCode, message: String| {
        (status, [(header::CACHE_CONTROL, "no-store")], message).into_response()
    };
    let fail = |e: AppError| plain(status_of(&e), common.error(&e));
    let staff = match portal_staff(&state, &session, addr, SUPPORT).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let admin = staff.roles.intersects(&[Role::Admin]);
    match provision::csv_import::take_passwords(&state.db, id, &staff.actor(), admin).await {
        Ok(Some(csv)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"senhas-importacao-{id}.csv\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            csv,
        )
            .into_response(),
        Ok(None) => plain(StatusCode::GONE, ImportTexts(lang).passwords_gone().into()),
        Err(e) => fail(e),
    }
}
