//! Mailgraph's plain HTTP routes: the report's tables as CSV downloads
//! (signed-in staff with a Charts role) and the Prometheus `/metrics`
//! endpoint (an API token of role manager, security or admin, sent as
//! `Authorization: Bearer …`).

use crate::rest::{ApiError, Caller};
use app::errors::AppError;
use app::model::Section;
use app::state::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use std::fmt::Write;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/charts/report/{file}", get(report_csv))
        .route("/metrics", get(metrics))
}

#[derive(Deserialize)]
struct Range {
    from: i64,
    to: i64,
}

/// `/charts/report/<table>.csv?from=…&to=…`: one table of the report.
async fn report_csv(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
    Query(range): Query<Range>,
) -> Result<Response, ApiError> {
    let staff = app::server::auth::staff_of(&session, &state.db, None)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !staff.roles.intersects(Section::Charts.roles()) {
        return Err(AppError::Forbidden.into());
    }
    let range = app::server::report::check_range(range.from, range.to)?;
    let id = file.strip_suffix(".csv").unwrap_or(&file);
    let now = chrono::Utc::now().timestamp();
    let report =
        app::server::report::report(&state.db, &state.mailgraph, range.from(), range.to(), now)
            .await?;
    let table = report
        .tables
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| AppError::NotFound(format!("The report has no table {id:?}.")))?;
    let day = chrono::DateTime::from_timestamp(range.from() + report.offset, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"carteiro-{id}-{day}.csv\""),
            ),
        ],
        app::server::report::csv(table)?,
    )
        .into_response())
}

/// Prometheus text format: the stored counters by series and host (all
/// time, from the day tier), rejects by class, and each live source's
/// ingest lag.
async fn metrics(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Section::Charts.roles())?;
    let db = &state.db;
    let sums = {
        use app::server::tables::{self, SeriesColumn, SeriesTable};
        use sea_orm::sea_query::{Order, Query};
        Query::select()
            .columns([SeriesColumn::Series, SeriesColumn::Host])
            .expr(tables::sum_of(SeriesColumn::N))
            .from(SeriesTable::MailDay)
            .group_by_columns([SeriesColumn::Series, SeriesColumn::Host])
            .order_by(SeriesColumn::Series, Order::Asc)
            .order_by(SeriesColumn::Host, Order::Asc)
            .to_owned()
    };
    let rows = db
        .query_all_raw(db.get_database_backend().build(&sums))
        .await
        .map_err(AppError::from)?;
    let mut mail = String::new();
    let mut rejects = String::new();
    for row in rows {
        let series: String = row.try_get_by_index(0).map_err(AppError::from)?;
        let host: String = row.try_get_by_index(1).map_err(AppError::from)?;
        let n: i64 = row.try_get_by_index(2).map_err(AppError::from)?;
        let host = label(&host);
        match mailflow::series::reject_class(&series) {
            Some(class) => writeln!(
                rejects,
                "carteiro_mail_rejects_total{{class=\"{}\",host=\"{host}\"}} {n}",
                label(class)
            ),
            None => writeln!(
                mail,
                "carteiro_mail_total{{series=\"{}\",host=\"{host}\"}} {n}",
                label(&series)
            ),
        }
        .ok();
    }
    let mut out = String::new();
    out.push_str("# HELP carteiro_mail_total Mail counted by the MailFlow engine (exact), by series and log host.\n# TYPE carteiro_mail_total counter\n");
    out.push_str(&mail);
    out.push_str("# HELP carteiro_mail_rejects_total Rejects by class and log host.\n# TYPE carteiro_mail_rejects_total counter\n");
    out.push_str(&rejects);
    let now = chrono::Utc::now().timestamp();
    let sources = state
        .ingest
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    out.push_str("# HELP carteiro_ingest_lag_seconds Seconds between now and the log time of the newest line a live source stored.\n# TYPE carteiro_ingest_lag_seconds gauge\n");
    for s in &sources {
        if let Some(at) = s.last_log_at {
            writeln!(
                out,
                "carteiro_ingest_lag_seconds{{source=\"{}\"}} {}",
                label(&s.name),
                (now - at).max(0)
            )
            .ok();
        }
    }
    out.push_str("# HELP carteiro_ingest_behind_bytes Bytes of a live source's current file not yet read.\n# TYPE carteiro_ingest_behind_bytes gauge\n");
    for s in &sources {
        writeln!(
            out,
            "carteiro_ingest_behind_bytes{{source=\"{}\"}} {}",
            label(&s.name),
            s.size.saturating_sub(s.offset)
        )
        .ok();
    }
    out.push_str("# HELP carteiro_ingest_lines_total Lines a live source stored.\n# TYPE carteiro_ingest_lines_total counter\n");
    for s in &sources {
        writeln!(
            out,
            "carteiro_ingest_lines_total{{source=\"{}\"}} {}",
            label(&s.name),
            s.lines
        )
        .ok();
    }
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
