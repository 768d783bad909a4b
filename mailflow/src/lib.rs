//! MailFlow's log domain: everything Carteiro knows about Postfix logs,
//! with no database, web server or async runtime (Cargo enforces it: this
//! crate depends on none of them), so it is fuzzed, benchmarked and tested
//! alone, in seconds.
//!
//! The engine (feature `engine`, on by default) reads a line in stages:
//! [`syslog`] splits the header (time, host, program, pid) from the message
//! without allocating; [`event`] turns the message into a typed event;
//! [`correlate`] gathers the lines of each message and session; [`count`]
//! applies the counting rules and reject classes and gathers per-minute and
//! per-subject counters; [`detect`] runs the security team's policies over
//! the same stream and proposes blocks; [`coverage`] notes how much of the
//! log was understood and warns when almost nothing was. [`generate`] writes realistic
//! seeded logs for tests, benchmarks and demos.
//!
//! The vocabulary is built with or without the engine (the browser build
//! of the portal uses it): [`series`] names what is counted and how people
//! read it, [`subject`] what a block or a policy is about, [`time`] the
//! units of log time.

pub mod series;
pub mod subject;
pub mod time;

#[cfg(feature = "engine")]
pub mod correlate;
#[cfg(feature = "engine")]
pub mod count;
#[cfg(feature = "engine")]
pub mod coverage;
#[cfg(feature = "engine")]
pub mod detect;
#[cfg(feature = "engine")]
pub mod event;
#[cfg(all(test, feature = "engine"))]
mod fuzz;
#[cfg(feature = "engine")]
pub mod generate;
#[cfg(feature = "engine")]
pub mod syslog;

pub use series::Series;
pub use subject::SubjectKind;
pub use time::UnixTime;
