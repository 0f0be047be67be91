//! Sending one alert to its channel: the only code of alerting that reaches the network, and
//! only through the egress policy (a webhook's or Slack's host is resolved once, checked and
//! pinned, with no redirect followed; an SMTP server is reached at a checked address, its
//! certificate checked against the configured host name).
//!
//! A webhook delivery is signed: `Squared-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`,
//! the HMAC keyed by the channel's secret over `<t>.<body>`. A receiver recomputes it, compares
//! in constant time and refuses an old `t`. `Squared-Delivery` carries the delivery's id, the
//! same on every attempt, so a receiver can drop a repeat.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};
use squared_types::AlertChannelKind;

use crate::egress::EgressPolicy;
use crate::runtime::http_destination::pinned_client;

pub const SIGNATURE_HEADER: &str = "Squared-Signature";
pub const DELIVERY_HEADER: &str = "Squared-Delivery";
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The signature header's value for `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let mut context = aws_lc_rs::hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("t={timestamp},v1={}", hex::encode(context.sign().as_ref()))
}

/// Sends alerts for this process, within its egress policy.
#[derive(Clone)]
pub struct Sender {
    egress: EgressPolicy,
}

fn text<'a>(configuration: &'a Value, field: &str) -> Result<&'a str, String> {
    configuration[field].as_str().ok_or_else(|| format!("the channel has no `{field}`"))
}

impl Sender {
    pub fn new(egress: EgressPolicy) -> Sender {
        Sender { egress }
    }

    /// Sends `payload` (delivery `delivery_id`) over a channel of `kind` configured by
    /// `configuration` (its secrets in clear). The error says why, never with a secret.
    pub async fn send(
        &self,
        kind: AlertChannelKind,
        configuration: &Value,
        delivery_id: i64,
        payload: &Value,
    ) -> Result<(), String> {
        match kind {
            AlertChannelKind::Webhook => {
                let body = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
                let secret = text(configuration, "secret")?;
                let signed = signature(secret.as_bytes(), chrono::Utc::now().timestamp(), &body);
                self.post(
                    text(configuration, "url")?,
                    body,
                    &[(SIGNATURE_HEADER, signed), (DELIVERY_HEADER, delivery_id.to_string())],
                )
                .await
            }
            AlertChannelKind::Slack => {
                let body = json!({"text": payload["message"]});
                let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
                self.post(text(configuration, "webhook_url")?, body, &[]).await
            }
            AlertChannelKind::Email => self.email(configuration, payload).await,
        }
    }

    async fn post(&self, url: &str, body: Vec<u8>, headers: &[(&str, String)]) -> Result<(), String> {
        let client = pinned_client(&self.egress, url).await.map_err(|e| e.to_string())?;
        let mut request = client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        // Only the host is named: a URL may carry a secret (Slack's does).
        let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        let response = request.send().await.map_err(|e| format!("sending to {host}: {}", without_url(&e)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_redirection() {
            Err(format!("{host} answered {status}, a redirect; alerts follow no redirect"))
        } else {
            Err(format!("{host} answered {status}"))
        }
    }

    async fn email(&self, configuration: &Value, payload: &Value) -> Result<(), String> {
        let host = text(configuration, "host")?;
        let port = configuration["port"].as_u64().and_then(|p| u16::try_from(p).ok()).unwrap_or(587);
        let address =
            *self.egress.resolve(host, port).await.map_err(|e| e.to_string())?.first().expect("resolve gives one");
        let parameters = || TlsParameters::new(host.to_owned()).map_err(|e| format!("TLS for {host}: {e}"));
        let tls = match configuration["security"].as_str().unwrap_or("starttls") {
            "tls" => Tls::Wrapper(parameters()?),
            "none" => Tls::None,
            _ => Tls::Required(parameters()?),
        };
        let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address.ip().to_string())
            .port(port)
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if let Some(username) = configuration["username"].as_str() {
            let password = configuration["password"].as_str().unwrap_or_default();
            transport = transport.credentials(Credentials::new(username.to_owned(), password.to_owned()));
        }
        let message = payload["message"].as_str().unwrap_or("An alert");
        let subject: String = format!("[squared] {message}").chars().take(150).collect();
        let mut builder = Message::builder()
            .from(text(configuration, "from")?.parse().map_err(|e| format!("the sender address: {e}"))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        for to in configuration["to"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            builder = builder.to(to.parse().map_err(|e| format!("the address {to}: {e}"))?);
        }
        let details = serde_json::to_string_pretty(payload).unwrap_or_default();
        let email = builder.body(format!("{message}\n\n{details}\n")).map_err(|e| format!("writing the email: {e}"))?;
        transport.build().send(email).await.map_err(|e| format!("sending to {host}:{port}: {e}"))?;
        Ok(())
    }
}

/// A transport error without the URL reqwest puts in its text.
fn without_url(error: &reqwest::Error) -> String {
    let cause = crate::error::chain(error);
    match error.url() {
        Some(url) => cause.replace(url.as_str(), "the URL"),
        None => cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_the_timestamp_and_body() {
        // Computed apart: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature(b"key", 1_700_000_000, b"{}"),
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }
}
