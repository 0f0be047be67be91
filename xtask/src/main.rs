//! `cargo xtask`: the workspace's commands. See `cargo xtask --help`.

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Workspace tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the types, server trait and client from spec/openapi.yaml.
    Codegen {
        /// Write nothing; fail with a diff if any generated file is stale.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Codegen { check } => xtask::codegen::run(&xtask::codegen::workspace_root(), check),
    }
}
