//! Repeat lines (`last message repeated N times`, rsyslog's `message
//! repeated N times: […]`) through the whole counter: each stands for N
//! more copies, of the previous line of its host or of its bracketed text.

use mailflow::count::{Counter, RejectRules, Settings};
use mailflow::syslog::MAX_REPEAT;
use std::time::{Duration, Instant};

fn count(lines: &[&str]) -> Counter {
    let mut c = Counter::new(Settings::default(), RejectRules::defaults(), 2026);
    for l in lines {
        c.feed(l);
    }
    c
}

const SASL: &str = "Mar  1 10:00:00 mx1 postfix/smtpd[100]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6";
const SENT: &str = "Mar  1 10:00:01 mx2 postfix/smtp[200]: 46E0BAB8E5: to=<ana@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.0.27]:25, delay=1, dsn=2.0.0, status=sent (250 2.0.0 OK)";
const REJECT: &str = "Mar  1 10:00:02 mx2 postfix/smtpd[201]: NOQUEUE: reject: RCPT from unknown[198.51.100.4]: 550 5.1.1 <zz@cliente.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@spam.example> to=<zz@cliente.com.br> proto=ESMTP helo=<x>";

#[test]
fn sysklogd_repeats_count_as_copies_of_the_previous_line() {
    let c = count(&[SASL, "Mar  1 10:00:30 mx1 last message repeated 3 times"]);
    assert_eq!(c.sasl_failures, 4);
    assert_eq!((c.lines, c.unparsed), (2, 0));
    assert_eq!(
        (c.coverage.repeat_lines, c.coverage.repeats_left_out),
        (1, 0)
    );
    assert!(c.coverage.warnings().is_empty());
}

#[test]
fn the_previous_line_is_the_one_of_the_same_host() {
    let c = count(&[
        SASL,
        REJECT,
        "Mar  1 10:00:30 mx1 last message repeated 2 times",
        "Mar  1 10:00:31 mx2 last message repeated 5 times",
        // A host with no line before: nothing to repeat, yet not unparsed.
        "Mar  1 10:00:32 mx3 last message repeated 9 times",
    ]);
    assert_eq!(c.sasl_failures, 3);
    assert_eq!(c.totals.rejected, 6);
    assert_eq!(c.unparsed, 0);
}

/// A line naming a queue id is never folded (Postfix does not write one
/// twice in a row): a repeat line after it replays neither it nor the
/// line before it.
#[test]
fn a_queue_id_line_is_not_replayed() {
    let c = count(&[
        REJECT,
        SENT,
        "Mar  1 10:00:31 mx2 last message repeated 5 times",
    ]);
    assert_eq!((c.totals.sent, c.totals.rejected), (1, 1));
    assert_eq!(c.unparsed, 0);
}

#[test]
fn rsyslog_repeats_count_their_bracketed_text() {
    let c = count(&[
        "Mar  1 10:00:00 mx1 postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[198.51.100.4]: 550 5.1.1 <zz@cliente.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@spam.example> to=<zz@cliente.com.br> proto=ESMTP helo=<x>",
        "Mar  1 10:00:30 mx1 postfix/smtpd[100]: message repeated 4 times: [ NOQUEUE: reject: RCPT from unknown[198.51.100.4]: 550 5.1.1 <zz@cliente.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@spam.example> to=<zz@cliente.com.br> proto=ESMTP helo=<x>]",
        // Its own text, whatever the line before was.
        SASL,
        "Mar  1 10:00:40 mx1 postfix/smtpd[100]: message repeated 2 times: [ warning: unknown[203.0.113.9]: SASL PLAIN authentication failed: x]",
    ]);
    assert_eq!(c.totals.rejected, 5);
    assert_eq!(c.sasl_failures, 3);
    assert_eq!(c.unparsed, 0);
}

#[test]
fn hostile_repeat_counts_are_capped_and_reported() {
    let started = Instant::now();
    let mut lines = vec![SASL];
    lines.extend(["Mar  1 10:00:30 mx1 last message repeated 18446744073709551616 times"; 1000]);
    lines.push("Mar  1 10:00:31 mx1 last message repeated 1000000000 times");
    let c = count(&lines);
    // The first repeat replays one line's cap; the others only what the
    // lines read since earned.
    let replayed = c.sasl_failures - 1;
    assert!(
        (MAX_REPEAT..=MAX_REPEAT + 1001 * mailflow::syslog::REPLAY_PER_LINE).contains(&replayed),
        "{replayed}"
    );
    assert_eq!(c.coverage.repeat_lines, 1001);
    // Saturated, never overflowing.
    assert_eq!(c.coverage.repeats_left_out, u64::MAX);
    assert!(started.elapsed() < Duration::from_secs(30));
    let warnings = c.coverage.warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].kind, "repeats_capped");
}
