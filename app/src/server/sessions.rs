//! A tower-sessions store on the portal's own database, so that several
//! portal replicas behind a load balancer share their sessions and the
//! session table is migrated like every other table.

use super::entities::web_session;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Removes sessions that have expired; returns how many.
    pub async fn delete_expired(&self) -> Result<u64, sea_orm::DbErr> {
        let res = web_session::Entity::delete_many()
            .filter(web_session::Column::ExpiresAt.lt(Utc::now()))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    fn row(record: &Record) -> session_store::Result<web_session::ActiveModel> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expires_at = DateTime::<Utc>::from_timestamp(
            record.expiry_date.unix_timestamp(),
            record.expiry_date.nanosecond(),
        )
        .ok_or_else(|| session_store::Error::Encode("expiry out of range".into()))?;
        Ok(web_session::ActiveModel {
            id: Set(record.id.to_string()),
            data: Set(data),
            expires_at: Set(expires_at),
        })
    }
}

fn backend(err: sea_orm::DbErr) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; still, never overwrite someone else's session.
        loop {
            let res = web_session::Entity::insert(Self::row(record)?)
                .on_conflict(
                    OnConflict::column(web_session::Column::Id)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&self.db)
                .await
                .map_err(backend)?;
            if res == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        web_session::Entity::insert(Self::row(record)?)
            .on_conflict(
                OnConflict::column(web_session::Column::Id)
                    .update_columns([web_session::Column::Data, web_session::Column::ExpiresAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = web_session::Entity::find_by_id(id.to_string())
            .filter(web_session::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time_from_chrono(row.expires_at)?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        web_session::Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

fn time_from_chrono(
    at: DateTime<Utc>,
) -> session_store::Result<tower_sessions::cookie::time::OffsetDateTime> {
    tower_sessions::cookie::time::OffsetDateTime::from_unix_timestamp_nanos(
        at.timestamp_nanos_opt().unwrap_or(i64::MAX) as i128,
    )
    .map_err(|e| session_store::Error::Decode(e.to_string()))
}
