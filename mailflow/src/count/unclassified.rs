//! The rejects no rule classified (`other`), gathered so the security team
//! can see what they say and write rules for them (the "Unclassified
//! rejects" page). Each reply is reduced by [`normalise`] to its shape —
//! addresses, IPs, bracketed names and numbers replaced by placeholders
//! (`<addr>`, `<ip>`, `<host>`, `<n>`) — so one spammer's thousand variants
//! are one line; [`Unclassified`] keeps per shape a count, first and last
//! seen and a few raw sample lines, bounded whatever the log holds; and
//! [`pattern_of`] turns a shape back into a regular expression for a rule.
//!
//! Only `other` rejects reach this module: the counter's hot path does not
//! pay for it.

use crate::time::UnixTime;
use rustc_hash::FxHashMap;

/// A normalised text longer than this is cut here (at a character
/// boundary): a hostile reply cannot make a key of any size.
pub const MAX_TEXT: usize = 400;

/// Distinct texts a batch keeps. Past it, the least frequent half is
/// dropped (see [`Unclassified::add`]), so a log of ten million different
/// texts holds at most this many at a time.
pub const MAX_TEXTS: usize = 1000;

/// Raw sample lines kept per text.
pub const MAX_SAMPLES: usize = 3;

/// One normalised text's tally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub n: u64,
    pub first_at: UnixTime,
    pub last_at: UnixTime,
    /// The first lines seen, at most [`MAX_SAMPLES`].
    pub samples: Vec<String>,
}

/// The unclassified rejects of a batch, by normalised text.
#[derive(Debug, Default)]
pub struct Unclassified {
    texts: FxHashMap<Box<str>, Tally>,
    /// Rejects whose text was dropped to stay within [`MAX_TEXTS`].
    pub dropped: u64,
}

impl Unclassified {
    /// Counts one reject `reply` seen at `at`; `line` gives its raw log
    /// line, asked only while the text has room for samples. When the
    /// batch holds [`MAX_TEXTS`] texts, the less frequent half goes first,
    /// so a flood of one-off texts
    /// cannot push out the frequent ones for long.
    pub fn add(&mut self, reply: &str, at: UnixTime, line: impl FnOnce() -> String) {
        let text = normalise(reply);
        if !self.texts.contains_key(text.as_str()) && self.texts.len() >= MAX_TEXTS {
            self.prune();
        }
        let tally = self
            .texts
            .entry(text.into_boxed_str())
            .or_insert_with(|| Tally {
                n: 0,
                first_at: at,
                last_at: at,
                samples: Vec::new(),
            });
        tally.n += 1;
        tally.first_at = tally.first_at.min(at);
        tally.last_at = tally.last_at.max(at);
        if tally.samples.len() < MAX_SAMPLES {
            tally.samples.push(line());
        }
    }

    /// Keeps the more frequent half of the texts (among equally frequent
    /// ones, any), adding the others' rejects to `dropped`.
    fn prune(&mut self) {
        let keep = MAX_TEXTS / 2;
        let mut counts: Vec<u64> = self.texts.values().map(|t| t.n).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let threshold = counts[keep - 1];
        let above = counts.iter().take_while(|&&n| n > threshold).count();
        let mut ties_left = keep - above;
        let mut dropped = 0;
        self.texts.retain(|_, t| {
            let kept = t.n > threshold
                || t.n == threshold && ties_left > 0 && {
                    ties_left -= 1;
                    true
                };
            if !kept {
                dropped += t.n;
            }
            kept
        });
        self.dropped += dropped;
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Every text and its tally, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tally)> {
        self.texts.iter().map(|(k, v)| (&**k, v))
    }
}

/// The shape of a reject reply: the leading SMTP code and enhanced status
/// code kept (`554 5.7.1`); then `<…@…>` and bare addresses → `<addr>`,
/// other `<…>` → `<host>`, IPv4 and IPv6 addresses → `<ip>`, `[…]` →
/// `[<ip>]` or `[<host>]`, and runs of digits (queue ids and other
/// hex-with-digits words included) → `<n>`. At most [`MAX_TEXT`] bytes.
pub fn normalise(reply: &str) -> String {
    let reply = reply.trim();
    let (codes, rest) = split_codes(reply);
    let mut out = String::with_capacity(reply.len().min(MAX_TEXT));
    out.push_str(codes);
    let mut rest = rest;
    while let Some(c) = rest.chars().next() {
        if out.len() >= MAX_TEXT {
            break;
        }
        let (piece, len) = match c {
            '<' => match rest.find('>') {
                Some(end) => {
                    let inner = &rest[1..end];
                    let piece = if inner.is_empty() {
                        "<>"
                    } else if inner.contains('@') {
                        "<addr>"
                    } else {
                        "<host>"
                    };
                    (piece, end + 1)
                }
                None => ("<", 1),
            },
            '[' => match rest.find(']') {
                Some(end) => {
                    let inner = &rest[1..end];
                    let piece = if is_ip(inner) {
                        "[<ip>]"
                    } else if inner.is_empty() {
                        "[]"
                    } else {
                        "[<host>]"
                    };
                    (piece, end + 1)
                }
                None => ("[", 1),
            },
            c if c.is_ascii_alphanumeric() || c == ':' => {
                let end = rest
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric()
                            || matches!(c, '.' | ':' | '@' | '-' | '_' | '+'))
                    })
                    .unwrap_or(rest.len());
                // A word ends before a trailing `.` or `:` (end of a sentence, `ip:`).
                let word = rest[..end].trim_end_matches(['.', ':']);
                let word = if word.is_empty() { &rest[..1] } else { word };
                (word_shape(word), word.len())
            }
            c => {
                let len = c.len_utf8();
                (&rest[..len], len)
            }
        };
        out.push_str(piece);
        rest = &rest[len..];
    }
    if out.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// `554 5.7.1 ` and the rest of a reply (either code may be missing).
fn split_codes(reply: &str) -> (&str, &str) {
    let b = reply.as_bytes();
    let mut end = 0;
    if b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' ' {
        end = 4;
        let rest = &reply[4..];
        if let Some(sp) = rest.find(' ') {
            let code = &rest[..sp];
            let parts: Vec<&str> = code.split('.').collect();
            if parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()))
            {
                end += sp + 1;
            }
        }
    }
    reply.split_at(end)
}

/// A word's placeholder: `<addr>`, `<ip>`, `<name>` for a dotted name with
/// digits (`mx12.example.net`), `<n>` for any other word with a digit
/// (numbers, queue ids); a word without digits stays (`zen.spamhaus.org`).
fn word_shape(word: &str) -> &str {
    if word.contains('@') {
        "<addr>"
    } else if is_ip(word) {
        "<ip>"
    } else if !word.bytes().any(|b| b.is_ascii_digit()) {
        word
    } else if word.contains('.') && word.bytes().any(|b| b.is_ascii_alphabetic()) {
        "<name>"
    } else {
        "<n>"
    }
}

fn is_ip(s: &str) -> bool {
    let s = s.strip_prefix("IPv6:").unwrap_or(s);
    s.parse::<std::net::IpAddr>().is_ok()
}

/// A regular expression matching the replies of normalised text `text`:
/// the text escaped, each placeholder a piece that matches what it
/// replaced, case-insensitive like the default rules. The leading codes are
/// left out (a rule is about the words; `450` and `550` of one check are
/// the same class).
pub fn pattern_of(text: &str) -> String {
    let (_, rest) = split_codes(text);
    let mut out = String::from("(?i)");
    let mut rest = rest.trim_start();
    const PIECES: [(&str, &str); 8] = [
        ("[<ip>]", r"\[(?:IPv6:)?[0-9a-fA-F.:]+\]"),
        ("[<host>]", r"\[[^\]]*\]"),
        ("<addr>", r"<?[^\s<>@]*@[^\s<>]*>?"),
        ("<host>", r"<[^>]*>"),
        ("<ip>", r"(?:IPv6:)?[0-9a-fA-F.:]+"),
        ("<name>", r"[\w.:+-]+"),
        ("<n>", r"[\w.:+-]+"),
        ("<>", "<>"),
    ];
    'outer: while !rest.is_empty() {
        for (placeholder, piece) in PIECES {
            if let Some(r) = rest.strip_prefix(placeholder) {
                out.push_str(piece);
                rest = r;
                continue 'outer;
            }
        }
        let next = rest[1..].find(['<', '[']).map_or(rest.len(), |i| i + 1);
        out.push_str(&regex::escape(&rest[..next]));
        rest = &rest[next..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn normalises_addresses_ips_names_and_numbers() {
        assert_eq!(
            normalise(
                "550 5.7.1 <bob@example.com>: Recipient address rejected: \
                 mailbox full for 3 days, client 192.0.2.7"
            ),
            "550 5.7.1 <addr>: Recipient address rejected: mailbox full for <n> days, client <ip>"
        );
        assert_eq!(
            normalise(
                "450 4.7.1 Client host rejected: no PTR for [2001:db8::1] (mx12.evil.example)"
            ),
            "450 4.7.1 Client host rejected: no PTR for [<ip>] (<name>)"
        );
        assert_eq!(
            normalise(
                "554 5.7.1 <mail.example.net>: Bad thing, see [spam.example.org] id A1B2C3D4E5"
            ),
            "554 5.7.1 <host>: Bad thing, see [<host>] id <n>"
        );
        assert_eq!(
            normalise("550 <>: from alice@x.example: Nope."),
            "550 <>: from <addr>: Nope."
        );
    }

    #[test]
    fn variants_of_one_reply_are_one_text() {
        let a = normalise("554 5.7.1 <a@x.com>: Go away 12 times from 198.51.100.1");
        let b = normalise("554 5.7.1 <zz@y.org>: Go away 3456 times from 203.0.113.99");
        assert_eq!(a, b);
        assert_ne!(
            a,
            normalise("554 5.7.1 <a@x.com>: Go home 12 times from 198.51.100.1")
        );
    }

    #[test]
    fn a_huge_reply_gives_a_bounded_text() {
        let reply = format!("550 5.7.1 {}", "é".repeat(1_000_000));
        let text = normalise(&reply);
        assert!(text.len() <= MAX_TEXT, "{}", text.len());
        assert!(text.starts_with("550 5.7.1 é"));
    }

    #[test]
    fn the_pattern_matches_the_replies_it_came_from() {
        let replies = [
            "550 5.7.1 <bob@example.com>: Recipient address rejected: mailbox full for 3 days, client 192.0.2.7",
            "450 4.7.1 Client host rejected: no PTR for [2001:db8::1] (mx12.evil.example)",
            "554 5.7.1 <mail.example.net>: Bad thing (*), see [spam.example.org] id A1B2C3D4E5",
            "550 <>: from alice@x.example: Nope.",
        ];
        for reply in replies {
            let pattern = pattern_of(&normalise(reply));
            let re = Regex::new(&pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert!(re.is_match(reply), "{pattern} vs {reply}");
        }
        let re = Regex::new(&pattern_of(&normalise(replies[0]))).unwrap();
        assert!(re.is_match(
            "450 4.2.2 <carol@example.org>: Recipient address rejected: mailbox full for 12 days, client 10.0.0.1"
        ));
        assert!(
            !re.is_match("550 5.7.1 <bob@example.com>: Recipient address rejected: Access denied")
        );
        assert_eq!(
            pattern_of("554 5.7.1 <addr>: Bad (thing)"),
            r"(?i)<?[^\s<>@]*@[^\s<>]*>?: Bad \(thing\)"
        );
    }

    #[test]
    fn tallies_count_first_last_and_a_few_samples() {
        let mut u = Unclassified::default();
        for (i, at) in [300, 100, 200, 400].into_iter().enumerate() {
            u.add(&format!("550 5.7.1 <u{i}@x.example>: Weird"), at, || {
                format!("line {i}")
            });
        }
        assert_eq!(u.len(), 1);
        let (text, t) = u.iter().next().unwrap();
        assert_eq!(text, "550 5.7.1 <addr>: Weird");
        assert_eq!((t.n, t.first_at, t.last_at), (4, 100, 400));
        assert_eq!(t.samples, ["line 0", "line 1", "line 2"]);
    }

    #[test]
    fn ten_thousand_distinct_texts_stay_bounded_and_the_frequent_one_stays() {
        let mut u = Unclassified::default();
        for _ in 0..50 {
            u.add("550 5.7.1 Frequent text", 1, String::new);
        }
        for i in 0..10_000 {
            // Letters only: each is a different text.
            let word: String = format!("{i:05}")
                .bytes()
                .map(|b| (b - b'0' + b'a') as char)
                .collect();
            u.add(&format!("550 5.7.1 One-off {word}"), 2, String::new);
            assert!(u.len() <= MAX_TEXTS);
        }
        assert!(
            u.iter()
                .any(|(t, tally)| t == "550 5.7.1 Frequent text" && tally.n == 50)
        );
        let kept: u64 = u.iter().map(|(_, t)| t.n).sum();
        assert_eq!(kept + u.dropped, 10_050);
    }
}
