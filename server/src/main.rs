//! `carteiro`: see `carteiro --help`.

use clap::Parser;

/// The log parser and the batch writer run on two threads and hand each
/// other many small allocations; glibc's allocator spends more time on its
/// arena locks than on the work, mimalloc does not.
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
