//! One module per page.

pub mod account;
pub mod admin;
pub mod admin_audit;
pub mod admin_ingest;
pub mod admin_staff;
pub mod admin_tokens;
pub mod alerts;
pub mod aliases;
pub mod charts;
pub mod defence;
pub mod detection;
pub mod domains;
pub mod home;
pub mod login;
pub mod mailbox;
pub mod mailbox_import;
pub mod mailboxes;
pub mod never_block;
pub mod not_found;
pub mod report;
pub mod trace;
pub mod unclassified;
pub mod whatif;
