//! sea-orm entities for the tables in `migrations/`. Server only.

pub mod audit_log;
pub mod defence_allow;
pub mod defence_block;
pub mod defence_policy;
pub mod defence_proposal;
pub mod ingest_checkpoint;
pub mod login_throttle;
pub mod staff_user;
pub mod web_session;
