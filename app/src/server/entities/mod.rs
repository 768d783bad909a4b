//! sea-orm entities for the tables in `migrations/`. Server only.

pub mod api_token;
pub mod audit_log;
pub mod defence_alert;
pub mod defence_allow;
pub mod defence_block;
pub mod defence_never_block;
pub mod defence_policy;
pub mod defence_proposal;
pub mod defence_proposal_detail;
pub mod import_job;
pub mod ingest_checkpoint;
pub mod login_throttle;
pub mod mail_alias;
pub mod mail_domain;
pub mod mailbox;
pub mod mailbox_word;
pub mod staff_user;
pub mod web_session;
