//! squared-server: a real server of the AI Squared API.
//!
//! It implements the generated dropshot trait (`squared_api::SquaredApi`) and nothing else
//! reaches the network. The pieces, each in its own module:
//! - [`config`]: where the server listens, which database it uses, and its secrets;
//! - [`auth`]: HS256 bearer tokens and the caller's workspaces and roles;
//! - [`catalog`]: the connector definitions, shipped as data files, with their JSON Schema
//!   validators compiled once at start-up;
//! - [`egress`]: which network addresses connectors may reach;
//! - [`runtime`]: the code that reaches the systems connectors point at (check, discover,
//!   query), only through [`egress`] and within the server's limits;
//! - [`secrets`]: masking, sealing secrets at rest (AES-256-GCM), and which fields decide
//!   where a secret goes;
//! - [`keys`]: the start-up check of the encryption key, and key rotation;
//! - [`store`]: the database (embedded SQLite or PostgreSQL), migrations applied on start;
//! - [`sync`]: the sync core, the rules of syncs and runs that need no I/O;
//! - [`connectors`]: stored connectors opened (definition, configuration in clear, streams),
//!   for the service and the engine alike;
//! - [`service`]: what each operation does, independent of HTTP;
//! - [`engine`]: executes sync runs (claimed from the database) through the runtimes;
//! - [`alerts`]: raises alerts on runs and schedules and delivers them to their channels;
//! - [`http`]: the trait implementation, translating between HTTP and [`service`];
//! - [`error`]: the domain errors, converted into the API's one error shape in one place;
//! - [`metrics`] and [`operator`]: what operators scrape and probe (`/metrics`, `/health/…`).

pub mod alerts;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod connectors;
pub mod egress;
pub mod engine;
pub mod error;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod operator;
pub mod runtime;
pub mod secrets;
pub mod service;
pub mod store;
pub mod sync;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use dropshot::{ConfigDropshot, HttpServer, ServerBuilder};

pub use config::ServerConfig;

/// Requests bodies larger than this are refused (413) before they are parsed.
pub const MAX_REQUEST_BODY_BYTES: usize = 1024 * 1024;

/// A started server.
pub struct RunningServer {
    server: HttpServer<Arc<service::Service>>,
    runner: Option<engine::RunnerHandle>,
    alerts: alerts::worker::AlertHandle,
}

/// What the API service and the engine share: the store, the connectors, and the signal by
/// which a run created in this process wakes its runner.
struct Shared {
    store: Arc<store::Store>,
    connectors: Arc<connectors::Connectors>,
    runs_waiting: Arc<tokio::sync::Notify>,
    /// Wakes this process's alert worker when an alert is raised here.
    alerts_waiting: Arc<tokio::sync::Notify>,
    service: Arc<service::Service>,
    metrics: Arc<metrics::Metrics>,
    /// Raised while this process's runner works (when it runs one).
    runner_alive: Arc<std::sync::atomic::AtomicBool>,
}

impl Shared {
    fn spawn_runner(&self, config: &ServerConfig, log: &slog::Logger) -> engine::RunnerHandle {
        engine::spawn(engine::RunnerParts {
            store: self.store.clone(),
            connectors: self.connectors.clone(),
            settings: config.engine,
            metrics: self.metrics.clone(),
            wake: self.runs_waiting.clone(),
            alerts_raised: self.alerts_waiting.clone(),
            alive: self.runner_alive.clone(),
            log: log.new(slog::o!("component" => "engine")),
        })
    }

    fn spawn_alerts(&self, config: &ServerConfig, log: &slog::Logger) -> alerts::worker::AlertHandle {
        alerts::worker::spawn(alerts::worker::AlertParts {
            store: self.store.clone(),
            connectors: self.connectors.clone(),
            sender: alerts::send::Sender::new(config.egress.clone()),
            metrics: self.metrics.clone(),
            wake: self.alerts_waiting.clone(),
            check_every: config.alert_check_every,
            log: log.new(slog::o!("component" => "alerts")),
        })
    }
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Stops accepting, lets requests in flight finish, then closes the database.
    pub async fn close(self) -> anyhow::Result<()> {
        let service = self.server.app_private().clone();
        if let Some(runner) = self.runner {
            runner.stop().await;
        }
        self.alerts.stop().await;
        self.server.close().await.map_err(|e| anyhow::anyhow!("stopping the HTTP server: {e}"))?;
        service.close().await;
        Ok(())
    }

    /// Resolves when the server has stopped.
    pub async fn wait(&self) -> anyhow::Result<()> {
        self.server.wait_for_shutdown().await.map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// Opens the database (applying migrations), loads the catalog, and checks the encryption key:
/// everything the API and the engine share.
async fn open_shared(config: &ServerConfig, secrets: &config::Secrets) -> anyhow::Result<Shared> {
    let url = config.database_url()?;
    let store = store::Store::open(&url).await.with_context(|| format!("opening {}", config::redact_url(&url)))?;
    let catalog = catalog::Catalog::load()?;
    let vault = secrets::Vault::new(&secrets.encryption_key)?;
    keys::check_database_key(&store, &vault, config).await?;
    let store = Arc::new(store);
    let verifier = auth::TokenVerifier::new(&secrets.jwt_secret, &config.token_rules);
    let runtimes = runtime::Runtimes::new(config.egress.clone(), config.runtime_limits.clone());
    let connectors = Arc::new(connectors::Connectors::new(store.clone(), catalog, vault, runtimes));
    let runs_waiting = Arc::new(tokio::sync::Notify::new());
    let alerts_waiting = Arc::new(tokio::sync::Notify::new());
    let metrics = Arc::new(metrics::Metrics::new());
    let runner_alive = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let operator =
        service::OperatorState { metrics: metrics.clone(), runner: config.run_syncs.then(|| runner_alive.clone()) };
    let service =
        Arc::new(service::Service::new(store.clone(), connectors.clone(), verifier, runs_waiting.clone(), operator));
    Ok(Shared { store, connectors, runs_waiting, alerts_waiting, service, metrics, runner_alive })
}

/// Opens the service and starts listening, with the engine's runner unless
/// `config.run_syncs` is off. `secrets` come from [`ServerConfig::load_secrets`] (or, in
/// tests, from the test).
pub async fn start(
    config: &ServerConfig,
    secrets: &config::Secrets,
    log: slog::Logger,
) -> anyhow::Result<RunningServer> {
    let shared = open_shared(config, secrets).await?;
    let mut api = http::api_description().map_err(|e| anyhow::anyhow!("building the API description: {e}"))?;
    operator::register(&mut api).map_err(|e| anyhow::anyhow!("adding the operator's endpoints: {e}"))?;
    let dropshot_config = ConfigDropshot {
        bind_address: config.bind,
        default_request_body_max_bytes: MAX_REQUEST_BODY_BYTES,
        ..Default::default()
    };
    let runner = config.run_syncs.then(|| shared.spawn_runner(config, &log));
    let alerts = shared.spawn_alerts(config, &log);
    let server = ServerBuilder::new(api, shared.service.clone(), log).config(dropshot_config).start().map_err(|e| {
        // dropshot's error names the address; the OS's reason is its source.
        let cause = error::chain(&e);
        anyhow::anyhow!(
            "listening on {}: {cause} (is another server on this port? pass --bind with another address or port)",
            config.bind
        )
    })?;
    Ok(RunningServer { server, runner, alerts })
}

/// A started worker: the engine's runner without the API.
pub struct RunningWorker {
    service: Arc<service::Service>,
    runner: engine::RunnerHandle,
    alerts: alerts::worker::AlertHandle,
}

impl RunningWorker {
    /// Stops the runner (a run it was executing is handed back at once, to be resumed by any
    /// runner from its last committed batch) and closes the database.
    pub async fn close(self) {
        self.runner.stop().await;
        self.alerts.stop().await;
        self.service.close().await;
    }
}

/// Opens the service and runs sync jobs without serving the API, so that API servers and
/// workers scale apart.
pub async fn start_worker(
    config: &ServerConfig,
    secrets: &config::Secrets,
    log: slog::Logger,
) -> anyhow::Result<RunningWorker> {
    let shared = open_shared(config, secrets).await?;
    let runner = shared.spawn_runner(config, &log);
    let alerts = shared.spawn_alerts(config, &log);
    Ok(RunningWorker { service: shared.service.clone(), runner, alerts })
}
