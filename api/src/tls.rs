//! rustls server configuration from the `Api` section (ring provider: no cmake or clang
//! needed to build). With `cert-required`, clients must present a certificate that chains
//! to `trust-anchor`; with a trust anchor but `cert-required: false`, a certificate is
//! checked when offered.

use std::sync::Arc;

use anyhow::Context;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tern_config::ApiTls;

pub(crate) fn server_config(t: &ApiTls) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&t.cert_file)
        .with_context(|| format!("cannot read cert-file {}", t.cert_file.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("cert-file {}", t.cert_file.display()))?;
    if certs.is_empty() {
        anyhow::bail!("cert-file {} holds no certificate", t.cert_file.display());
    }
    let key = PrivateKeyDer::from_pem_file(&t.key_file).with_context(|| {
        format!(
            "cannot read a private key from key-file {}",
            t.key_file.display()
        )
    })?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let builder = match &t.trust_anchor {
        Some(anchor) => {
            let mut roots = RootCertStore::empty();
            let anchors: Vec<CertificateDer<'static>> = if anchor.is_dir() {
                let mut v = Vec::new();
                for entry in std::fs::read_dir(anchor)? {
                    let p = entry?.path();
                    if p.is_file() {
                        if let Ok(it) = CertificateDer::pem_file_iter(&p) {
                            v.extend(it.flatten());
                        }
                    }
                }
                v
            } else {
                CertificateDer::pem_file_iter(anchor)
                    .with_context(|| format!("cannot read trust-anchor {}", anchor.display()))?
                    .collect::<Result<_, _>>()
                    .with_context(|| format!("trust-anchor {}", anchor.display()))?
            };
            let (added, _) = roots.add_parsable_certificates(anchors);
            if added == 0 {
                anyhow::bail!(
                    "trust-anchor {} holds no usable CA certificate",
                    anchor.display()
                );
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if t.cert_required {
                verifier.build()
            } else {
                verifier.allow_unauthenticated().build()
            }
            .context("client certificate verifier")?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .context("cert-file and key-file do not make a usable pair")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
