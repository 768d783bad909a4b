//! The syslog header of a log line, in either form Postfix hosts write:
//!
//! - classic (RFC 3164): `Aug  4 08:28:49 mail1 postfix/smtpd[13109]: message`,
//!   with no year: [`YearGuess`] supplies it and follows the December →
//!   January roll-over;
//! - RFC 3339: `2026-08-04T08:28:49.123456+00:00 mail1 postfix/smtpd[13109]: message`.
//!
//! Everything borrows from the line; nothing allocates. A line that does
//! not fit is `None`, never a panic.
//!
//! **Repeated messages.** A syslog daemon may fold identical consecutive
//! messages into one line; each form stands for N more copies of a line:
//!
//! - sysklogd and the BSD syslogds: `Mar  1 10:00:00 mail1 last message
//!   repeated 3 times` (also `--- last message repeated 1 time ---`): no
//!   program, the copies are of the previous line of that host;
//! - rsyslog (`$RepeatedMsgReduction on`): `Mar  1 10:00:00 mail1
//!   postfix/smtpd[7]: message repeated 3 times: [ warning: …]`: the copies
//!   are the bracketed text under the line's own program and pid.
//!
//! Carteiro **expands** them: [`repeat`] recognises both forms and the
//! counter feeds the copy N times with the repeat line's time, so a folded
//! SASL brute force counts (and is detected) like the unfolded one; counting
//! "N more" explicitly would have to reach every counting rule and policy.
//! For the sysklogd form the counter keeps the last line of each host
//! ([`LastLines`]: no allocation once warm), unless it names a queue id:
//! Postfix never writes such a line twice in a row, so it is never folded,
//! and most lines are not copied. N is
//! capped at [`MAX_REPEAT`] per line (a real syslogd flushes its count every
//! 30 s to 10 min, a mail server rarely repeats one line more often than
//! that), and a run replays at most [`REPLAY_PER_LINE`] copies per line read
//! on average beyond a first [`MAX_REPEAT`] (see [`ReplayBudget`]), so a
//! hostile or corrupt file of repeat lines cannot keep the importer busy
//! for minutes; the copies left out are counted.

pub use crate::time::UnixTime;
use crate::time::{DAY, HOUR, MINUTE};

/// A line split into its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    pub at: UnixTime,
    pub host: &'a str,
    /// The whole syslog tag without the pid, e.g. `postfix/submission/smtpd`.
    pub program: &'a str,
    pub pid: Option<u32>,
    pub message: &'a str,
}

impl<'a> Header<'a> {
    /// For Postfix programs (`postfix/…`, `postfix-incoming/…`), the daemon:
    /// the last part of the tag (`smtpd` for `postfix/submission/smtpd`).
    /// `None` for other programs (amavis, dovecot…).
    pub fn postfix_daemon(&self) -> Option<&'a str> {
        if !self.program.starts_with("postfix") {
            return None;
        }
        let last_slash = memchr::memrchr(b'/', self.program.as_bytes())?;
        Some(&self.program[last_slash + 1..])
    }
}

/// A [`Header`] kept as byte offsets into its line: one thread can parse
/// the headers of a block of lines and another use them, with no borrow
/// crossing threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spans {
    at: UnixTime,
    pid: Option<u32>,
    host: (u32, u32),
    program: (u32, u32),
    message: (u32, u32),
}

impl<'a> Header<'a> {
    /// Where the parts of `self` are in `line`, the bytes it was parsed from.
    pub fn spans(&self, line: &'a [u8]) -> Spans {
        let span = |part: &str| {
            let start = (part.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
            (start as u32, (start + part.len()) as u32)
        };
        Spans {
            at: self.at,
            pid: self.pid,
            host: span(self.host),
            program: span(self.program),
            message: span(self.message),
        }
    }
}

impl Spans {
    /// The header again, from the same `line` it was parsed from (`None`
    /// if `line` is another text that is too short for it).
    pub fn header<'a>(&self, line: &'a str) -> Option<Header<'a>> {
        let part = |(a, b): (u32, u32)| line.get(a as usize..b as usize);
        Some(Header {
            at: self.at,
            host: part(self.host)?,
            program: part(self.program)?,
            pid: self.pid,
            message: part(self.message)?,
        })
    }
}

/// Supplies the year of classic timestamps: starts from a given year and
/// moves to the next one when the month jumps back (December → January).
/// A line that jumps far forward (a late December line after January ones)
/// is placed in the previous year without changing the guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearGuess {
    year: i32,
    last_month: u32,
}

impl YearGuess {
    pub fn new(year: i32) -> Self {
        Self {
            year,
            last_month: 0,
        }
    }

    /// Continues from a saved state (see [`YearGuess::state`]).
    pub fn resume(year: i32, last_month: u32) -> Self {
        Self {
            year,
            last_month: last_month.min(12),
        }
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    /// `(year, last month seen)`, for a checkpoint.
    pub fn state(&self) -> (i32, u32) {
        (self.year, self.last_month)
    }

    fn year_for(&mut self, month: u32) -> i32 {
        if self.last_month == 0 {
            self.last_month = month;
            return self.year;
        }
        if month + 6 <= self.last_month {
            // e.g. Dec → Jan: a new year began.
            self.year += 1;
            self.last_month = month;
            self.year
        } else if month >= self.last_month + 6 {
            // e.g. Jan, then a stray Dec line: last year's.
            self.year - 1
        } else {
            self.last_month = month;
            self.year
        }
    }
}

/// Splits `line`. `years` is used (and updated) for classic timestamps.
pub fn parse<'a>(line: &'a str, years: &mut YearGuess) -> Option<Header<'a>> {
    let b = line.as_bytes();
    let (at, rest) = if b.first()?.is_ascii_digit() {
        rfc3339(line)?
    } else {
        classic(line, years)?
    };
    let rest = rest.trim_start_matches(' ');
    let space = memchr::memchr(b' ', rest.as_bytes())?;
    let (host, rest) = (&rest[..space], &rest[space + 1..]);
    // The tag ends at the first colon; alignment spaces before the message go.
    let Some(colon) = memchr::memchr(b':', rest.as_bytes()) else {
        // No tag: only sysklogd's repeat line is a syslog line without one.
        return last_message_repeated(rest).map(|_| Header {
            at,
            host,
            program: &rest[..0],
            pid: None,
            message: rest,
        });
    };
    let (tag, message) = (&rest[..colon], &rest[colon + 1..]);
    let message = without_solaris_id(message.trim_start_matches(' '));
    if host.is_empty() || tag.is_empty() || memchr::memchr(b' ', tag.as_bytes()).is_some() {
        return None;
    }
    let bracket = tag
        .strip_suffix(']')
        .and_then(|t| Some((t, memchr::memchr(b'[', t.as_bytes())?)));
    let (program, pid) = match bracket {
        Some((t, open)) => (&t[..open], Some(digits(&t.as_bytes()[open + 1..])?)),
        None => (tag, None),
    };
    Some(Header {
        at,
        host,
        program,
        pid,
        message,
    })
}

/// Copies of one line a repeat line stands for, at most.
pub const MAX_REPEAT: u64 = 10_000;

/// Copies replayed per line read, on average over a run, beyond a first
/// [`MAX_REPEAT`] (see [`ReplayBudget`]).
pub const REPLAY_PER_LINE: u64 = 16;

/// What a repeat line stands for (see the module's overview).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repeat<'a> {
    /// How many more copies, as written (saturated at `u64::MAX`); see
    /// [`ReplayBudget::grant`] for how many are replayed.
    pub times: u64,
    /// The repeated message (rsyslog), or `None`: the previous line of the
    /// host (sysklogd).
    pub message: Option<&'a str>,
}

/// The repeat `h` stands for, if it is a repeat line. Cheap on other
/// lines: one byte compared.
#[inline]
pub fn repeat<'a>(h: &Header<'a>) -> Option<Repeat<'a>> {
    if h.program.is_empty() {
        let times = last_message_repeated(h.message)?;
        return Some(Repeat {
            times,
            message: None,
        });
    }
    if h.message.as_bytes().first() != Some(&b'm') {
        return None;
    }
    let rest = h.message.strip_prefix("message repeated ")?;
    let (n, rest) = rest.split_once(' ')?;
    let text = rest
        .strip_prefix("times: [")
        .or_else(|| rest.strip_prefix("time: ["))?;
    let text = text.strip_suffix(']').unwrap_or(text);
    Some(Repeat {
        times: count(n)?,
        message: Some(text.trim_start_matches(' ')),
    })
}

/// `N` of sysklogd's `last message repeated N times` (or BSD's `--- last
/// message repeated N time(s) ---`).
fn last_message_repeated(text: &str) -> Option<u64> {
    let text = text.trim_end_matches(' ');
    let text = match text.strip_prefix("--- ") {
        Some(t) => t.strip_suffix(" ---")?,
        None => text,
    };
    let rest = text.strip_prefix("last message repeated ")?;
    let n = rest
        .strip_suffix(" times")
        .or_else(|| rest.strip_suffix(" time"))?;
    count(n)
}

/// A decimal count of any length, saturated rather than overflowing.
fn count(n: &str) -> Option<u64> {
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(n.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// How many repeated copies a run may still replay: [`MAX_REPEAT`] at
/// first, then [`REPLAY_PER_LINE`] more for each line read, never more
/// than [`MAX_REPEAT`] in hand. Computed only when a repeat line comes,
/// from the count of lines read, so ordinary lines pay nothing for it.
#[derive(Clone, Copy, Debug)]
pub struct ReplayBudget {
    left: u64,
    at_line: u64,
}

impl Default for ReplayBudget {
    fn default() -> Self {
        Self {
            left: MAX_REPEAT,
            at_line: 0,
        }
    }
}

impl ReplayBudget {
    /// How many of `times` copies to replay now that `lines` lines were
    /// read; the rest are left out.
    pub fn grant(&mut self, times: u64, lines: u64) -> u64 {
        let earned = lines
            .saturating_sub(self.at_line)
            .saturating_mul(REPLAY_PER_LINE);
        self.at_line = lines;
        self.left = self.left.saturating_add(earned).min(MAX_REPEAT);
        let granted = times.min(self.left);
        self.left -= granted;
        granted
    }
}

/// The last line of each host (by the caller's host number), kept for
/// sysklogd's repeat lines, which name no program. One buffer per host,
/// reused: after the first lines, keeping a line allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct LastLines {
    hosts: Vec<LastLine>,
}

#[derive(Clone, Debug, Default)]
struct LastLine {
    /// The program, then the message.
    text: String,
    program_len: usize,
    pid: Option<u32>,
}

impl LastLines {
    /// Remembers `h` as the last line of `host`.
    #[inline]
    pub fn keep(&mut self, host: u16, h: &Header<'_>) {
        let i = usize::from(host);
        if i >= self.hosts.len() {
            self.hosts.resize_with(i + 1, LastLine::default);
        }
        let last = &mut self.hosts[i];
        last.text.clear();
        last.text.push_str(h.program);
        last.text.push_str(h.message);
        last.program_len = h.program.len();
        last.pid = h.pid;
    }

    /// Forgets the last line of `host`: its latest line may not be
    /// repeated (see the counter), so no older one is replayed instead.
    #[inline]
    pub fn forget(&mut self, host: u16) {
        if let Some(last) = self.hosts.get_mut(usize::from(host)) {
            last.text.clear();
        }
    }

    /// The last line of `host` again (named `name`), logged at `at`;
    /// `None` before the host's first line.
    pub fn header<'a>(&'a self, host: u16, name: &'a str, at: UnixTime) -> Option<Header<'a>> {
        let last = self.hosts.get(usize::from(host))?;
        if last.text.is_empty() {
            return None;
        }
        let (program, message) = last.text.split_at(last.program_len);
        Some(Header {
            at,
            host: name,
            program,
            pid: last.pid,
            message,
        })
    }
}

/// Solaris' syslogd starts each message with its id and the facility:
/// `[ID 197553 mail.info] 161033C05: client=…`. The rest is Postfix's own.
fn without_solaris_id(message: &str) -> &str {
    let Some(rest) = message.strip_prefix("[ID ") else {
        return message;
    };
    let Some((inside, after)) = rest.split_once(']') else {
        return message;
    };
    let well_formed = inside.split_once(' ').is_some_and(|(id, facility)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && facility.contains('.')
            && !facility.contains(' ')
    });
    if well_formed {
        after.trim_start_matches(' ')
    } else {
        message
    }
}

fn classic<'a>(line: &'a str, years: &mut YearGuess) -> Option<(UnixTime, &'a str)> {
    let b = line.as_bytes();
    if b.len() < 16 || b[3] != b' ' {
        return None;
    }
    let month = month_number(&b[0..3])?;
    // Day: " 4", "04" or "4" followed by a space.
    let mut i = 4;
    if b[i] == b' ' {
        i += 1;
    }
    let day_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let day = digits(&b[day_start..i])?;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let (secs_of_day, after_time) = clock(b, i)?;
    let mut end = after_time;
    // Optional fraction, e.g. "08:28:49.123".
    if b.get(end) == Some(&b'.') {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    if b.get(end) != Some(&b' ') {
        return None;
    }
    let year = years.year_for(month);
    let days = days_from_civil(year, month, day)?;
    Some((days * DAY + secs_of_day, &line[end + 1..]))
}

fn rfc3339(line: &str) -> Option<(UnixTime, &str)> {
    let b = line.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let (secs_of_day, mut i) = clock(b, 11)?;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' => {
            i += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            let hh = digits(b.get(i + 1..i + 3)?)? as i64;
            if b.get(i + 3) != Some(&b':') {
                return None;
            }
            let mm = digits(b.get(i + 4..i + 6)?)? as i64;
            i += 6;
            let off = hh * HOUR + mm * MINUTE;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    Some((days * DAY + secs_of_day - offset, &line[i + 1..]))
}

/// `HH:MM:SS` at `start`: seconds of the day and the index after it.
fn clock(b: &[u8], start: usize) -> Option<(i64, usize)> {
    let t = b.get(start..start + 8)?;
    if t[2] != b':' || t[5] != b':' {
        return None;
    }
    let (h, m, s) = (digits(&t[0..2])?, digits(&t[3..5])?, digits(&t[6..8])?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some((
        i64::from(h) * HOUR + i64::from(m) * MINUTE + i64::from(s),
        start + 8,
    ))
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn month_number(m: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS
        .iter()
        .position(|name| name.as_slice() == m)
        .map(|i| i as u32 + 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm); `None` for an impossible date.
fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_len = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day == 0 || day > month_len[month as usize - 1] {
        return None;
    }
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn unix(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        Utc.from_utc_datetime(
            &NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, s)
                .unwrap(),
        )
        .timestamp()
    }

    #[test]
    fn classic_line_with_padded_day() {
        let mut years = YearGuess::new(2026);
        let h = parse(
            "Aug  4 08:28:49 mail1 postfix/smtpd[13109]: connect from x[1.2.3.4]",
            &mut years,
        )
        .unwrap();
        assert_eq!(h.at, unix(2026, 8, 4, 8, 28, 49));
        assert_eq!(
            (h.host, h.program, h.pid),
            ("mail1", "postfix/smtpd", Some(13109))
        );
        assert_eq!(h.message, "connect from x[1.2.3.4]");
        assert_eq!(h.postfix_daemon(), Some("smtpd"));
    }

    #[test]
    fn rfc3339_line_with_fraction_and_offset() {
        let mut years = YearGuess::new(1999);
        let h = parse(
            "2023-03-14T00:00:31.185246+01:00 helga postfix/postscreen[3163107]: PASS OLD [185.48.118.128]:36942",
            &mut years,
        )
        .unwrap();
        assert_eq!(h.at, unix(2023, 3, 13, 23, 0, 31));
        assert_eq!(h.postfix_daemon(), Some("postscreen"));
        let z = parse("2026-08-04T08:28:49Z mail1 amavis[1]: x", &mut years).unwrap();
        assert_eq!(z.at, unix(2026, 8, 4, 8, 28, 49));
        assert_eq!(z.postfix_daemon(), None);
    }

    #[test]
    fn instance_and_service_names_give_the_daemon() {
        let mut years = YearGuess::new(2026);
        for (tag, daemon) in [
            ("postfix/submission/smtpd", "smtpd"),
            ("postfix-incoming/smtpd", "smtpd"),
            ("postfix/10025/smtpd", "smtpd"),
            ("postfix/amavis/smtp", "smtp"),
            ("postfix/virus-filter", "virus-filter"),
        ] {
            let line = format!("Jan  1 00:00:00 h {tag}[7]: m");
            assert_eq!(
                parse(&line, &mut years).unwrap().postfix_daemon(),
                Some(daemon),
                "{tag}"
            );
        }
    }

    #[test]
    fn the_year_rolls_over_and_stray_lines_stay_in_their_year() {
        let mut years = YearGuess::new(2025);
        let at = |line: &str, y: &mut YearGuess| parse(line, y).unwrap().at;
        assert_eq!(
            at("Dec 31 23:59:59 h p: m", &mut years),
            unix(2025, 12, 31, 23, 59, 59)
        );
        assert_eq!(
            at("Jan  1 00:00:01 h p: m", &mut years),
            unix(2026, 1, 1, 0, 0, 1)
        );
        // A late line from the old year, interleaved from another host.
        assert_eq!(
            at("Dec 31 23:59:58 h2 p: m", &mut years),
            unix(2025, 12, 31, 23, 59, 58)
        );
        assert_eq!(
            at("Jan  1 00:00:02 h p: m", &mut years),
            unix(2026, 1, 1, 0, 0, 2)
        );
        assert_eq!(years.year(), 2026);
    }

    #[test]
    fn february_29_exists_only_in_leap_years() {
        assert!(parse("Feb 29 00:00:00 h p: m", &mut YearGuess::new(2024)).is_some());
        assert!(parse("Feb 29 00:00:00 h p: m", &mut YearGuess::new(2026)).is_none());
    }

    #[test]
    fn solaris_message_ids_are_dropped() {
        let mut y = YearGuess::new(2026);
        let h = parse(
            "Jan 30 01:01:03 relay.cs.tcd.ie postfix/smtpd[15349]: [ID 197553 mail.info] 161033C05: client=unknown[216.16.246.188]",
            &mut y,
        )
        .unwrap();
        assert_eq!(h.program, "postfix/smtpd");
        assert_eq!(h.message, "161033C05: client=unknown[216.16.246.188]");
        // Anything else in brackets is the message's own.
        for message in [
            "[ID x mail.info] a",
            "[ID 1 mail info] a",
            "[ID 1] a",
            "[ID 1 mail.info a",
        ] {
            let line = format!("Jan 30 01:01:03 relay postfix/smtpd[1]: {message}");
            assert_eq!(parse(&line, &mut y).unwrap().message, message);
        }
    }

    #[test]
    fn both_repeat_forms_are_read() {
        let mut y = YearGuess::new(2026);
        fn repeat_of<'a>(line: &'a str, y: &mut YearGuess) -> Option<Repeat<'a>> {
            repeat(&parse(line, y).unwrap())
        }
        for (line, times) in [
            ("Mar  1 10:00:00 mx1 last message repeated 3 times", 3),
            ("Mar  1 10:00:00 mx1 last message repeated 1 time", 1),
            (
                "Mar  1 10:00:00 mx1 --- last message repeated 2 times ---",
                2,
            ),
            ("2026-03-01T10:00:00Z mx1 last message repeated 7 times", 7),
        ] {
            assert_eq!(
                repeat_of(line, &mut y),
                Some(Repeat {
                    times,
                    message: None
                }),
                "{line}"
            );
        }
        let line = "Mar  1 10:00:00 mx1 postfix/smtpd[7]: message repeated 4 times: [ warning: unknown[10.0.0.1]: SASL LOGIN authentication failed: x]";
        let h = parse(line, &mut y).unwrap();
        assert_eq!((h.program, h.pid), ("postfix/smtpd", Some(7)));
        assert_eq!(
            repeat(&h),
            Some(Repeat {
                times: 4,
                message: Some("warning: unknown[10.0.0.1]: SASL LOGIN authentication failed: x"),
            })
        );
    }

    #[test]
    fn hostile_repeat_counts_saturate() {
        let mut y = YearGuess::new(2026);
        for n in ["18446744073709551616", "99999999999999999999999999999999"] {
            let line = format!("Mar  1 10:00:00 mx1 last message repeated {n} times");
            assert_eq!(
                repeat(&parse(&line, &mut y).unwrap()).unwrap().times,
                u64::MAX
            );
        }
    }

    #[test]
    fn other_lines_are_not_repeats() {
        let mut y = YearGuess::new(2026);
        let tail = "Mar  1 10:00:00 mx1 postfix/smtpd[7]:";
        let messages = [
            "connect from a[10.0.0.1]",
            "message repeated x times: [ a]",
            "message repeated 3 times",
            "last message repeated 3 times",
        ];
        for m in messages.map(|m| format!("{tail} {m}")) {
            let h = parse(&m, &mut y).unwrap();
            assert_eq!(repeat(&h), None, "{m}");
        }
    }

    #[test]
    fn the_budget_caps_each_repeat_and_the_run() {
        let mut b = ReplayBudget::default();
        assert_eq!(b.grant(u64::MAX, 1), MAX_REPEAT);
        // Spent: only what the lines read since have earned.
        assert_eq!(b.grant(u64::MAX, 11), 10 * REPLAY_PER_LINE);
        assert_eq!(b.grant(5, 11), 0);
        // Earned back, never beyond one repeat's cap.
        assert_eq!(b.grant(3, 1_000_000), 3);
        assert_eq!(b.grant(u64::MAX, 1_000_000), MAX_REPEAT - 3);
    }

    #[test]
    fn last_lines_are_kept_per_host() {
        let mut y = YearGuess::new(2026);
        let mut last = LastLines::default();
        let a = parse(
            "Mar  1 10:00:00 mx1 postfix/smtpd[7]: connect from a[10.0.0.1]",
            &mut y,
        )
        .unwrap();
        let b = parse("Mar  1 10:00:01 mx2 postfix/qmgr[8]: ABC: removed", &mut y).unwrap();
        last.keep(0, &a);
        last.keep(3, &b);
        assert_eq!(last.header(0, "mx1", 99), Some(Header { at: 99, ..a }));
        assert_eq!(last.header(3, "mx2", 98), Some(Header { at: 98, ..b }));
        assert_eq!(last.header(1, "mx9", 1), None);
        assert_eq!(last.header(7, "mx9", 1), None);
    }

    #[test]
    fn malformed_lines_are_none() {
        let mut years = YearGuess::new(2026);
        for line in [
            "",
            "Aug",
            "Foo  4 08:28:49 h p: m",
            "Aug  4 25:28:49 h p: m",
            "Aug  4 08:28:49",
            "Aug  4 08:28:49 host-only",
            "2026-13-01T00:00:00Z h p: m",
            "2026-08-04T08:28:49+0100 h p: m",
            "Aug  4 08:28:49 h postfix/smtpd[12x]: m",
            "  [Thu Aug 04 2026] roundcube: noise",
            // Without a tag, only sysklogd's repeat line is a syslog line.
            "Mar  1 10:00:00 mx1 last message repeated -3 times",
            "Mar  1 10:00:00 mx1 last message repeated  times",
            "Mar  1 10:00:00 mx1 last message repeated 3",
            "Mar  1 10:00:00 mx1 something else entirely",
        ] {
            assert_eq!(parse(line, &mut years), None, "{line:?}");
        }
    }

    #[test]
    fn alignment_spaces_around_the_message_are_dropped() {
        let mut years = YearGuess::new(2004);
        for line in [
            "Feb  6 17:03:54 ntardis postfix/cleanup[13164]:0A84FD94C4: message-id=<a@b>",
            "Feb  6 17:03:54 ntardis postfix/cleanup[13164]:   0A84FD94C4: message-id=<a@b>",
        ] {
            let h = parse(line, &mut years).unwrap();
            assert_eq!(
                (h.program, h.pid, h.message),
                (
                    "postfix/cleanup",
                    Some(13164),
                    "0A84FD94C4: message-id=<a@b>"
                )
            );
        }
    }

    #[test]
    fn a_message_may_be_empty() {
        let h = parse(
            "Aug  4 08:28:49 h postfix/master[1]:",
            &mut YearGuess::new(2026),
        )
        .unwrap();
        assert_eq!(h.message, "");
    }
}

/// The shared corpus of real Postfix logs (`../shared/corpus` beside the repository).
#[cfg(test)]
pub(crate) mod corpus {
    use super::*;
    use std::path::{Path, PathBuf};

    /// Every file of the corpus, sorted.
    pub(crate) fn corpus_files() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
        assert!(
            root.is_dir(),
            "the shared corpus is missing at {}",
            root.display()
        );
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    /// Every line of every corpus file is split or refused, never a panic,
    /// exactly the lines an independent pattern accepts are split, and
    /// each header survives the trip through [`Spans`].
    #[test]
    fn splits_exactly_the_syslog_lines_of_every_corpus_file() {
        let oracle = regex::bytes::Regex::new(
            r"^(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)) +[^ ]+ (?:[^ \[\]:]+(?:\[\d+\])?:|(?:--- )?last message repeated \d+ times?(?: ---)? *$)",
        )
        .unwrap();
        let mut total_split = 0;
        for file in corpus_files() {
            let bytes = std::fs::read(&file).unwrap();
            let (mut split, mut expected) = (0, 0);
            let mut years = YearGuess::new(2026);
            for raw in bytes.split(|&b| b == b'\n') {
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                if oracle.is_match(raw) && std::str::from_utf8(raw).is_ok() {
                    expected += 1;
                }
                if let Ok(line) = std::str::from_utf8(raw)
                    && let Some(h) = parse(line, &mut years)
                {
                    // What the reading thread hands over gives it back.
                    assert_eq!(h.spans(raw).header(line), Some(h), "{line}");
                    split += 1;
                }
            }
            assert_eq!(split, expected, "{}", file.display());
            total_split += split;
        }
        assert!(
            total_split > 90_000,
            "the corpus has about 97k syslog lines, split {total_split}"
        );
    }
}
