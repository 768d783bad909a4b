//! MailFlow: reading Postfix logs.
//!
//! This module tree imports neither the database nor the web stack, so the
//! parser can be fuzzed and benchmarked alone. [`syslog`] splits a raw line
//! into its header (time, host, program, pid) and message without
//! allocating; [`event`] turns the message into a typed event; [`count`]
//! applies the counting rules and gathers per-minute and per-subject
//! counters; [`trace`] correlates the lines of each message and session.

pub mod count;
pub mod event;
pub mod generate;
pub mod syslog;
pub mod trace;
