//! The counting rules' decisions about one line's text, kept apart from the
//! bookkeeping so each reads as the rule it is: which reject class a reply
//! belongs to ([`RejectRules`], configurable, [`DEFAULT_RULES`] out of the
//! box), whether a delivery's relay is a content filter
//! ([`is_filter_relay`], which the Report page shares), which daemons
//! deliver, and what a reject's reply says about spam or the account.

use crate::event::{find, split_at_byte};
use regex::Regex;
use std::net::IpAddr;

/// One reject rule: a reply matching `pattern` (a regular expression) is
/// of class `class`, counted in the series `reject.<class>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RejectRule<S = String> {
    pub class: S,
    pub pattern: S,
}

impl<S> From<(S, S)> for RejectRule<S> {
    /// A stored `(class, pattern)` pair.
    fn from((class, pattern): (S, S)) -> Self {
        Self { class, pattern }
    }
}

/// The class of a reject no rule matched.
pub const OTHER: &str = "other";

/// The class of a server-side temporary failure (smtpd's own trouble: a
/// full queue disk, a lookup table or policy service down, a milter that
/// did not answer). Not the client's doing, so no abuse policy counts it.
pub const SERVER: &str = "server";

/// The ISP's default classes, in the order they are tried (first match
/// wins): `sender_unknown` before `unknown_user`, whose pattern also
/// matches a sender's `User unknown in local recipient table`; `server`
/// before the `Sender address rejected` catch-all, since a table lookup
/// that failed is reported under it. The common classes stay first: each
/// reject is tried against the rules one by one. The two rules that come
/// before common ones match Postfix's own fixed texts case for case: a
/// case-sensitive literal is the cheapest search.
pub const DEFAULT_RULES: [RejectRule<&str>; 15] = [
    RejectRule {
        class: "sender_unknown",
        pattern: r"Sender address rejected: User unknown",
    },
    RejectRule {
        class: "unknown_user",
        pattern: r"(?i)User unknown in [a-z ]*table",
    },
    RejectRule {
        class: "relay",
        pattern: r"(?i)Relay access denied",
    },
    RejectRule {
        class: "domain",
        pattern: r"(?i)Sender address rejected: Domain not found",
    },
    RejectRule {
        class: "not_logged",
        pattern: r"(?i)not logged in",
    },
    RejectRule {
        class: "not_owned",
        pattern: r"(?i)not owned by user",
    },
    RejectRule {
        class: "spf",
        pattern: r"(?i)\bspf\b|openspf",
    },
    // The 4xx texts Postfix's smtpd and cleanup write for their own
    // trouble (smtpd_check.c, smtpd.c, cleanup_strerror.c), and a milter's
    // default temporary failure.
    RejectRule {
        class: SERVER,
        pattern: r"Insufficient system storage|Temporary lookup (failure|error)|Server configuration (error|problem)|queue file write error|Server local (data )?error|Mail system error|TLS not available due to local problem|Service unavailable - try again later",
    },
    RejectRule {
        class: "sender_denied",
        pattern: r"(?i)Sender address rejected: Access denied",
    },
    RejectRule {
        class: "sender_other",
        pattern: r"(?i)Sender address rejected",
    },
    RejectRule {
        class: "recipient_denied",
        pattern: r"(?i)Recipient address rejected: Access denied",
    },
    RejectRule {
        class: "rate",
        pattern: r"(?i)rate limit|message rate",
    },
    RejectRule {
        class: "rbl",
        pattern: r"(?i)blocked using ",
    },
    RejectRule {
        class: "reverse_dns",
        pattern: r"(?i)Client host rejected: cannot find your (reverse )?hostname",
    },
    RejectRule {
        class: "helo",
        pattern: r"(?i)Helo command rejected",
    },
];

/// Ordered reject classification rules, first match wins, compiled once.
/// Tried one by one: the common classes come first, so most replies are
/// decided by one or two literal searches (a `RegexSet` would look for
/// every rule's matches each time).
pub struct RejectRules {
    classes: Vec<String>,
    patterns: Vec<Regex>,
}

impl RejectRules {
    /// Compiles `rules` in order: [`RejectRule`]s or stored `(class,
    /// pattern)` pairs.
    pub fn new<R, S>(rules: &[R]) -> Result<Self, regex::Error>
    where
        R: Clone + Into<RejectRule<S>>,
        S: AsRef<str>,
    {
        let rules: Vec<RejectRule<S>> = rules.iter().cloned().map(Into::into).collect();
        Ok(Self {
            classes: rules.iter().map(|r| r.class.as_ref().to_string()).collect(),
            patterns: rules
                .iter()
                .map(|r| Regex::new(r.pattern.as_ref()))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The ISP's default categories.
    pub fn defaults() -> Self {
        Self::new(&DEFAULT_RULES).expect("default reject rules compile")
    }

    /// The class of a reject reply.
    pub fn classify(&self, reply: &str) -> &str {
        self.class_name(self.index(reply))
    }

    /// The index of the first rule matching `reply`; the number of rules
    /// (the index of `other`) when none does.
    pub fn index(&self, reply: &str) -> usize {
        self.patterns
            .iter()
            .position(|p| p.is_match(reply))
            .unwrap_or(self.classes.len())
    }

    /// How many classes there are, `other` included.
    pub fn class_count(&self) -> usize {
        self.classes.len() + 1
    }

    /// The name of class `index` (rule order, then `other`).
    pub fn class_name(&self, index: usize) -> &str {
        self.classes.get(index).map_or(OTHER, String::as_str)
    }

    /// Every class name, in rule order, then `other`.
    pub fn class_names(&self) -> impl Iterator<Item = &str> {
        self.classes
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(OTHER))
    }
}

/// The longest pattern an analyst may save (a rule is a few words, not a
/// document).
pub const MAX_PATTERN: usize = 2000;

/// The most memory one compiled rule may take: a short pattern can still
/// compile to a huge automaton (`\w{1000}{1000}`).
const RULE_SIZE_LIMIT: usize = 1 << 20;

/// A rule an analyst wrote, checked once: its class a name of 1 to 64
/// `[a-z0-9_]` (a series name, a URL piece), not `other`; its pattern a
/// regular expression of at most [`MAX_PATTERN`] bytes that compiles
/// within a size limit. The error says what to fix.
#[derive(Clone, Debug)]
pub struct NewRule {
    pub class: String,
    pub pattern: Regex,
}

/// Why a rule as typed is refused: what to fix (the portal says it in the
/// analyst's language; `Display` is the English text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// Not 1 to 64 `[a-z0-9_]`.
    BadClass,
    /// The class is [`OTHER`].
    OtherClass,
    EmptyPattern,
    /// Longer than [`MAX_PATTERN`] bytes; the pattern's length in characters.
    TooLong(usize),
    /// It compiles beyond the size limit.
    TooComplex,
    /// Not a regular expression: the parser's explanation.
    Invalid(String),
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadClass => {
                f.write_str("A class name is 1 to 64 lower-case letters, digits or _.")
            }
            Self::OtherClass => f.write_str("\"other\" is the class of rejects no rule matches."),
            Self::EmptyPattern => f.write_str("The pattern is empty."),
            Self::TooLong(n) => write!(
                f,
                "The pattern is too long ({n} characters; at most {MAX_PATTERN})."
            ),
            Self::TooComplex => {
                f.write_str("The pattern is too complex (it compiles too big); simplify it.")
            }
            Self::Invalid(e) => write!(f, "The pattern is not a valid regular expression: {e}"),
        }
    }
}

impl NewRule {
    pub fn parse(class: &str, pattern: &str) -> Result<Self, RuleError> {
        let class = class.trim();
        let valid = (1..=64).contains(&class.len())
            && class
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(RuleError::BadClass);
        }
        if class == OTHER {
            return Err(RuleError::OtherClass);
        }
        if pattern.trim().is_empty() {
            return Err(RuleError::EmptyPattern);
        }
        if pattern.len() > MAX_PATTERN {
            return Err(RuleError::TooLong(pattern.chars().count()));
        }
        let pattern = regex::RegexBuilder::new(pattern)
            .size_limit(RULE_SIZE_LIMIT)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => RuleError::TooComplex,
                e => RuleError::Invalid(e.to_string()),
            })?;
        Ok(Self {
            class: class.to_string(),
            pattern,
        })
    }
}

/// Whether a delivery's `relay=` is a content filter (its `status=sent` is a
/// hand-off, not a delivery): anything on loopback, or a relay named in
/// `filter_relays` (lower case; `mailflow.filter_relays` in the config). The
/// counter, the Report page and the charts all decide with this one rule.
/// Relays look like `127.0.0.1[127.0.0.1]:10024`, `amavis[127.0.0.1]:10024`,
/// `clamav`, `local`…
pub fn is_filter_relay(filter_relays: &[String], relay: &str) -> bool {
    let (name, in_brackets) = match split_at_byte(relay, b'[') {
        Some((name, rest)) => (name, split_at_byte(rest, b']').map(|(ip, _)| ip)),
        None => (relay, None),
    };
    let loopback = [Some(name), in_brackets]
        .into_iter()
        .flatten()
        .any(is_loopback);
    loopback || filter_relays.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// The daemons whose `status=sent` is a delivery (or a filter hand-off).
pub(super) fn is_sending_daemon(daemon: Option<&str>) -> bool {
    matches!(daemon, Some("smtp" | "lmtp" | "local" | "virtual" | "pipe"))
}

/// Whether a `reject:`/`milter-reject:`/`discard:` line counts as a
/// rejected message: smtpd's (but not its `discard:`) and cleanup's.
/// Postscreen's are refusals of a connection, not of a message.
pub(super) fn is_counted_reject(daemon: Option<&str>, discard: bool) -> bool {
    match daemon {
        Some("smtpd") => !discard,
        Some("cleanup") => true,
        _ => false,
    }
}

/// Whether a milter's reject reply is about spam (spamd, rspamd).
pub(super) fn contains_spam(reply: &str) -> bool {
    reply
        .as_bytes()
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b"spam"))
}

/// The account named in `Sender address rejected: not owned by user U`.
pub(super) fn not_owned_by(reply: &str) -> Option<&str> {
    const NEEDLE: &str = "not owned by user ";
    let i = find(reply, NEEDLE)?;
    let rest = &reply[i + NEEDLE.len()..];
    let user = &rest[..rest.find([';', ' ', ',']).unwrap_or(rest.len())];
    (!user.is_empty()).then_some(user)
}

/// A loopback address written as text. Only text that can be one is
/// parsed: IPv4 loopback starts with `127.`, IPv6 has colons.
pub(crate) fn is_loopback(s: &str) -> bool {
    (s.starts_with("127.") || memchr::memchr(b':', s.as_bytes()).is_some())
        && s.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_rules_are_ordered_and_editable() {
        let rules =
            RejectRules::new(&[("greylist", r"(?i)greylisted"), ("relay", r"Relay access")])
                .unwrap();
        assert_eq!(
            rules.classify("450 4.2.0 <a@b>: Recipient address rejected: Greylisted"),
            "greylist"
        );
        assert_eq!(rules.classify("554 5.7.1 Relay access denied"), "relay");
        assert_eq!(rules.classify("anything else"), OTHER);
        assert!(RejectRules::new(&[("bad", "(")]).is_err());
    }

    #[test]
    fn a_new_rule_needs_a_valid_class_and_a_bounded_pattern() {
        let ok = NewRule::parse(" mailbox_full ", r"(?i)mailbox full").unwrap();
        assert_eq!(ok.class, "mailbox_full");
        assert!(ok.pattern.is_match("452 Mailbox FULL"));
        for class in ["", "Mailbox", "a-b", &"x".repeat(65), "é"] {
            let e = NewRule::parse(class, "x").unwrap_err();
            assert_eq!(e, RuleError::BadClass, "{class}");
        }
        assert_eq!(
            NewRule::parse("other", "x").unwrap_err(),
            RuleError::OtherClass
        );
        let e = NewRule::parse("x", "(").unwrap_err();
        assert!(matches!(e, RuleError::Invalid(_)), "{e:?}");
        assert!(e.to_string().contains("not a valid"));
        assert_eq!(
            NewRule::parse("x", " ").unwrap_err(),
            RuleError::EmptyPattern
        );
        let huge = "a".repeat(2 * 1024 * 1024);
        assert_eq!(
            NewRule::parse("x", &huge).unwrap_err(),
            RuleError::TooLong(huge.len())
        );
        assert_eq!(
            NewRule::parse("x", r"\w{1000}{1000}").unwrap_err(),
            RuleError::TooComplex
        );
    }

    #[test]
    fn filter_relays_are_loopback_or_named_in_the_list() {
        let relays = ["mailscanner".to_string()];
        assert!(is_filter_relay(&relays, "MailScanner[10.0.0.5]:10025"));
        assert!(is_filter_relay(&relays, "127.0.0.1[127.0.0.1]:10024"));
        assert!(is_filter_relay(&relays, "filter[::1]:10024"));
        assert!(!is_filter_relay(&relays, "amavis[10.1.1.1]:10024"));
        assert!(!is_filter_relay(&relays, "mx.x.com[198.51.100.1]:25"));
        assert!(!is_filter_relay(&[], "clamav"));
    }
}
