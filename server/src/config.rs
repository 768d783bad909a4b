//! `carteiro.toml` and its environment overrides.
//!
//! Every setting has a default, so the file is optional. An environment
//! variable `CARTEIRO_<TABLE>__<KEY>` (double underscore between levels)
//! overrides the file, e.g. `CARTEIRO_AUTH__IDLE_TIMEOUT_MINUTES=30` or
//! `CARTEIRO_AUTH__THROTTLE__LOCK_AFTER=5`. The database URL can also be
//! given as `CARTEIRO_DATABASE_URL` or `DATABASE_URL`.

use anyhow::{Context, Result, bail};
use app::state::{AuthSettings, MailgraphSettings, ProvisionSettings, RetentionSettings};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub auth: AuthSettings,
    pub log: LogConfig,
    pub mailflow: MailflowConfig,
    pub defence: DefenceConfig,
    pub provision: ProvisionSettings,
    pub mailgraph: MailgraphSettings,
    /// How long the tables that grow with time keep their rows.
    pub retention: RetentionSettings,
    /// What loading found worth telling the admin (an old setting mapped
    /// to its replacement); logged once tracing is set up.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DefenceConfig {
    /// Where the Postfix policy daemon listens (`check_policy_service
    /// inet:ADDR`); empty turns it off.
    pub policy_listen: String,
    /// How often the daemon re-reads the active blocks from the database.
    pub refresh_secs: u64,
    /// The text after `action=REJECT` (the block's number is added).
    pub reject_text: String,
    /// Most policy connections at once. When they are all taken, the
    /// connection idle the longest is closed to make room; a new one is
    /// refused only while every connection is in the middle of a request.
    pub max_connections: usize,
    /// Most policy connections from one client address; over it, that
    /// address's own longest-idle connection is closed to make room.
    pub max_connections_per_client: usize,
    /// A policy connection with no complete request for this long is
    /// closed (empty requests and partial lines do not count).
    pub idle_secs: u64,
    /// A request must be complete (its empty line read) this long after
    /// its first line arrived, or the connection is closed.
    pub request_secs: u64,
    /// When set, the active IP blocks are also kept in this file as a
    /// Postfix `cidr:` access table (rewritten when they change).
    pub cidr_file: String,
    /// IP blocks wider than these prefix lengths need an admin's override.
    pub max_prefix_v4: u8,
    pub max_prefix_v6: u8,
    /// The ISP's own customer address pools (CIDR): blocking inside them
    /// needs an admin's override, and detection never proposes inside them
    /// (a compromised customer is still proposed by account).
    pub customer_pools: Vec<String>,
    /// An alert is raised when the last hour's SASL failures, or rejects
    /// of one class, are this many times the median hour of the week
    /// before (0 turns alerts off)...
    pub alert_factor: f64,
    /// ...and at least this many.
    pub alert_min_count: u64,
}

impl DefenceConfig {
    pub fn guardrails(&self) -> Result<app::state::Guardrails> {
        let customer_pools = self.customer_pools()?;
        Ok(app::state::Guardrails {
            max_prefix_v4: self.max_prefix_v4.min(32),
            max_prefix_v6: self.max_prefix_v6.min(128),
            customer_pools,
        })
    }
}

impl DefenceConfig {
    pub fn customer_pools(&self) -> Result<Vec<ipnet::IpNet>> {
        self.customer_pools
            .iter()
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .with_context(|| format!("defence.customer_pools: {p:?} is not a CIDR network"))
            })
            .collect()
    }

    /// The alert rules these settings give (`None`: alerts off).
    pub fn alert_rules(&self) -> Result<Option<mailflow::detect::AlertRules>> {
        if self.alert_factor == 0.0 {
            return Ok(None);
        }
        if !(1.0..=1000.0).contains(&self.alert_factor) {
            bail!(
                "defence.alert_factor: {} is not between 1 and 1000 (0: no alerts)",
                self.alert_factor
            );
        }
        Ok(Some(mailflow::detect::AlertRules {
            factor: self.alert_factor,
            min_count: self.alert_min_count.max(1),
            ..Default::default()
        }))
    }
}

impl Default for DefenceConfig {
    fn default() -> Self {
        let alerts = mailflow::detect::AlertRules::default();
        Self {
            policy_listen: "127.0.0.1:10040".into(),
            refresh_secs: 2,
            reject_text: "Blocked by the abuse team".into(),
            max_connections: 1000,
            max_connections_per_client: 500,
            idle_secs: 300,
            request_secs: 10,
            cidr_file: String::new(),
            max_prefix_v4: 32,
            max_prefix_v6: 128,
            customer_pools: Vec::new(),
            alert_factor: alerts.factor,
            alert_min_count: alerts.min_count,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MailflowConfig {
    /// Clients (IP or CIDR) besides loopback whose SMTP submissions are
    /// content-filter re-injections, not received mail.
    pub internal_clients: Vec<String>,
    /// The mail relays' own addresses (IP or CIDR): never proposed for a
    /// block, as blocking them would cut the relays off from each other.
    pub relay_addresses: Vec<String>,
    /// Relay names that are content filters: deliveries to them are not sent mail.
    pub filter_relays: Vec<String>,
    /// Correlation state (messages, smtpd sessions) with no line for this
    /// long, in log time, is dropped.
    pub idle_minutes: u32,
    /// Most messages held in flight at once.
    pub max_messages: usize,
    /// Lines per stored batch during imports.
    pub batch_lines: u64,
    /// Live sources `carteiro serve` tails.
    pub sources: Vec<SourceConfig>,
    /// How often a tailed file is checked for new lines or rotation.
    pub poll_millis: u64,
    /// `/readyz` answers 503 while a live source is this many seconds
    /// behind its file (unread lines whose log time is older), or its
    /// worker has not reported for this long.
    pub alert_lag_secs: u64,
}

impl Default for MailflowConfig {
    fn default() -> Self {
        let engine = mailflow::count::Settings::default();
        Self {
            internal_clients: Vec::new(),
            relay_addresses: Vec::new(),
            filter_relays: engine.filter_relays,
            idle_minutes: (engine.limits.idle_secs / 60) as u32,
            max_messages: engine.limits.max_messages,
            batch_lines: 100_000,
            sources: Vec::new(),
            poll_millis: 500,
            alert_lag_secs: 300,
        }
    }
}

/// A log file written by one or more mail relays.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A stable name: the checkpoint is kept under it.
    pub name: String,
    /// The live file, e.g. /var/log/mail.log. Both logrotate styles are
    /// followed; after a copytruncate or a restart the previous file is
    /// looked for as PATH.1 (uncompressed: use logrotate's delaycompress).
    pub path: PathBuf,
}

impl MailflowConfig {
    /// The engine settings these options describe.
    pub fn engine_settings(&self) -> Result<mailflow::count::Settings> {
        Ok(mailflow::count::Settings {
            internal_clients: networks("mailflow.internal_clients", &self.internal_clients)?,
            never_propose: networks("mailflow.relay_addresses", &self.relay_addresses)?,
            alerts: Some(mailflow::detect::AlertRules::default()),
            filter_relays: self
                .filter_relays
                .iter()
                .map(|r| r.to_ascii_lowercase())
                .collect(),
            limits: mailflow::correlate::Limits {
                idle_secs: i64::from(self.idle_minutes) * 60,
                max_messages: self.max_messages,
            },
            traces: true,
            // Read from the database by whoever runs the engine.
            domains: Default::default(),
            day_zone: Default::default(),
        })
    }
}

/// Addresses or CIDR networks of the setting `key`.
fn networks(key: &str, list: &[String]) -> Result<Vec<ipnet::IpNet>> {
    list.iter()
        .map(|c| {
            c.parse::<ipnet::IpNet>()
                .or_else(|_| c.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .with_context(|| format!("{key}: {c:?} is not an IP address or CIDR"))
        })
        .collect()
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH?mode=rwc` or `postgres://USER:PASS@HOST/DB`.
    pub url: String,
    pub max_connections: u32,
    /// SQLite only: the page cache of each connection, in MB. The importer
    /// (one connection) keeps the ends of the MailFlow B-trees in it.
    pub sqlite_cache_mb: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/carteiro.db?mode=rwc".into(),
            max_connections: 10,
            sqlite_cache_mb: 32,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port the portal listens on.
    pub listen: String,
    /// Where the built site (WASM, JS, CSS) is, as cargo-leptos wrote it.
    pub site_root: String,
    /// Origins (e.g. `https://carteiro.example.net`) whose pages may send
    /// state-changing requests, besides the portal's own (the request's
    /// `Host` with `http`, or `https` with `auth.secure_cookies`). Needed
    /// behind a reverse proxy that rewrites `Host`, or that adds TLS
    /// without `auth.secure_cookies`.
    pub allowed_origins: Vec<String>,
    /// On an empty staff table, create `admin` and print its password once.
    pub create_first_admin: bool,
    /// Every request is answered within this many seconds: one still
    /// running is stopped and answered 503 with a message.
    pub request_timeout_secs: u64,
    /// A client must send a request's headers within this many seconds
    /// (counted from the connection or the previous answer), or the
    /// connection is closed.
    pub header_read_timeout_secs: u64,
    /// The longest pause while a client sends a request body; longer and
    /// the request is answered 408.
    pub body_read_timeout_secs: u64,
    /// Most HTTP connections served at once; more wait (in the kernel's
    /// queue) until one ends.
    pub max_connections: usize,
    /// Reverse proxies (IP addresses or CIDR networks) whose
    /// `X-Forwarded-For` is believed when `auth.trust_proxy_headers` is
    /// set: the client is the right-most entry that is not one of them.
    pub trusted_proxies: Vec<String>,
    /// The portal's language for a visitor whose browser asks for neither
    /// of its languages, and for new staff: `pt-BR` or `en`. Each staff
    /// member may choose their own under *Your account*.
    pub default_language: String,
    /// The IANA time zone (e.g. `America/Sao_Paulo`) every time is shown
    /// in; the report's days, the charts' day buckets and the stored day
    /// totals are its local days (23 or 25 hours long around a
    /// summer-time change).
    pub time_zone: String,
    /// What this process runs: any of `portal` (the HTTP server: pages,
    /// REST, `/healthz`, `/readyz`), `ingest` (the `[[mailflow.sources]]`
    /// workers), `policyd` (the Postfix policy daemon) and `purge` (the
    /// retention rounds and other once-per-installation tasks; on
    /// PostgreSQL one process at a time runs them). See [`Roles`].
    pub roles: Vec<String>,
    /// On SIGTERM or Ctrl-C the process stops taking requests, lets each
    /// ingest worker store its current batch with its checkpoint, and ends
    /// within this many seconds (what is still running then is dropped,
    /// as after a crash).
    pub shutdown_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:3000".into(),
            site_root: "target/site".into(),
            allowed_origins: Vec::new(),
            create_first_admin: true,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 10,
            max_connections: 1000,
            trusted_proxies: vec!["127.0.0.1/32".into(), "::1/128".into()],
            default_language: "pt-BR".into(),
            time_zone: "America/Sao_Paulo".into(),
            roles: Roles::ALL.names().iter().map(|r| r.to_string()).collect(),
            shutdown_secs: 20,
        }
    }
}

/// What one `carteiro serve` process runs (`server.roles`, or `serve
/// --roles`): a relay runs `ingest` and `policyd` against the central
/// PostgreSQL with no web port, portal replicas run `portal` without
/// `ingest`, and one process (a PostgreSQL advisory lock decides) runs the
/// `purge`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles {
    pub portal: bool,
    pub ingest: bool,
    pub policyd: bool,
    pub purge: bool,
}

impl Roles {
    pub const ALL: Self = Self {
        portal: true,
        ingest: true,
        policyd: true,
        purge: true,
    };
    /// Every role's name, in the order they are listed.
    pub const NAMES: [&'static str; 4] = ["portal", "ingest", "policyd", "purge"];

    /// The roles `names` lists (`setting` names where they come from, for
    /// the error): each a known name, at least one.
    pub fn parse<'a>(setting: &str, names: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut roles = Self {
            portal: false,
            ingest: false,
            policyd: false,
            purge: false,
        };
        let mut any = false;
        for name in names {
            let name = name.trim();
            let flag = match name.to_ascii_lowercase().as_str() {
                "portal" => &mut roles.portal,
                "ingest" => &mut roles.ingest,
                "policyd" => &mut roles.policyd,
                "purge" => &mut roles.purge,
                _ => bail!(
                    "{setting}: {name:?} is not a role; the roles are {}",
                    Self::NAMES.join(", ")
                ),
            };
            *flag = true;
            any = true;
        }
        if !any {
            bail!(
                "{setting} is empty: name at least one of {}",
                Self::NAMES.join(", ")
            );
        }
        Ok(roles)
    }

    /// The names of the roles on, in [`Roles::NAMES`] order.
    pub fn names(&self) -> Vec<&'static str> {
        let on = [self.portal, self.ingest, self.policyd, self.purge];
        Self::NAMES
            .into_iter()
            .zip(on)
            .filter_map(|(name, on)| on.then_some(name))
            .collect()
    }
}

impl std::fmt::Display for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names().join(", "))
    }
}

impl ServerConfig {
    /// `roles`, checked.
    pub fn roles(&self) -> Result<Roles> {
        Roles::parse("server.roles", self.roles.iter().map(String::as_str))
    }

    /// `default_language` and `time_zone`, checked.
    pub fn locale(&self) -> Result<app::state::LocaleSettings> {
        let default_lang = app::i18n::Lang::parse(&self.default_language).with_context(|| {
            format!(
                "server.default_language: {:?} is not pt-BR or en",
                self.default_language
            )
        })?;
        let zone = app::i18n::Zone::named(self.time_zone.trim())
            .map_err(|e| anyhow::anyhow!("server.time_zone: {e}"))?;
        Ok(app::state::LocaleSettings {
            default_lang,
            zone: Arc::new(zone),
        })
    }

    /// `trusted_proxies`, parsed.
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .with_context(|| {
                        format!(
                            "server.trusted_proxies: {p:?} is not an IP address or CIDR network"
                        )
                    })
            })
            .collect()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `carteiro=debug,sqlx=warn`.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            filter: "info,sqlx=warn,sea_orm=warn".into(),
        }
    }
}

impl Config {
    /// Reads `path` (when given, it must exist; otherwise `carteiro.toml` in
    /// the working directory is used if present), then applies `env`.
    /// The MailFlow engine's settings, with days the local days of
    /// `server.time_zone`.
    pub fn engine_settings(&self) -> Result<mailflow::count::Settings> {
        let mut settings = self.mailflow.engine_settings()?;
        settings
            .never_propose
            .extend(self.defence.customer_pools()?);
        settings.alerts = self.defence.alert_rules()?;
        let zone = self.server.locale()?.zone;
        settings.day_zone = Arc::new(zone.changes.clone());
        Ok(settings)
    }

    /// The `[mailgraph]` settings with `mailflow.filter_relays` and
    /// `server.time_zone` filled in, as the report sees them: it tells
    /// hand-offs from deliveries by the counter's list, days by the zone.
    pub fn mailgraph_settings(&self) -> MailgraphSettings {
        MailgraphSettings {
            filter_relays: self.mailflow.filter_relays.clone(),
            // `load` checked the zone.
            zone: self.server.locale().map(|l| l.zone).unwrap_or_default(),
            ..self.mailgraph.clone()
        }
    }

    /// The `[auth]` settings with `server.trusted_proxies` filled in, as
    /// the server functions see them.
    pub fn auth_settings(&self) -> Result<AuthSettings> {
        Ok(AuthSettings {
            trusted_proxies: self.server.trusted_proxies()?,
            ..self.auth.clone()
        })
    }

    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let (text, origin) = match path {
            Some(p) => (
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config file {}", p.display()))?,
                Some(p.to_path_buf()),
            ),
            None => match std::fs::read_to_string("carteiro.toml") {
                Ok(t) => (t, Some(PathBuf::from("carteiro.toml"))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), None),
                Err(e) => return Err(e).context("cannot read carteiro.toml"),
            },
        };
        let mut value: toml::Table = toml::from_str(&text).with_context(|| {
            format!(
                "{} is not valid TOML",
                origin.as_deref().unwrap_or(Path::new("config")).display()
            )
        })?;
        apply_env(&mut value, env)?;
        let zone_given = value
            .get("server")
            .and_then(toml::Value::as_table)
            .is_some_and(|s| s.contains_key("time_zone"));
        let mut cfg: Self = toml::Value::Table(value)
            .try_into()
            .context("invalid configuration (see carteiro.example.toml for every setting)")?;
        cfg.migrate_utc_offset(zone_given)?;
        cfg.server.locale()?;
        cfg.server.trusted_proxies()?;
        cfg.server.roles()?;
        cfg.check_retention()?;
        Ok(cfg)
    }
}

impl Config {
    /// Every retention setting within bounds: none negative (the day
    /// counts are unsigned; `provision.retention_days` is checked here),
    /// none so large that its seconds overflow.
    fn check_retention(&self) -> Result<()> {
        let max = i64::from(app::state::MAX_RETENTION_DAYS);
        let days = self.provision.retention_days;
        if !(0..=max).contains(&days) {
            bail!("provision.retention_days: {days} is not between 0 and {max}");
        }
        self.retention.check().map_err(anyhow::Error::msg)
    }

    /// The horizons `carteiro serve` and `carteiro purge` apply.
    pub fn retention_settings(&self) -> app::server::retention::Settings {
        app::server::retention::Settings::new(&self.retention, &self.mailgraph, &self.auth)
    }

    /// Maps the old `mailgraph.utc_offset` to `server.time_zone`: `-03:00`
    /// becomes the fixed zone `Etc/GMT+3` (the IANA `Etc` names count
    /// west as positive), with a warning asking the admin to set a real
    /// zone; set together with `server.time_zone` (`zone_given`) it is an
    /// error, since the two could disagree.
    fn migrate_utc_offset(&mut self, zone_given: bool) -> Result<()> {
        let Some(old) = self.mailgraph.utc_offset.take() else {
            return Ok(());
        };
        if zone_given {
            bail!(
                "mailgraph.utc_offset ({old:?}) is replaced by server.time_zone ({:?}), and both \
                 are set: remove mailgraph.utc_offset",
                self.server.time_zone
            );
        }
        let zone = fixed_zone(&old)?;
        self.warnings.push(format!(
            "mailgraph.utc_offset = {old:?} is replaced by server.time_zone: using the fixed zone \
             {zone:?} (no summer time). Set server.time_zone (e.g. \"America/Sao_Paulo\") and \
             remove mailgraph.utc_offset"
        ));
        self.server.time_zone = zone;
        Ok(())
    }
}

/// The IANA name of the fixed zone at a whole-hour UTC offset (`-03:00`,
/// `+01:00`, `Z`): `Etc/GMT+3`, `Etc/GMT-1`, `Etc/UTC`.
fn fixed_zone(offset: &str) -> Result<String> {
    let text = offset.trim();
    if text.eq_ignore_ascii_case("z") || text.is_empty() {
        return Ok("Etc/UTC".into());
    }
    let bad = || {
        anyhow::anyhow!(
            "mailgraph.utc_offset: {text:?} is not a whole-hour offset like -03:00; \
             set server.time_zone (e.g. \"America/Sao_Paulo\") instead"
        )
    };
    let (west, rest) = match text.as_bytes()[0] {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "00"));
    let (h, m): (u8, u8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    // Etc/GMT-14 .. Etc/GMT+12 exist; minutes have no Etc zone.
    if m != 0 || h > if west { 12 } else { 14 } {
        return Err(bad());
    }
    Ok(match (h, west) {
        (0, _) => "Etc/UTC".into(),
        (h, true) => format!("Etc/GMT+{h}"),
        (h, false) => format!("Etc/GMT-{h}"),
    })
}

fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<()> {
    let mut vars: Vec<(String, String)> = env.into_iter().collect();
    // The plain DATABASE_URL loses to the explicit CARTEIRO_ one.
    vars.sort_by_key(|(k, _)| k != "DATABASE_URL");
    for (key, raw) in vars {
        let path: Vec<String> = match key.as_str() {
            "DATABASE_URL" | "CARTEIRO_DATABASE_URL" => vec!["database".into(), "url".into()],
            k => match k.strip_prefix("CARTEIRO_") {
                Some(rest) if rest.contains("__") => {
                    rest.split("__").map(|p| p.to_lowercase()).collect()
                }
                _ => continue,
            },
        };
        let mut node = &mut *table;
        for part in &path[..path.len() - 1] {
            let entry = node
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            node = match entry {
                toml::Value::Table(t) => t,
                _ => bail!("{key}: {part} is not a table"),
            };
        }
        node.insert(path[path.len() - 1].clone(), env_value(&raw));
    }
    Ok(())
}

/// `true`/`false`, integers and `[..]` arrays are typed; anything else is a string.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(b) = raw.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if raw.starts_with('[')
        && let Ok(t) = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        && let Some(v) = t.get("v")
    {
        return v.clone();
    }
    toml::Value::String(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load(Some(&write(&dir, "")), env(&[])).unwrap();
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn environment_overrides_the_file_at_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            &dir,
            "[auth]\nidle_timeout_minutes = 5\n[auth.throttle]\nlock_after = 7\n",
        );
        let cfg = Config::load(
            Some(&file),
            env(&[
                ("CARTEIRO_AUTH__IDLE_TIMEOUT_MINUTES", "30"),
                ("CARTEIRO_AUTH__SECURE_COOKIES", "true"),
                (
                    "CARTEIRO_SERVER__ALLOWED_ORIGINS",
                    "[\"https://mail.example.net\"]",
                ),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.auth.idle_timeout_minutes, 30);
        assert!(cfg.auth.secure_cookies);
        assert_eq!(cfg.auth.throttle.lock_after, 7);
        assert_eq!(
            cfg.server.allowed_origins,
            vec!["https://mail.example.net".to_string()]
        );
    }

    #[test]
    fn carteiro_database_url_beats_database_url() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load(
            Some(&write(&dir, "")),
            env(&[
                ("CARTEIRO_DATABASE_URL", "postgres://a/b"),
                ("DATABASE_URL", "postgres://c/d"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.database.url, "postgres://a/b");
    }

    #[test]
    fn unknown_keys_and_missing_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err =
            Config::load(Some(&write(&dir, "[auth]\nidle_timeout = 5\n")), env(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("idle_timeout"), "{err:#}");
        let err = Config::load(Some(&dir.path().join("nope.toml")), env(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("nope.toml"), "{err:#}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            &dir,
            "[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\"]\n",
        );
        let cfg = Config::load(Some(&file), env(&[])).unwrap();
        let nets: Vec<String> = cfg
            .auth_settings()
            .unwrap()
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, vec!["10.0.0.0/8", "192.0.2.7/32"]);
        let bad = write(&dir, "[server]\ntrusted_proxies = [\"proxy.local\"]\n");
        let err = Config::load(Some(&bad), env(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("proxy.local"), "{err:#}");
    }

    #[test]
    fn an_old_utc_offset_becomes_a_fixed_zone_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let old = write(&dir, "[mailgraph]\nutc_offset = \"-03:00\"\n");
        let cfg = Config::load(Some(&old), env(&[])).unwrap();
        assert_eq!(cfg.server.time_zone, "Etc/GMT+3");
        assert_eq!(cfg.mailgraph.utc_offset, None);
        assert!(
            cfg.warnings[0].contains("server.time_zone"),
            "{:?}",
            cfg.warnings
        );
        let zone = cfg.mailgraph_settings().zone;
        assert_eq!(zone.offset_at(1_516_000_000), -3 * 3600, "no summer time");
        let settings = cfg.engine_settings().unwrap();
        use mailflow::time::LocalDays;
        assert_eq!(settings.day_zone.utc_offset(1_516_000_000), -3 * 3600);
        // East of UTC: the sign turns.
        let east = write(&dir, "[mailgraph]\nutc_offset = \"+05:00\"\n");
        let cfg = Config::load(Some(&east), env(&[])).unwrap();
        assert_eq!(cfg.server.time_zone, "Etc/GMT-5");
        assert_eq!(cfg.mailgraph_settings().zone.offset_at(0), 5 * 3600);
        // A zone of its own: nothing to migrate, no warning.
        let cfg = Config::load(Some(&write(&dir, "")), env(&[])).unwrap();
        assert!(cfg.warnings.is_empty());
    }

    #[test]
    fn utc_offset_and_time_zone_together_or_half_hours_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let both = write(
            &dir,
            "[server]\ntime_zone = \"America/Sao_Paulo\"\n[mailgraph]\nutc_offset = \"-03:00\"\n",
        );
        let err = format!("{:#}", Config::load(Some(&both), env(&[])).unwrap_err());
        assert!(err.contains("remove mailgraph.utc_offset"), "{err}");
        // Also when the zone comes from the environment.
        let old = write(&dir, "[mailgraph]\nutc_offset = \"-03:00\"\n");
        let err = Config::load(
            Some(&old),
            env(&[("CARTEIRO_SERVER__TIME_ZONE", "America/Manaus")]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("both"), "{err:#}");
        let half = write(&dir, "[mailgraph]\nutc_offset = \"+05:30\"\n");
        let err = format!("{:#}", Config::load(Some(&half), env(&[])).unwrap_err());
        assert!(err.contains("server.time_zone"), "{err}");
    }

    #[test]
    fn retention_settings_out_of_bounds_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for (text, name) in [
            (
                "[retention]\nmessage_trace_days = -1\n",
                "message_trace_days",
            ),
            (
                "[retention]\naudit_days = 4294967295\n",
                "retention.audit_days",
            ),
            ("[retention]\nchunk_rows = 0\n", "retention.chunk_rows"),
            (
                "[retention]\nmessage_trace_days = 2\n",
                "retention.message_trace_days",
            ),
            (
                "[provision]\nretention_days = -5\n",
                "provision.retention_days",
            ),
            (
                "[provision]\nretention_days = 9223372036854775807\n",
                "provision.retention_days",
            ),
        ] {
            let err = Config::load(Some(&write(&dir, text)), env(&[])).unwrap_err();
            assert!(format!("{err:#}").contains(name), "{text}: {err:#}");
        }
        let cfg = Config::load(
            Some(&write(&dir, "[retention]\nmessage_trace_days = 7\n")),
            env(&[("CARTEIRO_RETENTION__AUDIT_DAYS", "3650")]),
        )
        .unwrap();
        assert_eq!(cfg.retention.message_trace_days, 7);
        assert_eq!(cfg.retention.audit_days, 3650);
    }

    #[test]
    fn roles_are_known_names_and_at_least_one() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load(Some(&write(&dir, "")), env(&[])).unwrap();
        assert_eq!(cfg.server.roles().unwrap(), Roles::ALL);
        let relay = Config::load(
            Some(&write(
                &dir,
                "[server]\nroles = [\"ingest\", \"policyd\"]\n",
            )),
            env(&[]),
        )
        .unwrap()
        .server
        .roles()
        .unwrap();
        assert_eq!(
            relay,
            Roles {
                portal: false,
                ingest: true,
                policyd: true,
                purge: false
            }
        );
        assert_eq!(relay.to_string(), "ingest, policyd");
        let from_env = Config::load(
            Some(&write(&dir, "")),
            env(&[("CARTEIRO_SERVER__ROLES", "[\"portal\"]")]),
        )
        .unwrap();
        assert_eq!(from_env.server.roles().unwrap().names(), ["portal"]);
        for (text, want) in [
            ("[server]\nroles = []\n", "server.roles is empty"),
            (
                "[server]\nroles = [\"portal\", \"web\"]\n",
                "\"web\" is not a role; the roles are portal, ingest, policyd, purge",
            ),
        ] {
            let err = Config::load(Some(&write(&dir, text)), env(&[])).unwrap_err();
            assert!(format!("{err:#}").contains(want), "{text}: {err:#}");
        }
        let err = Roles::parse("--roles", ["ingest", ""]).unwrap_err();
        assert!(
            format!("{err:#}").contains("--roles: \"\" is not a role"),
            "{err:#}"
        );
    }

    #[test]
    fn the_documented_example_is_the_defaults() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../carteiro.example.toml");
        let cfg = Config::load(Some(&example), env(&[])).unwrap();
        assert_eq!(cfg, Config::default());
    }

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let p = dir.path().join("carteiro.toml");
        std::fs::write(&p, text).unwrap();
        p
    }
}
