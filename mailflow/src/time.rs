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

/// Where a place's days begin: its UTC offset at each instant, as a time
/// zone gives it (the engine's daily roll-up, the report's days and the
/// charts' day buckets all ask this one trait). A plain number of seconds
/// east of UTC is a zone that never changes; [`OffsetChanges`] is a list
/// of changes (the server builds it from the IANA database: this crate
/// carries none).
pub trait LocalDays {
    /// Seconds east of UTC at instant `t`.
    fn utc_offset(&self, t: UnixTime) -> i64;

    /// The last instant `<= t` at which the offset changed, if any.
    fn last_change(&self, t: UnixTime) -> Option<UnixTime>;

    /// The local date of `t`, as days since 1970-01-01.
    fn local_day(&self, t: UnixTime) -> i64 {
        (t + self.utc_offset(t)).div_euclid(DAY)
    }

    /// The first instant of the local day holding `t`: local midnight, or
    /// the moment the clocks jumped over it (São Paulo's summer time began
    /// at 00:00, so those days began at 01:00). Days around a change last
    /// 23 or 25 hours.
    fn day_start(&self, t: UnixTime) -> UnixTime {
        let offset = self.utc_offset(t);
        let local = t + offset;
        let start = local - local.rem_euclid(DAY) - offset;
        match self.last_change(t) {
            // The offset changed during this day: the day began under the
            // earlier one, unless the change skipped its midnight.
            Some(change) if change > start => {
                if self.local_day(change - 1) == self.local_day(t) {
                    self.day_start(change - 1)
                } else {
                    change
                }
            }
            _ => start,
        }
    }

    /// The first instant of the local day after the one beginning at (or
    /// holding) `t`.
    fn next_day_start(&self, t: UnixTime) -> UnixTime {
        // A day lasts 23 to 25 hours: a day and a half later is always in
        // the next one.
        self.day_start(self.day_start(t) + DAY + DAY / 2)
    }
}

/// A fixed offset, in seconds east of UTC.
impl LocalDays for i64 {
    fn utc_offset(&self, _: UnixTime) -> i64 {
        *self
    }

    fn last_change(&self, _: UnixTime) -> Option<UnixTime> {
        None
    }
}

/// A fixed offset, in seconds east of UTC.
impl LocalDays for i32 {
    fn utc_offset(&self, _: UnixTime) -> i64 {
        i64::from(*self)
    }

    fn last_change(&self, _: UnixTime) -> Option<UnixTime> {
        None
    }
}

impl<T: LocalDays + ?Sized> LocalDays for &T {
    fn utc_offset(&self, t: UnixTime) -> i64 {
        (**self).utc_offset(t)
    }

    fn last_change(&self, t: UnixTime) -> Option<UnixTime> {
        (**self).last_change(t)
    }
}

/// A time zone as a sorted list of `(from, offset)`: the offset (seconds
/// east of UTC) from instant `from` until the next entry; the first entry
/// applies before its instant too. Empty: UTC.
pub type Changes = [(UnixTime, i32)];

/// How many entries of `changes` begin at or before `t` (the one in force
/// at `t` is the last of them): the one lookup every offset question asks.
fn entries_until(changes: &Changes, t: UnixTime) -> usize {
    changes.partition_point(|&(from, _)| from <= t)
}

/// The offset of `changes` at `t`, in the list's own width.
fn offset_in(changes: &Changes, t: UnixTime) -> i32 {
    let i = entries_until(changes, t);
    changes
        .get(i.saturating_sub(1))
        .map_or(0, |&(_, offset)| offset)
}

impl LocalDays for Changes {
    fn utc_offset(&self, t: UnixTime) -> i64 {
        i64::from(offset_in(self, t))
    }

    fn last_change(&self, t: UnixTime) -> Option<UnixTime> {
        let i = entries_until(self, t);
        // The first entry is where the list begins, not a change.
        (i >= 2).then(|| self[i - 1].0)
    }
}

/// An owned [`Changes`] list: the engine's daily roll-up and the portal's
/// time zone (`app::i18n::Zone`, which the browser receives with the page)
/// both hold one. Serialised as the plain list `[[from, offset], …]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct OffsetChanges(pub Vec<(UnixTime, i32)>);

impl OffsetChanges {
    /// A zone that is always `offset` seconds east of UTC.
    pub fn fixed(offset: i32) -> Self {
        Self(vec![(UnixTime::MIN, offset)])
    }

    /// Seconds east of UTC at instant `t`, as stored (the same lookup as
    /// [`LocalDays::utc_offset`]).
    pub fn offset_at(&self, t: UnixTime) -> i32 {
        offset_in(&self.0, t)
    }
}

impl LocalDays for OffsetChanges {
    fn utc_offset(&self, t: UnixTime) -> i64 {
        self.0.utc_offset(t)
    }

    fn last_change(&self, t: UnixTime) -> Option<UnixTime> {
        self.0.last_change(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// São Paulo around its 2018 summer time: -03:00, then -02:00 from
    /// 2018-11-04 03:00 UTC (local 00:00 → 01:00), -03:00 again from
    /// 2019-02-17 02:00 UTC (local 00:00 → 23:00 the day before).
    fn sao_paulo_2018() -> OffsetChanges {
        OffsetChanges(vec![
            (UnixTime::MIN, -3 * 3600),
            (1_541_300_400, -2 * 3600),
            (1_550_368_800, -3 * 3600),
        ])
    }

    #[test]
    fn a_fixed_offset_begins_days_at_its_midnight() {
        let t = 1_795_919_400; // 2026-11-29T02:30:00Z, the 28th in Brazil
        assert_eq!((-3 * 3600_i64).day_start(t), 1_795_834_800);
        assert_eq!(0_i64.day_start(t), 1_795_910_400);
        assert_eq!((-3 * 3600_i64).next_day_start(t), 1_795_834_800 + DAY);
    }

    #[test]
    fn days_around_summer_time_last_23_and_25_hours() {
        let sp = sao_paulo_2018();
        // 3 November 2018 began at 03:00 UTC and lasted 24 h; 4 November
        // began at 03:00 UTC too (local midnight did not exist: the clocks
        // went to 01:00), lasted 23 h.
        let nov3 = 1_541_214_000;
        assert_eq!(sp.day_start(nov3 + 5 * HOUR), nov3);
        let nov4 = sp.next_day_start(nov3);
        assert_eq!(nov4, nov3 + DAY);
        assert_eq!(sp.day_start(nov4 + 10 * HOUR), nov4);
        let nov5 = sp.next_day_start(nov4);
        assert_eq!(nov5 - nov4, 23 * HOUR);
        assert_eq!(sp.day_start(nov5 - 1), nov4);
        // 16 February 2019 lasted 25 h (23:00–23:59 twice).
        let feb16 = 1_550_282_400; // 02:00 UTC = local midnight (-02:00)
        assert_eq!(sp.day_start(feb16 + HOUR), feb16);
        let feb17 = sp.next_day_start(feb16);
        assert_eq!(feb17 - feb16, 25 * HOUR);
        assert_eq!(sp.day_start(feb17 - 1), feb16);
        assert_eq!(sp.day_start(feb17 + 20 * HOUR), feb17);
    }

    #[test]
    fn berlin_days_of_23_and_25_hours() {
        // Europe/Berlin 2026: +01:00, +02:00 from 29 March 01:00 UTC,
        // +01:00 from 25 October 01:00 UTC.
        let berlin = OffsetChanges(vec![
            (UnixTime::MIN, 3600),
            (1_774_746_000, 7200),
            (1_792_890_000, 3600),
        ]);
        let mar29 = 1_774_738_800; // 28 March 23:00 UTC
        assert_eq!(berlin.day_start(mar29 + 12 * HOUR), mar29);
        assert_eq!(berlin.next_day_start(mar29) - mar29, 23 * HOUR);
        let oct25 = 1_792_879_200; // 24 October 22:00 UTC
        assert_eq!(berlin.day_start(oct25 + 12 * HOUR), oct25);
        assert_eq!(berlin.next_day_start(oct25) - oct25, 25 * HOUR);
    }

    #[test]
    fn an_empty_list_is_utc() {
        let utc = OffsetChanges::default();
        assert_eq!(utc.day_start(DAY + 5), DAY);
        assert_eq!(utc.last_change(DAY), None);
        assert_eq!(utc.offset_at(DAY), 0);
    }

    #[test]
    fn the_offset_changes_at_each_change_to_the_second() {
        let sp = sao_paulo_2018();
        assert_eq!(sp.offset_at(1_541_300_400 - 1), -3 * 3600);
        assert_eq!(sp.offset_at(1_541_300_400), -2 * 3600);
        assert_eq!(sp.utc_offset(1_541_300_400), -2 * 3600);
        assert_eq!(sp.offset_at(1_550_368_800), -3 * 3600);
        assert_eq!(sp.offset_at(UnixTime::MIN), -3 * 3600);
        assert_eq!(sp.last_change(1_550_368_800 + 1), Some(1_550_368_800));
    }

    #[test]
    fn a_list_is_serialised_as_plain_pairs() {
        let sp = sao_paulo_2018();
        let json = serde_json::to_string(&sp).unwrap();
        assert_eq!(
            json,
            "[[-9223372036854775808,-10800],[1541300400,-7200],[1550368800,-10800]]"
        );
        assert_eq!(serde_json::from_str::<OffsetChanges>(&json).unwrap(), sp);
    }

    #[test]
    fn floor_rounds_down_also_before_the_epoch() {
        assert_eq!(floor(3_661, HOUR), 3_600);
        assert_eq!(floor(-1, DAY), -DAY);
        assert_eq!(floor(DAY, DAY), DAY);
        assert_eq!(MINUTES_PER_DAY, 1_440);
        assert_eq!(HOURS_PER_DAY, 24);
    }
}
