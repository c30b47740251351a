//! The HTTP side: the portal's `/auth` and `/api` with the configured misbehaviour, the
//! admin routes under `/sim/`, and the accept loop (TCP, TLS, HTTP/1.1).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::{Rng, RngCore};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use xaso_central::wire::{self, ApiReply, ApiRequest, AuthReply, AuthRequest};
use xaso_central::wire::{EarlierResult, OnlineDossier};

use crate::{Shared, SimConfig};

/// What chance decided for one request (drawn together, in a fixed order, from the seeded
/// generator).
struct Dice {
    latency: Duration,
    down: bool,
    fail: bool,
    stall: Option<Duration>,
    drop_ack: bool,
}

impl Shared {
    fn roll(&self) -> Dice {
        let mut inner = self.lock();
        let config = inner.config.clone();
        let rng = &mut inner.rng;
        let latency = if config.latency_max > config.latency_min {
            rng.random_range(config.latency_min..=config.latency_max)
        } else {
            config.latency_min
        };
        let mut chance = |rate: f64| rng.random::<f64>() < rate;
        let fail = chance(config.fail_rate);
        let stall = chance(config.stall_rate).then_some(config.stall);
        let drop_ack = chance(config.drop_ack_rate);
        Dice {
            latency,
            down: config.down,
            fail,
            stall,
            drop_ack,
        }
    }
}

fn unavailable(shared: &Shared) -> Response {
    shared.lock().portal.snap.injected_failures += 1;
    let body = json!({"error_code": "503", "message": "Hệ thống đang bận, vui lòng thử lại sau"});
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

fn session_expired() -> Response {
    let body = ApiReply::refused(wire::SESSION_EXPIRED, "Phiên làm việc đã hết hạn");
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

/// `POST /auth`: wrong credentials are answered HTTP 403 with `error_code` `"403"`.
async fn auth(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let dice = shared.roll();
    tokio::time::sleep(dice.latency).await;
    if dice.down {
        tracing::info!("auth: down, 503");
        return unavailable(&shared);
    }
    let Ok(request) = serde_json::from_slice::<AuthRequest>(&body) else {
        let reply = AuthReply {
            error_code: "01".into(),
            session: None,
            message: Some("Yêu cầu không hợp lệ".into()),
        };
        return (StatusCode::BAD_REQUEST, Json(reply)).into_response();
    };
    let mut inner = shared.lock();
    if request.username != inner.config.username || request.password != inner.config.password {
        tracing::info!("auth: wrong credentials");
        let reply = AuthReply {
            error_code: "403".into(),
            session: None,
            message: Some("Sai tên đăng nhập hoặc mật khẩu".into()),
        };
        return (StatusCode::FORBIDDEN, Json(reply)).into_response();
    }
    let mut token = [0u8; 24];
    rand::rng().fill_bytes(&mut token);
    let session = hex::encode(token);
    inner.sessions.insert(session.clone(), 0);
    inner.portal.snap.sessions_issued += 1;
    tracing::info!("auth: session issued");
    Json(AuthReply {
        error_code: wire::OK.into(),
        session: Some(session),
        message: None,
    })
    .into_response()
}

/// Counts one `/api` call against the session; `false` if it is unknown or used up.
fn use_session(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return false;
    };
    let mut inner = shared.lock();
    let ttl = inner.config.session_ttl;
    let Some(used) = inner.sessions.get_mut(token) else {
        return false;
    };
    if ttl.is_some_and(|ttl| *used >= ttl) {
        inner.sessions.remove(token);
        return false;
    }
    *used += 1;
    true
}

/// `POST /api`.
async fn api(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let dice = shared.roll();
    tokio::time::sleep(dice.latency).await;
    if dice.down || dice.fail {
        tracing::info!("api: injected failure, 503");
        return unavailable(&shared);
    }
    if !use_session(&shared, &headers) {
        tracing::info!("api: no valid session, 401");
        return session_expired();
    }
    let Ok(request) = serde_json::from_slice::<ApiRequest>(&body) else {
        shared.lock().portal.snap.refused += 1;
        return Json(ApiReply::refused("01", "Yêu cầu không hợp lệ")).into_response();
    };
    // The work runs in a task of its own: a client that gives up waiting (a stall, a
    // timeout) loses the answer, not the work, as with a real server.
    let worker = shared.clone();
    let stall = dice.stall;
    let work = tokio::spawn(async move {
        if let Some(stall) = stall {
            worker.lock().portal.snap.stalls += 1;
            tracing::info!(ms = stall.as_millis(), "api: stalled");
            tokio::time::sleep(stall).await;
        }
        worker.lock().portal.handle(&request)
    });
    let reply = match work.await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::warn!(error = %e, "api: the request's task failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    tracing::info!(code = %reply.error_code, "api: answered");
    if dice.drop_ack {
        shared.lock().portal.snap.dropped_acks += 1;
        tracing::info!("api: acknowledgement dropped, 502");
        return (StatusCode::BAD_GATEWAY, "Bad Gateway").into_response();
    }
    Json(reply).into_response()
}

async fn state(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.lock().portal.snap.clone()).into_response()
}

/// `POST /sim/config`: a whole or partial `SimConfig`; fields not given keep their value.
async fn set_config(State(shared): State<Arc<Shared>>, Json(patch): Json<Value>) -> Response {
    let current = shared.lock().config.clone();
    let Ok(mut merged) = serde_json::to_value(current) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let (Some(target), Value::Object(patch)) = (merged.as_object_mut(), patch) else {
        return (StatusCode::BAD_REQUEST, "a JSON object expected").into_response();
    };
    for (k, v) in patch {
        target.insert(k, v);
    }
    match serde_json::from_value::<SimConfig>(merged) {
        Ok(config) => {
            shared.set_config(config.clone());
            Json(config).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<OnlineDossier>),
    One(Box<OnlineDossier>),
}

async fn add_online(State(shared): State<Arc<Shared>>, Json(body): Json<OneOrMany>) -> Response {
    let dossiers = match body {
        OneOrMany::Many(many) => many,
        OneOrMany::One(one) => vec![*one],
    };
    shared.lock().portal.add_online(dossiers);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Results {
    #[serde(rename = "SoDinhDanh")]
    so_dinh_danh: String,
    results: Vec<EarlierResult>,
}

async fn add_results(State(shared): State<Arc<Shared>>, Json(body): Json<Results>) -> Response {
    shared
        .lock()
        .portal
        .add_results(&body.so_dinh_danh, body.results);
    StatusCode::NO_CONTENT.into_response()
}

async fn expire(State(shared): State<Arc<Shared>>) -> Response {
    shared.expire_sessions();
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/auth", post(auth))
        .route("/api", post(api))
        .route("/sim/state", get(state))
        .route("/sim/config", post(set_config))
        .route("/sim/online", post(add_online))
        .route("/sim/results", post(add_results))
        .route("/sim/expire", post(expire))
        .with_state(shared)
}

/// Accept connections until `stop` turns true; open connections end then too.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let serve = async {
                let tls = match acceptor.accept(tcp).await {
                    Ok(tls) => tls,
                    Err(e) => {
                        tracing::info!(%peer, error = %e, "TLS handshake refused");
                        return;
                    }
                };
                let svc = hyper_util::service::TowerToHyperService::new(app);
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .await
                {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            };
            tokio::select! {
                () = serve => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
    }
}
