//! The operator's endpoints, served beside the API and outside its spec: `/health/live`,
//! `/health/ready` and `/metrics`. None needs a token, and none reveals a secret or a
//! workspace's data (see [`crate::metrics`]). The API's own requests are counted in
//! [`crate::http`]'s one handler wrapper.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use dropshot::{ApiDescription, Body, HttpError, RequestContext, endpoint};
use http::{Response, StatusCode};
use serde_json::json;

use crate::service::Service;

/// Adds the operator's endpoints to the API's description (unpublished: not in the spec the
/// server emits).
pub fn register(api: &mut ApiDescription<Arc<Service>>) -> Result<(), String> {
    api.register(live).map_err(|e| e.to_string())?;
    api.register(ready).map_err(|e| e.to_string())?;
    api.register(metrics).map_err(|e| e.to_string())?;
    Ok(())
}

/// The one way the operator's endpoints answer.
fn response(status: StatusCode, content_type: &'static str, body: String) -> Result<Response<Body>, HttpError> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .map_err(|e| HttpError::for_internal_error(e.to_string()))
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Result<Response<Body>, HttpError> {
    response(status, "application/json", body.to_string())
}

/// The process answers.
#[endpoint { method = GET, path = "/health/live", unpublished = true }]
async fn live(_rqctx: RequestContext<Arc<Service>>) -> Result<Response<Body>, HttpError> {
    json_response(StatusCode::OK, json!({"status": "live"}))
}

/// The process can serve: its database answers with every migration applied, and its sync
/// runner (where it runs one) works. 503 names what is not.
#[endpoint { method = GET, path = "/health/ready", unpublished = true }]
async fn ready(rqctx: RequestContext<Arc<Service>>) -> Result<Response<Body>, HttpError> {
    let service = rqctx.context();
    let store = service.check_store().await;
    let runner = match &service.operator.runner {
        None => Ok("not run in this process"),
        Some(alive) if alive.load(Ordering::SeqCst) => Ok("running"),
        Some(_) => Err("stopped".to_owned()),
    };
    let ready = store.is_ok() && runner.is_ok();
    let word = |check: Result<&str, String>| match check {
        Ok(state) => json!({"ok": true, "state": state}),
        Err(problem) => json!({"ok": false, "problem": problem}),
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {"database": word(store.map(|()| "migrated")), "sync_runner": word(runner)},
    });
    json_response(if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, body)
}

/// The metrics, in Prometheus' text format.
#[endpoint { method = GET, path = "/metrics", unpublished = true }]
async fn metrics(rqctx: RequestContext<Arc<Service>>) -> Result<Response<Body>, HttpError> {
    let service = rqctx.context();
    let pending = service.pending_runs().await.unwrap_or(-1);
    response(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", service.operator.metrics.render(pending))
}
