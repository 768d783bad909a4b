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
        per_network: false,
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

/// The default policies against a distributed SASL brute force, as the
/// server seeds them: per address, per account, per network.
fn sasl_policies() -> Vec<Policy> {
    let per_ip = policy("sasl", SubjectKind::Ip, Metric::SaslFailures, 10, 20);
    let per_account = policy(
        "sasl-account",
        SubjectKind::Account,
        Metric::SaslFailures,
        60,
        60,
    );
    let mut per_network = policy(
        "sasl-network",
        SubjectKind::Ip,
        Metric::SaslFailures,
        60,
        100,
    );
    per_network.per_network = true;
    vec![per_ip, per_account, per_network]
}

/// A counter of real lines running `policies` with `settings`.
fn counter_with(
    settings: crate::count::Settings,
    policies: Vec<Policy>,
    allow: Allowlist,
) -> crate::count::Counter {
    let rules = crate::count::RejectRules::defaults();
    let mut c = crate::count::Counter::new(settings, rules, 2026);
    c.detect_with(Detector::new(policies, allow));
    c
}

/// A Postfix 3.x failed login naming the account tried, `secs` after 10:00.
fn failed_login(secs: i64, ip: &str, account: &str) -> String {
    let (m, s) = (secs / 60, secs % 60);
    format!(
        "Nov 30 10:{m:02}:{s:02} smtp1 postfix/submission/smtpd[200]: warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username={account}"
    )
}

fn proposed(c: &crate::count::Counter) -> Vec<(SubjectKind, String, String)> {
    let mut v: Vec<_> = c
        .proposals()
        .iter()
        .map(|p| (p.subject, p.target.clone(), p.policy.clone()))
        .collect();
    v.sort();
    v
}

/// Issue 17 item 6: 1,063 failures from 163 addresses of one /24, at most
/// 16 from any, against one account within an hour. No address reaches
/// the per-address threshold; the account and the /24 are proposed.
#[test]
fn a_distributed_brute_force_is_proposed_per_account_and_per_network() {
    let mut c = counter_with(Default::default(), sasl_policies(), Allowlist::default());
    let mut per_ip = std::collections::HashMap::new();
    for i in 0..1063 {
        // The first address tries 16 times, the other 162 share the rest.
        let host = if i < 16 { 1 } else { 2 + (i - 16) % 162 };
        let ip = format!("198.51.100.{host}");
        *per_ip.entry(ip.clone()).or_insert(0) += 1;
        c.feed(&failed_login(i * 3, &ip, "joao@cliente.com.br"));
    }
    assert_eq!(per_ip.len(), 163);
    assert_eq!(per_ip.values().max(), Some(&16));
    assert_eq!(c.sasl_failures, 1063);
    assert_eq!(
        proposed(&c),
        [
            (
                SubjectKind::Ip,
                "198.51.100.0/24".into(),
                "sasl-network".into()
            ),
            (
                SubjectKind::Account,
                "joao@cliente.com.br".into(),
                "sasl-account".into()
            ),
        ]
    );
    let net = c
        .proposals()
        .iter()
        .find(|p| p.policy == "sasl-network")
        .unwrap();
    assert!(net.reasons["sasl_failures"] >= 100, "{:?}", net.reasons);
    // Its evidence is the lines of its addresses.
    let mut c2 = counter_with(Default::default(), sasl_policies(), Allowlist::default());
    for i in 0..200 {
        let host = 1 + i % 50;
        c2.feed(&failed_login(
            i * 3,
            &format!("198.51.100.{host}"),
            "ana@cliente.com.br",
        ));
    }
    let batch = c2.take_batch();
    let net = batch
        .proposals
        .iter()
        .find(|p| p.policy == "sasl-network")
        .unwrap();
    assert!(net.samples.iter().all(|l| l.contains("198.51.100.")));
    assert!(!net.samples.is_empty());
}

/// The same over IPv6: addresses in different /64s of one /48 make one
/// network proposal, the /48.
#[test]
fn an_ipv6_brute_force_is_proposed_as_its_48() {
    let mut c = counter_with(Default::default(), sasl_policies(), Allowlist::default());
    for i in 0..150 {
        let ip = format!("2001:db8:42:{:x}::{:x}", i % 9, 1 + i % 5);
        c.feed(&failed_login(
            i * 10,
            &ip,
            &format!("user{i}@cliente.com.br"),
        ));
    }
    assert_eq!(
        proposed(&c),
        [(
            SubjectKind::Ip,
            "2001:db8:42::/48".into(),
            "sasl-network".into()
        )]
    );
}

/// One noisy address is the per-address policy's: its network is not
/// proposed for it (fewer than `NETWORK_MIN_IPS` addresses took part).
#[test]
fn one_address_does_not_make_its_network_proposed() {
    let mut c = counter_with(Default::default(), sasl_policies(), Allowlist::default());
    for i in 0..150 {
        c.feed(&failed_login(
            i * 2,
            "203.0.113.9",
            &format!("u{i}@cliente.com.br"),
        ));
    }
    assert_eq!(
        proposed(&c),
        [(SubjectKind::Ip, "203.0.113.9".into(), "sasl".into())]
    );
}

/// Issue 17 item 4: the relays' own addresses, the customer pools (both
/// `Settings::never_propose`) and the never-block networks (in the
/// allowlist the server builds) are never proposed, by address or by a
/// network around them; an account attacked from them still is.
#[test]
fn relays_customer_pools_and_never_block_networks_are_never_proposed() {
    let settings = crate::count::Settings {
        never_propose: vec![
            "198.51.100.10/32".parse().unwrap(),
            "177.16.0.0/12".parse().unwrap(),
        ],
        ..Default::default()
    };
    let allow = Allowlist {
        networks: vec!["203.0.113.0/24".parse().unwrap()],
        ..Default::default()
    };
    let mut c = counter_with(settings, sasl_policies(), allow);
    let mut t = 0;
    // Each source hammers alone (a per-address proposal) and with its
    // neighbours (a per-network one), each against its own account.
    for (single, net, account) in [
        ("198.51.100.10", "198.51.100", "relay@cliente.com.br"),
        ("177.20.1.1", "177.20.1", "pool@cliente.com.br"),
        ("203.0.113.5", "203.0.113", "never@cliente.com.br"),
    ] {
        for i in 0..150 {
            let ip = if i % 2 == 0 {
                single.to_string()
            } else {
                format!("{net}.{}", 100 + i % 40)
            };
            c.feed(&failed_login(t, &ip, account));
            t += 1;
        }
    }
    let got = proposed(&c);
    assert!(
        got.iter().all(|(kind, _, _)| *kind == SubjectKind::Account),
        "{got:?}"
    );
    assert_eq!(got.len(), 3, "{got:?}");
}

/// Per-minute SASL failures for `hours` hours from `start`, `per_hour`
/// each hour, spread evenly.
fn steady(d: &mut Detector, start: i64, hours: i64, per_hour: i64) {
    for h in 0..hours {
        for i in 0..per_hour {
            let at = start + h * 3600 + i * 3600 / per_hour;
            d.sasl_failure(at, &format!("192.0.2.{}", i % 200), None, String::new);
        }
    }
}

/// A burst far above the usual rate raises one alert, updated while it
/// lasts; a steady high rate and a quiet server's few do not.
#[test]
fn alerts_on_a_burst_not_on_a_steady_rate() {
    let day = 86_400;
    // Two days at 60 failures an hour, then an hour at 1,500.
    let mut d = Detector::new(vec![], Allowlist::default());
    steady(&mut d, 0, 48, 60);
    assert!(d.alerts().is_empty());
    steady(&mut d, 2 * day, 1, 1500);
    let alerts = d.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.kind, "sasl_failures");
    assert_eq!(a.usual, 60.0);
    assert!(a.count >= 1400, "{a:?}");
    assert!(a.since >= 2 * day && a.since < 2 * day + 3600, "{a:?}");
    assert!(a.ratio() > 20.0);
    // Taken once as changed, with its latest count.
    let changed = d.take_changed_alerts();
    assert_eq!(changed.len(), 1);
    assert!(d.take_changed_alerts().is_empty());

    // 1,500 an hour for three days: that is the usual, never an alert.
    let mut d = Detector::new(vec![], Allowlist::default());
    steady(&mut d, 0, 72, 1500);
    assert!(d.alerts().is_empty(), "{:?}", d.alerts());

    // A quiet server: 3 after two days of nothing (but one a day).
    let mut d = Detector::new(vec![], Allowlist::default());
    steady(&mut d, 0, 48, 1);
    steady(&mut d, 2 * day, 1, 40);
    assert!(d.alerts().is_empty(), "{:?}", d.alerts());

    // Without a day of history, nothing is judged.
    let mut d = Detector::new(vec![], Allowlist::default());
    steady(&mut d, 0, 1, 5000);
    assert!(d.alerts().is_empty());
}

/// Rejects alert per class, named as their series.
#[test]
fn a_reject_class_alerts_by_its_own_rate() {
    let mut d = Detector::new(vec![], Allowlist::default());
    for h in 0..30 {
        for i in 0..100 {
            let at = h * 3600 + i * 36;
            d.reject(at, Some("192.0.2.1"), None, "rbl", String::new);
            if h < 29 || i % 2 == 0 {
                // unknown_user steady at 100 an hour (50 in the last).
                d.reject(at, Some("192.0.2.2"), None, "unknown_user", String::new);
            }
        }
    }
    // rbl jumps to 3,000 in the 31st hour; unknown_user stays.
    for i in 0..3000 {
        let at = 30 * 3600 + i;
        d.reject(at, Some("192.0.2.1"), None, "rbl", String::new);
        if i % 36 == 0 {
            d.reject(at, Some("192.0.2.2"), None, "unknown_user", String::new);
        }
    }
    let kinds: Vec<&str> = d.alerts().iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, ["reject.rbl"]);
}
