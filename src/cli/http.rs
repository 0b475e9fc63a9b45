//! A small JSON client for tern's API: one HTTP/1.1 connection per request (the CLI makes
//! a handful), plain or over rustls, with basic auth or an API key.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// How requests authenticate.
#[derive(Clone, Debug)]
pub enum Credentials {
    None,
    Basic { user: String, password: String },
    Key(String),
}

/// A failed call: the server answered with an error status.
#[derive(Debug)]
pub struct ApiFailure {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiFailure {
    /// The server's own words: tern's `{"error", "message", "field"}`, PowerDNS's
    /// `{"error"}`, or Kea's `{"text"}`.
    fn message(&self) -> String {
        let b = &self.body;
        let text = ["message", "error", "text"]
            .iter()
            .find_map(|k| b.get(*k).and_then(Value::as_str))
            .map(str::to_string)
            .unwrap_or_else(|| match b {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        text
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = self.status.canonical_reason().unwrap_or("");
        write!(f, "{} {reason}: {}", self.status.as_u16(), self.message())?;
        if self.status == StatusCode::UNAUTHORIZED {
            write!(
                f,
                " (give --api-key or --user/--password, or set TERN_API_KEY)"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}

/// The API at one base address.
pub struct Client {
    scheme_https: bool,
    host: String,
    port: u16,
    authority: String,
    base: String,
    creds: Credentials,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Client {
    /// `base` is `http[s]://host[:port][/prefix]`; `cacert` is a PEM bundle for https
    /// (default: the system's bundle).
    pub fn new(
        base: &str,
        creds: Credentials,
        cacert: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        let uri: Uri = base
            .parse()
            .with_context(|| format!("--api {base:?} is not a URL"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => bail!("--api {base:?}: give http://HOST:PORT or https://HOST:PORT"),
        };
        let auth = uri
            .authority()
            .ok_or_else(|| anyhow!("--api {base:?} names no host"))?;
        let port = auth.port_u16().unwrap_or(if https { 443 } else { 80 });
        // IPv6 literals come bracketed in URLs but not in connect() or SNI.
        let host = auth.host().trim_start_matches('[').trim_end_matches(']');
        let tls = if https {
            Some(Arc::new(tls_config(cacert)?))
        } else {
            None
        };
        Ok(Self {
            scheme_https: https,
            host: host.to_string(),
            port,
            authority: auth.as_str().to_string(),
            base: uri.path().trim_end_matches('/').to_string(),
            creds,
            tls,
        })
    }

    /// The base URL, for messages.
    pub fn url(&self) -> String {
        let scheme = if self.scheme_https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.base)
    }

    /// GET, answering the JSON body.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, None).await
    }

    /// One request; a non-2xx answer becomes an [`ApiFailure`] error.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let (status, value) = self.exchange(method, path, body).await?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(ApiFailure {
                status,
                body: value,
            }
            .into())
        }
    }

    /// One request, any status.
    pub async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.base))
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::ACCEPT, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("tern/", env!("CARGO_PKG_VERSION")),
            );
        match &self.creds {
            Credentials::None => {}
            Credentials::Basic { user, password } => {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                req = req.header(hyper::header::AUTHORIZATION, format!("Basic {token}"));
            }
            Credentials::Key(k) => req = req.header("X-API-Key", k),
        }
        let bytes = match body {
            Some(v) => {
                req = req.header(hyper::header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(v)?)
            }
            None => Bytes::new(),
        };
        let req = req.body(Full::new(bytes)).context("building the request")?;
        let what = format!("{method} {}{path}", self.url());
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .with_context(|| {
                format!(
                    "cannot reach the API at {} (is `tern serve` running with an Api section? set --api or TERN_API)",
                    self.url()
                )
            })?;
        tcp.set_nodelay(true).ok();
        let resp = match &self.tls {
            None => send(TokioIo::new(tcp), req).await,
            Some(cfg) => {
                let name = rustls_pki_types::ServerName::try_from(self.host.clone())
                    .with_context(|| format!("{:?} is not a TLS server name", self.host))?;
                let stream = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, tcp)
                    .await
                    .with_context(|| format!("TLS with {} failed", self.url()))?;
                send(TokioIo::new(stream), req).await
            }
        }
        .with_context(|| what.clone())?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .with_context(|| format!("{what}: reading the answer"))?
            .to_bytes();
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
        };
        Ok((status, value))
    }
}

async fn send<S>(
    io: TokioIo<S>,
    req: Request<Full<Bytes>>,
) -> anyhow::Result<hyper::Response<hyper::body::Incoming>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    // The connection task drives the I/O; it ends when the response is read.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender.send_request(req).await?)
}

/// Roots for https: the given PEM bundle, else the system's.
fn tls_config(cacert: Option<&std::path::Path>) -> anyhow::Result<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    const SYSTEM: &str = "/etc/ssl/certs/ca-certificates.crt";
    let path = cacert.unwrap_or(std::path::Path::new(SYSTEM));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading CA certificates from {}", path.display()))?
    {
        let cert = cert.with_context(|| format!("{}: bad PEM", path.display()))?;
        roots
            .add(cert)
            .with_context(|| format!("{}: unusable CA certificate", path.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Percent-encodes a query or path component (everything but RFC 3986's unreserved set).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?k=v&…` from the pairs whose value is set.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}
