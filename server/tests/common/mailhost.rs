//! Debian's Postfix and Dovecot as the tests use them: `postmap -q`
//! against the map files shipped in `docs/postfix/` (pointed at the test's
//! database: `sqlite:` for a SQLite file, `pgsql:` for the throw-away
//! PostgreSQL server), the parts of a PostgreSQL URL their configuration
//! files need, and whether this process may start their daemons.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A map file copied from `docs/postfix/` into a folder with a minimal
/// `main.cf`, rewritten to reach the test database.
pub struct Map {
    spec: String,
    conf_dir: PathBuf,
}

impl Map {
    /// `stem` is the file name without `.sqlite.cf`/`.pgsql.cf`;
    /// `db_url` the test database's URL.
    pub fn shipped(stem: &str, db_url: &str, dir: &Path) -> Self {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/postfix");
        std::fs::write(dir.join("main.cf"), "compatibility_level = 3.6\n").unwrap();
        let (kind, text) = if let Some(pg) = Postgres::parse(db_url) {
            let text = std::fs::read_to_string(docs.join(format!("{stem}.pgsql.cf"))).unwrap();
            let text: Vec<String> = text
                .lines()
                .map(|l| match l.split_once(" = ").map(|(k, _)| k) {
                    Some("hosts") => format!("hosts = inet:{}:{}", pg.host, pg.port),
                    Some("user") => format!("user = {}", pg.user),
                    Some("password") => format!("password = {}", pg.password),
                    Some("dbname") => format!("dbname = {}", pg.dbname),
                    _ => l.to_string(),
                })
                .collect();
            ("pgsql", text.join("\n"))
        } else {
            let file = db_url
                .strip_prefix("sqlite://")
                .and_then(|f| f.split('?').next())
                .expect("a sqlite:// URL");
            let text = std::fs::read_to_string(docs.join(format!("{stem}.sqlite.cf"))).unwrap();
            (
                "sqlite",
                text.replace("/var/lib/carteiro/carteiro.db", file),
            )
        };
        let path = dir.join(format!("{stem}.{kind}.cf"));
        std::fs::write(&path, text).unwrap();
        Map {
            spec: format!("{kind}:{}", path.display()),
            conf_dir: dir.to_path_buf(),
        }
    }

    /// `postmap -q KEY`: the value found, or `None`.
    pub fn query(&self, key: &str) -> Option<String> {
        let out = Command::new("/usr/sbin/postmap")
            .arg("-c")
            .arg(&self.conf_dir)
            .arg("-q")
            .arg(key)
            .arg(&self.spec)
            .output()
            .expect("postmap (Debian's postfix) is installed by .ci/deps.sh");
        match out.status.code() {
            Some(0) => Some(String::from_utf8_lossy(&out.stdout).trim().to_string()),
            Some(1) if out.stderr.is_empty() => None,
            _ => panic!(
                "postmap -q {key} {} failed: {}",
                self.spec,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

/// The parts of `postgres://USER[:PASS]@HOST:PORT/DB`.
pub struct Postgres {
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: String,
    pub dbname: String,
}

impl Postgres {
    /// `None` for a URL that is not PostgreSQL's.
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("postgres://")?;
        let (auth, location) = rest.split_once('@').expect("user@host in the URL");
        let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
        let (host_port, db) = location.split_once('/').expect("/database in the URL");
        let (host, port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
        Some(Postgres {
            user: user.into(),
            password: password.into(),
            host: host.into(),
            port: port.into(),
            dbname: db.split('?').next().unwrap_or(db).into(),
        })
    }
}

/// Postfix's and Dovecot's masters must be started as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
