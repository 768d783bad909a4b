//! The Report page and the charts against the counter when
//! `mailflow.filter_relays` is not the default: a delivery to a relay the
//! configuration names is a hand-off to a content filter everywhere, and
//! one to a relay it does not name (even one the default list would) is a
//! delivery everywhere.

use crate::mailgraph::{DAY, app_importing, chart, day_report, rows, series};
use app::model::Role;

/// Two messages from outside. The first goes through the content filter
/// this ISP names `scanner` and comes back on loopback to be delivered;
/// the second is delivered by a relay called `amavis`, which here is a
/// mail server like any other.
const LOG: &str = "\
Nov  2 10:00:00 mx1 postfix/smtpd[10]: 1A1A1A1A1A: client=mail.example.org[198.51.100.7]
Nov  2 10:00:01 mx1 postfix/qmgr[12]: 1A1A1A1A1A: from=<news@example.org>, size=1000, nrcpt=1 (queue active)
Nov  2 10:00:02 mx1 postfix/smtp[13]: 1A1A1A1A1A: to=<ana@cliente.com.br>, relay=scanner[10.0.0.5]:10025, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 2B2B2B2B2B)
Nov  2 10:00:02 mx1 postfix/qmgr[12]: 1A1A1A1A1A: removed
Nov  2 10:00:03 mx1 postfix/smtpd[14]: 2B2B2B2B2B: client=localhost[127.0.0.1]
Nov  2 10:00:03 mx1 postfix/qmgr[12]: 2B2B2B2B2B: from=<news@example.org>, size=1100, nrcpt=1 (queue active)
Nov  2 10:00:04 mx1 postfix/lmtp[15]: 2B2B2B2B2B: to=<ana@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Saved)
Nov  2 10:00:04 mx1 postfix/qmgr[12]: 2B2B2B2B2B: removed
Nov  2 11:00:00 mx1 postfix/smtpd[10]: 3C3C3C3C3C: client=mail.example.net[198.51.100.8]
Nov  2 11:00:01 mx1 postfix/qmgr[12]: 3C3C3C3C3C: from=<info@example.net>, size=2000, nrcpt=1 (queue active)
Nov  2 11:00:02 mx1 postfix/smtp[13]: 3C3C3C3C3C: to=<bia@outra.com.br>, relay=amavis[203.0.113.25]:25, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov  2 11:00:02 mx1 postfix/qmgr[12]: 3C3C3C3C3C: removed
";

#[tokio::test]
async fn the_report_and_the_charts_use_the_configured_filter_relays() {
    let app = app_importing(LOG, |cfg| {
        cfg.mailflow.filter_relays = vec!["Scanner".into()];
    })
    .await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;
    let (from, to) = (DAY.to_string(), (DAY + 86_400).to_string());

    let chart = chart(&app, &boss, &[("query[from]", &from), ("query[to]", &to)]).await;
    let report = day_report(&app, &boss).await;

    let charted = |name: &str| -> u64 { series(&chart, name).iter().sum() };
    let table = |id: &str| rows(&report, id);
    let total = |what: &str| -> u64 {
        table("totals")
            .iter()
            .find(|r| r[0] == what)
            .unwrap_or_else(|| panic!("no total {what}"))[1]
            .parse()
            .unwrap()
    };
    // The counter: ana's delivery after the filter and bia's.
    assert_eq!(charted("sent"), 2);
    assert_eq!(charted("received"), 2);
    assert_eq!(total("sent (delivered)"), charted("sent"));
    // The message tables count the same deliveries: ana once (not the
    // hand-off to `scanner`), bia once (`amavis` is not a filter here);
    // biggest first.
    let delivered: u64 = table("recipients_by_count")
        .iter()
        .map(|r| r[1].parse::<u64>().unwrap())
        .sum();
    assert_eq!(delivered, charted("sent"));
    assert_eq!(
        table("recipients_by_count"),
        vec![
            vec!["bia@outra.com.br", "1", "2000"],
            vec!["ana@cliente.com.br", "1", "1100"],
        ]
    );
    assert_eq!(
        table("receiving_domains_by_count"),
        vec![
            vec!["outra.com.br", "1", "2000"],
            vec!["cliente.com.br", "1", "1100"],
        ]
    );
    assert_eq!(total("recipients"), 2);
    assert_eq!(total("bytes delivered"), 3100);
    // Senders: the two messages from outside, not the re-injection.
    assert_eq!(total("senders"), 2);
    assert_eq!(total("bytes received"), 3000);
}
