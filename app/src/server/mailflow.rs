//! Reading what the MailFlow ingest engine stored.

use crate::model::CheckpointInfo;
use crate::server::entities::ingest_checkpoint;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};

/// How many checkpoints the admin page lists.
const SHOWN: u64 = 100;

/// The most recently updated checkpoints.
pub async fn checkpoints(db: &impl ConnectionTrait) -> Result<Vec<CheckpointInfo>, sea_orm::DbErr> {
    let rows = ingest_checkpoint::Entity::find()
        .order_by_desc(ingest_checkpoint::Column::UpdatedAt)
        .limit(SHOWN)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (kind, name) = match r.source.strip_prefix("import:") {
                Some(file) => ("import", file.to_string()),
                None => ("live", r.source),
            };
            CheckpointInfo {
                kind: kind.into(),
                name,
                path: r.path,
                offset: r.offset.max(0) as u64,
                lines: r.lines.max(0) as u64,
                last_log_at: r.last_log_at,
                updated_at: r.updated_at,
            }
        })
        .collect())
}
