//! What `carteiro` runs besides the portal: benchmarks, load generators and
//! demo data. None of it runs in production unless asked for on the command
//! line (`carteiro serve --demo` seeds [`demo`]).
//!
//! [`mailgraph_bench`] and [`provision_bench`] fill a scratch database and
//! time the charts and the mailbox lookups; [`policyd_bench`] loads the
//! Postfix policy daemon; [`generate_log`] writes a realistic Postfix log
//! for tests and benchmarks; [`soak`] is the concurrency load mix of
//! `carteiro soak` and the concurrency test suite; [`demo`] seeds a new
//! database with a demo domain and a generated log.

pub mod demo;
pub mod generate_log;
pub mod mailgraph_bench;
pub mod month_bench;
pub mod policyd_bench;
pub mod provision_bench;
pub mod soak;
