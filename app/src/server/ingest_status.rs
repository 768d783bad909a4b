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

/// FNV-1a, 64 bits: a hash that is the same on every build and platform,
/// so stored values stay valid.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The index key of a message-id or an address (`mail_message.msgid_hash`,
/// `sender_hash`): the hash of its lower-cased text.
pub fn key_hash(text: &str) -> i64 {
    fnv1a(text.bytes().map(|b| b.to_ascii_lowercase())) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_ignore_case_and_are_stable() {
        assert_eq!(
            key_hash("Ana@Cliente.com.br"),
            key_hash("ana@cliente.com.br")
        );
        assert_ne!(
            key_hash("ana@cliente.com.br"),
            key_hash("bia@cliente.com.br")
        );
        // The published FNV-1a test vector: stored keys must never change.
        assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
