//! `squared-server`: run the AI Squared API server, or sign a token for it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use dropshot::{ConfigLogging, ConfigLoggingLevel};
use squared_server::ServerConfig;
use squared_server::auth::{Role, TokenIssuer, parse_ttl};

#[derive(Parser)]
#[command(name = "squared-server", version, about = "A server of the AI Squared API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct DataDir {
    /// Where the embedded database and generated secrets live.
    #[arg(long, env = "SQUARED_DATA_DIR", default_value = "squared-data")]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// The address to listen on.
        #[arg(long, env = "SQUARED_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// The database URL (sqlite://PATH). Default: an SQLite file in the data directory.
        #[arg(long, env = "SQUARED_DATABASE_URL")]
        database: Option<String>,
        #[command(flatten)]
        data_dir: DataDir,
    },
    /// Print a bearer token signed with the server's secret.
    Token {
        /// The workspace the token grants.
        #[arg(long)]
        workspace: i64,
        /// What the caller may do there.
        #[arg(long, value_enum, default_value = "member")]
        role: Role,
        /// How long the token is valid: 90s, 15m, 12h, 30d.
        #[arg(long, default_value = "12h", value_parser = parse_ttl)]
        ttl: chrono::Duration,
        /// Who the token is for.
        #[arg(long, default_value = "squared-cli")]
        subject: String,
        #[command(flatten)]
        data_dir: DataDir,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Serve { bind, database, data_dir } => {
            serve(ServerConfig { bind, database, data_dir: data_dir.data_dir }).await
        }
        Command::Token { workspace, role, ttl, subject, data_dir } => {
            let config = ServerConfig { bind: ([127, 0, 0, 1], 0).into(), database: None, data_dir: data_dir.data_dir };
            let secrets = config.load_secrets()?;
            println!("{}", TokenIssuer::new(&secrets.jwt_secret).issue_for(&subject, workspace, role, ttl));
            Ok(())
        }
    }
}

async fn serve(config: ServerConfig) -> Result<()> {
    let log = ConfigLogging::StderrTerminal { level: ConfigLoggingLevel::Info }
        .to_logger("squared-server")
        .context("setting up logging")?;
    let secrets = config.load_secrets()?;
    let server = squared_server::start(&config, &secrets, log).await?;
    let addr = server.local_addr();
    let data_dir = config.data_dir.display();
    println!("squared-server listening on http://{addr}");
    println!("try it:");
    println!(
        "  curl -s -H \"Authorization: Bearer $(squared-server token --workspace 1 --data-dir {data_dir})\" \\\n       -H 'Workspace-Id: 1' 'http://{addr}/api/v1/connector_definitions?type=source'"
    );

    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    };
    tokio::select! {
        result = server.wait() => return result,
        _ = shutdown => {}
    }
    eprintln!("squared-server: shutting down");
    server.close().await
}
