//! JWT bearer authentication of write requests (`POST`, `PUT`, `PATCH`, `DELETE`): reads
//! stay open, as health probes and dashboards need them. A missing or invalid token is a
//! 401 with `WWW-Authenticate: Bearer`; a valid token without the required scope is a 403.
//! The token itself never reaches a log line.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ddd_names::http;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::Problem;
use crate::config::Settings;

/// How tokens are checked.
#[derive(Clone)]
pub struct AuthConfig {
    key: DecodingKey,
    validation: Validation,
    required_scope: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of debug output too.
        f.debug_struct("AuthConfig")
            .field("algorithms", &self.validation.algorithms)
            .field("required_scope", &self.required_scope)
            .finish_non_exhaustive()
    }
}

/// Why an [`AuthConfig`] cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// The HS256 secret is too short to resist guessing.
    #[error("the HS256 secret must be at least 32 bytes (it has {0})")]
    WeakSecret(usize),
    /// The RS256 key is not a PEM public key.
    #[error("the RS256 public key is not a PEM RSA public key: {0}")]
    BadKey(String),
}

impl AuthConfig {
    /// Tokens signed with HS256 and `secret`.
    pub fn hs256(secret: &[u8]) -> Result<Self, AuthConfigError> {
        if secret.len() < 32 {
            return Err(AuthConfigError::WeakSecret(secret.len()));
        }
        Ok(Self::with(
            DecodingKey::from_secret(secret),
            Algorithm::HS256,
        ))
    }

    /// Tokens signed with RS256, checked with the PEM public key `pem`.
    pub fn rs256(pem: &[u8]) -> Result<Self, AuthConfigError> {
        let key = DecodingKey::from_rsa_pem(pem)
            .map_err(|error| AuthConfigError::BadKey(error.to_string()))?;
        Ok(Self::with(key, Algorithm::RS256))
    }

    fn with(key: DecodingKey, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.validate_aud = false;
        Self {
            key,
            validation,
            required_scope: None,
        }
    }

    /// Tokens must name this issuer (`iss`).
    #[must_use]
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.validation.set_issuer(&[issuer]);
        self
    }

    /// Tokens must name this audience (`aud`).
    #[must_use]
    pub fn audience(mut self, audience: &str) -> Self {
        self.validation.set_audience(&[audience]);
        self
    }

    /// Tokens must carry this scope (in `scope`, space-separated, or `scp`/`roles` arrays).
    #[must_use]
    pub fn required_scope(mut self, scope: &str) -> Self {
        self.required_scope = Some(scope.to_owned());
        self
    }
}

/// The claims we look at; `exp` is checked by the validation itself.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
}

impl Claims {
    fn has_scope(&self, wanted: &str) -> bool {
        self.scope
            .as_deref()
            .is_some_and(|scopes| scopes.split_whitespace().any(|scope| scope == wanted))
            || self
                .scp
                .iter()
                .chain(&self.roles)
                .any(|scope| scope == wanted)
    }
}

/// The authentication of a service: none, or JWT bearer tokens on writes.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    config: Option<Arc<AuthConfig>>,
}

impl Auth {
    /// Every request passes.
    pub fn none() -> Self {
        Self::default()
    }

    /// Write requests need a valid token.
    pub fn jwt(config: AuthConfig) -> Self {
        Self {
            config: Some(Arc::new(config)),
        }
    }

    /// Reads the JWT settings: `JWT_HS256_SECRET` (at least 32 bytes), or
    /// `JWT_RS256_PUBLIC_KEY` (PEM) or `JWT_RS256_PUBLIC_KEY_FILE`, with `JWT_ISSUER`,
    /// `JWT_AUDIENCE` and `JWT_REQUIRED_SCOPE`; none of the keys means no authentication.
    /// Problems are recorded in `settings`, and leave authentication off (the service will
    /// not start with them).
    pub fn read(settings: &mut Settings) -> Self {
        let secret = settings.get("JWT_HS256_SECRET").map(str::to_owned);
        let config = match (secret, read_pem(settings)) {
            (None, None) => return Self::none(),
            (Some(_), Some(_)) => {
                Err("JWT_HS256_SECRET and JWT_RS256_PUBLIC_KEY: set one, not both".to_owned())
            }
            (Some(secret), None) => AuthConfig::hs256(secret.as_bytes())
                .map_err(|error| format!("JWT_HS256_SECRET: {error}")),
            (None, Some(pem)) => {
                AuthConfig::rs256(&pem).map_err(|error| format!("JWT_RS256_PUBLIC_KEY: {error}"))
            }
        };
        let mut config = match config {
            Ok(config) => config,
            Err(problem) => {
                settings.problem(problem);
                return Self::none();
            }
        };
        if let Some(issuer) = settings.get("JWT_ISSUER") {
            config = config.issuer(issuer);
        }
        if let Some(audience) = settings.get("JWT_AUDIENCE") {
            config = config.audience(audience);
        }
        if let Some(scope) = settings.get("JWT_REQUIRED_SCOPE") {
            config = config.required_scope(scope);
        }
        Self::jwt(config)
    }

    /// Whether tokens are checked.
    pub fn is_enabled(&self) -> bool {
        self.config.is_some()
    }

    /// Checks one request's credentials: `Ok` to go on.
    pub fn check(
        &self,
        method: &Method,
        authorization: Option<&HeaderValue>,
    ) -> Result<(), Problem> {
        let Some(config) = &self.config else {
            return Ok(());
        };
        if !is_write(method) {
            return Ok(());
        }
        let token = authorization
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then_some(token.trim())
            })
            .ok_or_else(|| unauthorized("a bearer token is required to change anything"))?;
        let claims = jsonwebtoken::decode::<Claims>(token, &config.key, &config.validation)
            .map_err(|error| unauthorized(&format!("the token is not valid: {error}")))?
            .claims;
        if let Some(scope) = &config.required_scope
            && !claims.has_scope(scope)
        {
            return Err(Problem::of(
                http::FORBIDDEN,
                format!("the token lacks the `{scope}` scope"),
            ));
        }
        tracing::debug!(
            subject = claims.sub.as_deref().unwrap_or("-"),
            "authenticated"
        );
        Ok(())
    }
}

/// The RS256 public key, given inline or in a file.
fn read_pem(settings: &mut Settings) -> Option<Vec<u8>> {
    if let Some(pem) = settings.get("JWT_RS256_PUBLIC_KEY") {
        return Some(pem.as_bytes().to_vec());
    }
    let path = settings.get("JWT_RS256_PUBLIC_KEY_FILE")?.to_owned();
    match std::fs::read(&path) {
        Ok(pem) => Some(pem),
        Err(error) => {
            settings.problem(format!(
                "JWT_RS256_PUBLIC_KEY_FILE: cannot read {path}: {error}"
            ));
            None
        }
    }
}

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

fn unauthorized(detail: &str) -> Problem {
    Problem::of(http::UNAUTHORIZED, detail)
}

/// Middleware over [`Auth::check`].
pub async fn authenticate(State(auth): State<Auth>, request: Request, next: Next) -> Response {
    match auth.check(
        request.method(),
        request.headers().get(header::AUTHORIZATION),
    ) {
        Ok(()) => next.run(request).await,
        Err(problem) => {
            let challenge = problem.status().as_u16() == http::UNAUTHORIZED.status;
            let mut response = problem.into_response();
            if challenge {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            response
        }
    }
}
