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
