//! A seeded generator of realistic Postfix logs: the ISP's mix of inbound
//! mail (some through the `crm=` content filter and its pickup
//! re-injection, some through amavis), authenticated customer submissions
//! with remote deliveries that are sent, deferred or bounced, NOQUEUE
//! rejects of every class, postscreen and SASL brute-force noise, and
//! several relays interleaved in one stream. The same seed gives the same
//! bytes, so benchmarks and tests are repeatable.
//!
//! [`Generator::with_attacks`] adds the attacks the defence is there for
//! (see [`Attacks`]) on top of that mix, at set log times: their lines are
//! inserted between the usual ones, which stay exactly the lines the seed
//! gives without them.

use crate::time::{DAY, UnixTime};
use std::collections::VecDeque;
use std::fmt::Write as _;

/// Microseconds in a second: the generator's clock ticks in them.
const MICROS: u64 = 1_000_000;

/// How the generated log looks.
#[derive(Clone, Debug)]
pub struct Shape {
    pub seed: u64,
    /// Log time of the first line.
    pub start: UnixTime,
    /// Lines per day of log time (sets the clock's pace).
    pub lines_per_day: u64,
    pub hosts: Vec<String>,
    /// RFC 3339 timestamps instead of classic syslog ones.
    pub rfc3339: bool,
}

/// A small, fast PRNG (xorshift64*): the generator needs repeatability, not
/// cryptographic quality.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// The customer domains the generated mail is for (an ISP's hosted domains).
pub const CUSTOMERS: [&str; 6] = [
    "cliente.com.br",
    "provedor.net.br",
    "lojaxyz.com.br",
    "escola.edu.br",
    "fazenda.agr.br",
    "padaria.com.br",
];
const REMOTE: [&str; 8] = [
    "gmail.com",
    "hotmail.com",
    "yahoo.com.br",
    "uol.com.br",
    "terra.com.br",
    "bol.com.br",
    "outlook.com",
    "icloud.com",
];
const USERS: [&str; 10] = [
    "ana", "bruno", "carla", "diego", "eva", "fabio", "gabi", "hugo", "iris", "joao",
];

/// One message or session: its lines, emitted one by one interleaved with
/// other scenarios (times are stamped when a line is emitted).
type Scenario = VecDeque<(String, String, String)>;

/// The syslog tag `program[pid]`.
fn syslog_tag(program: &str, pid: u32) -> String {
    format!("{program}[{pid}]")
}

/// Produces lines forever; see [`Shape`].
pub struct Generator {
    rng: Rng,
    shape: Shape,
    clock_us: i64,
    step_us: i64,
    active: Vec<Scenario>,
    next_qid: u64,
    next_pid: u32,
    /// Attack lines still to write: (log time in µs, host, program,
    /// message), latest first.
    attacks: Vec<(i64, String, String, String)>,
}

impl Generator {
    pub fn new(shape: Shape) -> Self {
        let step_us = (DAY as u64 * MICROS / shape.lines_per_day.max(1)) as i64;
        Self {
            rng: Rng(shape.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            clock_us: shape.start * MICROS as i64,
            step_us,
            active: Vec::new(),
            next_qid: 0x1_0000_0000 + shape.seed % 0x1000,
            next_pid: 1000,
            attacks: Vec::new(),
            shape,
        }
    }

    /// Adds the [`Attacks`] from log time `at` on (they last about five
    /// hours). Their lines come on top of the `lines` asked of
    /// [`write_lines`](Self::write_lines), each stamped with the log clock
    /// when its time comes; those after the last usual line are not written.
    pub fn with_attacks(mut self, at: UnixTime) -> Self {
        let host = self
            .shape
            .hosts
            .first()
            .cloned()
            .unwrap_or_else(|| "mx1".into());
        let mut lines = Attacks::new(self.shape.seed, host).lines(at * MICROS as i64);
        lines.sort_by_key(|l| std::cmp::Reverse(l.0));
        self.attacks = lines;
        self
    }

    /// Writes the next `lines` lines to `out` (buffer it: one write a line).
    pub fn write_lines(
        &mut self,
        lines: u64,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        let mut line = String::with_capacity(512);
        for _ in 0..lines {
            line.clear();
            self.next_line(&mut line);
            out.write_all(line.as_bytes())?;
        }
        out.flush()
    }

    /// Appends the next line (with its `\n`) to `out`.
    pub fn next_line(&mut self, out: &mut String) {
        while self.active.len() < 12 {
            let s = self.scenario();
            if !s.is_empty() {
                self.active.push(s);
            }
        }
        let i = self.rng.below(self.active.len() as u64) as usize;
        let (host, program, message) = self.active[i].pop_front().expect("non-empty");
        if self.active[i].is_empty() {
            self.active.swap_remove(i);
        }
        self.clock_us += self.rng.below(2 * self.step_us as u64) as i64;
        while self.attacks.last().is_some_and(|a| a.0 <= self.clock_us) {
            let (_, host, program, message) = self.attacks.pop().expect("checked");
            self.stamp(out);
            let _ = writeln!(out, " {host} {program}: {message}");
        }
        self.stamp(out);
        let _ = writeln!(out, " {host} {program}: {message}");
    }

    fn stamp(&self, out: &mut String) {
        let at = chrono::DateTime::from_timestamp_micros(self.clock_us).unwrap_or_default();
        if self.shape.rfc3339 {
            let _ = write!(out, "{}", at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00"));
        } else {
            let _ = write!(out, "{}", at.format("%b %e %H:%M:%S"));
        }
    }

    fn qid(&mut self) -> String {
        self.next_qid += 1 + self.rng.below(7);
        format!("{:X}", self.next_qid & 0xFF_FFFF_FFFF)
    }

    fn pid(&mut self) -> u32 {
        self.next_pid = 1000 + (self.next_pid + 1 + self.rng.below(50) as u32) % 60_000;
        self.next_pid
    }

    fn ip(&mut self) -> String {
        let a = [187, 177, 189, 200, 201, 45, 179, 191][self.rng.below(8) as usize];
        format!(
            "{a}.{}.{}.{}",
            self.rng.below(256),
            self.rng.below(256),
            1 + self.rng.below(254)
        )
    }

    fn customer(&mut self) -> String {
        format!(
            "{}{}@{}",
            self.rng.pick(&USERS),
            self.rng.below(400),
            self.rng.pick(&CUSTOMERS)
        )
    }

    fn remote(&mut self) -> String {
        format!(
            "{}{}@{}",
            self.rng.pick(&USERS),
            self.rng.below(5000),
            self.rng.pick(&REMOTE)
        )
    }

    fn scenario(&mut self) -> Scenario {
        let host = self.shape.hosts[self.rng.below(self.shape.hosts.len() as u64) as usize].clone();
        match self.rng.below(100) {
            0..=39 => self.inbound(host),
            40..=67 => self.rejected(host),
            68..=84 => self.submission(host),
            85..=90 => self.sasl_attack(host),
            91..=94 => self.postscreen(host),
            _ => self.noise(host),
        }
    }

    fn inbound(&mut self, host: String) -> Scenario {
        let mut s = Scenario::new();
        let pid = self.pid();
        let ip = self.ip();
        let name = format!("mail{}.{}", self.rng.below(20), self.rng.pick(&REMOTE));
        let from = self.remote();
        let q1 = self.qid();
        let smtpd = "postfix/smtpd";
        let mut push = |prog: &str, msg: String| s.push_back((host.clone(), prog.to_string(), msg));
        push(
            &syslog_tag(smtpd, pid),
            format!("connect from {name}[{ip}]"),
        );
        push(
            &syslog_tag(smtpd, pid),
            format!("{q1}: client={name}[{ip}]"),
        );
        let cleanup = syslog_tag("postfix/cleanup", pid + 7);
        let qmgr = syslog_tag("postfix/qmgr", 900);
        let msgid = format!("{:x}.{}@{}", self.rng.next(), self.rng.below(99), name);
        push(&cleanup, format!("{q1}: message-id=<{msgid}>"));
        let size = 1500 + self.rng.below(80_000);
        let nrcpt = 1 + self.rng.below(3);
        push(
            &qmgr,
            format!("{q1}: from=<{from}>, size={size}, nrcpt={nrcpt} (queue active)"),
        );
        push(
            &syslog_tag(smtpd, pid),
            format!(
                "disconnect from {name}[{ip}] ehlo=1 mail=1 rcpt={nrcpt} data=1 quit=1 commands=5"
            ),
        );
        let rcpts: Vec<String> = (0..nrcpt).map(|_| self.customer()).collect();
        let mut last = q1.clone();
        if self.rng.chance(35) {
            // The ISP's content filter: pipe to clamav, re-injected by pickup.
            let verdict = if self.rng.chance(20) { "SPAM" } else { "HAM" };
            let score = self.rng.below(900) as f64 / 100.0 - 6.0;
            push(
                &syslog_tag("postfix/virus-filter", 23_000 + pid),
                format!(
                    "{q1}: crm={verdict} Sender={from} cid=0 rcpts={nrcpt} data={score:.4} size={size}"
                ),
            );
            for r in &rcpts {
                push(
                    &syslog_tag("postfix/pipe", 24_000 + pid),
                    format!(
                        "{q1}: to=<{r}>, relay=clamav, delay=0.4, delays=0.1/0/0/0.3, dsn=2.0.0, status=sent (dummy)"
                    ),
                );
            }
            push(&qmgr, format!("{q1}: removed"));
            let q2 = self.qid();
            push(
                &syslog_tag("postfix/pickup", 800),
                format!("{q2}: uid=1001 from=<{from}>"),
            );
            push(&cleanup, format!("{q2}: message-id=<{msgid}>"));
            push(
                &qmgr,
                format!(
                    "{q2}: from=<{from}>, size={}, nrcpt={nrcpt} (queue active)",
                    size + 300
                ),
            );
            last = q2;
        } else if self.rng.chance(30) {
            // amavis on loopback, re-injected through smtpd from 127.0.0.1.
            let q2 = self.qid();
            let verdict = if self.rng.chance(12) {
                "Blocked SPAM"
            } else if self.rng.chance(1) {
                "Blocked INFECTED (Eicar-Signature)"
            } else {
                "Passed CLEAN"
            };
            for r in &rcpts {
                push(
                    &syslog_tag("postfix/smtp", 30_000 + pid),
                    format!(
                        "{q1}: to=<{r}>, relay=127.0.0.1[127.0.0.1]:10024, delay=1.2, delays=0.1/0/0/1.1, dsn=2.0.0, status=sent (250 2.0.0 Ok, queued as {q2})"
                    ),
                );
            }
            push(
                &syslog_tag("amavis", 2_000 + pid % 10),
                format!(
                    "({:05}-01) {verdict} {{RelayedInbound}}, [{ip}]:{} <{from}> -> <{}>, Queue-ID: {q1}, mail_id: x{}, Hits: 1.2, size: {size}",
                    pid,
                    30_000 + pid,
                    rcpts[0],
                    self.rng.below(1 << 30)
                ),
            );
            push(&qmgr, format!("{q1}: removed"));
            if verdict.starts_with("Blocked") {
                return s;
            }
            let lp = self.pid();
            push(
                &syslog_tag(smtpd, lp),
                "connect from localhost[127.0.0.1]".to_string(),
            );
            push(
                &syslog_tag(smtpd, lp),
                format!("{q2}: client=localhost[127.0.0.1]"),
            );
            push(&cleanup, format!("{q2}: message-id=<{msgid}>"));
            push(
                &qmgr,
                format!(
                    "{q2}: from=<{from}>, size={}, nrcpt={nrcpt} (queue active)",
                    size + 600
                ),
            );
            push(&syslog_tag(smtpd, lp),
                "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"
                    .to_string(),
            );
            last = q2;
        }
        for r in &rcpts {
            let (status, dsn, reply) = if self.rng.chance(3) {
                ("deferred", "4.2.2", "452 4.2.2 Mailbox full")
            } else if self.rng.chance(2) {
                ("bounced", "5.1.1", "550 5.1.1 User unknown")
            } else {
                ("sent", "2.0.0", "250 2.0.0 <x> Saved")
            };
            push(
                &syslog_tag("postfix/lmtp", 40_000 + pid),
                format!(
                    "{last}: to=<{r}>, relay=mbox{}.isp.net.br[10.0.0.{}]:24, delay=0.3, delays=0.1/0/0.1/0.1, dsn={dsn}, status={status} ({reply})",
                    self.rng.below(4),
                    10 + self.rng.below(4)
                ),
            );
        }
        push(&qmgr, format!("{last}: removed"));
        s
    }

    fn rejected(&mut self, host: String) -> Scenario {
        let mut s = Scenario::new();
        let pid = self.pid();
        let ip = self.ip();
        let tag = syslog_tag("postfix/smtpd", pid);
        let name = if self.rng.chance(50) {
            "unknown".to_string()
        } else {
            format!("host-{}.dyn.example.net", ip.replace('.', "-"))
        };
        let from = self.remote();
        let to = self.customer();
        let reply = match self.rng.below(100) {
            0..=34 => format!(
                "550 5.1.1 <{to}>: Recipient address rejected: User unknown in virtual mailbox table"
            ),
            35..=54 => format!(
                "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}"
            ),
            55..=64 => format!("554 5.7.1 <{}>: Relay access denied", self.remote()),
            65..=72 => format!("450 4.1.8 <{from}>: Sender address rejected: Domain not found"),
            73..=79 => format!(
                "550 5.7.23 <{to}>: Recipient address rejected: Message rejected due to: SPF fail - not authorized"
            ),
            80..=85 => format!(
                "553 5.7.1 <{}>: Sender address rejected: not logged in",
                self.customer()
            ),
            86..=90 => format!("554 5.7.1 <{from}>: Sender address rejected: Access denied"),
            91..=94 => format!(
                "450 4.1.7 <{from}>: Sender address rejected: unverified address: host not found"
            ),
            _ => format!(
                "450 4.7.1 <{to}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/"
            ),
        };
        s.push_back((
            host.clone(),
            tag.clone(),
            format!("connect from {name}[{ip}]"),
        ));
        for _ in 0..1 + self.rng.below(3) {
            s.push_back((host.clone(), tag.clone(), format!("NOQUEUE: reject: RCPT from {name}[{ip}]: {reply}; from=<{from}> to=<{to}> proto=ESMTP helo=<{name}>")));
        }
        s.push_back((
            host,
            tag,
            format!("disconnect from {name}[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"),
        ));
        s
    }

    fn submission(&mut self, host: String) -> Scenario {
        let mut s = Scenario::new();
        let pid = self.pid();
        let ip = self.ip();
        let user = self.customer();
        let tag = syslog_tag("postfix/submission/smtpd", pid);
        let name = format!("{}.static.isp.net.br", ip.replace('.', "-"));
        s.push_back((
            host.clone(),
            tag.clone(),
            format!("connect from {name}[{ip}]"),
        ));
        if self.rng.chance(4) {
            let forged = self.remote();
            let sasl = if self.rng.chance(50) {
                format!(" sasl_username={user}")
            } else {
                String::new()
            };
            s.push_back((host.clone(), tag.clone(), format!("NOQUEUE: reject: RCPT from {name}[{ip}]: 553 5.7.1 <{forged}>: Sender address rejected: not owned by user {user}; from=<{forged}> to=<{}> proto=ESMTP helo=<pc>{sasl}", self.remote())));
        }
        let q = self.qid();
        s.push_back((
            host.clone(),
            tag.clone(),
            format!("{q}: client={name}[{ip}], sasl_method=LOGIN, sasl_username={user}"),
        ));
        let qmgr = syslog_tag("postfix/qmgr", 900);
        s.push_back((
            host.clone(),
            syslog_tag("postfix/cleanup", pid + 3),
            format!(
                "{q}: message-id=<{:x}@{}>",
                self.rng.next(),
                user.split('@').nth(1).unwrap_or("x")
            ),
        ));
        let nrcpt = 1 + self.rng.below(4);
        s.push_back((
            host.clone(),
            qmgr.clone(),
            format!(
                "{q}: from=<{user}>, size={}, nrcpt={nrcpt} (queue active)",
                900 + self.rng.below(200_000)
            ),
        ));
        s.push_back((host.clone(), tag.clone(), format!("disconnect from {name}[{ip}] ehlo=2 starttls=1 auth=1 mail=1 rcpt={nrcpt} data=1 quit=1 commands=8")));
        let smtp = syslog_tag("postfix/smtp", 50_000 + pid);
        for _ in 0..nrcpt {
            let to = self.remote();
            let domain = to.split('@').nth(1).unwrap_or("x").to_string();
            let mx = format!("mx{}.{domain}[{}]:25", self.rng.below(3), self.ip());
            let line = match self.rng.below(100) {
                0..=5 => format!(
                    "{q}: to=<{to}>, relay={mx}, delay=31, delays=0.1/0/30/0.9, dsn=4.7.0, status=deferred (host {mx} said: 421 4.7.0 Try again later)"
                ),
                6..=8 => format!(
                    "{q}: to=<{to}>, relay={mx}, delay=1.1, delays=0.1/0/0.5/0.5, dsn=5.1.1, status=bounced (host {mx} said: 550 5.1.1 The email account that you tried to reach does not exist)"
                ),
                _ => format!(
                    "{q}: to=<{to}>, relay={mx}, delay=0.9, delays=0.1/0/0.4/0.4, dsn=2.0.0, status=sent (250 2.0.0 OK {})",
                    self.rng.below(1 << 40)
                ),
            };
            s.push_back((host.clone(), smtp.clone(), line));
        }
        s.push_back((host, qmgr, format!("{q}: removed")));
        s
    }

    fn sasl_attack(&mut self, host: String) -> Scenario {
        let mut s = Scenario::new();
        let pid = self.pid();
        let ip = self.ip();
        let tag = syslog_tag("postfix/submission/smtpd", pid);
        s.push_back((
            host.clone(),
            tag.clone(),
            format!("connect from unknown[{ip}]"),
        ));
        for _ in 0..1 + self.rng.below(4) {
            s.push_back((
                host.clone(),
                tag.clone(),
                format!("warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"),
            ));
        }
        s.push_back((
            host,
            tag,
            format!("disconnect from unknown[{ip}] ehlo=1 auth=0/1 quit=1 commands=2/3"),
        ));
        s
    }

    fn postscreen(&mut self, host: String) -> Scenario {
        let mut s = Scenario::new();
        let ip = self.ip();
        let tag = syslog_tag("postfix/postscreen", 700);
        s.push_back((
            host.clone(),
            tag.clone(),
            format!(
                "CONNECT from [{ip}]:{} to [200.1.2.3]:25",
                1024 + self.rng.below(60_000)
            ),
        ));
        if self.rng.chance(60) {
            s.push_back((
                host.clone(),
                tag.clone(),
                format!("DNSBL rank 3 for [{ip}]:{}", 1024 + self.rng.below(60_000)),
            ));
            s.push_back((host.clone(), tag.clone(), format!("NOQUEUE: reject: RCPT from [{ip}]:{}: 550 5.7.1 Service unavailable; client [{ip}] blocked using zen.spamhaus.org; from=<{}>, to=<{}>, proto=ESMTP, helo=<x>", 1024 + self.rng.below(60_000), self.remote(), self.customer())));
            s.push_back((
                host,
                tag,
                format!("DISCONNECT [{ip}]:{}", 1024 + self.rng.below(60_000)),
            ));
        } else {
            s.push_back((
                host,
                tag,
                format!("PASS OLD [{ip}]:{}", 1024 + self.rng.below(60_000)),
            ));
        }
        s
    }

    fn noise(&mut self, host: String) -> Scenario {
        let mut s = Scenario::new();
        let ip = self.ip();
        match self.rng.below(4) {
            0 => s.push_back((host, syslog_tag("postfix/anvil", 600), format!("statistics: max connection rate 3/60s for (smtp:{ip}) at Nov 28 10:00:00"))),
            1 => s.push_back((host, syslog_tag("dovecot", 4242), format!("imap-login: Login: user=<{}>, method=PLAIN, rip={ip}, lip=10.0.0.2, mpid={}, TLS", self.customer(), self.rng.below(99_999)))),
            2 => s.push_back((host, syslog_tag("postfix/smtpd", 1_999), format!("warning: Message delivery request rate limit exceeded: 41 from unknown[{ip}] for service smtp"))),
            _ => s.push_back((host, syslog_tag("postfix/scache", 650), "statistics: start interval Nov 28 10:00:00".to_string())),
        }
        s
    }
}

/// The attacks [`Generator::with_attacks`] adds, from its start time on,
/// each against the demo domain `cliente.com.br`:
///
/// - 0–20 min: a dictionary attack, 120 unknown-user rejects from
///   `185.220.101.47` (the default dictionary-attack policy: 30 in 10 min);
/// - 40–70 min: a SASL brute force, 300 failures from `193.32.162.80`
///   trying `joao5@cliente.com.br` (sasl-brute-force: 20 in 10 min);
/// - 2 h–2 h 30: a compromised account, `bruno42@cliente.com.br` logging in
///   from 24 IPs round the world and sending 30 messages of 50 recipients
///   each (compromised-many-ips: 8 IPs in an hour; compromised-recipients);
/// - 3 h–5 h: a distributed SASL brute force against `ana17@cliente.com.br`,
///   1,040 failures from 160 IPs, at most 16 each (under every per-IP
///   threshold), 130 of them in three /24 networks.
pub struct Attacks {
    rng: Rng,
    host: String,
    pid: u32,
    qid: u64,
}

/// One attack line: (log time in µs, host, program, message).
type AttackLine = (i64, String, String, String);

fn line(host: &str, at: i64, program: &str, pid: u32, message: String) -> AttackLine {
    (at, host.to_string(), syslog_tag(program, pid), message)
}

impl Attacks {
    fn new(seed: u64, host: String) -> Self {
        Self {
            rng: Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0xa77a_c4ed | 1),
            host,
            pid: 61_000,
            qid: 0xA_0000_0000 + seed % 0x1000,
        }
    }

    /// Every attack line from `start_us` on, in no particular order.
    fn lines(&mut self, start_us: i64) -> Vec<AttackLine> {
        let min = 60 * MICROS as i64;
        let mut out = Vec::new();
        self.dictionary(start_us, 20 * min, &mut out);
        self.brute_force(start_us + 40 * min, 30 * min, &mut out);
        self.compromised(start_us + 120 * min, 30 * min, &mut out);
        self.distributed(start_us + 180 * min, 120 * min, &mut out);
        out
    }

    fn next_pid(&mut self) -> u32 {
        self.pid += 1 + self.rng.below(9) as u32;
        self.pid
    }

    /// `n` times spread evenly over `span` µs from `start`, a little jittered.
    fn times(&mut self, start: i64, span: i64, n: u64) -> Vec<i64> {
        let step = span / n.max(1) as i64;
        (0..n as i64)
            .map(|i| start + i * step + self.rng.below(step.max(1) as u64) as i64)
            .collect()
    }

    fn dictionary(&mut self, start: i64, span: i64, out: &mut Vec<AttackLine>) {
        let (ip, name) = ("185.220.101.47", "unknown");
        let pid = self.next_pid();
        let tag = "postfix/smtpd";
        out.push(line(
            &self.host,
            start,
            tag,
            pid,
            format!("connect from {name}[{ip}]"),
        ));
        for at in self.times(start, span, 120) {
            let user = format!("{}{}", self.rng.pick(&USERS), self.rng.below(90));
            out.push(line(&self.host, at, tag, pid, format!(
                "NOQUEUE: reject: RCPT from {name}[{ip}]: 550 5.1.1 <{user}@cliente.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<promo@mailer-xyz.top> to=<{user}@cliente.com.br> proto=ESMTP helo=<mailer-xyz.top>"
            )));
        }
        out.push(line(
            &self.host,
            start + span,
            tag,
            pid,
            format!("disconnect from {name}[{ip}] ehlo=1 mail=1 rcpt=0/120 quit=1 commands=3/122"),
        ));
    }

    fn brute_force(&mut self, start: i64, span: i64, out: &mut Vec<AttackLine>) {
        // Ten tries a connection, five seconds apart, as brute forcers pace
        // themselves: 30 connections.
        for at in self.times(start, span, 30) {
            let account = "joao5@cliente.com.br";
            self.sasl_session(at, "193.32.162.80", account, 10, out);
        }
    }

    /// One SMTP session from `ip` failing `tries` SASL logins as `account`.
    fn sasl_session(
        &mut self,
        at: i64,
        ip: &str,
        account: &str,
        tries: u32,
        out: &mut Vec<AttackLine>,
    ) {
        let (tag, pid) = ("postfix/submission/smtpd", self.next_pid());
        let mut push = |at: i64, message: String| out.push(line(&self.host, at, tag, pid, message));
        push(at, format!("connect from unknown[{ip}]"));
        let mut t = at;
        for _ in 0..tries {
            t += 5 * MICROS as i64;
            push(
                t,
                format!(
                    "warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username={account}"
                ),
            );
        }
        push(
            t,
            format!(
                "disconnect from unknown[{ip}] ehlo=1 auth=0/{tries} quit=1 commands=2/{}",
                tries + 2
            ),
        );
    }

    fn compromised(&mut self, start: i64, span: i64, out: &mut Vec<AttackLine>) {
        const USER: &str = "bruno42@cliente.com.br";
        let ips: Vec<String> = (0..24)
            .map(|i| {
                let a = [41, 102, 105, 196, 103, 110, 36, 14][i % 8];
                format!(
                    "{a}.{}.{}.{}",
                    self.rng.below(256),
                    self.rng.below(256),
                    1 + self.rng.below(254)
                )
            })
            .collect();
        let tag = "postfix/submission/smtpd";
        for (i, at) in self.times(start, span, 30).into_iter().enumerate() {
            let ip = &ips[i % ips.len()];
            let pid = self.next_pid();
            self.qid += 1 + self.rng.below(5);
            let q = format!("{:X}", self.qid);
            let us = MICROS as i64;
            out.push(line(
                &self.host,
                at,
                tag,
                pid,
                format!("connect from unknown[{ip}]"),
            ));
            out.push(line(
                &self.host,
                at,
                tag,
                pid,
                format!("{q}: client=unknown[{ip}], sasl_method=LOGIN, sasl_username={USER}"),
            ));
            out.push(line(
                &self.host,
                at + us,
                "postfix/cleanup",
                pid + 3,
                format!("{q}: message-id=<{:x}@cliente.com.br>", self.rng.next()),
            ));
            out.push(line(
                &self.host,
                at + us,
                "postfix/qmgr",
                900,
                format!(
                    "{q}: from=<{USER}>, size=4{:04}, nrcpt=50 (queue active)",
                    self.rng.below(10_000)
                ),
            ));
            out.push(line(&self.host, at + 2 * us, tag, pid, format!(
                "disconnect from unknown[{ip}] ehlo=1 auth=1 mail=1 rcpt=50 data=1 quit=1 commands=6"
            )));
            for _ in 0..50 {
                let to = format!(
                    "{}{}@{}",
                    self.rng.pick(&USERS),
                    self.rng.below(100_000),
                    self.rng.pick(&REMOTE)
                );
                let domain = to.split('@').nth(1).unwrap_or("x").to_string();
                out.push(line(&self.host, at + 3 * us, "postfix/smtp", 50_000 + pid, format!(
                    "{q}: to=<{to}>, relay=mx.{domain}[198.51.100.{}]:25, delay=2.1, delays=0.1/0/1/1, dsn=2.0.0, status=sent (250 2.0.0 OK)",
                    1 + self.rng.below(254)
                )));
            }
            out.push(line(
                &self.host,
                at + 4 * us,
                "postfix/qmgr",
                900,
                format!("{q}: removed"),
            ));
        }
    }

    fn distributed(&mut self, start: i64, span: i64, out: &mut Vec<AttackLine>) {
        // 130 IPs in three /24s, 30 scattered: 6 or 7 tries each, 1,040 in all.
        let nets = ["45.135.232", "80.94.95", "141.98.11"];
        let mut ips: Vec<String> = (0..130)
            .map(|i| {
                format!(
                    "{}.{}",
                    nets[i % 3],
                    10 + i / 3 * 5 + self.rng.below(5) as usize
                )
            })
            .collect();
        ips.extend((0..30).map(|_| {
            let a = [5, 31, 37, 46, 62, 77, 89, 92, 94, 109][self.rng.below(10) as usize];
            format!(
                "{a}.{}.{}.{}",
                self.rng.below(256),
                self.rng.below(256),
                1 + self.rng.below(254)
            )
        }));
        let mut tries: Vec<&str> = Vec::new();
        for (i, ip) in ips.iter().enumerate() {
            let n = if i < 80 { 7 } else { 6 };
            tries.extend(std::iter::repeat_n(ip.as_str(), n));
        }
        // Shuffled, so every IP tries now and then over the whole span.
        for i in (1..tries.len()).rev() {
            tries.swap(i, self.rng.below(i as u64 + 1) as usize);
        }
        let times = self.times(start, span, tries.len() as u64);
        for (ip, at) in tries.into_iter().zip(times) {
            self.sasl_session(at, ip, "ana17@cliente.com.br", 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator(start: UnixTime) -> Generator {
        Generator::new(Shape {
            seed: 7,
            start,
            lines_per_day: 100_000,
            hosts: vec!["mx1".into(), "smtp1".into()],
            rfc3339: true,
        })
    }

    fn write(g: &mut Generator, lines: u64) -> String {
        let mut out = Vec::new();
        g.write_lines(lines, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn attacks_come_on_top_of_the_same_usual_lines() {
        let start = 1_764_547_200;
        // 40,000 lines at 100,000 a day: about 9.6 hours, attacks from hour 2.
        let plain = write(&mut generator(start), 40_000);
        let attacked = write(
            &mut generator(start).with_attacks(start + 2 * 3_600),
            40_000,
        );
        let mut attack_lines = Vec::new();
        Attacks::new(7, "mx1".into())
            .lines(0)
            .into_iter()
            .for_each(|(_, h, p, m)| {
                attack_lines.push(format!(" {h} {p}: {m}"));
            });
        attack_lines.sort();
        let (mut usual, mut extra) = (Vec::new(), Vec::new());
        for l in attacked.lines() {
            let rest = &l[l.find(' ').unwrap()..];
            if attack_lines
                .binary_search_by(|a| a.as_str().cmp(rest))
                .is_ok()
            {
                extra.push(l);
            } else {
                usual.push(l);
            }
        }
        assert_eq!(usual, plain.lines().collect::<Vec<_>>());
        assert_eq!(
            extra.len(),
            attack_lines.len(),
            "all written within the log"
        );
        let count = |needle: &str| extra.iter().filter(|l| l.contains(needle)).count();
        assert_eq!(count("185.220.101.47]: 550 5.1.1"), 120);
        assert_eq!(count("failed: UGFzc3dvcmQ6, sasl_username=joao5@"), 300);
        assert_eq!(count("failed: UGFzc3dvcmQ6, sasl_username=ana17@"), 1_040);
        assert_eq!(count("sasl_username=bruno42@cliente.com.br"), 30);
        // Log times never go backwards, and the attacks start when asked.
        let times: Vec<&str> = attacked.lines().map(|l| &l[..26]).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(extra[0].starts_with("2025-12-01T02:0"), "{}", extra[0]);
    }

    #[test]
    fn the_distributed_attack_stays_under_per_ip_thresholds() {
        let mut out = Vec::new();
        Attacks::new(1, "mx1".into()).distributed(0, 7_200 * MICROS as i64, &mut out);
        let mut per_ip: std::collections::HashMap<&str, u32> = Default::default();
        for (_, _, _, m) in &out {
            if let Some(rest) = m.strip_prefix("warning: unknown[") {
                *per_ip.entry(rest.split(']').next().unwrap()).or_default() += 1;
            }
        }
        assert_eq!(per_ip.len(), 160);
        assert_eq!(per_ip.values().sum::<u32>(), 1_040);
        assert!(per_ip.values().all(|&n| n <= 16));
        let in_nets = per_ip
            .keys()
            .filter(|ip| {
                ["45.135.232.", "80.94.95.", "141.98.11."]
                    .iter()
                    .any(|n| ip.starts_with(n))
            })
            .count();
        assert_eq!(in_nets, 130);
    }
}
