//! `squared-server`: run the AI Squared API server or a sync worker, sign a token for it, or
//! rotate its encryption key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use ipnet::IpNet;
use squared_server::ServerConfig;
use squared_server::auth::{Role, TokenIssuer, TokenRules, parse_ttl};
use squared_server::config::{EngineSettings, MissingSecrets, SecretOrigin};
use squared_server::egress::EgressPolicy;
use squared_server::runtime::RuntimeLimits;

#[derive(Parser)]
#[command(name = "squared-server", version, about = "A server of the AI Squared API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the server keeps its data and secrets.
#[derive(clap::Args)]
#[command(next_help_heading = "Storage")]
struct Storage {
    /// Where the embedded database and generated secrets live (made private, 0700).
    #[arg(long, env = "SQUARED_DATA_DIR", default_value = "squared-data")]
    data_dir: PathBuf,
    /// The file that holds the key sealing connector secrets (created if missing). Keep it
    /// outside the data directory, so that a backup of the data does not carry its key.
    /// Default: encryption-key in the data directory, unless SQUARED_ENCRYPTION_KEY (below)
    /// holds the key.
    #[arg(long, env = "SQUARED_ENCRYPTION_KEY_FILE")]
    encryption_key_file: Option<PathBuf>,
    /// The file that holds the secret signing bearer tokens (created if missing). Default:
    /// jwt-secret in the data directory, unless SQUARED_JWT_SECRET (below) holds the secret.
    #[arg(long, env = "SQUARED_JWT_SECRET_FILE")]
    jwt_secret_file: Option<PathBuf>,
    /// The database URL (sqlite://PATH or postgres://…). Default: an SQLite file in the data
    /// directory.
    #[arg(long, env = "SQUARED_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
}

/// What bearer tokens must be.
#[derive(clap::Args)]
#[command(next_help_heading = "Tokens")]
struct Tokens {
    /// When set, tokens must carry this `aud`, and `token` signs it.
    #[arg(long, env = "SQUARED_TOKEN_AUDIENCE")]
    token_audience: Option<String>,
    /// When set, tokens must carry this `iss`, and `token` signs it.
    #[arg(long, env = "SQUARED_TOKEN_ISSUER")]
    token_issuer: Option<String>,
    /// The longest a token may live (90s, 15m, 12h, 30d); longer ones are refused.
    #[arg(long, env = "SQUARED_MAX_TOKEN_LIFETIME", default_value = "30d", value_parser = parse_ttl)]
    max_token_lifetime: chrono::Duration,
}

impl Tokens {
    fn rules(&self) -> TokenRules {
        TokenRules {
            audience: self.token_audience.clone(),
            issuer: self.token_issuer.clone(),
            max_lifetime: self.max_token_lifetime,
        }
    }
}

/// What connectors may reach, and how much of the server they may use.
#[derive(clap::Args)]
#[command(next_help_heading = "Connectors")]
struct Connectors {
    /// A network connectors may reach besides public addresses (repeatable), in CIDR
    /// notation: loopback, link-local, private and other non-public addresses are refused
    /// unless allowed here. For a database on this machine: --allow-network 127.0.0.1/32.
    #[arg(long = "allow-network", env = "SQUARED_ALLOW_NETWORKS", value_delimiter = ',', value_parser = parse_network)]
    allow_network: Vec<IpNet>,
    /// How many connector calls (checks, discovers, queries) may run at once; more wait
    /// briefly, then are refused with 503.
    #[arg(long, env = "SQUARED_MAX_CONNECTOR_CALLS", default_value_t = RuntimeLimits::default().max_concurrent_calls)]
    max_connector_calls: usize,
    /// The most bytes of rows one query_source returns; more is refused with 422.
    #[arg(long, env = "SQUARED_MAX_QUERY_BYTES", default_value_t = RuntimeLimits::default().max_query_bytes)]
    max_query_bytes: usize,
    /// How long one connector call may take, connecting included.
    #[arg(long, env = "SQUARED_CONNECTOR_CALL_DEADLINE", default_value = "30s", value_parser = parse_ttl)]
    connector_call_deadline: chrono::Duration,
}

/// How sync runs are executed.
#[derive(clap::Args)]
#[command(next_help_heading = "Runs")]
struct Runs {
    /// How many of a sync's latest runs keep their records (the rows they wrote, failed or
    /// found gone); older runs keep only their counts.
    #[arg(long, env = "SQUARED_RECORD_RUNS_KEPT", default_value_t = EngineSettings::default().record_runs_kept,
          value_parser = clap::value_parser!(u32).range(1..))]
    record_runs_kept: u32,
    /// How long a run stays with the process executing it without word from it (its heartbeat
    /// renews it every third of this, also while a batch is in flight); after that, another
    /// process takes it over from its last committed batch, and the first writes nothing more.
    #[arg(long, env = "SQUARED_RUN_LEASE", default_value = "2m", value_parser = parse_ttl)]
    run_lease: chrono::Duration,
    /// How often this process looks for overdue schedules, runs longer than an alert rule
    /// allows, and alerts raised by other processes (an alert raised here is sent at once).
    #[arg(long, env = "SQUARED_ALERT_CHECK_INTERVAL", default_value = "10s", value_parser = parse_ttl)]
    alert_check_interval: chrono::Duration,
}

impl Runs {
    fn settings(&self) -> EngineSettings {
        EngineSettings { record_runs_kept: self.record_runs_kept, lease: self.run_lease, ..EngineSettings::default() }
    }
}

/// What the process logs (to standard error).
#[derive(clap::Args)]
#[command(next_help_heading = "Logging")]
struct Logging {
    /// The least severe messages logged: at `info`, a line per request; at `warn`, only
    /// what needs attention (server failures keep their cause at `error`).
    #[arg(long, env = "SQUARED_LOG_LEVEL", value_enum, default_value = "info")]
    log_level: LogLevel,
    /// How each message is written: `text`, one line for people; `json`, one JSON object per
    /// line (bunyan's fields: `time`, `level`, `msg`, and every key of the message), for a log
    /// collector.
    #[arg(long, env = "SQUARED_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Logging {
    /// A logger that formats on a thread of its own and writes each message to standard error
    /// in one write. dropshot's `StderrTerminal` writes every fragment of a message with a
    /// write of its own (a third of the CPU of a `show` in the profile), and filters by level
    /// only after handing every message to that thread.
    fn logger(&self) -> slog::Logger {
        use slog::Drain;
        let level = match self.log_level {
            LogLevel::Trace => slog::Level::Trace,
            LogLevel::Debug => slog::Level::Debug,
            LogLevel::Info => slog::Level::Info,
            LogLevel::Warn => slog::Level::Warning,
            LogLevel::Error => slog::Level::Error,
        };
        let background = match self.log_format {
            LogFormat::Text => {
                // FullFormat flushes after each message: the buffer holds one message at a time.
                let decorator = slog_term::PlainDecorator::new(std::io::BufWriter::new(std::io::stderr()));
                let format = slog_term::FullFormat::new(decorator).build().fuse();
                slog_async::Async::new(format).chan_size(4096).build().fuse()
            }
            LogFormat::Json => {
                let format = slog_bunyan::with_name("squared-server", std::io::stderr()).build().fuse();
                slog_async::Async::new(format).chan_size(4096).build().fuse()
            }
        };
        slog::Logger::root(slog::LevelFilter::new(background, level).fuse(), slog::o!())
    }
}

/// The variables that hold secrets themselves: they have no flag, so that a secret is never
/// on a command line (where `ps` shows it).
const SECRET_VARIABLES: &str = "\
Secrets (environment only, never a flag):
  SQUARED_JWT_SECRET
          The secret signing bearer tokens (at least 32 bytes), instead of --jwt-secret-file
  SQUARED_ENCRYPTION_KEY
          The key sealing connector secrets (32 bytes, hex or base64), instead of
          --encryption-key-file

Durations take their unit: 90s, 15m, 12h, 30d, 1h 30m.";

#[derive(Subcommand)]
enum Command {
    /// Serve the API (and, unless --no-sync-runner, execute sync runs).
    #[command(after_long_help = SECRET_VARIABLES)]
    Serve {
        /// The address to listen on.
        #[arg(long, env = "SQUARED_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Serve the API only; `squared-server worker` processes execute the runs. As a
        /// variable: 1, true, yes or on; 0, false, no or off.
        #[arg(long, env = "SQUARED_NO_SYNC_RUNNER", value_parser = clap::builder::BoolishValueParser::new())]
        no_sync_runner: bool,
        #[command(flatten)]
        connectors: Connectors,
        #[command(flatten)]
        runs: Runs,
        #[command(flatten)]
        storage: Storage,
        #[command(flatten)]
        tokens: Tokens,
        #[command(flatten)]
        logging: Logging,
    },
    /// Execute sync runs (scheduled and started through the API) without serving the API.
    /// Several workers and servers may share one PostgreSQL database: each run executes on
    /// one of them, and a run whose process died is taken over when its lease expires.
    #[command(after_long_help = SECRET_VARIABLES)]
    Worker {
        #[command(flatten)]
        connectors: Connectors,
        #[command(flatten)]
        runs: Runs,
        #[command(flatten)]
        storage: Storage,
        #[command(flatten)]
        logging: Logging,
    },
    /// Print a bearer token signed with the server's secret.
    #[command(after_long_help = SECRET_VARIABLES)]
    Token {
        /// The workspace the token grants.
        #[arg(long)]
        workspace: i64,
        /// What the caller may do there.
        #[arg(long, value_enum, default_value = "member")]
        role: Role,
        /// How long the token is valid: 90s, 15m, 12h, 30d (at most --max-token-lifetime).
        #[arg(long, default_value = "12h", value_parser = parse_ttl)]
        ttl: chrono::Duration,
        /// Who the token is for.
        #[arg(long, default_value = "squared-cli")]
        subject: String,
        #[command(flatten)]
        storage: Storage,
        #[command(flatten)]
        tokens: Tokens,
    },
    /// Seal every stored secret with a new encryption key, then replace the key file with it.
    /// Stop the servers that use the database first.
    #[command(after_long_help = SECRET_VARIABLES)]
    RotateKey {
        #[command(flatten)]
        storage: Storage,
    },
}

fn parse_network(text: &str) -> Result<IpNet, String> {
    EgressPolicy::parse_network(text).map_err(|e| e.to_string())
}

/// What serving and working share: storage, where and how much connectors may reach, and how
/// runs are executed.
fn engine_config(connectors: &Connectors, runs: &Runs, storage: Storage) -> Result<ServerConfig> {
    Ok(ServerConfig {
        egress: EgressPolicy::allowing(connectors.allow_network.clone()),
        runtime_limits: connectors.limits()?,
        engine: runs.settings(),
        alert_check_every: runs.alert_check_interval.to_std().context("the alert check interval")?,
        ..storage.config()
    })
}

impl Connectors {
    fn limits(&self) -> Result<RuntimeLimits> {
        Ok(RuntimeLimits {
            max_concurrent_calls: self.max_connector_calls.max(1),
            max_query_bytes: self.max_query_bytes,
            call_deadline: self.connector_call_deadline.to_std().context("the connector call deadline")?,
            queue_wait: Duration::from_secs(5),
        })
    }
}

impl Storage {
    fn config(self) -> ServerConfig {
        ServerConfig {
            database: self.database,
            data_dir: self.data_dir,
            encryption_key_file: self.encryption_key_file,
            jwt_secret_file: self.jwt_secret_file,
            ..ServerConfig::default()
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Serve { bind, no_sync_runner, connectors, runs, storage, tokens, logging } => {
            let config = ServerConfig {
                bind,
                token_rules: tokens.rules(),
                run_syncs: !no_sync_runner,
                ..engine_config(&connectors, &runs, storage)?
            };
            serve(config, logging.logger()).await
        }
        Command::Worker { connectors, runs, storage, logging } => {
            work(engine_config(&connectors, &runs, storage)?, logging.logger()).await
        }
        Command::Token { workspace, role, ttl, subject, storage, tokens } => {
            let rules = tokens.rules();
            if ttl > rules.max_lifetime {
                anyhow::bail!("--ttl is longer than --max-token-lifetime; the server would refuse such a token");
            }
            let secret = storage.config().jwt_secret(MissingSecrets::Refuse)?;
            println!("{}", TokenIssuer::new(&secret, &rules).issue_for(&subject, workspace, role, ttl));
            Ok(())
        }
        Command::RotateKey { storage } => {
            let rotation = squared_server::keys::rotate(&storage.config()).await?;
            println!(
                "re-sealed {} stored secrets with key {}; {} now holds it, and key {} is gone",
                rotation.values,
                rotation.new_key_id,
                rotation.key_file.display(),
                rotation.old_key_id
            );
            Ok(())
        }
    }
}

async fn serve(config: ServerConfig, log: slog::Logger) -> Result<()> {
    let _lock = config.lock_data_dir()?;
    // Which secret files are missing now: `serve` creates them, and says so.
    let origins = config.secret_origins()?;
    let missing: Vec<bool> =
        origins.iter().map(|(_, origin)| matches!(origin, SecretOrigin::File(path) if !path.exists())).collect();
    let secrets = config.load_secrets(MissingSecrets::Create)?;
    let networks: Vec<String> = config.egress.allowed().iter().map(ToString::to_string).collect();
    let server = squared_server::start(&config, &secrets, log).await?;
    let addr = server.local_addr();
    let data_dir = config.data_dir.display();
    // The first line is what scripts and tests read: keep it first and the same.
    println!("squared-server listening on http://{addr}");
    println!("database: {}", squared_server::config::redact_url(&config.database_url()?));
    println!("data directory: {data_dir}");
    for ((what, origin), created) in origins.iter().zip(missing) {
        match origin {
            SecretOrigin::Environment(variable) => println!("{what}: from {variable}"),
            SecretOrigin::File(path) if created => {
                println!(
                    "{what}: {} (created now; keep it: the server needs the same one on every start)",
                    path.display()
                )
            }
            SecretOrigin::File(path) => println!("{what}: {}", path.display()),
        }
    }
    match networks.is_empty() {
        true => println!("connectors may reach public addresses only (allow more with --allow-network CIDR)"),
        false => println!("connectors may reach public addresses and {}", networks.join(", ")),
    }
    match config.run_syncs {
        true => println!("sync runs: executed here (and by any worker on the same database)"),
        false => println!(
            "sync runs: not executed here (--no-sync-runner); start `squared-server worker` on the same database"
        ),
    }
    // The binary as it was started: `cargo run` puts none on PATH.
    let binary =
        std::env::current_exe().map(|path| path.display().to_string()).unwrap_or_else(|_| "squared-server".into());
    println!("try it:");
    println!(
        "  curl -s -H \"Authorization: Bearer $({binary} token --workspace 1 --data-dir {data_dir})\" \\\n       -H 'Workspace-Id: 1' 'http://{addr}/api/v1/connector_definitions?type=source'"
    );

    tokio::select! {
        result = server.wait() => return result,
        _ = shutdown() => {}
    }
    eprintln!("squared-server: shutting down");
    server.close().await
}

async fn work(config: ServerConfig, log: slog::Logger) -> Result<()> {
    let _lock = config.lock_data_dir()?;
    let secrets = config.load_secrets(MissingSecrets::Refuse)?;
    let worker = squared_server::start_worker(&config, &secrets, log).await?;
    println!("squared-server worker executing sync runs");
    shutdown().await;
    eprintln!("squared-server: shutting down");
    worker.close().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
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
}
