//! Server-side services behind the server functions and the command line:
//! authentication and authorization, staff accounts, the audit log, login
//! throttling, the session store, and MailFlow defence (proposals and
//! blocks). Compiled only with the `ssr` feature.

pub mod alerts;
pub mod audit;
pub mod auth;
pub mod defence;
pub mod detection;
pub mod entities;
pub mod flash;
pub mod ingest_status;
pub mod locale;
pub mod mailgraph;
pub mod partitions;
pub mod passwords;
pub mod provision;
pub mod refused;
pub mod report;
pub mod retention;
pub mod retry;
pub mod sessions;
pub mod staff;
pub mod tables;
pub mod throttle;
pub mod trace;
pub mod unclassified;
pub mod whatif;
