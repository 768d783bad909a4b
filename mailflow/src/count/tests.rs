//! The counting rules, line by line: each test feeds real-looking log
//! lines to a [`Counter`] and checks the totals, classes and series.

use super::counter::EVICT_EVERY;
use super::*;
use crate::subject::SubjectKind;
use std::sync::Arc;

fn count(lines: &[&str]) -> Counter {
    let mut c = Counter::new(Settings::default(), RejectRules::defaults(), 2026);
    for l in lines {
        c.feed(l);
    }
    c
}

fn classes(c: &Counter) -> Vec<(String, u64)> {
    c.reject_classes()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k.to_string(), n))
        .collect()
}

/// One message from outside, through the ISP's filter (pipe to clamav,
/// re-injected by pickup) and amavis on loopback (re-injected by smtpd
/// from 127.0.0.1), then delivered: received once, sent once, spam once.
#[test]
fn a_filter_loop_is_counted_once() {
    let c = count(&[
        "Aug  4 08:28:40 mx1 postfix/smtpd[100]: 46E0BAB8E5: client=mail.affinato120.com.br[203.0.113.7]",
        "Aug  4 08:28:41 mx1 postfix/qmgr[9]: 46E0BAB8E5: from=<informativo@affinato120.com.br>, size=10004, nrcpt=1 (queue active)",
        "Aug  4 08:28:49 mx1 postfix/virus-filter[23105]: 46E0BAB8E5: crm=SPAM Sender=informativo@affinato120.com.br cid=0 rcpts=1 data=-6.2877 size=10004",
        "Aug  4 08:28:49 mx1 postfix/pipe[23106]: 46E0BAB8E5: to=<ana@cliente.com.br>, relay=clamav, delay=9, delays=1/0/0/8, dsn=2.0.0, status=sent (dummy)",
        "Aug  4 08:28:49 mx1 postfix/pickup[7]: 57F1CAB8E6: uid=1001 from=<informativo@affinato120.com.br>",
        "Aug  4 08:28:50 mx1 postfix/smtp[300]: 57F1CAB8E6: to=<ana@cliente.com.br>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok, queued as 6A2BCAB8E7)",
        "Aug  4 08:28:50 mx1 postfix/smtpd[400]: 6A2BCAB8E7: client=localhost[127.0.0.1]",
        "Aug  4 08:28:51 mx1 postfix/lmtp[500]: 6A2BCAB8E7: to=<ana@cliente.com.br>, relay=mbox1[10.0.0.9]:24, delay=0.2, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
    ]);
    assert_eq!(
        c.totals,
        Totals {
            received: 1,
            sent: 1,
            spam: 1,
            ..Default::default()
        }
    );
}

/// Per-domain counts of `lines` with `cliente.com.br` hosted:
/// `(domain, series name) → n` over all minutes.
fn per_domain(lines: &[&str]) -> Vec<(String, String, u64)> {
    let settings = Settings {
        domains: Arc::new(HostedDomains::new(["Cliente.com.br"])),
        ..Settings::default()
    };
    let mut c = Counter::new(settings, RejectRules::defaults(), 2026);
    for l in lines {
        c.feed(l);
    }
    let batch = c.take_batch();
    let mut sums = std::collections::BTreeMap::new();
    for ((d, _, s), n) in &batch.domain_minutes {
        *sums
            .entry((d.to_string(), batch.series[usize::from(*s)].clone()))
            .or_default() += n;
    }
    sums.into_iter().map(|((d, s), n)| (d, s, n)).collect()
}

fn row(series: &str, n: u64) -> (String, String, u64) {
    ("cliente.com.br".into(), series.into(), n)
}

#[test]
fn inbound_counts_under_the_recipient_domain_once_per_recipient() {
    let got = per_domain(&[
        // From outside to two customers (one in capitals) and a stranger,
        // through amavis: the hand-off is the first attempt.
        "Aug  4 08:28:40 mx1 postfix/smtpd[100]: 46E0BAB8E5: client=mx.example.org[203.0.113.7]",
        "Aug  4 08:28:41 mx1 postfix/qmgr[9]: 46E0BAB8E5: from=<news@example.org>, size=10004, nrcpt=3 (queue active)",
        "Aug  4 08:28:42 mx1 postfix/smtp[300]: 46E0BAB8E5: to=<ana@cliente.com.br>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok, queued as 6A2BCAB8E7)",
        "Aug  4 08:28:42 mx1 postfix/smtp[300]: 46E0BAB8E5: to=<BRUNO@CLIENTE.COM.BR>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, dsn=4.0.0, status=deferred (busy)",
        "Aug  4 08:29:42 mx1 postfix/smtp[300]: 46E0BAB8E5: to=<BRUNO@CLIENTE.COM.BR>, relay=127.0.0.1[127.0.0.1]:10024, delay=61, dsn=2.0.0, status=sent (250 2.0.0 Ok, queued as 6A2BCAB8E8)",
        "Aug  4 08:28:42 mx1 postfix/smtp[300]: 46E0BAB8E5: to=<x@elsewhere.net>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok, queued as 6A2BCAB8E9)",
        // The re-injection from amavis is not received again; its
        // delivery is a foreign sender's, so no per-domain "sent".
        "Aug  4 08:28:50 mx1 postfix/smtpd[400]: 6A2BCAB8E7: client=localhost[127.0.0.1]",
        "Aug  4 08:28:50 mx1 postfix/qmgr[9]: 6A2BCAB8E7: from=<news@example.org>, size=10400, nrcpt=1 (queue active)",
        "Aug  4 08:28:51 mx1 postfix/lmtp[500]: 6A2BCAB8E7: to=<ana@cliente.com.br>, relay=mbox1[10.0.0.9]:24, delay=0.2, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
    ]);
    assert_eq!(got, vec![row("received", 2)]);
}

#[test]
fn outbound_counts_under_the_sender_domain() {
    let got = per_domain(&[
        "Aug  4 09:00:00 mx1 postfix/submission/smtpd[2]: 3A452D9640: client=cpe[198.51.100.9], sasl_method=LOGIN, sasl_username=ana@cliente.com.br",
        "Aug  4 09:00:00 mx1 postfix/qmgr[9]: 3A452D9640: from=<ana@cliente.com.br>, size=2000, nrcpt=3 (queue active)",
        "Aug  4 09:00:01 mx1 postfix/smtp[1]: 3A452D9640: to=<a@x.com>, relay=mx.x.com[198.51.100.1]:25, delay=1, dsn=2.0.0, status=sent (250 ok)",
        "Aug  4 09:00:01 mx1 postfix/smtp[1]: 3A452D9640: to=<c@y.com>, relay=mx.y.com[198.51.100.2]:25, delay=1, dsn=5.1.1, status=bounced (host said: 550 no such user)",
        "Aug  4 09:00:02 mx1 postfix/smtp[1]: 3A452D9640: to=<d@z.com>, relay=none, delay=30, dsn=4.4.1, status=deferred (connect to mx.z.com: Connection timed out)",
        // Refused: for a customer (recipient domain), from a customer
        // to a stranger (sender domain), and neither (not counted).
        "Aug  4 09:01:00 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <zz@cliente.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<s@spam.example> to=<zz@cliente.com.br> proto=ESMTP helo=<x>",
        "Aug  4 09:01:01 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 553 5.7.1 <bruno@cliente.com.br>: Sender address rejected: not logged in; from=<bruno@cliente.com.br> to=<y@y.com> proto=ESMTP helo=<x>",
        "Aug  4 09:01:02 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <y@y.com>: Relay access denied; from=<s@spam.example> to=<y@y.com> proto=ESMTP helo=<x>",
        "Aug  4 09:02:00 mx1 postfix/smtpd[8]: warning: unknown[192.0.2.2]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=ana@cliente.com.br",
    ]);
    assert_eq!(
        got,
        vec![
            row("bounced", 1),
            row("deferred", 1),
            row("reject.not_logged", 1),
            row("reject.unknown_user", 1),
            row("rejected", 2),
            row("sasl_failures", 1),
            row("sent", 1),
        ]
    );
}

#[test]
fn one_sent_per_recipient_line_and_bounces_and_deferrals() {
    let c = count(&[
        "Aug  4 09:00:00 mx1 postfix/smtp[1]: 3A452D963D: to=<a@x.com>, relay=mx.x.com[198.51.100.1]:25, delay=1, dsn=2.0.0, status=sent (250 ok)",
        "Aug  4 09:00:00 mx1 postfix/smtp[1]: 3A452D963D: to=<b@x.com>, relay=mx.x.com[198.51.100.1]:25, delay=1, dsn=2.0.0, status=sent (250 ok)",
        "Aug  4 09:00:01 mx1 postfix/smtp[1]: 3A452D963D: to=<c@y.com>, relay=mx.y.com[198.51.100.2]:25, delay=1, dsn=5.1.1, status=bounced (host said: 550 no such user)",
        "Aug  4 09:00:02 mx1 postfix/smtp[1]: 3A452D963D: to=<d@z.com>, relay=none, delay=30, dsn=4.4.1, status=deferred (connect to mx.z.com: Connection timed out)",
        "Aug  4 09:00:03 mx1 postfix/virtual[2]: 3A452D963D: to=<e@cliente.com.br>, relay=virtual, delay=0, dsn=2.0.0, status=sent (delivered to maildir)",
        "Aug  4 09:00:04 mx1 postfix/smtp[3]: 3A452D963D: to=<f@w.com>, relay=amavis[10.1.1.1]:10024, delay=0, dsn=2.0.0, status=sent (250 queued)",
    ]);
    assert_eq!(
        c.totals,
        Totals {
            sent: 3,
            bounced: 1,
            deferred: 1,
            ..Default::default()
        }
    );
}

/// A counter for which 10.0.0.0/8 (besides loopback) is internal.
fn with_internal_network() -> Counter {
    let mut settings = Settings::default();
    settings
        .internal_clients
        .push("10.0.0.0/8".parse().unwrap());
    Counter::new(settings, RejectRules::defaults(), 2026)
}

#[test]
fn internal_clients_and_pickup_are_not_received() {
    let mut c = with_internal_network();
    for l in [
        "Aug  4 09:00:00 mx1 postfix/smtpd[1]: 3A452D963D: client=filter[10.2.3.4]",
        "Aug  4 09:00:00 mx1 postfix/smtpd[1]: 3A452D963E: client=localhost[::1]",
        "Aug  4 09:00:00 mx1 postfix/pickup[1]: 3A452D963F: uid=0 from=<root>",
        "Aug  4 09:00:00 mx1 postfix/submission/smtpd[2]: 3A452D9640: client=cpe[198.51.100.9], sasl_method=LOGIN, sasl_username=ana@cliente.com.br",
    ] {
        c.feed(l);
    }
    assert_eq!(c.totals.received, 1);
}

/// A client that authenticated is a customer's submission wherever it
/// connects from (webmail on 127.0.0.1, a relay on the internal network);
/// only unauthenticated internal clients are re-injections.
#[test]
fn an_authenticated_internal_client_is_received() {
    let mut c = with_internal_network();
    for l in [
        "Aug  4 09:00:00 phoenix postfix/smtpd[1]: 4B452D963D: client=phoenix[127.0.0.1], sasl_method=LOGIN, sasl_username=jordy",
        "Aug  4 09:00:01 mx1 postfix/smtpd[2]: 4B452D963E: client=relay[10.2.3.4], sasl_method=PLAIN, sasl_username=ana@cliente.com.br",
        "Aug  4 09:00:02 mx1 postfix/smtpd[3]: 4B452D963F: client=localhost[127.0.0.1]",
    ] {
        c.feed(l);
    }
    assert_eq!(c.totals.received, 2);
}

/// Solaris' `[ID n facility.level]` before the message does not hide it.
#[test]
fn solaris_lines_count_like_any_other() {
    let c = count(&[
        "Jan 30 01:01:03 relay.cs.tcd.ie postfix/smtpd[15349]: [ID 197553 mail.info] 161033C05: client=unknown[216.16.246.188]",
        "Jan 30 01:01:04 relay.cs.tcd.ie postfix/qmgr[1101]: [ID 197553 mail.info] 161033C05: from=<a@example.org>, size=1200, nrcpt=1 (queue active)",
        "Jan 30 01:01:05 relay.cs.tcd.ie postfix/smtp[15350]: [ID 197553 mail.info] 161033C05: to=<b@example.net>, relay=mx.example.net[192.0.2.25]:25, delay=2, status=sent (250 Ok)",
        "Jan 30 01:02:00 relay.cs.tcd.ie postfix/smtpd[15349]: [ID 197553 mail.info] NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <zz@tcd.ie>: Recipient address rejected: User unknown in local recipient table; from=<s@spam.example> to=<zz@tcd.ie> proto=ESMTP helo=<x>",
    ]);
    assert_eq!(
        (c.totals.received, c.totals.sent, c.totals.rejected),
        (1, 1, 1)
    );
}

/// Abuse from loopback or an internal client is never proposed, whatever
/// the allowlist: blocking it would stop local submission and re-injection.
#[test]
fn loopback_and_internal_clients_are_never_proposed() {
    use crate::detect::Metric;
    let mut c = with_internal_network();
    detect_one(&mut c, Metric::Reject(Some("unknown_user".into())));
    for ip in ["127.0.0.1", "::1", "10.9.8.7", "192.0.2.1"] {
        for i in 0..10 {
            c.feed(&format!(
                "Aug  4 10:00:{i:02} mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <u{i}@cliente.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<root@mx1> to=<u{i}@cliente.com.br> proto=ESMTP helo=<mx1>"
            ));
        }
    }
    let proposed: Vec<&str> = c.proposals().iter().map(|p| p.target.as_str()).collect();
    assert_eq!(proposed, ["192.0.2.1"]);
}

#[test]
fn noqueue_and_queue_id_rejects_and_their_classes() {
    let c = count(&[
        "Aug  4 10:00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 550 5.1.1 <u@c.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
        "Aug  4 10:00:01 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <v@other.org>: Relay access denied; from=<s@e.com> to=<v@other.org> proto=ESMTP helo=<x>",
        "Aug  4 10:00:02 mx1 postfix/smtpd[1]: 5B1C2D3E4F: reject: RCPT from x[192.0.2.1]: 450 4.1.8 <s@nowhere.invalid>: Sender address rejected: Domain not found; from=<s@nowhere.invalid> to=<u@c.com.br> proto=ESMTP helo=<x>",
        "Aug  4 10:00:03 mx1 postfix/submission/smtpd[5]: NOQUEUE: reject: RCPT from cpe[198.51.100.9]: 553 5.7.1 <boss@bank.com>: Sender address rejected: not owned by user ana@cliente.com.br; from=<boss@bank.com> to=<t@o.net> proto=ESMTP helo=<pc> sasl_username=ana@cliente.com.br",
        "Aug  4 10:00:04 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 553 5.7.1 <s@cliente.com.br>: Sender address rejected: not logged in; from=<s@cliente.com.br> to=<u@c.com.br> proto=ESMTP helo=<x>",
        "Aug  4 10:00:05 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
        "Aug  4 10:00:06 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 550 5.7.1 <u@c.com.br>: Recipient address rejected: Message rejected due to: SPF fail - not authorized; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
        "Aug  4 10:00:07 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <s@e.com>: Sender address rejected: Access denied; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
        "Aug  4 10:00:08 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 450 4.1.7 <s@e.com>: Sender address rejected: unverified address; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
        "Aug  4 10:00:09 mx1 postfix/smtpd[1]: NOQUEUE: reject: CONNECT from x[192.0.2.1]: 554 5.7.1 <x[192.0.2.1]>: Client host rejected: Access denied; proto=SMTP",
        "Aug  4 10:00:10 mx1 postfix/smtpd[1]: warning: Message delivery request rate limit exceeded: 31 from x[192.0.2.1] for service smtp",
        "Aug  4 10:00:11 mx1 postfix/cleanup[8]: 5B1C2D3E50: milter-reject: END-OF-MESSAGE from x[192.0.2.1]: 5.7.1 Spam message rejected; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
    ]);
    assert_eq!(c.totals.rejected, 11);
    assert_eq!(c.totals.spam, 1);
    assert_eq!(
        classes(&c),
        [
            ("unknown_user", 1),
            ("relay", 1),
            ("domain", 1),
            ("not_logged", 1),
            ("not_owned", 1),
            ("spf", 1),
            ("sender_denied", 1),
            ("sender_other", 1),
            ("rate", 1),
            ("rbl", 1),
            ("other", 2),
        ]
        .map(|(k, n)| (k.to_string(), n))
    );
}

#[test]
fn postscreen_and_smtpd_discards_and_warnings_are_not_rejects() {
    let c = count(&[
        "May  5 15:51:11 xxx postfix/postscreen[1148]: NOQUEUE: reject: RCPT from [216.245.194.173]:60591: 550 5.7.1 Service unavailable; client [216.245.194.173] blocked using rbl.example.com; from=<a@b.com>, to=<c@d.com>, proto=ESMTP, helo=<x>",
        "Aug  4 10:00:00 mx1 postfix/smtpd[1]: 5B1C2D3E4F: discard: RCPT from x[192.0.2.1]: <s@e.com>: Sender address triggers DISCARD action; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
        "Aug  4 10:00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject_warning: RCPT from x[192.0.2.1]: 554 5.7.1 <v@o.org>: Relay access denied; from=<s@e.com> to=<v@o.org> proto=ESMTP helo=<x>",
    ]);
    assert_eq!(c.totals.rejected, 0);
}

#[test]
fn amavis_spam_virus_banned_and_clean() {
    let c = count(&[
        "Aug  4 11:00:00 mx1 amavis[1]: (01-1) Blocked SPAM {DiscardedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>, Queue-ID: 3A452D963D, mail_id: x",
        "Aug  4 11:00:00 mx1 amavis[1]: (01-2) Passed SPAM {RelayedTaggedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>, Queue-ID: 3A452D963E",
        "Aug  4 11:00:00 mx1 amavis[1]: (01-3) Blocked INFECTED (Eicar-Signature) {DiscardedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>",
        "Aug  4 11:00:00 mx1 amavis[1]: (01-4) Blocked BANNED (.exe) {DiscardedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>",
        "Aug  4 11:00:00 mx1 amavis[1]: (01-5) Passed CLEAN {RelayedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>",
    ]);
    assert_eq!((c.totals.spam, c.totals.virus), (2, 2));
}

#[test]
fn sasl_failures_are_counted_apart_and_garbage_is_unparsed() {
    let c = count(&[
        "Mar 10 13:33:30 gandalf postfix/smtpd[3937]: warning: HOSTNAME[1.1.1.1]: SASL LOGIN authentication failed: authentication failure",
        "Mar 10 13:33:31 gandalf postfix/smtpd[3937]: warning: unknown[1.1.1.1]:55729: SASL PLAIN authentication failed:",
        "not a log line",
        "",
    ]);
    assert_eq!(
        (c.sasl_failures, c.totals.rejected, c.unparsed, c.lines),
        (2, 0, 2, 4)
    );
}

#[test]
fn invalid_utf8_and_over_long_lines_are_unparsed_not_fatal() {
    let mut c = Counter::new(Settings::default(), RejectRules::defaults(), 2026);
    c.feed_bytes(b"Aug  4 10:00:00 mx1 postfix/smtpd[1]: 3A452D963D: client=x[192.0.2.1]\r\n");
    c.feed_bytes(b"Aug  4 10:00:00 mx1 postfix/smtpd[1]: \xff\xfe\n");
    let long = format!(
        "Aug  4 10:00:00 mx1 postfix/smtpd[1]: 3A452D963E: client=x[192.0.2.1]{}",
        " ".repeat(MAX_LINE)
    );
    c.feed_bytes(long.as_bytes());
    assert_eq!((c.lines, c.unparsed, c.totals.received), (3, 2, 1));
}

fn account_series(c: &mut Counter, user: &str) -> Vec<(String, u64)> {
    let batch = c.take_batch();
    let mut out: Vec<(String, u64)> = batch.subjects[SubjectKind::Account as usize]
        .iter()
        .filter(|(who, ..)| *who == user)
        .map(|(_, _, s, n)| (batch.series[s as usize].clone(), n))
        .collect();
    out.sort();
    out
}

/// Postfix < 3.10 does not name the account on reject lines: the reject
/// belongs to whoever authenticated earlier in the same smtpd process
/// (host, pid) — not to another session on the same host.
#[test]
fn pre_3_10_rejects_are_tied_to_the_sessions_account() {
    let mut c = count(&[
        "Aug  4 10:00:00 mx1 postfix/submission/smtpd[77]: connect from cpe[198.51.100.9]",
        "Aug  4 10:00:01 mx1 postfix/submission/smtpd[77]: 4A1B2C3D4E: client=cpe[198.51.100.9], sasl_method=LOGIN, sasl_username=ana@cliente.com.br",
        "Aug  4 10:00:02 mx1 postfix/submission/smtpd[77]: NOQUEUE: reject: RCPT from cpe[198.51.100.9]: 554 5.7.1 <x@y.com>: Relay access denied; from=<ana@cliente.com.br> to=<x@y.com> proto=ESMTP helo=<pc>",
        "Aug  4 10:00:02 mx2 postfix/submission/smtpd[77]: NOQUEUE: reject: RCPT from other[192.0.2.5]: 554 5.7.1 <x@y.com>: Relay access denied; from=<z@e.com> to=<x@y.com> proto=ESMTP helo=<pc>",
        "Aug  4 10:00:03 mx1 postfix/submission/smtpd[77]: disconnect from cpe[198.51.100.9] ehlo=1 auth=1 mail=2 rcpt=1/2 quit=1 commands=6/7",
        "Aug  4 10:00:04 mx1 postfix/submission/smtpd[77]: connect from bot[192.0.2.66]",
        "Aug  4 10:00:05 mx1 postfix/submission/smtpd[77]: NOQUEUE: reject: RCPT from bot[192.0.2.66]: 554 5.7.1 <x@y.com>: Relay access denied; from=<a@b.com> to=<x@y.com> proto=ESMTP helo=<pc>",
    ]);
    assert_eq!(
        account_series(&mut c, "ana@cliente.com.br"),
        [("received", 1), ("reject.relay", 1)].map(|(k, n)| (k.to_string(), n))
    );
}

#[test]
fn postfix_3_10_reject_lines_name_the_account_themselves() {
    let mut c = count(&[
        "Aug  4 10:00:03 mx1 postfix/submission/smtpd[5]: NOQUEUE: reject: RCPT from cpe[198.51.100.9]: 553 5.7.1 <boss@bank.com>: Sender address rejected: not owned by user bia@cliente.com.br; from=<boss@bank.com> to=<t@o.net> proto=ESMTP helo=<pc> sasl_username=bia@cliente.com.br",
    ]);
    assert_eq!(
        account_series(&mut c, "bia@cliente.com.br"),
        [("reject.not_owned", 1)].map(|(k, n)| (k.to_string(), n))
    );
}

#[test]
fn a_message_is_correlated_by_host_and_queue_id() {
    let mut c = count(&[
        "Aug  4 08:00:00 mx1 postfix/smtpd[1]: 3A452D963D: client=mail.e.com[203.0.113.7]",
        "Aug  4 08:00:00 mx2 postfix/smtpd[1]: 3A452D963D: client=other.e.com[203.0.113.8]",
        "Aug  4 08:00:01 mx1 postfix/cleanup[2]: 3A452D963D: message-id=<abc@e.com>",
        "Aug  4 08:00:01 mx1 postfix/qmgr[3]: 3A452D963D: from=<s@e.com>, size=2048, nrcpt=2 (queue active)",
        "Aug  4 08:00:02 mx1 postfix/lmtp[4]: 3A452D963D: to=<a@c.com.br>, relay=mbox[10.0.0.9]:24, delay=2, delays=1/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
        "Aug  4 08:00:02 mx1 postfix/lmtp[4]: 3A452D963D: to=<b@c.com.br>, relay=mbox[10.0.0.9]:24, delay=2, dsn=4.2.2, status=deferred (452 mailbox full)",
        "Aug  4 09:00:02 mx1 postfix/lmtp[4]: 3A452D963D: to=<b@c.com.br>, relay=mbox[10.0.0.9]:24, delay=3602, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
        "Aug  4 09:00:02 mx1 postfix/qmgr[3]: 3A452D963D: removed",
    ]);
    let mut batch = c.take_batch();
    batch.messages.sort_by(|a, b| a.host.cmp(&b.host));
    let [m1, m2] = &batch.messages[..] else {
        panic!("two messages expected, got {:?}", batch.messages)
    };
    assert_eq!(m1.host, "mx1");
    assert!(m1.removed && !m2.removed);
    assert_eq!(m1.client_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(m1.message_id.as_deref(), Some("abc@e.com"));
    assert_eq!(
        (m1.sender.as_deref(), m1.size, m1.nrcpt),
        (Some("s@e.com"), Some(2048), Some(2))
    );
    let outcomes: Vec<_> = m1
        .recipients
        .iter()
        .map(|r| (r.to.as_str(), r.status.as_str(), r.attempts))
        .collect();
    assert_eq!(
        outcomes,
        [("a@c.com.br", "sent", 1), ("b@c.com.br", "sent", 2)]
    );
    assert_eq!(m2.client_ip.as_deref(), Some("203.0.113.8"));
    assert_eq!(c.in_flight().0, 1, "mx2's message is still in flight");
    assert!(c.take_batch().messages.is_empty(), "nothing changed since");
}

/// Endless input with messages that never finish: state stays bounded.
#[test]
fn correlation_state_is_evicted_when_idle() {
    let mut settings = Settings::default();
    settings.limits.idle_secs = 600;
    let mut c = Counter::new(settings, RejectRules::defaults(), 2026);
    for i in 0..300_000u64 {
        let t = 1_000_000 + i; // one line per second
        let line = format!(
            "{} mx1 postfix/smtpd[{}]: {:010X}: client=x[192.0.2.1]",
            chrono::DateTime::from_timestamp(t as i64, 0)
                .unwrap()
                .to_rfc3339(),
            i % 1000,
            i
        );
        c.feed(&line);
        if i % 100_000 == 0 {
            c.take_batch();
        }
    }
    let (messages, _) = c.in_flight();
    assert!(
        messages <= 600 + EVICT_EVERY as usize,
        "{messages} messages held"
    );
    assert_eq!(c.totals.received, 300_000);
}

/// A reject line from `ip` with reply `reply`, at second `s` of 10:00.
fn reject_line(s: u32, ip: &str, reply: &str) -> String {
    format!(
        "Aug  4 10:{:02}:{:02} mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[{ip}]: {reply}; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
        s / 60,
        s % 60
    )
}

/// Issue 17 item 7: the classes that used to fall into `other` (or, for a
/// sender, into `unknown_user`), each from a line as Postfix writes it.
#[test]
fn the_new_default_classes() {
    let replies = [
        (
            "helo",
            "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
        ),
        (
            "helo",
            "550 5.7.1 <[192.0.2.1]>: Helo command rejected: Go away",
        ),
        (
            "recipient_denied",
            "554 5.7.1 <u@c.com.br>: Recipient address rejected: Access denied",
        ),
        (
            "reverse_dns",
            "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]",
        ),
        (
            "reverse_dns",
            "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]",
        ),
        (
            "sender_unknown",
            "550 5.1.0 <nobody@cliente.com.br>: Sender address rejected: User unknown in local recipient table",
        ),
        (
            "sender_unknown",
            "550 5.1.0 <nobody@cliente.com.br>: Sender address rejected: User unknown in virtual mailbox table",
        ),
        (
            "unknown_user",
            "550 5.1.1 <zz@cliente.com.br>: Recipient address rejected: User unknown in local recipient table",
        ),
        ("server", "452 4.3.1 Insufficient system storage"),
        ("server", "451 4.3.0 <u@c.com.br>: Temporary lookup failure"),
        ("server", "451 4.3.5 Server configuration problem"),
        (
            "server",
            "451 4.3.5 <u@c.com.br>: Recipient address rejected: Server configuration error",
        ),
        ("server", "451 4.3.0 Error: queue file write error"),
    ];
    let lines: Vec<String> = replies
        .iter()
        .enumerate()
        .map(|(i, (_, reply))| reject_line(i as u32, "192.0.2.1", reply))
        .collect();
    let mut lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let milter = "Aug  4 10:01:00 mx1 postfix/cleanup[8]: 5B1C2D3E50: milter-reject: END-OF-MESSAGE from x[192.0.2.1]: 4.7.1 Service unavailable - try again later; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>";
    lines.push(milter);
    let c = count(&lines);
    assert_eq!(c.totals.rejected, replies.len() as u64 + 1);
    let mut expected: Vec<(String, u64)> = Vec::new();
    for class in c.reject_classes().map(|(k, _)| k) {
        let n =
            replies.iter().filter(|(k, _)| *k == class).count() as u64 + u64::from(class == SERVER);
        if n > 0 {
            expected.push((class.to_string(), n));
        }
    }
    assert_eq!(classes(&c), expected);
    assert_eq!(expected.len(), 6, "{expected:?}");
}

/// Detection in `c` by one policy per IP counting `metric`: 5 in 10
/// minutes proposes a block.
fn detect_one(c: &mut Counter, metric: crate::detect::Metric) {
    use crate::detect::{Allowlist, Detector, Policy};
    c.detect_with(Detector::new(
        vec![Policy {
            name: "test".into(),
            subject: SubjectKind::Ip,
            metric,
            window_secs: 600,
            threshold: 5,
            burst_factor: None,
            block_minutes: 60,
            auto_approve: false,
            per_network: false,
        }],
        Allowlist::default(),
    ));
}

/// A counter running one policy counting `metric` (see [`detect_one`])
/// over `lines`: the targets proposed.
fn proposed_by(metric: crate::detect::Metric, lines: &[String]) -> Vec<String> {
    let mut c = count(&[]);
    detect_one(&mut c, metric);
    for l in lines {
        c.feed(l);
    }
    c.proposals().iter().map(|p| p.target.clone()).collect()
}

/// `reply` ten times from `ip`, a second apart from `start`.
fn ten_rejects(start: u32, ip: &str, reply: &str) -> Vec<String> {
    (0..10).map(|i| reject_line(start + i, ip, reply)).collect()
}

/// A sender refused as unknown is no guess at a recipient: the
/// dictionary-attack policy (class `unknown_user`) does not count it.
#[test]
fn an_unknown_sender_is_not_a_dictionary_attack() {
    use crate::detect::Metric;
    let dictionary = || Metric::Reject(Some("unknown_user".into()));
    let mut lines = ten_rejects(
        0,
        "192.0.2.1",
        "550 5.1.0 <x@cliente.com.br>: Sender address rejected: User unknown in local recipient table",
    );
    assert!(proposed_by(dictionary(), &lines).is_empty());
    lines.extend(ten_rejects(
        100,
        "192.0.2.2",
        "550 5.1.1 <y@cliente.com.br>: Recipient address rejected: User unknown in local recipient table",
    ));
    assert_eq!(proposed_by(dictionary(), &lines), ["192.0.2.2"]);
}

/// The server's own temporary trouble is nobody's abuse: neither a policy
/// on any class nor one naming `server` counts it.
#[test]
fn server_failures_are_counted_by_no_policy() {
    use crate::detect::Metric;
    let mut lines = ten_rejects(0, "192.0.2.1", "452 4.3.1 Insufficient system storage");
    for metric in [Metric::Reject(None), Metric::Reject(Some(SERVER.into()))] {
        assert!(proposed_by(metric, &lines).is_empty());
    }
    lines.extend(ten_rejects(
        100,
        "192.0.2.2",
        "554 5.7.1 <v@o.org>: Relay access denied",
    ));
    assert_eq!(proposed_by(Metric::Reject(None), &lines), ["192.0.2.2"]);
}

/// Only `other` rejects are tallied by their normalised text, with their
/// first and last time and a sample line.
#[test]
fn unclassified_rejects_are_tallied_by_text() {
    let mut c = count(&[
        &reject_line(
            0,
            "192.0.2.1",
            "550 5.7.1 <a@x.example>: Recipient address rejected: Mailbox disabled for 30 days",
        ),
        &reject_line(
            5,
            "192.0.2.2",
            "550 5.7.1 <b@y.example>: Recipient address rejected: Mailbox disabled for 2 days",
        ),
        &reject_line(9, "192.0.2.3", "554 5.7.1 <v@o.org>: Relay access denied"),
    ]);
    let batch = c.take_batch();
    let texts: Vec<_> = batch.unclassified.iter().collect();
    assert_eq!(texts.len(), 1);
    let (text, tally) = texts[0];
    assert_eq!(
        text,
        "550 5.7.1 <addr>: Recipient address rejected: Mailbox disabled for <n> days"
    );
    assert_eq!((tally.n, tally.last_at - tally.first_at), (2, 5));
    assert_eq!(tally.samples.len(), 2);
    assert!(tally.samples[0].ends_with("helo=<x>") && tally.samples[0].contains("192.0.2.1"));
    assert!(c.take_batch().unclassified.is_empty());
}

/// The counts of `log` fed line by line, and fed as another thread does:
/// each line parsed and classified first (its header and event kept as
/// spans, in a block of its own), then counted in order.
fn counted_both_ways(log: &[u8]) -> [Counter; 2] {
    use crate::event::classify;
    use crate::syslog::YearGuess;
    let new = || Counter::new(Settings::default(), RejectRules::defaults(), 2026);
    let (mut one, mut ahead) = (new(), new());
    let mut years = YearGuess::new(2026);
    for raw in log.split_inclusive(|b| *b == b'\n') {
        one.feed_bytes(raw);
        let spans = parse_bytes(raw, &mut years).map(|h| (h.spans(raw), classify(&h).spans(raw)));
        let text = std::str::from_utf8(raw).ok();
        match spans.and_then(|(h, e)| Some((h.header(text?)?, e.event(text?)))) {
            Some((h, event)) => ahead.feed_classified(Some(h), event, years),
            None => ahead.feed_parsed(None, years),
        }
    }
    [one, ahead]
}

fn summary(c: &mut Counter) -> String {
    let batch = c.take_batch();
    format!(
        "{} lines, {} unparsed, {:?}, {:?}, {} SASL, {:?}, in flight {:?}, {:?} .. {:?}, \
         {} messages, {} proposals",
        c.lines,
        c.unparsed,
        c.totals,
        classes(c),
        c.sasl_failures,
        c.years(),
        c.in_flight(),
        c.first_at,
        c.last_at,
        batch.messages.len(),
        c.proposals().len(),
    )
}

/// Classified ahead or line by line, every corpus file and a generated
/// log count the same.
#[test]
fn lines_classified_ahead_count_as_lines_fed_one_by_one() {
    let mut logs: Vec<(String, Vec<u8>)> = crate::syslog::corpus::corpus_files()
        .into_iter()
        .map(|f| (f.display().to_string(), std::fs::read(&f).unwrap()))
        .collect();
    let mut g = crate::generate::Generator::new(crate::generate::Shape {
        seed: 5,
        start: 1_793_491_200,
        lines_per_day: 2_000_000,
        hosts: vec!["mx1".into(), "mx2".into()],
        rfc3339: false,
    });
    let mut generated = String::new();
    for _ in 0..30_000 {
        g.next_line(&mut generated);
    }
    logs.push(("generated".into(), generated.into_bytes()));
    let mut events = 0;
    for (name, log) in &logs {
        let [mut one, mut ahead] = counted_both_ways(log);
        events += one.totals.received + one.totals.sent + one.totals.rejected;
        assert_eq!(summary(&mut ahead), summary(&mut one), "{name}");
    }
    assert!(events > 5_000, "{events}");
}
