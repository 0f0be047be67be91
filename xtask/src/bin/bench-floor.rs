//! The benchmark's floor: a dropshot server that answers `POST /api/v1/connectors` with a
//! fixed 201 body and does no work, so `cargo xtask bench` can say how close the real server
//! comes to what dropshot itself costs on this machine.
//!
//! Usage: `bench-floor BODY_FILE`; it prints `listening on http://ADDR` and serves until killed.

use std::sync::Arc;

use dropshot::{
    ApiDescription, ConfigDropshot, HttpError, HttpResponseCreated, RequestContext, ServerBuilder, UntypedBody,
    endpoint,
};

/// The body every request gets.
struct Fixed(serde_json::Value);

#[endpoint { method = POST, path = "/api/v1/connectors" }]
async fn create(
    rqctx: RequestContext<Arc<Fixed>>,
    _body: UntypedBody,
) -> Result<HttpResponseCreated<serde_json::Value>, HttpError> {
    Ok(HttpResponseCreated(rqctx.context().0.clone()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("usage: bench-floor BODY_FILE"))?;
    let body: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut api = ApiDescription::new();
    api.register(create).map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = ConfigDropshot { bind_address: ([127, 0, 0, 1], 0).into(), ..Default::default() };
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let server = ServerBuilder::new(api, Arc::new(Fixed(body)), log)
        .config(config)
        .start()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("listening on http://{}", server.local_addr());
    server.await.map_err(|e| anyhow::anyhow!(e))
}
