//! Dovecot reads what the portal wrote: `doveadm pw -t` verifies the
//! stored hashes (typed and generated passwords), and a real Dovecot
//! (Debian's, with `dovecot-sqlite`/`dovecot-pgsql`) signs customers in and
//! looks up their mailboxes through the shipped `docs/dovecot/` settings.

use crate::mailhost::{Postgres, is_root};
use crate::{apply, database};
use app::provision::{
    domain_create::DomainCreate, mailbox_create::MailboxCreate,
    mailbox_reset_password::MailboxResetPassword,
};
use app::server::entities::mailbox;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::process::Command;

/// `doveadm pw -t HASH -p PASSWORD` succeeds.
fn dovecot_verifies(hash: &str, password: &str) -> bool {
    let out = Command::new("doveadm")
        .args(["pw", "-t", hash, "-p", password])
        .output()
        .expect("doveadm (Debian's dovecot-core) is installed by .ci/deps.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && text.contains("(verified)")
}

/// A fresh database with the domain exemplo.com.br and a mailbox there
/// for each of `users`, with the password `Senha longa 123`.
async fn hosting(dir: &tempfile::TempDir, users: &[&str]) -> (String, DatabaseConnection) {
    let (url, db) = database(dir).await;
    let domain = DomainCreate {
        name: "exemplo.com.br".into(),
        default_quota_mb: "100".into(),
        ..Default::default()
    };
    apply(&db, domain).await;
    for m in users {
        let request = MailboxCreate {
            address: format!("{m}@exemplo.com.br"),
            password: "Senha longa 123".into(),
            ..Default::default()
        };
        apply(&db, request).await;
    }
    (url, db)
}

async fn stored(db: &DatabaseConnection, address: &str) -> String {
    mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq(address))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .password
}

#[tokio::test]
async fn dovecot_verifies_the_stored_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = hosting(&dir, &["ana"]).await;
    let hash = stored(&db, "ana@exemplo.com.br").await;
    assert!(dovecot_verifies(&hash, "Senha longa 123"), "{hash}");
    assert!(!dovecot_verifies(&hash, "senha longa 123"));

    let reset = apply(
        &db,
        MailboxResetPassword {
            address: "ana@exemplo.com.br".into(),
            ..Default::default()
        },
    )
    .await;
    let generated = reset.secret.unwrap();
    let hash = stored(&db, "ana@exemplo.com.br").await;
    assert!(dovecot_verifies(&hash, &generated));
    assert!(
        !dovecot_verifies(&hash, "Senha longa 123"),
        "the old password no longer works"
    );
}

/// A Dovecot (auth only, no protocols) started by the test as root in a
/// folder of its own, reading the test database through the shipped
/// `docs/dovecot/dovecot-sql.*.conf.ext`; stopped when dropped.
struct Dovecot {
    conf: std::path::PathBuf,
}

impl Dovecot {
    fn start(dir: &std::path::Path, db_url: &str) -> Self {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dovecot");
        let sql = if let Some(pg) = Postgres::parse(db_url) {
            let text = std::fs::read_to_string(docs.join("dovecot-sql.pgsql.conf.ext")).unwrap();
            let connect = format!(
                "connect = host={} port={} dbname={} user={} password={}",
                pg.host, pg.port, pg.dbname, pg.user, pg.password
            );
            text.lines()
                .map(|l| {
                    if l.starts_with("connect =") {
                        connect.clone()
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            let file = db_url
                .strip_prefix("sqlite://")
                .unwrap()
                .split('?')
                .next()
                .unwrap();
            std::fs::read_to_string(docs.join("dovecot-sql.sqlite.conf.ext"))
                .unwrap()
                .replace("/var/lib/carteiro/carteiro.db", file)
        };
        let d = dir.display();
        std::fs::write(dir.join("sql.conf.ext"), sql).unwrap();
        let conf = dir.join("dovecot.conf");
        std::fs::write(
            &conf,
            format!(
                "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
                 protocols =\nlisten = 127.0.0.1\nssl = no\n\
                 auth_username_format = %Lu\n\
                 passdb {{\n  driver = sql\n  args = {d}/sql.conf.ext\n}}\n\
                 userdb {{\n  driver = sql\n  args = {d}/sql.conf.ext\n}}\n"
            ),
        )
        .unwrap();
        // Dovecot's auth worker (user dovecot) reads the SQLite file.
        for path in [dir.to_path_buf(), dir.join("carteiro.db")] {
            let _ = Command::new("chmod").arg("a+rwX").arg(&path).status();
        }
        // The master stays in the background holding what it inherited:
        // wait for the exit status only, and read errors from its log.
        let started = Command::new("dovecot")
            .arg("-c")
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(
            started.success(),
            "dovecot did not start: {}",
            std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default()
        );
        Dovecot { conf }
    }

    /// `doveadm auth test`: did the sign-in succeed?
    fn signs_in(&self, user: &str, password: &str) -> bool {
        self.doveadm(&["auth", "test", user, password]).0 == Some(0)
    }

    /// `doveadm user`: the userdb fields, or `None` for an unknown user.
    fn user(&self, user: &str) -> Option<String> {
        match self.doveadm(&["user", user]) {
            (Some(0), out) => Some(out),
            (Some(67), _) => None,
            (code, out) => panic!("doveadm user {user}: {code:?} {out}"),
        }
    }

    fn doveadm(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = Command::new("doveadm")
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("dovecot")
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .status();
    }
}

#[tokio::test]
async fn a_real_dovecot_signs_in_active_mailboxes_and_still_delivers_to_suspended_ones() {
    assert!(
        is_root(),
        "this test starts Dovecot's master, which must run as root"
    );
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = hosting(&dir, &["ana", "bia", "gil"]).await;
    apply(
        &db,
        app::provision::mailbox_suspend::MailboxSuspend {
            address: "bia@exemplo.com.br".into(),
            reason: "unpaid".into(),
        },
    )
    .await;
    apply(
        &db,
        app::provision::mailbox_delete::MailboxDelete {
            address: "gil@exemplo.com.br".into(),
            reason: String::new(),
        },
    )
    .await;
    let dovecot = Dovecot::start(dir.path(), &url);

    assert!(dovecot.signs_in("ana@exemplo.com.br", "Senha longa 123"));
    assert!(
        dovecot.signs_in("Ana@Exemplo.com.br", "Senha longa 123"),
        "logins are case-folded"
    );
    assert!(!dovecot.signs_in("ana@exemplo.com.br", "senha longa 123"));
    assert!(
        !dovecot.signs_in("bia@exemplo.com.br", "Senha longa 123"),
        "suspended: no sign-in"
    );
    assert!(
        !dovecot.signs_in("gil@exemplo.com.br", "Senha longa 123"),
        "deleted"
    );

    let bia = dovecot
        .user("bia@exemplo.com.br")
        .expect("a suspended mailbox still gets its mail");
    assert!(bia.contains("/var/vmail/exemplo.com.br/bia"), "{bia}");
    assert!(bia.contains("*:storage=100M"), "{bia}");
    assert_eq!(dovecot.user("gil@exemplo.com.br"), None, "deleted");
    assert_eq!(dovecot.user("nobody@exemplo.com.br"), None);
}
