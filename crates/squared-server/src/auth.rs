//! Bearer tokens: HS256 JSON Web Tokens naming the caller's workspaces and roles.
//!
//! Only HS256 is accepted; `alg: none` and every other algorithm are refused, as are
//! expired tokens. The claims carry no secrets. This module only reads and signs tokens:
//! what a role may do is decided in [`crate::service`].

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;

/// What a caller may do in one workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads, creates, changes and deletes.
    Member,
    /// Reads only.
    Viewer,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceGrant {
    pub id: i64,
    pub role: Role,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Who the caller is.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// When the token was issued, seconds since the Unix epoch.
    pub iat: i64,
    pub workspaces: Vec<WorkspaceGrant>,
}

/// The authenticated caller, acting in one workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub workspace_id: i64,
    pub role: Role,
}

/// Checks tokens against the server's secret.
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl TokenVerifier {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenVerifier { key: DecodingKey::from_secret(secret), validation }
    }

    /// The caller behind an `Authorization` header value, in the requested workspace.
    pub fn authenticate(&self, authorization: Option<&str>, workspace_id: i64) -> Result<Caller, ServiceError> {
        let header = authorization.ok_or(ServiceError::Unauthenticated("no bearer token was given"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ServiceError::Unauthenticated("the Authorization header is not `Bearer <token>`"))?;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                ServiceError::Unauthenticated(match e.kind() {
                    ErrorKind::ExpiredSignature => "the bearer token has expired",
                    ErrorKind::InvalidSignature => "the bearer token's signature is not valid",
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        "the bearer token must be signed with HS256"
                    }
                    _ => "the bearer token is malformed",
                })
            })?
            .claims;
        let grant = claims
            .workspaces
            .iter()
            .find(|w| w.id == workspace_id)
            .ok_or(ServiceError::Forbidden(format!("the caller is not a member of workspace {workspace_id}")))?;
        Ok(Caller { subject: claims.sub, workspace_id, role: grant.role })
    }
}

/// Signs tokens with the server's secret (for `squared-server token` and for tests).
pub struct TokenIssuer {
    key: EncodingKey,
}

impl TokenIssuer {
    pub fn new(secret: &[u8]) -> Self {
        TokenIssuer { key: EncodingKey::from_secret(secret) }
    }

    pub fn issue(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.key).expect("HS256 signing cannot fail")
    }

    /// A token for one workspace, valid for `ttl`.
    pub fn issue_for(&self, subject: &str, workspace_id: i64, role: Role, ttl: chrono::Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        self.issue(&Claims {
            sub: subject.to_owned(),
            iat: now,
            exp: now + ttl.num_seconds(),
            workspaces: vec![WorkspaceGrant { id: workspace_id, role }],
        })
    }
}

/// Parses a duration such as `90s`, `15m`, `12h` or `30d`.
pub fn parse_ttl(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| format!("{text:?} is not a duration such as 12h"))?;
    let seconds = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    if number <= 0 {
        return Err(format!("{text:?}: a duration must be positive"));
    }
    Ok(chrono::Duration::seconds(number * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_round_trips() {
        let token = TokenIssuer::new(SECRET).issue_for("alice", 7, Role::Viewer, chrono::Duration::hours(1));
        let caller = TokenVerifier::new(SECRET).authenticate(Some(&format!("Bearer {token}")), 7).unwrap();
        assert_eq!(caller, Caller { subject: "alice".into(), workspace_id: 7, role: Role::Viewer });
    }

    #[test]
    fn another_workspace_is_forbidden() {
        let token = TokenIssuer::new(SECRET).issue_for("alice", 7, Role::Member, chrono::Duration::hours(1));
        let error = TokenVerifier::new(SECRET).authenticate(Some(&format!("Bearer {token}")), 8).unwrap_err();
        assert!(matches!(error, ServiceError::Forbidden(_)), "{error:?}");
    }

    #[test]
    fn ttls_parse() {
        assert_eq!(parse_ttl("90s").unwrap().num_seconds(), 90);
        assert_eq!(parse_ttl("12h").unwrap().num_seconds(), 43_200);
        assert_eq!(parse_ttl("2d").unwrap().num_seconds(), 172_800);
        assert!(parse_ttl("0h").is_err());
        assert!(parse_ttl("5w").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
