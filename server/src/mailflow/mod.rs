//! MailFlow: reading Postfix logs.
//!
//! This module tree imports neither the database nor the web stack, so the
//! parser can be fuzzed and benchmarked alone. [`syslog`] splits a raw line
//! into its header (time, host, program, pid) and message without
//! allocating; [`event`] turns the message into a typed event; [`count`]
//! applies the counting rules and gathers per-minute and per-subject
//! counters; [`trace`] correlates the lines of each message and session.
//! [`generate`] writes realistic seeded logs for tests, benchmarks and
//! demos; the property tests in `fuzz.rs` feed the engine damaged input.

pub mod count;
pub mod event;
#[cfg(test)]
mod fuzz;
pub mod generate;
pub mod syslog;
pub mod trace;
