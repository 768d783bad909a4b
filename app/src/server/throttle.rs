//! Login throttling, kept in the database so every portal replica sees the
//! same counts. Failures are counted per username and per client address:
//! past `slow_after` failures each attempt waits (doubling up to a cap), past
//! `lock_after` attempts are refused until the lock ends. The answer is the
//! same whether the username exists or not.

use super::entities::login_throttle;
use crate::state::ThrottleSettings;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use std::time::Duration as StdDuration;

/// What to do with a sign-in attempt before checking its password.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Check it, after waiting this long.
    Proceed { delay: StdDuration },
    /// Refuse it without checking; the lock ends this many seconds from now.
    Refuse { retry_after_secs: i64 },
}

pub fn user_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

pub fn addr_key(addr: &str) -> String {
    format!("ip:{addr}")
}

pub async fn check(
    db: &impl ConnectionTrait,
    settings: &ThrottleSettings,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<Verdict, sea_orm::DbErr> {
    let mut failures = 0u32;
    let mut locked_until: Option<DateTime<Utc>> = None;
    for key in keys {
        let Some(row) = login_throttle::Entity::find_by_id(key.clone())
            .one(db)
            .await?
        else {
            continue;
        };
        if let Some(until) = row.locked_until.filter(|u| *u > now) {
            locked_until = locked_until.max(Some(until));
        }
        if now - row.window_start < window(settings) {
            failures = failures.max(row.failures.max(0) as u32);
        }
    }
    Ok(match locked_until {
        Some(until) => Verdict::Refuse {
            retry_after_secs: (until - now).num_seconds().max(1),
        },
        None => Verdict::Proceed {
            delay: delay_for(settings, failures),
        },
    })
}

/// The wait before checking an attempt that follows `failures` failures.
pub fn delay_for(settings: &ThrottleSettings, failures: u32) -> StdDuration {
    if failures < settings.slow_after {
        return StdDuration::ZERO;
    }
    let doublings = (failures - settings.slow_after).min(16);
    let ms = settings
        .delay_ms
        .saturating_mul(1u64 << doublings)
        .min(settings.max_delay_ms);
    StdDuration::from_millis(ms)
}

pub async fn record_failure(
    db: &impl ConnectionTrait,
    settings: &ThrottleSettings,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    for key in keys {
        let existing = login_throttle::Entity::find_by_id(key.clone())
            .one(db)
            .await?;
        let (failures, window_start) = match &existing {
            Some(row) if now - row.window_start < window(settings) => {
                (row.failures + 1, row.window_start)
            }
            _ => (1, now),
        };
        let locked_until = (failures as u32 >= settings.lock_after)
            .then(|| now + Duration::seconds(settings.lock_secs as i64));
        let row = login_throttle::ActiveModel {
            key: Set(key.clone()),
            failures: Set(failures),
            window_start: Set(window_start),
            locked_until: Set(locked_until),
        };
        login_throttle::Entity::insert(row)
            .on_conflict(
                OnConflict::column(login_throttle::Column::Key)
                    .update_columns([
                        login_throttle::Column::Failures,
                        login_throttle::Column::WindowStart,
                        login_throttle::Column::LockedUntil,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Forgets the failures of a key (after a successful sign-in for that user).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), sea_orm::DbErr> {
    login_throttle::Entity::delete_by_id(key.to_string())
        .exec(db)
        .await?;
    Ok(())
}

fn window(settings: &ThrottleSettings) -> Duration {
    Duration::seconds(settings.window_secs as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_starts_after_slow_after_doubles_and_is_capped() {
        let s = ThrottleSettings {
            slow_after: 3,
            delay_ms: 500,
            max_delay_ms: 4000,
            ..Default::default()
        };
        let ms: Vec<u128> = (0..8).map(|n| delay_for(&s, n).as_millis()).collect();
        assert_eq!(ms, vec![0, 0, 0, 500, 1000, 2000, 4000, 4000]);
    }
}
