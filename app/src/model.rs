//! Plain data shared by the server and the browser: staff roles, the portal's
//! sections and the DTOs that server functions return. Nothing here touches
//! the database; sea-orm models never cross the wire.

use chrono::{DateTime, Utc};
pub use mailflow::SubjectKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares an enum of fixed states or kinds that is stored and sent as
/// strings: `ALL`, `as_str`, `Display`, `FromStr`, serde with the same
/// strings and, on the server, sea-orm's `DeriveActiveEnum` for a
/// `VARCHAR(16)` column. An entity field can then be the enum while the
/// stored values stay exactly the strings (no migration), and a page
/// compares variants, never text.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "ssr", derive(schemars::JsonSchema, sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
        #[cfg_attr(
            feature = "ssr",
            sea_orm(rs_type = "String", db_type = "String(sea_orm::sea_query::StringLen::N(16))")
        )]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $text)]
                #[cfg_attr(feature = "ssr", sea_orm(string_value = $text))]
                $variant,
            )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and sent form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("unknown {} {s:?}", stringify!($name)))
            }
        }
    };
}
pub(crate) use string_enum;

/// What a staff member may do. A person can hold several roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Support,
    Security,
    Manager,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Support, Role::Security, Role::Manager];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Security => "security",
            Role::Manager => "manager",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Support => "Support",
            Role::Security => "Security",
            Role::Manager => "Manager",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown role {s:?}: expected one of admin, support, security, manager")
            })
    }
}

/// A non-empty, sorted, duplicate-free set of roles, stored as "admin,security".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Self {
        let mut v: Vec<Role> = roles.into_iter().collect();
        v.sort();
        v.dedup();
        Roles(v)
    }

    /// Roles from the four checkboxes of a staff form.
    pub fn from_flags(admin: bool, support: bool, security: bool, manager: bool) -> Self {
        Roles::new(
            [admin, support, security, manager]
                .into_iter()
                .zip(Role::ALL)
                .filter_map(|(on, role)| on.then_some(role)),
        )
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn intersects(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.contains(*r))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// The storage form, e.g. "admin,security".
    pub fn to_db(&self) -> String {
        self.0
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parses the storage form; unknown names are skipped so an old binary
    /// never locks a user out over a role it does not know.
    pub fn from_db(s: &str) -> Self {
        Roles::new(s.split(',').filter_map(|r| r.parse().ok()))
    }
}

impl FromStr for Roles {
    type Err = String;

    /// Strict parse of "admin,support" (command line input).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let roles = s
            .split(',')
            .filter(|r| !r.trim().is_empty())
            .map(Role::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Roles::new(roles))
    }
}

/// The portal's top-level sections. Navigation, page guards and the home page
/// all read who may enter from [`Section::roles`], so they never disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Section {
    Mailboxes,
    MailFlow,
    Charts,
    Admin,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Mailboxes,
        Section::MailFlow,
        Section::Charts,
        Section::Admin,
    ];

    pub fn roles(self) -> &'static [Role] {
        match self {
            Section::Mailboxes => &[Role::Support, Role::Admin],
            Section::MailFlow => &[Role::Security, Role::Admin],
            Section::Charts => &[Role::Manager, Role::Security, Role::Admin],
            Section::Admin => &[Role::Admin],
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Section::Mailboxes => "/mailboxes",
            Section::MailFlow => "/mailflow",
            Section::Charts => "/charts",
            Section::Admin => "/admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Mailboxes => "Mailboxes",
            Section::MailFlow => "MailFlow",
            Section::Charts => "Charts",
            Section::Admin => "Admin",
        }
    }

    pub fn summary(self) -> &'static str {
        match self {
            Section::Mailboxes => {
                "Find and change customer mailboxes, aliases and forwards; import them from CSV; trace a message."
            }
            Section::MailFlow => {
                "Review abuse detections, approve or reject proposed blocks, lift blocks."
            }
            Section::Charts => {
                "Mail flow over time per host and domain, the effect of blocks, and the daily report with CSV downloads."
            }
            Section::Admin => "Staff accounts, roles and the audit log of every change.",
        }
    }
}

/// The signed-in staff member, as the browser sees them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub roles: Roles,
    /// The language they chose under *Your account*, if any.
    #[serde(default)]
    pub language: Option<crate::i18n::Lang>,
}

impl CurrentUser {
    pub fn may_enter(&self, section: Section) -> bool {
        self.roles.intersects(section.roles())
    }
}

/// A staff account as the admin pages list it. Never carries the password hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub roles: Roles,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Live (unrevoked, unexpired) API tokens this member issued: disabling
    /// the account revokes them.
    #[serde(default)]
    pub api_tokens: u64,
}

/// A sign-in count that locks or slows sign-ins now, as admins see it
/// under *Admin → Staff*.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInLock {
    /// What clearing it names.
    pub key: String,
    /// What is counted: `username and address`, `username` (from all
    /// addresses), `address` (all usernames) or `password change`.
    pub kind: String,
    pub username: Option<String>,
    pub address: Option<String>,
    /// Attempts in the current window.
    pub attempts: i32,
    /// Refused until then; `None`: only slowed down.
    pub locked_until: Option<DateTime<Utc>>,
}

/// A password the server generated; shown to the admin exactly once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssuedPassword {
    pub username: String,
    pub password: Option<String>,
}

/// One row of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub client_addr: Option<String>,
}

/// What the audit page asks for. Empty strings mean "no filter".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub text: String,
    /// Inclusive start date, `YYYY-MM-DD` (UTC).
    #[serde(default)]
    pub from: String,
    /// Inclusive end date, `YYYY-MM-DD` (UTC).
    #[serde(default)]
    pub to: String,
    /// Show entries older than this id (keyset pagination).
    #[serde(default)]
    pub before_id: Option<i64>,
}

/// One page of audit entries, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before_id` to get the next (older) page; `None` on the last page.
    pub next_before_id: Option<i64>,
    /// Every action the log holds, for the filter's list.
    #[serde(default)]
    pub actions: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_storage_form_sorted_and_deduplicated() {
        let roles: Roles = "security,admin,security".parse().unwrap();
        assert_eq!(roles.to_db(), "admin,security");
        assert_eq!(Roles::from_db(&roles.to_db()), roles);
    }

    #[test]
    fn unknown_role_is_an_error_on_input_but_skipped_from_storage() {
        assert!("admin,root".parse::<Roles>().is_err());
        assert_eq!(Roles::from_db("admin,root").to_db(), "admin");
    }

    #[test]
    fn states_keep_their_stored_and_sent_strings() {
        // Databases and the browser already hold these: renaming a variant
        // must not change them.
        let texts = |all: &[SourceState]| all.iter().map(|s| s.as_str()).collect::<Vec<_>>();
        assert_eq!(
            texts(SourceState::ALL),
            ["starting", "following", "catching up", "error"]
        );
        let statuses: Vec<&str> = crate::provision::MailboxStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(statuses, ["active", "suspended", "deleted"]);
        assert_eq!(
            serde_json::to_string(&SourceState::CatchingUp).unwrap(),
            r#""catching up""#
        );
        assert_eq!(
            serde_json::from_str::<SourceState>(r#""following""#).unwrap(),
            SourceState::Following
        );
        assert_eq!("catching up".parse(), Ok(SourceState::CatchingUp));
        assert!("Following".parse::<SourceState>().is_err());
        assert_eq!(SourceState::Error.to_string(), "error");
    }

    #[test]
    fn each_section_admits_exactly_its_roles() {
        let only = |role| CurrentUser {
            id: 1,
            username: "u".into(),
            display_name: "U".into(),
            roles: Roles::new([role]),
            language: None,
        };
        let allowed: Vec<(Role, Vec<Section>)> = Role::ALL
            .into_iter()
            .map(|r| {
                let u = only(r);
                (
                    r,
                    Section::ALL
                        .into_iter()
                        .filter(|s| u.may_enter(*s))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Role::Admin, Section::ALL.to_vec()),
                (Role::Support, vec![Section::Mailboxes]),
                (Role::Security, vec![Section::MailFlow, Section::Charts]),
                (Role::Manager, vec![Section::Charts]),
            ]
        );
    }
}

string_enum! {
    /// Where a live log source stands.
    #[derive(Default)]
    pub enum SourceState {
        /// Not read yet since the server started.
        #[default]
        Starting = "starting",
        /// At the end of its file, waiting for new lines.
        Following = "following",
        /// Reading what was written before it was last read.
        CatchingUp = "catching up",
        /// It could not be read or stored; see `last_error`.
        Error = "error",
    }
}

/// The live state of one log source tailed by `carteiro serve`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub name: String,
    pub path: String,
    pub state: SourceState,
    /// Bytes of the current file read and stored.
    pub offset: u64,
    /// The current file's size: `size - offset` bytes are still to read.
    pub size: u64,
    /// Lines stored since the source was first read.
    pub lines: u64,
    /// Lines per second over the last few seconds.
    pub lines_per_sec: f64,
    /// Log time of the latest stored line (Unix seconds).
    pub last_log_at: Option<i64>,
    /// Seconds between the latest stored line's log time and now.
    pub lag_secs: Option<i64>,
    pub last_error: Option<String>,
    /// When this status was last updated (Unix seconds).
    pub updated_at: i64,
    /// What the engine could not read in the latest lines (e.g. a syslog
    /// format giving no events): sentences for the operator.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// What the ingest admin page shows: the live sources and the files that
/// `carteiro import` stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestOverview {
    /// Live sources tailed by this server (empty when none is configured).
    pub sources: Vec<SourceStatus>,
    /// Stored positions, newest first: live sources and imported files.
    pub checkpoints: Vec<CheckpointInfo>,
    /// The server's clock (Unix seconds), to show ages.
    pub now: i64,
}

/// One stored ingest position.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    /// `live` (a source `carteiro serve` tails) or `import`.
    pub kind: String,
    /// The live source's name; for an import, the file's fingerprint.
    pub name: String,
    /// The path the file was last read from.
    pub path: String,
    /// Bytes of the file stored.
    pub offset: u64,
    pub lines: u64,
    pub last_log_at: Option<i64>,
    pub updated_at: i64,
}

/// A block proposal in the security team's queue.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProposalRow {
    pub id: i64,
    pub subject: SubjectKind,
    pub target: String,
    /// The policy that fired first.
    pub policy: String,
    /// Reason → count within its window, biggest first.
    pub reasons: Vec<(String, u64)>,
    pub score: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub distinct_ips: i32,
    pub distinct_recipients: i32,
    /// Up to 20 log lines.
    pub samples: Vec<String>,
    /// The block length approving it gives by default (longer for a
    /// subject blocked before), in minutes.
    pub default_minutes: i64,
    /// Blocks this subject had before.
    pub earlier_blocks: u64,
    /// Why approving needs an admin's override (a customer pool, a wide
    /// network), if it does.
    pub needs_override: Option<String>,
    /// The subject's first event seen: when the attack started
    /// (`first_seen` is when a policy fired).
    pub started: i64,
    /// Per detail list ([`DETAIL_LISTS`]) that has values: how many
    /// distinct values detection saw (the stored ones and those beyond).
    pub details: Vec<(String, u64)>,
}

/// A block, active or past.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockRow {
    pub id: i64,
    pub subject: SubjectKind,
    pub target: String,
    pub reason: String,
    pub approved_by: String,
    pub approved_at: i64,
    pub expires_at: i64,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<i64>,
    /// Requests it refused.
    pub hits: i64,
    pub proposal_id: Option<i64>,
}

/// The MailFlow defence page: pending proposals and blocks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DefenceState {
    /// Pending proposals, biggest and newest first.
    pub proposals: Vec<ProposalRow>,
    /// Active blocks, then the most recently ended ones.
    pub blocks: Vec<BlockRow>,
    /// The server's clock (Unix seconds).
    pub now: i64,
    /// The viewer may override the guardrails (an admin): the page shows
    /// the control only then.
    pub can_override: bool,
}

/// What a bulk action did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkOutcome {
    pub done: u32,
    /// Per item not done: its target and why.
    pub skipped: Vec<(String, String)>,
}

/// A detection policy as the security team edits it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyRow {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub subject: SubjectKind,
    /// What is counted, e.g. `reject` (of `reject_class`), `sasl_failures`.
    pub metric: String,
    pub reject_class: Option<String>,
    pub window_minutes: i32,
    pub threshold: i64,
    pub burst_factor: Option<f64>,
    pub block_minutes: i32,
    pub enabled: bool,
    pub auto_approve: bool,
}

/// A subject that is never proposed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AllowRow {
    pub id: i32,
    /// For `ip`, the target is an address or CIDR network.
    pub subject: SubjectKind,
    pub target: String,
    pub note: String,
    pub created_by: String,
    pub created_at: i64,
}

/// The detection settings page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectionSettings {
    pub policies: Vec<PolicyRow>,
    pub allow: Vec<AllowRow>,
}

/// One message of a message trace: where it came from, what the filter
/// said, and what happened to each recipient. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceMessage {
    pub host: String,
    pub queue_id: String,
    pub first_at: i64,
    pub last_at: i64,
    /// `smtp` (received from outside), `submission`, `local`, `pickup`…
    pub origin: String,
    pub client_name: Option<String>,
    pub client_ip: Option<String>,
    pub sasl_username: Option<String>,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub size: Option<i64>,
    /// The content filter's verdict: `clean`, `spam` or `virus`.
    pub verdict: Option<String>,
    /// Why it was refused, if it was.
    pub reject: Option<String>,
    pub recipients: Vec<TraceRecipient>,
    /// Postfix removed it from the queue: its journey is complete.
    pub removed: bool,
}

/// One recipient's latest outcome (field names as MailFlow stores them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceRecipient {
    pub to: String,
    #[serde(default)]
    pub orig_to: Option<String>,
    pub relay: String,
    /// `sent`, `deferred`, `bounced`, `expired`…
    pub status: String,
    #[serde(default)]
    pub dsn: Option<String>,
    #[serde(default)]
    pub delay: Option<f64>,
    /// The remote server's reply.
    pub reply: String,
    pub at: i64,
    pub attempts: u32,
}

/// Who may trace messages: support, and security (MailFlow's proposals
/// link to the trace of what they saw), and admins.
pub const TRACE_ROLES: &[Role] = &[Role::Support, Role::Security, Role::Admin];

/// What a message trace looks for (the trace page's URL holds it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceQuery {
    /// A queue id, a message-id or an address; or two addresses, the
    /// sender then the recipient.
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sender: String,
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub status: TraceStatus,
    /// How many hours before now (1 to 168; 0 for 24).
    #[serde(default)]
    pub hours: i64,
}

/// What a message trace found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceResult {
    /// How the query was read (a queue id, a message-id, a sender and/or a
    /// recipient), in the order the lookups ran.
    pub searched_as: Vec<TraceKind>,
    /// The window searched, exactly: `from` = `to` − `hours` hours.
    pub from: i64,
    pub to: i64,
    pub hours: i64,
    /// The sender and the recipient every message shown has, when the
    /// search named them (in the fields, or as two addresses in the query).
    #[serde(default)]
    pub sender: Option<String>,
    #[serde(default)]
    pub recipient: Option<String>,
    pub status: TraceStatus,
    pub messages: Vec<TraceMessage>,
    /// More messages matched than are shown.
    pub truncated: bool,
}

string_enum! {
    /// How a trace read its query.
    pub enum TraceKind {
        QueueId = "queue_id",
        MessageId = "message_id",
        /// The messages an address sent…
        Sender = "sender",
        /// …and those it received (through the recipient index).
        Recipient = "recipient",
    }
}

string_enum! {
    /// The recipients' outcome a trace keeps (`all` keeps every message).
    /// `bounced` includes `expired` (given up after the queue lifetime: the
    /// sender gets a bounce either way); `rejected` is a message refused
    /// after it got a queue id (cleanup, DATA), whose record says why.
    #[derive(Default)]
    pub enum TraceStatus {
        #[default]
        All = "all",
        Sent = "sent",
        Deferred = "deferred",
        Bounced = "bounced",
        Rejected = "rejected",
    }
}

/// What a Mailgraph chart shows: a time range and an optional filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartQuery {
    /// `day`, `week`, `month` or `year`: that long up to now (`from` and
    /// `to` are ignored); empty for the range `from`..`to`.
    #[serde(default)]
    pub preset: String,
    /// Unix seconds; `from` inclusive, `to` exclusive.
    #[serde(default)]
    pub from: i64,
    #[serde(default)]
    pub to: i64,
    /// One log host's series; empty for all hosts together.
    #[serde(default)]
    pub host: String,
    /// One hosted domain's series (instead of hosts); empty for none.
    #[serde(default)]
    pub domain: String,
    /// The period to compare with: `previous` (as long, just before),
    /// `week` (the same period a week earlier) or empty (none).
    #[serde(default)]
    pub compare: String,
}

impl ChartQuery {
    /// How many days a preset covers (up to now).
    pub fn preset_days(preset: &str) -> Option<i64> {
        match preset {
            "day" => Some(1),
            "week" => Some(7),
            "month" => Some(30),
            "year" => Some(365),
            _ => None,
        }
    }
}

/// The series of a chart, one value per bucket of `step` seconds from `from`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub from: i64,
    /// The end of the range asked for (exclusive).
    pub to: i64,
    pub step: i64,
    pub series: Vec<SeriesData>,
    /// Blocks approved in the range, for markers on the time axis.
    pub blocks: Vec<BlockRow>,
    pub now: i64,
    /// The period compared with (`ChartQuery::compare`), bucket by bucket
    /// aligned to `series`: `previous[k].values[i]` is `shift` seconds
    /// before `series[k].values[i]`. Empty when there is no comparison.
    #[serde(default)]
    pub previous: Vec<SeriesData>,
    /// How many seconds earlier the compared period is (0: none).
    #[serde(default)]
    pub shift: i64,
    /// Where the stored counts of this host, domain or of all hosts begin
    /// and end: the first second of the first day with any row, and the
    /// end of the last minute with any row (`None`: no row at all). A
    /// bucket outside `[data_from, data_until)` is *missing* (drawn as a
    /// gap); inside it, a bucket without rows is zero, since a count is
    /// stored only when it is not zero.
    #[serde(default)]
    pub data_from: Option<i64>,
    #[serde(default)]
    pub data_until: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesData {
    /// `received`, `sent`, … or `reject.<class>`.
    pub name: String,
    /// Exact counts per bucket.
    pub values: Vec<u64>,
}

/// What the chart filters offer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartFilters {
    pub hosts: Vec<String>,
    pub domains: Vec<String>,
    pub now: i64,
}

/// A pflogsumm-like report of a time range: every part is a table, so the
/// page, the CSV downloads and `carteiro import --report text` show the
/// same thing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MailReport {
    pub from: i64,
    pub to: i64,
    pub offset: i64,
    pub tables: Vec<ReportTable>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportTable {
    /// Short name, used for the CSV file (`<id>.csv`).
    pub id: String,
    pub title: String,
    pub columns: Vec<String>,
    /// Cells as text; numbers unformatted (plain digits).
    pub rows: Vec<Vec<String>>,
}

/// The lists of values detection reads from a proposal's log lines: the
/// stored name and the page's heading.
pub const DETAIL_LISTS: [(&str, &str); 4] = [
    ("ips", "Client IPs"),
    ("recipients", "Recipients"),
    ("helos", "HELO names"),
    ("client_names", "Reverse names"),
];

/// One page of a proposal's detail list, in order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DetailPage {
    pub values: Vec<String>,
    /// Values stored in the list.
    pub stored: u64,
    /// Distinct values seen beyond the stored cap (at least this many).
    pub more: u64,
    /// This page (from 0) and the number of pages.
    pub page: u64,
    pub pages: u64,
}

/// A proposal of a subject's history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryProposal {
    pub id: i64,
    pub policy: String,
    pub status: String,
    pub started: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_reason: Option<String>,
}

/// For an account: its mailbox, usual volume and recent logins.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountContext {
    /// The mailbox's address when the account is one of ours.
    pub mailbox: Option<String>,
    /// Messages it submitted per day, on average over the 14 days before
    /// today (by hourly counters).
    pub usual_per_day: f64,
    /// Messages it submitted in the last 24 hours.
    pub last_day: u64,
    /// Its latest authenticated submissions: (time, client IP), newest first.
    pub logins: Vec<(i64, String)>,
}

/// What is known of a subject beyond one proposal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SubjectHistory {
    /// Its proposals, newest first (up to 50).
    pub proposals: Vec<HistoryProposal>,
    /// Its blocks, newest first (up to 50).
    pub blocks: Vec<BlockRow>,
    /// Its rejects per day over the last 30 days: (day start, count),
    /// days with none left out.
    pub rejects_by_day: Vec<(i64, u64)>,
    pub account: Option<AccountContext>,
}

/// One page of a block search, newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockPage {
    pub rows: Vec<BlockRow>,
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    pub now: i64,
}
