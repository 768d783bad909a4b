//! Server functions: the portal's whole browser-facing API.
//!
//! Each function names who may call it on its first line, through
//! `crate::server::auth::{require, require_signed_in}` (or says it is public),
//! and `server/tests/api/role_matrix.rs` holds the expected matrix for every
//! registered function.

pub mod audit;
pub mod defence;
pub mod mailflow;
pub mod mailgraph;
pub mod provision;
pub mod session;
pub mod staff;
pub mod trace;
