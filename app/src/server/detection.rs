//! The detection settings the security team edits: each policy's numbers
//! (and, for admins, auto-approval), the allowlist, and the never-block
//! networks (admins only) that detection never proposes and no block may
//! cover (see [`crate::state::Guardrails::check`]). The ingest engine
//! reads them (a live source within half a minute); every change is audited
//! with its before and after.

use super::audit::{self, Actor, NONE};
use super::auth::Staff;
use super::defence::stored_subject;
use super::entities::{defence_allow, defence_never_block, defence_policy};
use crate::api::detect::NeverBlockRow;
use crate::errors::AppError;
use crate::model::{AllowRow, DetectionSettings, PolicyRow, Role, SubjectKind};
use crate::pages::detection::server_texts as texts;
use crate::pages::never_block::server_texts as never_texts;
use crate::state::Guardrails;
use mailflow::time::MINUTES_PER_DAY;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

fn policy_row(p: defence_policy::Model) -> Result<PolicyRow, DbErr> {
    Ok(PolicyRow {
        subject: stored_subject(&p.subject, "defence_policy", p.id.into())?,
        id: p.id,
        name: p.name,
        description: p.description,
        metric: p.metric,
        reject_class: p.reject_class,
        window_minutes: p.window_minutes,
        threshold: p.threshold,
        burst_factor: p.burst_factor,
        block_minutes: p.block_minutes,
        enabled: p.enabled,
        auto_approve: p.auto_approve,
    })
}

fn allow_row(a: defence_allow::Model) -> Result<AllowRow, DbErr> {
    Ok(AllowRow {
        subject: stored_subject(&a.subject, "defence_allow", a.id.into())?,
        id: a.id,
        target: a.target,
        note: a.note,
        created_by: a.created_by,
        created_at: a.created_at,
    })
}

pub async fn settings(db: &impl ConnectionTrait) -> Result<DetectionSettings, AppError> {
    let policies = defence_policy::Entity::find()
        .order_by_asc(defence_policy::Column::Id)
        .all(db)
        .await?;
    let allow = defence_allow::Entity::find()
        .order_by_asc(defence_allow::Column::Subject)
        .order_by_asc(defence_allow::Column::Target)
        .all(db)
        .await?;
    Ok(DetectionSettings {
        policies: policies
            .into_iter()
            .map(policy_row)
            .collect::<Result<_, _>>()?,
        allow: allow.into_iter().map(allow_row).collect::<Result<_, _>>()?,
    })
}

/// New numbers for one policy.
#[derive(Clone, Debug)]
pub struct PolicyChange {
    pub id: i32,
    pub window_minutes: i32,
    pub threshold: i64,
    /// Empty: no burst comparison.
    pub burst_factor: Option<f64>,
    pub block_minutes: i32,
    pub enabled: bool,
    pub auto_approve: bool,
}

/// Checks a policy's window, threshold and burst factor as the settings
/// page saves them (and the what-if replays them), saying in the caller's
/// language what is out of range.
pub fn check_rule(
    window_minutes: i64,
    threshold: i64,
    burst_factor: Option<f64>,
) -> Result<(), AppError> {
    let t = texts();
    let invalid = |m: &str| Err(AppError::Validation(m.into()));
    if !(1..=MINUTES_PER_DAY).contains(&window_minutes) {
        return invalid(t.window_range());
    }
    if threshold < 1 {
        return invalid(t.threshold_min());
    }
    if burst_factor.is_some_and(|f| !(1.0..=1000.0).contains(&f)) {
        return invalid(t.burst_range());
    }
    Ok(())
}

pub async fn save_policy(
    db: &DatabaseConnection,
    staff: &Staff,
    change: PolicyChange,
    now: i64,
) -> Result<PolicyRow, AppError> {
    let t = texts();
    check_rule(
        i64::from(change.window_minutes),
        change.threshold,
        change.burst_factor,
    )?;
    if !(1..=365 * MINUTES_PER_DAY).contains(&i64::from(change.block_minutes)) {
        return Err(AppError::Validation(t.block_range().into()));
    }
    let txn = crate::server::retry::begin_write(db).await?;
    let p = defence_policy::Entity::find_by_id(change.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(t.policy_n(change.id)))?;
    if change.auto_approve != p.auto_approve && !staff.roles.contains(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let before = policy_row(p.clone())?;
    let mut row: defence_policy::ActiveModel = p.into();
    row.window_minutes = Set(change.window_minutes);
    row.threshold = Set(change.threshold);
    row.burst_factor = Set(change.burst_factor);
    row.block_minutes = Set(change.block_minutes);
    row.enabled = Set(change.enabled);
    row.auto_approve = Set(change.auto_approve);
    row.updated_at = Set(now);
    let after = policy_row(row.update(&txn).await?)?;
    audit::record(
        &txn,
        &staff.actor(),
        "policy.update",
        &after.name,
        Some(&before),
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// What to add to the allowlist.
#[derive(Clone, Copy, Debug)]
pub struct Allowance<'a> {
    /// As the form sent it: `ip` or `account`.
    pub subject: &'a str,
    /// An IP address or CIDR network (`ip`), or an account.
    pub target: &'a str,
    pub note: &'a str,
    /// An admin allows despite the guardrails.
    pub override_guard: bool,
}

/// Adds `target` to the allowlist: an IP address or CIDR network
/// (`subject` ip) or an account. Allowing a network is as strong as
/// blocking it (detection never looks at it again), so the blocking
/// guardrails apply: a network wider than `max_prefix_v4/v6` (up to
/// `0.0.0.0/0`), or inside a customer pool, needs an admin's override.
pub async fn allow(
    db: &DatabaseConnection,
    staff: &Staff,
    guard: &Guardrails,
    allowance: Allowance<'_>,
    now: i64,
) -> Result<AllowRow, AppError> {
    let Allowance {
        subject,
        target,
        note,
        override_guard,
    } = allowance;
    if override_guard && !staff.roles.contains(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let actor = &staff.actor();
    let target = target.trim();
    let Some(subject) = SubjectKind::parse(subject) else {
        return Err(AppError::Validation(texts().allow_ip_or_account().into()));
    };
    let target = match subject {
        SubjectKind::Ip => target
            .parse::<ipnet::IpNet>()
            .map(|n| n.trunc().to_string())
            .or_else(|_| target.parse::<std::net::IpAddr>().map(|a| a.to_string()))
            .map_err(|_| AppError::Validation(texts().not_ip_or_network(target)))?,
        SubjectKind::Account if !target.is_empty() && !target.contains(char::is_whitespace) => {
            target.to_lowercase()
        }
        SubjectKind::Account => {
            return Err(AppError::Validation(texts().name_account().into()));
        }
    };
    if subject == SubjectKind::Ip
        && let Some(concern) = guard.concern(&target)
        && !override_guard
    {
        return Err(AppError::field(
            "target",
            texts().allow_needs_admin(&concern),
        ));
    }
    let txn = crate::server::retry::begin_write(db).await?;
    let row = defence_allow::ActiveModel {
        subject: Set(subject.name().into()),
        target: Set(target),
        note: Set(note.trim().chars().take(500).collect()),
        created_by: Set(actor.name.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let row = allow_row(row)?;
    audit::record(
        &txn,
        actor,
        "allow.add",
        &format!("{} {}", row.subject, row.target),
        NONE,
        Some(&row),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn disallow(db: &DatabaseConnection, actor: &Actor, id: i32) -> Result<(), AppError> {
    let txn = crate::server::retry::begin_write(db).await?;
    let row = defence_allow::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(texts().allow_entry_n(id)))?;
    let before = allow_row(row.clone())?;
    defence_allow::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        "allow.remove",
        &format!("{} {}", before.subject, before.target),
        Some(&before),
        NONE,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Most never-block networks: detection looks each client address up in
/// them, so the list stays short.
pub const MAX_NEVER_BLOCK: u64 = 500;
/// The widest never-block networks: a /0 would refuse every block.
const WIDEST_NEVER_BLOCK_V4: u8 = 8;
const WIDEST_NEVER_BLOCK_V6: u8 = 16;

fn never_block_row(r: defence_never_block::Model) -> NeverBlockRow {
    NeverBlockRow {
        id: r.id,
        network: r.network,
        note: r.note,
        created_by: r.created_by,
        created_at: r.created_at,
    }
}

/// The never-block networks, as listed.
pub async fn never_block_list(db: &impl ConnectionTrait) -> Result<Vec<NeverBlockRow>, DbErr> {
    Ok(defence_never_block::Entity::find()
        .order_by_asc(defence_never_block::Column::Network)
        .all(db)
        .await?
        .into_iter()
        .map(never_block_row)
        .collect())
}

/// The never-block networks, parsed (a row that does not parse, which
/// [`add_never_block`] never writes, is skipped with a warning).
pub async fn never_block_networks(db: &impl ConnectionTrait) -> Result<Vec<ipnet::IpNet>, DbErr> {
    let rows = defence_never_block::Entity::find().all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let net = r.network.parse().ok();
            if net.is_none() {
                tracing::warn!(network = %r.network, "never-block: not a network");
            }
            net
        })
        .collect())
}

/// The never-block network that holds (or is inside) `net`, if any.
pub async fn never_block_covering(
    db: &impl ConnectionTrait,
    net: &ipnet::IpNet,
) -> Result<Option<ipnet::IpNet>, DbErr> {
    Ok(never_block_networks(db)
        .await?
        .into_iter()
        .find(|n| n.contains(&net.network()) || net.contains(&n.network())))
}

/// `text` as a network in canonical form (an address is its /32 or
/// /128), or a message saying why not.
pub fn parse_never_block(text: &str) -> Result<ipnet::IpNet, AppError> {
    let text = text.trim();
    let bad = || AppError::field("network", never_texts().enter_network());
    if text.is_empty() || text.len() > 64 {
        return Err(bad());
    }
    let net = text
        .parse::<ipnet::IpNet>()
        .map(|n| n.trunc())
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| bad())?;
    let widest = match net {
        ipnet::IpNet::V4(_) => WIDEST_NEVER_BLOCK_V4,
        ipnet::IpNet::V6(_) => WIDEST_NEVER_BLOCK_V6,
    };
    if net.prefix_len() < widest {
        return Err(AppError::field(
            "network",
            never_texts().too_wide(&net.to_string(), widest),
        ));
    }
    Ok(net)
}

/// Lists `network` as never to be blocked (admins only: the caller checks).
pub async fn add_never_block(
    db: &DatabaseConnection,
    actor: &Actor,
    network: &str,
    note: &str,
    now: i64,
) -> Result<NeverBlockRow, AppError> {
    let net = parse_never_block(network)?;
    let note = note.trim();
    if note.chars().count() > 500 {
        return Err(AppError::field("note", never_texts().note_too_long()));
    }
    let txn = crate::server::retry::begin_write(db).await?;
    let listed = defence_never_block::Entity::find().count(&txn).await?;
    if listed >= MAX_NEVER_BLOCK {
        return Err(AppError::Conflict(never_texts().too_many(MAX_NEVER_BLOCK)));
    }
    let text = net.to_string();
    let exists = defence_never_block::Entity::find()
        .filter(defence_never_block::Column::Network.eq(&text))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Err(AppError::field(
            "network",
            never_texts().already_listed(&text),
        ));
    }
    let row = defence_never_block::ActiveModel {
        network: Set(text),
        note: Set(note.to_string()),
        created_by: Set(actor.name.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let row = never_block_row(row);
    audit::record(
        &txn,
        actor,
        "never_block.add",
        &row.network,
        NONE,
        Some(&row),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Takes a network off the never-block list (admins only: the caller checks).
pub async fn remove_never_block(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
) -> Result<(), AppError> {
    let txn = crate::server::retry::begin_write(db).await?;
    let row = defence_never_block::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(never_texts().network_n(id)))?;
    let before = never_block_row(row);
    defence_never_block::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        "never_block.remove",
        &before.network,
        Some(&before),
        NONE,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
