//! Who may call the API: HTTP basic authentication in the shape of Kea's `authentication`
//! map (`{"type": "basic", "realm", "clients": [{"user", "password"}]}`, with Kea's
//! `user-file`/`password-file` and `directory`) and API keys in an `X-API-Key` header
//! (PowerDNS style; `Authorization: Bearer KEY` works too). Either one admits a request.
//! With neither configured the API is open.

use std::path::{Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use subtle::ConstantTimeEq;
use tern_config::{ApiConfig, ApiKeySecret};

use crate::error::ApiError;
use crate::AppState;

/// Credentials accepted, with secrets read from their files at start.
#[derive(Default)]
pub struct Auth {
    realm: Option<String>,
    /// `user:password` pairs as they appear decoded in the Authorization header.
    basic: Vec<(String, String)>,
    keys: Vec<(Option<String>, String)>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("realm", &self.realm)
            .field(
                "basic_users",
                &self.basic.iter().map(|(u, _)| u).collect::<Vec<_>>(),
            )
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// Who a request was admitted as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No authentication configured.
    Anonymous,
    /// A basic-authentication user.
    User(String),
    /// An API key (its name, when it has one).
    Key(Option<String>),
}

fn read_secret(dir: Option<&Path>, file: &Path) -> anyhow::Result<String> {
    let path: PathBuf = match dir {
        Some(d) if file.is_relative() => d.join(file),
        _ => file.to_path_buf(),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

impl Auth {
    /// An open API (no authentication).
    pub fn open() -> Self {
        Self::default()
    }

    /// Basic authentication with these `(user, password)` pairs.
    pub fn basic(realm: &str, clients: &[(&str, &str)]) -> Self {
        Self {
            realm: Some(realm.to_string()),
            basic: clients
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
            keys: Vec::new(),
        }
    }

    /// Adds an API key.
    pub fn with_key(mut self, name: Option<&str>, key: &str) -> Self {
        self.keys.push((name.map(str::to_string), key.to_string()));
        self
    }

    /// From the `Api` section, reading `user-file`, `password-file` and `key-file`.
    pub fn from_config(config: &ApiConfig) -> anyhow::Result<Self> {
        let mut auth = Auth::default();
        if let Some(a) = &config.authentication {
            auth.realm = Some(a.realm.clone());
            let dir = a.directory.as_deref();
            for c in &a.clients {
                let user = match (&c.user, &c.user_file) {
                    (Some(u), _) => Some(u.clone()),
                    (None, Some(f)) => Some(read_secret(dir, f)?),
                    (None, None) => None,
                };
                let password = match (&c.password, &c.password_file) {
                    (Some(p), _) => Some(p.clone()),
                    (None, Some(f)) => Some(read_secret(dir, f)?),
                    (None, None) => None,
                };
                let (user, password) = match (user, password) {
                    (Some(u), p) => (u, p.unwrap_or_default()),
                    // Kea: a password-file alone holds "user:password".
                    (None, Some(both)) => match both.split_once(':') {
                        Some((u, p)) => (u.to_string(), p.to_string()),
                        None => anyhow::bail!(
                            "password file of a client without \"user\" must hold user:password"
                        ),
                    },
                    (None, None) => anyhow::bail!("a client has neither user nor password file"),
                };
                if user.is_empty() || user.contains(':') {
                    anyhow::bail!("user id must not be empty or contain ':'");
                }
                auth.basic.push((user, password));
            }
        }
        for k in &config.api_keys {
            let secret = match &k.secret {
                ApiKeySecret::Value(v) => v.clone(),
                ApiKeySecret::File(f) => read_secret(None, f)?,
            };
            if secret.is_empty() {
                anyhow::bail!(
                    "API key {} is empty",
                    k.name.as_deref().unwrap_or("(unnamed)")
                );
            }
            auth.keys.push((k.name.clone(), secret));
        }
        Ok(auth)
    }

    /// True when anyone may call.
    pub fn is_open(&self) -> bool {
        self.realm.is_none() && self.basic.is_empty() && self.keys.is_empty()
    }

    /// Checks a request's headers.
    pub fn check(&self, headers: &HeaderMap) -> Option<Caller> {
        if self.is_open() {
            return Some(Caller::Anonymous);
        }
        if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
            return self.check_key(key);
        }
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, rest) = value.split_once(' ')?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?;
            let (user, pass) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
            // Compare every entry, so timing does not tell which user exists.
            let mut found = None;
            for (u, p) in &self.basic {
                let ok = u.as_bytes().ct_eq(user.as_bytes()) & p.as_bytes().ct_eq(pass.as_bytes());
                if bool::from(ok) {
                    found = Some(Caller::User(u.clone()));
                }
            }
            found
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.check_key(rest)
        } else {
            None
        }
    }

    fn check_key(&self, key: &str) -> Option<Caller> {
        let mut found = None;
        for (name, secret) in &self.keys {
            if bool::from(secret.as_bytes().ct_eq(key.as_bytes())) {
                found = Some(Caller::Key(name.clone()));
            }
        }
        found
    }

    /// The `WWW-Authenticate` challenge, when basic authentication is configured.
    pub fn challenge(&self) -> Option<HeaderValue> {
        let realm = self.realm.as_ref()?;
        HeaderValue::from_str(&format!("Basic realm=\"{}\"", realm.replace('"', "'"))).ok()
    }
}

/// Middleware: admits authenticated requests and answers the others with 401 (Kea's body
/// `{ "result": 401, "text": "Unauthorized" }` on the command channel, tern's error JSON
/// elsewhere).
pub async fn require(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match state.auth.check(req.headers()) {
        Some(caller) => {
            req.extensions_mut().insert(caller.clone());
            let mut resp = next.run(req).await;
            // For the request log, which runs outside this layer.
            resp.extensions_mut().insert(caller);
            resp
        }
        None => {
            let mut resp = if req.uri().path() == "/" {
                (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(serde_json::json!({ "result": 401, "text": "Unauthorized" })),
                )
                    .into_response()
            } else {
                ApiError::Unauthorized.into_response()
            };
            if let Some(ch) = state.auth.challenge() {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, ch);
            }
            resp
        }
    }
}
