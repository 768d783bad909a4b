//! `/healthz` and `/readyz`, for load balancers and monitoring (portal
//! role). Both are public and outside the session and cross-site layers;
//! both are cheap: `/healthz` touches nothing (the process answers), and
//! `/readyz` runs `SELECT 1` and reads the applied migrations within
//! [`DB_TIMEOUT`], then reads what the workers and the policy daemon keep in
//! memory. Its body is small JSON without secrets (no URLs, paths or error
//! texts: those are in the log):
//!
//! ```json
//! {"ready":false,"database":"ok","migrations":"current",
//!  "sources":[{"name":"mx1","state":"following","ok":false,"problem":"lagging","lag_secs":912}],
//!  "policyd":{"ok":true,"blocks_age_secs":1},"purge":"standby"}
//! ```
//!
//! Ready (200) means: the database answers, it has every migration this
//! binary knows (one made by a newer binary during a rolling upgrade is
//! `"ahead"`, still ready), each live source's worker reported within
//! `mailflow.alert_lag_secs` and is not more than that behind its file, and
//! the policy daemon's blocks were read from the database recently.
//! Otherwise 503 with the same body.

use crate::config::Roles;
use crate::defence::blocks;
use app::model::{SourceState, SourceStatus};
use app::state::IngestBoard;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// How long `/readyz` waits for the database.
pub const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/readyz` looks at.
#[derive(Clone)]
pub struct Probe {
    pub db: DatabaseConnection,
    pub roles: Roles,
    pub board: IngestBoard,
    /// `mailflow.alert_lag_secs`.
    pub lag_bound: i64,
    /// The policy daemon's blocks and how old they may get.
    pub policyd: Option<(Arc<blocks::Shared>, i64)>,
    pub singleton: Arc<crate::singleton::Status>,
}

impl Probe {
    /// What `/readyz` looks at in a process started from `cfg` with
    /// `state`: its database and live sources; no policy daemon, and the
    /// singleton lock not held, until [`crate::start::start`] says otherwise.
    pub fn new(state: &app::state::AppState, cfg: &crate::config::Config) -> Self {
        Self {
            db: state.db.clone(),
            roles: cfg.server.roles().unwrap_or(Roles::ALL),
            board: state.ingest.clone(),
            lag_bound: cfg.mailflow.alert_lag_secs.max(1) as i64,
            policyd: None,
            singleton: Arc::default(),
        }
    }

    /// How old the policy daemon's blocks may be for `refresh_secs`: a few
    /// failed refreshes in a row, at least 10 s.
    pub fn blocks_bound(refresh_secs: u64) -> i64 {
        (refresh_secs.max(1) * 5).max(10) as i64
    }
}

/// What `/readyz` answers.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    /// `ok` or `unreachable`.
    pub database: &'static str,
    /// `current`, `pending` (not ready), `ahead` (a newer binary migrated
    /// it; ready) or `unknown` (database unreachable).
    pub migrations: &'static str,
    /// Each live source of this process (ingest role).
    pub sources: Vec<SourceReadiness>,
    /// The policy daemon of this process (policyd role).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policyd: Option<PolicydReadiness>,
    /// `held` (this process runs the purge) or `standby` (another does, or
    /// the lock could not be taken); absent without the purge role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purge: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct SourceReadiness {
    pub name: String,
    pub state: &'static str,
    pub ok: bool,
    /// `error`, `stalled` (no report within the bound) or `lagging`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_secs: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct PolicydReadiness {
    pub ok: bool,
    pub blocks_age_secs: i64,
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 or 503 with [`Readiness`].
pub async fn readyz(State(probe): State<Arc<Probe>>) -> Response {
    let readiness = check(&probe).await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}

/// Looks at everything [`Readiness`] reports.
pub async fn check(probe: &Probe) -> Readiness {
    let now = chrono::Utc::now().timestamp();
    let (database, migrations) = match tokio::time::timeout(DB_TIMEOUT, database(&probe.db)).await {
        Ok(Ok(migrations)) => ("ok", migrations),
        Ok(Err(e)) => {
            tracing::warn!("readiness: the database does not answer: {e}");
            ("unreachable", "unknown")
        }
        Err(_) => {
            tracing::warn!("readiness: the database does not answer within {DB_TIMEOUT:?}");
            ("unreachable", "unknown")
        }
    };
    let sources: Vec<SourceReadiness> = probe
        .board
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|s| {
            let problem = source_problem(s, now, probe.lag_bound);
            SourceReadiness {
                name: s.name.clone(),
                state: s.state.as_str(),
                ok: problem.is_none(),
                problem,
                lag_secs: behind(s)
                    .then(|| s.last_log_at.map(|t| (now - t).max(0)))
                    .flatten(),
            }
        })
        .collect();
    let policyd = probe.policyd.as_ref().map(|(shared, bound)| {
        let age = (now - shared.fresh_at()).max(0);
        PolicydReadiness {
            ok: age <= *bound,
            blocks_age_secs: age,
        }
    });
    let purge = probe.roles.purge.then(|| {
        if probe.singleton.held() {
            "held"
        } else {
            "standby"
        }
    });
    let ready = database == "ok"
        && migrations != "pending"
        && sources.iter().all(|s| s.ok)
        && policyd.as_ref().is_none_or(|p| p.ok);
    Readiness {
        ready,
        database,
        migrations,
        sources,
        policyd,
        purge,
    }
}

/// `SELECT 1`, then the applied migrations against this binary's.
async fn database(db: &DatabaseConnection) -> Result<&'static str, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_string(backend, "SELECT 1"))
        .await?;
    let applied: std::collections::HashSet<String> = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations",
        ))
        .await?
        .iter()
        .filter_map(|row| row.try_get::<String>("", "version").ok())
        .collect();
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    Ok(migration_state(&known, &applied))
}

/// `pending` when a migration this binary knows is not applied, else
/// `ahead` when the database has one it does not know, else `current`.
fn migration_state(known: &[String], applied: &std::collections::HashSet<String>) -> &'static str {
    if known.iter().any(|k| !applied.contains(k)) {
        "pending"
    } else if applied.len() > known.len() {
        "ahead"
    } else {
        "current"
    }
}

/// Whether the source has lines in its file it has not stored yet.
fn behind(s: &SourceStatus) -> bool {
    s.state == SourceState::CatchingUp || s.offset < s.size
}

/// What keeps a live source from being ready, if anything: its worker
/// failed (`error`), has not reported within `bound` seconds (`stalled`:
/// stuck, or still waiting for its file), or has unread lines whose log
/// time is more than `bound` seconds old (`lagging`). A source at the end
/// of a quiet file is ready however old its last line.
pub fn source_problem(s: &SourceStatus, now: i64, bound: i64) -> Option<&'static str> {
    if s.state == SourceState::Error {
        Some("error")
    } else if now - s.updated_at > bound {
        Some("stalled")
    } else if behind(s) && s.last_log_at.is_some_and(|t| now - t > bound) {
        Some("lagging")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(state: SourceState, offset: u64, size: u64, last_log_at: i64) -> SourceStatus {
        SourceStatus {
            name: "mx1".into(),
            state,
            offset,
            size,
            last_log_at: Some(last_log_at),
            updated_at: 1_000,
            ..SourceStatus::default()
        }
    }

    #[test]
    fn a_source_is_ready_unless_failed_silent_or_behind_on_old_lines() {
        let now = 1_000;
        // At the end of a quiet file: ready, however old the last line.
        let quiet = source(SourceState::Following, 500, 500, 0);
        assert_eq!(source_problem(&quiet, now, 300), None);
        // Behind, on lines of a few seconds ago: ready.
        let busy = source(SourceState::Following, 400, 500, 990);
        assert_eq!(source_problem(&busy, now, 300), None);
        // Behind on lines older than the bound.
        let late = source(SourceState::CatchingUp, 400, 500, 600);
        assert_eq!(source_problem(&late, now, 300), Some("lagging"));
        assert_eq!(source_problem(&late, now, 500), None);
        // No report for longer than the bound (stuck, or no file yet).
        let silent = SourceStatus {
            updated_at: 600,
            ..quiet.clone()
        };
        assert_eq!(source_problem(&silent, now, 300), Some("stalled"));
        let failed = SourceStatus {
            state: SourceState::Error,
            ..quiet
        };
        assert_eq!(source_problem(&failed, now, 300), Some("error"));
    }

    #[test]
    fn migrations_are_pending_current_or_ahead() {
        let known: Vec<String> = vec!["m1".into(), "m2".into()];
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        assert_eq!(migration_state(&known, &set(&["m1"])), "pending");
        assert_eq!(migration_state(&known, &set(&["m1", "m2"])), "current");
        assert_eq!(migration_state(&known, &set(&["m1", "m2", "m3"])), "ahead");
    }
}
