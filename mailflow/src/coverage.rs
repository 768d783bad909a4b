//! Coverage: how much of a log the engine understood, and the warnings an
//! operator must see when it understood almost nothing ("never a silent
//! zero").
//!
//! The counter notes, for every line from a Postfix program (`postfix/…`,
//! `postfix-<instance>/…`), whether it gave an event ([`Event`] other than
//! `Other`: a connect or a disconnect counts, so a log of mostly
//! `connect from` noise is understood) and keeps the first one that gave
//! none, as the example to show. [`Coverage::warnings`] then applies one
//! rule: at least [`MIN_POSTFIX_LINES`] Postfix lines and fewer than
//! [`MIN_EVENT_PERCENT`]% of them gave an event means a syslog format or a
//! Postfix dialect Carteiro does not read; every file of the shared corpus
//! of real logs and the generated log are understood well above that (the
//! corpus test below checks it). It also reports repeat lines whose copies
//! were left out (see [`crate::syslog`]'s overview).
//!
//! `carteiro import` reports these warnings per file (`--report json`'s
//! `warnings`), the live ingest worker on the source's status.

use crate::event::Event;
use crate::syslog::Header;
use serde::Serialize;

/// Fewer Postfix lines than this never warn: too little to judge.
pub const MIN_POSTFIX_LINES: u64 = 200;

/// Below this share of Postfix lines giving an event, the log is not read.
/// An unread format gives 0%; real logs give 18% to 90%, and 2% for the
/// worst of the corpus, a Postfix logging with `-v` (debug lines about
/// queue scans and attribute exchanges), which must not warn.
pub const MIN_EVENT_PERCENT: u64 = 1;

/// How long the example line in a warning may be, in bytes.
const EXAMPLE_LEN: usize = 300;

/// What the engine understood of a stretch of log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Lines from Postfix programs.
    pub postfix_lines: u64,
    /// Of them, the lines that gave an event.
    pub postfix_events: u64,
    /// The first Postfix line that gave none (shortened).
    pub first_unread: Option<String>,
    /// Repeat lines read (`last message repeated N times` and rsyslog's
    /// `message repeated N times: […]`).
    pub repeat_lines: u64,
    /// Copies they stood for that were left out (over the caps).
    pub repeats_left_out: u64,
}

/// Something an operator must act on, about one file or source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// A stable machine name: `no_events` or `repeats_capped`.
    pub kind: &'static str,
    /// A sentence a person can act on.
    pub message: String,
}

impl Coverage {
    /// Notes one line and whether it gave an event.
    #[inline]
    pub fn line(&mut self, h: &Header<'_>, postfix: bool, event: &Event<'_>) {
        if !postfix {
            return;
        }
        self.postfix_lines += 1;
        if !matches!(event, Event::Other) {
            self.postfix_events += 1;
        } else if self.first_unread.is_none() {
            self.first_unread = Some(example(h));
        }
    }

    /// Too many Postfix lines and too few events: see the module's overview.
    pub fn unread(&self) -> bool {
        self.postfix_lines >= MIN_POSTFIX_LINES
            && self.postfix_events.saturating_mul(100)
                < self.postfix_lines.saturating_mul(MIN_EVENT_PERCENT)
    }

    /// The warnings this coverage calls for (none for a log read well).
    pub fn warnings(&self) -> Vec<Warning> {
        let mut out = Vec::new();
        if self.unread() {
            let example = self
                .first_unread
                .as_deref()
                .map(|l| format!(" First such line: {l}"))
                .unwrap_or_default();
            out.push(Warning {
                kind: "no_events",
                message: format!(
                    "{} lines from Postfix programs gave {} events: is this a syslog format \
                     or a Postfix version Carteiro does not read? Its counts are not to be \
                     trusted.{example}",
                    thousands(self.postfix_lines),
                    thousands(self.postfix_events),
                ),
            });
        }
        if self.repeats_left_out > 0 {
            out.push(Warning {
                kind: "repeats_capped",
                message: format!(
                    "{} copies of repeated lines (\"last message repeated N times\") were \
                     not counted: more than {} for one line, or too many for the file. \
                     Turn off repeated-message reduction in the syslog daemon for exact counts.",
                    thousands(self.repeats_left_out),
                    thousands(crate::syslog::MAX_REPEAT),
                ),
            });
        }
        out
    }
}

/// `h` as a log line, shortened to [`EXAMPLE_LEN`] bytes.
fn example(h: &Header<'_>) -> String {
    let mut line = match h.pid {
        Some(pid) => format!("{} {}[{pid}]: {}", h.host, h.program, h.message),
        None => format!("{} {}: {}", h.host, h.program, h.message),
    };
    if line.len() > EXAMPLE_LEN {
        let mut end = EXAMPLE_LEN;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push('…');
    }
    line
}

/// `3120` as `3,120` (the command line's and the logs' English grouping).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::classify;
    use crate::syslog::{YearGuess, parse};

    /// The coverage of `lines`, read as the counter reads them.
    fn coverage<'a>(lines: impl IntoIterator<Item = &'a str>) -> Coverage {
        let mut years = YearGuess::new(2026);
        let mut c = Coverage::default();
        for line in lines {
            if let Some(h) = parse(line, &mut years) {
                c.line(&h, h.postfix_daemon().is_some(), &classify(&h));
            }
        }
        c
    }

    #[test]
    fn a_format_giving_no_events_warns_with_an_example() {
        // Postfix lines whose messages carry a prefix nothing reads.
        let lines: Vec<String> = (0..300)
            .map(|i| {
                format!("Jan 30 01:01:03 relay postfix/smtpd[{i}]: <22>1 {i:05X}: client=unknown[10.0.0.1]")
            })
            .collect();
        let c = coverage(lines.iter().map(String::as_str));
        assert_eq!((c.postfix_lines, c.postfix_events), (300, 0));
        let w = c.warnings();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].kind, "no_events");
        assert!(
            w[0].message
                .starts_with("300 lines from Postfix programs gave 0 events")
                && w[0].message.ends_with(
                    "First such line: relay postfix/smtpd[0]: <22>1 00000: client=unknown[10.0.0.1]"
                ),
            "{}",
            w[0].message
        );
    }

    #[test]
    fn small_files_and_files_of_connection_noise_do_not_warn() {
        let unread = "Jan 30 01:01:03 relay postfix/smtpd[1]: <22>1 x";
        assert_eq!(coverage([unread; 199]).warnings(), []);
        assert!(coverage([unread; 200]).unread());
        // Connects and disconnects are events: a quiet server's log is read.
        let mut noise = vec![unread; 1900];
        noise.extend(["Jan 30 01:01:03 relay postfix/smtpd[1]: connect from a[10.0.0.1]"; 100]);
        assert_eq!(coverage(noise.iter().copied()).warnings(), []);
        // Other programs' lines do not count either way.
        assert_eq!(
            coverage(["Jan 30 01:01:03 relay dovecot[1]: imap-login: x"; 5000]),
            Coverage::default()
        );
    }

    #[test]
    fn numbers_have_thousands_separators() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (3120, "3,120"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), text);
        }
    }

    #[test]
    fn examples_are_shortened_on_a_character_boundary() {
        let long = format!("Jan 30 01:01:03 h postfix/smtpd[1]: {}", "é".repeat(400));
        let c = coverage([long.as_str()]);
        let example = c.first_unread.unwrap();
        assert!(example.len() <= EXAMPLE_LEN + '…'.len_utf8());
        assert!(example.ends_with('…'));
    }

    /// Every real log of the shared corpus, and the generated log, is read
    /// well above the warning's threshold: none of them warns.
    #[test]
    fn no_corpus_file_and_no_generated_log_warns() {
        let mut judged = 0;
        for file in crate::syslog::corpus::corpus_files() {
            let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
            let c = coverage(text.lines());
            if c.postfix_lines >= MIN_POSTFIX_LINES {
                judged += 1;
            }
            if c.postfix_lines > 0 {
                eprintln!(
                    "{:>6} of {:>6} Postfix lines gave an event: {}",
                    c.postfix_events,
                    c.postfix_lines,
                    file.display()
                );
            }
            assert_eq!(c.warnings(), [], "{}", file.display());
        }
        assert!(judged >= 6, "only {judged} corpus files are large enough");
        let mut g = crate::generate::Generator::new(crate::generate::Shape {
            seed: 1,
            start: 1_793_491_200,
            lines_per_day: 2_000_000,
            hosts: vec!["mx1".into(), "smtp1".into()],
            rfc3339: false,
        });
        let mut text = String::new();
        for _ in 0..20_000 {
            g.next_line(&mut text);
        }
        let c = coverage(text.lines());
        assert!(c.postfix_lines >= MIN_POSTFIX_LINES);
        assert_eq!(c.warnings(), []);
    }
}
