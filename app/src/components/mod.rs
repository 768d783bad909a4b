//! Pieces shared by several pages.

pub mod chart;
pub mod guard;
pub mod layout;
pub mod notice;
pub mod page;
pub mod range;
pub mod refresh;
pub mod refused_chart;
pub mod request_form;
pub mod session;
pub mod subnav;
