//! One module per page.

pub mod account;
pub mod admin;
pub mod admin_audit;
pub mod admin_ingest;
pub mod admin_staff;
pub mod home;
pub mod login;
pub mod mailflow;
pub mod mailflow_detection;
pub mod not_found;
pub mod section_intro;
