//! The detector, event by event: thresholds, windows, bursts, the
//! allowlist, queue ids and bounded memory.

use super::proposals::SAMPLES_BEFORE;
use super::*;
use crate::time::MINUTE;

fn policy(
    name: &str,
    subject: SubjectKind,
    metric: Metric,
    window_min: i64,
    threshold: u64,
) -> Policy {
    Policy {
        name: name.into(),
        subject,
        metric,
        window_secs: window_min * MINUTE,
        threshold,
        burst_factor: None,
        block_minutes: 60,
        auto_approve: false,
    }
}

fn dictionary() -> Policy {
    policy(
        "dictionary",
        SubjectKind::Ip,
        Metric::Reject(Some("unknown_user".into())),
        10,
        20,
    )
}

fn line(i: i64) -> impl Fn() -> String {
    move || format!("line {i}")
}

#[test]
fn fires_at_the_threshold_within_the_window_only() {
    let mut d = Detector::new(vec![dictionary()], Allowlist::default());
    // 19 in ten minutes (one-minute buckets: this one and the nine
    // before): nothing.
    for i in 0..19 {
        d.reject(
            1000 + i * 28,
            Some("192.0.2.1"),
            None,
            "unknown_user",
            line(i),
        );
    }
    assert!(d.proposals().is_empty());
    // The 20th within the window fires.
    d.reject(
        1000 + 19 * 28,
        Some("192.0.2.1"),
        None,
        "unknown_user",
        line(19),
    );
    let p = &d.proposals()[0];
    assert_eq!(
        (p.subject, p.target.as_str()),
        (SubjectKind::Ip, "192.0.2.1")
    );
    assert_eq!(p.policy, "dictionary");
    assert_eq!(p.reasons["unknown_user"], 20);
    assert_eq!((p.first_seen, p.last_seen), (1532, 1532));
    // The lines kept before (from half way to the threshold), and the
    // one that fired.
    let taken = d.take_changed();
    assert_eq!(taken[0].samples.len(), SAMPLES_BEFORE + 1);
    assert_eq!(taken[0].samples.last().unwrap(), "line 19");
    // Later events refresh the same proposal; samples grow to 20.
    for i in 20..60 {
        d.reject(1600 + i, Some("192.0.2.1"), None, "unknown_user", line(i));
    }
    assert_eq!(d.proposals().len(), 1);
    let taken = d.take_changed();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].last_seen, 1659);
    assert_eq!(taken[0].samples.len(), MAX_SAMPLES);
    assert_eq!(taken[0].samples.last().unwrap(), "line 59");
    assert!(d.take_changed().is_empty());
    // Spread out, 40 over two hours never reach 20 in a window.
    for i in 0..40 {
        d.reject(
            10_000 + i * 180,
            Some("192.0.2.2"),
            None,
            "unknown_user",
            line(i),
        );
    }
    assert_eq!(d.proposals().len(), 1);
    // Another class does not count.
    for i in 0..30 {
        d.reject(20_000 + i, Some("192.0.2.3"), None, "relay", line(i));
    }
    assert_eq!(d.proposals().len(), 1);
}

#[test]
fn allowlisted_subjects_are_never_proposed() {
    let allow = Allowlist {
        networks: vec!["192.0.2.0/24".parse().unwrap()],
        accounts: ["partner@example.com".to_string()].into_iter().collect(),
    };
    let mut d = Detector::new(
        vec![
            dictionary(),
            policy(
                "account rejects",
                SubjectKind::Account,
                Metric::Reject(None),
                10,
                5,
            ),
        ],
        allow,
    );
    for i in 0..100 {
        d.reject(
            1000 + i,
            Some("192.0.2.9"),
            Some("Partner@example.com"),
            "unknown_user",
            line(i),
        );
    }
    assert!(d.proposals().is_empty());
}

#[test]
fn a_compromised_account_bursts_above_its_own_usual_rate() {
    let mut recipients = policy(
        "compromised: recipients",
        SubjectKind::Account,
        Metric::Recipients,
        10,
        200,
    );
    recipients.burst_factor = Some(5.0);
    let ips = policy(
        "compromised: many IPs",
        SubjectKind::Account,
        Metric::DistinctIps,
        60,
        10,
    );
    let mut d = Detector::new(vec![recipients, ips], Allowlist::default());
    let mut t = 0;
    let mut qid = 0;
    let mut send = |d: &mut Detector, t: i64, account: &str, ip: &str, n: u64| {
        qid += 1;
        let q = format!("Q{qid:X}");
        d.message(t, 0, &q, ip, Some(account), String::new);
        d.recipients(t, 0, &q, n);
        d.removed(0, &q);
    };
    // A steady bulk sender: 300 recipients every ten minutes all day,
    // from one IP. Over the threshold, but never a burst (and its
    // first window has no history to judge a burst by).
    send(&mut d, t, "news@example.com", "198.51.100.1", 300);
    for _ in 0..144 {
        t += 600;
        send(&mut d, t, "news@example.com", "198.51.100.1", 300);
    }
    // A quiet account, then a burst of 2,000 recipients from 12 IPs.
    for i in 0..12 {
        send(
            &mut d,
            t + i,
            "maria@example.com",
            &format!("203.0.113.{i}"),
            170,
        );
    }
    let fired: Vec<_> = d
        .proposals()
        .iter()
        .map(|p| (p.target.as_str(), p.policy.as_str()))
        .collect();
    assert_eq!(fired, [("maria@example.com", "compromised: recipients")]);
    let p = &d.proposals()[0];
    assert_eq!(p.reasons["recipients"], 2040);
    assert_eq!(p.distinct_ips, 12);
}

#[test]
fn distinct_recipients_and_bounces_follow_the_queue_id() {
    let mut d = Detector::new(
        vec![
            policy(
                "spread",
                SubjectKind::Account,
                Metric::DistinctRecipients,
                10,
                50,
            ),
            policy("bounces", SubjectKind::Account, Metric::Bounces, 10, 30),
        ],
        Allowlist::default(),
    );
    d.message(
        100,
        1,
        "ABC123",
        "203.0.113.5",
        Some("x@example.com"),
        String::new,
    );
    for i in 0..49 {
        // The same recipient twice is one.
        d.delivery(101, 1, "ABC123", &format!("r{i}@example.net"), false);
        d.delivery(102, 1, "ABC123", &format!("R{i}@example.net"), false);
    }
    // Another host's queue id is another message.
    d.delivery(103, 2, "ABC123", "other@example.net", false);
    assert!(d.proposals().is_empty());
    d.delivery(104, 1, "ABC123", "r49@example.net", true);
    assert_eq!(d.proposals()[0].policy, "spread");
    assert_eq!(d.proposals()[0].reasons["distinct_recipients"], 50);
    d.removed(1, "ABC123");
    d.delivery(105, 1, "ABC123", "late@example.net", true);
    assert_eq!(d.proposals()[0].reasons.get("bounces"), Some(&1));
}

#[test]
fn memory_stays_flat_on_endless_input() {
    let mut d = Detector::new(vec![dictionary()], Allowlist::default());
    for i in 0..200_000i64 {
        let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        d.reject(i, Some(&ip), None, "unknown_user", String::new);
    }
    // Ten minutes (one window, no burst history) of subjects.
    assert!(d.len() <= 700, "{} subjects held", d.len());
}
