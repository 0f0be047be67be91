//! A typed client of the AI Squared API.
//!
//! `generated.rs` is progenitor's builder-style client, generated from `spec/openapi.yaml`
//! by `cargo xtask codegen`; its request and response types are those of `squared-types`,
//! the same ones the server uses. This file adds the one thing a spec cannot say: where the
//! bearer token and the `Workspace-Id` header come from ([`Credentials`], [`Client::from_env`]),
//! how a paged list is read whole ([`PageList::stream`]), and how a failure reads ([`Failure`]).
//! `generated_mock.rs` (feature `mock`) is progenitor's typed `httpmock` helpers.
//!
//! See `examples/list_definitions.rs` for a whole program.

#[allow(unused, clippy::all)]
#[rustfmt::skip]
mod generated;

/// progenitor's typed helpers for `httpmock`: `server.list_connectors(|when, then| …)`.
#[cfg(feature = "mock")]
#[allow(unused, clippy::all)]
#[rustfmt::skip]
#[path = "generated_mock.rs"]
pub mod mock;

mod failure;
mod paging;

use std::fmt;

pub use failure::{Failure, root_cause};
pub use generated::*;
pub use paging::PageList;
pub use progenitor_client::{ByteStream, ResponseValue};

/// Every type the client's methods take and return: the API's (`squared-types`, shared with
/// the server) and the few the client generator made for its own parameters.
pub mod types {
    pub use crate::generated::types::*;
    pub use squared_types::*;
}

use progenitor_client::{ClientHooks, ClientInfo as _, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

/// The header that selects the workspace a request acts in.
pub const WORKSPACE_HEADER: &str = "Workspace-Id";

/// What the client sends with every request unless a call sets the header itself.
///
/// Its `Debug` output never shows the token.
#[derive(Clone, Default)]
pub struct Credentials {
    bearer_token: Option<String>,
    workspace_id: Option<i64>,
}

impl Credentials {
    /// A bearer token and the workspace to act in.
    pub fn new(bearer_token: impl Into<String>, workspace_id: i64) -> Self {
        Credentials { bearer_token: Some(bearer_token.into()), workspace_id: Some(workspace_id) }
    }

    /// No token and no workspace: every header is left to the caller.
    pub fn none() -> Self {
        Credentials::default()
    }

    /// The same, with the token replaced (or removed).
    pub fn with_bearer_token(mut self, token: Option<String>) -> Self {
        self.bearer_token = token;
        self
    }

    /// The same, with the workspace replaced (or removed).
    pub fn with_workspace(mut self, workspace_id: Option<i64>) -> Self {
        self.workspace_id = workspace_id;
        self
    }

    pub fn workspace_id(&self) -> Option<i64> {
        self.workspace_id
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "<redacted>"))
            .field("workspace_id", &self.workspace_id)
            .finish()
    }
}

/// The environment variables [`Client::from_env`] reads.
pub mod env {
    /// The server's base URL, `http://127.0.0.1:8080` for example.
    pub const URL: &str = "SQUARED_URL";
    /// The bearer token (`squared-server token` prints one).
    pub const TOKEN: &str = "SQUARED_TOKEN";
    /// The workspace to act in.
    pub const WORKSPACE: &str = "SQUARED_WORKSPACE";
}

impl Client {
    /// A client of the server at `$SQUARED_URL`, with the token in `$SQUARED_TOKEN` and the
    /// workspace in `$SQUARED_WORKSPACE` (each optional but the URL).
    pub fn from_env() -> Result<Client, Failure> {
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let url =
            read(env::URL).ok_or_else(|| Failure::setup(format!("{} is not set (the server's base URL)", env::URL)))?;
        let workspace = match read(env::WORKSPACE) {
            None => None,
            Some(text) => Some(text.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
                Failure::setup(format!("{} is {text:?}, not a workspace id (a whole number from 1)", env::WORKSPACE))
            })?),
        };
        let credentials = Credentials::none().with_bearer_token(read(env::TOKEN)).with_workspace(workspace);
        Ok(Client::new_with_client(&url, reqwest::Client::new(), credentials))
    }
}

impl ClientHooks<Credentials> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let credentials = self.inner();
        let headers = request.headers_mut();
        if let Some(token) = &credentials.bearer_token
            && !headers.contains_key(AUTHORIZATION)
        {
            let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
                progenitor_client::Error::InvalidRequest("the bearer token is not a valid header value".into())
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let workspace = HeaderName::from_static("workspace-id");
        if let Some(workspace_id) = credentials.workspace_id
            && !headers.contains_key(&workspace)
        {
            headers.insert(workspace, HeaderValue::from(workspace_id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_token() {
        let text = format!("{:?}", Credentials::new("secret-token-value", 7));
        assert!(!text.contains("secret-token-value"), "{text}");
        assert!(text.contains("workspace_id: Some(7)"), "{text}");
    }
}
