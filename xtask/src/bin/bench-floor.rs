//! The benchmark's floor: a dropshot server that answers the three benchmarked operations
//! (create, show and list of connectors) with the real server's bodies, fixed, and does no
//! work, so `cargo xtask bench` can say how close the real server comes to what dropshot
//! itself costs on this machine for the same requests and the same bytes.
//!
//! Usage: `bench-floor CREATE_BODY SHOW_BODY LIST_BODY` (JSON files); it prints
//! `listening on http://ADDR` and serves until killed.

use dropshot::{
    ApiDescription, ConfigDropshot, HttpError, HttpResponseCreated, HttpResponseOk, Path, RequestContext,
    ServerBuilder, UntypedBody, endpoint,
};
use serde_json::Value;

/// The bodies the three operations answer.
struct Bodies {
    create: Value,
    show: Value,
    list: Value,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ShowPath {
    #[allow(dead_code)]
    id: String,
}

#[endpoint { method = POST, path = "/api/v1/connectors" }]
async fn create(rqctx: RequestContext<Bodies>, _body: UntypedBody) -> Result<HttpResponseCreated<Value>, HttpError> {
    Ok(HttpResponseCreated(rqctx.context().create.clone()))
}

#[endpoint { method = GET, path = "/api/v1/connectors/{id}" }]
async fn show(rqctx: RequestContext<Bodies>, _path: Path<ShowPath>) -> Result<HttpResponseOk<Value>, HttpError> {
    Ok(HttpResponseOk(rqctx.context().show.clone()))
}

#[endpoint { method = GET, path = "/api/v1/connectors" }]
async fn list(rqctx: RequestContext<Bodies>) -> Result<HttpResponseOk<Value>, HttpError> {
    Ok(HttpResponseOk(rqctx.context().list.clone()))
}

fn read(path: Option<String>) -> anyhow::Result<Value> {
    let path = path.ok_or_else(|| anyhow::anyhow!("usage: bench-floor CREATE_BODY SHOW_BODY LIST_BODY"))?;
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let bodies = Bodies { create: read(args.next())?, show: read(args.next())?, list: read(args.next())? };
    let mut api = ApiDescription::new();
    api.register(create).map_err(|e| anyhow::anyhow!("{e}"))?;
    api.register(show).map_err(|e| anyhow::anyhow!("{e}"))?;
    api.register(list).map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = ConfigDropshot { bind_address: ([127, 0, 0, 1], 0).into(), ..Default::default() };
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let server = ServerBuilder::new(api, bodies, log).config(config).start().map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("listening on http://{}", server.local_addr());
    server.await.map_err(|e| anyhow::anyhow!(e))
}
