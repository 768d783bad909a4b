//! Message trace through HTTP (issue 18): the window is exactly the hours
//! before its end, sender and recipient are searched together, the outcome
//! filters on the server, bad input is refused in the caller's language,
//! security may trace too, and a search that finds nothing says which
//! window it read and links to the next wider one.

use crate::helpers::TestApp;
use crate::mailgraph::{DAY, app_importing};
use app::model::{Role, TraceResult};
use reqwest::{Client, StatusCode};

/// 21:06 UTC on the test day: the end of every search here.
const UNTIL: i64 = DAY + 21 * 3600 + 6 * 60;

/// One message's log lines: `qid` submitted by `from` at `at` (`Nov  D
/// HH:MM`, seconds added), then each `(to, dsn, status, reply)`.
fn message(at: &str, qid: &str, from: &str, rcpts: &[(&str, &str, &str, &str)]) -> String {
    let mut out = format!(
        "{at}:00 smtp1 postfix/submission/smtpd[20]: {qid}: client=cpe[203.0.113.9], sasl_method=LOGIN, sasl_username={from}\n\
         {at}:01 smtp1 postfix/qmgr[22]: {qid}: from=<{from}>, size=5000, nrcpt={} (queue active)\n",
        rcpts.len()
    );
    for (to, dsn, status, reply) in rcpts {
        out.push_str(&format!(
            "{at}:02 smtp1 postfix/smtp[23]: {qid}: to=<{to}>, relay=mx.example[192.0.2.25]:25, delay=1, dsn={dsn}, status={status} ({reply})\n"
        ));
    }
    out
}

const ANA: &str = "ana@cliente.com.br";
const JOAO: &str = "joao@gmail.com";
const UNKNOWN: (&str, &str, &str, &str) = (
    JOAO,
    "5.1.1",
    "bounced",
    "host mx.example[192.0.2.25] said: 550 5.1.1 <joao@gmail.com>: no such user (in reply to RCPT TO command)",
);

/// The test log, oldest first. Around the window 20:06–21:06:
/// - `7A…` ana → joão at 21:16 the day before (in 24 hours, not in one);
/// - `B2…` ana → joão at 20:05, a minute before the hour's window;
/// - `A1…` ana → joão at 20:16, bounced: 50 minutes before 21:06, in the
///   hour of 20:00 that a window cut at the hour (21:00–21:06) missed;
/// - `C3…` ana → maria, `D4…` pedro → joão (greylisted);
/// - `E5…` ana → joão (deferred) and maria (sent);
/// - `F6…` ana, refused by the content filter (a reject with a queue id).
fn log() -> String {
    let sent = |to| (to, "2.0.0", "sent", "250 2.0.0 OK");
    [
        message("Nov  1 21:16", "7A7A7A7A7A", ANA, &[UNKNOWN]),
        message("Nov  2 20:05", "B2B2B2B2B2", ANA, &[sent(JOAO)]),
        message("Nov  2 20:16", "A1A1A1A1A1", ANA, &[UNKNOWN]),
        message("Nov  2 20:30", "C3C3C3C3C3", ANA, &[sent("maria@y.com")]),
        message(
            "Nov  2 20:40",
            "D4D4D4D4D4",
            "pedro@x.com",
            &[(JOAO, "4.7.1", "deferred", "450 4.7.1 Greylisted, try again later")],
        ),
        message(
            "Nov  2 20:50",
            "E5E5E5E5E5",
            ANA,
            &[
                (JOAO, "4.4.1", "deferred", "connect to mx.example[192.0.2.25]:25: Connection timed out"),
                sent("maria@y.com"),
            ],
        ),
        "Nov  2 20:55:00 smtp1 postfix/submission/smtpd[20]: F6F6F6F6F6: client=cpe[203.0.113.9], sasl_method=LOGIN, sasl_username=ana@cliente.com.br\n\
         Nov  2 20:55:01 smtp1 postfix/cleanup[24]: F6F6F6F6F6: milter-reject: END-OF-MESSAGE from cpe[203.0.113.9]: 5.7.1 Spam message rejected; from=<ana@cliente.com.br> to=<joao@gmail.com> proto=ESMTP helo=<x>\n"
            .to_string(),
    ]
    .concat()
}

/// The portal with the test log, and a support and a security account
/// signed in.
async fn app() -> (TestApp, Client, Client) {
    let app = app_importing(&log(), |_| {}).await;
    app.add_staff("help", &[Role::Support]).await;
    app.add_staff("sec", &[Role::Security]).await;
    let (help, sec) = (app.signed_in("help").await, app.signed_in("sec").await);
    (app, help, sec)
}

/// A trace ending at [`UNTIL`] with `form` (and `until` added).
async fn trace(app: &TestApp, client: &Client, form: &[(&str, &str)]) -> TraceResult {
    let until = UNTIL.to_string();
    let mut form = form.to_vec();
    form.push(("until", &until));
    let res = app.call(client, "/api/trace/search", &form).await;
    assert_eq!(res.status(), StatusCode::OK, "{form:?}");
    res.json().await.unwrap()
}

fn queue_ids(r: &TraceResult) -> Vec<&str> {
    r.messages.iter().map(|m| m.queue_id.as_str()).collect()
}

#[tokio::test]
async fn the_window_is_exactly_the_hours_before_its_end() {
    let (app, help, _) = app().await;

    // The last hour at 21:06 is 20:06–21:06: 20:16 is in it, 20:05 not.
    let hour = trace(&app, &help, &[("q", ANA), ("hours", "1")]).await;
    assert_eq!(
        queue_ids(&hour),
        ["F6F6F6F6F6", "E5E5E5E5E5", "C3C3C3C3C3", "A1A1A1A1A1"]
    );
    assert_eq!((hour.from, hour.to, hour.hours), (UNTIL - 3600, UNTIL, 1));

    // A day back reaches 21:06 the day before: 21:16 is in it.
    let day = trace(&app, &help, &[("q", ANA), ("hours", "24")]).await;
    assert_eq!(day.messages.len(), 6, "{:?}", queue_ids(&day));
    assert_eq!(queue_ids(&day).last(), Some(&"7A7A7A7A7A"));
    assert_eq!(day.from, UNTIL - 24 * 3600);

    // A queue id is held to the window too.
    let queue = trace(&app, &help, &[("q", "B2B2B2B2B2"), ("hours", "1")]).await;
    assert!(queue.messages.is_empty(), "{queue:?}");
}

#[tokio::test]
async fn sender_and_recipient_together_find_the_mail_from_one_to_the_other() {
    let (app, help, sec) = app().await;

    // Two addresses in the query: from the first to the second (they were
    // taken as one message-id, and found nothing).
    let pair = format!("{ANA}  {}", JOAO.to_uppercase());
    let both = trace(&app, &help, &[("q", &pair), ("hours", "1")]).await;
    assert_eq!(queue_ids(&both), ["E5E5E5E5E5", "A1A1A1A1A1"]);
    assert_eq!(both.sender.as_deref(), Some(ANA));
    assert_eq!(both.recipient.as_deref(), Some(JOAO));

    // The same from the two fields, for security as well.
    let fields = &[("sender", ANA), ("recipient", JOAO), ("hours", "1")];
    assert_eq!(trace(&app, &sec, fields).await, both);

    // The recipient alone: pedro's message too.
    let to_joao = trace(&app, &help, &[("recipient", JOAO), ("hours", "1")]).await;
    assert_eq!(
        queue_ids(&to_joao),
        ["E5E5E5E5E5", "D4D4D4D4D4", "A1A1A1A1A1"]
    );
}

#[tokio::test]
async fn the_outcome_filters_on_the_server() {
    let (app, help, _) = app().await;
    let pair = |status| {
        [
            ("sender", ANA),
            ("recipient", JOAO),
            ("hours", "24"),
            ("status", status),
        ]
    };
    // joão's own outcome counts, not maria's on the same message.
    let bounced = trace(&app, &help, &pair("bounced")).await;
    assert_eq!(queue_ids(&bounced), ["A1A1A1A1A1", "7A7A7A7A7A"]);
    let r = &bounced.messages[0].recipients[0];
    assert_eq!(
        (r.dsn.as_deref(), r.status.as_str()),
        (Some("5.1.1"), "bounced")
    );
    let deferred = trace(&app, &help, &pair("deferred")).await;
    assert_eq!(queue_ids(&deferred), ["E5E5E5E5E5"]);
    let sent = trace(&app, &help, &pair("sent")).await;
    assert_eq!(queue_ids(&sent), ["B2B2B2B2B2"]);
    let all = trace(&app, &help, &pair("all")).await;
    assert_eq!(all.messages.len(), 4);

    // Without a recipient, any recipient's outcome; refused by our filter.
    let q = |status| [("q", ANA), ("hours", "1"), ("status", status)];
    let sent = trace(&app, &help, &q("sent")).await;
    assert_eq!(queue_ids(&sent), ["E5E5E5E5E5", "C3C3C3C3C3"]);
    let rejected = trace(&app, &help, &q("rejected")).await;
    assert_eq!(queue_ids(&rejected), ["F6F6F6F6F6"]);
    assert!(
        rejected.messages[0]
            .reject
            .as_deref()
            .is_some_and(|r| r.contains("5.7.1")),
        "{rejected:?}"
    );
}

#[tokio::test]
async fn bad_searches_are_refused_in_the_callers_language() {
    let (app, help, _) = app().await;
    // A 2 MB query never reaches the trace: the body limit refuses it.
    let huge = "a".repeat(2 * 1024 * 1024);
    let res = app.call(&help, "/api/trace/search", &[("q", &huge)]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Longer than any query within it, it is refused with a reason.
    let big = "a".repeat(2000);
    let big_address = format!("{big}@x.com");
    for (form, field, pt) in [
        (vec![("q", big.as_str())], "q", "Isso é mais longo"),
        (
            vec![("sender", big_address.as_str())],
            "sender",
            "Informe um endereço",
        ),
        (
            vec![("q", "a@b.com c@d.com e@f.com")],
            "q",
            "dois endereços",
        ),
        (
            vec![("q", "a@b.com x@y.com"), ("sender", "c@d.com")],
            "q",
            "nos campos próprios",
        ),
        (
            vec![("q", "a@b.com"), ("status", "lost")],
            "status",
            "Escolha qualquer situação",
        ),
        (
            vec![("q", "a@b.com"), ("hours", "9223372036854775807")],
            "hours",
            "Busque de 1 a 168 horas.",
        ),
        (
            vec![("q", "a@b.com"), ("hours", "-1")],
            "hours",
            "Busque de 1 a 168 horas.",
        ),
        (vec![("recipient", "")], "q", "Informe um código da fila"),
    ] {
        let res = app.call(&help, "/api/trace/search", &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains(field) && body.contains(pt),
            "{field}: {body:.300}"
        );
    }
    // In English when asked for.
    let res = help
        .post(app.url("/api/trace/search"))
        .header("Accept-Language", "en")
        .form(&[("q", "a@b.com"), ("status", "lost")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Choose any outcome"));
}

#[tokio::test]
async fn ten_searches_at_once_all_answer() {
    let (app, help, _) = app().await;
    let mut searches = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (help, url) = (help.clone(), app.url("/api/trace/search"));
        let hours = if i % 2 == 0 { "1" } else { "168" };
        searches.spawn(async move {
            let until = UNTIL.to_string();
            let form = [("recipient", JOAO), ("hours", hours), ("until", &until)];
            let res = help.post(url).form(&form).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<TraceResult>().await.unwrap().messages.len()
        });
    }
    let found = searches.join_all().await;
    assert_eq!(found.len(), 10);
    assert!(found.iter().all(|&n| n >= 3), "{found:?}");
}

#[tokio::test]
async fn nothing_found_names_the_window_and_offers_a_wider_one() {
    let (app, help, sec) = app().await;
    // The page searches up to now: the test day is long gone.
    let page = app
        .page(
            &help,
            "/mailboxes/trace?q=ana%40cliente.com.br&hours=6&status=bounced",
        )
        .await;
    assert!(page.contains("Nenhuma mensagem entre"), "{page:.2000}");
    assert!(page.contains("Buscar nas últimas 24 horas"), "{page:.2000}");
    assert!(
        page.contains("hours=24&amp;q=ana@cliente.com.br&amp;status=bounced"),
        "the wider search keeps the rest of the query: {page:.2000}"
    );
    // Security opens the trace page, without the Mailboxes links.
    let page = app.page(&sec, "/mailboxes/trace").await;
    assert!(page.contains("Rastreio de mensagens"), "{page:.2000}");
    assert!(!page.contains("href=\"/mailboxes/aliases\""));
}
