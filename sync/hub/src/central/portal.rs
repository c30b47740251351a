//! The connector: what the hub asks of a platform ([`Platform`]), and the default adapter
//! for the national portal's integration style ([`NationalPortal`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use xaso_central::Outcome;
use xaso_central::wire::{
    self, ApiReply, ApiRequest, AuthReply, AuthRequest, EarlierResult, EarlierResultsQuery,
    ListOnline, OnlineDossier,
};

/// Why a question to the platform got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The platform could not be reached or did not answer in time.
    #[error("the platform did not answer: {0}")]
    Unreachable(String),
    /// It answered with an HTTP error.
    #[error("the platform answered HTTP {0}")]
    Http(u16),
    /// It refused with its own code.
    #[error("the platform refused ({code}): {message}")]
    Refused { code: String, message: String },
    /// It answered something that is not its JSON.
    #[error("the platform's answer is unreadable: {0}")]
    Unreadable(String),
}

/// What the hub asks of a platform. The outbox sends packets (already serialised, sent as
/// they are); the inbound side lists online dossiers and fetches earlier results.
pub trait Platform: Send + Sync + 'static {
    /// Send one packet (`DongBoHoSoMC` or `CapNhatTienDoHoSoMC` request body).
    fn send(&self, body: Vec<u8>) -> impl Future<Output = Outcome> + Send;
    /// Dossiers submitted online for `commune` since `since` (`yyyyMMddHHmmss`).
    fn online_since(
        &self,
        commune: &str,
        since: &str,
    ) -> impl Future<Output = Result<Vec<OnlineDossier>, PlatformError>> + Send;
    /// A citizen's earlier results for a procedure (national code). Called only with the
    /// person's consent recorded on the dossier.
    fn earlier_results(
        &self,
        id_number: &str,
        procedure: &str,
    ) -> impl Future<Output = Result<Vec<EarlierResult>, PlatformError>> + Send;
}

/// How to reach a platform.
#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// `https://…` without a trailing slash; `/auth` and `/api` are appended.
    pub base_url: String,
    pub username: String,
    pub password: String,
    /// CA certificates (PEM) the platform's certificate must chain to; `None`: the system's.
    pub ca_pem: Option<String>,
    /// Longest wait for one answer.
    pub timeout: Duration,
}

/// The national portal's integration style over HTTPS: a session from `/auth`, then
/// `/api` with `Authorization: Bearer`.
#[derive(Clone)]
pub struct NationalPortal {
    config: Arc<PortalConfig>,
    http: reqwest::Client,
    session: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for NationalPortal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NationalPortal")
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

/// The answer to one `/api` call.
enum Answer {
    Reply(ApiReply),
    Expired,
}

impl NationalPortal {
    pub fn new(config: PortalConfig) -> Result<NationalPortal, crate::HubError> {
        let provider = xaso_sync_tls::provider();
        let mut roots = rustls::RootCertStore::empty();
        match &config.ca_pem {
            Some(pem) => {
                use rustls::pki_types::{CertificateDer, pem::PemObject};
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    roots
                        .add(cert.map_err(xaso_sync_tls::TlsError::Pem)?)
                        .map_err(xaso_sync_tls::TlsError::Rustls)?;
                }
            }
            None => {
                // the system's trust store; certificates it cannot use are skipped
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(cert);
                }
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| crate::HubError::Tls(xaso_sync_tls::TlsError::Rustls(e)))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .pool_max_idle_per_host(8)
            .build()
            .map_err(|e| crate::HubError::Io {
                context: "build the platform client".into(),
                source: std::io::Error::other(e),
            })?;
        Ok(NationalPortal {
            config: Arc::new(config),
            http,
            session: Arc::new(Mutex::new(None)),
        })
    }

    async fn sign_in(&self) -> Result<String, PlatformError> {
        let response = self
            .http
            .post(format!("{}/auth", self.config.base_url))
            .json(&AuthRequest {
                username: self.config.username.clone(),
                password: self.config.password.clone(),
            })
            .send()
            .await
            .map_err(|e| PlatformError::Unreachable(without_url(&e)))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| PlatformError::Unreachable(without_url(&e)))?;
        let reply: AuthReply = match serde_json::from_slice(&bytes) {
            Ok(r) => r,
            Err(_) if status >= 400 => return Err(PlatformError::Http(status)),
            Err(e) => return Err(PlatformError::Unreadable(e.to_string())),
        };
        match (reply.error_code.as_str(), reply.session) {
            (wire::OK, Some(session)) => Ok(session),
            (code, _) => Err(PlatformError::Refused {
                code: code.into(),
                message: reply.message.unwrap_or_default(),
            }),
        }
    }

    /// The session, signing in when there is none.
    async fn session(&self) -> Result<String, PlatformError> {
        let mut held = self.session.lock().await;
        if let Some(s) = held.as_ref() {
            return Ok(s.clone());
        }
        let s = self.sign_in().await?;
        *held = Some(s.clone());
        Ok(s)
    }

    async fn forget_session(&self, session: &str) {
        let mut held = self.session.lock().await;
        if held.as_deref() == Some(session) {
            *held = None;
        }
    }

    async fn api(&self, body: Vec<u8>) -> Result<Answer, PlatformError> {
        let session = self.session().await?;
        let response = self
            .http
            .post(format!("{}/api", self.config.base_url))
            .bearer_auth(&session)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| PlatformError::Unreachable(without_url(&e)))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| PlatformError::Unreachable(without_url(&e)))?;
        let reply: Option<ApiReply> = serde_json::from_slice(&bytes).ok();
        if status == 401
            || reply
                .as_ref()
                .is_some_and(|r| r.error_code == wire::SESSION_EXPIRED)
        {
            self.forget_session(&session).await;
            return Ok(Answer::Expired);
        }
        // A server error, "too many requests" or "timeout" is the platform's trouble, not a
        // verdict on the packet, whatever its body says: try again later.
        if status >= 500 || status == 429 || status == 408 {
            return Err(PlatformError::Http(status));
        }
        match reply {
            Some(reply) if status < 400 || reply.error_code != wire::OK => Ok(Answer::Reply(reply)),
            _ if status >= 400 => Err(PlatformError::Http(status)),
            _ => Err(PlatformError::Unreadable(format!("{} bytes", bytes.len()))),
        }
    }

    /// A question (not a packet) with one `data` item: one more try after signing in again.
    async fn ask<T: serde::de::DeserializeOwned>(
        &self,
        service: &str,
        item: &impl serde::Serialize,
    ) -> Result<T, PlatformError> {
        let unreadable = |e: serde_json::Error| PlatformError::Unreadable(e.to_string());
        let request = ApiRequest {
            service: service.into(),
            is_updating: false,
            data: vec![serde_json::to_value(item).map_err(unreadable)?],
        };
        let body = serde_json::to_vec(&request).map_err(unreadable)?;
        for _ in 0..2 {
            match self.api(body.clone()).await? {
                Answer::Expired => continue,
                Answer::Reply(reply) if reply.error_code == wire::OK => {
                    let data = reply.data.unwrap_or(serde_json::Value::Array(Vec::new()));
                    return serde_json::from_value(data)
                        .map_err(|e| PlatformError::Unreadable(e.to_string()));
                }
                Answer::Reply(reply) => {
                    return Err(PlatformError::Refused {
                        code: reply.error_code,
                        message: reply.message.unwrap_or_default(),
                    });
                }
            }
        }
        Err(PlatformError::Refused {
            code: wire::SESSION_EXPIRED.into(),
            message: "the session expired twice".into(),
        })
    }
}

/// A transport error's text without the URL (it holds nothing personal, but is long).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "answer cut off"
    } else {
        "request failed"
    };
    kind.to_owned()
}

impl Platform for NationalPortal {
    async fn send(&self, body: Vec<u8>) -> Outcome {
        match self.api(body).await {
            Ok(Answer::Expired) => Outcome::SessionExpired,
            Ok(Answer::Reply(reply)) if reply.error_code == wire::OK => Outcome::Acknowledged,
            Ok(Answer::Reply(reply)) => Outcome::Refused {
                code: reply.error_code,
                message: reply.message.unwrap_or_default(),
            },
            Err(PlatformError::Refused { code, message }) if code == wire::SESSION_EXPIRED => {
                Outcome::Failed { reason: message }
            }
            Err(e) => Outcome::Failed {
                reason: e.to_string(),
            },
        }
    }

    async fn online_since(
        &self,
        commune: &str,
        since: &str,
    ) -> Result<Vec<OnlineDossier>, PlatformError> {
        let query = ListOnline {
            ma_don_vi: commune.into(),
            tu_thoi_diem: since.into(),
        };
        self.ask(wire::LIST_ONLINE, &query).await
    }

    async fn earlier_results(
        &self,
        id_number: &str,
        procedure: &str,
    ) -> Result<Vec<EarlierResult>, PlatformError> {
        let query = EarlierResultsQuery {
            so_dinh_danh: id_number.into(),
            ma_tthc: procedure.into(),
        };
        self.ask(wire::EARLIER_RESULTS, &query).await
    }
}
