//! HTTP destination: the check sends an empty batch of records (`[]`) to the destination
//! URL with the configured headers; a 2xx answer is success.
//!
//! The request goes only to addresses the egress policy allows: the URL's host is resolved
//! once, checked, and pinned in the client, which follows no redirect and uses no proxy.

use serde_json::{Value, json};
use squared_types::Stream;

use super::{CONNECT_TIMEOUT, RuntimeError, text};
use crate::sync::values::Record;

/// The name of the one stream of an HTTP destination, unless the user defines another.
pub const DEFAULT_STREAM: &str = "records";

/// The one stream of an HTTP destination: records of any shape.
pub fn default_stream() -> Stream {
    Stream {
        name: DEFAULT_STREAM.into(),
        action: "create".into(),
        json_schema: json!({"type": "object", "additionalProperties": true}).as_object().cloned().expect("an object"),
        url: None,
        request_method: Some("POST".into()),
        primary_key: None,
    }
}
use crate::egress::EgressPolicy;

/// A client that can reach `url` only at the addresses the policy allows for its host.
pub(crate) async fn pinned_client(egress: &EgressPolicy, url: &str) -> Result<reqwest::Client, RuntimeError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| RuntimeError::BadConfiguration(format!("the destination URL is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(RuntimeError::BadConfiguration("the destination URL must be http or https".into()));
    }
    let host =
        parsed.host_str().ok_or_else(|| RuntimeError::BadConfiguration("the destination URL has no host".into()))?;
    let port = parsed.port_or_known_default().expect("http and https have default ports");
    let addresses = egress.resolve(host, port).await?;
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CONNECT_TIMEOUT * 2)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Some(url::Host::Domain(domain)) = parsed.host() {
        builder = builder.resolve_to_addrs(domain, &addresses);
    }
    builder.build().map_err(|e| RuntimeError::Remote(format!("could not make an HTTP client: {e}")))
}

pub async fn check(egress: &EgressPolicy, configuration: &Value) -> Result<String, RuntimeError> {
    let url = text(configuration, "/destination_url")?;
    let client = pinned_client(egress, url).await?;
    let mut request = client.post(url).json(&Vec::<Value>::new());
    if let Some(headers) = configuration.get("headers").and_then(Value::as_object) {
        for (name, value) in headers {
            let value = value
                .as_str()
                .ok_or_else(|| RuntimeError::BadConfiguration(format!("the header {name} is not text")))?;
            request = request.header(name.as_str(), value);
        }
    }
    // Errors drop the URL: it may carry a token in its query.
    let response =
        request.send().await.map_err(|e| RuntimeError::Remote(format!("the request failed: {}", e.without_url())))?;
    let status = response.status();
    if status.is_success() {
        Ok(format!("the destination answered {status}"))
    } else if status.is_redirection() {
        Err(RuntimeError::Remote(format!(
            "the destination answered {status}, a redirect; connectors follow no redirect, so configure the URL it \
             points to"
        )))
    } else {
        Err(RuntimeError::Remote(format!("the destination answered {status}")))
    }
}

/// How many times a request is tried when the destination answers 429 or 5xx.
pub const ATTEMPTS: u32 = 5;
/// The first wait between attempts; each next one doubles, unless `Retry-After` says more.
pub const FIRST_BACKOFF: std::time::Duration = std::time::Duration::from_millis(200);
/// The longest wait a `Retry-After` may ask for.
pub const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(30);

/// Posts a sync's records to the destination URL as JSON arrays, with the configured headers.
pub struct Writer {
    client: reqwest::Client,
    url: String,
    headers: Vec<(String, String)>,
}

impl Writer {
    pub async fn open(egress: &EgressPolicy, configuration: &Value) -> Result<Writer, RuntimeError> {
        let url = text(configuration, "/destination_url")?.to_owned();
        let client = pinned_client(egress, &url).await?;
        let mut headers = Vec::new();
        if let Some(configured) = configuration.get("headers").and_then(Value::as_object) {
            for (name, value) in configured {
                let value = value
                    .as_str()
                    .ok_or_else(|| RuntimeError::BadConfiguration(format!("the header {name} is not text")))?;
                headers.push((name.clone(), value.to_owned()));
            }
        }
        Ok(Writer { client, url, headers })
    }

    /// Posts `records` as one JSON array under the batch's idempotency key; when the
    /// destination refuses the batch (a 4xx), one request per record under the record's key,
    /// so that a refused record fails alone. One outcome per record, in order.
    pub async fn write(&self, records: &[Record], idempotency: &super::IdempotencyKeys) -> Vec<Result<(), String>> {
        // Every value goes as the source gave it (no number through a float).
        let batch = serde_json::to_vec(records).expect("records serialize");
        match self.post(batch, &idempotency.batch).await {
            Ok(()) => records.iter().map(|_| Ok(())).collect(),
            Err(Refusal::Batch(_)) if records.len() > 1 => {
                let mut outcomes = Vec::with_capacity(records.len());
                for (record, key) in records.iter().zip(&idempotency.records) {
                    let one = format!("[{}]", record.to_json()).into_bytes();
                    outcomes.push(self.post(one, key).await.map_err(Refusal::into_message));
                }
                outcomes
            }
            Err(refusal) => {
                let message = refusal.into_message();
                records.iter().map(|_| Err(message.clone())).collect()
            }
        }
    }

    /// One POST, retried with exponential backoff (or as `Retry-After` asks) on 429 and 5xx.
    async fn post(&self, body: Vec<u8>, idempotency_key: &str) -> Result<(), Refusal> {
        let mut wait = FIRST_BACKOFF;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let mut request = self
                .client
                .post(&self.url)
                .header("Idempotency-Key", idempotency_key)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            for (name, value) in &self.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            // Errors drop the URL: it may carry a token in its query.
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) => {
                    last = format!("the request failed: {}", e.without_url());
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                    continue;
                }
            };
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            if status.is_redirection() {
                return Err(Refusal::Batch(format!(
                    "the destination answered {status}, a redirect, which is not followed"
                )));
            }
            let retry = status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            if !retry {
                return Err(Refusal::Batch(format!("the destination answered {status}")));
            }
            last = format!("the destination answered {status}");
            if attempt < ATTEMPTS {
                let asked = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(std::time::Duration::from_secs);
                tokio::time::sleep(asked.unwrap_or(wait).min(MAX_BACKOFF)).await;
                wait *= 2;
            }
        }
        Err(Refusal::GaveUp(format!("{last}, {ATTEMPTS} times")))
    }
}

/// Why a POST did not deliver.
enum Refusal {
    /// The destination refused this request (a 4xx, a redirect).
    Batch(String),
    /// The destination kept failing (5xx, 429, no answer).
    GaveUp(String),
}

impl Refusal {
    fn into_message(self) -> String {
        match self {
            Refusal::Batch(message) | Refusal::GaveUp(message) => message,
        }
    }
}
