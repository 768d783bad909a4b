use app::server::entities::defence_block;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A migrated database of the kind the tests run on, and its URL (for
/// [`start_daemon`]); it derefs to its connection.
pub async fn database(dir: &tempfile::TempDir) -> TestDb {
    let (url, db) = database_at(dir).await;
    TestDb { url, db }
}

pub struct TestDb {
    url: String,
    db: DatabaseConnection,
}

impl std::ops::Deref for TestDb {
    type Target = DatabaseConnection;
    fn deref(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// [`database`] and its URL (for the command line).
pub async fn database_at(dir: &tempfile::TempDir) -> (String, DatabaseConnection) {
    let url = crate::common::fresh_database(dir).await;
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    server::db::migrate(&db).await.unwrap();
    (url, db)
}

/// An approved block on `target` for an hour; its id.
pub async fn add_block(db: &DatabaseConnection, subject: &str, target: &str) -> i64 {
    let now = chrono::Utc::now().timestamp();
    let row = defence_block::ActiveModel {
        subject: Set(subject.into()),
        target: Set(target.into()),
        proposal_id: Set(None),
        reason: Set("test".into()),
        approved_by: Set("sec".into()),
        approved_at: Set(now),
        expires_at: Set(now + 3600),
        lifted_by: Set(None),
        lifted_at: Set(None),
        hits: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    row.id
}

pub async fn lift_block(db: &DatabaseConnection, id: i64) {
    let mut row: defence_block::ActiveModel = defence_block::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .into();
    row.lifted_at = Set(Some(chrono::Utc::now().timestamp()));
    row.lifted_by = Set(Some("sec".into()));
    row.update(db).await.unwrap();
}

/// The portal on `db`, started as `carteiro serve` starts it, with its
/// policy daemon on a free loopback port refreshing every second.
pub async fn start_daemon(db: &TestDb) -> Daemon {
    let mut cfg = crate::common::test_config_on(db.url.clone());
    cfg.defence.refresh_secs = 1;
    let portal = server::start::start(&cfg, server::start::Options::default())
        .await
        .expect("the portal starts");
    Daemon {
        addr: portal.policyd_addr().expect("the policy daemon runs"),
        _portal: portal,
    }
}

/// The policy daemon of a running portal.
pub struct Daemon {
    pub addr: SocketAddr,
    /// Dropping it stops the portal.
    _portal: server::start::Running,
}

/// A connection speaking the policy protocol.
pub struct PolicyClient {
    read: BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: tokio::net::tcp::OwnedWriteHalf,
}

impl PolicyClient {
    pub async fn connect(addr: std::net::SocketAddr) -> Self {
        let (read, write) = TcpStream::connect(addr).await.unwrap().into_split();
        Self {
            read: BufReader::new(read),
            write,
        }
    }

    /// Whether the daemon closes this connection within `within`.
    pub async fn closed_within(&mut self, within: std::time::Duration) -> bool {
        let mut line = String::new();
        matches!(
            tokio::time::timeout(within, self.read.read_line(&mut line)).await,
            Ok(Ok(0) | Err(_))
        )
    }

    /// Sends `attributes` as one request; the `action=` line answered.
    pub async fn ask(&mut self, attributes: &[(&str, &str)]) -> String {
        let mut req = String::from("request=smtpd_access_policy\nprotocol_state=RCPT\n");
        for (k, v) in attributes {
            req.push_str(&format!("{k}={v}\n"));
        }
        req.push('\n');
        self.write.write_all(req.as_bytes()).await.unwrap();
        let mut action = String::new();
        self.read.read_line(&mut action).await.unwrap();
        let mut blank = String::new();
        self.read.read_line(&mut blank).await.unwrap();
        assert_eq!(blank, "\n", "an answer ends with an empty line");
        action.trim_end().to_string()
    }
}
