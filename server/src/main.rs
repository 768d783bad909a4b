//! `carteiro`: see `carteiro --help`.

use clap::Parser;

/// The log parser and the batch writer run on two threads and hand each
/// other many small allocations; glibc's allocator spends more time on its
/// arena locks than on the work, mimalloc does not. The `override` feature
/// also gives mimalloc SQLite's own `malloc` calls: that alone took a
/// 20-million-line import from 88 s to 51 s.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match server::cli::Cli::parse().run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("carteiro: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
