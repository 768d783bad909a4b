//! The "refused by blocks" series: the policy daemon counts its REJECT
//! answers per minute and per kind of block in memory and adds them to
//! `defence_refused_minute` at each refresh; the Charts page reads them.

use crate::helpers::{PolicyClient, add_block, database, start_daemon};
use std::time::{Duration, Instant};

#[tokio::test]
async fn each_reject_is_counted_in_its_minute_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    add_block(&db, "ip", "192.0.2.7").await;
    add_block(&db, "account", "joao@example.com.br").await;
    let daemon = start_daemon(&db).await;
    let mut c = PolicyClient::connect(daemon.addr).await;

    let start = server::defence::blocks::now();
    const N: u64 = 7;
    for _ in 0..N {
        let answer = c.ask(&[("client_address", "192.0.2.7")]).await;
        assert!(answer.starts_with("action=REJECT"), "{answer}");
    }
    for _ in 0..2 {
        let answer = c
            .ask(&[
                ("client_address", "203.0.113.5"),
                ("sasl_username", "joao@example.com.br"),
            ])
            .await;
        assert!(answer.starts_with("action=REJECT"), "{answer}");
    }
    // Not refused: not counted.
    assert_eq!(
        c.ask(&[("client_address", "192.0.2.8")]).await,
        "action=DUNNO"
    );
    let end = server::defence::blocks::now();

    // The minutes the requests fell in, as one bucket and minute by minute.
    let (from, to) = (start - start.rem_euclid(60), end - end.rem_euclid(60) + 60);
    let until = Instant::now() + Duration::from_secs(10);
    let series = loop {
        let s = app::server::refused::series(&*db, from, to, to - from)
            .await
            .unwrap();
        if s.ip[0] >= N && s.account[0] >= 2 || Instant::now() > until {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((series.ip, series.account), (vec![N], vec![2]));
    let by_minute = app::server::refused::series(&*db, from, to, 60)
        .await
        .unwrap();
    assert_eq!(by_minute.ip.iter().sum::<u64>(), N);
    if start / 60 == end / 60 {
        // All in one minute: N in that minute's bucket.
        let i = usize::try_from((start - from) / 60).unwrap();
        assert_eq!(by_minute.ip[i], N);
    }
}
