//! Log time: seconds since the Unix epoch, UTC, and the units the counters,
//! tiers and windows are built from.

/// Seconds since the Unix epoch, UTC. Classic syslog timestamps carry no
/// zone and are taken as UTC.
pub type UnixTime = i64;

/// Seconds in a minute: the finest counting bucket.
pub const MINUTE: i64 = 60;
/// Seconds in an hour.
pub const HOUR: i64 = 3_600;
/// Seconds in a day (UTC days have no leap seconds in Unix time).
pub const DAY: i64 = 86_400;
/// Minutes in a day: the buckets of one day at minute resolution.
pub const MINUTES_PER_DAY: i64 = DAY / MINUTE;
/// Hours in a day.
pub const HOURS_PER_DAY: i64 = DAY / HOUR;

/// The start of the minute, hour or day (`unit`) that holds `t`.
pub fn floor(t: UnixTime, unit: i64) -> UnixTime {
    t.div_euclid(unit) * unit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_rounds_down_also_before_the_epoch() {
        assert_eq!(floor(3_661, HOUR), 3_600);
        assert_eq!(floor(-1, DAY), -DAY);
        assert_eq!(floor(DAY, DAY), DAY);
        assert_eq!(MINUTES_PER_DAY, 1_440);
        assert_eq!(HOURS_PER_DAY, 24);
    }
}
