//! Sign-in throttling, kept in the database so every portal replica sees the
//! same counts.
//!
//! Every attempt is counted *before* its password is checked, with one
//! atomic upsert per key ([`bump`]) whose returned count decides the attempt:
//! a hundred parallel guesses get a hundred distinct counts, so at most
//! `lock_after` of them are ever checked, on SQLite and on PostgreSQL shared
//! by several replicas alike. A successful sign-in then takes its own
//! attempt back.
//!
//! Three counts, so that one client cannot lock anybody else out:
//! - per username *and* client address (`pair:`): past `slow_after`
//!   attempts each waits (doubling up to a cap), past `lock_after` they are
//!   refused until the lock ends;
//! - per client address (`ip:`), over all usernames: only slows down, past
//!   the much higher `address_slow_after` (a NAT or proxy in front of many
//!   staff must not lock them out);
//! - per username (`user:`), over all addresses: past `username_lock_after`
//!   (reachable only from several addresses, since a locked pair no longer
//!   counts) the username is refused, except from addresses where it signed
//!   in during the last [`KNOWN_ADDRESS_DAYS`] days.
//!
//! The answer is the same whether the username exists or not. Admins see
//! and clear counts in force under *Admin → Staff* ([`in_force`], [`clear`]);
//! [`purge`] removes rows whose window and lock have passed.

use super::entities::{audit_log, login_throttle};
use crate::model::SignInLock;
use crate::state::ThrottleSettings;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use std::time::Duration as StdDuration;

/// A username's lock spares addresses it signed in from within these days.
pub const KNOWN_ADDRESS_DAYS: i64 = 30;

/// Counts never grow past this, so no integer overflows however long an
/// attack goes on.
const MAX_COUNT: i32 = 1_000_000_000;

/// What to do with a sign-in attempt before checking its password.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Check it, after waiting this long.
    Proceed { delay: StdDuration },
    /// Refuse it without checking; the lock ends this many seconds from now.
    Refuse { retry_after_secs: i64 },
}

/// The count of one key after an attempt was added to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Count {
    /// Attempts in the current window, this one included.
    pub attempts: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Count {
    /// Refused when more attempts than `limit` were made: the `limit`-th is
    /// still checked (and locks if it fails).
    fn refusal(&self, limit: u32, now: DateTime<Utc>) -> Option<Verdict> {
        (self.attempts > limit).then(|| Verdict::Refuse {
            retry_after_secs: self
                .locked_until
                .map(|until| (until - now).num_seconds())
                .unwrap_or(0)
                .max(1),
        })
    }
}

/// One username tried from one client address.
pub fn pair_key(username: &str, addr: Option<&str>) -> String {
    // The address first: it never holds `|`, a typed username may.
    format!("pair:{}|{}", addr.unwrap_or("unknown"), normalise(username))
}

pub fn user_key(username: &str) -> String {
    format!("user:{}", normalise(username))
}

pub fn addr_key(addr: &str) -> String {
    format!("ip:{addr}")
}

/// One staff account's current-password checks (changing their password).
pub fn account_key(username: &str) -> String {
    format!("account:{}", normalise(username))
}

fn normalise(username: &str) -> String {
    username.trim().to_lowercase()
}

/// What a key stands for, for people: (username, client address).
pub fn describe(key: &str) -> (Option<String>, Option<String>) {
    if let Some(rest) = key.strip_prefix("pair:") {
        let (addr, user) = rest.split_once('|').unwrap_or((rest, ""));
        (Some(user.to_string()), Some(addr.to_string()))
    } else if let Some(user) = key
        .strip_prefix("user:")
        .or_else(|| key.strip_prefix("account:"))
    {
        (Some(user.to_string()), None)
    } else if let Some(addr) = key.strip_prefix("ip:") {
        (None, Some(addr.to_string()))
    } else {
        (None, None)
    }
}

/// Counts one sign-in attempt under all its keys, before the password is
/// checked, and says whether to check it. A refused attempt is not counted
/// under the keys after the one that refused it, so a client locked out of
/// a username adds nothing to that username's count.
pub async fn admit_sign_in(
    db: &impl ConnectionTrait,
    settings: &ThrottleSettings,
    username: &str,
    addr: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Verdict, sea_orm::DbErr> {
    let lock_after = settings.lock_after.max(1);
    let pair = bump(
        db,
        settings,
        &pair_key(username, addr),
        Some(lock_after),
        now,
    )
    .await?;
    if let Some(refused) = pair.refusal(lock_after, now) {
        return Ok(refused);
    }
    let user_limit = (settings.username_lock_after > 0).then_some(settings.username_lock_after);
    let user = bump(db, settings, &user_key(username), user_limit, now).await?;
    if let Some(limit) = user_limit
        && let Some(refused) = user.refusal(limit, now)
        && !signed_in_from(db, username, addr, now).await?
    {
        return Ok(refused);
    }
    let mut delay = delay_for(settings, settings.slow_after, pair.attempts - 1);
    if let Some(addr) = addr {
        let from_addr = bump(db, settings, &addr_key(addr), None, now).await?;
        delay = delay.max(delay_for(
            settings,
            settings.address_slow_after,
            from_addr.attempts - 1,
        ));
    }
    Ok(Verdict::Proceed { delay })
}

/// Takes back the counts of a sign-in attempt that succeeded: the username's
/// counts are cleared, the address's loses this one attempt.
pub async fn forgive_sign_in(
    db: &impl ConnectionTrait,
    username: &str,
    addr: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    clear(db, &pair_key(username, addr)).await?;
    clear(db, &user_key(username)).await?;
    if let Some(addr) = addr {
        let sql =
            "UPDATE login_throttle SET failures = failures - 1 WHERE \"key\" = $1 AND failures > 0";
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [addr_key(addr).into()],
        ))
        .await?;
    }
    Ok(())
}

/// Counts one check of a signed-in member's current password (changing
/// it), before it is made: throttled like a sign-in, per account.
pub async fn admit_password_check(
    db: &impl ConnectionTrait,
    settings: &ThrottleSettings,
    username: &str,
    now: DateTime<Utc>,
) -> Result<Verdict, sea_orm::DbErr> {
    let lock_after = settings.lock_after.max(1);
    let count = bump(db, settings, &account_key(username), Some(lock_after), now).await?;
    Ok(count
        .refusal(lock_after, now)
        .unwrap_or_else(|| Verdict::Proceed {
            delay: delay_for(settings, settings.slow_after, count.attempts - 1),
        }))
}

/// Adds one attempt to `key` in one atomic statement and returns the new
/// count. The count starts over when its window has passed (and no lock is
/// in force) or when its lock has ended; reaching `lock_after` locks the key
/// for `lock_secs` (`None`: the key never locks).
pub async fn bump(
    db: &impl ConnectionTrait,
    settings: &ThrottleSettings,
    key: &str,
    lock_after: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Count, sea_orm::DbErr> {
    // The row still counts while its lock is in force, or, never locked,
    // while its window lasts; an ended lock starts a new count.
    const GOES_ON: &str = "(login_throttle.locked_until > $2 \
        OR (login_throttle.locked_until IS NULL AND login_throttle.window_start > $3))";
    let next = format!(
        "CASE WHEN {GOES_ON} THEN \
            CASE WHEN login_throttle.failures < {MAX_COUNT} THEN login_throttle.failures + 1 \
            ELSE login_throttle.failures END \
         ELSE 1 END"
    );
    let sql = format!(
        "INSERT INTO login_throttle (\"key\", failures, window_start, locked_until) \
         VALUES ($1, 1, $2, CASE WHEN 1 >= $4 THEN $5 ELSE NULL END) \
         ON CONFLICT (\"key\") DO UPDATE SET \
           failures = {next}, \
           window_start = CASE WHEN {GOES_ON} THEN login_throttle.window_start ELSE $2 END, \
           locked_until = CASE WHEN login_throttle.locked_until > $2 THEN login_throttle.locked_until \
                               WHEN {next} >= $4 THEN $5 ELSE NULL END \
         RETURNING failures, locked_until"
    );
    let lock_after = lock_after.map_or(i64::MAX, i64::from);
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [
                key.into(),
                now.into(),
                (now - window(settings)).into(),
                lock_after.into(),
                (now + Duration::seconds(settings.lock_secs.min(i32::MAX as u64) as i64)).into(),
            ],
        ))
        .await?
        .ok_or_else(|| {
            sea_orm::DbErr::RecordNotFound("the throttle upsert returned no row".into())
        })?;
    let attempts: i32 = row.try_get_by_index(0)?;
    let locked_until: Option<DateTime<Utc>> = row.try_get_by_index(1)?;
    Ok(Count {
        attempts: attempts.max(1) as u32,
        locked_until,
    })
}

/// Whether `username` signed in from `addr` within [`KNOWN_ADDRESS_DAYS`].
async fn signed_in_from(
    db: &impl ConnectionTrait,
    username: &str,
    addr: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let Some(addr) = addr else {
        return Ok(false);
    };
    let found = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("auth.login"))
        .filter(audit_log::Column::Target.eq(normalise(username)))
        .filter(audit_log::Column::ClientAddr.eq(addr))
        .filter(audit_log::Column::At.gt(now - Duration::days(KNOWN_ADDRESS_DAYS)))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// The wait before checking an attempt that follows `failures` failures,
/// once more than `slow_after` came before it.
pub fn delay_for(settings: &ThrottleSettings, slow_after: u32, failures: u32) -> StdDuration {
    if failures < slow_after {
        return StdDuration::ZERO;
    }
    let doublings = (failures - slow_after).min(16);
    let ms = settings
        .delay_ms
        .saturating_mul(1u64 << doublings)
        .min(settings.max_delay_ms);
    StdDuration::from_millis(ms)
}

/// Forgets the count of a key; returns whether there was one.
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<bool, sea_orm::DbErr> {
    let res = login_throttle::Entity::delete_by_id(key.to_string())
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Most rows [`in_force`] returns.
pub const IN_FORCE_LIMIT: u64 = 200;

/// The counts that lock or slow sign-ins now, the most attempts first.
pub async fn in_force(
    db: &impl ConnectionTrait,
    settings: &ThrottleSettings,
    now: DateTime<Utc>,
) -> Result<Vec<login_throttle::Model>, sea_orm::DbErr> {
    let at_least =
        |n: u32| login_throttle::Column::Failures.gte(n.clamp(1, MAX_COUNT as u32) as i32);
    // The next attempt waits: an address past its own bar, a pair or an
    // account past `slow_after` (a username alone never slows down).
    let slowing = Condition::any()
        .add(
            Condition::all()
                .add(login_throttle::Column::Key.starts_with("ip:"))
                .add(at_least(settings.address_slow_after)),
        )
        .add(
            Condition::all()
                .add(
                    Condition::any()
                        .add(login_throttle::Column::Key.starts_with("pair:"))
                        .add(login_throttle::Column::Key.starts_with("account:")),
                )
                .add(at_least(settings.slow_after)),
        );
    login_throttle::Entity::find()
        .filter(
            Condition::any()
                .add(login_throttle::Column::LockedUntil.gt(now))
                .add(
                    Condition::all()
                        .add(login_throttle::Column::LockedUntil.is_null())
                        .add(login_throttle::Column::WindowStart.gt(now - window(settings)))
                        .add(slowing),
                ),
        )
        .order_by_desc(login_throttle::Column::Failures)
        .order_by_asc(login_throttle::Column::Key)
        .limit(IN_FORCE_LIMIT)
        .all(db)
        .await
}

/// [`in_force`] as admins see it.
pub fn lock_view(row: login_throttle::Model) -> SignInLock {
    let (username, address) = describe(&row.key);
    let kind = match row.key.split(':').next().unwrap_or_default() {
        "pair" => "username and address",
        "user" => "username",
        "ip" => "address",
        "account" => "password change",
        _ => "other",
    };
    SignInLock {
        kind: kind.into(),
        username,
        address,
        attempts: row.failures,
        locked_until: row.locked_until,
        key: row.key,
    }
}

/// Removes the rows that no longer count: window passed and no lock in
/// force. Returns how many.
pub async fn purge(
    db: &impl ConnectionTrait,
    settings: &ThrottleSettings,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let res = login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::WindowStart.lte(now - window(settings)))
        .filter(
            Condition::any()
                .add(login_throttle::Column::LockedUntil.is_null())
                .add(login_throttle::Column::LockedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

fn window(settings: &ThrottleSettings) -> Duration {
    Duration::seconds(settings.window_secs.min(i32::MAX as u64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_starts_after_slow_after_doubles_and_is_capped() {
        let s = ThrottleSettings {
            delay_ms: 500,
            max_delay_ms: 4000,
            ..Default::default()
        };
        let ms: Vec<u128> = (0..8).map(|n| delay_for(&s, 3, n).as_millis()).collect();
        assert_eq!(ms, vec![0, 0, 0, 500, 1000, 2000, 4000, 4000]);
    }

    #[test]
    fn keys_say_what_they_count() {
        let pair = pair_key(" Ana ", Some("2001:db8::1"));
        assert_eq!(pair, "pair:2001:db8::1|ana");
        assert_eq!(
            describe(&pair),
            (Some("ana".into()), Some("2001:db8::1".into()))
        );
        // A typed username may hold the separator; the address comes first.
        assert_eq!(
            describe(&pair_key("a|b", Some("192.0.2.1"))),
            (Some("a|b".into()), Some("192.0.2.1".into()))
        );
        assert_eq!(describe(&user_key("ana")), (Some("ana".into()), None));
        assert_eq!(
            describe(&addr_key("192.0.2.1")),
            (None, Some("192.0.2.1".into()))
        );
    }

    #[test]
    fn the_attempt_after_the_limit_is_refused_until_the_lock_ends() {
        let now = Utc::now();
        let locked = Count {
            attempts: 11,
            locked_until: Some(now + Duration::seconds(90)),
        };
        assert_eq!(
            locked.refusal(10, now),
            Some(Verdict::Refuse {
                retry_after_secs: 90
            })
        );
        let last_checked = Count {
            attempts: 10,
            locked_until: Some(now + Duration::seconds(90)),
        };
        assert_eq!(last_checked.refusal(10, now), None);
    }
}
