//! Server-side services behind the server functions and the command line:
//! authentication and authorization, staff accounts, the audit log, login
//! throttling and the session store. Compiled only with the `ssr` feature.

pub mod audit;
pub mod auth;
pub mod entities;
pub mod mailflow;
pub mod passwords;
pub mod sessions;
pub mod staff;
pub mod throttle;
