//! The JSON REST API under `/api/v1/` for scripts and other systems: the
//! same provisioning requests as the portal's forms, authenticated by API
//! tokens (`Authorization: Bearer ct_...`) that admins issue with one role.
//! `GET /api/v1/openapi.json` describes it (generated, never hand-edited).

use app::errors::AppError;
use app::model::{Role, Roles};
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
use sea_orm::TransactionTrait;
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
                provision::import::MAX_BYTES + (64 << 10),
            )),
        )
}

/// An error as the API answers it: the HTTP status of the error, and
/// `{"error": message, "fields": [...]}`.
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
        let mut body = serde_json::json!({ "error": self.0.to_string() });
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
    let tx = state.db.begin().await.map_err(AppError::from)?;
    let roles = Roles::new([caller.role]);
    let done = provision::dispatch(&tx, &caller.actor, &ctx, &roles, &kind, body).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Json(done))
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
    let by_name = match q.by.as_str() {
        "" | "address" => false,
        "name" => true,
        other => {
            return Err(AppError::field("by", format!("{other:?}: use address or name.")).into());
        }
    };
    let s = search::MailboxSearch {
        q: q.q,
        by_name,
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
}

async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ImportQuery>,
    body: String,
) -> ApiResult<app::provision::ImportOutcome> {
    caller.require(SUPPORT)?;
    let mut ctx = state.provision_context();
    ctx.dry_run = q.dry_run;
    let roles = Roles::new([caller.role]);
    Ok(Json(
        provision::import::import(&state.db, &caller.actor, &ctx, &roles, &body).await?,
    ))
}
