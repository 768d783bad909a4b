//! Debian's Postfix, run by the test in a directory of its own on loopback
//! ports, asks the policy daemon at RCPT time: a blocked client is refused,
//! and its mail is accepted again once the block is lifted.

use crate::helpers::{add_block, database, database_at, lift_block, start_daemon};
use crate::mailhost::{Map, is_root};
use mailflow::count::{Counter, RejectRules, Settings};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const POSTFIX: &str = "/usr/sbin/postfix";

/// A running Postfix instance; stopped when dropped.
struct Postfix {
    root: PathBuf,
}

impl Postfix {
    fn conf(&self) -> PathBuf {
        self.root.join("conf")
    }

    fn maillog(&self) -> String {
        std::fs::read_to_string(self.root.join("maillog")).unwrap_or_default()
    }

    /// Writes a configuration that accepts mail from loopback on `smtp_port`
    /// for any domain (and discards it), asking the policy daemon on
    /// `policy_port` at RCPT, and starts it.
    fn start(root: &Path, smtp_port: u16, policy_port: u16) -> Self {
        let pf = Self {
            root: root.to_path_buf(),
        };
        for d in ["conf", "queue", "data"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        let r = root.display();
        std::fs::write(
            pf.conf().join("main.cf"),
            format!(
                "compatibility_level = 3.6\n\
                 queue_directory = {r}/queue\n\
                 data_directory = {r}/data\n\
                 maillog_file_prefixes = {r}\n\
                 maillog_file = {r}/maillog\n\
                 mail_owner = postfix\n\
                 setgid_group = postdrop\n\
                 inet_interfaces = 127.0.0.1\n\
                 inet_protocols = ipv4\n\
                 myhostname = postfix-test.carteiro.invalid\n\
                 mydestination =\n\
                 mynetworks = 127.0.0.0/8\n\
                 alias_maps =\n\
                 alias_database =\n\
                 default_transport = discard\n\
                 relay_transport = discard\n\
                 local_transport = discard\n\
                 smtpd_relay_restrictions = permit_mynetworks, reject\n\
                 smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:{policy_port}, permit\n\
                 smtpd_policy_service_timeout = 10s\n"
            ),
        )
        .unwrap();
        let mut master = format!("127.0.0.1:{smtp_port} inet n - n - - smtpd\n");
        for (name, kind, private, limit, command) in [
            ("pickup", "unix", "n", "1", "pickup"),
            ("cleanup", "unix", "n", "0", "cleanup"),
            ("qmgr", "unix", "n", "1", "qmgr"),
            ("rewrite", "unix", "-", "-", "trivial-rewrite"),
            ("bounce", "unix", "-", "0", "bounce"),
            ("defer", "unix", "-", "0", "bounce"),
            ("trace", "unix", "-", "0", "bounce"),
            ("verify", "unix", "-", "1", "verify"),
            ("flush", "unix", "n", "0", "flush"),
            ("proxymap", "unix", "-", "-", "proxymap"),
            ("showq", "unix", "n", "-", "showq"),
            ("error", "unix", "-", "-", "error"),
            ("retry", "unix", "-", "-", "error"),
            ("discard", "unix", "-", "-", "discard"),
            ("anvil", "unix", "-", "1", "anvil"),
            ("scache", "unix", "-", "1", "scache"),
            ("postlog", "unix-dgram", "n", "1", "postlogd"),
        ] {
            master.push_str(&format!(
                "{name} {kind} {private} - n - {limit} {command}\n"
            ));
        }
        std::fs::write(pf.conf().join("master.cf"), master).unwrap();
        // The daemons run as the postfix user: it must reach its folders.
        run(Command::new("chmod").arg("755").arg(root));
        run(Command::new("chown").arg("postfix").arg(root.join("data")));
        let started = Command::new(POSTFIX)
            .arg("-c")
            .arg(pf.conf())
            .arg("start")
            .output()
            .unwrap();
        assert!(
            started.status.success(),
            "postfix start failed: {}\n{}",
            String::from_utf8_lossy(&started.stderr),
            pf.maillog()
        );
        pf
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new(POSTFIX)
            .arg("-c")
            .arg(self.conf())
            .arg("stop")
            .output();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An SMTP conversation, one command at a time.
struct Smtp {
    read: BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: tokio::net::tcp::OwnedWriteHalf,
}

impl Smtp {
    async fn connect(port: u16) -> Option<Self> {
        let (read, write) = TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?
            .into_split();
        let mut s = Self {
            read: BufReader::new(read),
            write,
        };
        s.reply().await.starts_with("220").then_some(s)
    }

    /// The last line of the server's (maybe multi-line) reply.
    async fn reply(&mut self) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = tokio::time::timeout(Duration::from_secs(30), self.read.read_line(&mut line))
                .await
                .expect("Postfix answers within 30 s")
                .unwrap();
            if n == 0 || line.as_bytes().get(3) != Some(&b'-') {
                return line.trim_end().to_string();
            }
        }
    }

    async fn say(&mut self, command: &str) -> String {
        self.write
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        self.reply().await
    }

    /// EHLO, MAIL FROM and RCPT TO; the reply to RCPT.
    async fn rcpt(&mut self) -> String {
        assert!(self.say("EHLO client.example.net").await.starts_with("250"));
        assert!(
            self.say("MAIL FROM:<news@example.net>")
                .await
                .starts_with("250")
        );
        self.say("RCPT TO:<cliente@example.com.br>").await
    }
}

#[tokio::test]
async fn a_real_postfix_refuses_a_blocked_client_until_the_block_is_lifted() {
    assert!(
        Path::new(POSTFIX).exists(),
        "Postfix is missing: `make test` installs Debian's postfix (apt-get install postfix)"
    );
    assert!(
        is_root(),
        "this test starts Postfix's master, which must run as root"
    );
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let block = add_block(&db, "ip", "127.0.0.1").await;
    let daemon = start_daemon(&db).await;
    let smtp_port = free_port();
    let postfix = Postfix::start(&dir.path().join("postfix"), smtp_port, daemon.addr.port());

    let until = Instant::now() + Duration::from_secs(20);
    let mut smtp = loop {
        if let Some(s) = Smtp::connect(smtp_port).await {
            break s;
        }
        assert!(
            Instant::now() < until,
            "Postfix did not answer:\n{}",
            postfix.maillog()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let refused = smtp.rcpt().await;
    assert!(
        refused.starts_with("554") && refused.contains(&format!("(block {block})")),
        "RCPT while blocked: {refused}\n{}",
        postfix.maillog()
    );
    smtp.say("QUIT").await;

    lift_block(&db, block).await;
    let until = Instant::now() + Duration::from_secs(10);
    let mut smtp = loop {
        let mut s = Smtp::connect(smtp_port).await.expect("Postfix answers");
        let reply = s.rcpt().await;
        if reply.starts_with("250") {
            break s;
        }
        assert!(
            Instant::now() < until,
            "still refused after the lift: {reply}"
        );
        s.say("QUIT").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(smtp.say("DATA").await.starts_with("354"));
    let queued = smtp
        .say("Subject: test\r\n\r\nHello from the Carteiro test.\r\n.")
        .await;
    assert!(
        queued.starts_with("250") && queued.contains("queued as"),
        "{queued}"
    );
    smtp.say("QUIT").await;

    // MailFlow reads Postfix's own log of it: the refusal is one reject.
    let log = postfix.maillog();
    let mut counter = Counter::new(Settings::default(), RejectRules::defaults(), 2026);
    for line in log.lines() {
        counter.feed(line);
    }
    assert!(counter.totals.rejected >= 1, "rejects in:\n{log}");
    assert!(log.contains(&format!("(block {block})")), "{log}");
}

/// On SQLite through the `sqlite:` maps, on PostgreSQL through the `pgsql:` ones.
#[tokio::test]
async fn postmap_reads_the_blocks_through_the_shipped_maps() {
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = database_at(&dir).await;
    let ip = add_block(&db, "ip", "192.0.2.7").await;
    let account = add_block(&db, "account", "joao@example.com.br").await;
    let expired = add_block(&db, "ip", "192.0.2.9").await;
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!("UPDATE defence_block SET expires_at = 1 WHERE id = {expired}"),
    )
    .await
    .unwrap();
    let clients = Map::shipped("carteiro-client-access", &url, dir.path());
    let accounts = Map::shipped("carteiro-sasl-access", &url, dir.path());

    assert_eq!(
        clients.query("192.0.2.7"),
        Some(format!("REJECT blocked by the abuse team (block {ip})"))
    );
    assert_eq!(clients.query("192.0.2.8"), None);
    assert_eq!(clients.query("192.0.2.9"), None, "an expired block");
    assert_eq!(
        accounts.query("Joao@Example.com.br"),
        Some(format!(
            "REJECT blocked by the abuse team (block {account})"
        ))
    );
    lift_block(&db, ip).await;
    assert_eq!(clients.query("192.0.2.7"), None, "a lifted block");
}
