//! Pieces shared by several pages.

pub mod guard;
pub mod layout;
pub mod notice;
pub mod refresh;
pub mod session;
