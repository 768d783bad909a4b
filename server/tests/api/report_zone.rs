//! Days in the configured time zone (issue 18): the report's days and
//! hours, the charts' day buckets and the stored day totals follow
//! `server.time_zone`, a 25-hour day included; deferrals are grouped by
//! reason; and the "refused by blocks" series through HTTP.

use crate::helpers::spawn_app;
use crate::mailgraph::{app_importing, chart, rows, series};
use app::model::{MailReport, Role};
use mailflow::SubjectKind;
use reqwest::StatusCode;
use std::collections::HashMap;

/// One message received from outside and delivered at `time` on `day`
/// (`Mon dd`), queue id `id`.
fn message(day: &str, time: &str, id: &str) -> String {
    format!(
        "{day} {time} mx1 postfix/smtpd[10]: {id}: client=mail.example.org[198.51.100.7]\n\
         {day} {time} mx1 postfix/qmgr[12]: {id}: from=<news@example.org>, size=100, nrcpt=1 (queue active)\n\
         {day} {time} mx1 postfix/lmtp[13]: {id}: to=<ana@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Saved)\n\
         {day} {time} mx1 postfix/qmgr[12]: {id}: removed\n"
    )
}

async fn report(
    app: &crate::helpers::TestApp,
    c: &reqwest::Client,
    from: i64,
    to: i64,
) -> MailReport {
    let (from, to) = (from.to_string(), to.to_string());
    let res = app
        .call(c, "/api/mailgraph/report", &[("from", &from), ("to", &to)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The `received` column of the per-day table: (day, count).
fn received_per_day(r: &MailReport) -> Vec<(String, String)> {
    rows(r, "per_day")
        .into_iter()
        .map(|row| (row[0].clone(), row[1].clone()))
        .collect()
}

/// 2026-11-02 00:00 UTC.
const NOV2: i64 = 1_793_577_600;

#[tokio::test]
async fn report_days_are_sao_paulo_days_by_default() {
    // 02:30 UTC is still 1 November in São Paulo (-03:00); 03:30 UTC is
    // the 2nd. Days by UTC (the old default) put both on the 2nd.
    let log =
        message("Nov  2", "02:30:00", "1A1A1A1A1A") + &message("Nov  2", "03:30:00", "2B2B2B2B2B");
    let app = app_importing(&log, |_| {}).await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;
    let r = report(&app, &boss, NOV2 - 86_400, NOV2 + 86_400).await;
    let page = app.page(&boss, "/charts/report").await;
    assert!(page.contains("Relatório de e-mail"), "{page}");
    assert!(page.contains("Últimos 7 dias"), "{page}");
    assert_eq!(
        received_per_day(&r),
        [
            ("2026-11-01".to_string(), "1".to_string()),
            ("2026-11-02".to_string(), "1".to_string())
        ]
    );
    // Hours of day are local hours too: 23:00 and 00:00.
    let hours = rows(&r, "per_hour");
    assert_eq!((hours[23][1].as_str(), hours[0][1].as_str()), ("1", "1"));
    assert_eq!(hours[2][1], "0", "not at 02:00 UTC");
}

#[tokio::test]
async fn a_25_hour_day_is_one_day_in_the_report_and_the_charts() {
    // Berlin left summer time on 25 October 2026 at 01:00 UTC: that day
    // ran from 24 Oct 22:00 UTC to 25 Oct 23:00 UTC (25 hours).
    let log = message("Oct 24", "22:30:00", "3C3C3C3C3C")
        + &message("Oct 25", "22:30:00", "4D4D4D4D4D")
        + &message("Oct 25", "23:30:00", "5E5E5E5E5E");
    let zone = |cfg: &mut server::config::Config| cfg.server.time_zone = "Europe/Berlin".into();
    let app = app_importing(&log, zone).await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;
    let oct24 = 1_792_792_800; // 24 Oct 00:00 in Berlin (22:00 UTC the 23rd)
    let r = report(&app, &boss, oct24, oct24 + 4 * 86_400).await;
    assert_eq!(
        received_per_day(&r),
        [
            ("2026-10-25".to_string(), "2".to_string()),
            ("2026-10-26".to_string(), "1".to_string())
        ]
    );
    // A quarter of a year reads the day tier (stored by the importer in
    // Berlin days): the 25th is one bucket with both messages.
    let (from, to) = (1_788_213_600_i64, 1_796_079_600_i64); // 1 Sep .. 1 Dec, Berlin
    let (f, t) = (from.to_string(), to.to_string());
    let data = chart(&app, &boss, &[("query[from]", &f), ("query[to]", &t)]).await;
    assert_eq!(data.step, 86_400);
    let received = series(&data, "received");
    let day = |n: usize| received[n];
    // 1 Sep + 54 days = 25 Oct.
    assert_eq!((day(53), day(54), day(55)), (0, 2, 1), "{received:?}");
}

#[tokio::test]
async fn deferrals_are_grouped_by_reason() {
    let deferred = |id: &str, host: &str, ip: &str, to: &str| {
        format!(
            "Nov  2 11:30:00 smtp1 postfix/smtpd[20]: {id}: client=cpe[203.0.113.9], sasl_method=LOGIN, sasl_username=ana@cliente.com.br\n\
             Nov  2 11:30:01 smtp1 postfix/qmgr[22]: {id}: from=<ana@cliente.com.br>, size=500, nrcpt=1 (queue active)\n\
             Nov  2 11:30:03 smtp1 postfix/smtp[23]: {id}: to=<{to}>, relay=none, delay=30, dsn=4.4.1, status=deferred (connect to {host}[{ip}]:25: Connection timed out)\n"
        )
    };
    let log = deferred(
        "6F6F6F6F6F",
        "mx.slow.example",
        "192.0.2.50",
        "y@slow.example",
    ) + &deferred(
        "7A7A7A7A7A",
        "mx2.other.example",
        "192.0.2.51",
        "z@other.example",
    ) + &deferred(
        "8B8B8B8B8B",
        "mx.slow.example",
        "192.0.2.50",
        "w@slow.example",
    );
    let app = app_importing(&log, |_| {}).await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;
    let r = report(&app, &boss, NOV2, NOV2 + 86_400).await;
    assert_eq!(
        rows(&r, "deferral_reasons"),
        [vec![
            "connect to <host>[<ip>]<n>: Connection timed out".to_string(),
            "3".to_string()
        ]]
    );
}

#[tokio::test]
async fn the_refused_series_is_served_in_the_charts_buckets() {
    let app = spawn_app().await;
    let minute = NOV2 + 10 * 3600;
    let counts: HashMap<(i64, SubjectKind), u64> = [
        ((minute, SubjectKind::Ip), 5),
        ((minute + 60, SubjectKind::Ip), 2),
        ((minute + 60, SubjectKind::Account), 4),
        ((minute + 3600, SubjectKind::Ip), 9),
    ]
    .into();
    app::server::refused::add(&app.state.db, &counts)
        .await
        .unwrap();
    // A second writer (another replica) adds to the same minute.
    let again: HashMap<_, _> = [((minute, SubjectKind::Ip), 1)].into();
    app::server::refused::add(&app.state.db, &again)
        .await
        .unwrap();
    // Minutes older than the hour tier's retention go with it.
    let old: HashMap<_, _> = [((60, SubjectKind::Ip), 3)].into();
    app::server::refused::add(&app.state.db, &old)
        .await
        .unwrap();
    let settings = app.state.mailgraph.clone();
    app::server::mailgraph::purge(&app.state.db, &settings, minute)
        .await
        .unwrap();
    let gone = app::server::refused::series(&app.state.db, 0, 86_400, 86_400)
        .await
        .unwrap();
    assert_eq!(gone.ip, [0]);
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = app.signed_in("boss").await;
    let ask = |from: i64, to: i64, step: i64| {
        let (app, boss) = (&app, &boss);
        async move {
            let (f, t, s) = (from.to_string(), to.to_string(), step.to_string());
            app.call(
                boss,
                "/api/mailgraph/refused",
                &[("from", &f), ("to", &t), ("step", &s)],
            )
            .await
        }
    };
    let res = ask(minute, minute + 2 * 3600, 300).await;
    assert_eq!(res.status(), StatusCode::OK);
    let s: app::api::refused::RefusedSeries = res.json().await.unwrap();
    assert_eq!(s.ip.len(), 24);
    assert_eq!((s.ip[0], s.account[0]), (8, 4));
    assert_eq!((s.ip[12], s.ip[1]), (9, 0));
    // Hostile requests: clear 422s, in pt-BR by default.
    for (from, to, step) in [
        (minute, minute + 86_400, 0),
        (minute, minute + 86_400, 61),
        (minute, minute + 30 * 86_400, 60),
        (minute, minute - 60, 60),
        (i64::MIN, i64::MAX, 60),
    ] {
        let res = ask(from, to, step).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{from} {to} {step}"
        );
        let body = res.text().await.unwrap();
        assert!(
            ["intervalo", "data", "fim", "dias"]
                .iter()
                .any(|w| body.contains(w)),
            "{body}"
        );
    }
}
