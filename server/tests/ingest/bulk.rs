//! The bulk write of a batch (multi-row INSERTs) is one transaction with
//! its checkpoint: a
//! batch whose last write fails leaves nothing of itself, and a file
//! imported in two halves (the second resuming from the checkpoint) stores
//! exactly what one import stores.

use crate::common::{carteiro, fresh_database, host_domains};
use crate::helpers::{connect, generate, snapshot};
use crate::import::import;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

/// Customer domains of the generated log: their series are stored too.
const HOSTED: [&str; 2] = ["cliente.com.br", "provedor.net.br"];

/// A fresh database (migrated, the generated log's domains hosted): its URL.
async fn database(dir: &tempfile::TempDir) -> (String, DatabaseConnection) {
    let url = fresh_database(dir).await;
    let db = connect(&url).await;
    host_domains(&db, &HOSTED).await;
    (url, db)
}

/// Rows of `table`.
async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
    crate::helpers::scalar(db, &sql).await
}

/// Makes every write of a checkpoint fail: the last statement of a batch.
async fn break_checkpoints(db: &DatabaseConnection) {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "CREATE FUNCTION injected_failure() RETURNS trigger AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER injected BEFORE INSERT OR UPDATE ON ingest_checkpoint \
             FOR EACH ROW EXECUTE FUNCTION injected_failure();"
        }
        _ => {
            "CREATE TRIGGER injected BEFORE INSERT ON ingest_checkpoint \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        }
    };
    db.execute_unprepared(sql).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_whose_last_write_fails_leaves_nothing_of_itself() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    generate(&log, 20_000, 5);
    let (url, db) = database(&dir).await;
    break_checkpoints(&db).await;

    // Act: every row of the batch is written before its checkpoint fails.
    let out = carteiro()
        .args(["--db", &url, "import", "--year", "2026"])
        .arg(&log)
        .output()
        .unwrap();

    // Assert
    assert!(!out.status.success(), "the import must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("injected failure"), "{stderr}");
    for table in [
        "mail_minute",
        "mail_hour",
        "mail_day",
        "mail_domain_minute",
        "mail_subject_hour",
        "mail_message",
        "mail_recipient",
        "ingest_checkpoint",
    ] {
        assert_eq!(
            count(&db, table).await,
            0,
            "{table} keeps rows of a failed batch"
        );
    }
    // The connection the failed batch used is usable again (its
    // transaction and COPY were ended): the next import stores it all.
    let repair = match db.get_database_backend() {
        DbBackend::Postgres => "DROP TRIGGER injected ON ingest_checkpoint",
        _ => "DROP TRIGGER injected",
    };
    db.execute_unprepared(repair).await.unwrap();
    import(&url, &[&log], &[]);
    assert!(count(&db, "mail_recipient").await > 1000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_imported_in_two_halves_stores_what_one_import_stores() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.log");
    let text = generate(&whole, 30_000, 8);
    let (whole_url, whole_db) = database(&dir).await;
    import(&whole_url, &[&whole], &[]);

    // The first half of the same file, then the file grown to its end:
    // the second import resumes at the checkpoint.
    let halves = tempfile::tempdir().unwrap();
    let log = halves.path().join("mail.log");
    let middle = text[..text.len() / 2].rfind('\n').unwrap() + 1;
    std::fs::write(&log, &text[..middle]).unwrap();
    let (url, db) = database(&halves).await;
    import(&url, &[&log], &[]);
    std::fs::write(&log, &text).unwrap();
    let second = import(&url, &[&log], &[]);
    assert_eq!(
        second["files"][0]["resumed_from"].as_u64(),
        Some(middle as u64),
        "{second}"
    );

    let want = snapshot(&whole_db).await;
    assert!(want.len() > 5_000, "too little stored: {}", want.len());
    assert!(
        snapshot(&db).await == want,
        "two halves differ from one import"
    );
}
