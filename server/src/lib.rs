//! The `carteiro` binary's library: configuration, database start-up, the
//! web server, the background work and the command line.
//!
//! `main.rs` only parses the command line ([`cli::args`]) and calls into
//! [`cli`]. [`start::start`] starts the whole portal (database, ingest
//! workers, purge, policy daemon, HTTP server) for `carteiro serve`,
//! `carteiro soak` and the integration tests alike; [`web`] and [`rest`]
//! are its routes. [`ingest`] tails and stores the Postfix logs with the
//! `mailflow` crate's parser and counter, [`log_import`] is `carteiro
//! import`, [`defence`] the block snapshot, the Postfix policy daemon and
//! the detection policies, [`mailgraph`] the CSV downloads and `/metrics`.
//! [`tools`] holds what only runs when asked for: benchmarks, load
//! generators, the soak mix and the demo data.

pub mod cli;
pub mod config;
pub mod db;
pub mod defence;
pub mod health;
pub mod ingest;
pub mod log_import;
pub mod mailgraph;
pub mod rest;
pub mod singleton;
pub mod start;
pub mod tools;
pub mod web;
