//! What every server function can reach on the server: the database, the
//! Leptos options and the settings that shape authentication. Server only.

use crate::errors::AppError;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use leptos::prelude::use_context;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub leptos_options: LeptosOptions,
    pub auth: Arc<AuthSettings>,
    /// The live log sources' states, written by the ingest workers.
    pub ingest: IngestBoard,
    /// What a block may cover without an admin's explicit override.
    pub guardrails: Arc<Guardrails>,
    pub provision: Arc<ProvisionSettings>,
    pub mailgraph: Arc<MailgraphSettings>,
    /// The default language and the time zone every time is shown in.
    pub locale: Arc<LocaleSettings>,
}

/// `server.default_language` and `server.time_zone`, ready to use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocaleSettings {
    /// For a visitor whose browser asks for neither of our languages.
    pub default_lang: crate::i18n::Lang,
    pub zone: Arc<crate::i18n::Zone>,
}

impl AppState {
    /// What a provisioning request needs besides the database.
    pub fn provision_context(&self) -> crate::server::provision::Context {
        crate::server::provision::Context {
            now: chrono::Utc::now(),
            retention_days: self.provision.retention_days,
            dry_run: false,
        }
    }
}

/// Provisioning settings (`[provision]` in `carteiro.toml`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ProvisionSettings {
    /// Days a deleted mailbox is kept (restorable) before it is purged.
    pub retention_days: i64,
}

impl Default for ProvisionSettings {
    fn default() -> Self {
        Self { retention_days: 30 }
    }
}

/// Mailgraph settings (`[mailgraph]` in `carteiro.toml`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MailgraphSettings {
    /// Replaced by `server.time_zone`. An old configuration that sets it
    /// (e.g. `-03:00`) still loads: it becomes the fixed zone `Etc/GMT+3`
    /// with a warning, unless `server.time_zone` is set too (an error);
    /// see `server::config`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utc_offset: Option<String>,
    /// Days each resolution of the per-host series is kept (0: forever).
    pub retention: Retention,
    /// The same for the per-domain series, which have many more rows.
    pub domain_retention: Retention,
    /// The relay names of content filters (`mailflow.filter_relays`, not a
    /// `[mailgraph]` setting): the report decides which deliveries are
    /// hand-offs by the counter's rule with the counter's list, so its
    /// tables and the charts count the same mail.
    #[serde(skip)]
    pub filter_relays: Vec<String>,
    /// `server.time_zone` (not a `[mailgraph]` setting): the report's
    /// days, the charts' day buckets and the stored day totals are its
    /// local days.
    #[serde(skip)]
    pub zone: Arc<crate::i18n::Zone>,
}

/// Days kept per resolution; 0 keeps forever.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub minute_days: u32,
    pub hour_days: u32,
    pub day_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            minute_days: 14,
            hour_days: 400,
            day_days: 0,
        }
    }
}

impl Default for MailgraphSettings {
    fn default() -> Self {
        Self {
            utc_offset: None,
            retention: Retention::default(),
            domain_retention: Retention {
                minute_days: 2,
                hour_days: 100,
                day_days: 0,
            },
            filter_relays: mailflow::count::Settings::default().filter_relays,
            zone: Arc::default(),
        }
    }
}

impl MailgraphSettings {
    /// Seconds east of UTC at instant `t` in the configured zone.
    pub fn offset_at(&self, t: i64) -> i64 {
        i64::from(self.zone.offset_at(t))
    }
}

/// Blocks wider than one address (beyond these prefix lengths) or inside
/// the ISP's own customer address pools need an admin's explicit override;
/// blocks inside a never-block network (listed by an admin in the
/// detection settings) are refused whatever the override. Every way a
/// block is made (approving a proposal, adding one by hand) asks
/// [`Guardrails::check`].
#[derive(Clone, Debug)]
pub struct Guardrails {
    pub max_prefix_v4: u8,
    pub max_prefix_v6: u8,
    pub customer_pools: Vec<ipnet::IpNet>,
}

impl Default for Guardrails {
    fn default() -> Self {
        Self {
            max_prefix_v4: 32,
            max_prefix_v6: 128,
            customer_pools: Vec::new(),
        }
    }
}

impl Guardrails {
    /// Whether a block of `target` (of kind `subject`) may be made, with an
    /// admin's `override_guard` or without: `Err(Validation)` saying why
    /// not. Accounts are not limited here; an address or network is refused
    /// inside (or around) a never-block network, and without the override
    /// when [`Guardrails::concern`] has one. The caller checks that only an
    /// admin sets `override_guard`.
    pub async fn check(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        subject: crate::model::SubjectKind,
        target: &str,
        override_guard: bool,
    ) -> Result<(), AppError> {
        if subject != crate::model::SubjectKind::Ip {
            return Ok(());
        }
        if let Some(net) = as_network(target)
            && let Some(never) = crate::server::detection::never_block_covering(db, &net).await?
        {
            return Err(AppError::Validation(
                crate::pages::defence::server_texts()
                    .never_block_touch(&net.to_string(), &never.to_string()),
            ));
        }
        match self.concern(target) {
            Some(concern) if !override_guard => Err(AppError::Validation(
                crate::pages::defence::server_texts().admin_must_override(&concern),
            )),
            _ => Ok(()),
        }
    }

    /// Why blocking `target` (an `ip` subject) needs an override, if it does.
    pub fn concern(&self, target: &str) -> Option<String> {
        let net = as_network(target)?;
        let widest = match net {
            ipnet::IpNet::V4(_) => self.max_prefix_v4,
            ipnet::IpNet::V6(_) => self.max_prefix_v6,
        };
        if net.prefix_len() < widest {
            return Some(
                crate::pages::defence::server_texts().wider_than(&net.to_string(), widest),
            );
        }
        self.customer_pools
            .iter()
            .find(|pool| pool.contains(&net.network()) || net.contains(&pool.network()))
            .map(|pool| {
                crate::pages::defence::server_texts().in_pool(&net.to_string(), &pool.to_string())
            })
    }
}

/// `target` as a network: a CIDR, or an address as its /32 or /128.
fn as_network(target: &str) -> Option<ipnet::IpNet> {
    target.parse::<ipnet::IpNet>().ok().or_else(|| {
        target
            .parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

/// Shared, in-memory status of the ingest workers (one entry per source).
pub type IngestBoard = Arc<std::sync::RwLock<Vec<crate::model::SourceStatus>>>;

/// The `[auth]` table of `carteiro.toml`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Minutes without a request after which a session ends.
    pub idle_timeout_minutes: u64,
    /// Mark the session cookie `Secure` (set this when served over HTTPS).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For`, but only from a TCP
    /// peer in `trusted_proxies`, and only the right-most entry that is not
    /// itself a trusted proxy (what the proxy appended), never what the
    /// client wrote there.
    pub trust_proxy_headers: bool,
    /// Days `auth.login_failed` audit entries are kept (0: forever).
    pub failed_login_retention_days: u32,
    pub throttle: ThrottleSettings,
    /// The reverse proxies whose `X-Forwarded-For` is believed: the
    /// `server.trusted_proxies` setting, parsed (see `server::config`).
    #[serde(skip)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 60,
            secure_cookies: false,
            trust_proxy_headers: false,
            failed_login_retention_days: 90,
            throttle: ThrottleSettings::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// How failed sign-ins slow down and then lock a username tried from one
/// client address; how one address is slowed down over all usernames; and
/// when a username tried from many addresses is locked
/// (see `server::throttle`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSettings {
    /// Attempts older than this many seconds are forgotten.
    pub window_secs: u64,
    /// After this many attempts at one username from one address in the
    /// window, each further attempt waits before it is checked.
    pub slow_after: u32,
    /// The first wait, doubled for each further attempt.
    pub delay_ms: u64,
    /// The longest wait.
    pub max_delay_ms: u64,
    /// After this many attempts at one username from one address in the
    /// window, further ones are refused outright for `lock_secs`. Also
    /// bounds wrong current passwords when a member changes theirs.
    pub lock_after: u32,
    /// How long a lock lasts, in seconds.
    pub lock_secs: u64,
    /// After this many attempts from one client address (any usernames) in
    /// the window, each further attempt waits; an address is never locked.
    pub address_slow_after: u32,
    /// After this many attempts at one username from all addresses in the
    /// window, the username is locked for `lock_secs`, except from
    /// addresses it signed in from in the last 30 days (0: never).
    pub username_lock_after: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            slow_after: 3,
            delay_ms: 500,
            max_delay_ms: 4000,
            lock_after: 10,
            lock_secs: 15 * 60,
            address_slow_after: 50,
            username_lock_after: 100,
        }
    }
}

/// The server state, from inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        if use_context::<http::request::Parts>().is_some() {
            tracing::error!("AppState missing from the Leptos context");
        } else {
            // Neither the state nor the request: the page's request ended
            // (the browser went on) while a resource of its rendering was
            // still loading; nobody reads this answer.
            tracing::debug!("the request ended before its work: no AppState");
        }
        AppError::Internal
    })
}

/// The most days a retention setting may say (100 years): any more is a
/// typo, and every horizon stays a small number of seconds.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// How long the tables that grow with time keep their rows
/// (`[retention]` in `carteiro.toml`; 0 keeps forever). The Mailgraph
/// tiers have theirs in `[mailgraph.retention]`, deleted mailboxes in
/// `provision.retention_days`, failed sign-ins in
/// `auth.failed_login_retention_days`; `crate::server::retention` applies
/// them all.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// Message-trace rows (`mail_message`), by the message's first line.
    pub message_trace_days: u32,
    /// Per-hour counters per client IP and SASL account
    /// (`mail_subject_hour`): what *Test this change* replays.
    pub subject_hour_days: u32,
    /// Decided (approved, rejected, expired) proposals and their evidence,
    /// by their last change; pending ones are never deleted.
    pub proposal_days: u32,
    /// Blocks, counted from their planned end: an active block is never
    /// deleted, a lifted one goes this long after it would have expired.
    pub block_days: u32,
    /// Acknowledged alerts, by when they were acknowledged.
    pub alert_days: u32,
    /// Unclassified reject texts, by when one was last seen.
    pub unclassified_days: u32,
    /// The audit log (every action): 0 keeps it forever.
    pub audit_days: u32,
    /// CSV import jobs and their results, by their last progress.
    pub import_job_days: u32,
    /// Most rows one delete statement (one short write transaction) takes.
    pub chunk_rows: u32,
    /// Pause between two chunks, in milliseconds: the time other writers
    /// (ingest, the portal) get the database's write lock.
    pub pause_ms: u32,
}

/// The shortest message trace retention: Postfix's longest usual queue
/// lifetime (`maximal_queue_lifetime`, 5 days) and a margin.
pub const MIN_TRACE_DAYS: u32 = 7;

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            message_trace_days: 30,
            subject_hour_days: 90,
            proposal_days: 365,
            block_days: 365,
            alert_days: 365,
            unclassified_days: 90,
            audit_days: 0,
            import_job_days: 30,
            chunk_rows: 5000,
            pause_ms: 100,
        }
    }
}

impl RetentionSettings {
    /// Everything kept forever (0 days): for tests that read old data.
    pub const KEEP_ALL: Self = Self {
        message_trace_days: 0,
        subject_hour_days: 0,
        proposal_days: 0,
        block_days: 0,
        alert_days: 0,
        unclassified_days: 0,
        audit_days: 0,
        import_job_days: 0,
        chunk_rows: 5000,
        pause_ms: 100,
    };

    /// The settings by their `carteiro.toml` names, for checks and messages.
    pub fn days(&self) -> [(&'static str, u32); 8] {
        [
            ("message_trace_days", self.message_trace_days),
            ("subject_hour_days", self.subject_hour_days),
            ("proposal_days", self.proposal_days),
            ("block_days", self.block_days),
            ("alert_days", self.alert_days),
            ("unclassified_days", self.unclassified_days),
            ("audit_days", self.audit_days),
            ("import_job_days", self.import_job_days),
        ]
    }

    /// Refuses a horizon beyond [`MAX_RETENTION_DAYS`] and a chunk or
    /// pause no purge can work with (negative numbers do not load: the
    /// fields are unsigned).
    pub fn check(&self) -> Result<(), String> {
        for (name, days) in self.days() {
            if days > MAX_RETENTION_DAYS {
                return Err(format!(
                    "retention.{name}: {days} is more than {MAX_RETENTION_DAYS} days (0 keeps forever)"
                ));
            }
        }
        // A message is still updated while Postfix retries it (its queue
        // lifetime, 5 days by default): its record must outlive that.
        if (1..MIN_TRACE_DAYS).contains(&self.message_trace_days) {
            return Err(format!(
                "retention.message_trace_days: {} is less than {MIN_TRACE_DAYS} days, the time a deferred message may still be retried (0 keeps forever)",
                self.message_trace_days
            ));
        }
        if !(100..=50_000).contains(&self.chunk_rows) {
            return Err(format!(
                "retention.chunk_rows: {} is not between 100 and 50000",
                self.chunk_rows
            ));
        }
        if self.pause_ms > 10_000 {
            return Err(format!(
                "retention.pause_ms: {} is more than 10000 (10 s)",
                self.pause_ms
            ));
        }
        Ok(())
    }
}
