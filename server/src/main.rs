//! `carteiro`: see `carteiro --help`.

use clap::Parser;

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
