//! HTTP destination: the check sends an empty batch of records (`[]`) to the destination
//! URL with the configured headers; a 2xx answer is success.
//!
//! The request goes only to addresses the egress policy allows: the URL's host is resolved
//! once, checked, and pinned in the client, which follows no redirect and uses no proxy.

use serde_json::{Value, json};
use squared_types::Stream;

use super::{CONNECT_TIMEOUT, RuntimeError, text};

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
