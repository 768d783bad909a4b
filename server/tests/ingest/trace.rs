//! Message trace by recipient finds addresses with `_` and `%` in them:
//! the `LIKE` that narrows the search escapes them, and says with what
//! (SQLite has no default escape character).

use crate::import::import_lines;
use sea_orm::{ConnectionTrait, Statement};

#[tokio::test]
async fn recipients_with_underscore_and_percent_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_lines(
        &dir,
        "Nov  2 10:00:00 mx1 postfix/smtpd[10]: 4F1A2B3C4D: client=mail.example.org[198.51.100.7]\n\
         Nov  2 10:00:01 mx1 postfix/qmgr[12]: 4F1A2B3C4D: from=<news@example.org>, size=2048, nrcpt=2 (queue active)\n\
         Nov  2 10:00:02 mx1 postfix/lmtp[13]: 4F1A2B3C4D: to=<joao_silva@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Saved)\n\
         Nov  2 10:00:02 mx1 postfix/lmtp[13]: 4F1A2B3C4D: to=<desconto%50@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Saved)\n\
         Nov  2 10:00:02 mx1 postfix/qmgr[12]: 4F1A2B3C4D: removed\n",
    )
    .await;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT first_at FROM mail_message",
        ))
        .await
        .unwrap()
        .expect("one message");
    let first_at: i64 = row.try_get_by_index(0).unwrap();

    for address in ["joao_silva@cliente.com.br", "desconto%50@cliente.com.br"] {
        let found = trace(&db, address, first_at + 60).await;
        assert_eq!(found.messages.len(), 1, "{address}: {found:?}");
        assert_eq!(found.messages[0].queue_id, "4F1A2B3C4D");
    }
    // The wildcards stay literal: `_` is not any character.
    let none = trace(&db, "joaoxsilva@cliente.com.br", first_at + 60).await;
    assert!(none.messages.is_empty(), "{none:?}");
}

/// The two hours before `until` traced for `q`.
async fn trace(db: &sea_orm::DatabaseConnection, q: &str, until: i64) -> app::model::TraceResult {
    let query = app::model::TraceQuery {
        q: q.into(),
        hours: 2,
        ..Default::default()
    };
    app::server::trace::trace(db, &query, until, app::i18n::Lang::En)
        .await
        .unwrap()
}
