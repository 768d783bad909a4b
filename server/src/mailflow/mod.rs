//! MailFlow: reading Postfix logs.
//!
//! This module tree imports neither the database nor the web stack, so the
//! parser can be fuzzed and benchmarked alone. [`syslog`] splits a raw line
//! into its header (time, host, program, pid) and message without
//! allocating; [`event`] turns the message into a typed event.

pub mod count;
pub mod event;
pub mod syslog;
