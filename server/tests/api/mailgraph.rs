//! Mailgraph through HTTP: chart series from the right tier with filters
//! and block markers, the report and its CSV downloads, and `/metrics`.

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::support::{get_with_token, issue_token};
use app::model::{ChartData, MailReport, Role};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use server::config::Config;

/// 2026-11-02 00:00 UTC: the day the test log is from.
pub const DAY: i64 = 1_793_577_600;

/// A small day of mail on two hosts: delivered, bounced, deferred and
/// refused messages for two customer domains.
const LOG: &str = "\
Nov  2 10:00:00 mx1 postfix/smtpd[10]: 4F1A2B3C4D: client=mail.example.org[198.51.100.7]
Nov  2 10:00:01 mx1 postfix/qmgr[12]: 4F1A2B3C4D: from=<news@example.org>, size=2048, nrcpt=2 (queue active)
Nov  2 10:00:02 mx1 postfix/lmtp[13]: 4F1A2B3C4D: to=<ana@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Saved)
Nov  2 10:00:02 mx1 postfix/lmtp[13]: 4F1A2B3C4D: to=<bia@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Saved)
Nov  2 10:00:02 mx1 postfix/qmgr[12]: 4F1A2B3C4D: removed
Nov  2 11:30:00 smtp1 postfix/submission/smtpd[20]: 5A1A2B3C4D: client=cpe[203.0.113.9], sasl_method=LOGIN, sasl_username=ana@cliente.com.br
Nov  2 11:30:01 smtp1 postfix/qmgr[22]: 5A1A2B3C4D: from=<ana@cliente.com.br>, size=5000, nrcpt=2 (queue active)
Nov  2 11:30:02 smtp1 postfix/smtp[23]: 5A1A2B3C4D: to=<x@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.0.26]:25, delay=1, dsn=5.1.1, status=bounced (host said: 550 5.1.1 <x@gmail.com> no such user)
Nov  2 11:30:03 smtp1 postfix/smtp[23]: 5A1A2B3C4D: to=<y@slow.example>, relay=none, delay=30, dsn=4.4.1, status=deferred (connect to mx.slow.example[192.0.2.50]:25: Connection timed out)
Nov  2 12:00:00 mx1 postfix/smtpd[30]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <zz@cliente.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<s@spam.example> to=<zz@cliente.com.br> proto=ESMTP helo=<x>
Nov  2 12:00:01 mx1 postfix/smtpd[30]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <zy@cliente.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<s@spam.example> to=<zy@cliente.com.br> proto=ESMTP helo=<x>
";

async fn app_with_log() -> TestApp {
    // Days by UTC: these tests are about tiers (`report_zone` about zones).
    let app = app_importing(LOG, |cfg| cfg.server.time_zone = "Etc/UTC".into()).await;
    let db = &app.state.db;
    // A block approved at 11:00 that day, and one long before.
    for (id, at) in [(1, DAY + 11 * 3600), (2, DAY - 40 * 86_400)] {
        app::server::entities::defence_block::ActiveModel {
            id: Set(id),
            subject: Set("ip".into()),
            target: Set(format!("192.0.2.{id}")),
            proposal_id: Set(None),
            reason: Set("dictionary attack".into()),
            approved_by: Set("sec".into()),
            approved_at: Set(at),
            expires_at: Set(at + 86_400),
            lifted_by: Set(None),
            lifted_at: Set(None),
            hits: Set(3),
        }
        .insert(db)
        .await
        .unwrap();
    }
    app
}

/// The portal with `configure`d settings, holding `log` (of 2026, hosting
/// cliente.com.br) imported with the same settings.
pub async fn app_importing(log: &str, configure: impl Fn(&mut Config)) -> TestApp {
    let app = spawn_app_with(&configure).await;
    let db = &app.state.db;
    crate::common::host_domains(db, &["cliente.com.br"]).await;
    let mut cfg = Config::default();
    configure(&mut cfg);
    import_text(db, &cfg, log).await;
    app
}

/// Imports `log` (a file of that text, year 2026, without detection).
pub async fn import_text(db: &sea_orm::DatabaseConnection, cfg: &Config, log: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.log");
    std::fs::write(&path, log).unwrap();
    let opts = server::log_import::Options {
        files: vec![path],
        dry_run: false,
        report: Some(server::log_import::ReportFormat::Json),
        year: Some(2026),
        detect: false,
    };
    server::log_import::import(db, cfg, &opts).await.unwrap();
}

/// The report of the test log's day.
pub async fn day_report(app: &TestApp, client: &reqwest::Client) -> MailReport {
    let (from, to) = (DAY.to_string(), (DAY + 86_400).to_string());
    let res = app
        .call(
            client,
            "/api/mailgraph/report",
            &[("from", &from), ("to", &to)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The rows of the report's table `id`.
pub fn rows(report: &MailReport, id: &str) -> Vec<Vec<String>> {
    report
        .tables
        .iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("no table {id}"))
        .rows
        .clone()
}

pub async fn chart(app: &TestApp, client: &reqwest::Client, form: &[(&str, &str)]) -> ChartData {
    let res = app.call(client, "/api/mailgraph/chart", form).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

pub fn series<'a>(data: &'a ChartData, name: &str) -> &'a [u64] {
    &data
        .series
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no {name} series"))
        .values
}

#[tokio::test]
async fn a_chart_reads_its_tier_and_filters_by_host_or_domain() {
    let app = app_with_log().await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;
    let (from, to) = (DAY.to_string(), (DAY + 86_400).to_string());
    let range = [("query[from]", from.as_str()), ("query[to]", to.as_str())];

    // A day fits the minute tier, but minutes are kept 14 days and this
    // day is older: the hour tier answers.
    let all = chart(&app, &boss, &range).await;
    assert_eq!(all.from, DAY);
    assert_eq!(all.step, 3600);
    assert_eq!(series(&all, "received").len(), 24);
    assert_eq!(series(&all, "received")[10], 1, "mx1's client");
    assert_eq!(series(&all, "received")[11], 1, "smtp1's submission");
    assert_eq!(series(&all, "received")[12], 0);
    let received: u64 = series(&all, "received").iter().sum();
    assert_eq!(received, 2);
    assert_eq!(series(&all, "sent")[10], 2);
    assert_eq!(series(&all, "bounced")[11], 1);
    assert_eq!(series(&all, "deferred")[11], 1);
    assert_eq!(series(&all, "rejected")[12], 2);
    assert_eq!(series(&all, "reject.unknown_user")[12], 2);
    // Base series are always there, even at zero, in a fixed order.
    let names: Vec<&str> = all.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        &names[..8],
        mailflow::Series::ALL.map(mailflow::Series::name)
    );
    assert_eq!(all.blocks.len(), 1, "only the block approved that day");
    assert_eq!(all.blocks[0].target, "192.0.2.1");

    let mut on_host = range.to_vec();
    on_host.push(("query[host]", "smtp1"));
    let smtp1 = chart(&app, &boss, &on_host).await;
    assert_eq!(series(&smtp1, "received")[11], 1);
    assert_eq!(series(&smtp1, "received")[10], 0);
    assert_eq!(series(&smtp1, "rejected").iter().sum::<u64>(), 0);

    let mut on_domain = range.to_vec();
    on_domain.push(("query[domain]", "CLIENTE.com.br"));
    let domain = chart(&app, &boss, &on_domain).await;
    assert_eq!(
        series(&domain, "received")[10],
        2,
        "inbound: two recipients"
    );
    assert_eq!(series(&domain, "bounced")[11], 1, "outbound: the sender's");
    assert_eq!(series(&domain, "rejected")[12], 2);
    assert_eq!(
        series(&domain, "sent").iter().sum::<u64>(),
        0,
        "the newsletter's sender is not hosted"
    );

    // A month around it: hours summed by the database into 2-hour buckets
    // from midnight; 10:00 and 11:30 share one.
    let month_from = (DAY - 15 * 86_400).to_string();
    let month_to = (DAY + 15 * 86_400).to_string();
    let month = chart(
        &app,
        &boss,
        &[("query[from]", &month_from), ("query[to]", &month_to)],
    )
    .await;
    assert_eq!(month.step, 7200);
    assert_eq!(series(&month, "received").len(), 360);
    assert_eq!(series(&month, "received")[15 * 12 + 5], 2);
    assert_eq!(series(&month, "received").iter().sum::<u64>(), 2);
    assert_eq!(series(&month, "rejected")[15 * 12 + 6], 2);

    // A year around it: one bucket per day.
    let year_from = (DAY - 200 * 86_400).to_string();
    let year_to = (DAY + 165 * 86_400).to_string();
    let year = chart(
        &app,
        &boss,
        &[("query[from]", &year_from), ("query[to]", &year_to)],
    )
    .await;
    assert_eq!(year.step, 86_400);
    assert_eq!(series(&year, "received").len(), 365);
    assert_eq!(series(&year, "received")[200], 2, "both in one day");
    assert_eq!(year.blocks.len(), 2);

    // Presets work from the server's clock; bad ranges are refused.
    let week = chart(&app, &boss, &[("query[preset]", "week")]).await;
    assert_eq!(week.step, 3600);
    let hours = series(&week, "received").len();
    assert!(hours == 7 * 24 || hours == 7 * 24 + 1, "{hours}");
    let res = app
        .call(
            &boss,
            "/api/mailgraph/chart",
            &[("query[preset]", "decade")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .call(
            &boss,
            "/api/mailgraph/chart",
            &[("query[from]", &to), ("query[to]", &from)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_report_and_its_csv_downloads() {
    let app = app_with_log().await;
    app.add_staff("boss", &[Role::Manager]).await;
    app.add_staff("helpdesk", &[Role::Support]).await;
    let boss = app.signed_in("boss").await;
    let (from, to) = (DAY.to_string(), (DAY + 86_400).to_string());
    let report = day_report(&app, &boss).await;
    let table = |id: &str| rows(&report, id);
    let totals = table("totals");
    let total = |what: &str| {
        totals
            .iter()
            .find(|r| r[0] == what)
            .map(|r| r[1].clone())
            .unwrap()
    };
    assert_eq!(total("received"), "2");
    assert_eq!(total("sent (delivered)"), "2");
    assert_eq!(total("rejected"), "2");
    assert_eq!(total("bytes received"), "7048");
    assert_eq!(total("bytes delivered"), "4096");
    assert_eq!(
        table("per_day"),
        vec![vec!["2026-11-02", "2", "2", "1", "1", "2", "0", "0"]]
    );
    assert_eq!(table("per_hour")[10][1], "1");
    assert_eq!(table("per_hour")[11][1], "1");
    assert_eq!(
        table("senders_by_size")[0],
        vec!["ana@cliente.com.br", "1", "5000"]
    );
    assert_eq!(table("senders_by_count").len(), 2);
    assert_eq!(
        table("receiving_domains_by_count"),
        vec![vec!["cliente.com.br", "2", "4096"]]
    );
    assert_eq!(
        table("bounces_by_relay"),
        vec![vec!["gmail-smtp-in.l.google.com[142.250.0.26]", "1"]]
    );
    assert_eq!(table("deferral_reasons")[0][1], "1");
    assert!(table("deferral_reasons")[0][0].contains("Connection timed out"));
    assert_eq!(table("rejects_by_class"), vec![vec!["unknown_user", "2"]]);
    assert_eq!(
        table("rejects_by_client"),
        vec![vec!["192.0.2.1", "unknown_user", "2"]]
    );

    // Each table as CSV, for those who may see the report.
    let csv_url = app.url(&format!(
        "/charts/report/senders_by_size.csv?from={from}&to={to}"
    ));
    let res = boss.get(&csv_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("carteiro-senders_by_size-2026-11-02.csv")
    );
    assert_eq!(
        res.text().await.unwrap(),
        "sender,messages,bytes\nana@cliente.com.br,1,5000\nnews@example.org,1,2048\n"
    );
    let res = app.client().get(&csv_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let helpdesk = app.signed_in("helpdesk").await;
    let res = helpdesk.get(&csv_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = boss
        .get(app.url(&format!("/charts/report/nothing.csv?from={from}&to={to}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = boss
        .get(app.url(&format!(
            "/charts/report/totals.csv?from={from}&to={}",
            DAY + 400 * 86_400
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn metrics_need_a_token_with_a_charts_role() {
    let app = app_with_log().await;
    app.add_staff("root", &[Role::Admin]).await;
    let root = app.signed_in("root").await;
    let issue = |role: &'static str| {
        let (app, root) = (&app, root.clone());
        async move {
            let fields = [("name", "prometheus"), ("role", role), ("days", "30")];
            issue_token(app, &root, &fields).await
        }
    };
    let http = reqwest::Client::new();
    let res = http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let support = issue("support").await;
    let res = get_with_token(&http, &app, &support, "/metrics").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let manager = issue("manager").await;
    let res = get_with_token(&http, &app, &manager, "/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    for line in [
        "# TYPE carteiro_mail_total counter",
        "carteiro_mail_total{series=\"received\",host=\"mx1\"} 1",
        "carteiro_mail_total{series=\"received\",host=\"smtp1\"} 1",
        "carteiro_mail_total{series=\"rejected\",host=\"mx1\"} 2",
        "carteiro_mail_rejects_total{class=\"unknown_user\",host=\"mx1\"} 2",
        "# TYPE carteiro_ingest_lag_seconds gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
    // Counters are all-time: the whole day tier, whatever its age.
    let db = &app.state.db;
    db.execute_unprepared(
        "INSERT INTO mail_day (day, host, series, n) VALUES (0, 'mx1', 'received', 40)",
    )
    .await
    .unwrap();
    let text = get_with_token(&http, &app, &manager, "/metrics")
        .await
        .text()
        .await
        .unwrap();
    assert!(text.contains("carteiro_mail_total{series=\"received\",host=\"mx1\"} 41\n"));
}

#[tokio::test]
async fn each_tier_is_purged_after_its_own_retention() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let now = DAY + 100 * 86_400;
    for (table, time) in [
        ("mail_minute", "minute"),
        ("mail_hour", "hour"),
        ("mail_day", "day"),
        ("mail_domain_minute", "minute"),
        ("mail_domain_hour", "hour"),
        ("mail_domain_day", "day"),
    ] {
        let key = if table.contains("domain") {
            "domain"
        } else {
            "host"
        };
        for age_days in [1, 3, 20, 150, 5000] {
            db.execute_unprepared(&format!(
                "INSERT INTO {table} ({time}, {key}, series, n) VALUES ({}, 'k', 'received', 1)",
                now - age_days * 86_400
            ))
            .await
            .unwrap();
        }
    }
    let settings = app::state::MailgraphSettings::default();
    // Hosts: minutes 14 days, hours 400, days forever; domains: 2, 100, forever.
    let deleted = app::server::mailgraph::purge(db, &settings, now)
        .await
        .unwrap();
    assert_eq!(deleted, 3 + 1 + 4 + 2);
    let count = |table: &'static str| async move {
        db.query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
    };
    assert_eq!(count("mail_minute").await, 2);
    assert_eq!(count("mail_hour").await, 4);
    assert_eq!(count("mail_day").await, 5);
    assert_eq!(count("mail_domain_minute").await, 1);
    assert_eq!(count("mail_domain_hour").await, 3);
    assert_eq!(count("mail_domain_day").await, 5);
}

/// The chart of one day of the test log's month: `day` days after it.
fn day_range(day: i64) -> (String, String) {
    let from = DAY + day * 86_400;
    (from.to_string(), (from + 86_400).to_string())
}

#[tokio::test]
async fn a_chart_compares_with_last_week_or_the_previous_period_bucket_by_bucket() {
    let app = app_with_log().await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;

    // A week after the log's day, against the same day a week before.
    let (from, to) = day_range(7);
    let mut form = vec![("query[from]", from.as_str()), ("query[to]", to.as_str())];
    form.push(("query[compare]", "week"));
    let week = chart(&app, &boss, &form).await;
    assert_eq!(week.shift, 7 * 86_400);
    assert_eq!(week.step, 3600);
    let was = |data: &ChartData, name: &str| -> Vec<u64> {
        data.previous
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no compared {name}"))
            .values
            .clone()
    };
    assert_eq!(was(&week, "received").len(), 24, "aligned to the chart");
    assert_eq!(was(&week, "received")[10], 1);
    assert_eq!(was(&week, "received")[11], 1);
    assert_eq!(was(&week, "rejected")[12], 2);
    assert_eq!(series(&week, "received").iter().sum::<u64>(), 0);

    // The day after, against the day before it (the log's).
    let (from, to) = day_range(1);
    let form = [
        ("query[from]", from.as_str()),
        ("query[to]", to.as_str()),
        ("query[compare]", "previous"),
    ];
    let next = chart(&app, &boss, &form).await;
    assert_eq!(next.shift, 86_400);
    assert_eq!(was(&next, "sent")[10], 2);
    assert_eq!(was(&next, "bounced")[11], 1);

    // A range that is not a whole number of buckets: the compared period
    // still starts a whole number of buckets earlier.
    let (from, to) = (
        (DAY + 86_400 + 1800).to_string(),
        (DAY + 2 * 86_400).to_string(),
    );
    let form = [
        ("query[from]", from.as_str()),
        ("query[to]", to.as_str()),
        ("query[compare]", "previous"),
    ];
    let odd = chart(&app, &boss, &form).await;
    assert_eq!(odd.shift % odd.step, 0);
    assert_eq!(odd.shift, 86_400);

    // No comparison: nothing more is sent.
    let plain = chart(&app, &boss, &[("query[from]", &from), ("query[to]", &to)]).await;
    assert!(plain.previous.is_empty());
    assert_eq!(plain.shift, 0);
}

#[tokio::test]
async fn a_chart_says_where_its_stored_counts_begin_and_end() {
    let app = app_with_log().await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;
    let (from, to) = day_range(0);
    let range = [("query[from]", from.as_str()), ("query[to]", to.as_str())];

    // All hosts: the last line is at 12:00:01. The day is a month old, so
    // the chart reads hours, and the counts end with the hour 12:00–13:00.
    let all = chart(&app, &boss, &range).await;
    assert_eq!(all.step, 3600);
    assert_eq!(all.data_from, Some(DAY), "the first day with a row");
    assert_eq!(all.data_until, Some(DAY + 13 * 3600));

    // smtp1's last line is at 11:30.
    let mut on_host = range.to_vec();
    on_host.push(("query[host]", "smtp1"));
    let smtp1 = chart(&app, &boss, &on_host).await;
    assert_eq!(smtp1.data_until, Some(DAY + 12 * 3600));

    // A week later, nothing since: the day tier says where the counts end.
    let (later_from, later_to) = day_range(7);
    let later = [
        ("query[from]", later_from.as_str()),
        ("query[to]", later_to.as_str()),
    ];
    let later = chart(&app, &boss, &later).await;
    assert_eq!(later.data_until, Some(DAY + 86_400));

    // A domain: its own rows; one without any: nothing stored at all.
    let mut on_domain = range.to_vec();
    on_domain.push(("query[domain]", "cliente.com.br"));
    let domain = chart(&app, &boss, &on_domain).await;
    assert_eq!(domain.data_until, Some(DAY + 13 * 3600));
    let mut nowhere = range.to_vec();
    nowhere.push(("query[domain]", "nada.example"));
    let none = chart(&app, &boss, &nowhere).await;
    assert_eq!((none.data_from, none.data_until), (None, None));
}

#[tokio::test]
async fn bad_chart_queries_are_refused_in_the_callers_language() {
    let app = app_with_log().await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;
    // 2 MB in a field: refused before any parsing.
    let huge = "a".repeat(2 << 20);
    let form = [("query[preset]", "day"), ("query[host]", huge.as_str())];
    let res = app.call(&boss, "/api/mailgraph/chart", &form).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let long = "a".repeat(300);
    for (form, pt) in [
        (
            vec![("query[preset]", "day"), ("query[compare]", "year")],
            "Compare com o período anterior",
        ),
        (
            vec![("query[preset]", "day"), ("query[host]", long.as_str())],
            "no máximo 255 caracteres",
        ),
        (
            vec![("query[preset]", "day"), ("query[domain]", &long[..256])],
            "no máximo 255 caracteres",
        ),
        (
            vec![("query[preset]", "decade")],
            "Escolha dia, semana, mês ou ano.",
        ),
        (
            vec![("query[from]", "10"), ("query[to]", "5")],
            "O fim deve ser depois do início.",
        ),
    ] {
        let res = app.call(&boss, "/api/mailgraph/chart", &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{pt}");
        let body = res.text().await.unwrap();
        assert!(body.contains(pt), "{body}");
        assert!(body.len() < 4096, "the input is not echoed back");
    }
    let res = boss
        .post(app.url("/api/mailgraph/chart"))
        .header("Accept", "application/json")
        .header("Accept-Language", "en")
        .form(&[("query[preset]", "day"), ("query[compare]", "year")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("Compare with the previous period"), "{body}");
}

#[tokio::test]
async fn parallel_compared_charts_all_answer() {
    let app = app_with_log().await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;
    let (from, to) = day_range(7);
    let url = app.url("/api/mailgraph/chart");
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (boss, url, from, to) = (boss.clone(), url.clone(), from.clone(), to.clone());
        calls.spawn(async move {
            let compare = if i % 2 == 0 { "week" } else { "previous" };
            let res = boss
                .post(url)
                .header("Accept", "application/json")
                .form(&[
                    ("query[from]", from.as_str()),
                    ("query[to]", to.as_str()),
                    ("query[compare]", compare),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<ChartData>().await.unwrap()
        });
    }
    let answers = calls.join_all().await;
    assert_eq!(answers.len(), 10);
    assert!(answers.iter().all(|a| a.previous.len() >= 8 && a.shift > 0));
}
