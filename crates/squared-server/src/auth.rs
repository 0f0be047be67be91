//! Bearer tokens: HS256 JSON Web Tokens naming the caller's workspaces and roles.
//!
//! Only HS256 is accepted; `alg: none` and every other algorithm are refused, as are
//! expired tokens, tokens that live longer than the server allows (30 days unless the
//! operator says otherwise), and, where the operator configured them, tokens for another
//! audience (`aud`) or from another issuer (`iss`). The claims carry no secrets. This module only reads and signs tokens:
//! what a role may do is decided in [`crate::service`].

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;

/// What a caller may do in one workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything a member may do (see `service::permissions`).
    Admin,
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
    /// Who the token is for, where the server is configured with an audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Who signed the token, where the server is configured with an issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    pub workspaces: Vec<WorkspaceGrant>,
}

/// The operator's rules for tokens, shared by the verifier and the issuer.
#[derive(Clone, Debug)]
pub struct TokenRules {
    /// When set, a token's `aud` must be this.
    pub audience: Option<String>,
    /// When set, a token's `iss` must be this.
    pub issuer: Option<String>,
    /// The longest a token may live, from `iat` to `exp` and from now to `exp`.
    pub max_lifetime: chrono::Duration,
}

impl Default for TokenRules {
    fn default() -> Self {
        TokenRules { audience: None, issuer: None, max_lifetime: chrono::Duration::days(30) }
    }
}

/// Seconds of clock difference tolerated between the signer and this server.
const LEEWAY_SECONDS: i64 = 5;

/// The authenticated caller, acting in one workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub workspace_id: i64,
    pub role: Role,
}

/// How many verified tokens [`TokenVerifier`] remembers (about 300 bytes each).
const VERIFIED_TOKENS_KEPT: usize = 4096;

/// Checks tokens against the server's secret.
///
/// A client sends the same token with every request, and checking its signature and
/// claims was a fifth of the instructions of a `show` in the profile. So the claims of a
/// token that passed are kept, by the token's exact text (signature included: other bytes
/// are another token, checked in full), and each later request checks again only what time
/// changes, the expiry. Failures are never kept. The set is bounded: when full, it starts
/// over.
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
    max_lifetime_seconds: i64,
    verified: std::sync::Mutex<std::collections::HashMap<Box<str>, std::sync::Arc<Claims>>>,
}

impl TokenVerifier {
    pub fn new(secret: &[u8], rules: &TokenRules) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS as u64;
        let mut required = vec!["exp", "sub", "iat"];
        match &rules.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &rules.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        TokenVerifier {
            key: DecodingKey::from_secret(secret),
            validation,
            max_lifetime_seconds: rules.max_lifetime.num_seconds(),
            verified: Default::default(),
        }
    }

    /// The caller behind an `Authorization` header value, in the requested workspace.
    pub fn authenticate(&self, authorization: Option<&str>, workspace_id: i64) -> Result<Caller, ServiceError> {
        let header = authorization.ok_or(ServiceError::Unauthenticated("no bearer token was given"))?;
        // The scheme is case-insensitive (RFC 6750, RFC 9110).
        let token = header
            .trim()
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or(ServiceError::Unauthenticated("the Authorization header is not `Bearer <token>`"))?;
        let claims = self.claims_of(token)?;
        let grant = claims
            .workspaces
            .iter()
            .find(|w| w.id == workspace_id)
            .ok_or(ServiceError::Forbidden(format!("the caller is not a member of workspace {workspace_id}")))?;
        Ok(Caller { subject: claims.sub.clone(), workspace_id, role: grant.role })
    }

    /// The claims of a valid token: remembered, or checked in full and then remembered.
    fn claims_of(&self, token: &str) -> Result<std::sync::Arc<Claims>, ServiceError> {
        let now = chrono::Utc::now().timestamp();
        let known = self.verified.lock().expect("the token set is never poisoned").get(token).cloned();
        if let Some(claims) = known {
            if now > claims.exp + LEEWAY_SECONDS {
                return Err(ServiceError::Unauthenticated("the bearer token has expired"));
            }
            return Ok(claims);
        }
        let claims = std::sync::Arc::new(self.check(token, now)?);
        let mut verified = self.verified.lock().expect("the token set is never poisoned");
        if verified.len() >= VERIFIED_TOKENS_KEPT {
            verified.clear();
        }
        verified.insert(token.into(), claims.clone());
        Ok(claims)
    }

    /// Checks a token's signature and claims in full.
    fn check(&self, token: &str, now: i64) -> Result<Claims, ServiceError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                ServiceError::Unauthenticated(match e.kind() {
                    ErrorKind::ExpiredSignature => "the bearer token has expired",
                    ErrorKind::InvalidSignature => "the bearer token's signature is not valid",
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        "the bearer token must be signed with HS256"
                    }
                    ErrorKind::InvalidAudience => "the bearer token is for another audience",
                    ErrorKind::InvalidIssuer => "the bearer token is from another issuer",
                    ErrorKind::MissingRequiredClaim(_) => "the bearer token lacks a claim this server requires",
                    _ => "the bearer token is malformed",
                })
            })?
            .claims;
        if claims.exp.saturating_sub(claims.iat) > self.max_lifetime_seconds
            || claims.exp.saturating_sub(now) > self.max_lifetime_seconds + LEEWAY_SECONDS
        {
            return Err(ServiceError::Unauthenticated("the bearer token lives longer than this server allows"));
        }
        Ok(claims)
    }
}

/// Signs tokens with the server's secret (for `squared-server token` and for tests).
pub struct TokenIssuer {
    key: EncodingKey,
    rules: TokenRules,
}

impl TokenIssuer {
    pub fn new(secret: &[u8], rules: &TokenRules) -> Self {
        TokenIssuer { key: EncodingKey::from_secret(secret), rules: rules.clone() }
    }

    pub fn issue(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.key).expect("HS256 signing cannot fail")
    }

    /// A token for one workspace, valid for `ttl` (at most the rules' lifetime), with the
    /// rules' audience and issuer.
    pub fn issue_for(&self, subject: &str, workspace_id: i64, role: Role, ttl: chrono::Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        self.issue(&Claims {
            sub: subject.to_owned(),
            iat: now,
            exp: now + ttl.min(self.rules.max_lifetime).num_seconds(),
            aud: self.rules.audience.clone(),
            iss: self.rules.issuer.clone(),
            workspaces: vec![WorkspaceGrant { id: workspace_id, role }],
        })
    }
}

/// Parses a duration with its unit: `90s`, `15m`, `12h`, `30d`, `1h 30m` (humantime's
/// words). A bare number is refused: nothing would say whether `2` is seconds or minutes.
pub fn parse_ttl(text: &str) -> Result<chrono::Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration with its unit, such as 90s, 15m, 12h or 30d: {e}"))?;
    if duration.is_zero() {
        return Err(format!("{text:?}: a duration must be positive"));
    }
    chrono::Duration::from_std(duration).map_err(|_| format!("{text:?} is longer than any duration this server keeps"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn rules() -> TokenRules {
        TokenRules::default()
    }

    fn claims(lifetime: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "alice".into(),
            iat: now,
            exp: now + lifetime,
            aud: None,
            iss: None,
            workspaces: vec![WorkspaceGrant { id: 7, role: Role::Member }],
        }
    }

    fn verify(rules: &TokenRules, claims: &Claims) -> Result<Caller, ServiceError> {
        let token = TokenIssuer::new(SECRET, rules).issue(claims);
        TokenVerifier::new(SECRET, rules).authenticate(Some(&format!("Bearer {token}")), 7)
    }

    #[test]
    fn a_token_round_trips() {
        let token = TokenIssuer::new(SECRET, &rules()).issue_for("alice", 7, Role::Viewer, chrono::Duration::hours(1));
        let caller = TokenVerifier::new(SECRET, &rules()).authenticate(Some(&format!("Bearer {token}")), 7).unwrap();
        assert_eq!(caller, Caller { subject: "alice".into(), workspace_id: 7, role: Role::Viewer });
    }

    #[test]
    fn the_scheme_is_read_in_any_case() {
        let token = TokenIssuer::new(SECRET, &rules()).issue_for("alice", 7, Role::Viewer, chrono::Duration::hours(1));
        let verifier = TokenVerifier::new(SECRET, &rules());
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert!(verifier.authenticate(Some(&format!("{scheme} {token}")), 7).is_ok(), "{scheme}");
        }
        for header in [format!("Basic {token}"), format!("Bearer{token}"), "Bearer ".into(), token.clone()] {
            assert!(verifier.authenticate(Some(&header), 7).is_err(), "{header}");
        }
    }

    #[test]
    fn a_remembered_token_is_still_checked_for_expiry_and_its_exact_text() {
        let token = TokenIssuer::new(SECRET, &rules()).issue_for("alice", 7, Role::Member, chrono::Duration::hours(1));
        let verifier = TokenVerifier::new(SECRET, &rules());
        assert!(verifier.authenticate(Some(&format!("Bearer {token}")), 7).is_ok());
        // Another signature is another token: checked in full, and refused.
        let mut tampered = token.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(verifier.authenticate(Some(&format!("Bearer {tampered}")), 7).is_err());
        // Time passes for a remembered token too.
        let mut expired = (**verifier.verified.lock().unwrap().get(token.as_str()).unwrap()).clone();
        expired.exp = chrono::Utc::now().timestamp() - 60;
        verifier.verified.lock().unwrap().insert(token.as_str().into(), std::sync::Arc::new(expired));
        let error = verifier.authenticate(Some(&format!("Bearer {token}")), 7).unwrap_err();
        assert!(error.to_string().contains("expired"), "{error}");
    }

    #[test]
    fn another_workspace_is_forbidden() {
        let token = TokenIssuer::new(SECRET, &rules()).issue_for("alice", 7, Role::Member, chrono::Duration::hours(1));
        let error = TokenVerifier::new(SECRET, &rules()).authenticate(Some(&format!("Bearer {token}")), 8).unwrap_err();
        assert!(matches!(error, ServiceError::Forbidden(_)), "{error:?}");
    }

    #[test]
    fn a_token_may_not_outlive_the_maximum() {
        assert!(verify(&rules(), &claims(30 * 86_400)).is_ok());
        let error = verify(&rules(), &claims(30 * 86_400 + 60)).unwrap_err();
        assert!(error.to_string().contains("longer"), "{error}");
        // A late `iat` does not stretch it: the time left counts too.
        let mut late = claims(365 * 86_400);
        late.iat = late.exp - 60;
        assert!(verify(&rules(), &late).is_err());
        let short = TokenRules { max_lifetime: chrono::Duration::hours(1), ..rules() };
        assert!(verify(&short, &claims(7200)).is_err());
        // The issuer clamps what it signs to the maximum.
        let token = TokenIssuer::new(SECRET, &short).issue_for("a", 7, Role::Member, chrono::Duration::days(90));
        assert!(TokenVerifier::new(SECRET, &short).authenticate(Some(&format!("Bearer {token}")), 7).is_ok());
    }

    #[test]
    fn audience_and_issuer_are_checked_when_configured() {
        let strict =
            TokenRules { audience: Some("squared".into()), issuer: Some("https://id.example".into()), ..rules() };
        let mut good = claims(3600);
        good.aud = Some("squared".into());
        good.iss = Some("https://id.example".into());
        assert!(verify(&strict, &good).is_ok());
        let mut other_audience = good.clone();
        other_audience.aud = Some("another-api".into());
        assert!(verify(&strict, &other_audience).unwrap_err().to_string().contains("audience"));
        let mut other_issuer = good.clone();
        other_issuer.iss = Some("https://evil.example".into());
        assert!(verify(&strict, &other_issuer).unwrap_err().to_string().contains("issuer"));
        assert!(verify(&strict, &claims(3600)).is_err(), "neither claim");
        // Unconfigured, neither is required.
        assert!(verify(&rules(), &claims(3600)).is_ok());
        assert!(verify(&rules(), &good).is_ok());
    }

    #[test]
    fn ttls_parse() {
        assert_eq!(parse_ttl("90s").unwrap().num_seconds(), 90);
        assert_eq!(parse_ttl("12h").unwrap().num_seconds(), 43_200);
        assert_eq!(parse_ttl("2d").unwrap().num_seconds(), 172_800);
        assert_eq!(parse_ttl("1h 30m").unwrap().num_seconds(), 5_400);
        assert!(parse_ttl("0h").is_err());
        assert!(parse_ttl("5x").is_err());
        assert!(parse_ttl("h").is_err());
        // A number without its unit is refused, naming what to write.
        let bare = parse_ttl("2").unwrap_err();
        assert!(bare.contains("such as 90s, 15m, 12h or 30d"), "{bare}");
    }
}
