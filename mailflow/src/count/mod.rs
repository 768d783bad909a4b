//! The counting rules: what each event adds to the mail-flow series.
//!
//! - **received**: smtpd `QID: client=` lines, except unauthenticated clients
//!   on loopback or in the internal list (content-filter re-injections); a
//!   client that authenticated (`sasl_username=`) is a real submission
//!   wherever it connects from (webmail on 127.0.0.1); pickup never counts.
//! - **sent**: `status=sent` deliveries from smtp/lmtp/local/virtual/pipe,
//!   except hand-offs to a content filter (relay on loopback, or a relay name
//!   in the filter list). One per recipient line.
//! - **bounced** / **deferred**: `status=bounced` / `status=deferred` deliveries.
//! - **rejected**: smtpd `reject:`/`milter-reject:` lines (NOQUEUE or queue
//!   id) and cleanup `reject:`/`milter-reject:`/`discard:` lines. Postscreen
//!   refusals and smtpd `discard:` are not rejects of a message.
//! - **spam** / **virus**: amavis `Passed|Blocked SPAM`, `INFECTED`/`BANNED`,
//!   milter-rejects whose reply mentions spam (spamd, rspamd), the ISP's
//!   `crm=SPAM` filter line.
//! - **reject classes**: each reject's reply text goes through ordered
//!   [`RejectRules`] (first match wins, `other` when none); anvil/smtpd
//!   "rate limit exceeded" warnings also count in `rate` although they are
//!   not reject lines. A reject of class `other` is also tallied by its
//!   normalised text ([`unclassified`]) for the "Unclassified rejects" page.
//!   `server` (the server's own temporary trouble) counts as a reject and
//!   a class, but no abuse policy counts it.
//! - **SASL failures**: `SASL … authentication failed` warnings, counted
//!   apart from rejects.
//!
//! **Per domain** (only the ISP's own, [`HostedDomains`]; needs message
//! traces, so not in a dry run): outbound series by the sender's domain,
//! inbound ones by the recipient's.
//! - **sent**, **bounced**, **deferred**: each delivery line, under the
//!   domain of the message's sender (what a customer domain sends out).
//! - **received**: each recipient of a message received from outside,
//!   once, at its first delivery line (Postfix names recipients only
//!   there), under the recipient's domain (what a customer domain gets).
//! - **rejected** and its class: under the recipient's domain, or when that
//!   is not hosted, the sender's (a customer's refused submission).
//! - **SASL failures**: under the domain of the login, when it is an address.
//!
//! Spam and virus verdicts name neither address on the lines this engine
//! reads, so they are counted per host only.
//!
//! The pieces: [`rules`] decides what a line's text means for the counts
//! (the reject classes, [`is_filter_relay`], the delivering daemons);
//! [`counter`] holds the [`Counter`], which reads each line once (syslog
//! header, event, correlation) and hands its event to one function per
//! kind; [`batch`] is the series bookkeeping those functions add to (per
//! host, hosted domain and subject), taken as a [`Batch`] for storage.
//! Series are numbered by [`Series`](crate::series::Series), reject classes
//! after them.

pub mod batch;
pub mod counter;
pub mod rules;
#[cfg(test)]
mod tests;
pub mod unclassified;

pub use batch::{Batch, HostedDomains, SubjectCounts};
pub use counter::{Counter, MAX_LINE, Settings, Totals, parse_bytes, parse_text};
pub use rules::{
    DEFAULT_RULES, MAX_PATTERN, NewRule, OTHER, RejectRule, RejectRules, RuleError, SERVER,
    is_filter_relay,
};
pub use unclassified::Unclassified;
