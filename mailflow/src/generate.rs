//! A seeded generator of realistic Postfix logs: the ISP's mix of inbound
//! mail (some through the `crm=` content filter and its pickup
//! re-injection, some through amavis), authenticated customer submissions
//! with remote deliveries that are sent, deferred or bounced, NOQUEUE
//! rejects of every class, postscreen and SASL brute-force noise, and
//! several relays interleaved in one stream. The same seed gives the same
//! bytes, so benchmarks and tests are repeatable.

use super::syslog::UnixTime;
use std::collections::VecDeque;
use std::fmt::Write as _;

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

const CUSTOMERS: [&str; 6] = [
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
}

impl Generator {
    pub fn new(shape: Shape) -> Self {
        let step_us = (86_400_000_000 / shape.lines_per_day.max(1)) as i64;
        Self {
            rng: Rng(shape.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            clock_us: shape.start * 1_000_000,
            step_us,
            active: Vec::new(),
            next_qid: 0x1_0000_0000 + shape.seed % 0x1000,
            next_pid: 1000,
            shape,
        }
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
