//! Abuse detection: the security team's policies applied to the stream of
//! MailFlow events, in log time, proposing blocks.
//!
//! A policy counts one thing per subject (a client IP or a SASL account)
//! over a sliding window, and fires when the count reaches its threshold
//! and, with a burst factor, is also that many times the subject's own
//! usual count (the average of the six windows before; with less history
//! than one window, no burst is judged). A subject that
//! fires gets one [`Proposal`] with its evidence; later events keep it up
//! to date. Subjects on the allowlist are never proposed. State is kept
//! only for subjects seen within the longest window of their kind (seven
//! windows for a burst policy), so memory stays bounded on endless input.
//!
//! The pieces: [`policies`] is what the team configures ([`Policy`],
//! [`Metric`], [`Allowlist`]); `windows` the sliding counts a subject's
//! state keeps per policy; [`proposals`] what fires ([`Proposal`]) and its
//! evidence; [`detector`] the [`Detector`] that the counter feeds events
//! to, which ties them together; [`alerts`] the whole server's rates far
//! above their usual ([`Alert`]), raised rather than proposed.

pub mod alerts;
pub mod detector;
pub mod policies;
pub mod proposals;
#[cfg(test)]
mod tests;
pub mod whatif;
mod windows;

pub use crate::subject::SubjectKind;
pub use crate::time::UnixTime;
pub use alerts::{Alert, AlertRules};
pub use detector::{Detector, NETWORK_MIN_IPS};
pub use policies::{Allowlist, Metric, NETWORK_PREFIX_V4, NETWORK_PREFIX_V6, Policy, network_of};
pub use proposals::{MAX_SAMPLES, Proposal};
