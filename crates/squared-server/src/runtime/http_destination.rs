//! HTTP destination: the check sends an empty batch of records (`[]`) to the destination
//! URL with the configured headers; a 2xx answer is success.

use serde_json::Value;

use super::{CONNECT_TIMEOUT, RuntimeError, text};

pub async fn check(configuration: &Value) -> Result<String, RuntimeError> {
    let url = text(configuration, "/destination_url")?;
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CONNECT_TIMEOUT * 2)
        .build()
        .map_err(|e| RuntimeError::Remote(format!("could not make an HTTP client: {e}")))?;
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
    } else {
        Err(RuntimeError::Remote(format!("the destination answered {status}")))
    }
}
